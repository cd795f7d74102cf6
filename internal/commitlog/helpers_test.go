package commitlog

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

// testOptions returns small-segment options over fsys in dir.
func testOptions(dir string, fsys vfs.FS) Options {
	return Options{Dir: dir, FS: fsys, SegmentBytes: 8 << 10, IndexIntervalBytes: 512,
		Codec: CodecZstd, RetentionCheckInterval: time.Hour,
		Bucket: func(string) BucketSettings { return BucketSettings{Partitions: 2} }}
}

func openT(t *testing.T, opts Options) *Embedded {
	t.Helper()
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	return l
}

// recs makes n records of stream s tagged with ids from first on.
func recs(s string, first, n int) []model.Record {
	out := make([]model.Record, n)
	for i := range out {
		id := first + i
		out[i] = model.Record{Time: int64(1_700_000_000_000_000_000 + id), Msg: "message " + strconv.Itoa(id) + " 결제 완료",
			Stream: []model.Field{{Name: "service", Value: s}},
			Fields: []model.Field{{Name: "id", Value: strconv.Itoa(id)}, {Name: "level", Value: "info"}}}
	}
	return out
}

// readAll returns every record of every partition of bucket, by partition.
func readAll(t *testing.T, l *Embedded, bucket string) map[int][]Stored {
	t.Helper()
	n, err := l.Partitions(bucket)
	if err != nil {
		t.Fatalf("partitions: %v", err)
	}
	out := map[int][]Stored{}
	for p := 0; p < n; p++ {
		off := OffsetEarliest
		for {
			res, err := l.Read(context.Background(), bucket, p, off, 333, 0)
			if err != nil {
				t.Fatalf("read %s/%d at %d: %v", bucket, p, off, err)
			}
			out[p] = append(out[p], res.Records...)
			if res.Next >= res.End {
				break
			}
			off = res.Next
		}
	}
	return out
}

// ids returns the "id" fields of stored records in order.
func ids(st []Stored) []string {
	var out []string
	for _, s := range st {
		for _, f := range s.Record.Fields {
			if f.Name == "id" {
				out = append(out, f.Value)
			}
		}
	}
	return out
}

func mustAppend(t *testing.T, l *Embedded, bucket, batchID string, rs []model.Record) AppendResult {
	t.Helper()
	res, err := l.Append(context.Background(), AppendRequest{Bucket: bucket, Records: rs, BatchID: batchID})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return res
}

func checkOffsets(t *testing.T, all map[int][]Stored) {
	t.Helper()
	for p, st := range all {
		for i, s := range st {
			if s.Offset != int64(i) {
				t.Fatalf("partition %d: record %d has offset %d", p, i, s.Offset)
			}
		}
	}
}

func total(all map[int][]Stored) int {
	n := 0
	for _, st := range all {
		n += len(st)
	}
	return n
}

var _ = fmt.Sprint
