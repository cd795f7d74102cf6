package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/indexer"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/vfs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	services = []string{"api", "payment", "game", "chat", "auth"}
	levels   = []string{"info", "info", "info", "warn", "error", "debug"}
	words    = []string{"timeout", "error", "login", "purchase", "retry", "결제가", "결제를", "미결제", "결", "제", "완료", "실패", "order_id", "ok"}
	t0       = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
)

// genRecords makes n deterministic records over three days.
func genRecords(r *rand.Rand, n int) []model.Record {
	recs := make([]model.Record, n)
	for i := range recs {
		svc := services[r.IntN(len(services))]
		var msg strings.Builder
		for w := 0; w < 1+r.IntN(6); w++ {
			if w > 0 {
				msg.WriteString([]string{" ", ": ", " ", "="}[r.IntN(4)])
			}
			msg.WriteString(words[r.IntN(len(words))])
		}
		fields := []model.Field{{Name: "level", Value: levels[r.IntN(len(levels))]},
			{Name: "latency", Value: strconv.Itoa(r.IntN(1000))}}
		if r.IntN(3) > 0 {
			fields = append(fields, model.Field{Name: "user_id", Value: "u" + strconv.Itoa(r.IntN(50))})
		}
		if r.IntN(4) > 0 { // a hex column with absent rows
			fields = append(fields, model.Field{Name: "trace", Value: traceValue(r.IntN(2000))})
		}
		recs[i] = model.Record{Time: t0 + int64(i)*int64(3*24*time.Hour)/int64(n) + int64(r.IntN(1000)),
			Msg: msg.String(), Stream: []model.Field{{Name: "host", Value: svc + "-" + strconv.Itoa(r.IntN(3))}, {Name: "service", Value: svc}},
			Fields: fields}
	}
	return recs
}

// traceValue is the k-th of a pool of hex values (more distinct values per
// block than a dictionary holds, so the column is hex-encoded).
func traceValue(k int) string { return fmt.Sprintf("%08x", uint32(k)*2654435761) }

// genFilter returns a random LogsQL filter of the supported kinds.
func genFilter(r *rand.Rand, depth int) string {
	if depth > 0 && r.IntN(3) == 0 {
		op := []string{" ", " AND ", " OR "}[r.IntN(3)]
		return "(" + genFilter(r, depth-1) + op + genFilter(r, depth-1) + ")"
	}
	w := words[r.IntN(len(words))]
	switch r.IntN(17) {
	case 0:
		return w
	case 1:
		return strconv.Quote(w + " " + words[r.IntN(len(words))])
	case 2:
		return w[:max(1, len(w)/2)] + "*"
	case 3:
		return "level:" + levels[r.IntN(len(levels))]
	case 4:
		return "level:=" + levels[r.IntN(len(levels))]
	case 5:
		return "level:in(error, warn)"
	case 6:
		return `_msg:~"` + []string{"tim.*out", "결제", "^ok", "retry$"}[r.IntN(4)] + `"`
	case 7:
		return "latency:>" + strconv.Itoa(r.IntN(1000))
	case 8:
		return "latency:range[" + strconv.Itoa(r.IntN(500)) + ", " + strconv.Itoa(500+r.IntN(500)) + ")"
	case 9:
		return fmt.Sprintf("_time:[%s, %s)", query.FormatTime(t0+int64(r.IntN(72))*int64(time.Hour)), query.FormatTime(t0+int64(24+r.IntN(60))*int64(time.Hour)))
	case 10:
		return `{service="` + services[r.IntN(len(services))] + `"}`
	case 11:
		return "-" + w
	case 12:
		return "user_id:*"
	case 13:
		return "trace:=" + strconv.Quote([]string{traceValue(r.IntN(2000)), strings.ToUpper(traceValue(r.IntN(2000))), "", "zz"}[r.IntN(4)])
	case 14:
		return "_stream_id:in(" + randomStreamID(r) + ", " + randomStreamID(r) + ")"
	case 15:
		return "_stream_id:" + randomStreamID(r)
	}
	return "i(" + strings.ToUpper(w) + ")"
}

// randomStreamID returns the _stream_id of one of genRecords' streams.
func randomStreamID(r *rand.Rand) string {
	svc := services[r.IntN(len(services))]
	return model.StreamID([]model.Field{{Name: "host", Value: svc + "-" + strconv.Itoa(r.IntN(3))}, {Name: "service", Value: svc}})
}

// genQuery adds a random pipe to a random filter.
func genQuery(r *rand.Rand) string {
	q := genFilter(r, 2)
	switch r.IntN(15) {
	case 0:
		q += " | stats count() n"
	case 1:
		q += " | stats by (level) count() n, count_uniq(user_id) u"
	case 2:
		q += " | stats by (service) sum(latency) s, avg(latency) a, min(latency) lo, max(latency) hi"
	case 3:
		q += " | sort by (_time desc) | limit 7"
	case 4:
		q += " | uniq by (service, level)"
	case 5:
		q += " | top 3 by (host)"
	case 6:
		q += " | stats by (_time:6h) count() n"
	case 7:
		q += " | fields _time, level, _msg"
	case 8: // a few hits: stream_context caps the rows it takes per stream
		q = "trace:=" + traceValue(r.IntN(2000)) + " " + q + " | stream_context before 2 after 1"
	case 9:
		q += " | stats by (service, _time:1h) count() n"
	case 10:
		q += " | stats by (user_id) count() n, count() m"
	case 11:
		q += " | stats by (_stream, level) count()"
	case 12:
		q += " | stats by (_time:month) count() n"
	case 13:
		q += " | stats by (latency:100, level) count() n | sort by (n desc, latency, level) | limit 5"
	}
	return q
}

