package query

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/logbucket/logbucket/internal/model"
)

// Limits of stream_context, as in VictoriaLogs: its output is for people.
const (
	maxContextStreams       = 100
	maxContextRowsPerStream = 1000
)

// PipeStreamContext is `stream_context before N after M`: each matching
// row with up to N rows before and M rows after it in its stream (storage
// order, not filtered), like grep -B/-A. Overlapping windows merge into
// one chunk; when there is more than one chunk, each is followed by a
// delimiter row whose `_msg` is `---`. It must be the first pipe.
// `time_window` is accepted and ignored (neighbours come by position).
type PipeStreamContext struct {
	Before, After int
	TimeWindow    string
}

func (p *PipeStreamContext) String() string {
	s := "stream_context before " + strconv.Itoa(p.Before) + " after " + strconv.Itoa(p.After)
	if p.TimeWindow != "" {
		s += " time_window " + p.TimeWindow
	}
	return s
}

func (p *PipeStreamContext) newProcessor(ex *exec, next processor, _ []Pipe) (processor, error) {
	cs, ok := ex.src.(ContextSource)
	if !ok {
		return nil, fmt.Errorf("stream_context needs a row source that can look up neighbouring rows")
	}
	return &contextProcessor{p: p, ex: ex, next: next, cs: cs, streams: map[string]*contextStream{}}, nil
}

type contextStream struct {
	name    string
	rows    []Row
	minTime int64
}

type contextProcessor struct {
	p       *PipeStreamContext
	ex      *exec
	next    processor
	cs      ContextSource
	streams map[string]*contextStream
	order   []*contextStream
	used    int64
}

func (cp *contextProcessor) push(r Row) error {
	name := r.Get("_stream")
	st := cp.streams[name]
	if st == nil {
		if len(cp.order) >= maxContextStreams {
			return &limitError{msg: fmt.Sprintf("rows of more than %d streams reach stream_context: narrow the query with a stream filter", maxContextStreams)}
		}
		st = &contextStream{name: name, minTime: r.Time}
		cp.streams[name] = st
		cp.order = append(cp.order, st)
	}
	if len(st.rows) >= maxContextRowsPerStream {
		return &limitError{msg: fmt.Sprintf("more than %d rows of stream %s reach stream_context: narrow the query", maxContextRowsPerStream, name)}
	}
	st.rows = append(st.rows, r)
	st.minTime = min(st.minTime, r.Time)
	n := r.Size()
	cp.used += n
	return cp.ex.budget.grow(n, cp.p.String())
}

func (cp *contextProcessor) flush() error {
	sort.SliceStable(cp.order, func(i, j int) bool { return cp.order[i].minTime < cp.order[j].minTime })
	var chunks [][]Row
	var chunkStream []string
	for _, st := range cp.order {
		cs, err := cp.streamChunks(st)
		if err != nil {
			return err
		}
		chunks = append(chunks, cs...)
		for range cs {
			chunkStream = append(chunkStream, st.name)
		}
	}
	cp.ex.budget.shrink(cp.used)
	for i, chunk := range chunks {
		if len(chunks) > 1 {
			last := chunk[len(chunk)-1]
			delim := Row{Time: last.Time + 1, Fields: []model.Field{
				{Name: "_stream", Value: chunkStream[i]}, {Name: "_msg", Value: "---"}}}
			chunk = append(chunk, delim)
		}
		if err := emit(cp.ex, cp.next, chunk); err != nil {
			return err
		}
	}
	return cp.next.flush()
}

// streamChunks fetches the windows of a stream's matched rows and merges
// overlapping ones.
func (cp *contextProcessor) streamChunks(st *contextStream) ([][]Row, error) {
	rows := st.rows
	sort.SliceStable(rows, func(i, j int) bool { return posLess(rows[i].Pos, rows[j].Pos) })
	var chunks [][]Row
	for _, r := range rows {
		if err := cp.ex.ctx.Err(); err != nil {
			return nil, err
		}
		prev, next, err := cp.cs.Neighbours(cp.ex.ctx, st.name, r.Pos, cp.p.Before, cp.p.After)
		if err != nil {
			return nil, fmt.Errorf("stream_context: %w", err)
		}
		window := make([]Row, 0, len(prev)+1+len(next))
		window = append(append(append(window, prev...), r), next...)
		var grew int64
		for i := range window {
			grew += window[i].Size()
		}
		cp.used += grew
		if err := cp.ex.budget.grow(grew, cp.p.String()); err != nil {
			return nil, err
		}
		if n := len(chunks); n > 0 && !posLess(chunks[n-1][len(chunks[n-1])-1].Pos, window[0].Pos) {
			last := chunks[n-1][len(chunks[n-1])-1].Pos
			for _, w := range window {
				if posLess(last, w.Pos) {
					chunks[n-1] = append(chunks[n-1], w)
				}
			}
			continue
		}
		chunks = append(chunks, window)
	}
	return chunks, nil
}

func (p *parser) parseStreamContextPipe() (Pipe, error) {
	p.lx.advance()
	pc := &PipeStreamContext{}
	seen := false
	for {
		switch {
		case p.lx.is("before", "after"):
			kw := p.lx.tok.raw
			p.lx.advance()
			n, err := p.parseCountArg("the N of stream_context " + kw)
			if err != nil {
				return nil, err
			}
			if n > maxContextRowsPerStream {
				return nil, p.errAt("stream_context %s is at most %d", kw, maxContextRowsPerStream)
			}
			if strings.EqualFold(kw, "before") {
				pc.Before = int(n)
			} else {
				pc.After = int(n)
			}
			seen = true
		case p.lx.is("time_window"):
			p.lx.advance()
			pos := p.lx.tok.pos
			s, err := p.compound("duration after time_window", valueStops...)
			if err != nil {
				return nil, err
			}
			if d, ok := parseDuration(s); !ok || d <= 0 {
				return nil, p.errorf(pos, "time_window must be a positive duration; got %q", s)
			}
			pc.TimeWindow = s
		default:
			if !seen {
				return nil, p.errAt("stream_context needs 'before N' and/or 'after N'")
			}
			return pc, nil
		}
	}
}
