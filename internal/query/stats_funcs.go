package query

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// StatsFunction is one stats function: count, count_empty, count_uniq,
// sum, avg, min, max, quantile, median. String is its canonical text,
// which is also the default result name.
type StatsFunction interface {
	String() string
	newState() statsState
}

// statsState accumulates one function for one group.
type statsState interface {
	// update adds the row and returns the bytes of state it added.
	update(r *Row) int64
	result() string
}

func funcString(name string, fields []string) string {
	return name + "(" + fieldNames(fields) + ")"
}

// StatsCount is `count()` (rows) or `count(a, b)` (rows with at least one
// of the fields non-empty).
type StatsCount struct{ Fields []string }

func (f *StatsCount) String() string { return funcString("count", f.Fields) }

func (f *StatsCount) newState() statsState { return &countState{fields: f.Fields} }

type countState struct {
	fields []string
	empty  bool // count rows where all fields are empty instead
	n      uint64
}

func (s *countState) update(r *Row) int64 {
	if len(s.fields) == 0 {
		s.n++
		return 0
	}
	any := false
	for _, f := range s.fields {
		if r.Get(f) != "" {
			any = true
			break
		}
	}
	if any != s.empty {
		s.n++
	}
	return 0
}

func (s *countState) result() string { return strconv.FormatUint(s.n, 10) }

// StatsCountEmpty is `count_empty(a, b)`: rows where all fields are empty.
type StatsCountEmpty struct{ Fields []string }

func (f *StatsCountEmpty) String() string { return funcString("count_empty", f.Fields) }

func (f *StatsCountEmpty) newState() statsState { return &countState{fields: f.Fields, empty: true} }

// StatsCountUniq is `count_uniq(a, b)`: distinct tuples that are not all
// empty.
type StatsCountUniq struct{ Fields []string }

func (f *StatsCountUniq) String() string { return funcString("count_uniq", f.Fields) }

func (f *StatsCountUniq) newState() statsState {
	return &uniqState{fields: f.Fields, seen: map[string]struct{}{}}
}

type uniqState struct {
	fields []string
	seen   map[string]struct{}
	vals   []string
	buf    []byte
}

func (s *uniqState) update(r *Row) int64 {
	s.vals = s.vals[:0]
	empty := true
	for _, f := range s.fields {
		v := r.Get(f)
		empty = empty && v == ""
		s.vals = append(s.vals, v)
	}
	if empty {
		return 0
	}
	s.buf = groupKey(s.buf[:0], s.vals)
	if _, ok := s.seen[string(s.buf)]; ok {
		return 0
	}
	s.seen[string(s.buf)] = struct{}{}
	return int64(48 + len(s.buf))
}

func (s *uniqState) result() string { return strconv.Itoa(len(s.seen)) }

// StatsSum is `sum(a, b)`: the sum of the numeric values (NaN if none).
type StatsSum struct{ Fields []string }

func (f *StatsSum) String() string { return funcString("sum", f.Fields) }

func (f *StatsSum) newState() statsState { return &sumState{fields: f.Fields} }

// StatsAvg is `avg(a, b)`: the mean of the numeric values (NaN if none).
type StatsAvg struct{ Fields []string }

func (f *StatsAvg) String() string { return funcString("avg", f.Fields) }

func (f *StatsAvg) newState() statsState { return &sumState{fields: f.Fields, avg: true} }

type sumState struct {
	fields []string
	avg    bool
	sum    float64
	n      uint64
}

func (s *sumState) update(r *Row) int64 {
	for _, f := range s.fields {
		if v, ok := parseNumber(r.Get(f)); ok && !math.IsNaN(v) {
			s.sum += v
			s.n++
		}
	}
	return 0
}

func (s *sumState) result() string {
	switch {
	case s.n == 0:
		return formatFloat(math.NaN())
	case s.avg:
		return formatFloat(s.sum / float64(s.n))
	}
	return formatFloat(s.sum)
}

// StatsMin is `min(a, b)` and StatsMax is `max(a, b)`: the smallest or
// largest value in sort order (see PipeSort). As in VictoriaLogs a missing
// field counts as the empty value, which sorts first.
type StatsMin struct{ Fields []string }

func (f *StatsMin) String() string { return funcString("min", f.Fields) }

func (f *StatsMin) newState() statsState { return &extremeState{fields: f.Fields} }

// StatsMax: see StatsMin.
type StatsMax struct{ Fields []string }

func (f *StatsMax) String() string { return funcString("max", f.Fields) }

