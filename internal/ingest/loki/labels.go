package loki

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// labelSet holds the decoded labels of one stream: names and values are
// copied into buf, so the set never aliases its input.
type labelSet struct {
	buf   []byte
	pairs []labelPair
	order []int32 // scratch for the duplicate check
}

// labelPair is a label in labelSet.buf: the name is buf[start:mid], the
// value buf[mid:end].
type labelPair struct{ start, mid, end int }

// labelError is a syntax error in a labels string.
type labelError struct {
	off int // byte offset in the labels string
	msg string
}

func (e *labelError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.off) }

func errAt(off int, format string, args ...any) error {
	return &labelError{off: off, msg: fmt.Sprintf(format, args...)}
}

func (ls *labelSet) reset() {
	ls.buf = ls.buf[:0]
	ls.pairs = ls.pairs[:0]
}

func (ls *labelSet) len() int           { return len(ls.pairs) }
func (ls *labelSet) name(i int) []byte  { p := ls.pairs[i]; return ls.buf[p.start:p.mid] }
func (ls *labelSet) value(i int) []byte { p := ls.pairs[i]; return ls.buf[p.mid:p.end] }

// add appends a label; the set copies name and value.
func (ls *labelSet) add(name, value []byte) {
	start := len(ls.buf)
	ls.buf = append(ls.buf, name...)
	mid := len(ls.buf)
	ls.buf = append(ls.buf, value...)
	ls.pairs = append(ls.pairs, labelPair{start, mid, len(ls.buf)})
}

// duplicate returns a name that occurs more than once in the set, if any.
func (ls *labelSet) duplicate() ([]byte, bool) {
	if len(ls.pairs) < 2 {
		return nil, false
	}
	ls.order = ls.order[:0]
	for i := range ls.pairs {
		ls.order = append(ls.order, int32(i))
	}
	slices.SortFunc(ls.order, func(x, y int32) int {
		return cmp.Or(bytes.Compare(ls.name(int(x)), ls.name(int(y))), cmp.Compare(x, y))
	})
	for i := 1; i < len(ls.order); i++ {
		if name := ls.name(int(ls.order[i])); bytes.Equal(name, ls.name(int(ls.order[i-1]))) {
			return name, true
		}
	}
	return nil, false
}

// parse replaces the set with the labels of s, a Prometheus-style label set
// such as `{job="api", level="info"}`:
//
//   - Whitespace (space, tab, CR, LF) is allowed around every token. An
//     empty or all-blank string, like `{}`, is the empty set. A trailing
//     comma before '}' is allowed.
//   - A name is an identifier ([A-Za-z_][A-Za-z0-9_]*) or, as Prometheus 3
//     allows, a non-empty quoted string.
//   - The only operator is '='; matchers such as != or =~ are refused.
//   - A value is a double-quoted string with Go escapes (\" \\ \n \t \xHH
//     \u00e9 ...), as Prometheus's labels.String and strconv.Quote write
//     them, or a `raw` string in backquotes, as LogQL allows.
//   - A name may occur once.
//
// Invalid UTF-8 is kept as is (the Builder replaces it). On error the set
// is left partly filled and must not be used.
func (ls *labelSet) parse(s string) error {
	ls.reset()
	i := skipSpace(s, 0)
	if i == len(s) {
		return nil
	}
	if s[i] != '{' {
		return errAt(i, "expected '{'")
	}
	i++
	for {
		i = skipSpace(s, i)
		if i == len(s) {
			return errAt(i, "expected '}'")
		}
		if s[i] == '}' {
			i++
			break
		}
		var err error
		if i, err = ls.parsePair(s, i); err != nil {
			return err
		}
		i = skipSpace(s, i)
		if i < len(s) && s[i] == ',' {
			i++
			continue
		}
		if i < len(s) && s[i] == '}' {
			i++
			break
		}
		return errAt(i, "expected ',' or '}'")
	}
	if i = skipSpace(s, i); i < len(s) {
		return errAt(i, "unexpected text after '}'")
	}
	if name, dup := ls.duplicate(); dup {
		return fmt.Errorf("duplicate label name %s", quoted(name))
	}
	return nil
}

// parsePair parses `name = "value"` at s[i:] and returns the offset after it.
func (ls *labelSet) parsePair(s string, i int) (int, error) {
	start := len(ls.buf)
	var err error
	if c := s[i]; c == '"' || c == '`' {
		if i, err = ls.appendQuoted(s, i); err != nil {
			return i, err
		}
		if len(ls.buf) == start {
			return i, errAt(i, "empty label name")
		}
	} else {
		j := identEnd(s, i)
		if j == i {
			return i, errAt(i, "expected a label name, found %s", byteName(s, i))
		}
		ls.buf = append(ls.buf, s[i:j]...)
		i = j
	}
	mid := len(ls.buf)
	i = skipSpace(s, i)
	if i == len(s) || s[i] != '=' {
		return i, errAt(i, "expected '=' after the label name, found %s", byteName(s, i))
	}
	if i+1 < len(s) && s[i+1] == '~' {
		return i, errAt(i, "only '=' is allowed in stream labels, not the matcher '=~'")
	}
	i = skipSpace(s, i+1)
	if i == len(s) || s[i] != '"' && s[i] != '`' {
		return i, errAt(i, "expected a quoted label value, found %s", byteName(s, i))
	}
	if i, err = ls.appendQuoted(s, i); err != nil {
		return i, err
	}
	ls.pairs = append(ls.pairs, labelPair{start, mid, len(ls.buf)})
	return i, nil
}

// appendQuoted appends the contents of the quoted string starting at s[i]
// (a '"' or '`') to ls.buf, unescaped, and returns the offset after it.
func (ls *labelSet) appendQuoted(s string, i int) (int, error) {
	open := i
	if s[i] == '`' {
		n := indexByte(s, i+1, '`')
		if n < 0 {
			return len(s), errAt(open, "unterminated raw string")
		}
		ls.buf = append(ls.buf, s[i+1:n]...)
		return n + 1, nil
	}
	i++
	for i < len(s) {
		switch c := s[i]; c {
		case '"':
			return i + 1, nil
		case '\\':
			r, multibyte, tail, err := strconv.UnquoteChar(s[i:], '"')
			if err != nil {
				return i, errAt(i, "invalid escape sequence")
			}
			if multibyte {
				ls.buf = utf8.AppendRune(ls.buf, r)
			} else {
				ls.buf = append(ls.buf, byte(r))
			}
			i = len(s) - len(tail)
		default:
			ls.buf = append(ls.buf, c)
			i++
		}
	}
	return i, errAt(open, "unterminated quoted string")
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// identEnd returns the end of the identifier starting at s[i], i if none.
func identEnd(s string, i int) int {
	j := i
	for j < len(s) {
		c := s[j]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (j == i || c < '0' || c > '9') {
			break
		}
		j++
	}
	return j
}

func indexByte(s string, from int, c byte) int {
	for j := from; j < len(s); j++ {
		if s[j] == c {
			return j
		}
	}
	return -1
}

// byteName names the byte at s[i] for an error message.
func byteName(s string, i int) string {
	if i >= len(s) {
		return "the end"
	}
	if c := s[i]; c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02x", s[i])
}

// maxQuoted bounds the input quoted in a rejection detail.
const maxQuoted = 64

// quoted returns b quoted with %q (valid UTF-8, non-printable bytes
// escaped), cut to maxQuoted bytes of input with "..." after a cut.
func quoted[T string | []byte](b T) string {
	if len(b) > maxQuoted {
		return fmt.Sprintf("%q...", b[:maxQuoted])
	}
	return fmt.Sprintf("%q", b)
}
