package query

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// fuzzRows is a small data set every parsed query is also run against, so
// that the fuzzer exercises Match and the pipes, not only the parser.
var fuzzRows = func() []Row {
	recs := []model.Record{
		{Time: testNow.Add(-time.Minute).UnixNano(), Msg: "error: cannot open file 결제가",
			Stream: []model.Field{{Name: "app", Value: "a"}}, Fields: []model.Field{{Name: "n", Value: "10"}, {Name: "j", Value: `{"a":{"b":1},"c":"d"}`}}},
		{Time: testNow.Add(-2 * time.Minute).UnixNano(), Msg: "ssh: login fail ip=1.2.3.4 ",
			Stream: []model.Field{{Name: "app", Value: "b"}}, Fields: []model.Field{{Name: "n", Value: "-2.5"}}},
		{Time: testNow.Add(time.Hour).UnixNano(), Msg: "미결제 \"quoted\" <tag> 5m 10KiB",
			Stream: []model.Field{{Name: "app", Value: "a"}}},
	}
	rows := make([]Row, len(recs))
	for i := range recs {
		rows[i] = RowFromRecord(&recs[i])
	}
	return rows
}()

// FuzzParse: Parse never panics or hangs; a successful parse prints a
// canonical form that parses back to the same canonical form; errors are
// *ParseError with a position inside the query; and running the query on
// a few rows does not panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`error`, `"foo bar"*`, `_time:5m error | stats by (_time:1m) count() n`,
		`{app="a"} | sort by (n desc) | limit 1`, `i(결제*) OR x:in(a, "b c") | uniq by (app) with hits`,
		`* | unpack_json from j | extract "ip=<ip> " | top 2 by (ip)`, `panic | stream_context before 1 after 1`,
		`NOT (a OR b) c:>=1.5 d:range(1, 2] e:~"x+"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s, testNow)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Pos < 0 || pe.Pos > len(s) {
				t.Fatalf("Parse(%q): bad error %#v", s, err)
			}
			return
		}
		c1 := q.String()
		q2, err := Parse(c1, testNow)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its canonical form %q fails: %v", s, c1, err)
		}
		if c2 := q2.String(); c2 != c1 {
			t.Fatalf("canonical form of %q is unstable: %q -> %q", s, c1, c2)
		}
		lim := Limits{MaxMemoryBytes: 1 << 20, Timeout: time.Second, MaxRows: 1000}
		err = RunNaive(context.Background(), q, fuzzRows, lim, func(Row) error { return nil })
		if err != nil && !errors.Is(err, ErrLimit) {
			t.Logf("run %q: %v", s, err)
		}
		RequiredTokens(q.Filter)
		TimeBounds(q.Filter)
	})
}
