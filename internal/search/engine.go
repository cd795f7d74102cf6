package search

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/indexer"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// Request is one query over a set of buckets.
type Request struct {
	Buckets []string // empty: every bucket
	Query   *query.Query
	// Start and End bound _time, inclusive (unix ns).
	Start, End int64
	Limits     query.Limits
}

// Engine runs queries over an indexer's snapshots.
type Engine struct {
	ix      *indexer.Indexer
	log     commitlog.Log
	filters *storage.FilterCache
}

// DefaultFilterCacheBytes is the bloom filter cache of New.
const DefaultFilterCacheBytes = 256 << 20

// New returns an engine over ix with a filter cache of
// DefaultFilterCacheBytes; log serves the records not indexed yet and
// stream_context neighbours.
func New(ix *indexer.Indexer, log commitlog.Log) *Engine {
	return NewWithCache(ix, log, storage.NewFilterCache(DefaultFilterCacheBytes))
}

// NewWithCache is New with the given bloom filter cache (shared by every
// query: memory stays within its budget whatever the data stored).
func NewWithCache(ix *indexer.Indexer, log commitlog.Log, filters *storage.FilterCache) *Engine {
	return &Engine{ix: ix, log: log, filters: filters}
}

// Search runs req and hands every result row to out.
func (e *Engine) Search(ctx context.Context, req Request, out func(query.Row) error) error {
	buckets := req.Buckets
	if len(buckets) == 0 {
		buckets = e.buckets()
	}
	q := withTimeRange(req.Query, req.Start, req.End)
	columns := neededColumns(q)
	src := &source{e: e, buckets: buckets, plan: newPlan(q.Filter, req.Start, req.End), filter: q.Filter,
		columns: columns, output: outputColumns(q), positions: readsPositions(q)}
	defer src.close()
	if len(q.Pipes) > 0 {
		if ps, isStats := q.Pipes[0].(*query.PipeStats); isStats {
			if cs, ok := query.NewCountStats(ps, req.Limits); ok {
				// The stats pipe runs inside the source; the rest on its rows.
				rest := &query.Query{Filter: &query.FilterAny{}, Pipes: q.Pipes[1:]}
				return query.Run(ctx, rest, newCountSource(src, cs, req.Limits), req.Limits, out)
			}
		}
	}
	if columns != nil {
		// Rows carry their time and position.
		src.columns = append(columns, storage.TimeField, storage.PosField)
	}
	return query.Run(ctx, q, src, req.Limits, out)
}

// buckets lists every bucket of the index and the commit log (a bucket
// created a moment ago may not be known to the indexer yet).
func (e *Engine) buckets() []string {
	names := e.ix.Buckets()
	for _, b := range e.log.Buckets() {
		if !slices.Contains(names, b) {
			names = append(names, b)
		}
	}
	slices.Sort(names)
	return names
}

// withTimeRange adds the request's time bounds to the query's filter.
func withTimeRange(q *query.Query, start, end int64) *query.Query {
	if start == math.MinInt64 && end == math.MaxInt64 {
		return q
	}
	c := *q
	c.Filter = &query.FilterAnd{Filters: []query.Filter{query.NewFilterTime(start, end), q.Filter}}
	return &c
}

// source yields the rows of every bucket that may match, bucket by bucket:
// parts block by block, then the tail. It checks the filter itself.
type source struct {
	e       *Engine
	buckets []string
	plan    *plan
	filter  query.Filter
	columns []string // to decode; nil for all
	output  []string // the pipes read; nil for all
	// positions is set when a pipe reads Row.Pos (stream_context); block
	// rows leave it zero otherwise, sparing the position column.
	positions bool
	// work evaluates a block on a pipeline worker (default: rowWork);
	// taskFn and rowFn, when set, take each evaluated block and each
	// matching tail row instead of returning them (countSource).
	work   blockWork
	taskFn func(*blockTask) error
	rowFn  func(*query.Row) error

	bi      int   // current bucket index
	seq     int64 // blocks (and tails) handed out so far, in order
	tailSeq int64 // seq of the tail being read
	snap    *indexer.Snapshot
	pipe    *blockPipeline // the current snapshot's blocks; nil once done
	tail    bool
	batch   []query.Row
}

var _ query.FilteredSource = (*source)(nil)
var _ query.ContextSource = (*source)(nil)

// FilterApplied tells query.Run that rows are already filtered.
func (s *source) FilterApplied() bool { return true }

func (s *source) close() {
	if s.pipe != nil {
		s.pipe.close()
		s.pipe = nil
	}
	if s.snap != nil {
		s.snap.Release()
		s.snap = nil
	}
}

// Next returns the next batch of matching rows, io.EOF after the last.
func (s *source) Next(ctx context.Context) ([]query.Row, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.snap == nil {
			if s.bi >= len(s.buckets) {
				return nil, io.EOF
			}
			snap, err := s.e.ix.Snapshot(s.buckets[s.bi])
			if errors.Is(err, commitlog.ErrBucketNotFound) {
				s.bi++
				continue
			}
			if err != nil {
				return nil, err
			}
			s.snap, s.tail = snap, false
			if s.work == nil {
				s.work = s.rowWork
			}
			s.pipe = newBlockPipeline(ctx, snap, s.plan, s.e.filters, s.work, &s.seq)
		}
		rows, done, err := s.step(ctx)
		if err != nil {
			return nil, err
		}
		if done {
			s.close()
			s.bi++
		}
		if len(rows) > 0 {
			return rows, nil
		}
	}
}

