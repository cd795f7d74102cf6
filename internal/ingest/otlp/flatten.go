package otlp

import (
	"encoding/base64"
	"math"
	"strconv"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/logbucket/logbucket/internal/jsonstr"
)

// isReserved reports whether name is one of the names a query reads from
// the record itself rather than from its fields. A top-level attribute or
// body key with such a name is stored with its origin prefixed instead.
func isReserved(name string) bool {
	return name == "_msg" || name == "_time" || name == "_stream"
}

// Origins: the prefixes of reserved top-level names (see isReserved).
const (
	originResource   = "resource."
	originAttributes = "attributes."
	originBody       = "body."
)

// fieldList holds flattened fields outside the builder: the resource and
// scope fields, computed once per ResourceLogs or ScopeLogs and added to
// each of their records.
type fieldList struct {
	buf  []byte      // names and values, back to back
	ends []fieldEnds // where each name and value ends in buf
}

type fieldEnds struct{ name, value int }

func (l *fieldList) reset() {
	l.buf = l.buf[:0]
	l.ends = l.ends[:0]
}

func (l *fieldList) add(name, value string) {
	l.buf = append(l.buf, name...)
	n := len(l.buf)
	l.buf = append(l.buf, value...)
	l.ends = append(l.ends, fieldEnds{name: n, value: len(l.buf)})
}

// flattenValue emits v as the field named d.name, or, for a map, each of
// its entries as d.name + "." + key, recursively. to is the list to fill,
// nil for the pending record. depth is the nesting of v, 1 for a value
// that is not inside another.
func (d *Decoder) flattenValue(v pcommon.Value, to *fieldList, depth int) {
	switch v.Type() {
	case pcommon.ValueTypeMap:
		if depth >= flattenDepthCap {
			return // unreachable: checkDepth refused the body
		}
		d.name = append(d.name, '.')
		prefix := len(d.name)
		for k, e := range v.Map().All() {
			d.name = append(d.name[:prefix], k...)
			d.flattenValue(e, to, depth+1)
		}
	case pcommon.ValueTypeStr:
		d.emit(to, d.name, v.Str())
	default:
		d.val = appendText(d.val[:0], v, depth)
		d.emit(to, d.name, bstr(d.val))
	}
}

// emit adds one flattened field to the list to, or to the pending record
// if to is nil. Both copy name and value, which may alias scratch buffers.
func (d *Decoder) emit(to *fieldList, name []byte, value string) {
	if to != nil {
		to.add(bstr(name), value)
		return
	}
	d.recordBytes += len(name) + len(value)
	d.b.AddString(bstr(name), value)
}

// bstr returns b as a string without a copy. The result must not outlive
// the call it is passed to, nor b change meanwhile: it is only lent to
// functions that copy it (Builder.AddString, fieldList.add).
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// appendText appends the text of a non-string value: integers in decimal,
// doubles as JSON numbers (NaN and infinities as text), booleans as
// true/false, bytes in standard base64, arrays and maps as compact JSON,
// and nothing for an empty value.
func appendText(dst []byte, v pcommon.Value, depth int) []byte {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return append(dst, v.Str()...)
	case pcommon.ValueTypeInt:
		return strconv.AppendInt(dst, v.Int(), 10)
	case pcommon.ValueTypeDouble:
		return appendDouble(dst, v.Double())
	case pcommon.ValueTypeBool:
		return strconv.AppendBool(dst, v.Bool())
	case pcommon.ValueTypeBytes:
		return base64.StdEncoding.AppendEncode(dst, v.Bytes().AsRaw())
	case pcommon.ValueTypeSlice, pcommon.ValueTypeMap:
		return appendJSON(dst, v, depth)
	}
	return dst
}

// appendJSON appends v as compact JSON. Strings and bytes are JSON strings
// (bytes in base64), NaN and infinities are the strings "NaN", "Infinity"
// and "-Infinity", an empty value is null.
func appendJSON(dst []byte, v pcommon.Value, depth int) []byte {
	if depth > flattenDepthCap {
		return append(dst, "null"...) // unreachable: checkDepth refused the body
	}
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return jsonstr.Append(dst, v.Str())
	case pcommon.ValueTypeInt, pcommon.ValueTypeBool:
		return appendText(dst, v, depth)
	case pcommon.ValueTypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			dst = append(dst, '"')
			dst = appendDouble(dst, f)
			return append(dst, '"')
		}
		return appendDouble(dst, f)
	case pcommon.ValueTypeBytes:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v.Bytes().AsRaw())
		return append(dst, '"')
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		dst = append(dst, '[')
		for i := range s.Len() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSON(dst, s.At(i), depth+1)
		}
		return append(dst, ']')
	case pcommon.ValueTypeMap:
		dst = append(dst, '{')
		first := true
		for k, e := range v.Map().All() {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = jsonstr.Append(dst, k)
			dst = append(dst, ':')
			dst = appendJSON(dst, e, depth+1)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}

// appendDouble formats f as JavaScript and encoding/json do: the shortest
// representation, in exponent form only below 1e-6 or from 1e21.
func appendDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 -> 1e-7, as encoding/json does.
		n := len(dst)
		if n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
