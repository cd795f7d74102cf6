package commitlog

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logbucket/logbucket/internal/vfs"
)

// bucketMeta is the bucket.json file: the settings fixed at creation.
type bucketMeta struct {
	Version    int       `json:"version"`
	Partitions int       `json:"partitions"`
	Created    time.Time `json:"created"`
}

const bucketMetaFile = "bucket.json"

// bucket is a named set of partitions with its consumer groups.
type bucket struct {
	name       string
	dir        string
	meta       bucketMeta
	partitions []*partition
	lastWrite  atomic.Int64 // unix ns
	lastRead   atomic.Int64 // unix ns
	savedRead  int64        // lastRead as last persisted; background goroutine only

	groupsMu sync.Mutex // protects groups and serialises their files
	groups   map[string]map[int]groupOffset
}

func bucketDir(root, name string) string { return filepath.Join(root, "buckets", name) }

// createBucketFiles makes a new bucket's directory and bucket.json durably.
func createBucketFiles(fsys vfs.FS, root, name string, partitions int, now time.Time) error {
	dir := bucketDir(root, name)
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create bucket directory %s: %w", dir, err)
	}
	b, err := json.Marshal(bucketMeta{Version: 1, Partitions: partitions, Created: now.UTC()})
	if err != nil {
		return fmt.Errorf("encode bucket metadata: %w", err)
	}
	if err := vfs.WriteFileAtomic(fsys, dir, bucketMetaFile, b); err != nil {
		return fmt.Errorf("write bucket metadata: %w", err)
	}
	return fsys.SyncDir(filepath.Join(root, "buckets"))
}

// readBucketMeta reads bucket.json.
func readBucketMeta(fsys vfs.FS, dir string) (bucketMeta, error) {
	var m bucketMeta
	path := filepath.Join(dir, bucketMetaFile)
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return m, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return m, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode %s: %w", path, err)
	}
	if m.Version != 1 || m.Partitions < 1 || m.Partitions > 1024 {
		return m, fmt.Errorf("%s: unsupported version %d or partition count %d", path, m.Version, m.Partitions)
	}
	return m, nil
}

// commitGroup stores a group's offset for one partition durably.
func (b *bucket) commitGroup(fsys vfs.FS, group string, partition int, offset, now int64) error {
	b.groupsMu.Lock()
	defer b.groupsMu.Unlock()
	cur := b.groups[group]
	next := make(map[int]groupOffset, len(cur)+1)
	for p, o := range cur {
		next[p] = o
	}
	next[partition] = groupOffset{offset: offset, at: now}
	dir := filepath.Join(b.dir, "groups")
	if err := mkdirDurable(fsys, dir); err != nil {
		return fmt.Errorf("create consumer group directory: %w", err)
	}
	if err := vfs.WriteFileAtomic(fsys, dir, group+groupSuffix, encodeGroup(next)); err != nil {
		return fmt.Errorf("commit consumer group %s: %w", group, err)
	}
	b.groups[group] = next
	return nil
}

// committed returns a copy of a group's offsets.
func (b *bucket) committed(group string) (map[int]int64, bool) {
	b.groupsMu.Lock()
	defer b.groupsMu.Unlock()
	offs, ok := b.groups[group]
	out := make(map[int]int64, len(offs))
	for p, o := range offs {
		out[p] = o.offset
	}
	return out, ok
}

// groupNames lists the groups.
func (b *bucket) groupNames() []string {
	b.groupsMu.Lock()
	defer b.groupsMu.Unlock()
	names := make([]string, 0, len(b.groups))
	for g := range b.groups {
		names = append(names, g)
	}
	return names
}

// mkdirDurable creates dir if missing and, when it did, fsyncs its parent
// so the new directory entry survives a power loss.
func mkdirDurable(fsys vfs.FS, dir string) error {
	if _, err := fsys.Stat(dir); err == nil {
		return nil
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return fsys.SyncDir(filepath.Dir(dir))
}
