package search

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/bits"
	"sort"
	"sync"

	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// countSource computes a query's leading count-only stats pipe
// (query.NewCountStats) over the matching rows of every block, column by
// column, without building rows, and yields the pipe's output rows; the
// query's other pipes then run on them. Blocks whose filter the columns
// cannot decide exactly (evalBlock) and the unflushed tail are counted
// row by row.
//
// Workers count into their own tables; every group remembers where it
// first appeared (block sequence number, row), and the merged groups are
// handed to CountStats sorted by that position, which is exactly the
// first-seen order of a sequential scan.
type countSource struct {
	src   *source
	cs    *query.CountStats
	by    []query.StatsBy
	limit int64
	done  bool

	table   *aggTable // the consumer's: fallback blocks and the tail
	tailRow int32
	key     []byte // the consumer's key scratch

	mu      sync.Mutex // protects tables
	tables  []*aggTable
	scratch sync.Pool // of *countScratch, one per worker at a time
}

// countScratch is a worker's reusable buffers and its group table.
type countScratch struct {
	codes  [][]int32
	mask   []bool
	counts []uint64
	rowOf  []int32
	first  []int
	key    []byte
	table  *aggTable
}

var _ query.FilteredSource = (*countSource)(nil)

func newCountSource(src *source, cs *query.CountStats, lim query.Limits) *countSource {
	c := &countSource{src: src, cs: cs, by: cs.By(), limit: lim.MaxMemoryBytes, table: newAggTable()}
	if c.limit <= 0 {
		c.limit = query.DefaultMaxMemoryBytes
	}
	c.scratch.New = func() any {
		sc := &countScratch{table: newAggTable()}
		c.mu.Lock()
		c.tables = append(c.tables, sc.table)
		c.mu.Unlock()
		return sc
	}
	src.work = c.blockWork
	src.taskFn = c.takeTask
	src.rowFn = c.row
	return c
}

// FilterApplied tells query.Run that the rows are the stats output.
func (c *countSource) FilterApplied() bool { return true }

// Next counts everything on the first call and returns the groups.
func (c *countSource) Next(ctx context.Context) ([]query.Row, error) {
	if c.done {
		return nil, io.EOF
	}
	c.done = true
	for {
		_, err := c.src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	c.src.close() // stops the workers: their tables are final
	c.mu.Lock()
	tables := c.tables
	c.mu.Unlock()
	all := c.table
	for _, t := range tables {
		all.merge(t)
	}
	for _, g := range all.sorted() {
		if err := c.cs.Add(c.decodeKey(g.key), g.n); err != nil {
			return nil, err
		}
	}
	return c.cs.Rows(), io.EOF
}

// takeTask counts the rows of a block whose filter needed them.
func (c *countSource) takeTask(t *blockTask) error {
	for i := range t.rows {
		if err := c.addRow(&t.rows[i], groupPos{t.seq, int32(i)}); err != nil {
			return err
		}
	}
	return nil
}

// row counts one matching row of the tail.
func (c *countSource) row(r *query.Row) error {
	c.tailRow++
	return c.addRow(r, groupPos{c.src.tailSeq, c.tailRow})
}

func (c *countSource) addRow(r *query.Row, pos groupPos) error {
	c.key = c.rowKey(c.key[:0], r)
	c.table.add(c.key, 1, pos)
	return c.check(c.table)
}

// rowKey appends the group key of a row to key.
func (c *countSource) rowKey(key []byte, r *query.Row) []byte {
	for i := range c.by {
		by := &c.by[i]
		if start, _, ok := by.TimeBucket(r.Time); ok && !r.NoTime {
			key = appendTimeKey(key, start)
			continue
		}
		key = appendValueKey(key, by.Value(r))
	}
	return key
}

// pendingWork counts a chunk of records the indexer has not read yet into
// the worker's table (on a worker).
func (c *countSource) pendingWork(ctx context.Context, t *blockTask) {
	if c.countsEveryRecord() {
		// Every offset of the range is one record, and each matches.
		sc := c.scratch.Get().(*countScratch)
		defer c.scratch.Put(sc)
		sc.table.add(sc.key[:0], uint64(t.pend.To-t.pend.From), groupPos{t.seq, 0})
		t.err = c.check(sc.table)
		return
	}
	stored, err := readPending(ctx, c.src.e.log, c.src.snap.Bucket, t.pend, c.src.plan)
	if err != nil {
		t.err = err
		return
	}
	sc := c.scratch.Get().(*countScratch)
	defer c.scratch.Put(sc)
	for i := range stored {
		row := query.RowFromRecord(&stored[i].Record)
		if !c.src.filter.Match(&row) {
			continue
		}
		sc.key = c.rowKey(sc.key[:0], &row)
		sc.table.add(sc.key, 1, groupPos{t.seq, int32(i)})
	}
	t.err = c.check(sc.table)
}

// countsEveryRecord reports whether the query counts every record of any
// time in one group (`* | stats count()`): then a range of records not
// indexed yet counts without reading it.
func (c *countSource) countsEveryRecord() bool {
	_, all := c.src.filter.(*query.FilterAny)
	p := c.src.plan
	return all && len(c.by) == 0 && p.minT == math.MinInt64 && p.maxT == math.MaxInt64
}

// check fails with the stats pipe's memory-limit error when a table has
// outgrown the query's memory budget.
func (c *countSource) check(t *aggTable) error {
	if t.bytes > c.limit {
		return c.cs.MemoryError()
	}
	return nil
}

// decodeKey turns a group key back into the by-fields' values.
func (c *countSource) decodeKey(key string) []string {
	values := make([]string, len(c.by))
	for i := range c.by {
		if c.by[i].Field == "_time" && c.by[i].Bucket != "" {
			values[i] = query.FormatTime(int64(binary.BigEndian.Uint64([]byte(key[:8]))))
			key = key[8:]
			continue
		}
		n, w := binary.Uvarint([]byte(key))
		values[i] = key[w : w+int(n)]
		key = key[w+int(n):]
	}
	return values
}

func appendTimeKey(key []byte, start int64) []byte {
	return binary.BigEndian.AppendUint64(key, uint64(start))
}

func appendValueKey(key []byte, v string) []byte {
	key = binary.AppendUvarint(key, uint64(len(v)))
	return append(key, v...)
}

// groupPos is where a group first appears in the source's order: the
// sequence number of its block (or of the tail) and the row within it.
type groupPos struct {
	seq int64
	row int32
}

func (p groupPos) before(q groupPos) bool {
	return p.seq < q.seq || p.seq == q.seq && p.row < q.row
}

// aggGroup is one group of a table.
type aggGroup struct {
	key string
	n   uint64
	pos groupPos
}

// aggTable counts groups by key.
type aggTable struct {
	groups map[string]*aggGroup
	bytes  int64 // approximate memory
}

func newAggTable() *aggTable { return &aggTable{groups: map[string]*aggGroup{}} }

func (t *aggTable) add(key []byte, n uint64, pos groupPos) {
	if g := t.groups[string(key)]; g != nil {
		g.n += n
		if pos.before(g.pos) {
			g.pos = pos
		}
		return
	}
	k := string(key)
	t.groups[k] = &aggGroup{key: k, n: n, pos: pos}
	t.bytes += int64(96 + 2*len(k))
}

func (t *aggTable) merge(o *aggTable) {
	for k, g := range o.groups {
		t.add([]byte(k), g.n, g.pos)
	}
}

// sorted returns the groups in first-seen order.
func (t *aggTable) sorted() []*aggGroup {
	out := make([]*aggGroup, 0, len(t.groups))
	for _, g := range t.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pos.before(out[j].pos) })
	return out
}

