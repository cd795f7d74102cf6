package query

import (
	"math"
	"strings"
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// StatsBy is one grouping field of stats: a field, optionally bucketed:
// `_time:5m`, `_time:1d offset 2h`, `_time:month`, `size:10KB`.
type StatsBy struct {
	Field string
	// Bucket and Offset are the bucket step and offset as written; "" for
	// none. For `_time` the step is a duration or nanosecond, second,
	// minute, hour, day, week (from Monday), month, year; for other fields
	// a number, and non-numeric values are kept as they are.
	Bucket, Offset string
	step, offset   float64
}

func (b *StatsBy) String() string {
	s := quoteIfNeeded(b.Field)
	if b.Bucket != "" {
		s += ":" + b.Bucket
		if b.Offset != "" {
			s += " offset " + b.Offset
		}
	}
	return s
}

const nsPerDay = 86400e9

var namedSteps = map[string]float64{
	"nanosecond": 1, "microsecond": 1e3, "millisecond": 1e6, "second": 1e9, "minute": 60e9,
	"hour": 3600e9, "day": nsPerDay, "week": 7 * nsPerDay, "month": 0, "year": 0,
}

// value returns the group value of r for this field.
func (b *StatsBy) value(r *Row) string {
	if b.Bucket == "" {
		return r.Get(b.Field)
	}
	if b.Field == "_time" {
		t, ok := rowTime(r)
		if !ok {
			return ""
		}
		return FormatTime(truncTime(t, int64(b.step), int64(b.offset), b.Bucket))
	}
	v := r.Get(b.Field)
	f, ok := parseNumber(v)
	if !ok || math.IsInf(f, 0) || math.IsNaN(f) {
		return v
	}
	return formatFloat(math.Floor((f-b.offset)/b.step)*b.step + b.offset)
}

// truncTime returns the start of t's bucket.
func truncTime(t, step, off int64, unit string) int64 {
	if unit == "week" {
		off += 4 * nsPerDay // 1970-01-01 was a Thursday; weeks start on Monday
	}
	t -= off
	switch unit {
	case "month", "year":
		tm := time.Unix(0, t).UTC()
		month := tm.Month()
		if unit == "year" {
			month = time.January
		}
		t = time.Date(tm.Year(), month, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	default:
		if step <= 0 {
			step = 1
		}
		r := t % step
		if r < 0 {
			r += step
		}
		t -= r
	}
	return t + off
}

// StatsFunc is one `func(...) [if (filter)] [as] name` of a stats pipe.
type StatsFunc struct {
	Func StatsFunction
	// If restricts the rows the function sees; nil for all.
	If   Filter
	Name string
}

func (sf *StatsFunc) defaultName() string {
	s := sf.Func.String()
	if sf.If != nil {
		s += " if (" + sf.If.String() + ")"
	}
	return s
}

// PipeStats is `stats [by (fields)] func() [as] name, ...`: one row per
// group (in first-seen order) with the by-fields and the results, numbers
// formatted as text like VictoriaLogs. Without by-fields there is exactly
// one row, even for no input.
type PipeStats struct {
	By    []StatsBy
	Funcs []StatsFunc
}

func (p *PipeStats) String() string {
	var b strings.Builder
	b.WriteString("stats")
	if len(p.By) > 0 {
		b.WriteString(" by (")
		b.WriteString(p.byString())
		b.WriteString(")")
	}
	for i := range p.Funcs {
		sf := &p.Funcs[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(" " + sf.defaultName())
		if sf.Name != sf.defaultName() {
			b.WriteString(" as " + quoteIfNeeded(sf.Name))
		}
	}
	return b.String()
}

func (p *PipeStats) byString() string {
	parts := make([]string, len(p.By))
	for i := range p.By {
		parts[i] = p.By[i].String()
	}
	return strings.Join(parts, ", ")
}

// describe names the pipe in memory-limit errors: `stats by (user_id)`.
func (p *PipeStats) describe() string {
	if len(p.By) == 0 {
		return "stats"
	}
	return "stats by (" + p.byString() + ")"
}

func (p *PipeStats) newProcessor(ex *exec, next processor, _ []Pipe) (processor, error) {
	return &statsProcessor{p: p, ex: ex, next: next, groups: map[string]*statsGroup{}, what: p.describe()}, nil
}

type statsGroup struct {
	values []string
	states []statsState
}

type statsProcessor struct {
	p      *PipeStats
	ex     *exec
	next   processor
	what   string
	groups map[string]*statsGroup
	order  []*statsGroup
	buf    []byte
	vals   []string
	used   int64
}

func (sp *statsProcessor) newGroup(values []string) *statsGroup {
	g := &statsGroup{values: values, states: make([]statsState, len(sp.p.Funcs))}
	for i := range sp.p.Funcs {
		g.states[i] = sp.p.Funcs[i].Func.newState()
	}
	sp.order = append(sp.order, g)
	return g
}

func (sp *statsProcessor) push(r Row) error {
	sp.vals = sp.vals[:0]
	for i := range sp.p.By {
		sp.vals = append(sp.vals, sp.p.By[i].value(&r))
	}
	sp.buf = groupKey(sp.buf[:0], sp.vals)
	g := sp.groups[string(sp.buf)]
	var grew int64
	if g == nil {
		g = sp.newGroup(append([]string(nil), sp.vals...))
		sp.groups[string(sp.buf)] = g
		grew += int64(128 + 2*len(sp.buf) + 64*len(g.states))
	}
	for i := range sp.p.Funcs {
		if f := sp.p.Funcs[i].If; f != nil && !f.Match(&r) {
			continue
		}
		grew += g.states[i].update(&r)
	}
	if grew == 0 {
		return nil
	}
	sp.used += grew
	return sp.ex.budget.grow(grew, sp.what)
}

func (sp *statsProcessor) flush() error {
	if len(sp.order) == 0 && len(sp.p.By) == 0 {
		sp.newGroup(nil)
	}
	rows := make([]Row, 0, len(sp.order))
	for _, g := range sp.order {
		if err := sp.ex.tick(); err != nil {
			return err
		}
		fields := make([]model.Field, 0, len(sp.p.By)+len(sp.p.Funcs))
		for i := range sp.p.By {
			fields = append(fields, model.Field{Name: sp.p.By[i].Field, Value: g.values[i]})
		}
		for i := range sp.p.Funcs {
			fields = append(fields, model.Field{Name: sp.p.Funcs[i].Name, Value: g.states[i].result()})
		}
		rows = append(rows, Row{Fields: fields, NoTime: true})
	}
	sp.groups, sp.order = nil, nil
	sp.ex.budget.shrink(sp.used)
	if err := emit(sp.ex, sp.next, rows); err != nil {
		return err
	}
	return sp.next.flush()
}
