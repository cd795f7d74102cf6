package query

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// genSource yields n generated rows (n < 0: endless) in batches of 100.
type genSource struct {
	n, read int
	row     func(i int) Row
}

func (g *genSource) Next(ctx context.Context) ([]Row, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var batch []Row
	for len(batch) < 100 && (g.n < 0 || g.read < g.n) {
		batch = append(batch, g.row(g.read))
		g.read++
	}
	if g.n >= 0 && g.read >= g.n {
		return batch, io.EOF
	}
	return batch, nil
}

func userRow(i int) Row {
	return Row{Time: int64(i) * 1e9, Fields: []model.Field{
		{Name: "_msg", Value: "request " + strconv.Itoa(i)},
		{Name: "user_id", Value: "u" + strconv.Itoa(i)},
	}}
}

func runQuery(t *testing.T, query string, src RowSource, lim Limits) ([]Row, error) {
	t.Helper()
	q := mustParse(t, query)
	var out []Row
	err := Run(context.Background(), q, src, lim, func(r Row) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// TestMemoryLimit: stateful pipes over huge cardinality stop with an
// error naming the limit and the pipe, long before reading everything.
func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct{ query, what string }{
		{`* | stats by (user_id) count()`, `"stats by (user_id)"`},
		{`* | stats count_uniq(user_id) n`, `"stats"`},
		{`* | stats quantile(0.5, user_id) n`, `"stats"`},
		{`* | sort by (user_id)`, `"sort by (user_id)"`},
		{`* | uniq by (user_id)`, `"uniq by (user_id)"`},
		{`* | top 5 by (user_id)`, `"top 5 by (user_id)"`},
		{`* | first 100000000 by (user_id)`, `"first 100000000 by (user_id)"`},
		{`* | stream_context before 1`, `stream_context`},
	} {
		src := &genSource{n: 10_000_000, row: userRow}
		_, err := runQuery(t, tc.query, &streamCtxGen{src}, Limits{MaxMemoryBytes: 1 << 20})
		if !errors.Is(err, ErrLimit) {
			t.Errorf("%s: err = %v, want ErrLimit", tc.query, err)
			continue
		}
		if !strings.Contains(err.Error(), "query needs more than 1MiB for "+tc.what) &&
			!strings.Contains(err.Error(), "stream") {
			t.Errorf("%s: error %q does not name the limit and %s", tc.query, err, tc.what)
		}
		if src.read >= src.n {
			t.Errorf("%s: read all %d rows before failing", tc.query, src.read)
		}
	}
	// The default budget, and the exact wording of the error.
	if DefaultMaxMemoryBytes != 256<<20 {
		t.Errorf("DefaultMaxMemoryBytes = %d", DefaultMaxMemoryBytes)
	}
	err := memoryLimitError(DefaultMaxMemoryBytes, (&PipeStats{By: []StatsBy{{Field: "user_id"}}}).describe())
	want := `query needs more than 256MiB for "stats by (user_id)": narrow the time range or raise query.max_memory_bytes`
	if err.Error() != want || !errors.Is(err, ErrLimit) {
		t.Errorf("default limit: %v\nwant %s", err, want)
	}
}

// streamCtxGen adds a trivial ContextSource to a generator.
type streamCtxGen struct{ *genSource }

func (streamCtxGen) Neighbours(context.Context, string, Pos, int, int) ([]Row, []Row, error) {
	return nil, nil, nil
}

// TestBoundedPipesStream: sort+limit, first, uniq limit and limit keep
// little state and stop reading early where they can.
func TestBoundedPipesStream(t *testing.T) {
	lim := Limits{MaxMemoryBytes: 1 << 20}
	src := &genSource{n: 200_000, row: userRow}
	out, err := runQuery(t, `* | sort by (_time desc) | limit 2 | fields user_id`, src, lim)
	if err != nil || len(out) != 2 || out[0].Get("user_id") != "u199999" || out[1].Get("user_id") != "u199998" {
		t.Fatalf("sort|limit: %v %v", out, err)
	}
	out, err = runQuery(t, `* | first 1 by (_time desc) | fields user_id`, &genSource{n: 200_000, row: userRow}, lim)
	if err != nil || len(out) != 1 || out[0].Get("user_id") != "u199999" {
		t.Fatalf("first: %v %v", out, err)
	}
	endless := &genSource{n: -1, row: userRow}
	out, err = runQuery(t, `* | uniq by (user_id) limit 3`, endless, lim)
	if err != nil || len(out) != 3 {
		t.Fatalf("uniq limit: %v %v", out, err)
	}
	endless = &genSource{n: -1, row: userRow}
	out, err = runQuery(t, `request | limit 3 | sort by (_time desc)`, endless, lim)
	if err != nil || len(out) != 3 || out[0].Get("user_id") != "u2" {
		t.Fatalf("limit|sort: %v %v", out, err)
	}
}

func TestCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	q := mustParse(t, `* | stats count()`)
	src := &genSource{n: -1, row: func(i int) Row {
		if i == 5000 {
			cancel()
		}
		return userRow(i)
	}}
	err := Run(ctx, q, src, Limits{}, func(Row) error { return nil })
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "query canceled") {
		t.Fatalf("err = %v", err)
	}
	if src.read > 10_000 {
		t.Fatalf("read %d rows after cancellation", src.read)
	}
}