// step returns the rows of the next evaluated block of the current
// snapshot, then those of its tail.
func (s *source) step(ctx context.Context) (rows []query.Row, done bool, err error) {
	s.batch = s.batch[:0]
	for s.pipe != nil {
		t, err := s.pipe.next()
		if err != nil {
			return nil, false, err
		}
		if t == nil {
			s.pipe.close()
			s.pipe = nil
			break
		}
		if s.taskFn != nil {
			if err := s.taskFn(t); err != nil {
				return nil, false, err
			}
			continue
		}
		if len(t.rows) > 0 {
			return t.rows, false, nil
		}
	}
	if !s.tail {
		s.tail = true
		s.seq++
		s.tailSeq = s.seq
		for i := range s.snap.Tail {
			if s.plan.timeOverlaps(s.snap.Tail[i].Record.Time, s.snap.Tail[i].Record.Time) {
				if err := s.add(&s.snap.Tail[i]); err != nil {
					return nil, false, err
				}
			}
		}
		return s.batch, true, nil
	}
	return nil, true, nil
}

// pendingRows returns the matching rows of a chunk of records the indexer
// has not read yet. It is safe for concurrent use.
func (s *source) pendingRows(ctx context.Context, pr *indexer.PendingRange) ([]query.Row, error) {
	stored, err := readPending(ctx, s.e.log, s.snap.Bucket, pr, s.plan)
	if err != nil {
		return nil, err
	}
	var out []query.Row
	for i := range stored {
		sr := &stored[i]
		row := query.RowFromRecord(&sr.Record)
		if !s.filter.Match(&row) {
			continue
		}
		row.Pos = query.Pos{Partition: int32(s.bi<<16 | sr.Partition), Offset: sr.Offset}
		out = append(out, row)
	}
	return out, nil
}

// blockStream returns the `_stream` value of a block's rows.
func blockStream(blk *storage.Block) string { return blk.Meta().StreamString }

// buildRow builds row r of blk from the message column and cols into
// fields (reused: the row aliases it).
func buildRow(blk *storage.Block, stream string, msgCol *storage.Column, cols []*storage.Column, r int, fields []model.Field) query.Row {
	if msg := msgAt(msgCol, r); msg != "" {
		fields = append(fields, model.Field{Name: "_msg", Value: msg})
	}
	fields = append(fields, model.Field{Name: "_stream", Value: stream},
		model.Field{Name: "_stream_id", Value: blk.Meta().StreamIDStr})
	fields = append(fields, blk.Meta().StreamFields...)
	for _, c := range cols {
		if c.Name() == storage.MsgField {
			continue
		}
		if v := c.ValueAt(r); v != "" {
			fields = append(fields, model.Field{Name: c.Name(), Value: v})
		}
	}
	return query.Row{Time: blk.Time(r), Fields: fields}
}

// blockRow builds row r of blk with every decoded column into fields.
func (s *source) blockRow(blk *storage.Block, stream string, r int, fields []model.Field) query.Row {
	return buildRow(blk, stream, blk.Column(storage.MsgField), blk.Columns(), r, fields)
}

// rowWork is the row mode's blockWork: the matching rows of the block.
func (s *source) rowWork(ctx context.Context, t *blockTask) {
	if t.pend != nil {
		t.rows, t.err = s.pendingRows(ctx, t.pend)
		return
	}
	blk, err := readCandidate(t, s.columns)
	if err != nil || blk == nil {
		t.err = err
		return
	}
	t.rows, t.err = s.blockRows(blk, nil)
}

// blockRows appends the block's rows that match to dst. It decides the
// filter column by column on a row mask (evalBlock) and builds full rows
// only for the rows left: with only the columns the pipes read when the
// mask is exact, else with every decoded column to match the filter on.
// It is safe for concurrent use (it reads only immutable source state).
func (s *source) blockRows(blk *storage.Block, dst []query.Row) ([]query.Row, error) {
	meta := blk.Meta()
	stream := blockStream(blk)
	mask := make([]bool, blk.Len())
	setAll(mask)
	exact := evalBlock(s.filter, blk, stream, mask)
	cols := blk.Columns()
	msgCol := blk.Column(storage.MsgField) // nil when not decoded or absent
	if exact && s.output != nil {
		cols = cols[:0:0]
		msgCol = nil
		for _, name := range s.output {
			if name == storage.MsgField {
				msgCol = blk.Column(storage.MsgField)
			} else if c := blk.DecodedColumn(name); c != nil {
				cols = append(cols, c)
			}
		}
	}
	scratch := make([]model.Field, 0, 3+len(meta.StreamFields)+len(cols))
	for r := 0; r < blk.Len(); r++ {
		if !mask[r] {
			continue // decided without building the row
		}
		row := buildRow(blk, stream, msgCol, cols, r, scratch[:0])
		if !exact && !s.filter.Match(&row) {
			continue
		}
		row.Fields = append([]model.Field(nil), row.Fields...)
		if s.positions {
			pos := blk.Position(r)
			row.Pos = query.Pos{Partition: int32(s.bi<<16 | pos.Partition), Offset: pos.Offset}
		}
		dst = append(dst, row)
	}
	if err := blk.Err(); err != nil {
		return nil, fmt.Errorf("read block %d: %w", blk.Index(), err)
	}
	return dst, nil
}

// add converts a stored row and keeps it when the filter matches.
func (s *source) add(sr *storage.Row) error {
	row := query.RowFromRecord(&sr.Record)
	if !s.filter.Match(&row) {
		return nil
	}
	row.Pos = query.Pos{Partition: int32(s.bi<<16 | sr.Partition), Offset: sr.Offset}
	if s.rowFn != nil {
		return s.rowFn(&row)
	}
	s.batch = append(s.batch, row)
	return nil
}

// msgAt builds row r's message alone (storage.Column.ValueAt), so rows a
// template check skipped never cost their message.
func msgAt(c *storage.Column, r int) string {
	if c == nil {
		return ""
	}
	return c.ValueAt(r)
}
