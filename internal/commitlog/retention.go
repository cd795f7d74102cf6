package commitlog

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"time"

	"github.com/logbucket/logbucket/internal/vfs"
)

// background runs retention, rolls aged idle segments, prunes the dedup
// table and saves bucket activity, every RetentionCheckInterval.
func (l *Embedded) background() {
	defer close(l.bgDone)
	t := time.NewTicker(l.opts.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.RunRetention()
			l.dedup.prune(l.now().UnixNano())
			l.saveActivity()
		}
	}
}

// RunRetention applies every bucket's retention now. It is safe to call
// concurrently with appends and reads.
func (l *Embedded) RunRetention() {
	if l.failed() != nil {
		return
	}
	l.mu.RLock()
	buckets := make([]*bucket, 0, len(l.buckets))
	for _, b := range l.buckets {
		buckets = append(buckets, b)
	}
	l.mu.RUnlock()
	for _, b := range buckets {
		set := l.opts.Bucket(b.name)
		for _, p := range b.partitions {
			p.requestRoll()
			if err := l.retainPartition(b, p, set); err != nil {
				l.logger.Warn("retention", "bucket", b.name, "partition", p.id, "err", err)
			}
		}
	}
}

// requestRoll asks the writer to seal the active segment if it is older
// than SegmentAge, so an idle partition's data can age out too.
func (p *partition) requestRoll() {
	op := &appendOp{roll: true, done: make(chan opResult, 1)}
	select {
	case p.queue <- op:
		select {
		case <-op.done:
		case <-p.stop:
		}
	default: // busy writer: it rolls on its own when it appends
	}
}

// retainPartition deletes the oldest sealed segments while the bucket's
// retention asks for it and every required group has committed past them.
func (l *Embedded) retainPartition(b *bucket, p *partition, set BucketSettings) error {
	if set.RetentionAge <= 0 && set.RetentionBytes <= 0 {
		return nil
	}
	limit := int64(0)
	if set.RetentionBytes > 0 {
		limit = max(1, set.RetentionBytes/int64(len(b.partitions)))
	}
	now := l.now().UnixNano()
	for {
		p.mu.Lock()
		if len(p.segments) < 2 {
			p.mu.Unlock()
			return nil
		}
		oldest := p.segments[0]
		oldestEnd := oldest.end // under p.mu: a reader may lower it (quarantine)
		var total int64
		for _, s := range p.segments {
			total += s.durableSize
		}
		expired := set.RetentionAge > 0 && oldest.lastAppend > 0 && now-oldest.lastAppend > int64(set.RetentionAge)
		tooBig := limit > 0 && total > limit
		p.mu.Unlock()
		if !expired && !tooBig {
			return nil
		}
		for _, g := range set.RequiredGroups {
			offs, _ := b.committed(g)
			if offs[p.id] < oldestEnd {
				return nil // the required group still needs this segment
			}
		}
		if err := p.deleteOldest(oldest); err != nil {
			return err
		}
		l.logger.Info("retention deleted a segment", "bucket", b.name, "partition", p.id,
			"first_offset", oldest.base, "end_offset", oldestEnd, "bytes", oldest.durableSize,
			"reason", map[bool]string{true: "age", false: "size"}[expired])
		l.metrics.retentionDeleted.Inc()
	}
}

// deleteOldest removes the partition's first segment from disk.
func (p *partition) deleteOldest(s *segment) error {
	p.mu.Lock()
	if len(p.segments) < 2 || p.segments[0] != s {
		p.mu.Unlock()
		return nil
	}
	p.segments = p.segments[1:]
	p.mu.Unlock()
	s.deleted.Store(true)
	if s.refs.Load() == 0 {
		s.closeFile()
	}
	fsys := p.log.fs
	if err := fsys.Remove(s.path); err != nil {
		return fmt.Errorf("delete segment %s: %w", s.path, err)
	}
	if err := fsys.Remove(indexPath(s.path)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("delete index of %s: %w", s.path, err)
	}
	return fsys.SyncDir(p.dir)
}

const activityFile = "activity.json"

type activity struct {
	LastRead int64 `json:"last_read_unix_ns"`
}

// saveActivity persists each bucket's last read time (last write is
// recovered from the segments).
func (l *Embedded) saveActivity() {
	if l.failed() != nil {
		return
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, b := range l.buckets {
		t := b.lastRead.Load()
		if t == 0 || t == b.savedRead {
			continue
		}
		data, _ := json.Marshal(activity{LastRead: t})
		if err := vfs.WriteFileAtomic(l.fs, b.dir, activityFile, data); err != nil {
			l.logger.Warn("save bucket activity", "bucket", b.name, "err", err)
			continue
		}
		b.savedRead = t
	}
}

// readActivity loads the last read time of a bucket (0 when unknown).
func readActivity(fsys vfs.FS, dir string) int64 {
	f, err := fsys.OpenFile(filepath.Join(dir, activityFile), os.O_RDONLY, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return 0
	}
	var a activity
	if json.Unmarshal(b, &a) != nil {
		return 0
	}
	return a.LastRead
}
