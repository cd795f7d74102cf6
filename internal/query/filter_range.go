package query

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
)

// maxRegexpLen caps the source length of a regexp in a query; RE2 bounds
// the rest (repeat counts, program size), and matching is linear time.
const maxRegexpLen = 16 << 10

// FilterRegexp is `field:~"re"` (also `re("re")`): the value contains a
// match of the RE2 expression Expr (unanchored, like LogsQL). Build it
// with NewFilterRegexp.
type FilterRegexp struct {
	Field string
	Expr  string
	re    *regexp.Regexp
}

// NewFilterRegexp compiles expr for field.
func NewFilterRegexp(field, expr string) (*FilterRegexp, error) {
	if len(expr) > maxRegexpLen {
		return nil, fmt.Errorf("regexp is %d bytes long; the limit is %d", len(expr), maxRegexpLen)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid regexp %q: %w", truncate(expr, 64), err)
	}
	return &FilterRegexp{Field: field, Expr: expr, re: re}, nil
}

// Regexp returns the compiled expression.
func (f *FilterRegexp) Regexp() *regexp.Regexp { return f.re }

func (f *FilterRegexp) Match(r *Row) bool { return f.re.MatchString(r.Get(f.Field)) }

func (f *FilterRegexp) String() string { return fieldPrefix(f.Field) + "~" + strconv.Quote(f.Expr) }

// FilterRange is a numeric range: `field:>N`, `>=`, `<`, `<=` and
// `field:range(a, b]` with inclusive '[' ']' or exclusive '(' ')' bounds.
// The value must be a whole LogsQL number (see parseNumber: decimals,
// short suffixes such as 10KiB, durations in nanoseconds); other values,
// and missing fields, do not match.
type FilterRange struct {
	Field                  string
	Min, Max               float64
	IncludeMin, IncludeMax bool
}

func (f *FilterRange) Match(r *Row) bool {
	v, ok := parseNumber(r.Get(f.Field))
	if !ok || math.IsNaN(v) {
		return false
	}
	return f.contains(v)
}

func (f *FilterRange) contains(v float64) bool {
	if v < f.Min || v == f.Min && !f.IncludeMin {
		return false
	}
	return v < f.Max || v == f.Max && f.IncludeMax
}

func (f *FilterRange) String() string {
	p := fieldPrefix(f.Field)
	switch {
	case math.IsInf(f.Max, 1) && !f.IncludeMax && !math.IsInf(f.Min, 0):
		return p + cmpOp(">", f.IncludeMin) + formatNumberArg(f.Min)
	case math.IsInf(f.Min, -1) && !f.IncludeMin && !math.IsInf(f.Max, 0):
		return p + cmpOp("<", f.IncludeMax) + formatNumberArg(f.Max)
	}
	open, closing := "(", ")"
	if f.IncludeMin {
		open = "["
	}
	if f.IncludeMax {
		closing = "]"
	}
	return p + "range" + open + formatNumberArg(f.Min) + ", " + formatNumberArg(f.Max) + closing
}

func cmpOp(op string, inclusive bool) string {
	if inclusive {
		return op + "="
	}
	return op
}

// FilterStringRange is `field:>"text"` (and >=, <, <=) with a non-numeric
// argument: the value compares to Value byte-wise; a missing field is the
// empty string, as in VictoriaLogs.
type FilterStringRange struct {
	Field string
	// Op is one of ">", ">=", "<", "<=".
	Op    string
	Value string
}

func (f *FilterStringRange) Match(r *Row) bool {
	v := r.Get(f.Field)
	switch f.Op {
	case ">":
		return v > f.Value
	case ">=":
		return v >= f.Value
	case "<":
		return v < f.Value
	case "<=":
		return v <= f.Value
	}
	return false
}

func (f *FilterStringRange) String() string {
	return fieldPrefix(f.Field) + f.Op + quoteIfNeeded(f.Value)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