type fixture struct {
	dir  string
	log  *commitlog.Embedded
	ix   *indexer.Indexer
	rows []query.Row
}

func (f *fixture) openIndex(t *testing.T, merge time.Duration) {
	t.Helper()
	ix, err := indexer.Open(indexer.Options{Dir: filepath.Join(f.dir, "index"), Log: f.log,
		Store: indexer.StorageStore{FS: vfs.OS{}}, FlushInterval: time.Hour, MergeInterval: merge})
	if err != nil {
		t.Fatal(err)
	}
	f.ix = ix
}

func (f *fixture) append(t *testing.T, recs []model.Record) {
	t.Helper()
	ctx := context.Background()
	if err := f.log.CreateBucket(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	for len(recs) > 0 {
		n := min(len(recs), 997)
		if _, err := f.log.Append(ctx, commitlog.AppendRequest{Bucket: "d", Records: recs[:n]}); err != nil {
			t.Fatal(err)
		}
		for i := range recs[:n] {
			f.rows = append(f.rows, query.RowFromRecord(&recs[i]))
		}
		recs = recs[n:]
	}
	info, _ := f.log.Bucket(ctx, "d")
	ends := map[int]int64{}
	for _, p := range info.Partitions {
		ends[p.Partition] = p.End
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := f.ix.WaitIndexed(wctx, "d", ends); err != nil {
		t.Fatal(err)
	}
}

// run returns a query's result lines, sorted unless the query sorts.
func run(t *testing.T, q *query.Query, exec func(*query.Query, func(query.Row) error) error) []string {
	t.Helper()
	var out []string
	if err := exec(q, func(r query.Row) error {
		// Field order is not part of a row's meaning (parts store columns
		// sorted by name): compare rows with their fields sorted.
		r.Fields = slices.Clone(r.Fields)
		slices.SortFunc(r.Fields, func(a, b model.Field) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, string(r.AppendJSON(nil)))
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if !strings.Contains(q.String(), "sort by") {
		slices.Sort(out)
	}
	return out
}

func (f *fixture) compare(t *testing.T, r *rand.Rand, n int) {
	t.Helper()
	e := New(f.ix, f.log)
	lim := query.Limits{MaxMemoryBytes: 64 << 20}
	for i := 0; i < n; i++ {
		text := genQuery(r)
		q, err := query.Parse(text, time.Unix(0, t0))
		if err != nil {
			t.Fatalf("generated query %q does not parse: %v", text, err)
		}
		want := run(t, q, func(q *query.Query, out func(query.Row) error) error {
			return query.RunNaive(context.Background(), q, f.rows, lim, out)
		})
		got := run(t, q, func(q *query.Query, out func(query.Row) error) error {
			return e.Search(context.Background(), Request{Query: q, Start: minInt, End: maxInt, Limits: lim}, out)
		})
		if !slices.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			g, w := "(none)", "(none)"
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			t.Fatalf("query %q: engine gave %d rows, reference %d; first difference at %d:\nengine:    %s\nreference: %s", text, len(got), len(want), i, g, w)
		}
	}
}

const (
	minInt = -1 << 63
	maxInt = 1<<63 - 1
)

// parts returns the bucket's number of parts.
func (f *fixture) parts(t *testing.T) int {
	t.Helper()
	snap, err := f.ix.Snapshot("d")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	return len(snap.Parts)
}

// TestDifferential runs random queries through the engine and the naive
// reference evaluator over the same records: split between many small
// parts and the unflushed tail, then after merges, then after a restart.
// LOGBUCKET_LONG=1 runs 100,000 records and 1,000 queries per phase.
func TestDifferential(t *testing.T) {
	records, queries := 20000, 300
	if os.Getenv("LOGBUCKET_LONG") != "" {
		records, queries = 100000, 1000
	}
	r := rand.New(rand.NewPCG(1, 2))
	f := &fixture{dir: t.TempDir()}
	l, err := commitlog.Open(commitlog.Options{Dir: filepath.Join(f.dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	f.log = l
	defer l.Close()
	f.openIndex(t, time.Hour) // no merges yet
	recs := genRecords(r, records)
	const chunks = 30
	for c := 0; c < chunks; c++ {
		f.append(t, recs[c*records/chunks:(c+1)*records/chunks])
		if c < chunks-1 { // the last chunk stays in the tail
			if err := f.ix.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := f.parts(t)
	f.compare(t, r, queries)
	f.ix.Close()

	f.openIndex(t, 10*time.Millisecond) // merges on
	f.append(t, nil)
	deadline := time.Now().Add(60 * time.Second)
	for f.parts(t) > before/2 {
		if time.Now().After(deadline) {
			t.Fatalf("parts not merged: %d of %d left", f.parts(t), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d parts merged into %d", before, f.parts(t))
	f.compare(t, r, queries)
	f.ix.Close()

	f.openIndex(t, time.Hour) // restart
	defer f.ix.Close()
	f.append(t, nil)
	f.compare(t, r, queries)
}
