package indexer

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

func TestConsumerTurnsLetTheFurthestBehindGo(t *testing.T) {
	c := newConsumerTurns(3)
	c.read(0, 100, false)
	c.read(1, 50, false)
	if !c.ahead(1) {
		t.Fatal("partition 1 goes on before partition 2 has said where it is")
	}
	c.idle(2)
	if !c.ahead(0) || c.ahead(1) {
		t.Fatalf("ahead(0)=%v ahead(1)=%v, want partition 0 to wait for 1", c.ahead(0), c.ahead(1))
	}
	c.idle(1) // partition 1 has nothing left: it holds nobody back
	if c.ahead(0) {
		t.Fatal("partition 0 waits for an idle partition")
	}
	c.read(1, 100-turnWindow-1, false) // a backfill far behind holds nobody back
	if c.ahead(0) {
		t.Fatal("partition 0 waits for a partition more than turnWindow behind")
	}
	c.read(1, 100-turnWindow-1, true) // unless it is still reading a backlog
	if !c.ahead(0) {
		t.Fatal("partition 0 does not wait for a partition with a backlog")
	}
	c.read(1, 100-turnWindow, false)
	if !c.ahead(0) {
		t.Fatal("partition 0 does not wait for a partition within turnWindow")
	}
}

// A backlog in which one partition holds most records: without turns the
// consumers of the small partitions read through their whole backlog in
// the first flushes, and every part spans the whole time range. With the
// records a second apart the busy partition falls hours behind the others
// in record time: it must still hold them back (it has a backlog, it is
// not a backfill), or the parts of a bulk load span most of the day.
func TestBacklogFlushesStayNarrowInTime(t *testing.T) {
	for _, step := range []int64{1e6, 1e9} {
		t.Run(time.Duration(step).String()+" apart", func(t *testing.T) { backlogStaysNarrow(t, step) })
	}
}

func backlogStaysNarrow(t *testing.T, step int64) {
	e := newEnv(t, vfs.OS{})
	const n = 40_000
	recs := make([]model.Record, n)
	for i := range recs {
		s := "busy"
		if i%10 == 0 {
			s = "quiet-" + strconv.Itoa(i%7) // the other partitions' streams
		}
		recs[i] = model.Record{Time: int64(i) * step, Msg: "m" + strconv.Itoa(i),
			Stream: []model.Field{{Name: "s", Value: s}}}
	}
	if err := e.log.CreateBucket(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 1000 {
		if _, err := e.log.Append(context.Background(), commitlog.AppendRequest{Bucket: "b", Records: recs[i : i+1000]}); err != nil {
			t.Fatal(err)
		}
	}
	info, err := e.log.Bucket(context.Background(), "b")
	if err != nil {
		t.Fatal(err)
	}
	ends, busy, sparse := map[int]int64{}, 0, n
	for _, p := range info.Partitions {
		ends[p.Partition] = p.End
		busy = max(busy, int(p.End))
		if p.End > 0 {
			sparse = min(sparse, int(p.End))
		}
	}
	if busy < n/2 || len(ends) < 2 {
		t.Fatalf("partition ends %v: the test needs one busy partition among several", ends)
	}
	ix := e.open(t, func(o *Options) {
		o.FlushRows, o.ReadBatch, o.MergeInterval = 2000, 100, time.Hour
	})
	defer ix.Close()
	waitFor(t, ix, "b", ends)
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Logf("partition ends %v", ends)
	b := ix.bucket("b")
	b.mu.Lock()
	defer b.mu.Unlock()
	// A flush of k rows covers about k records' time (flushes grow past
	// FlushRows while the consumers read on), stretched at each end by
	// up to a batch of the sparsest partition: 100 of its records span
	// 100*n/sparse records' time. Without turns the first part spans
	// nearly all 40,000.
	width := int64(100 * n / sparse)
	for _, p := range b.parts {
		span := (p.entry.MaxTime - p.entry.MinTime) / step
		if limit := p.entry.Rows + 2*width + 1000; span > limit {
			t.Errorf("part %s of %d rows spans %d records' time, want at most %d", p.entry.File, p.entry.Rows, span, limit)
		}
	}
}
