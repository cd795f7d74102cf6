package query

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/logbucket/logbucket/internal/model"
)

// FilterTime is a `_time` filter: `_time:5m`, `_time:>1h`,
// `_time:[2026-01-01T00:00:00Z, 2026-01-02T00:00:00Z)`, `_time:2026-01-01`,
// optionally followed by `offset DURATION`. Parse resolves it against the
// query's Now into the inclusive nanosecond bounds Min..Max; math.MinInt64
// and math.MaxInt64 mean unbounded.
type FilterTime struct {
	Min, Max int64
	// repr is the text after `_time:` as written (canonicalised); String
	// falls back to absolute bounds when it is empty.
	repr string
}

// NewFilterTime returns the filter for the inclusive range [min, max].
func NewFilterTime(min, max int64) *FilterTime { return &FilterTime{Min: min, Max: max} }

func (f *FilterTime) Match(r *Row) bool {
	t, ok := rowTime(r)
	return ok && t >= f.Min && t <= f.Max
}

func (f *FilterTime) String() string {
	if f.repr != "" {
		return "_time:" + f.repr
	}
	// Forms that parse back to exactly Min..Max whatever the precision.
	switch {
	case f.Max == math.MaxInt64:
		return "_time:>=" + FormatTime(f.Min)
	case f.Min == math.MinInt64:
		return "_time:<" + FormatTime(f.Max+1)
	}
	return "_time:[" + FormatTime(f.Min) + ", " + FormatTime(f.Max+1) + ")"
}

// StreamMatcher is one label condition of a stream filter.
type StreamMatcher struct {
	Label string
	// Op is "=", "!=", "=~" or "!~". `in (...)` and `not_in (...)` are
	// parsed into "=~" and "!~" over the quoted alternatives.
	Op    string
	Value string
	re    *regexp.Regexp // anchored Value for =~ and !~
}

// NewStreamMatcher validates op and compiles the regexp of =~ and !~, which
// must match the whole label value (Prometheus semantics).
func NewStreamMatcher(label, op, value string) (StreamMatcher, error) {
	m := StreamMatcher{Label: label, Op: op, Value: value}
	switch op {
	case "=", "!=":
	case "=~", "!~":
		if len(value) > maxRegexpLen {
			return m, &regexpLenError{n: len(value)}
		}
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return m, err
		}
		m.re = re
	default:
		return m, &opError{op: op}
	}
	return m, nil
}

type regexpLenError struct{ n int }

func (e *regexpLenError) Error() string {
	return "regexp is " + strconv.Itoa(e.n) + " bytes long; the limit is " + strconv.Itoa(maxRegexpLen)
}

type opError struct{ op string }

func (e *opError) Error() string { return "unsupported stream filter operation " + strconv.Quote(e.op) }

// Match applies the matcher to the label's value ("" when absent).
func (m *StreamMatcher) Match(v string) bool {
	switch m.Op {
	case "=":
		return v == m.Value
	case "!=":
		return v != m.Value
	case "=~":
		return m.re.MatchString(v)
	case "!~":
		return !m.re.MatchString(v)
	}
	return false
}

func (m *StreamMatcher) String() string {
	return quoteIfNeeded(m.Label) + m.Op + strconv.Quote(m.Value)
}

// FilterStream is a stream filter, `{service="api", host=~"h.*"}` or
// `_stream:{...}`, with `or` between groups: `{a="1" or b="2"}`. A row
// matches when, for some group, every matcher matches the label values of
// the row's `_stream` field (an absent label is ""). `{}` matches all rows.
type FilterStream struct {
	// Or holds the alternatives; each is a conjunction of matchers.
	Or [][]StreamMatcher
}

func (f *FilterStream) Match(r *Row) bool {
	return f.matchStream(r.Get("_stream"))
}

// MatchLabels applies the filter to a stream's labels (any order); a
// storage engine can decide once per stream.
func (f *FilterStream) MatchLabels(labels []model.Field) bool {
	return f.match(func(name string) string {
		for _, l := range labels {
			if l.Name == name {
				return l.Value
			}
		}
		return ""
	})
}

func (f *FilterStream) matchStream(stream string) bool {
	return f.match(func(name string) string { return streamLabel(stream, name) })
}

func (f *FilterStream) match(label func(string) string) bool {
	if len(f.Or) == 0 {
		return true
	}
	for _, group := range f.Or {
		ok := true
		for i := range group {
			if !group[i].Match(label(group[i].Label)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (f *FilterStream) String() string {
	groups := make([]string, len(f.Or))
	for i, g := range f.Or {
		parts := make([]string, len(g))
		for j := range g {
			parts[j] = g[j].String()
		}
		groups[i] = strings.Join(parts, ",")
	}
	return "{" + strings.Join(groups, " or ") + "}"
}

// streamLabel returns the value of label name in a `_stream` value of the
// form {a="x",b="y"} (model.StreamString); "" when absent or malformed.
func streamLabel(stream, name string) string {
	if len(stream) < 2 || stream[0] != '{' || stream[len(stream)-1] != '}' {
		return ""
	}
	s := stream[1 : len(stream)-1]
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			return ""
		}
		label := s[:eq]
		q, err := strconv.QuotedPrefix(s[eq+1:])
		if err != nil {
			return ""
		}
		if label == name {
			v, err := strconv.Unquote(q)
			if err != nil {
				return ""
			}
			return v
		}
		s = s[eq+1+len(q):]
		if s != "" {
			if s[0] != ',' {
				return ""
			}
			s = s[1:]
		}
	}
	return ""
}
