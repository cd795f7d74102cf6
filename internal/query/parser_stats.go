package query

import (
	"strings"
)

// parseStatsPipe parses a stats pipe after the optional `stats` keyword.
func (p *parser) parseStatsPipe() (Pipe, error) {
	ps := &PipeStats{}
	if p.lx.is("by", "(") {
		if p.lx.is("by") {
			p.lx.advance()
		}
		by, err := p.parseStatsBy()
		if err != nil {
			return nil, err
		}
		ps.By = by
	}
	names := map[string]bool{}
	for _, b := range ps.By {
		names[b.Field] = true
	}
	for {
		pos := p.lx.tok.pos
		sf, err := p.parseStatsFunc()
		if err != nil {
			return nil, err
		}
		if names[sf.Name] {
			return nil, p.errorf(pos, "result name %q is used twice (as a by field or another result)", sf.Name)
		}
		names[sf.Name] = true
		ps.Funcs = append(ps.Funcs, sf)
		if !p.lx.is(",") {
			return ps, nil
		}
		p.lx.advance()
	}
}

// parseStatsBy parses `(a, _time:5m offset 1h, b:10)`.
func (p *parser) parseStatsBy() ([]StatsBy, error) {
	if err := p.expect("(", "before the stats by fields"); err != nil {
		return nil, err
	}
	var by []StatsBy
	for !p.lx.is(")") {
		name, err := p.compound("stats by field", ",", "(", ")", "[", "]", "|", ":")
		if err != nil {
			return nil, err
		}
		b := StatsBy{Field: name}
		if p.lx.is(":") {
			p.lx.advance()
			if err := p.parseBucket(&b); err != nil {
				return nil, err
			}
		}
		by = append(by, b)
		if p.lx.is(")") {
			break
		}
		if err := p.expect(",", "between stats by fields"); err != nil {
			return nil, err
		}
	}
	p.lx.advance()
	return by, nil
}

func (p *parser) parseBucket(b *StatsBy) error {
	pos := p.lx.tok.pos
	if p.lx.is("/") {
		return p.errAt("IPv4 buckets (field:/mask) are not supported by logbucket")
	}
	step, err := p.compound("bucket size", valueStops...)
	if err != nil {
		return err
	}
	b.Bucket = step
	if b.step, err = p.bucketValue(pos, b.Field, step, true); err != nil {
		return err
	}
	if !p.lx.is("offset") {
		return nil
	}
	p.lx.advance()
	pos = p.lx.tok.pos
	off, err := p.compound("bucket offset", valueStops...)
	if err != nil {
		return err
	}
	b.Offset = off
	b.offset, err = p.bucketValue(pos, b.Field, off, false)
	return err
}

// bucketValue parses a bucket step or offset.
func (p *parser) bucketValue(pos int, field, s string, isStep bool) (float64, error) {
	if isStep && field == "_time" {
		if v, ok := namedSteps[strings.ToLower(s)]; ok && s == strings.ToLower(s) {
			return v, nil
		}
	}
	var v float64
	var ok bool
	if field == "_time" {
		var d int64
		d, ok = parseDuration(s)
		v = float64(d)
	} else {
		v, ok = parseNumber(s)
	}
	if !ok || isStep && v <= 0 {
		what := "offset"
		if isStep {
			what = "bucket size"
		}
		return 0, p.errorf(pos, "invalid %s %q for %q", what, s, field)
	}
	return v, nil
}

