package search

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/indexer"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/vfs"
)

// TestUnindexedRecordsAreSearchable queries right after each append,
// without waiting for the indexer (which reads a few records at a time):
// every acknowledged record must be found exactly once, whether it is in
// a part, the tail or still only in the commit log (Snapshot.Pending).
func TestUnindexedRecordsAreSearchable(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	f := &fixture{dir: t.TempDir()}
	l, err := commitlog.Open(commitlog.Options{Dir: filepath.Join(f.dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	f.log = l
	defer l.Close()
	ix, err := indexer.Open(indexer.Options{Dir: filepath.Join(f.dir, "index"), Log: l,
		Store: indexer.StorageStore{FS: vfs.OS{}}, FlushInterval: 50 * time.Millisecond, ReadBatch: 3})
	if err != nil {
		t.Fatal(err)
	}
	f.ix = ix
	defer ix.Close()
	ctx := context.Background()
	if err := l.CreateBucket(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	recs := genRecords(r, 6000)
	e := New(ix, l)
	lim := query.Limits{MaxMemoryBytes: 64 << 20}
	withPending := 0
	for c := 0; c < 20; c++ {
		chunk := recs[c*300 : (c+1)*300]
		if _, err := l.Append(ctx, commitlog.AppendRequest{Bucket: "d", Records: chunk}); err != nil {
			t.Fatal(err)
		}
		for i := range chunk {
			f.rows = append(f.rows, query.RowFromRecord(&chunk[i]))
		}
		if snap, err := ix.Snapshot("d"); err == nil {
			if len(snap.Pending) > 0 {
				withPending++
			}
			snap.Release()
		}
		for _, text := range []string{"* | stats count() n", genQuery(r), genQuery(r)} {
			q, err := query.Parse(text, time.Unix(0, t0))
			if err != nil {
				t.Fatal(err)
			}
			want := run(t, q, func(q *query.Query, out func(query.Row) error) error {
				return query.RunNaive(ctx, q, f.rows, lim, out)
			})
			got := run(t, q, func(q *query.Query, out func(query.Row) error) error {
				return e.Search(ctx, Request{Query: q, Start: minInt, End: maxInt, Limits: lim}, out)
			})
			if len(got) != len(want) || (len(got) > 0 && got[0] != want[0]) || (len(got) > 0 && got[len(got)-1] != want[len(want)-1]) {
				t.Fatalf("after chunk %d, query %q: engine %d rows %.200q, reference %d rows %.200q", c, text, len(got), got, len(want), want)
			}
		}
	}
	if withPending == 0 {
		t.Fatal("the indexer was never behind: the test did not exercise records read from the commit log")
	}
	t.Logf("%d of 20 snapshots had records not indexed yet", withPending)
}
