package commitlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// Log is the commit log as its users (receivers, indexer, pull API) see it.
// The embedded segment-file backend implements it; a Kafka backend can
// implement it without changes to callers.
type Log interface {
	// Append stores records durably and returns their offsets per
	// partition. It returns only after the records are fsync'd.
	Append(ctx context.Context, req AppendRequest) (AppendResult, error)
	// Read returns up to max records of a partition from offset on, waiting
	// up to wait for the first record when offset is at the end of the log.
	Read(ctx context.Context, bucket string, partition int, offset int64, max int, wait time.Duration) (ReadResult, error)
	// CreateBucket creates a bucket if it does not exist.
	CreateBucket(ctx context.Context, name string) error
	// Buckets lists the bucket names, sorted.
	Buckets() []string
	// Bucket describes one bucket.
	Bucket(ctx context.Context, name string) (BucketInfo, error)
	// Commit stores a consumer group's offset for a partition durably.
	Commit(ctx context.Context, bucket, group string, partition int, offset int64) error
	// Committed returns a consumer group's committed offsets by partition.
	Committed(ctx context.Context, bucket, group string) (map[int]int64, error)
	// Close stops the log after in-flight appends finished.
	Close() error
}

// AppendRequest is one append: records for one bucket.
type AppendRequest struct {
	Bucket  string
	Records []model.Record
	// BatchID, when set, makes the append idempotent: a repeat within the
	// dedup window returns the first append's offsets and stores nothing.
	BatchID string
}

// OffsetRange is the offsets an append got in one partition.
type OffsetRange struct {
	First int64 `json:"first_offset"`
	Last  int64 `json:"last_offset"`
}

// AppendResult says where an append's records went.
type AppendResult struct {
	Partitions map[int]OffsetRange
	// Duplicate is true when every partition's records had already been
	// stored under the same BatchID.
	Duplicate bool
}

// Stored is a record with its position in the log.
type Stored struct {
	Offset    int64
	Partition int
	Record    model.Record
}

// ReadResult is the answer to a Read.
type ReadResult struct {
	Records []Stored
	// Next is the offset to read next.
	Next int64
	// Start and End are the partition's first offset and high watermark.
	Start, End int64
}

// PartitionInfo describes a partition.
type PartitionInfo struct {
	Partition int   `json:"partition"`
	Start     int64 `json:"start_offset"`
	End       int64 `json:"end_offset"`
	Bytes     int64 `json:"bytes"`
}

// GroupInfo describes a consumer group of a bucket.
type GroupInfo struct {
	Group   string        `json:"group"`
	Lag     int64         `json:"lag"`
	Offsets map[int]int64 `json:"-"`
}

// BucketInfo describes a bucket.
type BucketInfo struct {
	Name       string
	Partitions []PartitionInfo
	Records    int64
	Bytes      int64
	LastWrite  time.Time
	LastRead   time.Time
	Groups     []GroupInfo
}

// Errors callers act on.
var (
	ErrBucketNotFound = errors.New("bucket not found")
	ErrNoPartition    = errors.New("no such partition")
	// ErrReadOnly means an earlier write or fsync failed: the log stopped
	// taking appends (fail-stop) until it is restarted.
	ErrReadOnly = errors.New("commit log is read-only after an I/O error")
	// ErrOverloaded means a partition's write queue is full.
	ErrOverloaded = errors.New("commit log is saturated")
	ErrClosed     = errors.New("commit log is closed")
	ErrBadGroup   = errors.New("invalid consumer group")
	ErrBadOffset  = errors.New("invalid offset")
)

// OffsetOutOfRangeError is returned when a read starts below the first
// offset retention kept.
type OffsetOutOfRangeError struct {
	Offset, Earliest, Latest int64
}

func (e *OffsetOutOfRangeError) Error() string {
	return fmt.Sprintf("offset %d is out of range: the earliest available offset is %d", e.Offset, e.Earliest)
}
