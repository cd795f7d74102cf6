package query

import "strconv"

// PipeLimit is `limit N` (alias `head N`; N defaults to 10): the first N
// rows in the order they arrive.
type PipeLimit struct{ N uint64 }

func (p *PipeLimit) String() string { return "limit " + strconv.FormatUint(p.N, 10) }

func (p *PipeLimit) newProcessor(_ *exec, next processor, _ []Pipe) (processor, error) {
	return &limitProcessor{n: p.N, next: next}, nil
}

type limitProcessor struct {
	n, seen uint64
	next    processor
}

func (lp *limitProcessor) push(r Row) error {
	if lp.seen >= lp.n {
		return ErrStop
	}
	lp.seen++
	if err := lp.next.push(r); err != nil {
		return err
	}
	if lp.seen >= lp.n {
		return ErrStop
	}
	return nil
}

func (lp *limitProcessor) flush() error { return lp.next.flush() }

// PipeOffset is `offset N` (alias `skip N`): drops the first N rows.
type PipeOffset struct{ N uint64 }

func (p *PipeOffset) String() string { return "offset " + strconv.FormatUint(p.N, 10) }

func (p *PipeOffset) newProcessor(_ *exec, next processor, _ []Pipe) (processor, error) {
	return &offsetProcessor{n: p.N, next: next}, nil
}

type offsetProcessor struct {
	n, seen uint64
	next    processor
}

func (op *offsetProcessor) push(r Row) error {
	if op.seen < op.n {
		op.seen++
		return nil
	}
	return op.next.push(r)
}

func (op *offsetProcessor) flush() error { return op.next.flush() }

func (p *parser) parseLimitPipe() (Pipe, error) {
	p.lx.advance()
	if p.lx.atEnd() || p.lx.is("|", ")") {
		return &PipeLimit{N: 10}, nil
	}
	n, err := p.parseCountArg("the N of limit")
	if err != nil {
		return nil, err
	}
	return &PipeLimit{N: n}, nil
}

func (p *parser) parseOffsetPipe() (Pipe, error) {
	p.lx.advance()
	n, err := p.parseCountArg("the N of offset")
	if err != nil {
		return nil, err
	}
	return &PipeOffset{N: n}, nil
}

// PipeFilter is `filter <filters>` (alias `where`, or just the filters):
// keeps the rows matching Filter, evaluated on the pipe's input rows.
type PipeFilter struct{ Filter Filter }

func (p *PipeFilter) String() string { return "filter " + p.Filter.String() }

func (p *PipeFilter) newProcessor(ex *exec, next processor, _ []Pipe) (processor, error) {
	return &filterProcessor{f: p.Filter, next: next}, nil
}

type filterProcessor struct {
	f    Filter
	next processor
}

func (fp *filterProcessor) push(r Row) error {
	if !fp.f.Match(&r) {
		return nil
	}
	return fp.next.push(r)
}

func (fp *filterProcessor) flush() error { return fp.next.flush() }

func (p *parser) parseFilterPipe(keyword bool) (Pipe, error) {
	if keyword {
		p.lx.advance()
	}
	if p.lx.atEnd() || p.lx.is("|", ")") {
		return nil, p.errAt("missing filter in the filter pipe")
	}
	f, err := p.parseOr("")
	if err != nil {
		return nil, err
	}
	return &PipeFilter{Filter: f}, nil
}
