package search

import (
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// neededColumns returns the stored columns a query can read, or nil when
// it may output whole rows (then every column is decoded): the fields its
// filter reads and the ones its pipes read (outputColumns).
func neededColumns(q *query.Query) []string {
	out := outputColumns(q)
	if out == nil {
		return nil
	}
	set := map[string]bool{}
	if !filterFields(q.Filter, set) {
		return nil
	}
	for _, f := range out {
		set[f] = true
	}
	return setList(set)
}

// outputColumns returns the columns the pipes of a query read, or nil
// when they may output whole rows. The pipes are walked from the left:
// the first pipe that replaces the rows' fields (stats, uniq, top, fields)
// ends the walk; every field a pipe before it names is needed. Names a
// pipe creates (rename, unpack) are harmless extras: a column that does
// not exist is simply not read. Rows whose filter was decided on the
// columns (evalBlock) need only these columns.
func outputColumns(q *query.Query) []string {
	set := map[string]bool{}
	for _, p := range q.Pipes {
		closed, ok := pipeFields(p, set)
		if !ok {
			return nil
		}
		if closed {
			return setList(set)
		}
	}
	return nil
}

// readsPositions reports whether a pipe of q reads Row.Pos: only
// stream_context does (it asks the source for a row's neighbours by it).
func readsPositions(q *query.Query) bool {
	for _, p := range q.Pipes {
		if _, ok := p.(*query.PipeStreamContext); ok {
			return true
		}
	}
	return false
}

func setList(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	return out
}

// filterFields adds the fields f reads; false when f is of a kind it
// does not know (then the caller reads everything).
func filterFields(f query.Filter, set map[string]bool) bool {
	switch t := f.(type) {
	case nil, *query.FilterAny, *query.FilterStream:
		return true
	case *query.FilterTime:
		set[storage.TimeField] = true
	case *query.FilterAnd:
		return allFilterFields(t.Filters, set)
	case *query.FilterOr:
		return allFilterFields(t.Filters, set)
	case *query.FilterNot:
		return filterFields(t.Filter, set)
	case *query.FilterWord:
		set[t.Field] = true
	case *query.FilterPhrase:
		set[t.Field] = true
	case *query.FilterPrefix:
		set[t.Field] = true
	case *query.FilterAnyCasePhrase:
		set[t.Field] = true
	case *query.FilterAnyCasePrefix:
		set[t.Field] = true
	case *query.FilterExists:
		set[t.Field] = true
	case *query.FilterExact:
		set[t.Field] = true
	case *query.FilterExactPrefix:
		set[t.Field] = true
	case *query.FilterIn:
		set[t.Field] = true
	case *query.FilterRegexp:
		set[t.Field] = true
	case *query.FilterRange:
		set[t.Field] = true
	case *query.FilterStringRange:
		set[t.Field] = true
	default:
		return false
	}
	return true
}

func allFilterFields(fs []query.Filter, set map[string]bool) bool {
	for _, f := range fs {
		if !filterFields(f, set) {
			return false
		}
	}
	return true
}

// pipeFields adds the fields a pipe reads. closed reports that its output
// holds only fields it computed; ok is false for a pipe it does not know.
func pipeFields(p query.Pipe, set map[string]bool) (closed, ok bool) {
	switch t := p.(type) {
	case *query.PipeStats:
		for _, b := range t.By {
			set[b.Field] = true
		}
		for _, f := range t.Funcs {
			if f.If != nil && !filterFields(f.If, set) {
				return false, false
			}
			fields, known := statsFuncFields(f.Func)
			if !known || len(fields) == 1 && fields[0] == "*" {
				return false, false
			}
			for _, name := range fields {
				set[name] = true
			}
		}
		return true, true
	case *query.PipeUniq:
		addAll(set, t.By)
		return true, true
	case *query.PipeTop:
		addAll(set, t.By)
		return true, true
	case *query.PipeFields:
		addAll(set, t.Fields)
		return true, true
	case *query.PipeFilter:
		return false, filterFields(t.Filter, set)
	case *query.PipeLimit, *query.PipeOffset:
		return false, true
	case *query.PipeSort:
		for _, s := range t.By {
			set[s.Name] = true
		}
		return false, true
	}
	return false, false
}

func addAll(set map[string]bool, names []string) {
	for _, n := range names {
		set[n] = true
	}
}

// statsFuncFields returns the fields a stats function reads.
func statsFuncFields(f query.StatsFunction) ([]string, bool) {
	switch t := f.(type) {
	case *query.StatsCount:
		return t.Fields, true
	case *query.StatsCountEmpty:
		return t.Fields, true
	case *query.StatsCountUniq:
		return t.Fields, true
	case *query.StatsSum:
		return t.Fields, true
	case *query.StatsAvg:
		return t.Fields, true
	case *query.StatsMin:
		return t.Fields, true
	case *query.StatsMax:
		return t.Fields, true
	case *query.StatsQuantile:
		return t.Fields, true
	}
	return nil, false
}
