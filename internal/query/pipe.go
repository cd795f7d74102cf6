package query

import (
	"context"
	"strings"
)

// Pipe is one `| ...` stage of a query. The implementations are the
// exported Pipe* types of this package; their fields are exported for
// inspection (a storage engine may, for example, look at a leading
// PipeLimit), but pipes are executed only through Run.
type Pipe interface {
	String() string
	// newProcessor builds the pipe's processor feeding next; rest holds
	// the pipes after this one, for optimisations such as sort+limit.
	newProcessor(ex *exec, next processor, rest []Pipe) (processor, error)
}

// processor is a running pipe. push receives rows one at a time (it may
// keep the row: pipes never modify a row's Fields in place); flush is
// called once after the last row and must flush next. ErrStop from push
// means "no more rows wanted".
type processor interface {
	push(r Row) error
	flush() error
}

// exec is the per-query execution state shared by the processors.
type exec struct {
	ctx    context.Context
	budget budget
	src    RowSource
	ticks  uint32
}

// tick checks for cancellation every 256 calls.
func (ex *exec) tick() error {
	ex.ticks++
	if ex.ticks&255 == 0 {
		return ex.ctx.Err()
	}
	return nil
}

// budget is the query's memory budget, in approximate bytes.
type budget struct {
	limit, used int64
}

// grow accounts n more bytes for the pipe described by what.
func (b *budget) grow(n int64, what string) error {
	b.used += n
	if b.used > b.limit {
		return memoryLimitError(b.limit, what)
	}
	return nil
}

func (b *budget) shrink(n int64) { b.used -= n }

// emit pushes rows to next, stopping quietly when next wants no more.
func emit(ex *exec, next processor, rows []Row) error {
	for i := range rows {
		if err := ex.tick(); err != nil {
			return err
		}
		if err := next.push(rows[i]); err != nil {
			if err == ErrStop {
				return nil
			}
			return err
		}
	}
	return nil
}

// sinkProcessor hands rows to the caller.
type sinkProcessor struct {
	out     func(Row) error
	maxRows int64
	n       int64
	stopped bool
}

func (s *sinkProcessor) push(r Row) error {
	if s.stopped {
		return ErrStop
	}
	s.n++
	if s.maxRows > 0 && s.n > s.maxRows {
		return rowsLimitError(s.maxRows)
	}
	err := s.out(r)
	if err == ErrStop {
		s.stopped = true
	}
	return err
}

func (s *sinkProcessor) flush() error { return nil }

// fieldNames renders a list of field names.
func fieldNames(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = quoteField(n)
	}
	return strings.Join(parts, ", ")
}

// quoteField renders a field name, keeping a trailing wildcard bare.
func quoteField(name string) string {
	if strings.HasSuffix(name, "*") && isBare(name[:len(name)-1]) {
		return name
	}
	return quoteIfNeeded(name)
}

// matchFieldPattern reports whether name matches a field pattern: an
// exact name, or a prefix ending in '*'.
func matchFieldPattern(pattern, name string) bool {
	if strings.HasSuffix(pattern, "*") {
		return strings.HasPrefix(name, pattern[:len(pattern)-1])
	}
	return pattern == name
}
