package query

import (
	"math"
	"regexp"
	"strings"
)

// pipeKeywords are the pipe names a query's filter must not start with
// (VictoriaLogs rejects them too; quote the word to search for it).
var pipeKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`block_stats blocks_count collapse_nums copy cp decolorize delete
	del rm drop drop_empty_fields extract extract_regexp facets field_names field_values fields keep
	filter where first format join json_array_len hash last len limit head math eval offset skip
	pack_json pack_logfmt rename mv replace replace_regexp sample sort order stats stats_remote
	stream_context top union uniq unpack_json unpack_logfmt unpack_syslog unpack_words unroll`) {
		m[w] = true
	}
	return m
}()

// parseQueryFilter parses the filter part of a query.
func (p *parser) parseQueryFilter() (Filter, error) {
	if p.lx.atEnd() || p.lx.is("|") {
		return nil, p.errAt("missing filter; use `*` to select all logs")
	}
	if p.lx.is("options") {
		st := p.lx.save()
		p.lx.advance()
		isOptions := p.lx.is("(")
		p.lx.restore(st)
		if isOptions {
			return nil, p.errAt("query options(...) are not supported by logbucket")
		}
	}
	if !p.lx.tok.quoted && pipeKeywords[strings.ToLower(p.lx.tok.raw)] {
		return nil, p.errAt("the query cannot start with the pipe name %q; quote it to search for the word", p.lx.tok.raw)
	}
	return p.parseOr("")
}

// parseOr parses `a OR b OR ...`; field is the field set by an enclosing
// `field:(...)`, or "" for the default.
func (p *parser) parseOr(field string) (Filter, error) {
	var filters []Filter
	for {
		f, err := p.parseAnd(field)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
		if !p.lx.is("or") {
			break
		}
		p.lx.advance()
		if p.lx.atEnd() || p.lx.is("|", ")") {
			return nil, p.errAt("missing filter after 'or'")
		}
	}
	if len(filters) == 1 {
		return filters[0], nil
	}
	return &FilterOr{Filters: filters}, nil
}

// parseAnd parses `a AND b`, `a b`.
func (p *parser) parseAnd(field string) (Filter, error) {
	var filters []Filter
	for {
		f, err := p.parseGeneric(field)
		if err != nil {
			return nil, err
		}
		filters = append(filters, f)
		if p.lx.atEnd() || p.lx.is("or", "|", ")") {
			break
		}
		if p.lx.is("and") {
			p.lx.advance()
			if p.lx.atEnd() || p.lx.is("|", ")", "or") {
				return nil, p.errAt("missing filter after 'and'")
			}
		}
	}
	if len(filters) == 1 {
		return filters[0], nil
	}
	return &FilterAnd{Filters: filters}, nil
}

// parseGeneric parses one filter operand.
func (p *parser) parseGeneric(field string) (Filter, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	lx := p.lx
	switch {
	case lx.is("{"):
		if field != "" && field != "_stream" {
			return nil, p.errAt("stream filter {...} applies to _stream only, not to %q", field)
		}
		return p.parseStreamFilter()
	case lx.is(":"):
		lx.advance()
		return p.parseGeneric(field)
	case lx.is("*"):
		lx.advance()
		if lx.is(":") {
			return nil, p.errAt("wildcard field names are not supported")
		}
		if field == "" {
			return &FilterAny{}, nil
		}
		return &FilterExists{Field: field}, nil
	case lx.is("("):
		if !lx.tok.space && lx.prev.raw != "" && !isParenOpener(lx.prev) {
			return nil, p.errAt("missing whitespace between %q and '('", lx.prev.raw)
		}
		return p.parseParens(field)
	case lx.is(">", "<"):
		return p.parseCompare(field)
	case lx.is("="):
		return p.parseExact(field)
	case lx.is("!="):
		f, err := p.parseExact(field)
		if err != nil {
			return nil, err
		}
		return &FilterNot{Filter: f}, nil
	case lx.is("~", "!~"):
		return p.parseTilde(field)
	case lx.is("not", "!", "-"):
		return p.parseNot(field)
	case lx.is("i", "in", "range", "exact", "re"):
		return p.parseFunc(field)
	case lx.is(",", ")", "[", "]", "|", ""):
		if lx.atEnd() {
			return nil, p.errAt("missing filter")
		}
		return nil, p.errAt("unexpected %q", lx.tok.raw)
	}
	if f, err := p.unsupportedFunc(); f || err != nil {
		return nil, err
	}
	stops := phraseStops
	if field == "" {
		stops = phraseStopsTop
	}
	phrase, err := p.compound("filter", stops...)
	if err != nil {
		return nil, err
	}
	return p.parsePhraseTail(phrase, field)
}

