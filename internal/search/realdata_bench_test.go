package search

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/indexer"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/vfs"
)

// BenchmarkRealData runs the anchor queries a-g of ../shared/anchors.md
// over the data directory LOGBUCKET_BENCH_DATA (for example the one
// bench/query.sh leaves in /tmp/logbucket-bench/lb-data after loading a
// ../shared/loggen dataset; stop its server first). Skipped without it.
//
//	LOGBUCKET_BENCH_DATA=/tmp/logbucket-bench/lb-data go test -run '^$' -bench RealData -cpuprofile cpu.out ./internal/search
func BenchmarkRealData(b *testing.B) {
	dir := os.Getenv("LOGBUCKET_BENCH_DATA")
	if dir == "" {
		b.Skip("LOGBUCKET_BENCH_DATA names no data directory")
	}
	log, err := commitlog.Open(commitlog.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	ix, err := indexer.Open(indexer.Options{Dir: filepath.Join(dir, "index"), Log: log,
		Store: indexer.StorageStore{FS: vfs.OS{}}, FlushInterval: time.Hour, MergeInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	e := New(ix, log)
	end := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC) // the loggen datasets end there
	for _, bq := range []struct{ name, q string }{
		{"a_needle", `"LBX-NEEDLE-7Q4Z" | stats count() n`},
		{"b_word", `timeout | stats count() n`},
		{"c_lasthour", `{service="payment-service"} level:error _time:1h | limit 1000`},
		{"d_hits", `* | stats by (_time:5m, level) count() hits`},
		{"e_korean", `결제 | stats count() n`},
		{"f_top", `level:error | stats by (service) count() errors | sort by (errors desc) | limit 10`},
		{"g_trace", `trace_id:="0badc0de0badc0de0badc0de0badc0de" | stats count() n`},
	} {
		q, err := query.Parse(bq.q, end)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bq.name, func(b *testing.B) {
			for b.Loop() {
				rows := 0
				err := e.Search(context.Background(), Request{Query: q, Start: math.MinInt64, End: math.MaxInt64,
					Limits: query.Limits{MaxMemoryBytes: 256 << 20}}, func(query.Row) error { rows++; return nil })
				if err != nil {
					b.Fatal(err)
				}
				if rows == 0 {
					b.Fatal("no rows")
				}
			}
		})
	}
}
