package query

import (
	"fmt"
	"html"
	"strconv"
	"strings"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/valyala/fastjson"
)

// UnpackOptions are the options shared by unpack_json and extract:
// keep_original_fields and skip_empty_results.
type UnpackOptions struct {
	KeepOriginalFields bool
	SkipEmptyResults   bool
}

func (o UnpackOptions) String() string {
	s := ""
	if o.KeepOriginalFields {
		s += " keep_original_fields"
	}
	if o.SkipEmptyResults {
		s += " skip_empty_results"
	}
	return s
}

// writeFields sets the extracted fields on a copy of r's fields.
func (o UnpackOptions) writeFields(r Row, names, values []string) Row {
	fields := make([]model.Field, len(r.Fields), len(r.Fields)+len(names))
	copy(fields, r.Fields)
	for i, name := range names {
		v := values[i]
		if o.SkipEmptyResults && v == "" {
			continue
		}
		if o.KeepOriginalFields && r.Get(name) != "" {
			continue
		}
		fields = setField(fields, name, v)
	}
	r.Fields = fields
	return r
}

func ifString(f Filter) string {
	if f == nil {
		return ""
	}
	return " if (" + f.String() + ")"
}

func fromString(from string) string {
	if from == "_msg" {
		return ""
	}
	return " from " + quoteIfNeeded(from)
}

// PipeUnpackJSON is `unpack_json [if (filter)] [from field] [fields (a,
// b)] [result_prefix "p"] [keep_original_fields] [skip_empty_results]`:
// the JSON object in the field (default `_msg`) becomes fields. Nested
// objects flatten with dots, strings are unescaped, numbers, booleans and
// arrays keep their JSON text, null is skipped. Values that are not JSON
// objects leave the row unchanged; with `fields (...)` the listed fields
// missing from the object are set empty.
type PipeUnpackJSON struct {
	If           Filter
	From         string
	Fields       []string
	ResultPrefix string
	UnpackOptions
}

func (p *PipeUnpackJSON) String() string {
	s := "unpack_json" + ifString(p.If) + fromString(p.From)
	if len(p.Fields) > 0 {
		s += " fields (" + fieldNames(p.Fields) + ")"
	}
	if p.ResultPrefix != "" {
		s += " result_prefix " + quoteIfNeeded(p.ResultPrefix)
	}
	return s + p.UnpackOptions.String()
}

func (p *PipeUnpackJSON) newProcessor(_ *exec, next processor, _ []Pipe) (processor, error) {
	var jp fastjson.Parser
	return mapProcessor(next, func(r Row) Row { return p.apply(&jp, r) }), nil
}

func (p *PipeUnpackJSON) wanted(name string) bool {
	if len(p.Fields) == 0 {
		return true
	}
	for _, pat := range p.Fields {
		if matchFieldPattern(pat, name) {
			return true
		}
	}
	return false
}

func (p *PipeUnpackJSON) apply(jp *fastjson.Parser, r Row) Row {
	if p.If != nil && !p.If.Match(&r) {
		return r
	}
	src := r.Get(p.From)
	if src == "" || src[0] != '{' {
		return r
	}
	var names, values []string
	if v, err := jp.Parse(src); err == nil && v.Type() == fastjson.TypeObject {
		o, _ := v.Object()
		flattenJSON(o, "", func(k, val string) {
			if p.wanted(k) {
				names, values = append(names, k), append(values, val)
			}
		})
	}
	for _, pat := range p.Fields {
		if !strings.HasSuffix(pat, "*") && !contains(names, pat) {
			names, values = append(names, pat), append(values, "")
		}
	}
	for i := range names {
		names[i] = p.ResultPrefix + names[i]
	}
	return p.writeFields(r, names, values)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// flattenJSON calls fn for every leaf of o with its dotted name.
func flattenJSON(o *fastjson.Object, prefix string, fn func(k, v string)) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		k := prefix + string(key)
		switch v.Type() {
		case fastjson.TypeNull:
		case fastjson.TypeObject:
			sub, _ := v.Object()
			flattenJSON(sub, k+".", fn)
		case fastjson.TypeString:
			b, _ := v.StringBytes()
			fn(k, string(b))
		default:
			fn(k, string(v.MarshalTo(nil)))
		}
	})
}

