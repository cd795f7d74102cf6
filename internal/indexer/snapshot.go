package indexer

import (
	"context"
	"fmt"
	"time"
)

// SnapshotPart is a part in a snapshot with what the manifest knows of it.
type SnapshotPart struct {
	Part             Part
	Day              int64
	Rows             int64
	MinTime, MaxTime int64
}

// Snapshot is a consistent view of a bucket: every record acknowledged
// when it was taken is in exactly one of Parts, Tail or Pending. Release
// it when done.
type Snapshot struct {
	Bucket string
	Parts  []SnapshotPart
	Tail   []Row
	// Pending lists, per partition, the offsets the indexer had not read
	// yet: [From, To) of the commit log, To being its high watermark. A
	// query reads them from the commit log, so a record is searchable as
	// soon as it is acknowledged even when indexing lags behind.
	Pending []PendingRange
	refs    []*partRef
}

// PendingRange is a range of a partition's offsets not indexed yet.
type PendingRange struct {
	Partition int
	From, To  int64
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
		return ix.unopenedSnapshot(bucket)
	}
	b.mu.Lock()
	s := &Snapshot{Bucket: bucket, Tail: b.tail[:len(b.tail):len(b.tail)]}
	for _, r := range b.parts {
		r.acquire()
		s.refs = append(s.refs, r)
		s.Parts = append(s.Parts, SnapshotPart{Part: r.part, Day: r.entry.Day, Rows: r.entry.Rows,
			MinTime: r.entry.MinTime, MaxTime: r.entry.MaxTime})
	}
	consumed := make(map[int]int64, len(b.consumed))
	for p, o := range b.consumed {
		consumed[p] = o
	}
	b.mu.Unlock()
	// The high watermarks are read after the consumed offsets: records
	// the indexer reads meanwhile are in the commit log still, and later
	// appends are simply not part of the snapshot.
	info, err := ix.opts.Log.Bucket(context.Background(), bucket)
	if err != nil {
		s.Release()
		return nil, fmt.Errorf("snapshot of bucket %q: %w", bucket, err)
	}
	for _, pi := range info.Partitions {
		// Records below Start are gone (retention): not pending.
		if from, ok := consumed[pi.Partition]; ok && max(from, pi.Start) < pi.End {
			s.Pending = append(s.Pending, PendingRange{Partition: pi.Partition, From: max(from, pi.Start), To: pi.End})
		}
	}
	return s, nil
}

// unopenedSnapshot is the snapshot of a bucket the indexer has not
// opened yet (created since it looked): everything is pending.
func (ix *Indexer) unopenedSnapshot(bucket string) (*Snapshot, error) {
	info, err := ix.opts.Log.Bucket(context.Background(), bucket)
	if err != nil {
		return nil, fmt.Errorf("snapshot of bucket %q: %w", bucket, err)
	}
	s := &Snapshot{Bucket: bucket}
	for _, pi := range info.Partitions {
		if pi.Start < pi.End {
			s.Pending = append(s.Pending, PendingRange{Partition: pi.Partition, From: pi.Start, To: pi.End})
		}
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