func isParenOpener(t token) bool {
	if t.quoted {
		return false
	}
	switch strings.ToLower(t.raw) {
	case ":", "(", "!", "-", "not":
		return true
	}
	return false
}

var unsupportedFuncs = map[string]bool{
	"contains_all": true, "contains_any": true, "seq": true, "eq_field": true, "le_field": true,
	"lt_field": true, "len_range": true, "ipv4_range": true, "string_range": true, "value_type": true,
}

// unsupportedFunc reports LogsQL filter functions this implementation
// lacks, when they are called with parentheses.
func (p *parser) unsupportedFunc() (bool, error) {
	t := p.lx.tok
	if t.quoted || !unsupportedFuncs[strings.ToLower(t.raw)] {
		return false, nil
	}
	st := p.lx.save()
	p.lx.advance()
	isCall := p.lx.is("(") && !p.lx.tok.space
	p.lx.restore(st)
	if !isCall {
		return false, nil
	}
	return true, p.errAt("the %s() filter is not supported by logbucket", strings.ToLower(t.raw))
}

// parsePhraseTail turns a phrase into a word, phrase or prefix filter, or
// treats it as a field name when a ':' follows.
func (p *parser) parsePhraseTail(phrase, field string) (Filter, error) {
	lx := p.lx
	if field != "" || !lx.is(":") {
		if lx.is("*") && !lx.tok.space {
			lx.advance()
			if lx.is(":") {
				return nil, p.errAt("field name prefixes such as %q* are not supported", phrase)
			}
			return newPrefixFilter(canonicalField(field), phrase), nil
		}
		return newPhraseFilter(canonicalField(field), phrase), nil
	}
	lx.advance()
	if lx.atEnd() {
		return nil, p.errAt("missing filter after %q", phrase+":")
	}
	switch phrase {
	case "_time":
		return p.parseTimeFilter()
	case "_stream":
		if !lx.is("{") {
			return nil, p.errAt("_stream: must be followed by a stream filter {...}")
		}
		return p.parseStreamFilter()
	}
	return p.parseGeneric(canonicalField(phrase))
}

func canonicalField(field string) string {
	if field == "" {
		return "_msg"
	}
	return field
}

func newPhraseFilter(field, phrase string) Filter {
	if isSingleToken(phrase) {
		return &FilterWord{Field: field, Word: phrase}
	}
	return &FilterPhrase{Field: field, Phrase: phrase}
}

func newPrefixFilter(field, prefix string) Filter {
	if prefix == "" {
		return &FilterExists{Field: field}
	}
	return &FilterPrefix{Field: field, Prefix: prefix}
}

func (p *parser) parseParens(field string) (Filter, error) {
	p.lx.advance()
	if p.lx.atEnd() {
		return nil, p.errAt("missing filter after '('")
	}
	f, err := p.parseOr(field)
	if err != nil {
		return nil, err
	}
	if err := p.expect(")", "to close '('"); err != nil {
		return nil, err
	}
	return f, nil
}

func (p *parser) parseNot(field string) (Filter, error) {
	kw := p.lx.tok.raw
	p.lx.advance()
	if p.lx.atEnd() || p.lx.is("|", ")") {
		return nil, p.errAt("missing filter after %q", kw)
	}
	f, err := p.parseGeneric(field)
	if err != nil {
		return nil, err
	}
	if n, ok := f.(*FilterNot); ok {
		return n.Filter, nil
	}
	return &FilterNot{Filter: f}, nil
}

// parseFunc parses i(), in(), range(), exact() and re(); without a '('
// right after, the name is an ordinary word.
func (p *parser) parseFunc(field string) (Filter, error) {
	name := strings.ToLower(p.lx.tok.raw)
	st := p.lx.save()
	p.lx.advance()
	isCall := p.lx.is("(") || name == "range" && p.lx.is("[")
	p.lx.restore(st)
	if !isCall {
		stops := phraseStops
		if field == "" {
			stops = phraseStopsTop
		}
		phrase, err := p.compound("filter", stops...)
		if err != nil {
			return nil, err
		}
		return p.parsePhraseTail(phrase, field)
	}
	f := canonicalField(field)
	switch name {
	case "i":
		return p.parseAnyCase(f)
	case "in":
		return p.parseIn(f)
	case "range":
		return p.parseRange(f)
	case "exact":
		return p.parseExactFunc(f)
	default:
		return p.parseRegexpFunc(f)
	}
}

