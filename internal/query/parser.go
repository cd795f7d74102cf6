package query

import (
	"fmt"
	"strings"
	"time"
)

// maxDepth caps the nesting of parentheses, NOT operators and `if (...)`
// filters, so that hostile queries get an error instead of exhausting the
// stack.
const maxDepth = 200

// maxQueryLen caps the query text (bytes).
const maxQueryLen = 1 << 20

// Query is a parsed LogsQL query: a filter and the pipes applied to the
// rows it selects.
type Query struct {
	Filter Filter
	Pipes  []Pipe
	// Now is the instant relative times (`_time:5m`) were resolved against.
	Now time.Time
}

// String returns the canonical LogsQL text of q; Parse(q.String(), q.Now)
// returns an equal query.
func (q *Query) String() string {
	var b strings.Builder
	b.WriteString(q.Filter.String())
	for _, p := range q.Pipes {
		b.WriteString(" | ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Parse parses a LogsQL query. Relative times resolve against now. Errors
// are *ParseError values naming the byte offset of the problem.
func Parse(s string, now time.Time) (*Query, error) {
	p := &parser{lx: newLexer(s), query: s, now: now.UnixNano()}
	if len(s) > maxQueryLen {
		return nil, p.errorf(maxQueryLen, "query is %d bytes long; the limit is %d", len(s), maxQueryLen)
	}
	f, err := p.parseQueryFilter()
	if err != nil {
		return nil, err
	}
	q := &Query{Filter: f, Now: now}
	for p.lx.is("|") {
		p.lx.advance()
		pipe, err := p.parsePipe(len(q.Pipes))
		if err != nil {
			return nil, err
		}
		q.Pipes = append(q.Pipes, pipe)
	}
	if !p.lx.atEnd() {
		if p.lx.is(")") {
			return nil, p.errAt("unbalanced ')'")
		}
		return nil, p.errAt("unexpected %q; want '|' or the end of the query", p.lx.tok.raw)
	}
	return q, nil
}

type parser struct {
	lx    *lexer
	query string
	now   int64
	depth int
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return &ParseError{Pos: pos, Msg: fmt.Sprintf(format, args...), Query: p.query}
}

// errAt reports an error at the current token.
func (p *parser) errAt(format string, args ...any) error {
	return p.errorf(p.lx.tok.pos, format, args...)
}

// enter increments the nesting depth; callers defer p.leave().
func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.errAt("query nesting is deeper than %d levels", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// unbalancedQuote reports a quote character that starts no valid literal.
func (p *parser) unbalancedQuote() error {
	t := p.lx.tok
	if t.quoted || (t.raw != `"` && t.raw != "'" && t.raw != "`") {
		return nil
	}
	return p.errAt("unbalanced or invalid quoted string starting with %s", t.raw)
}

// compound reads a value made of adjacent tokens with no whitespace in
// between, e.g. `foo-bar`, `1.2.3.4:80`, `2026-01-01T00:00:00Z`, stopping
// at any of the stop tokens. A single quoted token yields its unquoted
// text; glued tokens yield their raw text, as in VictoriaLogs.
func (p *parser) compound(what string, stops ...string) (string, error) {
	if err := p.unbalancedQuote(); err != nil {
		return "", err
	}
	if p.lx.atEnd() || p.lx.is(stops...) {
		if p.lx.atEnd() {
			return "", p.errAt("missing %s", what)
		}
		return "", p.errAt("missing %s before %q", what, p.lx.tok.raw)
	}
	first := p.lx.tok
	p.lx.advance()
	var suffix strings.Builder
	for !p.lx.tok.space && !p.lx.atEnd() && !p.lx.is(stops...) {
		suffix.WriteString(p.lx.tok.raw)
		p.lx.advance()
	}
	if suffix.Len() == 0 {
		return first.text, nil
	}
	return first.raw + suffix.String(), nil
}

var (
	phraseStops    = []string{"*", ",", "(", ")", "[", "]", "|"}
	phraseStopsTop = []string{"*", ",", "(", ")", "[", "]", "|", ":"}
	valueStops     = []string{",", "(", ")", "[", "]", "|"}
	argStops       = []string{"*", ",", "(", ")", "|"}
)

// expect consumes the keyword or reports what was found instead.
func (p *parser) expect(kw, context string) error {
	if !p.lx.is(kw) {
		if p.lx.atEnd() {
			return p.errAt("missing %q %s", kw, context)
		}
		return p.errAt("unexpected %q %s; want %q", p.lx.tok.raw, context, kw)
	}
	p.lx.advance()
	return nil
}

// parseArgs parses `(a, b, "c d")`; `*` is returned as the argument "*".
func (p *parser) parseArgs(fn string) ([]string, error) {
	if err := p.expect("(", "after "+fn); err != nil {
		return nil, err
	}
	var args []string
	for !p.lx.is(")") {
		var arg string
		if p.lx.is("*") {
			p.lx.advance()
			arg = "*"
		} else {
			a, err := p.compound("argument of "+fn+"()", argStops...)
			if err != nil {
				return nil, err
			}
			arg = a
		}
		args = append(args, arg)
		if p.lx.is(")") {
			break
		}
		if err := p.expect(",", "between the arguments of "+fn+"()"); err != nil {
			return nil, err
		}
	}
	p.lx.advance()
	return args, nil
}

// parseFieldName reads a field name (bare, quoted or glued).
func (p *parser) parseFieldName(what string) (string, error) {
	return p.compound(what, ",", "(", ")", "[", "]", "|", "=", "!=", "=~", "!~", "{", "}")
}

// parseFieldList parses `(a, b, c)` or, when parens are optional, `a, b`.
func (p *parser) parseFieldList(what string, needParens bool) ([]string, error) {
	parens := p.lx.is("(")
	if needParens && !parens {
		return nil, p.errAt("missing '(' before the %s", what)
	}
	if parens {
		p.lx.advance()
		if p.lx.is(")") {
			p.lx.advance()
			return nil, nil
		}
	}
	var fields []string
	for {
		name, err := p.parseFieldName(what)
		if err != nil {
			return nil, err
		}
		fields = append(fields, name)
		if !p.lx.is(",") {
			break
		}
		p.lx.advance()
	}
	if parens {
		if err := p.expect(")", "after the "+what); err != nil {
			return nil, err
		}
	}
	return fields, nil
}

// parseCountArg parses the N of `limit N` and similar.
func (p *parser) parseCountArg(what string) (uint64, error) {
	pos := p.lx.tok.pos
	s, err := p.compound(what, valueStops...)
	if err != nil {
		return 0, err
	}
	n, ok := parseCount(s)
	if !ok {
		return 0, p.errorf(pos, "%s must be a non-negative integer; got %q", what, s)
	}
	return n, nil
}

// isNumberStart reports whether the current token can start a number.
func (p *parser) isNumberStart() bool {
	t := p.lx.tok
	if t.quoted || t.raw == "" {
		return false
	}
	c := t.raw[0]
	return c >= '0' && c <= '9'
}
