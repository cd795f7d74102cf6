package query

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"
)

// DefaultMaxMemoryBytes is the memory budget of a query whose Limits leave
// MaxMemoryBytes at zero.
const DefaultMaxMemoryBytes = 256 << 20

// Limits bound the resources of one query.
type Limits struct {
	// MaxMemoryBytes bounds the approximate memory held by the pipes'
	// state (sort buffers, stats groups, uniq sets, ...). Zero or less
	// means DefaultMaxMemoryBytes. A query that needs more fails with an
	// error wrapping ErrLimit that names the pipe.
	MaxMemoryBytes int64
	// Timeout bounds the query's run time; zero or less means no limit
	// besides ctx. Expiry fails the query with an error wrapping ErrLimit.
	Timeout time.Duration
	// MaxRows bounds the number of result rows; zero or less means no
	// limit. One more row fails the query with an error wrapping ErrLimit.
	MaxRows int64
}

// RowSource yields the rows a query reads.
//
// Next returns the next batch, or io.EOF (possibly with a last batch)
// after the end. The rows, their Fields and the field strings must stay
// valid and unmodified until Run returns: pipes such as sort keep them.
//
// Order: Run does not sort. Pipes that depend on order (limit, offset,
// uniq's first-seen order, stats' group order, a query without pipes) see
// the source's order; only sort, first, last and top define their own.
// Sources should yield rows in a deterministic order, e.g. by stream then
// offset, or by time.
//
// Filtering: Run evaluates q.Filter on every row unless the source
// implements FilteredSource and reports true. A source may skip rows it
// can prove do not match (by time, stream or RequiredTokens) but must
// never skip a matching row.
type RowSource interface {
	Next(ctx context.Context) ([]Row, error)
}

// FilteredSource is implemented by sources that yield only rows matching
// the query's filter exactly, so Run need not evaluate it again.
type FilteredSource interface {
	RowSource
	FilterApplied() bool
}

// ContextSource is what the stream_context pipe needs from storage: the
// rows of the same stream around a matched row, regardless of the query's
// filter. Run uses it when the RowSource implements it; otherwise a query
// with stream_context fails.
type ContextSource interface {
	// Neighbours returns up to before rows of stream that precede the row
	// at pos and up to after rows that follow it, each in stream order
	// (oldest first), excluding the row itself. stream is the row's
	// `_stream` value; pos is its Row.Pos.
	Neighbours(ctx context.Context, stream string, pos Pos, before, after int) (prev, next []Row, err error)
}

// Run executes q over the rows of src and hands every result row to out,
// in order. out may keep the row. If out returns ErrStop the query ends
// and Run returns nil; any other error from out is returned as is.
//
// Run streams: only pipes that need it hold rows (sort, stats, uniq, top,
// first, last, stream_context), accounted against lim.MaxMemoryBytes. It
// checks ctx regularly and returns its error (wrapped) on cancellation.
func Run(ctx context.Context, q *Query, src RowSource, lim Limits, out func(Row) error) error {
	parent := ctx
	if lim.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lim.Timeout)
		defer cancel()
	}
	ex := &exec{ctx: ctx, src: src, budget: budget{limit: lim.MaxMemoryBytes}}
	if ex.budget.limit <= 0 {
		ex.budget.limit = DefaultMaxMemoryBytes
	}
	var head processor = &sinkProcessor{out: out, maxRows: lim.MaxRows}
	for i := len(q.Pipes) - 1; i >= 0; i-- {
		p, err := q.Pipes[i].newProcessor(ex, head, q.Pipes[i+1:])
		if err != nil {
			return err
		}
		head = p
	}
	err := feed(ex, q.Filter, src, head)
	if err == nil || err == ErrStop {
		err = head.flush()
	}
	switch {
	case err == nil || err == ErrStop:
		return nil
	case lim.Timeout > 0 && errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil:
		return timeoutError(lim.Timeout)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("query canceled: %w", err)
	}
	return err
}

// feed reads src, filters and pushes rows to head.
func feed(ex *exec, f Filter, src RowSource, head processor) error {
	applied := false
	if fs, ok := src.(FilteredSource); ok {
		applied = fs.FilterApplied()
	}
	for {
		if err := ex.ctx.Err(); err != nil {
			return err
		}
		batch, err := src.Next(ex.ctx)
		for i := range batch {
			if terr := ex.tick(); terr != nil {
				return terr
			}
			if !applied && !f.Match(&batch[i]) {
				continue
			}
			if perr := head.push(batch[i]); perr != nil {
				return perr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cannot read rows: %w", err)
		}
	}
}

// RunNaive is the reference evaluator: it runs q over rows by scanning
// every row with q.Filter.Match, then the same pipes as Run. The slice
// order is the source order. stream_context neighbours are the rows of
// the same `_stream` ordered by Pos (rows without any Pos are numbered by
// their index in rows). rows are not modified.
func RunNaive(ctx context.Context, q *Query, rows []Row, lim Limits, out func(Row) error) error {
	return Run(ctx, q, NewSliceSource(rows), lim, out)
}

// SliceSource is a RowSource and ContextSource over a slice; RunNaive uses
// it, and tests may too.
type SliceSource struct {
	rows    []Row
	next    int
	streams map[string][]int // stream -> row indexes in stream order
}

// NewSliceSource returns a source yielding rows in order. When no row has
// a Pos, each row gets Pos{Offset: its index} (on a copy of the slice).
func NewSliceSource(rows []Row) *SliceSource {
	hasPos := false
	for i := range rows {
		if rows[i].Pos != (Pos{}) {
			hasPos = true
			break
		}
	}
	if !hasPos {
		cp := make([]Row, len(rows))
		copy(cp, rows)
		for i := range cp {
			cp[i].Pos = Pos{Offset: int64(i)}
		}
		rows = cp
	}
	return &SliceSource{rows: rows}
}

// Next returns batches of up to 1024 rows.
func (s *SliceSource) Next(ctx context.Context) ([]Row, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	end := min(s.next+1024, len(s.rows))
	batch := s.rows[s.next:end]
	s.next = end
	if s.next == len(s.rows) {
		return batch, io.EOF
	}
	return batch, nil
}

// Neighbours scans the slice for the rows of the same stream.
func (s *SliceSource) Neighbours(ctx context.Context, stream string, pos Pos, before, after int) ([]Row, []Row, error) {
	if s.streams == nil {
		s.streams = map[string][]int{}
		for i := range s.rows {
			st := s.rows[i].Get("_stream")
			s.streams[st] = append(s.streams[st], i)
		}
		for _, idx := range s.streams {
			sort.SliceStable(idx, func(a, b int) bool { return posLess(s.rows[idx[a]].Pos, s.rows[idx[b]].Pos) })
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	idx := s.streams[stream]
	at := sort.Search(len(idx), func(i int) bool { return !posLess(s.rows[idx[i]].Pos, pos) })
	if at == len(idx) || s.rows[idx[at]].Pos != pos {
		return nil, nil, fmt.Errorf("row %d/%d of stream %s not found", pos.Partition, pos.Offset, stream)
	}
	var prev, next []Row
	for _, i := range idx[max(0, at-before):at] {
		prev = append(prev, s.rows[i])
	}
	for _, i := range idx[at+1 : min(len(idx), at+1+after)] {
		next = append(next, s.rows[i])
	}
	return prev, next, nil
}

func posLess(a, b Pos) bool {
	if a.Partition != b.Partition {
		return a.Partition < b.Partition
	}
	return a.Offset < b.Offset
}
