package commitlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/logbucket/logbucket/internal/vfs"
)

// Consumer-offset file layout (format version 1, little endian), one file
// per group, replaced atomically (write temp, fsync, rename, fsync dir):
//
//	0   4   magic "LBGO"
//	4   2   format version (1)
//	6   2   reserved (0)
//	8   4   entry count n
//	12  20n entries: partition (4), committed offset (8), commit time unix ns (8)
//	..  4   CRC-32C of every byte before it
const (
	groupMagic   = "LBGO"
	groupVersion = 1
	groupSuffix  = ".offsets"
)

var groupNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidGroupName reports whether name can be a consumer group.
func ValidGroupName(name string) bool { return groupNameRE.MatchString(name) }

type groupOffset struct {
	offset int64
	at     int64
}

// encodeGroup serialises a group's offsets.
func encodeGroup(offs map[int]groupOffset) []byte {
	parts := make([]int, 0, len(offs))
	for p := range offs {
		parts = append(parts, p)
	}
	sort.Ints(parts)
	le := binary.LittleEndian
	b := make([]byte, 12, 12+20*len(parts)+4)
	copy(b, groupMagic)
	le.PutUint16(b[4:], groupVersion)
	le.PutUint32(b[8:], uint32(len(parts)))
	for _, p := range parts {
		b = le.AppendUint32(b, uint32(p))
		b = le.AppendUint64(b, uint64(offs[p].offset))
		b = le.AppendUint64(b, uint64(offs[p].at))
	}
	return le.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeGroup parses a consumer-offset file.
func decodeGroup(b []byte) (map[int]groupOffset, error) {
	le := binary.LittleEndian
	if len(b) < 16 || string(b[:4]) != groupMagic || le.Uint16(b[4:]) != groupVersion {
		return nil, fmt.Errorf("%w: bad consumer-offset header", ErrCorrupt)
	}
	n := int(le.Uint32(b[8:]))
	if n > 1<<20 || len(b) != 12+20*n+4 {
		return nil, fmt.Errorf("%w: consumer-offset file is %d bytes for %d entries", ErrCorrupt, len(b), n)
	}
	if crc32.Checksum(b[:len(b)-4], castagnoli) != le.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: consumer-offset file fails its checksum", ErrCorrupt)
	}
	offs := make(map[int]groupOffset, n)
	for i := 0; i < n; i++ {
		p := b[12+20*i:]
		offs[int(le.Uint32(p))] = groupOffset{offset: int64(le.Uint64(p[4:])), at: int64(le.Uint64(p[12:]))}
	}
	return offs, nil
}

// loadGroups reads every consumer-offset file of a bucket.
func loadGroups(fsys vfs.FS, dir string) (map[string]map[int]groupOffset, error) {
	groups := map[string]map[int]groupOffset{}
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return groups, nil
		}
		return nil, fmt.Errorf("list consumer groups in %s: %w", dir, err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), groupSuffix)
		if !ok || !ValidGroupName(name) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open consumer group %s: %w", path, err)
		}
		b, err := io.ReadAll(io.LimitReader(f, 32<<20))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read consumer group %s: %w", path, err)
		}
		offs, err := decodeGroup(b)
		if err != nil {
			return nil, fmt.Errorf("consumer group %s: %w", path, err)
		}
		groups[name] = offs
	}
	return groups, nil
}
