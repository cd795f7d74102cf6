package query

import (
	"math"
	"strings"
)

// parseTimeFilter parses what follows `_time:`.
func (p *parser) parseTimeFilter() (Filter, error) {
	if p.lx.is("day_range", "week_range") {
		return nil, p.errAt("_time:%s is not supported by logbucket", strings.ToLower(p.lx.tok.raw))
	}
	var f *FilterTime
	if p.lx.is("offset") {
		f = &FilterTime{Min: math.MinInt64, Max: p.now}
	} else {
		var err error
		if f, err = p.parseTimeRange(); err != nil {
			return nil, err
		}
	}
	if !p.lx.is("offset") {
		return f, nil
	}
	p.lx.advance()
	pos := p.lx.tok.pos
	s, err := p.compound("duration after 'offset'", valueStops...)
	if err != nil {
		return nil, err
	}
	d, ok := parseDuration(s)
	if !ok {
		return nil, p.errorf(pos, "cannot parse offset %q as a duration", s)
	}
	if f.Min != math.MinInt64 {
		f.Min = satAdd(f.Min, -d)
	}
	if f.Max != math.MaxInt64 {
		f.Max = satAdd(f.Max, -d)
	}
	if f.repr == "" {
		f.repr = "offset " + s
	} else {
		f.repr += " offset " + s
	}
	return f, nil
}

func (p *parser) parseTimeRange() (*FilterTime, error) {
	switch {
	case p.lx.is(">", "<"):
		return p.parseTimeCompare()
	case p.lx.is("[", "("):
		return p.parseTimeBrackets()
	}
	if p.lx.is("=") {
		p.lx.advance()
	}
	pos := p.lx.tok.pos
	s, err := p.compound("time or duration after _time:", valueStops...)
	if err != nil {
		return nil, err
	}
	if likelyTimestamp(s) {
		start, end, err := parseTimeArg(s, p.now)
		if err != nil {
			return nil, p.errorf(pos, "%v", err)
		}
		return &FilterTime{Min: start, Max: satAdd(end, -1), repr: s}, nil
	}
	d, err := p.duration(pos, s)
	if err != nil {
		return nil, err
	}
	// (now-d, now]
	return &FilterTime{Min: satAdd(satAdd(p.now, -d), 1), Max: p.now, repr: s}, nil
}

func likelyTimestamp(s string) bool {
	return startsWithYear(s) || len(s) >= 3 && strings.EqualFold(s[:3], "now")
}

func (p *parser) duration(pos int, s string) (int64, error) {
	d, ok := parseDuration(s)
	if !ok {
		return 0, p.errorf(pos, "cannot parse %q as a duration or a timestamp", s)
	}
	if d < 0 {
		d = -d
	}
	return d, nil
}

// parseTimeCompare parses `>X`, `>=X`, `<X`, `<=X` where X is a timestamp
// or a duration counted back from now.
func (p *parser) parseTimeCompare() (*FilterTime, error) {
	op := p.lx.tok.raw
	p.lx.advance()
	if p.lx.is("=") {
		op += "="
		p.lx.advance()
	}
	pos := p.lx.tok.pos
	s, err := p.compound("time after '"+op+"'", valueStops...)
	if err != nil {
		return nil, err
	}
	f := &FilterTime{Min: math.MinInt64, Max: math.MaxInt64, repr: op + s}
	incl := len(op) == 2
	if likelyTimestamp(s) {
		start, end, err := parseTimeArg(s, p.now)
		if err != nil {
			return nil, p.errorf(pos, "%v", err)
		}
		switch {
		case op == ">":
			f.Min = satAdd(start, 1)
		case op == ">=":
			f.Min = start
		case op == "<":
			f.Max = satAdd(start, -1)
		default:
			f.Max = satAdd(end, -1)
		}
		return f, nil
	}
	d, err := p.duration(pos, s)
	if err != nil {
		return nil, err
	}
	bound := satAdd(p.now, -d)
	if op[0] == '>' { // older than now-d
		f.Max = bound
		if !incl {
			f.Max = satAdd(bound, -1)
		}
		return f, nil
	}
	f.Min, f.Max = bound, p.now // newer than now-d
	if !incl {
		f.Min = satAdd(bound, 1)
	}
	return f, nil
}

// parseTimeBrackets parses `[start, end)` with inclusive '[' ']' and
// exclusive '(' ')' bounds.
func (p *parser) parseTimeBrackets() (*FilterTime, error) {
	open := p.lx.tok.raw
	p.lx.advance()
	startPos := p.lx.tok.pos
	startStr, err := p.compound("start time", valueStops...)
	if err != nil {
		return nil, err
	}
	if err := p.expect(",", "after the start time"); err != nil {
		return nil, err
	}
	endPos := p.lx.tok.pos
	endStr, err := p.compound("end time", valueStops...)
	if err != nil {
		return nil, err
	}
	if !p.lx.is("]", ")") {
		return nil, p.errAt("the time range must end with ']' or ')'")
	}
	closing := p.lx.tok.raw
	p.lx.advance()
	start, _, err := parseTimeArg(startStr, p.now)
	if err != nil {
		return nil, p.errorf(startPos, "%v", err)
	}
	endStart, endEnd, err := parseTimeArg(endStr, p.now)
	if err != nil {
		return nil, p.errorf(endPos, "%v", err)
	}
	f := &FilterTime{Min: start, Max: satAdd(endEnd, -1), repr: open + startStr + ", " + endStr + closing}
	if open == "(" {
		f.Min = satAdd(start, 1)
	}
	if closing == ")" {
		f.Max = satAdd(endStart, -1)
	}
	return f, nil
}

// satAdd adds without wrapping around int64.
func satAdd(a, b int64) int64 {
	s := a + b
	switch {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	}
	return s
}
