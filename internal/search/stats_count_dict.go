package search

import (
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// countFromMeta counts a block's matching rows from its metadata and, at
// most, one dictionary column's per-value row counts
// (storage.Part.DictCounts), without reading its rows, when the query
// allows: every by-field is the same for all the block's rows (a stream
// field, or a field the block lacks), and the filter is a conjunction of
// time ranges the block lies wholly inside (or outside) of and leaves all
// but one of which are decided by such fields, the last one reading a
// counted dictionary column. `level:error | stats by (service)
// count()` is the common case. ok is false when the block needs its rows.
func (c *countSource) countFromMeta(t *blockTask, sc *countScratch) (ok bool, err error) {
	meta := &t.part.Blocks()[t.idx]
	key := sc.key[:0]
	for i := range c.by {
		by := &c.by[i]
		if by.Bucket != "" || isSpecialField(by.Field) {
			return false, nil
		}
		v, isConst := metaConstValue(meta, by.Field)
		if !isConst {
			return false, nil
		}
		key = appendValueKey(key, v)
	}
	sc.key = key
	var leaf query.Filter
	var leafName string
	decided := true
	if !conjuncts(c.src.filter, func(f query.Filter) bool {
		switch t := f.(type) {
		case *query.FilterAny:
			return true
		case *query.FilterStream:
			// Already true: the pipeline lets through only blocks of the
			// streams a conjunct stream filter accepts (blockPipeline.prune).
			return true
		case *query.FilterTime:
			// Decided when the block lies wholly inside or outside.
			switch {
			case meta.MinTime >= t.Min && meta.MaxTime <= t.Max:
				return true
			case meta.MaxTime < t.Min || meta.MinTime > t.Max:
				decided = false
				return true
			}
			return false
		}
		field, isLeaf := leafField(f)
		if !isLeaf || isSpecialField(field) {
			return false
		}
		if v, isConst := metaConstValue(meta, field); isConst {
			decided = decided && matchValue(f, field, v)
			return true
		}
		if leaf != nil {
			return false // two leaves on row-varying fields
		}
		leaf, leafName = f, field
		return true
	}) {
		return false, nil
	}
	n := uint64(0)
	switch {
	case !decided:
	case leaf == nil:
		n = uint64(meta.Rows)
	default:
		values, counts, isCounted, err := t.part.DictCounts(t.idx, leafName)
		if err != nil || !isCounted {
			return false, err
		}
		for k, v := range values {
			if matchValue(leaf, leafName, v) {
				n += counts[k]
			}
		}
	}
	if n > 0 {
		sc.table.add(sc.key, n, groupPos{t.seq, 0}) // one group per block: the row does not order anything
	}
	return true, c.check(sc.table)
}

// conjuncts calls fn on each conjunct of f (flattening ANDs); false when
// fn refuses one.
func conjuncts(f query.Filter, fn func(query.Filter) bool) bool {
	if and, isAnd := f.(*query.FilterAnd); isAnd {
		for _, c := range and.Filters {
			if !conjuncts(c, fn) {
				return false
			}
		}
		return true
	}
	return fn(f)
}

// isSpecialField reports the fields that are not plain columns.
func isSpecialField(name string) bool {
	return name == "_time" || name == "_stream" || name == storage.MsgField || name == "_stream_id"
}

// metaConstValue returns the value every row of a block has for field
// when the block's metadata tells: `_stream_id`, a stream field, or a
// field it lacks.
func metaConstValue(meta *storage.BlockMeta, field string) (string, bool) {
	if v, ok := streamValue(meta, field); ok {
		return v, true
	}
	if !meta.HasField(field) {
		return "", true
	}
	return "", false
}

// matchValue evaluates a one-field filter on a row holding only v in field.
func matchValue(f query.Filter, field, v string) bool {
	row := query.Row{}
	if v != "" {
		row.Fields = []model.Field{{Name: field, Value: v}}
	}
	return f.Match(&row)
}
