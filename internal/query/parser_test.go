package query

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)

func mustParse(t *testing.T, s string) *Query {
	t.Helper()
	q, err := Parse(s, testNow)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return q
}

// TestParseCanonical: every filter and pipe parses, prints canonically,
// and the canonical text parses to an identical AST.
var canonicalCases = []struct{ in, want string }{
	// Filters.
	{`error`, `error`},
	{`_msg:error`, `error`},
	{`"error"`, `error`},
	{`"foo bar"`, `"foo bar"`},
	{`err*`, `err*`},
	{`"foo bar"*`, `"foo bar"*`},
	{`*`, `*`},
	{`_msg:*`, `_msg:*`},
	{`""*`, `_msg:*`},
	{`host:*`, `host:*`},
	{`host:""`, `host:""`},
	{`host:foo`, `host:foo`},
	{`host:=foo`, `host:=foo`},
	{`host:="foo bar"`, `host:="foo bar"`},
	{`host:=""`, `host:=""`},
	{`host:=`, `host:=""`},
	{`host:=foo*`, `host:=foo*`},
	{`host:="a b"*`, `host:="a b"*`},
	{`host:exact(foo)`, `host:=foo`},
	{`host:exact(foo*)`, `host:=foo*`},
	{`host:in(a, b, "c d")`, `host:in(a, b, "c d")`},
	{`host:in()`, `host:in()`},
	{`host:in(*)`, `*`},
	{`host:~"h.*"`, `host:~"h.*"`},
	{`host:re("h.*")`, `host:~"h.*"`},
	{`~'a"b'`, `~"a\"b"`},
	{`x:>5`, `x:>5`},
	{`x:> 5`, `x:>5`},
	{`x:>=5`, `x:>=5`},
	{`x:<5`, `x:<5`},
	{`x:<=5`, `x:<=5`},
	{`x:>-1.5`, `x:>-1.5`},
	{`x:<=10KiB`, `x:<=10240`},
	{`x:>1_000`, `x:>1000`},
	{`x:>1.5s`, `x:>1.5e+09`},
	{`x:range(1, 10)`, `x:range(1, 10)`},
	{`x:range[1, 10)`, `x:range[1, 10)`},
	{`x:range(1, 10]`, `x:range(1, 10]`},
	{`x:range[-inf, 10]`, `x:range[-inf, 10]`},
	{`x:range(5, inf)`, `x:>5`},
	{`x:range(-inf, inf)`, `x:range(-inf, inf)`},
	{`x:>"John"`, `x:>John`},
	{`x:<="a b"`, `x:<="a b"`},
	{`i(error)`, `i(error)`},
	{`i("Foo Bar")`, `i("Foo Bar")`},
	{`i(err*)`, `i(err*)`},
	{`f:i("a b"*)`, `f:i("a b"*)`},
	{`i`, `"i"`},
	{`in`, `"in"`},
	{`range`, `"range"`},
	{`_time:5m`, `_time:5m`},
	{`_time:1h30m`, `_time:1h30m`},
	{`_time:>1h`, `_time:>1h`},
	{`_time:<=1h`, `_time:<=1h`},
	{`_time:2026-01-01`, `_time:2026-01-01`},
	{`_time:=2026-01-01`, `_time:2026-01-01`},
	{`_time:2026-01-01T10:00:00+05:30`, `_time:2026-01-01T10:00:00+05:30`},
	{`_time:[2026-01-01T00:00:00Z, 2026-01-02T00:00:00Z)`, `_time:[2026-01-01T00:00:00Z, 2026-01-02T00:00:00Z)`},
	{`_time:(2026-01-01,2026-01-02]`, `_time:(2026-01-01, 2026-01-02]`},
	{`_time:[now-1h, now]`, `_time:[now-1h, now]`},
	{`_time:5m offset 1h`, `_time:5m offset 1h`},
	{`_time:offset 1h`, `_time:offset 1h`},
	{`{service="x", host=~"h.*", a!="b", c!~"re"}`, `{service="x",host=~"h.*",a!="b",c!~"re"}`},
	{`_stream:{a="b"}`, `{a="b"}`},
	{`{a=b}`, `{a="b"}`},
	{`{}`, `{}`},
	{`{a in (x, "y.z") or b not_in (c)}`, `{a=~"x|y\\.z" or b!~"c"}`},
	{`a AND b`, `a b`},
	{`a and b and c`, `a b c`},
	{`a OR b`, `a or b`},
	{`a b OR c d`, `a b or c d`},
	{`a (b OR c) d`, `a (b or c) d`},
	{`NOT a`, `!a`},
	{`not a`, `!a`},
	{`-a`, `!a`},
	{`!a`, `!a`},
	{`!!a`, `a`},
	{`NOT (a OR b)`, `!(a or b)`},
	{`NOT (a b)`, `!(a b)`},
	{`host:!=x`, `!host:=x`},
	{`host:!~"x"`, `!host:~"x"`},
	{`host:(a OR b*)`, `host:a or host:b*`},
	{`host:(a -b)`, `host:a !host:b`},
	{`'single' "dq" ` + "`bt`", `single dq bt`},
	{`"and" "or" "not" "stats"`, `"and" "or" "not" "stats"`},
	{`"a\\b\"c"`, `"a\\b\"c"`},
	{`'it\'s'`, `"it's"`},
	{"`C:\\path`", `"C:\\path"`},
	{`"tab\there"`, `"tab\there"`},
	{`foo-bar`, `"foo-bar"`},
	{`1.2.3.4`, `1.2.3.4`},
	{`"some field":value`, `"some field":value`},
	{`log.level:error`, `log.level:error`},
	{`a:b:c`, `a:"b:c"`},
	{`결제`, `결제`},
	{`სფერო:τιμή`, `სფერო:τιμή`},
	{"error # comment\n| limit 1", `error | limit 1`},
	// Pipes.
	{`* | fields a, b`, `* | fields a, b`},
	{`* | keep a,b*`, `* | fields a, b*`},
	{`* | delete a`, `* | delete a`},
	{`* | del a | rm b | drop c`, `* | delete a | delete b | delete c`},
	{`* | rename a as b, c d`, `* | rename a as b, c as d`},
	{`* | mv a b`, `* | rename a as b`},
	{`* | copy a as b`, `* | copy a as b`},
	{`* | cp a b`, `* | copy a as b`},
	{`* | sort by (a, b desc)`, `* | sort by (a, b desc)`},
	{`* | sort (a asc) desc limit 5 offset 2`, `* | sort by (a) desc offset 2 limit 5`},
	{`* | order by (a)`, `* | sort by (a)`},
	{`* | sort`, `* | sort`},
	{`* | limit 5`, `* | limit 5`},
	{`* | head`, `* | limit 10`},
	{`* | head 1K`, `* | limit 1000`},
	{`* | offset 5`, `* | offset 5`},
	{`* | skip 5`, `* | offset 5`},
	{`* | first 3 by (x)`, `* | first 3 by (x)`},
	{`* | first`, `* | first 1`},
	{`* | last 2 by (x desc)`, `* | last 2 by (x desc)`},
	{`* | stats count()`, `* | stats count()`},
	{`* | stats count() as n`, `* | stats count() as n`},
	{`* | stats count() n, avg(x)`, `* | stats count() as n, avg(x)`},
	{`* | stats by (a, _time:5m) count_uniq(u) u, sum(x) s, min(x), max(x), quantile(0.99, x) p99, median(x)`,
		`* | stats by (a, _time:5m) count_uniq(u) as u, sum(x) as s, min(x), max(x), quantile(0.99, x) as p99, median(x)`},
	{`* | stats (a) count_empty(x, y)`, `* | stats by (a) count_empty(x, y)`},
	{`* | stats by (_time:1d offset 2h) count()`, `* | stats by (_time:1d offset 2h) count()`},
	{`* | stats by (_time:month) count()`, `* | stats by (_time:month) count()`},
	{`* | stats by (size:10KB) count()`, `* | stats by (size:10KB) count()`},
	{`* | stats count() if (a:b) n`, `* | stats count() if (a:b) as n`},
	{`* | stats count() if (a:b)`, `* | stats count() if (a:b)`},
	{`* | count()`, `* | stats count()`},
	{`* | by (x) count()`, `* | stats by (x) count()`},
	{`* | uniq by (a)`, `* | uniq by (a)`},
	{`* | uniq a, b with hits limit 5`, `* | uniq by (a, b) with hits limit 5`},
	{`* | top 3 by (a)`, `* | top 3 by (a)`},
	{`* | top (a, b) hits as n`, `* | top 10 by (a, b) hits as n`},
	{`* | top by (hits)`, `* | top 10 by ("hits") hits as hitss`},
	{`* | filter a:b`, `* | filter a:b`},
	{`* | where a:b or c`, `* | filter a:b or c`},
	{`* | a:b`, `* | filter a:b`},
	{`* | n:> 1_000`, `* | filter n:>1000`},
	{`* | unpack_json`, `* | unpack_json`},
	{`* | unpack_json from f fields (a, b*) result_prefix "p_" keep_original_fields skip_empty_results`,
		`* | unpack_json from f fields (a, b*) result_prefix p_ keep_original_fields skip_empty_results`},
	{`* | unpack_json if (x:"") from _msg`, `* | unpack_json if (x:"")`},
	{`* | extract "ip=<ip> "`, `* | extract "ip=<ip> "`},
	{`* | extract if (a) 'x=<x>' from f skip_empty_results`, `* | extract if (a) "x=<x>" from f skip_empty_results`},
	{`* | stream_context before 2 after 3`, `* | stream_context before 2 after 3`},
	{`* | stream_context after 3 time_window 1h`, `* | stream_context before 0 after 3 time_window 1h`},
	{`* | FIELDS a | SORT BY (a DESC) | LIMIT 1`, `* | fields a | sort by (a desc) | limit 1`},
}