// parseStatsFunc parses `name(args) [if (filter)] [as] result`.
func (p *parser) parseStatsFunc() (StatsFunc, error) {
	var sf StatsFunc
	if p.lx.atEnd() {
		return sf, p.errAt("missing stats function")
	}
	name := strings.ToLower(p.lx.tok.raw)
	mk, known := statsFuncNames[name]
	if p.lx.tok.quoted || !known {
		return sf, p.errAt("unknown stats function %q", p.lx.tok.raw)
	}
	if mk == nil {
		return sf, p.errAt("the %s() stats function is not supported by logbucket", name)
	}
	p.lx.advance()
	pos := p.lx.tok.pos
	args, err := p.parseArgs(name)
	if err != nil {
		return sf, err
	}
	if len(args) == 1 && args[0] == "*" {
		// f(*) is f() in LogsQL (every field): VictoriaLogs' tools send
		// count(*) for count().
		args = nil
	}
	for _, a := range args {
		if strings.HasSuffix(a, "*") {
			return sf, p.errorf(pos, "wildcards in %s() are not supported by logbucket", name)
		}
	}
	fn, msg := mk(args)
	if msg != "" {
		return sf, p.errorf(pos, "%s() %s", name, msg)
	}
	sf.Func = fn
	if p.lx.is("limit") {
		return sf, p.errAt("%s() limit is not supported by logbucket", name)
	}
	if p.lx.is("if") {
		if sf.If, err = p.parseIfFilter(); err != nil {
			return sf, err
		}
	}
	sf.Name = sf.defaultName()
	if p.lx.atEnd() || p.lx.is(",", "|", ")") {
		return sf, nil
	}
	if p.lx.is("as") {
		p.lx.advance()
	}
	if sf.Name, err = p.parseFieldName("result name of " + name + "()"); err != nil {
		return sf, err
	}
	return sf, nil
}

// parseIfFilter parses `if (filters)`.
func (p *parser) parseIfFilter() (Filter, error) {
	p.lx.advance()
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.expect("(", "after 'if'"); err != nil {
		return nil, err
	}
	if p.lx.is(")") {
		return nil, p.errAt("missing filter in if (...)")
	}
	f, err := p.parseOr("")
	if err != nil {
		return nil, err
	}
	if err := p.expect(")", "to close 'if ('"); err != nil {
		return nil, err
	}
	return f, nil
}

// parseUnpackOptions parses trailing keep_original_fields and
// skip_empty_results in any order.
func (p *parser) parseUnpackOptions(o *UnpackOptions) {
	for {
		switch {
		case p.lx.is("keep_original_fields"):
			o.KeepOriginalFields = true
		case p.lx.is("skip_empty_results"):
			o.SkipEmptyResults = true
		default:
			return
		}
		p.lx.advance()
	}
}

func (p *parser) parseFrom() (string, error) {
	if !p.lx.is("from") {
		return "_msg", nil
	}
	p.lx.advance()
	return p.parseFieldName("field name after 'from'")
}

func (p *parser) parseUnpackJSONPipe() (Pipe, error) {
	p.lx.advance()
	pu := &PipeUnpackJSON{}
	var err error
	if p.lx.is("if") {
		if pu.If, err = p.parseIfFilter(); err != nil {
			return nil, err
		}
	}
	if pu.From, err = p.parseFrom(); err != nil {
		return nil, err
	}
	if p.lx.is("fields") {
		p.lx.advance()
		if pu.Fields, err = p.parseFieldList("fields of unpack_json", true); err != nil {
			return nil, err
		}
	}
	if p.lx.is("result_prefix") {
		p.lx.advance()
		if pu.ResultPrefix, err = p.compound("result_prefix value", valueStops...); err != nil {
			return nil, err
		}
	}
	p.parseUnpackOptions(&pu.UnpackOptions)
	return pu, nil
}

func (p *parser) parseExtractPipe() (Pipe, error) {
	p.lx.advance()
	var iff Filter
	var err error
	if p.lx.is("if") {
		if iff, err = p.parseIfFilter(); err != nil {
			return nil, err
		}
	}
	pos := p.lx.tok.pos
	pattern, err := p.compound("extract pattern", valueStops...)
	if err != nil {
		return nil, err
	}
	from, err := p.parseFrom()
	if err != nil {
		return nil, err
	}
	pe, err := NewPipeExtract(pattern, from)
	if err != nil {
		return nil, p.errorf(pos, "%v", err)
	}
	pe.If = iff
	p.parseUnpackOptions(&pe.UnpackOptions)
	return pe, nil
}
