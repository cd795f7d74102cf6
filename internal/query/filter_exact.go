package query

import (
	"strings"
)

// FilterExists is `field:*`: the field has a non-empty value.
type FilterExists struct{ Field string }

func (f *FilterExists) Match(r *Row) bool { return r.Get(f.Field) != "" }

func (f *FilterExists) String() string {
	if f.Field == "_msg" {
		return "_msg:*"
	}
	return fieldPrefix(f.Field) + "*"
}

// FilterExact is `field:=value`: the whole value equals Value. `field:=""`
// matches an empty or missing field.
type FilterExact struct {
	Field string
	Value string
}

func (f *FilterExact) Match(r *Row) bool { return r.Get(f.Field) == f.Value }

func (f *FilterExact) String() string { return fieldPrefix(f.Field) + "=" + quoteIfNeeded(f.Value) }

// FilterExactPrefix is `field:=prefix*`: the value starts with Prefix.
type FilterExactPrefix struct {
	Field  string
	Prefix string
}

func (f *FilterExactPrefix) Match(r *Row) bool {
	return strings.HasPrefix(r.Get(f.Field), f.Prefix)
}

func (f *FilterExactPrefix) String() string {
	return fieldPrefix(f.Field) + "=" + quoteIfNeeded(f.Prefix) + "*"
}

// FilterIn is `field:in(a, b, "c d")`: the whole value equals one of
// Values. `in()` matches nothing.
type FilterIn struct {
	Field  string
	Values []string
}

func (f *FilterIn) Match(r *Row) bool {
	v := r.Get(f.Field)
	for _, want := range f.Values {
		if v == want {
			return true
		}
	}
	return false
}

func (f *FilterIn) String() string {
	parts := make([]string, len(f.Values))
	for i, v := range f.Values {
		parts[i] = quoteIfNeeded(v)
	}
	return fieldPrefix(f.Field) + "in(" + strings.Join(parts, ", ") + ")"
}
