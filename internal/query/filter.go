package query

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/logbucket/logbucket/internal/index"
)

// Filter decides whether a row matches. Implementations are the exported
// Filter* types of this package; their fields are exported so that a
// storage engine can type-switch on them and prune by time, stream and
// tokens before calling Match on the rows it could not rule out.
//
// Match must not modify the row. All filters are immutable after Parse and
// safe for concurrent use. String returns the canonical LogsQL text.
type Filter interface {
	Match(r *Row) bool
	String() string
}

// FilterAny is `*`: every row.
type FilterAny struct{}

func (*FilterAny) Match(*Row) bool { return true }
func (*FilterAny) String() string  { return "*" }

// FilterAnd matches rows that match every filter: `a AND b`, `a b`.
type FilterAnd struct{ Filters []Filter }

func (f *FilterAnd) Match(r *Row) bool {
	for _, sub := range f.Filters {
		if !sub.Match(r) {
			return false
		}
	}
	return true
}

func (f *FilterAnd) String() string {
	parts := make([]string, len(f.Filters))
	for i, sub := range f.Filters {
		s := sub.String()
		if _, ok := sub.(*FilterOr); ok {
			s = "(" + s + ")"
		}
		parts[i] = s
	}
	return strings.Join(parts, " ")
}

// FilterOr matches rows that match at least one filter: `a OR b`.
type FilterOr struct{ Filters []Filter }

func (f *FilterOr) Match(r *Row) bool {
	for _, sub := range f.Filters {
		if sub.Match(r) {
			return true
		}
	}
	return false
}

func (f *FilterOr) String() string {
	parts := make([]string, len(f.Filters))
	for i, sub := range f.Filters {
		parts[i] = sub.String()
	}
	return strings.Join(parts, " or ")
}

// FilterNot matches rows the inner filter does not match: `NOT a`, `-a`,
// `!a`; also `field:!=v` and `field:!~re`.
type FilterNot struct{ Filter Filter }

func (f *FilterNot) Match(r *Row) bool { return !f.Filter.Match(r) }

func (f *FilterNot) String() string {
	s := f.Filter.String()
	switch f.Filter.(type) {
	case *FilterAnd, *FilterOr, *FilterNot:
		s = "(" + s + ")"
	}
	return "!" + s
}

// fieldPrefix renders the `field:` prefix of a field filter; `_msg` is the
// default field and has none.
func fieldPrefix(field string) string {
	if field == "_msg" {
		return ""
	}
	return quoteIfNeeded(field) + ":"
}

// reservedWords are never printed bare, so that String output re-parses
// to the same query whatever the context: keywords, function and pipe
// names, stats function names and pipe options.
var reservedWords = func() map[string]bool {
	words := strings.Fields(`and or not by as if in i exact re range seq contains_all
	contains_any eq_field le_field lt_field len_range ipv4_range string_range value_type
	options now offset desc asc limit hits with from fields partition rank before after
	time_window keep_original_fields skip_empty_results result_prefix day_range week_range
	block_stats blocks_count collapse_nums copy cp decolorize delete del rm drop
	drop_empty_fields extract extract_regexp facets field_names field_values keep filter
	where first format join json_array_len hash last len head math eval skip pack_json
	pack_logfmt rename mv replace replace_regexp sample sort order stats stats_remote
	stream_context top union uniq unpack_json unpack_logfmt unpack_syslog unpack_words
	unroll count count_empty count_uniq count_uniq_hash sum avg min max median quantile
	histogram json_values rate rate_sum row_any row_max row_min sum_len uniq_values values inf nan`)
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}()

// isBare reports whether s can be written without quotes: a non-empty run
// of token runes and dots that is not a reserved word.
func isBare(s string) bool {
	if s == "" || reservedWords[strings.ToLower(s)] {
		return false
	}
	for _, r := range s {
		if r != '.' && (r == utf8.RuneError || !index.IsTokenRune(r)) {
			return false
		}
	}
	return true
}

// quoteIfNeeded returns s bare when that is unambiguous, else quoted.
func quoteIfNeeded(s string) string {
	if isBare(s) {
		return s
	}
	return strconv.Quote(s)
}

// isSingleToken reports whether s is exactly one token.
func isSingleToken(s string) bool {
	n := 0
	whole := false
	index.ForEachToken(s, func(tok string) {
		n++
		whole = len(tok) == len(s)
	})
	return n == 1 && whole
}