// parseFuncArgMaybePrefix parses `(arg)` or `(arg*)`.
func (p *parser) parseFuncArgMaybePrefix(fn string) (string, bool, error) {
	p.lx.advance() // the name
	p.lx.advance() // '('
	arg := ""
	if !p.lx.is("*") {
		a, err := p.compound("argument of "+fn+"()", argStops...)
		if err != nil {
			return "", false, err
		}
		arg = a
	}
	prefix := false
	if p.lx.is("*") && (!p.lx.tok.space || arg == "") {
		prefix = true
		p.lx.advance()
	}
	if err := p.expect(")", "in "+fn+"()"); err != nil {
		return "", false, err
	}
	return arg, prefix, nil
}

func (p *parser) parseAnyCase(field string) (Filter, error) {
	arg, prefix, err := p.parseFuncArgMaybePrefix("i")
	if err != nil {
		return nil, err
	}
	if prefix {
		return &FilterAnyCasePrefix{Field: field, Prefix: arg}, nil
	}
	return &FilterAnyCasePhrase{Field: field, Phrase: arg}, nil
}

func (p *parser) parseExactFunc(field string) (Filter, error) {
	arg, prefix, err := p.parseFuncArgMaybePrefix("exact")
	if err != nil {
		return nil, err
	}
	if prefix {
		return &FilterExactPrefix{Field: field, Prefix: arg}, nil
	}
	return &FilterExact{Field: field, Value: arg}, nil
}

func (p *parser) parseIn(field string) (Filter, error) {
	p.lx.advance()
	pos := p.lx.tok.pos
	args, err := p.parseArgs("in")
	if err != nil {
		if pe, ok := err.(*ParseError); ok && p.lx.is("|") {
			pe.Msg = "subqueries in in(...) are not supported by logbucket"
		}
		return nil, err
	}
	if len(args) == 1 && args[0] == "*" {
		return &FilterAny{}, nil
	}
	for _, a := range args {
		if a == "*" {
			return nil, p.errorf(pos, "'*' must be the only argument of in()")
		}
	}
	return &FilterIn{Field: field, Values: args}, nil
}

func (p *parser) parseRegexpFunc(field string) (Filter, error) {
	p.lx.advance()
	pos := p.lx.tok.pos
	args, err := p.parseArgs("re")
	if err != nil {
		return nil, err
	}
	if len(args) != 1 {
		return nil, p.errorf(pos, "re() takes exactly one argument; got %d", len(args))
	}
	return p.newRegexp(pos, field, args[0])
}

func (p *parser) newRegexp(pos int, field, expr string) (Filter, error) {
	f, err := NewFilterRegexp(field, expr)
	if err != nil {
		return nil, p.errorf(pos, "%v", err)
	}
	return f, nil
}

func (p *parser) parseTilde(field string) (Filter, error) {
	neg := p.lx.is("!~")
	p.lx.advance()
	pos := p.lx.tok.pos
	expr, err := p.compound("regexp after '~'", valueStops...)
	if err != nil {
		return nil, err
	}
	f, err := p.newRegexp(pos, canonicalField(field), expr)
	if err != nil {
		return nil, err
	}
	if neg {
		return &FilterNot{Filter: f}, nil
	}
	return f, nil
}

// parseExact parses `=value`, `="value"*` (also after '!=').
func (p *parser) parseExact(field string) (Filter, error) {
	p.lx.advance()
	arg := ""
	if !p.lx.atEnd() && !p.lx.is(argStops...) {
		a, err := p.compound("value after '='", argStops...)
		if err != nil {
			return nil, err
		}
		arg = a
	}
	f := canonicalField(field)
	if p.lx.is("*") && !p.lx.tok.space {
		p.lx.advance()
		return &FilterExactPrefix{Field: f, Prefix: arg}, nil
	}
	return &FilterExact{Field: f, Value: arg}, nil
}

