package query

// Script tests: testdata/*.test, run through RunNaive.
//
// Format, line by line:
//
//	# comment                    ignored (also inside blocks)
//	now RFC3339                  the Now of the following queries
//	                             (initially 2026-01-01T00:10:00Z)
//	reset                        forget every ingested row
//	limits mem=BYTES rows=N      Limits of the following queries
//	                             (`limits` alone: no limits)
//	ingest [stream=a,b]          the following lines, up to a blank line,
//	                             are NDJSON records appended to the rows
//	                             through the production decoder (package
//	                             ingest/jsonline); stream= names the stream
//	                             fields; records get Pos{Offset: n} in
//	                             ingestion order
//	query LOGSQL                 run LOGSQL; the following lines, up to a
//	                             blank line, are the expected result:
//	                             either NDJSON rows as Row.AppendJSON writes
//	                             them (rows without any non-empty field are
//	                             not written, as in VictoriaLogs), compared
//	                             as JSON objects in order, or one line
//	                             `error SUBSTRING`: the query must fail
//	                             (parse or run) with an error containing
//	                             SUBSTRING.
//
// Every successful query is also checked for: String round trip (the
// re-parsed query prints the same and returns the same rows), and the
// conservativeness of RequiredTokens and TimeBounds on every matching row.
//
// `go test -run TestScripts -update` rewrites the expected results with
// the actual ones (review the diff!).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/index"
	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/jsonline"
)

var update = flag.Bool("update", false, "rewrite expected results of script tests")

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no script files: %v", err)
	}
	total := 0
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			total += runScript(t, file)
		})
	}
	t.Logf("%d script queries", total)
}

type scriptState struct {
	t      *testing.T
	file   string
	now    time.Time
	rows   []Row
	limits Limits
	out    []string // the rewritten file for -update
}