// blockWork is the count mode's blockWork: it counts the block into the
// worker's table, or returns its matching rows when the filter needs them.
func (c *countSource) blockWork(ctx context.Context, t *blockTask) {
	if t.pend != nil {
		c.pendingWork(ctx, t)
		return
	}
	sc := c.scratch.Get().(*countScratch)
	defer c.scratch.Put(sc)
	if done, err := c.countFromMeta(t, sc); done || err != nil {
		t.err = err
		return
	}
	blk, err := readCandidate(t, c.src.columns)
	if err != nil || blk == nil {
		t.err = err
		return
	}
	t.rows, t.err = c.block(blk, t.seq, sc)
}

// block counts the matching rows of blk per group into sc.table; it
// returns the matching rows instead when the columns cannot decide the
// filter or the groups of one block are too many to number.
func (c *countSource) block(blk *storage.Block, seq int64, sc *countScratch) ([]query.Row, error) {
	n := blk.Len()
	sc.mask = resize(sc.mask, n)
	setAll(sc.mask)
	stream := blockStream(blk)
	if !evalBlock(c.src.filter, blk, stream, sc.mask) {
		return c.src.blockRows(blk, nil)
	}
	fields := make([]groupField, len(c.by))
	if len(sc.codes) < len(c.by) {
		sc.codes = make([][]int32, len(c.by))
	}
	slots := uint64(1)
	for i := range c.by {
		sc.codes[i] = resize(sc.codes[i], n)
		fields[i] = c.groupCodes(&c.by[i], blk, stream, sc.mask, sc.codes[i])
		hi, lo := bits.Mul64(slots, fields[i].radix)
		if hi != 0 || lo > math.MaxInt32 {
			return c.src.blockRows(blk, nil) // too many combinations for one block
		}
		slots = lo
	}
	if slots == 1 {
		// One group for the whole block (no by-fields, or stream fields):
		// count the mask.
		cnt, first := countSet(sc.mask)
		if err := blk.Err(); err != nil {
			return nil, err
		}
		if cnt == 0 {
			return nil, nil
		}
		key := sc.key[:0]
		for i := range fields {
			if fields[i].start != nil {
				key = appendTimeKey(key, fields[i].start(0))
			} else {
				key = appendValueKey(key, fields[i].value(0))
			}
		}
		sc.key = key
		sc.table.add(key, uint64(cnt), groupPos{seq, int32(first)})
		return nil, c.check(sc.table)
	}
	// Count per combined code; remember where each group first appears.
	flat := slots <= uint64(4*n+64)
	var counts map[uint64]uint64
	var rowOf map[uint64]int32
	if flat {
		sc.counts = resize(sc.counts, int(slots))
		clear(sc.counts)
		sc.rowOf = resize(sc.rowOf, int(slots))
	} else {
		counts, rowOf = map[uint64]uint64{}, map[uint64]int32{}
	}
	sc.first = sc.first[:0]
	for r := 0; r < n; r++ {
		if !sc.mask[r] {
			continue
		}
		key := uint64(0)
		for i := range fields {
			key = key*fields[i].radix + uint64(sc.codes[i][r])
		}
		if flat {
			if sc.counts[key] == 0 {
				sc.first = append(sc.first, int(key))
				sc.rowOf[key] = int32(r)
			}
			sc.counts[key]++
		} else {
			if counts[key] == 0 {
				sc.first = append(sc.first, int(key))
				rowOf[key] = int32(r)
			}
			counts[key]++
		}
	}
	if err := blk.Err(); err != nil {
		return nil, err
	}
	for _, k := range sc.first {
		code := uint64(k)
		key := sc.key[:0]
		// Decode the combined code from the last field to the first into
		// per-field codes, then encode the key in field order.
		var fieldCodes [8]int32
		codes := fieldCodes[:0]
		if len(fields) > len(fieldCodes) {
			codes = make([]int32, 0, len(fields))
		}
		codes = codes[:len(fields)]
		for i := len(fields) - 1; i >= 0; i-- {
			codes[i] = int32(code % fields[i].radix)
			code /= fields[i].radix
		}
		for i := range fields {
			if fields[i].start != nil {
				key = appendTimeKey(key, fields[i].start(codes[i]))
			} else {
				key = appendValueKey(key, fields[i].value(codes[i]))
			}
		}
		sc.key = key
		cnt, row := uint64(0), int32(0)
		if flat {
			cnt, row = sc.counts[k], sc.rowOf[k]
		} else {
			cnt, row = counts[uint64(k)], rowOf[uint64(k)]
		}
		sc.table.add(key, cnt, groupPos{seq, row})
	}
	return nil, c.check(sc.table)
}

