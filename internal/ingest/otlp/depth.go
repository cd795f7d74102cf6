package otlp

import (
	"bytes"
	"fmt"
)

// pdata decodes nested attribute values (maps of maps, arrays of arrays)
// by recursion without a depth limit, so a body of a few megabytes nested
// a million levels deep would exhaust the goroutine stack, a fatal error
// that recover cannot catch. checkDepth refuses such bodies before pdata
// sees them.
const (
	// maxValueDepth bounds the nesting of protobuf AnyValue messages: an
	// attribute or body value is at depth 1, a value inside it at 2.
	maxValueDepth = 64
	// maxJSONDepth bounds the nesting of JSON objects and arrays. A value
	// at depth maxValueDepth takes at most 10 brackets to reach plus 4 per
	// level (AnyValue, kvlistValue, values, KeyValue), so it always fits.
	maxJSONDepth = 16 + 4*maxValueDepth
	// flattenDepthCap bounds the recursion of the flattening code whatever
	// the body; checkDepth makes it unreachable.
	flattenDepthCap = maxJSONDepth
)

// checkDepth returns an error if body nests deeper than the limits above.
func checkDepth(body []byte, f Format) error {
	if f == JSON {
		return checkJSONDepth(body)
	}
	return checkProtoDepth(body, msgRequest, 0)
}

// checkJSONDepth scans body for brackets outside strings. It does not
// validate the JSON: pdata does.
func checkJSONDepth(body []byte) error {
	depth := 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			end := stringEnd(body, i+1)
			if end < 0 {
				return nil // unterminated string: pdata reports it
			}
			i = end - 1
		case '{', '[':
			depth++
			if depth > maxJSONDepth {
				return fmt.Errorf("JSON nested deeper than %d levels at byte %d", maxJSONDepth, i)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// stringEnd returns the offset after the quote closing the JSON string
// whose contents start at start, or -1 if it is unterminated.
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

// msgKind names the protobuf messages on the paths from the request to
// an AnyValue.
type msgKind uint8

const (
	msgRequest msgKind = iota
	msgResourceLogs
	msgResource
	msgScopeLogs
	msgScope
	msgLogRecord
	msgKeyValue
	msgAnyValue
	msgArrayValue
	msgKeyValueList
	msgNone
)

// child returns the kind of the message in field num of a message of kind
// k, or msgNone if that field cannot lead to an AnyValue.
func child(k msgKind, num int32) msgKind {
	switch {
	case k == msgRequest && num == 1:
		return msgResourceLogs
	case k == msgResourceLogs && num == 1:
		return msgResource
	case k == msgResourceLogs && (num == 2 || num == 1000): // 1000: deprecated scope logs
		return msgScopeLogs
	case k == msgResource && num == 1, k == msgScope && num == 3,
		k == msgLogRecord && num == 6, k == msgKeyValueList && num == 1:
		return msgKeyValue
	case k == msgScopeLogs && num == 1:
		return msgScope
	case k == msgScopeLogs && num == 2:
		return msgLogRecord
	case k == msgLogRecord && num == 5, k == msgKeyValue && num == 2, k == msgArrayValue && num == 1:
		return msgAnyValue
	case k == msgAnyValue && num == 5:
		return msgArrayValue
	case k == msgAnyValue && num == 6:
		return msgKeyValueList
	}
	return msgNone
}

// Protobuf wire types.
const (
	wireVarint     = 0
	wireFixed64    = 1
	wireBytes      = 2
	wireStartGroup = 3
	wireEndGroup   = 4
	wireFixed32    = 5
)

// checkProtoDepth walks the message b of kind k, whose AnyValue depth is
// depth, into every field that can hold an AnyValue. It reads tags,
// varints and lengths exactly as pdata does and stops quietly where pdata
// would fail, so it visits every byte pdata would decode before failing.
// Its own recursion is bounded by maxValueDepth.
func checkProtoDepth(b []byte, k msgKind, depth int) error {
	for pos := 0; pos < len(b); {
		tag, next, ok := readVarint(b, pos)
		num, wt := int32(tag>>3), int(tag&7)
		if !ok || num <= 0 {
			return nil
		}
		pos = next
		c := child(k, num)
		if c == msgNone || wt != wireBytes {
			if pos, ok = skipField(b, pos, wt); !ok {
				return nil
			}
			continue
		}
		start, end, ok := readLen(b, pos)
		if !ok {
			return nil
		}
		pos = end
		d := depth
		if c == msgAnyValue {
			d++
			if d > maxValueDepth {
				return fmt.Errorf("protobuf values nested deeper than %d levels at byte %d", maxValueDepth, start)
			}
		}
		if err := checkProtoDepth(b[start:end], c, d); err != nil {
			return err
		}
	}
	return nil
}

// readVarint decodes the varint at b[pos:] and returns the position after
// it; ok is false where pdata's ConsumeVarint fails.
func readVarint(b []byte, pos int) (v uint64, next int, ok bool) {
	for shift := uint(0); shift < 64; shift += 7 {
		if pos >= len(b) {
			return 0, 0, false
		}
		c := b[pos]
		pos++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, pos, true
		}
	}
	return 0, 0, false
}

// readLen decodes a length prefix at b[pos:] and returns the bounds of the
// bytes it announces; ok is false where pdata's ConsumeLen fails.
func readLen(b []byte, pos int) (start, end int, ok bool) {
	n, pos, ok := readVarint(b, pos)
	if !ok || int(n) < 0 || int(n) > len(b)-pos {
		return 0, 0, false
	}
	return pos, pos + int(n), true
}

// skipField skips a field value of wire type wt at b[pos:], groups
// included, as pdata's ConsumeUnknown does.
func skipField(b []byte, pos, wt int) (int, bool) {
	groups := 0
	for {
		var ok bool
		switch wt {
		case wireVarint:
			_, pos, ok = readVarint(b, pos)
		case wireFixed64:
			pos, ok = pos+8, pos+8 <= len(b)
		case wireBytes:
			_, pos, ok = readLen(b, pos)
		case wireFixed32:
			pos, ok = pos+4, pos+4 <= len(b)
		case wireStartGroup:
			groups++
			ok = true
		case wireEndGroup:
			groups--
			ok = groups >= 0
		}
		if !ok {
			return 0, false
		}
		if groups == 0 {
			return pos, true
		}
		var tag uint64
		if tag, pos, ok = readVarint(b, pos); !ok || int32(tag>>3) <= 0 {
			return 0, false
		}
		wt = int(tag & 7)
	}
}
