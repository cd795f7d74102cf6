package query

import (
	"slices"
	"strings"
)

// unsupportedPipes are LogsQL pipes logbucket does not implement.
var unsupportedPipes = map[string]bool{
	"block_stats": true, "blocks_count": true, "collapse_nums": true, "decolorize": true,
	"drop_empty_fields": true, "extract_regexp": true, "facets": true, "field_names": true,
	"field_values": true, "format": true, "join": true, "json_array_len": true, "hash": true,
	"len": true, "math": true, "eval": true, "pack_json": true, "pack_logfmt": true,
	"replace": true, "replace_regexp": true, "sample": true, "stats_remote": true, "union": true,
	"unpack_logfmt": true, "unpack_syslog": true, "unpack_words": true, "unroll": true,
}

// parsePipe parses the pipe after a '|'; idx is its position.
func (p *parser) parsePipe(idx int) (Pipe, error) {
	lx := p.lx
	kw := strings.ToLower(lx.tok.raw)
	if lx.tok.quoted {
		kw = ""
	}
	switch kw {
	case "fields", "keep":
		return p.parseFieldsPipe(true)
	case "delete", "del", "rm", "drop":
		return p.parseFieldsPipe(false)
	case "rename", "mv":
		return p.parsePairsPipe(true)
	case "copy", "cp":
		return p.parsePairsPipe(false)
	case "sort", "order":
		return p.parseSortPipe()
	case "limit", "head":
		return p.parseLimitPipe()
	case "offset", "skip":
		return p.parseOffsetPipe()
	case "first", "last":
		return p.parseFirstPipe(kw == "last")
	case "stats":
		lx.advance()
		return p.parseStatsPipe()
	case "uniq":
		return p.parseUniqPipe()
	case "top":
		return p.parseTopPipe()
	case "filter", "where":
		return p.parseFilterPipe(true)
	case "unpack_json":
		return p.parseUnpackJSONPipe()
	case "extract":
		return p.parseExtractPipe()
	case "stream_context":
		if idx != 0 {
			return nil, p.errAt("stream_context must be the first pipe, right after the filter")
		}
		return p.parseStreamContextPipe()
	}
	if unsupportedPipes[kw] {
		return nil, p.errAt("the %s pipe is not supported by logbucket", kw)
	}
	if lx.atEnd() || lx.is("|", ")") {
		return nil, p.errAt("missing pipe after '|'")
	}
	return p.parseImplicitPipe()
}

// parseImplicitPipe parses a pipe given without its name: stats functions
// (`| count() n`) or filters (`| level:error`).
func (p *parser) parseImplicitPipe() (Pipe, error) {
	start := p.lx.save()
	if p.looksLikeStats() {
		return p.parseStatsPipe()
	}
	f, err := p.parseFilterPipe(false)
	if err == nil {
		return f, nil
	}
	msg := err.Error()
	if pe, ok := err.(*ParseError); ok {
		msg = pe.Msg
	}
	p.lx.restore(start)
	return nil, p.errAt("unknown pipe %q (not a pipe name, stats function or filter: %s)", p.lx.tok.raw, msg)
}

// looksLikeStats reports whether the tokens start stats functions: a
// `by (` clause or a known function name followed by '('.
func (p *parser) looksLikeStats() bool {
	if p.lx.tok.quoted {
		return false
	}
	name := strings.ToLower(p.lx.tok.raw)
	st := p.lx.save()
	defer p.lx.restore(st)
	p.lx.advance()
	if name == "by" {
		return p.lx.is("(")
	}
	_, known := statsFuncNames[name]
	return known && p.lx.is("(")
}

// parseSortFields parses `(a, b desc, c asc)`.
func (p *parser) parseSortFields() ([]SortField, error) {
	if err := p.expect("(", "before the sort fields"); err != nil {
		return nil, err
	}
	var by []SortField
	for !p.lx.is(")") {
		name, err := p.parseFieldName("sort field")
		if err != nil {
			return nil, err
		}
		f := SortField{Name: name}
		if p.lx.is("desc") {
			f.Desc = true
			p.lx.advance()
		} else if p.lx.is("asc") {
			p.lx.advance()
		}
		by = append(by, f)
		if p.lx.is(")") {
			break
		}
		if err := p.expect(",", "between sort fields"); err != nil {
			return nil, err
		}
	}
	p.lx.advance()
	return by, nil
}

