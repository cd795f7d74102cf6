package query

import (
	"strconv"

	"github.com/logbucket/logbucket/internal/model"
)

// A storage engine can count the rows of each group itself, column by
// column, without building rows, when a query's first pipe is a stats pipe
// whose every function is a plain count(). CountStats gives it the pipe's
// grouping semantics and turns its counts into exactly the rows the stats
// pipe would have produced, so that the rest of the query runs unchanged
// on them (see NewCountStats).

// CountStats accumulates the groups of a count-only stats pipe from
// pre-counted rows. It is not safe for concurrent use.
type CountStats struct {
	p      *PipeStats
	budget budget
	what   string
	groups map[string]*hitsGroup
	order  []*hitsGroup
	buf    []byte
}

// NewCountStats returns an accumulator for p when every function of p is
// `count()` without fields and condition and every by-field can be
// computed per row with StatsBy.Value; ok is false otherwise. lim bounds
// the memory of the groups, as for the stats pipe.
func NewCountStats(p *PipeStats, lim Limits) (cs *CountStats, ok bool) {
	if len(p.Funcs) == 0 {
		return nil, false
	}
	for _, f := range p.Funcs {
		c, isCount := f.Func.(*StatsCount)
		if !isCount || len(c.Fields) > 0 || f.If != nil {
			return nil, false
		}
	}
	limit := lim.MaxMemoryBytes
	if limit <= 0 {
		limit = DefaultMaxMemoryBytes
	}
	return &CountStats{p: p, budget: budget{limit: limit}, what: p.describe(), groups: map[string]*hitsGroup{}}, true
}

// By returns the pipe's grouping fields.
func (cs *CountStats) By() []StatsBy { return cs.p.By }

// Add adds n rows to the group of values (one per by-field, as
// StatsBy.Value gives them). Groups keep the order of their first Add,
// which must follow the order in which the rows would have reached the
// stats pipe. It fails with an ErrLimit error when the groups outgrow the
// memory limit.
func (cs *CountStats) Add(values []string, n uint64) error {
	cs.buf = groupKey(cs.buf[:0], values)
	g := cs.groups[string(cs.buf)]
	if g == nil {
		g = &hitsGroup{values: append([]string(nil), values...)}
		cs.groups[string(cs.buf)] = g
		cs.order = append(cs.order, g)
		if err := cs.budget.grow(int64(128+2*len(cs.buf)+64*len(cs.p.Funcs)), cs.what); err != nil {
			return err
		}
	}
	g.hits += n
	return nil
}

// MemoryError is the error of a stats pipe whose groups outgrow the
// memory limit, for engines that count groups themselves before Add.
func (cs *CountStats) MemoryError() error { return memoryLimitError(cs.budget.limit, cs.what) }

// Rows returns the stats pipe's output: one row per group in first-seen
// order (exactly one row without by-fields, even with no input), with the
// by-fields and each function's count.
func (cs *CountStats) Rows() []Row {
	if len(cs.order) == 0 && len(cs.p.By) == 0 {
		cs.order = append(cs.order, &hitsGroup{})
	}
	rows := make([]Row, 0, len(cs.order))
	for _, g := range cs.order {
		fields := make([]model.Field, 0, len(cs.p.By)+len(cs.p.Funcs))
		for i := range cs.p.By {
			fields = append(fields, model.Field{Name: cs.p.By[i].Field, Value: g.values[i]})
		}
		n := strconv.FormatUint(g.hits, 10)
		for i := range cs.p.Funcs {
			fields = append(fields, model.Field{Name: cs.p.Funcs[i].Name, Value: n})
		}
		rows = append(rows, Row{Fields: fields, NoTime: true})
	}
	return rows
}

// Value returns the group value of r for this by-field.
func (b *StatsBy) Value(r *Row) string { return b.value(r) }

// TimeBucket reports whether this by-field buckets the row time
// (`_time:STEP`), and then returns the start of t's bucket and the fixed
// bucket step in ns (0 for calendar steps: month, year). The group value
// of a row at time t is FormatTime(start).
func (b *StatsBy) TimeBucket(t int64) (start, step int64, ok bool) {
	if b.Field != "_time" || b.Bucket == "" {
		return 0, 0, false
	}
	start = truncTime(t, int64(b.step), int64(b.offset), b.Bucket)
	if b.Bucket != "month" && b.Bucket != "year" {
		step = max(int64(b.step), 1)
	}
	return start, step, true
}