// PipeExtract is `extract [if (filter)] "text<field>text..." [from field]
// [keep_original_fields] [skip_empty_results]`: VictoriaLogs' pattern
// extraction (see docs/query.md). Build it with NewPipeExtract.
type PipeExtract struct {
	If      Filter
	Pattern string
	From    string
	UnpackOptions
	steps []extractStep
	names []string
}

type extractStep struct {
	prefix string // text before the placeholder (HTML-unescaped)
	field  string // "" for <_> and the trailing text
	plain  bool   // <plain:name>: no automatic unquoting
}

// NewPipeExtract compiles pattern.
func NewPipeExtract(pattern, from string) (*PipeExtract, error) {
	steps, err := parseExtractPattern(pattern)
	if err != nil {
		return nil, err
	}
	p := &PipeExtract{Pattern: pattern, From: from, steps: steps}
	for _, st := range steps {
		if st.field != "" {
			p.names = append(p.names, st.field)
		}
	}
	if len(p.names) == 0 {
		return nil, fmt.Errorf("pattern %q has no named <field>", truncate(pattern, 64))
	}
	return p, nil
}

func parseExtractPattern(s string) ([]extractStep, error) {
	var steps []extractStep
	for {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			if s != "" || len(steps) == 0 {
				steps = append(steps, extractStep{prefix: html.UnescapeString(s)})
			}
			break
		}
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			return nil, fmt.Errorf("missing '>' after %q in extract pattern", truncate(s[lt:], 32))
		}
		st := extractStep{prefix: html.UnescapeString(s[:lt])}
		name := s[lt+1 : lt+gt]
		if opt, rest, ok := strings.Cut(name, ":"); ok {
			if strings.TrimSpace(opt) != "plain" {
				return nil, fmt.Errorf("unknown option %q in <%s>; only plain: is supported", opt, name)
			}
			st.plain, name = true, rest
		}
		name = strings.TrimSpace(name)
		if name != "_" && name != "*" {
			st.field = name
		}
		if len(steps) > 0 && st.prefix == "" {
			return nil, fmt.Errorf("missing text between <%s> and <%s> in extract pattern", steps[len(steps)-1].field, name)
		}
		steps = append(steps, st)
		s = s[lt+gt+1:]
	}
	return steps, nil
}

// match applies the pattern; unmatched placeholders stay empty.
func (p *PipeExtract) match(s string) []string {
	out := make([]string, len(p.steps))
	n := strings.Index(s, p.steps[0].prefix)
	if n < 0 {
		return out
	}
	s = s[n+len(p.steps[0].prefix):]
	for i := range p.steps {
		next := ""
		if i+1 < len(p.steps) {
			next = p.steps[i+1].prefix
		}
		if !p.steps[i].plain && s != "" && (s[0] == '"' || s[0] == '`') {
			if q, err := strconv.QuotedPrefix(s); err == nil {
				if v, err := strconv.Unquote(q); err == nil {
					out[i] = v
					s = s[len(q):]
					if !strings.HasPrefix(s, next) {
						return out
					}
					s = s[len(next):]
					continue
				}
			}
		}
		if next == "" {
			out[i] = s
			return out
		}
		n := strings.Index(s, next)
		if n < 0 {
			return out
		}
		out[i], s = s[:n], s[n+len(next):]
	}
	return out
}

func (p *PipeExtract) String() string {
	return "extract" + ifString(p.If) + " " + strconv.Quote(p.Pattern) + fromString(p.From) + p.UnpackOptions.String()
}

func (p *PipeExtract) newProcessor(_ *exec, next processor, _ []Pipe) (processor, error) {
	return mapProcessor(next, p.apply), nil
}

func (p *PipeExtract) apply(r Row) Row {
	if p.If != nil && !p.If.Match(&r) {
		return r
	}
	m := p.match(r.Get(p.From))
	values := make([]string, 0, len(p.names))
	for i, st := range p.steps {
		if st.field != "" {
			values = append(values, m[i])
		}
	}
	return p.writeFields(r, p.names, values)
}