func (f *StatsMax) newState() statsState { return &extremeState{fields: f.Fields, max: true} }

type extremeState struct {
	fields []string
	max    bool
	has    bool
	best   sortKey
}

func (s *extremeState) update(r *Row) int64 {
	var grew int64
	for _, f := range s.fields {
		k := makeSortKey(r.Get(f))
		c := compareKeys(&k, &s.best)
		if !s.has || s.max && c > 0 || !s.max && c < 0 {
			grew += int64(len(k.s) - len(s.best.s))
			s.best, s.has = k, true
		}
	}
	return grew
}

func (s *extremeState) result() string { return s.best.s }

// StatsQuantile is `quantile(phi, a, b)`: the value at rank phi (0..1) of
// all the values in sort order, exact (VictoriaLogs samples; it picks the
// value at index int(phi*n) the same way). StatsMedian is
// `median(a, b)`, the 0.5 quantile.
type StatsQuantile struct {
	Phi float64
	// PhiText is phi as written, kept for String.
	PhiText string
	Fields  []string
	// Median marks `median(...)`.
	Median bool
}

func (f *StatsQuantile) String() string {
	if f.Median {
		return funcString("median", f.Fields)
	}
	return "quantile(" + f.PhiText + ", " + fieldNames(f.Fields) + ")"
}

func (f *StatsQuantile) newState() statsState { return &quantileState{f: f} }

type quantileState struct {
	f      *StatsQuantile
	values []sortKey
}

func (s *quantileState) update(r *Row) int64 {
	var grew int64
	for _, f := range s.f.Fields {
		k := makeSortKey(r.Get(f))
		s.values = append(s.values, k)
		grew += int64(len(k.s)) + 72
	}
	return grew
}

func (s *quantileState) result() string {
	a := s.values
	if len(a) == 0 {
		return ""
	}
	sort.SliceStable(a, func(i, j int) bool { return compareKeys(&a[i], &a[j]) < 0 })
	phi := s.f.Phi
	switch {
	case phi <= 0:
		return a[0].s
	case phi >= 1:
		return a[len(a)-1].s
	}
	idx := int(phi * float64(len(a)))
	if idx >= len(a) {
		idx = len(a) - 1
	}
	return a[idx].s
}

// statsFuncNames lists the stats functions LogsQL knows; nil entries are
// not supported by logbucket.
var statsFuncNames = map[string]func(args []string) (StatsFunction, string){
	"count":       func(a []string) (StatsFunction, string) { return &StatsCount{Fields: a}, "" },
	"count_empty": fieldsFunc(func(a []string) StatsFunction { return &StatsCountEmpty{Fields: a} }),
	"count_uniq":  fieldsFunc(func(a []string) StatsFunction { return &StatsCountUniq{Fields: a} }),
	"sum":         fieldsFunc(func(a []string) StatsFunction { return &StatsSum{Fields: a} }),
	"avg":         fieldsFunc(func(a []string) StatsFunction { return &StatsAvg{Fields: a} }),
	"min":         fieldsFunc(func(a []string) StatsFunction { return &StatsMin{Fields: a} }),
	"max":         fieldsFunc(func(a []string) StatsFunction { return &StatsMax{Fields: a} }),
	"median": fieldsFunc(func(a []string) StatsFunction {
		return &StatsQuantile{Phi: 0.5, PhiText: "0.5", Fields: a, Median: true}
	}),
	"quantile":        newQuantile,
	"count_uniq_hash": nil, "histogram": nil, "json_values": nil, "rate": nil, "rate_sum": nil,
	"row_any": nil, "row_max": nil, "row_min": nil, "sum_len": nil, "uniq_values": nil, "values": nil,
}

// fieldsFunc wraps a constructor that needs at least one field.
func fieldsFunc(mk func([]string) StatsFunction) func([]string) (StatsFunction, string) {
	return func(a []string) (StatsFunction, string) {
		if len(a) == 0 {
			return nil, "needs at least one field"
		}
		return mk(a), ""
	}
}

func newQuantile(a []string) (StatsFunction, string) {
	if len(a) < 2 {
		return nil, "needs phi and at least one field: quantile(0.99, field)"
	}
	phi, ok := parseFloatPlain(a[0])
	if !ok || phi < 0 || phi > 1 || strings.Contains(a[0], "_") {
		return nil, "phi must be a number from 0 to 1; got " + strconv.Quote(a[0])
	}
	return &StatsQuantile{Phi: phi, PhiText: a[0], Fields: a[1:]}, ""
}
