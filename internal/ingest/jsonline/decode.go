package jsonline

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/valyala/fastjson"

	"github.com/logbucket/logbucket/internal/ingest"
)

// poolMaxLine is the longest line after which a Decoder is not pooled, so
// that a single huge line does not pin its buffers.
const poolMaxLine = 1 << 20

// maxDetailBytes bounds the fastjson error text quoted in a rejection.
const maxDetailBytes = 256

// minRecordBytes is the line length assumed when reserving records.
const minRecordBytes = 32

var (
	newline   = []byte{'\n'}
	trueText  = []byte("true")
	falseText = []byte("false")
)

var decoderPool = sync.Pool{New: func() any { return new(Decoder) }}

// Decode decodes the NDJSON body with opts, appending records, rejections
// and discard counts to res. It is safe for concurrent use.
func Decode(body []byte, opts ingest.Options, res *ingest.Result) {
	d := decoderPool.Get().(*Decoder)
	d.Decode(body, opts, res)
	if d.longest <= poolMaxLine {
		decoderPool.Put(d)
	}
}

// Decoder decodes NDJSON bodies, reusing its parser and buffers across
// calls. The zero Decoder is ready to use. It is not safe for concurrent
// use.
type Decoder struct {
	p       fastjson.Parser
	b       ingest.Builder
	name    []byte // dotted name of the field being flattened
	val     []byte // text of a number or array value
	longest int    // longest line decoded so far
}

// Decode decodes the NDJSON body with opts, appending records, rejections
// and discard counts to res.
func (d *Decoder) Decode(body []byte, opts ingest.Options, res *ingest.Result) {
	d.b.SetOptions(opts)
	defer d.b.SetOptions(ingest.Options{}) // do not retain the caller's slices
	// Reserve room for the records, bounded so that a body of blank lines
	// cannot reserve much more memory than its own size.
	lines := bytes.Count(body, newline) + 1
	res.Records = slices.Grow(res.Records, min(lines, len(body)/minRecordBytes+1))
	lineNo := 0
	for len(body) > 0 {
		lineNo++
		line := body
		body = nil
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line, body = line[:i], line[i+1:]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if isBlank(line) {
			continue
		}
		d.longest = max(d.longest, len(line))
		d.decodeLine(line, lineNo, res)
	}
}

// isBlank reports whether line holds only ASCII whitespace.
func isBlank(line []byte) bool {
	for _, c := range line {
		switch c {
		case ' ', '\t', '\r', '\v', '\f':
		default:
			return false
		}
	}
	return true
}

func (d *Decoder) decodeLine(line []byte, lineNo int, res *ingest.Result) {
	v, err := d.p.ParseBytes(line)
	if err != nil {
		res.Reject(lineNo, ingest.ReasonInvalidJSON, syntaxDetail(line, err))
		return
	}
	if v.Type() != fastjson.TypeObject {
		res.Reject(lineNo, ingest.ReasonNotObject, notObjectDetail(v.Type()))
		return
	}
	obj, _ := v.Object() // cannot fail: v is an object
	d.name = d.name[:0]
	d.flatten(obj, 0)
	d.b.FinishInput(lineNo, len(line), res)
}

// flatten adds the fields of o to the builder; d.name[:prefix] is the
// dotted name of o, with its trailing dot. The recursion is bounded by
// fastjson.MaxDepth.
func (d *Decoder) flatten(o *fastjson.Object, prefix int) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		d.name = append(d.name[:prefix], key...)
		switch v.Type() {
		case fastjson.TypeObject:
			d.name = append(d.name, '.')
			inner, _ := v.Object() // cannot fail: v is an object
			d.flatten(inner, len(d.name))
		case fastjson.TypeString:
			s, _ := v.StringBytes() // cannot fail: v is a string
			d.b.Add(d.name, s)
		case fastjson.TypeNumber, fastjson.TypeArray:
			d.val = v.MarshalTo(d.val[:0])
			d.b.Add(d.name, d.val)
		case fastjson.TypeTrue:
			d.b.Add(d.name, trueText)
		case fastjson.TypeFalse:
			d.b.Add(d.name, falseText)
		case fastjson.TypeNull:
			d.b.Add(d.name, nil)
		}
	})
}

// notObjectDetail explains a rejection for a line of JSON type t.
func notObjectDetail(t fastjson.Type) string {
	switch t {
	case fastjson.TypeArray:
		return "JSON array is not an object"
	case fastjson.TypeString:
		return "JSON string is not an object"
	case fastjson.TypeNumber:
		return "JSON number is not an object"
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "JSON boolean is not an object"
	case fastjson.TypeNull:
		return "JSON null is not an object"
	}
	return "JSON value is not an object"
}