func TestParseCanonical(t *testing.T) {
	for _, tc := range canonicalCases {
		q, err := Parse(tc.in, testNow)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := q.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
			continue
		}
		q2, err := Parse(q.String(), testNow)
		if err != nil {
			t.Errorf("re-Parse(%q): %v", q.String(), err)
			continue
		}
		if !reflect.DeepEqual(q, q2) {
			t.Errorf("re-Parse(%q) differs: %#v vs %#v", q.String(), q.Filter, q2.Filter)
		}
	}
	t.Logf("%d canonical cases", len(canonicalCases))
}

// TestParseAST checks the structure and resolved values of filters.
func TestParseAST(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		in   string
		want Filter
	}{
		{`a b OR c`, &FilterOr{Filters: []Filter{
			&FilterAnd{Filters: []Filter{&FilterWord{"_msg", "a"}, &FilterWord{"_msg", "b"}}},
			&FilterWord{"_msg", "c"}}}},
		{`NOT a OR b`, &FilterOr{Filters: []Filter{&FilterNot{&FilterWord{"_msg", "a"}}, &FilterWord{"_msg", "b"}}}},
		{`NOT (a OR b)`, &FilterNot{&FilterOr{Filters: []Filter{&FilterWord{"_msg", "a"}, &FilterWord{"_msg", "b"}}}}},
		{`a -b c`, &FilterAnd{Filters: []Filter{&FilterWord{"_msg", "a"}, &FilterNot{&FilterWord{"_msg", "b"}}, &FilterWord{"_msg", "c"}}}},
		{`f:(a OR "b c")`, &FilterOr{Filters: []Filter{&FilterWord{"f", "a"}, &FilterPhrase{"f", "b c"}}}},
		{`x:>5`, &FilterRange{Field: "x", Min: 5, Max: inf}},
		{`x:>=5`, &FilterRange{Field: "x", Min: 5, Max: inf, IncludeMin: true}},
		{`x:<=5`, &FilterRange{Field: "x", Min: -inf, Max: 5, IncludeMax: true}},
		{`x:range[1, 2)`, &FilterRange{Field: "x", Min: 1, Max: 2, IncludeMin: true}},
		{`x:<"b"`, &FilterStringRange{Field: "x", Op: "<", Value: "b"}},
		{`foo-bar*`, &FilterPrefix{"_msg", "foo-bar"}},
		{`"a.b"`, &FilterPhrase{"_msg", "a.b"}},
		{`a.b`, &FilterPhrase{"_msg", "a.b"}},
		{`_time:5m`, &FilterTime{Min: testNow.UnixNano() - 5*60e9 + 1, Max: testNow.UnixNano(), repr: "5m"}},
		{`_time:2026-01-01`, &FilterTime{Min: testNow.Add(-10 * time.Minute).UnixNano(),
			Max: testNow.Add(-10*time.Minute).UnixNano() + 86400e9 - 1, repr: "2026-01-01"}},
		{`_time:[2026-01-01T00:00:00Z, 2026-01-01T00:00:01Z)`, &FilterTime{Min: 1767225600e9, Max: 1767225601e9 - 1,
			repr: "[2026-01-01T00:00:00Z, 2026-01-01T00:00:01Z)"}},
		{`_time:[2026-01-01T00:00:00Z, 2026-01-01T00:00:01Z]`, &FilterTime{Min: 1767225600e9, Max: 1767225602e9 - 1,
			repr: "[2026-01-01T00:00:00Z, 2026-01-01T00:00:01Z]"}},
		{`_time:>1h`, &FilterTime{Min: math.MinInt64, Max: testNow.UnixNano() - 3600e9 - 1, repr: ">1h"}},
	}
	for _, tc := range cases {
		q := mustParse(t, tc.in)
		if !reflect.DeepEqual(q.Filter, tc.want) {
			t.Errorf("Parse(%q).Filter = %#v, want %#v", tc.in, q.Filter, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in  string
		pos int
		sub string
	}{
		{`"abc`, 0, "unbalanced"},
		{`foo 'abc`, 4, "unbalanced"},
		{`foo(bar)`, 3, "missing whitespace"},
		{`(foo`, 4, `missing ")"`},
		{`foo)`, 3, "unbalanced ')'"},
		{`foo | bar(`, 6, "unknown pipe"},
		{`* | unknown_pipe(1)`, 4, `unknown pipe "unknown_pipe"`},
		{`x:~"[a-"`, 3, "invalid regexp"},
		{`x:~"a{5000}"`, 3, "invalid regexp"},
		{`* | stats count() n, count() n`, 21, "used twice"},
		{`_time:[2026-13-01, now]`, 7, "cannot parse time"},
		{``, 0, "missing filter"},
		{`a | `, 4, "missing pipe"},
		{`{a="b",}`, 7, "missing label name"},
	}
	for _, tc := range cases {
		_, err := Parse(tc.in, testNow)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want a *ParseError", tc.in, err)
			continue
		}
		if pe.Pos != tc.pos || !strings.Contains(pe.Msg, tc.sub) {
			t.Errorf("Parse(%q): pos %d %q, want pos %d containing %q", tc.in, pe.Pos, pe.Msg, tc.pos, tc.sub)
		}
		if !strings.Contains(err.Error(), "position ") {
			t.Errorf("Parse(%q): error %q does not name the position", tc.in, err)
		}
	}
}