func (p *parser) parseSortPipe() (Pipe, error) {
	p.lx.advance()
	ps := &PipeSort{}
	by, err := p.parseOptionalSortBy()
	if err != nil {
		return nil, err
	}
	ps.By = by
	if p.lx.is("desc") {
		ps.Desc = true
		p.lx.advance()
	} else if p.lx.is("asc") {
		p.lx.advance()
	}
	for {
		var err error
		switch {
		case p.lx.is("offset"):
			p.lx.advance()
			ps.Offset, err = p.parseCountArg("the N of sort offset")
		case p.lx.is("limit"):
			p.lx.advance()
			ps.Limit, err = p.parseCountArg("the N of sort limit")
		case p.lx.is("partition", "rank"):
			return nil, p.errAt("sort ... %s is not supported by logbucket", strings.ToLower(p.lx.tok.raw))
		default:
			return ps, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *parser) parseFirstPipe(last bool) (Pipe, error) {
	p.lx.advance()
	pf := &PipeFirst{N: 1, Last: last}
	if !p.lx.atEnd() && !p.lx.is("by", "(", "|", ")", "partition", "rank") {
		pos := p.lx.tok.pos
		n, err := p.parseCountArg("the N of first/last")
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, p.errorf(pos, "the N of first/last must be at least 1")
		}
		pf.N = n
	}
	by, err := p.parseOptionalSortBy()
	if err != nil {
		return nil, err
	}
	pf.By = by
	if p.lx.is("partition", "rank") {
		return nil, p.errAt("first/last ... %s is not supported by logbucket", strings.ToLower(p.lx.tok.raw))
	}
	return pf, nil
}

// parseByFields parses `[by] (a, b)` or `[by] a, b` for uniq and top.
func (p *parser) parseByFields(pipe string, stops ...string) ([]string, error) {
	needFields := false
	if p.lx.is("by") {
		p.lx.advance()
		needFields = true
	}
	var fields []string
	var err error
	if p.lx.is("(") {
		fields, err = p.parseFieldList("fields of "+pipe, true)
	} else if !p.lx.atEnd() && !p.lx.is(stops...) {
		fields, err = p.parseFieldList("fields of "+pipe, false)
	} else if needFields {
		return nil, p.errAt("missing fields after 'by' in %s", pipe)
	}
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, p.errAt("%s needs at least one field", pipe)
	}
	return fields, nil
}

func (p *parser) parseUniqPipe() (Pipe, error) {
	p.lx.advance()
	fields, err := p.parseByFields("uniq", "with", "hits", "limit", "|", ")")
	if err != nil {
		return nil, err
	}
	pu := &PipeUniq{By: fields}
	if p.lx.is("with") {
		p.lx.advance()
		if !p.lx.is("hits") {
			return nil, p.errAt("missing 'hits' after 'with'")
		}
	}
	if p.lx.is("hits") {
		p.lx.advance()
		pu.Hits = true
	}
	if p.lx.is("limit") {
		p.lx.advance()
		if pu.Limit, err = p.parseCountArg("the N of uniq limit"); err != nil {
			return nil, err
		}
	}
	return pu, nil
}

func (p *parser) parseTopPipe() (Pipe, error) {
	p.lx.advance()
	pt := &PipeTop{N: 10, HitsName: "hits"}
	if p.isNumberStart() {
		pos := p.lx.tok.pos
		n, err := p.parseCountArg("the N of top")
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, p.errorf(pos, "the N of top must be at least 1")
		}
		pt.N = n
	}
	fields, err := p.parseByFields("top", "hits", "rank", "|", ")")
	if err != nil {
		return nil, err
	}
	pt.By = fields
	if p.lx.is("hits") {
		p.lx.advance()
		if p.lx.is("as") {
			p.lx.advance()
		}
		if pt.HitsName, err = p.parseFieldName("name of the hits field"); err != nil {
			return nil, err
		}
	}
	if p.lx.is("rank") {
		return nil, p.errAt("top ... rank is not supported by logbucket")
	}
	for slices.Contains(pt.By, pt.HitsName) {
		pt.HitsName += "s"
	}
	return pt, nil
}

// parseOptionalSortBy parses an optional `[by] (field [desc], ...)`.
func (p *parser) parseOptionalSortBy() ([]SortField, error) {
	if !p.lx.is("by", "(") {
		return nil, nil
	}
	if p.lx.is("by") {
		p.lx.advance()
	}
	return p.parseSortFields()
}