// syntaxDetail explains why fastjson rejected line. fastjson's own errors
// nest one phrase per level (kilobytes for deep lines) and carry no offset,
// so the position is found again by syntaxError.
func syntaxDetail(line []byte, parseErr error) string {
	if off, msg := syntaxError(line); off >= 0 {
		return fmt.Sprintf("invalid JSON at byte %d: %s", off, msg)
	}
	// syntaxError mirrors fastjson's grammar, so this is not expected.
	s := parseErr.Error()
	if len(s) > maxDetailBytes {
		s = s[:maxDetailBytes] + "..."
	}
	return "invalid JSON: " + strings.ToValidUTF8(s, "\uFFFD")
}

// syntaxError returns the 0-based offset in s of the first error that
// fastjson's parser finds, and a phrase naming it; -1 if s parses. It
// accepts exactly what fastjson (v1.6) accepts, including its leniencies,
// and uses a heap stack instead of recursion.
func syntaxError(s []byte) (int, string) {
	var stack []byte // '{' or '[' per open container
	i := 0
	for {
		// A value starts at i.
		i = skipWS(s, i)
		if i >= len(s) {
			return i, "unexpected end of input"
		}
		if len(stack) >= fastjson.MaxDepth {
			return i, fmt.Sprintf("nesting deeper than %d levels", fastjson.MaxDepth)
		}
		var msg string
		if c := s[i]; c == '{' || c == '[' {
			j := skipWS(s, i+1)
			if j < len(s) && s[j] == closer(c) {
				i = j + 1 // empty container
			} else {
				stack = append(stack, c)
				if c == '[' {
					i = j
					continue
				}
				if i, msg = objectKey(s, j); msg != "" {
					return i, msg
				}
				continue
			}
		} else if i, msg = scalar(s, i); msg != "" {
			return i, msg
		}
		// A value ended at i: close containers until one needs another value.
		for {
			i = skipWS(s, i)
			if len(stack) == 0 {
				if i < len(s) {
					return i, "unexpected data after the JSON value"
				}
				return -1, ""
			}
			if i >= len(s) {
				return i, "unexpected end of input"
			}
			top := stack[len(stack)-1]
			if s[i] == closer(top) {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			if s[i] != ',' {
				return i, fmt.Sprintf("expected ',' or '%c'", closer(top))
			}
			i++
			if top == '{' {
				if i, msg = objectKey(s, i); msg != "" {
					return i, msg
				}
			}
			break
		}
	}
}

func closer(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}

// skipWS skips the whitespace fastjson skips.
func skipWS(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}

// objectKey scans `"key" :` from i (leading whitespace allowed) and returns
// the offset after the colon, or an error offset and phrase.
func objectKey(s []byte, i int) (int, string) {
	i = skipWS(s, i)
	if i >= len(s) || s[i] != '"' {
		return i, "expected '\"' to start an object key"
	}
	end := stringEnd(s, i+1)
	if end < 0 {
		return len(s), "unterminated string"
	}
	i = skipWS(s, end)
	if i >= len(s) || s[i] != ':' {
		return i, "expected ':' after object key"
	}
	return i + 1, ""
}

// stringEnd returns the offset after the quote closing the string whose
// contents start at start, or -1 if it is unterminated. Like fastjson it
// only pairs backslashes; it does not check escapes or control characters.
func stringEnd(s []byte, start int) int {
	for i := start; ; {
		n := bytes.IndexByte(s[i:], '"')
		if n < 0 {
			return -1
		}
		q := i + n
		k := q
		for k > start && s[k-1] == '\\' {
			k--
		}
		if (q-k)%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

// scalar scans a string, literal or number starting at i and returns the
// offset after it, or an error offset and phrase.
func scalar(s []byte, i int) (int, string) {
	switch s[i] {
	case '"':
		end := stringEnd(s, i+1)
		if end < 0 {
			return len(s), "unterminated string"
		}
		return end, ""
	case 't':
		return literal(s, i, "true")
	case 'f':
		return literal(s, i, "false")
	case 'n':
		if bytes.HasPrefix(s[i:], []byte("null")) {
			return i + 4, ""
		}
		if len(s)-i >= 3 && bytes.EqualFold(s[i:i+3], []byte("nan")) {
			return i + 3, ""
		}
		return i, "invalid literal, want null"
	}
	j := i
	for j < len(s) && isNumberByte(s[j]) {
		j++
	}
	if j == len(s) {
		return j, ""
	}
	if j == i || j == i+1 && (s[i] == '-' || s[i] == '+') {
		if len(s)-j >= 3 && (bytes.EqualFold(s[j:j+3], []byte("inf")) || bytes.EqualFold(s[j:j+3], []byte("nan"))) {
			return j + 3, ""
		}
		return j, unexpectedByte(s[j])
	}
	return j, ""
}

func unexpectedByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("unexpected character %q", c)
	}
	return fmt.Sprintf("unexpected byte 0x%02x", c)
}

func literal(s []byte, i int, want string) (int, string) {
	if bytes.HasPrefix(s[i:], []byte(want)) {
		return i + len(want), ""
	}
	return i, "invalid literal, want " + want
}

// isNumberByte reports whether fastjson takes c as part of a number.
func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'
}