// TestParseHostile: deep nesting and huge inputs fail cleanly.
func TestParseHostile(t *testing.T) {
	for _, s := range []string{
		strings.Repeat("(", 10000) + "a" + strings.Repeat(")", 10000),
		strings.Repeat("NOT ", 10000) + "a",
		strings.Repeat("!", 10000) + "a",
		strings.Repeat("-", 10000) + "a",
		strings.Repeat(":", 10000) + "a",
		"* | stats count() if (" + strings.Repeat("(", 10000) + "a" + strings.Repeat(")", 10001),
		strings.Repeat("a:(", 10000) + "b" + strings.Repeat(")", 10000),
	} {
		_, err := Parse(s, testNow)
		if err == nil || !strings.Contains(err.Error(), "nesting is deeper than 200") {
			t.Errorf("Parse(%.20q...) = %v, want a nesting error", s, err)
		}
	}
	// 200 levels are fine.
	mustParse(t, strings.Repeat("(", 150)+"a"+strings.Repeat(")", 150))

	huge := "~\"" + strings.Repeat("a", maxRegexpLen+1) + "\""
	if _, err := Parse(huge, testNow); err == nil || !strings.Contains(err.Error(), "limit is") {
		t.Errorf("huge regexp: %v", err)
	}
	if _, err := Parse(`~"(a{1000}){1000}"`, testNow); err == nil {
		t.Errorf("exploding regexp accepted")
	}
	long := strings.Repeat("a ", maxQueryLen)
	if _, err := Parse(long, testNow); err == nil || !strings.Contains(err.Error(), "bytes long") {
		t.Errorf("huge query: %v", err)
	}
	// Times beyond the int64 range saturate instead of wrapping.
	f := mustParse(t, `_time:[now-280y, now+280y]`).Filter.(*FilterTime)
	if f.Min >= testNow.UnixNano() || f.Max != math.MaxInt64-1 {
		t.Errorf("saturated bounds: %d %d", f.Min, f.Max)
	}
	if _, err := Parse(`_time:1000y`, testNow); err == nil {
		t.Errorf("_time:1000y accepted")
	}
	// Many flat alternatives are not nesting.
	mustParse(t, strings.TrimSuffix(strings.Repeat("a OR ", 5000), " OR "))
}

func TestParseNow(t *testing.T) {
	q := mustParse(t, `_time:5m`)
	if !q.Now.Equal(testNow) {
		t.Fatalf("Now = %v", q.Now)
	}
	lo, hi := TimeBounds(q.Filter)
	if hi != testNow.UnixNano() || lo != testNow.UnixNano()-300e9+1 {
		t.Fatalf("bounds %d %d", lo, hi)
	}
}

// TestFilterTimeString: hand-built time filters print forms that parse
// back to the same bounds.
func TestFilterTimeString(t *testing.T) {
	for _, b := range [][2]int64{
		{math.MinInt64, math.MaxInt64}, {math.MinInt64, 1767225600e9}, {1767225600e9, math.MaxInt64},
		{1767225600e9, 1767225600e9 + 123e6 - 1}, {5, 6}, {1767225600e9 + 123e6, 1767225601e9 - 1},
	} {
		f := NewFilterTime(b[0], b[1])
		g := mustParse(t, f.String()).Filter.(*FilterTime)
		if g.Min != b[0] || g.Max != b[1] {
			t.Errorf("%s parses to [%d, %d], want %v", f, g.Min, g.Max, b)
		}
	}
}
