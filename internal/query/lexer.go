package query

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/logbucket/logbucket/internal/index"
)

// token is one lexical unit of a query.
type token struct {
	// text is the token's value: unquoted for quoted strings.
	text string
	// raw is the token exactly as written.
	raw string
	// pos is the byte offset of raw in the query.
	pos int
	// quoted is set for "..", '..' and `..` strings.
	quoted bool
	// space is set when whitespace or a comment precedes the token.
	space bool
}

// lexer splits a query into tokens. A bare word is a run of token runes
// (index.IsTokenRune) and dots; quoted strings follow LogsQL string
// literals; "=~", "!~" and "!=" are single tokens; any other rune is a
// token of its own. '#' starts a comment that ends at the line's end.
type lexer struct {
	src  string
	next int // offset of the first byte after tok
	tok  token
	prev token
}

func newLexer(s string) *lexer {
	lx := &lexer{src: s}
	lx.advance()
	return lx
}

// atEnd reports whether every token has been consumed.
func (lx *lexer) atEnd() bool { return lx.tok.raw == "" }

// is reports whether the current token is one of the unquoted keywords,
// compared case-insensitively. The keyword "" matches the end of input.
func (lx *lexer) is(keywords ...string) bool {
	if lx.tok.quoted {
		return false
	}
	for _, kw := range keywords {
		if strings.EqualFold(lx.tok.raw, kw) {
			return true
		}
	}
	return false
}

func (lx *lexer) advance() {
	lx.prev = lx.tok
	s := lx.src
	i := lx.next
	space := false
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == '#' {
			n := strings.IndexByte(s[i:], '\n')
			if n < 0 {
				i = len(s)
			} else {
				i += n + 1
			}
			space = true
			continue
		}
		if r == utf8.RuneError && size <= 1 || !unicode.IsSpace(r) {
			break
		}
		space = true
		i += size
	}
	lx.tok = token{pos: i, space: space}
	if i >= len(s) {
		lx.next = i
		return
	}
	n := scanToken(s[i:])
	lx.tok.raw = s[i : i+n]
	lx.tok.text = lx.tok.raw
	lx.next = i + n
	switch s[i] {
	case '"', '`', '\'':
		if n > 1 {
			if v, ok := unquote(lx.tok.raw); ok {
				lx.tok.text = v
				lx.tok.quoted = true
			}
		}
	}
}

// scanToken returns the byte length of the token that starts s.
func scanToken(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if r != '.' && (r == utf8.RuneError || !index.IsTokenRune(r)) {
			break
		}
		n += size
	}
	if n > 0 {
		return n
	}
	switch s[0] {
	case '"', '`':
		if p, err := strconv.QuotedPrefix(s); err == nil {
			return len(p)
		}
		return 1
	case '\'':
		if p, ok := singleQuotedPrefix(s); ok {
			return len(p)
		}
		return 1
	case '=', '!':
		if len(s) > 1 && (s[1] == '~' || s[0] == '!' && s[1] == '=') {
			return 2
		}
		return 1
	}
	_, size := utf8.DecodeRuneInString(s)
	return size
}

// singleQuotedPrefix returns the '...' literal at the start of s; inside
// it backslash escapes work as in Go strings and \' is a quote.
func singleQuotedPrefix(s string) (string, bool) {
	rest := s[1:]
	for {
		if rest == "" {
			return "", false
		}
		if rest[0] == '\'' {
			return s[:len(s)-len(rest)+1], true
		}
		_, _, tail, err := strconv.UnquoteChar(rest, '\'')
		if err != nil {
			return "", false
		}
		rest = tail
	}
}

// unquote decodes a quoted literal produced by scanToken.
func unquote(raw string) (string, bool) {
	if raw[0] != '\'' {
		v, err := strconv.Unquote(raw)
		return v, err == nil
	}
	var b strings.Builder
	rest := raw[1 : len(raw)-1]
	for rest != "" {
		r, mb, tail, err := strconv.UnquoteChar(rest, '\'')
		if err != nil {
			return "", false
		}
		if mb {
			b.WriteRune(r)
		} else {
			b.WriteByte(byte(r))
		}
		rest = tail
	}
	return b.String(), true
}

// lexState is a saved lexer position for backtracking.
type lexState struct {
	next      int
	tok, prev token
}

func (lx *lexer) save() lexState { return lexState{lx.next, lx.tok, lx.prev} }

func (lx *lexer) restore(st lexState) { lx.next, lx.tok, lx.prev = st.next, st.tok, st.prev }
