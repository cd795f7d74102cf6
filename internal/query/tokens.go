package query

import (
	"math"
	"sort"

	"github.com/logbucket/logbucket/internal/index"
)

// RequiredTokens returns, per field, index terms that every row matching f
// has in that field: whole tokens (index.ForEachToken) and, for Hangul that
// may sit inside a longer token, the grams of index.QueryGrams. It is
// conservative: a row lacking any listed term of any listed field cannot
// match, but rows holding all of them may still not match (Match decides).
//
// Covered: FilterWord, FilterPhrase, FilterPrefix, FilterExact,
// FilterExactPrefix, FilterIn (terms common to all values), FilterAnd
// (union) and FilterOr (terms every branch requires). Everything else,
// including FilterNot, i(), regexps and ranges, requires nothing. The
// lists are sorted and free of duplicates; fields without terms are
// absent; the result is nil when nothing is required.
func RequiredTokens(f Filter) map[string][]string {
	req := requiredTerms(f)
	if len(req) == 0 {
		return nil
	}
	out := make(map[string][]string, len(req))
	for field, set := range req {
		list := make([]string, 0, len(set))
		for t := range set {
			list = append(list, t)
		}
		sort.Strings(list)
		out[field] = list
	}
	return out
}

type termSet map[string]map[string]bool

func (ts termSet) add(field string, terms ...string) {
	if len(terms) == 0 {
		return
	}
	if ts[field] == nil {
		ts[field] = map[string]bool{}
	}
	for _, t := range terms {
		ts[field][t] = true
	}
}

func requiredTerms(f Filter) termSet {
	ts := termSet{}
	switch t := f.(type) {
	case *FilterWord:
		ts.add(t.Field, phraseTerms(t.Word, false)...)
	case *FilterPhrase:
		ts.add(t.Field, phraseTerms(t.Phrase, false)...)
	case *FilterPrefix:
		ts.add(t.Field, phraseTerms(t.Prefix, true)...)
	case *FilterExact:
		ts.add(t.Field, index.Tokens(t.Value)...)
	case *FilterExactPrefix:
		ts.add(t.Field, exactPrefixTerms(t.Prefix)...)
	case *FilterIn:
		return inTerms(t)
	case *FilterAnd:
		for _, sub := range t.Filters {
			for field, set := range requiredTerms(sub) {
				for term := range set {
					ts.add(field, term)
				}
			}
		}
	case *FilterOr:
		return orTerms(t.Filters)
	}
	return ts
}

// phraseTerms lists the terms a value matching the phrase or prefix p
// must hold: whole tokens, except edge tokens that may be part of a longer
// token (Hangul edges, the last token of a prefix), which contribute their
// Hangul grams only.
func phraseTerms(p string, prefix bool) []string {
	toks := index.Tokens(p)
	e := phraseEdges(p)
	var out []string
	for i, tok := range toks {
		first := i == 0 && e.startsTok
		last := i == len(toks)-1 && e.endsTok
		partial := first && e.relaxStart || last && (e.relaxEnd || prefix)
		if !partial {
			out = append(out, tok)
			continue
		}
		out = append(out, index.QueryGrams(tok)...)
	}
	return out
}

// exactPrefixTerms: the value starts with p, so p's tokens are whole
// except the last one when p ends inside a token.
func exactPrefixTerms(p string) []string {
	toks := index.Tokens(p)
	if len(toks) > 0 && phraseEdges(p).endsTok {
		last := toks[len(toks)-1]
		toks = append(toks[:len(toks)-1], index.QueryGrams(last)...)
	}
	return toks
}

func inTerms(f *FilterIn) termSet {
	branches := make([]Filter, len(f.Values))
	for i, v := range f.Values {
		branches[i] = &FilterExact{Field: f.Field, Value: v}
	}
	return orTerms(branches)
}

// orTerms keeps the terms every branch requires.
func orTerms(branches []Filter) termSet {
	if len(branches) == 0 {
		return termSet{}
	}
	common := requiredTerms(branches[0])
	for _, b := range branches[1:] {
		next := requiredTerms(b)
		for field, set := range common {
			other := next[field]
			for term := range set {
				if !other[term] {
					delete(set, term)
				}
			}
			if len(set) == 0 {
				delete(common, field)
			}
		}
	}
	return common
}

// TimeBounds returns inclusive bounds on the `_time` of rows matching f,
// from its FilterTime parts (math.MinInt64 / math.MaxInt64 when
// unbounded). Rows outside cannot match; a storage engine can skip them.
func TimeBounds(f Filter) (minT, maxT int64) {
	switch t := f.(type) {
	case *FilterTime:
		return t.Min, t.Max
	case *FilterAnd:
		minT, maxT = math.MinInt64, math.MaxInt64
		for _, sub := range t.Filters {
			lo, hi := TimeBounds(sub)
			minT, maxT = max(minT, lo), min(maxT, hi)
		}
		return minT, maxT
	case *FilterOr:
		minT, maxT = math.MaxInt64, math.MinInt64
		for _, sub := range t.Filters {
			lo, hi := TimeBounds(sub)
			minT, maxT = min(minT, lo), max(maxT, hi)
		}
		return minT, maxT
	}
	return math.MinInt64, math.MaxInt64
}