// groupField is how one by-field is read in a block: each matching row
// gets a code in [0, radix), and value turns a code back into the field's
// group value.
type groupField struct {
	radix uint64
	value func(code int32) string
	start func(code int32) int64 // time buckets: the bucket's start (value is then unused)
}

// groupCodes fills codes (one per row) for a by-field of blk.
func (c *countSource) groupCodes(by *query.StatsBy, blk *storage.Block, stream string, mask []bool, codes []int32) groupField {
	n := blk.Len()
	if by.Field == "_time" && by.Bucket != "" {
		return timeCodes(by, blk, codes)
	}
	if by.Bucket == "" && by.Field != "_time" {
		if v, isConst := constValue(blk, stream, by.Field); isConst {
			clear(codes)
			return groupField{radix: 1, value: func(int32) string { return v }}
		}
		col := blk.Column(by.Field)
		if vals, idx, isDict := col.Dict(); isDict && idx != nil {
			for r := 0; r < n; r++ {
				codes[r] = int32(idx[r])
			}
			return groupField{radix: uint64(len(vals)), value: func(k int32) string { return vals[k] }}
		}
	}
	// Any other field: the group value per row, numbered in first-seen
	// order.
	ids := map[string]int32{}
	var table []string
	var row query.Row
	for r := 0; r < n; r++ {
		if !mask[r] {
			codes[r] = 0
			continue
		}
		row = c.src.blockRow(blk, stream, r, row.Fields[:0])
		v := by.Value(&row)
		id, ok := ids[v]
		if !ok {
			id = int32(len(table))
			ids[v] = id
			table = append(table, v)
		}
		codes[r] = id
	}
	return groupField{radix: uint64(max(len(table), 1)), value: func(k int32) string { return table[k] }}
}

// timeCodes numbers the time buckets of a block's rows.
func timeCodes(by *query.StatsBy, blk *storage.Block, codes []int32) groupField {
	times := blk.Times()
	base, step, _ := by.TimeBucket(times[0])
	if last, _, _ := by.TimeBucket(times[len(times)-1]); step > 0 && (last-base)/step < math.MaxInt32 {
		// Fixed steps: bucket starts are base + k×step, and times ascend
		// from base's bucket, so a row's code is its distance in steps,
		// found by walking the bucket ends (no division per row).
		code, end := int32(0), base+step
		for r, t := range times {
			for t >= end {
				code++
				end += step
			}
			codes[r] = code
		}
		return groupField{radix: uint64((last-base)/step + 1), start: func(k int32) int64 { return base + int64(k)*step }}
	}
	// Calendar steps (months, years): number the distinct starts.
	var starts []int64
	for r, t := range times {
		start, _, _ := by.TimeBucket(t)
		if len(starts) == 0 || starts[len(starts)-1] != start {
			starts = append(starts, start) // times ascend: starts do too
		}
		codes[r] = int32(len(starts) - 1)
	}
	return groupField{radix: uint64(len(starts)), start: func(k int32) int64 { return starts[k] }}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
