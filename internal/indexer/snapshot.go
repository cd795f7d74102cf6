package indexer

import (
	"context"
	"fmt"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
)

// SnapshotPart is a part in a snapshot with what the manifest knows of it.
type SnapshotPart struct {
	Part             Part
	Day              int64
	Rows             int64
	MinTime, MaxTime int64
}

// Snapshot is a consistent view of a bucket: every record indexed so far
// is in exactly one of Parts or Tail. Release it when done.
type Snapshot struct {
	Bucket string
	Parts  []SnapshotPart
	Tail   []Row
	refs   []*partRef
}

// Release lets merges delete the parts this snapshot holds.
func (s *Snapshot) Release() {
	for _, r := range s.refs {
		r.release()
	}
	s.refs = nil
}

// Snapshot returns a view of a bucket for a query.
func (ix *Indexer) Snapshot(bucket string) (*Snapshot, error) {
	b := ix.bucket(bucket)
	if b == nil {
		return nil, fmt.Errorf("bucket %q: %w", bucket, commitlog.ErrBucketNotFound)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	s := &Snapshot{Bucket: bucket, Tail: b.tail[:len(b.tail):len(b.tail)]}
	for _, r := range b.parts {
		r.acquire()
		s.refs = append(s.refs, r)
		s.Parts = append(s.Parts, SnapshotPart{Part: r.part, Day: r.entry.Day, Rows: r.entry.Rows,
			MinTime: r.entry.MinTime, MaxTime: r.entry.MaxTime})
	}
	return s, nil
}

// WaitIndexed blocks until the bucket's index has read every record below
// ends (partition → end offset), so a query sees them; for tests and
// read-your-writes.
func (ix *Indexer) WaitIndexed(ctx context.Context, bucket string, ends map[int]int64) error {
	for {
		if b := ix.bucket(bucket); b != nil {
			b.mu.Lock()
			done := true
			for p, e := range ends {
				done = done && b.consumed[p] >= e
			}
			b.mu.Unlock()
			if done {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
