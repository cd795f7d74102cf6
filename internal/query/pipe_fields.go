package query

import (
	"strings"

	"github.com/logbucket/logbucket/internal/model"
)

// PipeFields is `fields a, b` (alias `keep`): only the listed fields, in
// the listed order; `prefix*` keeps every field with the prefix.
type PipeFields struct{ Fields []string }

func (p *PipeFields) String() string { return "fields " + fieldNames(p.Fields) }

func (p *PipeFields) newProcessor(_ *exec, next processor, _ []Pipe) (processor, error) {
	return mapProcessor(next, p.apply), nil
}

func (p *PipeFields) apply(r Row) Row {
	out := make([]model.Field, 0, len(p.Fields))
	seen := func(name string) bool {
		for i := range out {
			if out[i].Name == name {
				return true
			}
		}
		return false
	}
	for _, pat := range p.Fields {
		if !strings.HasSuffix(pat, "*") {
			if v, ok := r.Lookup(pat); ok && !seen(pat) {
				out = append(out, model.Field{Name: pat, Value: v})
			}
			continue
		}
		if r.hasImplicitTime() && matchFieldPattern(pat, "_time") && !seen("_time") {
			out = append(out, model.Field{Name: "_time", Value: FormatTime(r.Time)})
		}
		for _, f := range r.Fields {
			if matchFieldPattern(pat, f.Name) && !seen(f.Name) {
				out = append(out, f)
			}
		}
	}
	return Row{Time: r.Time, Fields: out, Pos: r.Pos, NoTime: true}
}

// PipeDelete is `delete a, b` (aliases `del`, `rm`, `drop`); `prefix*`
// deletes every field with the prefix.
type PipeDelete struct{ Fields []string }

func (p *PipeDelete) String() string { return "delete " + fieldNames(p.Fields) }

func (p *PipeDelete) newProcessor(_ *exec, next processor, _ []Pipe) (processor, error) {
	return mapProcessor(next, p.apply), nil
}

func (p *PipeDelete) apply(r Row) Row {
	out := make([]model.Field, 0, len(r.Fields))
	for _, f := range r.Fields {
		if !p.matches(f.Name) {
			out = append(out, f)
		}
	}
	r.Fields = out
	if p.matches("_time") {
		r.NoTime = true
	}
	return r
}

func (p *PipeDelete) matches(name string) bool {
	for _, pat := range p.Fields {
		if matchFieldPattern(pat, name) {
			return true
		}
	}
	return false
}

// FieldPair is a `src as dst` pair of rename and copy.
type FieldPair struct{ From, To string }

func pairsString(pairs []FieldPair) string {
	parts := make([]string, len(pairs))
	for i, fp := range pairs {
		parts[i] = quoteIfNeeded(fp.From) + " as " + quoteIfNeeded(fp.To)
	}
	return strings.Join(parts, ", ")
}

// PipeRename is `rename a as b, c as d` (alias `mv`; `as` optional): moves
// each value; a missing source leaves the destination empty.
type PipeRename struct{ Pairs []FieldPair }

func (p *PipeRename) String() string { return "rename " + pairsString(p.Pairs) }

func (p *PipeRename) newProcessor(_ *exec, next processor, _ []Pipe) (processor, error) {
	return mapProcessor(next, func(r Row) Row { return movePairs(r, p.Pairs, true) }), nil
}

// PipeCopy is `copy a as b` (alias `cp`; `as` optional).
type PipeCopy struct{ Pairs []FieldPair }

func (p *PipeCopy) String() string { return "copy " + pairsString(p.Pairs) }

func (p *PipeCopy) newProcessor(_ *exec, next processor, _ []Pipe) (processor, error) {
	return mapProcessor(next, func(r Row) Row { return movePairs(r, p.Pairs, false) }), nil
}

func movePairs(r Row, pairs []FieldPair, remove bool) Row {
	fields := make([]model.Field, len(r.Fields), len(r.Fields)+len(pairs))
	copy(fields, r.Fields)
	r.Fields = fields
	for _, fp := range pairs {
		if fp.From == fp.To {
			continue
		}
		v := r.Get(fp.From)
		if remove {
			r.Fields = deleteField(r.Fields, fp.From)
			if fp.From == "_time" {
				r.NoTime = true
			}
		}
		r.Fields = setField(r.Fields, fp.To, v)
	}
	return r
}

// setField sets name in fields, which the caller owns.
func setField(fields []model.Field, name, value string) []model.Field {
	for i := range fields {
		if fields[i].Name == name {
			fields[i].Value = value
			return fields
		}
	}
	return append(fields, model.Field{Name: name, Value: value})
}

// deleteField removes name from fields, which the caller owns.
func deleteField(fields []model.Field, name string) []model.Field {
	for i := range fields {
		if fields[i].Name == name {
			return append(fields[:i], fields[i+1:]...)
		}
	}
	return fields
}

// mapProcessor applies a stateless per-row function.
type mapProc struct {
	fn   func(Row) Row
	next processor
}

func mapProcessor(next processor, fn func(Row) Row) processor { return &mapProc{fn: fn, next: next} }

func (m *mapProc) push(r Row) error { return m.next.push(m.fn(r)) }

func (m *mapProc) flush() error { return m.next.flush() }

func (p *parser) parseFieldsPipe(keep bool) (Pipe, error) {
	p.lx.advance()
	fields, err := p.parseFieldList("field names", false)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, p.errAt("missing field names")
	}
	if keep {
		return &PipeFields{Fields: fields}, nil
	}
	return &PipeDelete{Fields: fields}, nil
}

func (p *parser) parsePairsPipe(rename bool) (Pipe, error) {
	p.lx.advance()
	var pairs []FieldPair
	for {
		from, err := p.parseFieldName("source field name")
		if err != nil {
			return nil, err
		}
		if p.lx.is("as") {
			p.lx.advance()
		}
		to, err := p.parseFieldName("destination field name")
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(from, "*") || strings.HasSuffix(to, "*") {
			return nil, p.errAt("wildcard field names in rename and copy are not supported by logbucket")
		}
		pairs = append(pairs, FieldPair{From: from, To: to})
		if !p.lx.is(",") {
			break
		}
		p.lx.advance()
	}
	if rename {
		return &PipeRename{Pairs: pairs}, nil
	}
	return &PipeCopy{Pairs: pairs}, nil
}
