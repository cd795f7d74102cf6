package query

import (
	"encoding/binary"
	"slices"
	"sort"
	"strconv"

	"github.com/logbucket/logbucket/internal/model"
)

// groupKey encodes values unambiguously as a map key.
func groupKey(buf []byte, values []string) []byte {
	for _, v := range values {
		buf = binary.AppendUvarint(buf, uint64(len(v)))
		buf = append(buf, v...)
	}
	return buf
}

// hitsGroup is one distinct tuple with its count.
type hitsGroup struct {
	values []string
	hits   uint64
}

// hitsCounter counts rows per distinct tuple of fields, in first-seen order.
type hitsCounter struct {
	ex     *exec
	what   string
	fields []string
	m      map[string]*hitsGroup
	order  []*hitsGroup
	buf    []byte
	vals   []string
	used   int64
}

func newHitsCounter(ex *exec, what string, fields []string) *hitsCounter {
	return &hitsCounter{ex: ex, what: what, fields: fields, m: map[string]*hitsGroup{}}
}

// add counts r; a new tuple is added only when allowNew.
func (hc *hitsCounter) add(r *Row, allowNew bool) error {
	hc.vals = hc.vals[:0]
	for _, f := range hc.fields {
		hc.vals = append(hc.vals, r.Get(f))
	}
	hc.buf = groupKey(hc.buf[:0], hc.vals)
	if g := hc.m[string(hc.buf)]; g != nil {
		g.hits++
		return nil
	}
	if !allowNew {
		return nil
	}
	g := &hitsGroup{values: slices.Clone(hc.vals), hits: 1}
	hc.m[string(hc.buf)] = g
	hc.order = append(hc.order, g)
	n := int64(96 + 2*len(hc.buf) + 16*len(hc.vals))
	hc.used += n
	return hc.ex.budget.grow(n, hc.what)
}

func (hc *hitsCounter) release() {
	hc.ex.budget.shrink(hc.used)
	hc.m, hc.order = nil, nil
}

// groupRow builds an output row from a group's values plus extra fields.
func groupRow(fields, values []string, extra ...model.Field) Row {
	out := make([]model.Field, 0, len(fields)+len(extra))
	for i, f := range fields {
		out = append(out, model.Field{Name: f, Value: values[i]})
	}
	out = append(out, extra...)
	return Row{Fields: out, NoTime: true}
}

// PipeUniq is `uniq by (a, b) [with hits] [limit N]`: the distinct tuples
// of the fields, in first-seen order; `with hits` adds the row count in
// `hits`. With a limit, tuples beyond the first N are ignored.
type PipeUniq struct {
	By    []string
	Hits  bool
	Limit uint64
}

func (p *PipeUniq) String() string {
	s := "uniq by (" + fieldNames(p.By) + ")"
	if p.Hits {
		s += " with hits"
	}
	if p.Limit > 0 {
		s += " limit " + strconv.FormatUint(p.Limit, 10)
	}
	return s
}

func (p *PipeUniq) newProcessor(ex *exec, next processor, _ []Pipe) (processor, error) {
	return &uniqProcessor{p: p, next: next, ex: ex, hc: newHitsCounter(ex, p.String(), p.By)}, nil
}

type uniqProcessor struct {
	p    *PipeUniq
	ex   *exec
	next processor
	hc   *hitsCounter
}

func (up *uniqProcessor) push(r Row) error {
	full := up.p.Limit > 0 && uint64(len(up.hc.order)) >= up.p.Limit
	if full && !up.p.Hits {
		return ErrStop
	}
	if err := up.hc.add(&r, !full); err != nil {
		return err
	}
	if !up.p.Hits && up.p.Limit > 0 && uint64(len(up.hc.order)) >= up.p.Limit {
		return ErrStop // enough distinct tuples; stop reading
	}
	return nil
}

func (up *uniqProcessor) flush() error {
	hitsName := "hits"
	for slices.Contains(up.p.By, hitsName) {
		hitsName += "s"
	}
	rows := make([]Row, 0, len(up.hc.order))
	for _, g := range up.hc.order {
		var extra []model.Field
		if up.p.Hits {
			extra = append(extra, model.Field{Name: hitsName, Value: strconv.FormatUint(g.hits, 10)})
		}
		rows = append(rows, groupRow(up.p.By, g.values, extra...))
	}
	up.hc.release()
	if err := emit(up.ex, up.next, rows); err != nil {
		return err
	}
	return up.next.flush()
}

// PipeTop is `top [N] by (a, b) [hits as name]`: the N (default 10)
// tuples with the most rows, most first (ties by the values, ascending),
// with the count in `hits`.
type PipeTop struct {
	N        uint64
	By       []string
	HitsName string
}

func (p *PipeTop) String() string {
	s := "top " + strconv.FormatUint(p.N, 10) + " by (" + fieldNames(p.By) + ")"
	if p.HitsName != "hits" {
		s += " hits as " + quoteIfNeeded(p.HitsName)
	}
	return s
}

func (p *PipeTop) newProcessor(ex *exec, next processor, _ []Pipe) (processor, error) {
	return &topProcessor{p: p, ex: ex, next: next, hc: newHitsCounter(ex, p.String(), p.By)}, nil
}

type topProcessor struct {
	p    *PipeTop
	ex   *exec
	next processor
	hc   *hitsCounter
}

func (tp *topProcessor) push(r Row) error { return tp.hc.add(&r, true) }

func (tp *topProcessor) flush() error {
	groups := tp.hc.order
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if a.hits != b.hits {
			return a.hits > b.hits
		}
		return slices.Compare(a.values, b.values) < 0
	})
	if uint64(len(groups)) > tp.p.N {
		groups = groups[:tp.p.N]
	}
	rows := make([]Row, 0, len(groups))
	for _, g := range groups {
		hits := model.Field{Name: tp.p.HitsName, Value: strconv.FormatUint(g.hits, 10)}
		rows = append(rows, groupRow(tp.p.By, g.values, hits))
	}
	tp.hc.release()
	if err := emit(tp.ex, tp.next, rows); err != nil {
		return err
	}
	return tp.next.flush()
}
