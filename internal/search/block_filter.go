package search

import (
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// blockFilter evaluates a query filter over a whole block, leaf by leaf on
// the one column each leaf reads: a dictionary, constant or stream-field
// column is tested once per distinct value, other columns once per row on
// a one-field row. The result is a row mask, so full rows are built only
// for matches. It returns ok=false for a filter it cannot evaluate this
// way (the caller then matches full rows).
type blockFilter struct {
	blk    *storage.Block
	stream string
	n      int
}

// evalBlock clears in mask (one entry per row of blk, set for rows still
// in question) the rows that do not match f.
func evalBlock(f query.Filter, blk *storage.Block, stream string, mask []bool) (ok bool) {
	bf := &blockFilter{blk: blk, stream: stream, n: blk.Len()}
	return bf.and(f, mask)
}

// and clears in mask the rows that do not match f (only rows still set
// are evaluated). It reports false for an unsupported filter.
func (bf *blockFilter) and(f query.Filter, mask []bool) bool {
	switch t := f.(type) {
	case *query.FilterAny:
		return true
	case *query.FilterAnd:
		for _, c := range t.Filters {
			if !bf.and(c, mask) {
				return false
			}
		}
		return true
	case *query.FilterOr:
		union := make([]bool, bf.n)
		for _, c := range t.Filters {
			sub := make([]bool, bf.n)
			for i := range sub {
				sub[i] = mask[i] && !union[i]
			}
			if !bf.and(c, sub) {
				return false
			}
			for i, v := range sub {
				union[i] = union[i] || v
			}
		}
		copy(mask, union)
		return true
	case *query.FilterNot:
		sub := append([]bool(nil), mask...)
		if !bf.and(t.Filter, sub) {
			return false
		}
		for i := range mask {
			mask[i] = mask[i] && !sub[i]
		}
		return true
	case *query.FilterTime:
		for i := range mask {
			if mask[i] {
				row := query.Row{Time: bf.blk.Time(i)}
				mask[i] = t.Match(&row)
			}
		}
		return true
	case *query.FilterStream:
		row := query.Row{Fields: []model.Field{{Name: "_stream", Value: bf.stream}}}
		if !t.Match(&row) {
			clear(mask)
		}
		return true
	}
	field, ok := leafField(f)
	if !ok || field == "_time" {
		return false
	}
	bf.leaf(f, field, mask)
	return true
}

// leafField returns the one field a leaf filter reads.
func leafField(f query.Filter) (string, bool) {
	switch t := f.(type) {
	case *query.FilterWord:
		return t.Field, true
	case *query.FilterPhrase:
		return t.Field, true
	case *query.FilterPrefix:
		return t.Field, true
	case *query.FilterAnyCasePhrase:
		return t.Field, true
	case *query.FilterAnyCasePrefix:
		return t.Field, true
	case *query.FilterExists:
		return t.Field, true
	case *query.FilterExact:
		return t.Field, true
	case *query.FilterExactPrefix:
		return t.Field, true
	case *query.FilterIn:
		return t.Field, true
	case *query.FilterRegexp:
		return t.Field, true
	case *query.FilterRange:
		return t.Field, true
	case *query.FilterStringRange:
		return t.Field, true
	}
	return "", false
}

// leaf evaluates a one-field filter on the rows still set in mask.
func (bf *blockFilter) leaf(f query.Filter, field string, mask []bool) {
	one := func(v string) bool {
		row := query.Row{}
		if v != "" {
			row.Fields = []model.Field{{Name: field, Value: v}}
		}
		return f.Match(&row)
	}
	if v, isConst := bf.constValue(field); isConst {
		if !one(v) {
			clear(mask)
		}
		return
	}
	col := bf.blk.Column(field)
	if hv, isHex := col.Hex(); isHex && exactHex(f, hv, mask) {
		return
	}
	if pat, isPattern := col.Pattern(); isPattern {
		if t, exact := exactTemplateWord(f); exact {
			clearByTemplate(pat, []templateTerm{t}, mask)
			return
		}
		if terms := requiredTemplateTerms(f, field); len(terms) > 0 {
			clearByTemplate(pat, terms, mask)
		}
	}
	if vals, idx, isDict := col.Dict(); isDict && idx != nil && len(vals) <= 256 {
		// Decide each dictionary value once, then every row by its code.
		var keep [256]byte
		for k, v := range vals {
			if one(v) {
				keep[k] = 1
			}
		}
		keepCodes(mask, idx, &keep)
		return
	}
	for i := range mask {
		if mask[i] {
			mask[i] = one(col.ValueAt(i))
		}
	}
}

// constValue returns the value of a field every row of the block shares:
// _stream, _stream_id, a stream field, a constant column, or a column the
// block lacks.
func (bf *blockFilter) constValue(field string) (string, bool) {
	return constValue(bf.blk, bf.stream, field)
}

// constValue returns the value of a field every row of blk shares (see
// blockFilter.constValue); stream is the block's `_stream`.
func constValue(blk *storage.Block, stream, field string) (string, bool) {
	if field == "_stream" {
		return stream, true
	}
	meta := blk.Meta()
	if v, ok := streamValue(meta, field); ok {
		return v, true
	}
	col := blk.Column(field)
	if col == nil {
		return "", true
	}
	if vals, idx, isDict := col.Dict(); isDict && idx == nil && len(vals) == 1 {
		return vals[0], true
	}
	return "", false
}