func TestTimeout(t *testing.T) {
	q := mustParse(t, `* | stats by (_msg) count()`)
	start := time.Now()
	err := Run(context.Background(), q, &genSource{n: -1, row: func(i int) Row { return userRow(i % 1000) }},
		Limits{Timeout: 50 * time.Millisecond}, func(Row) error { return nil })
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), "did not finish within 50ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func TestOutStopAndErrors(t *testing.T) {
	q := mustParse(t, `*`)
	src := &genSource{n: -1, row: userRow}
	n := 0
	err := Run(context.Background(), q, src, Limits{}, func(Row) error {
		n++
		if n == 3 {
			return ErrStop
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("ErrStop: n=%d err=%v", n, err)
	}
	boom := errors.New("boom")
	err = Run(context.Background(), q, &genSource{n: 10, row: userRow}, Limits{}, func(Row) error { return boom })
	if err != boom {
		t.Fatalf("out error: %v", err)
	}
	_, err = runQuery(t, `*`, failingSource{}, Limits{})
	if err == nil || !strings.Contains(err.Error(), "cannot read rows: disk on fire") {
		t.Fatalf("source error: %v", err)
	}
	_, err = runQuery(t, `* | stream_context after 1`, &genSource{n: 1, row: userRow}, Limits{})
	if err == nil || !strings.Contains(err.Error(), "neighbouring rows") {
		t.Fatalf("stream_context without ContextSource: %v", err)
	}
}

type failingSource struct{}

func (failingSource) Next(context.Context) ([]Row, error) { return nil, errors.New("disk on fire") }

// filteredSource claims its rows already match.
type filteredSource struct{ *genSource }

func (filteredSource) FilterApplied() bool { return true }

func TestFilteredSource(t *testing.T) {
	out, err := runQuery(t, `nomatch | stats count() n`, filteredSource{&genSource{n: 7, row: userRow}}, Limits{})
	if err != nil || len(out) != 1 || out[0].Get("n") != "7" {
		t.Fatalf("%v %v", out, err)
	}
}

// TestRowsUnmodified: pipes never modify the caller's rows.
func TestRowsUnmodified(t *testing.T) {
	rows := []Row{userRow(1), userRow(2)}
	before := fmt.Sprint(rows)
	q := mustParse(t, `* | rename user_id as u | copy _msg as m | delete _msg | unpack_json | extract "request <n>" from m | fields u, n`)
	err := RunNaive(context.Background(), q, rows, Limits{}, func(r Row) error { return nil })
	if err != nil || fmt.Sprint(rows) != before {
		t.Fatalf("rows changed: %v -> %v (%v)", before, rows, err)
	}
}

func TestRowJSON(t *testing.T) {
	r := Row{Time: 1767225600123456789, Fields: []model.Field{
		{Name: "_msg", Value: "a \"q\" \\ \n\t\x01 \xff 결제"},
		{Name: "empty", Value: ""},
		{Name: "k", Value: "v"},
	}}
	got := string(r.AppendJSON(nil))
	want := `{"_time":"2026-01-01T00:00:00.123456789Z","_msg":"a \"q\" \\ \n\t\u0001 \ufffd 결제","k":"v"}` + "\n"
	if got != want {
		t.Fatalf("AppendJSON:\n%s\nwant\n%s", got, want)
	}
	empty := Row{NoTime: true, Fields: []model.Field{{Name: "a", Value: ""}}}
	if b := empty.AppendJSON([]byte("x")); string(b) != "x" {
		t.Fatalf("empty row wrote %q", b)
	}
	explicit := Row{Time: 5, Fields: []model.Field{{Name: "_time", Value: "bucket"}}}
	if got := string(explicit.AppendJSON(nil)); got != `{"_time":"bucket"}`+"\n" {
		t.Fatalf("explicit _time: %s", got)
	}
	if v, ok := empty.Lookup("_time"); ok || v != "" {
		t.Fatalf("NoTime row has _time %q", v)
	}
	rec := model.Record{Time: 7, Msg: "m", Stream: []model.Field{{Name: "a", Value: "1"}}, Fields: []model.Field{{Name: "b", Value: "2"}}}
	row := RowFromRecord(&rec)
	if got := fmt.Sprint(row.Fields); got != `[{_msg m} {_stream {a="1"}} {_stream_id `+model.StreamID(rec.Stream)+`} {a 1} {b 2}]` {
		t.Fatalf("RowFromRecord: %s", got)
	}
}

func TestNumbers(t *testing.T) {
	for s, want := range map[string]float64{
		"42": 42, "-1.5": -1.5, "1_000": 1000, "0x10": 16, "1e3": 1000, "inf": math.Inf(1), "-Inf": math.Inf(-1),
		"10KiB": 10240, "1.5K": 1500, "2MB": 2e6, "1Gi": 1 << 30, "1s": 1e9, "1h30m": 5400e9, "250ms": 250e6,
		"1.5d": 1.5 * 86400e9, "1w": 7 * 86400e9, "3µs": 3000, "-5m": -300e9,
	} {
		if got, ok := parseNumber(s); !ok || got != want {
			t.Errorf("parseNumber(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "abc", "1x", "nan", "1.2.3", "--1", "_", "0xZZ", "1 ", "5mm"} {
		if v, ok := parseNumber(s); ok {
			t.Errorf("parseNumber(%q) = %v, want failure", s, v)
		}
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"file2", "file10", -1}, {"a", "b", -1}, {"10", "9", 1}, {"x01", "x1", 1}, {"", "a", -1}, {"abc", "abc", 0},
	} {
		if got := compareNatural(tc.a, tc.b); got != tc.want {
			t.Errorf("compareNatural(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if formatBytes(256<<20) != "256MiB" || formatBytes(1536) != "1.5KiB" || formatBytes(100) != "100B" {
		t.Errorf("formatBytes")
	}
}