func runScript(t *testing.T, file string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	st := &scriptState{t: t, file: file, now: time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)}
	queries := 0
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		st.out = append(st.out, line)
		cmd, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case cmd == "now":
			st.now, err = time.Parse(time.RFC3339Nano, arg)
			if err != nil {
				t.Fatalf("%s:%d: %v", file, i+1, err)
			}
		case cmd == "reset":
			st.rows = nil
		case cmd == "limits":
			st.limits = parseLimits(t, fmt.Sprintf("%s:%d", file, i+1), arg)
		case cmd == "ingest":
			block, next := blockAt(lines, i+1)
			st.out = append(st.out, lines[i+1:next]...)
			st.ingest(i+1, arg, block)
			i = next - 1
		case cmd == "query":
			block, next := blockAt(lines, i+1)
			st.query(i+1, arg, block)
			queries++
			i = next - 1
		default:
			t.Fatalf("%s:%d: unknown directive %q", file, i+1, line)
		}
	}
	if *update {
		if err := os.WriteFile(file, []byte(strings.Join(st.out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return queries
}

// blockAt returns the lines from i up to the next blank line, skipping
// comments, and the index after the block.
func blockAt(lines []string, i int) ([]string, int) {
	var block []string
	for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		if !strings.HasPrefix(lines[i], "#") {
			block = append(block, lines[i])
		}
	}
	return block, i
}

func parseLimits(t *testing.T, where, arg string) Limits {
	var lim Limits
	for _, kv := range strings.Fields(arg) {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: bad limit %q", where, kv)
		}
		switch k {
		case "mem":
			lim.MaxMemoryBytes = n
		case "rows":
			lim.MaxRows = n
		default:
			t.Fatalf("%s: unknown limit %q", where, k)
		}
	}
	return lim
}

func (st *scriptState) ingest(line int, arg string, block []string) {
	opts := ingest.DefaultOptions()
	opts.Now = st.now.UnixNano()
	if s, ok := strings.CutPrefix(arg, "stream="); ok {
		opts.StreamFields = strings.Split(s, ",")
	}
	var res ingest.Result
	jsonline.Decode([]byte(strings.Join(block, "\n")), opts, &res)
	if len(res.Rejections) > 0 {
		st.t.Fatalf("%s:%d: rejected: %+v", st.file, line, res.Rejections)
	}
	for i := range res.Records {
		r := RowFromRecord(&res.Records[i])
		r.Pos = Pos{Offset: int64(len(st.rows))}
		st.rows = append(st.rows, r)
	}
}

func (st *scriptState) query(line int, text string, want []string) {
	t := st.t
	where := fmt.Sprintf("%s:%d: %s", st.file, line, text)
	got, err := st.run(text)
	if err != nil {
		got = []string{"error " + err.Error()}
	}
	if *update {
		if len(want) == 1 && strings.HasPrefix(want[0], "error ") && err != nil {
			got = want // keep the hand-picked substring
		}
		st.out = append(st.out, got...)
		return
	}
	if len(want) == 1 && strings.HasPrefix(want[0], "error ") {
		sub := strings.TrimPrefix(want[0], "error ")
		if err == nil || !strings.Contains(err.Error(), sub) {
			t.Errorf("%s\nwant error containing %q, got:\n%s", where, sub, strings.Join(got, "\n"))
		}
		return
	}
	if err != nil {
		t.Errorf("%s\nunexpected error: %v", where, err)
		return
	}
	if !sameRows(got, want) {
		t.Errorf("%s\ngot:\n%s\nwant:\n%s", where, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// run executes the query with all the cross-checks.
func (st *scriptState) run(text string) ([]string, error) {
	q, err := Parse(text, st.now)
	if err != nil {
		return nil, err
	}
	got, err := collect(q, st.rows, st.limits)
	if err != nil {
		return nil, err
	}
	st.checkRoundTrip(text, q, got)
	st.checkPruning(text, q)
	return got, nil
}

func collect(q *Query, rows []Row, lim Limits) ([]string, error) {
	var out []string
	err := RunNaive(context.Background(), q, rows, lim, func(r Row) error {
		if b := r.AppendJSON(nil); len(b) > 0 {
			out = append(out, strings.TrimSuffix(string(b), "\n"))
		}
		return nil
	})
	return out, err
}

func (st *scriptState) checkRoundTrip(text string, q *Query, got []string) {
	s := q.String()
	q2, err := Parse(s, st.now)
	if err != nil {
		st.t.Errorf("%s: canonical form %q does not parse: %v", text, s, err)
		return
	}
	if s2 := q2.String(); s2 != s {
		st.t.Errorf("%s: canonical form changes: %q -> %q", text, s, s2)
	}
	got2, err := collect(q2, st.rows, st.limits)
	if err != nil || !reflect.DeepEqual(got, got2) {
		st.t.Errorf("%s: canonical form %q returns other rows (%v):\n%s", text, s, err, strings.Join(got2, "\n"))
	}
}

// checkPruning verifies RequiredTokens and TimeBounds never exclude a
// matching row.
func (st *scriptState) checkPruning(text string, q *Query) {
	req := RequiredTokens(q.Filter)
	lo, hi := TimeBounds(q.Filter)
	for i := range st.rows {
		r := &st.rows[i]
		if !q.Filter.Match(r) {
			continue
		}
		if r.Time < lo || r.Time > hi {
			st.t.Errorf("%s: TimeBounds [%d, %d] exclude matching row %d", text, lo, hi, i)
		}
		for field, terms := range req {
			have := indexTerms(r.Get(field))
			for _, term := range terms {
				if !have[term] {
					st.t.Errorf("%s: RequiredTokens claims %s:%q, which matching row %d lacks", text, field, term, i)
				}
			}
		}
	}
}

// indexTerms is what an index holds for a value: its tokens and the
// Hangul grams of each token.
func indexTerms(v string) map[string]bool {
	terms := map[string]bool{}
	index.ForEachToken(v, func(tok string) {
		terms[tok] = true
		index.ForEachHangulGram(tok, func(g string) { terms[g] = true })
	})
	return terms
}

func sameRows(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		var g, w map[string]string
		if json.Unmarshal([]byte(got[i]), &g) != nil || json.Unmarshal([]byte(want[i]), &w) != nil {
			return false
		}
		if !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}