// parseCompare parses `>N`, `>=N`, `<N`, `<=N`; a non-numeric argument
// makes a string comparison.
func (p *parser) parseCompare(field string) (Filter, error) {
	op := p.lx.tok.raw
	p.lx.advance()
	if p.lx.is("=") && !p.lx.tok.space {
		op += "="
		p.lx.advance()
	}
	arg, err := p.compound("value after '"+op+"'", valueStops...)
	if err != nil {
		return nil, err
	}
	f := canonicalField(field)
	v, ok := parseNumber(arg)
	if !ok {
		return &FilterStringRange{Field: f, Op: op, Value: arg}, nil
	}
	r := &FilterRange{Field: f, Min: math.Inf(-1), Max: math.Inf(1)}
	if op[0] == '>' {
		r.Min, r.IncludeMin = v, len(op) == 2
	} else {
		r.Max, r.IncludeMax = v, len(op) == 2
	}
	return r, nil
}

// parseRange parses `range(a, b)` with '[' / ']' for inclusive bounds.
func (p *parser) parseRange(field string) (Filter, error) {
	p.lx.advance()
	r := &FilterRange{Field: field, IncludeMin: p.lx.is("[")}
	p.lx.advance()
	lo, err := p.numberArg("lower bound of range()")
	if err != nil {
		return nil, err
	}
	if err := p.expect(",", "between the bounds of range()"); err != nil {
		return nil, err
	}
	hi, err := p.numberArg("upper bound of range()")
	if err != nil {
		return nil, err
	}
	switch {
	case p.lx.is("]"):
		r.IncludeMax = true
	case p.lx.is(")"):
	default:
		return nil, p.errAt("range() must end with ')' or ']'")
	}
	p.lx.advance()
	r.Min, r.Max = lo, hi
	return r, nil
}

func (p *parser) numberArg(what string) (float64, error) {
	pos := p.lx.tok.pos
	s, err := p.compound(what, valueStops...)
	if err != nil {
		return 0, err
	}
	v, ok := parseNumber(s)
	if !ok {
		return 0, p.errorf(pos, "%s must be a number; got %q", what, s)
	}
	return v, nil
}

// parseStreamFilter parses `{label op "value", ... or ...}`.
func (p *parser) parseStreamFilter() (Filter, error) {
	p.lx.advance() // '{'
	f := &FilterStream{}
	if p.lx.is("}") {
		p.lx.advance()
		return f, nil
	}
	for {
		group, err := p.parseStreamGroup()
		if err != nil {
			return nil, err
		}
		f.Or = append(f.Or, group)
		if p.lx.is("}") {
			p.lx.advance()
			return f, nil
		}
		if !p.lx.is("or") {
			return nil, p.errAt("unexpected %q in stream filter; want ',', 'or' or '}'", p.lx.tok.raw)
		}
		p.lx.advance()
	}
}

func (p *parser) parseStreamGroup() ([]StreamMatcher, error) {
	var group []StreamMatcher
	for {
		m, err := p.parseStreamMatcher()
		if err != nil {
			return nil, err
		}
		group = append(group, m)
		if !p.lx.is(",") {
			return group, nil
		}
		p.lx.advance()
	}
}

var streamValueStops = []string{",", "{", "}", "(", ")"}

func (p *parser) parseStreamMatcher() (StreamMatcher, error) {
	label, err := p.compound("label name in stream filter", ",", "{", "}", "=", "!=", "=~", "!~", "(", ")", "|")
	if err != nil {
		return StreamMatcher{}, err
	}
	if !p.lx.is("=", "!=", "=~", "!~", "in", "not_in") {
		return StreamMatcher{}, p.errAt("unsupported operation %q after %q in stream filter; want =, !=, =~, !~, in or not_in", p.lx.tok.raw, label)
	}
	op := strings.ToLower(p.lx.tok.raw)
	p.lx.advance()
	pos := p.lx.tok.pos
	var value string
	if op == "in" || op == "not_in" {
		args, err := p.parseArgs(op)
		if err != nil {
			return StreamMatcher{}, err
		}
		value = alternation(args)
		op = map[string]string{"in": "=~", "not_in": "!~"}[op]
	} else if value, err = p.compound("value for "+label+" in stream filter", streamValueStops...); err != nil {
		return StreamMatcher{}, err
	}
	m, err := NewStreamMatcher(label, op, value)
	if err != nil {
		return StreamMatcher{}, p.errorf(pos, "invalid stream filter regexp for %q: %v", label, err)
	}
	return m, nil
}

// alternation turns in(...) values into an anchored-regexp alternation.
func alternation(values []string) string {
	if len(values) == 1 && values[0] == "*" {
		return ".*"
	}
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(quoted, "|")
}
