package query

import (
	"container/heap"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SortField is one `field [desc]` of a sort.
type SortField struct {
	Name string
	Desc bool
}

func sortFieldsString(by []SortField) string {
	parts := make([]string, len(by))
	for i, f := range by {
		parts[i] = quoteIfNeeded(f.Name)
		if f.Desc {
			parts[i] += " desc"
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// PipeSort is `sort by (a, b desc) [desc] [offset N] [limit N]` (alias
// `order`; `by` optional). Values compare as in VictoriaLogs: integers
// numerically, then RFC 3339 timestamps, then numbers, else natural string
// order. Ties keep the input order. Without fields the rows compare by all
// their fields in name order.
type PipeSort struct {
	By            []SortField
	Desc          bool
	Offset, Limit uint64
}

func (p *PipeSort) String() string {
	s := "sort"
	if len(p.By) > 0 {
		s += " by " + sortFieldsString(p.By)
	}
	if p.Desc {
		s += " desc"
	}
	if p.Offset > 0 {
		s += " offset " + strconv.FormatUint(p.Offset, 10)
	}
	if p.Limit > 0 {
		s += " limit " + strconv.FormatUint(p.Limit, 10)
	}
	return s
}

func (p *PipeSort) newProcessor(ex *exec, next processor, rest []Pipe) (processor, error) {
	keep := uint64(0) // rows to keep, 0 = all
	if p.Limit > 0 {
		keep = satAddU(p.Offset, p.Limit)
	} else if n, ok := limitHint(rest); ok {
		keep = satAddU(p.Offset, n)
	}
	return newSortProcessor(ex, next, p.By, p.Desc, p.Offset, keep, p.String()), nil
}

// limitHint returns how many rows the following pipes can use at most.
func limitHint(rest []Pipe) (uint64, bool) {
	off := uint64(0)
	for _, p := range rest {
		switch t := p.(type) {
		case *PipeOffset:
			off = satAddU(off, t.N)
		case *PipeLimit:
			return satAddU(off, t.N), true
		default:
			return 0, false
		}
	}
	return 0, false
}

func satAddU(a, b uint64) uint64 {
	if a+b < a {
		return math.MaxUint64
	}
	return a + b
}

// PipeFirst is `first [N] [by (fields)]`: the N (default 1) smallest rows,
// i.e. `sort by (fields) limit N`. PipeLast is the same with `last`: the N
// largest, in descending order.
type PipeFirst struct {
	N  uint64
	By []SortField
	// Last selects `last`.
	Last bool
}

func (p *PipeFirst) String() string {
	s := "first"
	if p.Last {
		s = "last"
	}
	s += " " + strconv.FormatUint(p.N, 10)
	if len(p.By) > 0 {
		s += " by " + sortFieldsString(p.By)
	}
	return s
}

func (p *PipeFirst) newProcessor(ex *exec, next processor, _ []Pipe) (processor, error) {
	return newSortProcessor(ex, next, p.By, p.Last, 0, p.N, p.String()), nil
}

// sortKey is one precomputed sort value.
type sortKey struct {
	s        string
	i        int64
	t        int64
	f        float64
	isInt    bool
	isTime   bool
	isNum    bool
	timeOnly bool // s not computed: implicit _time
}

func makeSortKey(s string) sortKey {
	k := sortKey{s: s}
	if k.i, k.isInt = parseInt64(s); k.isInt {
		k.f, k.isNum = float64(k.i), true
		return k
	}
	if len(s) >= 20 && s[4] == '-' {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			k.t, k.isTime = t.UnixNano(), true
		}
	}
	k.f, k.isNum = parseNumber(s)
	return k
}

func (k *sortKey) str() string {
	if k.timeOnly {
		return FormatTime(k.t)
	}
	return k.s
}

// compareKeys orders two values: -1, 0 or 1.
func compareKeys(a, b *sortKey) int {
	switch {
	case a.isInt && b.isInt:
		return cmpOrdered(a.i, b.i)
	case a.isTime && b.isTime:
		return cmpOrdered(a.t, b.t)
	case a.isNum && b.isNum:
		return cmpOrdered(a.f, b.f)
	}
	return compareNatural(a.str(), b.str())
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareNatural compares strings with runs of digits ordered by their
// numeric value ("file2" < "file10").
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			da, db := digitRun(a), digitRun(b)
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return cmpOrdered(int64(len(na)), int64(len(nb)))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			if da != db { // same value, fewer leading zeros first
				return cmpOrdered(int64(da), int64(db))
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmpOrdered(int64(a[0]), int64(b[0]))
		}
		a, b = a[1:], b[1:]
	}
	return cmpOrdered(int64(len(a)), int64(len(b)))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func digitRun(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// sortEntry is a row held by a sort with its keys and arrival number.
type sortEntry struct {
	row  Row
	keys []sortKey
	desc []bool
	seq  uint64
}

type sortProcessor struct {
	ex     *exec
	next   processor
	by     []SortField
	desc   bool
	offset uint64
	keep   uint64 // 0 = all
	what   string
	rows   sortHeap
	seq    uint64
	used   int64
}

func newSortProcessor(ex *exec, next processor, by []SortField, desc bool, offset, keep uint64, what string) *sortProcessor {
	return &sortProcessor{ex: ex, next: next, by: by, desc: desc, offset: offset, keep: keep, what: what}
}

func (sp *sortProcessor) keysOf(r *Row) ([]sortKey, []bool) {
	if len(sp.by) == 0 {
		return allFieldKeys(r, sp.desc)
	}
	keys := make([]sortKey, len(sp.by))
	desc := make([]bool, len(sp.by))
	for i, f := range sp.by {
		desc[i] = f.Desc != sp.desc
		if f.Name == "_time" && r.hasImplicitTime() {
			keys[i] = sortKey{t: r.Time, isTime: true, timeOnly: true}
			continue
		}
		keys[i] = makeSortKey(r.Get(f.Name))
	}
	return keys, desc
}

// allFieldKeys sorts by every field: name then value, names in order.
func allFieldKeys(r *Row, desc bool) ([]sortKey, []bool) {
	names := make([]string, 0, len(r.Fields)+1)
	if r.hasImplicitTime() {
		names = append(names, "_time")
	}
	for _, f := range r.Fields {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	keys := make([]sortKey, 0, 2*len(names))
	for _, n := range names {
		keys = append(keys, sortKey{s: n}, makeSortKey(r.Get(n)))
	}
	d := make([]bool, len(keys))
	for i := range d {
		d[i] = desc
	}
	return keys, d
}

func (sp *sortProcessor) push(r Row) error {
	keys, desc := sp.keysOf(&r)
	e := &sortEntry{row: r, keys: keys, desc: desc, seq: sp.seq}
	sp.seq++
	if sp.keep > 0 && uint64(len(sp.rows)) >= sp.keep {
		if !entryLess(e, sp.rows[0]) {
			return nil
		}
		old := sp.rows[0]
		sp.rows[0] = e
		heap.Fix(&sp.rows, 0)
		return sp.account(entrySize(e) - entrySize(old))
	}
	heap.Push(&sp.rows, e)
	return sp.account(entrySize(e))
}

func (sp *sortProcessor) account(n int64) error {
	sp.used += n
	return sp.ex.budget.grow(n, sp.what)
}

func entrySize(e *sortEntry) int64 { return e.row.Size() + int64(len(e.keys))*72 + 48 }

func (sp *sortProcessor) flush() error {
	entries := []*sortEntry(sp.rows)
	sort.Slice(entries, func(i, j int) bool { return entryLess(entries[i], entries[j]) })
	if uint64(len(entries)) > sp.offset {
		entries = entries[sp.offset:]
	} else {
		entries = nil
	}
	for _, e := range entries {
		if err := sp.ex.tick(); err != nil {
			return err
		}
		if err := sp.next.push(e.row); err != nil {
			if err == ErrStop {
				break
			}
			return err
		}
	}
	sp.rows = nil
	sp.ex.budget.shrink(sp.used)
	return sp.next.flush()
}

// entryLess orders entries by keys, then by arrival.
func entryLess(a, b *sortEntry) bool {
	n := min(len(a.keys), len(b.keys))
	for i := 0; i < n; i++ {
		c := compareKeys(&a.keys[i], &b.keys[i])
		if c == 0 {
			continue
		}
		if a.desc[i] {
			return c > 0
		}
		return c < 0
	}
	if len(a.keys) != len(b.keys) {
		return len(a.keys) < len(b.keys)
	}
	return a.seq < b.seq
}

// sortHeap is a max-heap under entryLess, so that the root is the entry
// to evict when only the smallest `keep` entries are kept.
type sortHeap []*sortEntry

func (h sortHeap) Len() int           { return len(h) }
func (h sortHeap) Less(i, j int) bool { return entryLess(h[j], h[i]) }
func (h sortHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *sortHeap) Push(x any)        { *h = append(*h, x.(*sortEntry)) }
func (h *sortHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
