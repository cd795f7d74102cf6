package search

import (
	"context"
	"errors"
	"io"
	"math"
	"math/bits"
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
type countSource struct {
	src    *source
	cs     *query.CountStats
	by     []query.StatsBy
	done   bool
	values []string // scratch of the consumer (row, takeTask)

	scratch sync.Pool // of *countScratch, one per worker at a time
}

// countScratch is a worker's reusable buffers.
type countScratch struct {
	codes  [][]int32
	mask   []bool
	counts []uint64
	first  []int
	values []string
}

var _ query.FilteredSource = (*countSource)(nil)

func newCountSource(src *source, cs *query.CountStats) *countSource {
	c := &countSource{src: src, cs: cs, by: cs.By()}
	c.scratch.New = func() any { return &countScratch{} }
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
			return c.cs.Rows(), io.EOF
		}
		if err != nil {
			return nil, err
		}
	}
}

// takeTask adds an evaluated block's groups (or its rows) in block order.
func (c *countSource) takeTask(t *blockTask) error {
	for _, g := range t.groups {
		if err := c.cs.Add(g.values, g.n); err != nil {
			return err
		}
	}
	for i := range t.rows {
		if err := c.row(&t.rows[i]); err != nil {
			return err
		}
	}
	return nil
}

// row counts one matching row built from a stored record.
func (c *countSource) row(r *query.Row) error {
	c.values = c.values[:0]
	for i := range c.by {
		c.values = append(c.values, c.by[i].Value(r))
	}
	return c.cs.Add(c.values, 1)
}

// groupField is how one by-field is read in a block: each matching row
// gets a code in [0, radix), and value turns a code back into the field's
// group value.
type groupField struct {
	radix uint64
	value func(code int32) string
}

// blockWork is the count mode's blockWork: the block's groups in
// first-seen order, or its matching rows when the filter needs them.
func (c *countSource) blockWork(_ context.Context, t *blockTask) {
	blk, err := readCandidate(t, c.src.plan, c.src.columns)
	if err != nil || blk == nil {
		t.err = err
		return
	}
	sc := c.scratch.Get().(*countScratch)
	defer c.scratch.Put(sc)
	t.groups, t.rows, t.err = c.block(blk, sc)
}

// block counts the matching rows of blk per group.
func (c *countSource) block(blk *storage.Block, sc *countScratch) ([]groupCount, []query.Row, error) {
	n := blk.Len()
	sc.mask = resize(sc.mask, n)
	for i := range sc.mask {
		sc.mask[i] = true
	}
	stream := blockStream(blk)
	if !evalBlock(c.src.filter, blk, stream, sc.mask) {
		rows, err := c.src.blockRows(blk, nil)
		return nil, rows, err
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
			rows, err := c.src.blockRows(blk, nil) // too many combinations for one block
			return nil, rows, err
		}
		slots = lo
	}
	// Count per combined code; remember the order groups first appear in.
	flat := slots <= uint64(4*n+64)
	var counts map[uint64]uint64
	if flat {
		sc.counts = resize(sc.counts, int(slots))
		clear(sc.counts)
	} else {
		counts = map[uint64]uint64{}
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
			}
			sc.counts[key]++
		} else {
			if counts[key] == 0 {
				sc.first = append(sc.first, int(key))
			}
			counts[key]++
		}
	}
	if err := blk.Err(); err != nil {
		return nil, nil, err
	}
	groups := make([]groupCount, 0, len(sc.first))
	values := make([]string, len(sc.first)*len(fields))
	for g, k := range sc.first {
		vals := values[g*len(fields) : (g+1)*len(fields) : (g+1)*len(fields)]
		key := uint64(k)
		for i := len(fields) - 1; i >= 0; i-- {
			vals[i] = fields[i].value(int32(key % fields[i].radix))
			key /= fields[i].radix
		}
		cnt := uint64(0)
		if flat {
			cnt = sc.counts[k]
		} else {
			cnt = counts[uint64(k)]
		}
		groups = append(groups, groupCount{values: vals, n: cnt})
	}
	return groups, nil, nil
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
		// Fixed steps: the code is the bucket's distance from the first.
		for r, t := range times {
			start, _, _ := by.TimeBucket(t)
			codes[r] = int32((start - base) / step)
		}
		return groupField{radix: uint64((last-base)/step + 1), value: func(k int32) string {
			return query.FormatTime(base + int64(k)*step)
		}}
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
	return groupField{radix: uint64(len(starts)), value: func(k int32) string { return query.FormatTime(starts[k]) }}
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
