package otlp

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strconv"

	jsoniter "github.com/json-iterator/go"
	"github.com/valyala/fastjson"
)

// The direct OTLP/JSON decoder. It parses the body with fastjson and
// reads the request into a compact tree (jval nodes, jres/jscope/jrec),
// then builds the records exactly as the pdata path does (see
// fastjson_build.go). It only takes bodies whose every part it
// recognises and reads exactly as pdata does: any other body (a syntax
// error, an unknown or repeated field, a null, a \u escape,
// a control character in a string, a type other than the one expected, a
// severity number given by name, an id or number pdata would refuse, a
// nesting deeper than maxJSONDepth...) makes readFast return false, and
// Decode then uses pdata, so that the results are always pdata's. Numbers
// in number form are read by json-iterator (the reader pdata uses) once
// their text is checked to be a JSON number.

// jkind is the type of an AnyValue.
type jkind uint8

const (
	jEmpty jkind = iota
	jStr
	jInt
	jDouble
	jBool
	jBytes
	jArray
	jMap
)

// jval is one AnyValue, or one entry of an attribute list or kvlist (key
// set). The children of an array or map follow it in Decoder.vals, in
// order; end is the index after its last descendant.
type jval struct {
	kind jkind
	b    bool
	i    int64
	f    float64
	s    []byte // string (aliases the parser) or decoded bytes
	key  []byte // key of a map entry (aliases the parser)
	end  int
}

// jres is one ResourceLogs: its attributes (a jMap node, -1 if none) and
// its scopes, jd.scopes[scopes:scopesEnd].
type jres struct {
	attrs             int
	scopes, scopesEnd int
}

// jscope is one ScopeLogs: name, version, attributes (-1 if none) and its
// records, jd.recs[recs:recsEnd].
type jscope struct {
	name, version []byte
	attrs         int
	recs, recsEnd int
}

// jrec is one LogRecord.
type jrec struct {
	time, observed uint64
	sev            int32
	flags          uint32
	sevText, event []byte
	trace          [16]byte
	span           [8]byte
	attrs, body    int // -1 if absent
}

// jdoc is the request read by readFast, reused across calls.
type jdoc struct {
	p      fastjson.Parser
	it     *jsoniter.Iterator
	num    []byte
	vals   []jval
	res    []jres
	scopes []jscope
	recs   []jrec
	escape bool // the body has a backslash escape
	bad    bool // the body is not one readFast takes
}

func (j *jdoc) reset() {
	j.vals, j.res, j.scopes, j.recs = j.vals[:0], j.res[:0], j.scopes[:0], j.recs[:0]
	j.escape, j.bad = false, false
}

// release drops the references into the body's parse.
func (j *jdoc) release() {
	clear(j.vals[:cap(j.vals)])
	clear(j.scopes[:cap(j.scopes)])
	clear(j.recs[:cap(j.recs)])
	j.reset()
}

// readFast reads body into j; false if the pdata path must decode it.
func (j *jdoc) readFast(body []byte) bool {
	j.reset()
	if !j.prescan(body) {
		return false
	}
	v, err := j.p.ParseBytes(body)
	if err != nil || v.Type() != fastjson.TypeObject {
		return false
	}
	o, _ := v.Object()
	var seen uint32
	o.Visit(func(key []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		switch string(key) {
		case "resourceLogs", "resource_logs":
			if j.once(&seen, 0) {
				j.eachArray(v, 2, j.resourceLogs)
			}
		default:
			j.bad = true
		}
	})
	return !j.bad
}

// prescan checks that the strings of body hold no control character and no escape other than \" \\ \/ \b \f \n \r \t,
// which fastjson and json-iterator read alike. It does not check the
// syntax (fastjson does).
func (j *jdoc) prescan(body []byte) bool {
	if !hasSpecial(body) {
		return true // no escape, no control character, in strings or out
	}
	in := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !in {
			if c == '"' {
				in = true
			}
			continue
		}
		switch {
		case c == '"':
			in = false
		case c == '\\':
			j.escape = true
			i++
			if i >= len(body) {
				return false
			}
			switch body[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			default:
				return false
			}
		case c < 0x20:
			return false
		}
	}
	return true
}

// hasSpecial reports whether b holds a backslash or a byte below 0x20,
// eight bytes at a time.
func hasSpecial(b []byte) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		ctl := (x - 0x20*ones) &^ x & highs // some byte < 0x20
		y := x ^ '\\'*ones
		bs := (y - ones) &^ y & highs // some byte == '\\'
		if ctl|bs != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 || b[i] == '\\' {
			return true
		}
	}
	return false
}

// once marks field bit in seen; false (and the body bad) if it was
// already seen, under this name or its other spelling.
func (j *jdoc) once(seen *uint32, bit uint) bool {
	if *seen&(1<<bit) != 0 {
		j.bad = true
		return false
	}
	*seen |= 1 << bit
	return true
}

// eachArray calls f on each element of the array v, at JSON depth depth.
func (j *jdoc) eachArray(v *fastjson.Value, depth int, f func(*fastjson.Value, int)) {
	if v.Type() != fastjson.TypeArray || depth > maxJSONDepth {
		j.bad = true
		return
	}
	a, _ := v.Array()
	for _, e := range a {
		if j.bad {
			return
		}
		f(e, depth+1)
	}
}

// object returns v as an object at JSON depth depth, or nil (and the body
// bad).
func (j *jdoc) object(v *fastjson.Value, depth int) *fastjson.Object {
	if v.Type() != fastjson.TypeObject || depth > maxJSONDepth {
		j.bad = true
		return nil
	}
	o, _ := v.Object()
	return o
}

func (j *jdoc) str(v *fastjson.Value) []byte {
	if v.Type() != fastjson.TypeString {
		j.bad = true
		return nil
	}
	s, _ := v.StringBytes()
	return s
}

func (j *jdoc) resourceLogs(v *fastjson.Value, depth int) {
	o := j.object(v, depth)
	if o == nil {
		return
	}
	r := jres{attrs: -1, scopes: len(j.scopes)}
	var seen uint32
	o.Visit(func(key []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		switch string(key) {
		case "resource":
			if j.once(&seen, 0) {
				r.attrs = j.resource(v, depth+1)
			}
		case "scopeLogs", "scope_logs":
			if j.once(&seen, 1) {
				j.eachArray(v, depth+1, j.scopeLogs)
			}
		case "schemaUrl", "schema_url":
			if j.once(&seen, 2) {
				j.str(v)
			}
		default:
			j.bad = true
		}
	})
	r.scopesEnd = len(j.scopes)
	j.res = append(j.res, r)
}

// resource reads a Resource and returns its attributes node, -1 if none.
func (j *jdoc) resource(v *fastjson.Value, depth int) int {
	o := j.object(v, depth)
	if o == nil {
		return -1
	}
	attrs := -1
	var seen uint32
	o.Visit(func(key []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		switch string(key) {
		case "attributes":
			if j.once(&seen, 0) {
				attrs = j.kvList(v, depth+1, nil)
			}
		case "droppedAttributesCount", "dropped_attributes_count":
			if j.once(&seen, 1) {
				j.uint32(v)
			}
		default:
			j.bad = true
		}
	})
	return attrs
}

func (j *jdoc) scopeLogs(v *fastjson.Value, depth int) {
	o := j.object(v, depth)
	if o == nil {
		return
	}
	s := jscope{attrs: -1, recs: len(j.recs)}
	var seen uint32
	o.Visit(func(key []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		switch string(key) {
		case "scope":
			if j.once(&seen, 0) {
				j.scope(v, depth+1, &s)
			}
		case "logRecords", "log_records":
			if j.once(&seen, 1) {
				j.eachArray(v, depth+1, j.logRecord)
			}
		case "schemaUrl", "schema_url":
			if j.once(&seen, 2) {
				j.str(v)
			}
		default:
			j.bad = true
		}
	})
	s.recsEnd = len(j.recs)
	j.scopes = append(j.scopes, s)
}

func (j *jdoc) scope(v *fastjson.Value, depth int, s *jscope) {
	o := j.object(v, depth)
	if o == nil {
		return
	}
	var seen uint32
	o.Visit(func(key []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		switch string(key) {
		case "name":
			if j.once(&seen, 0) {
				s.name = j.str(v)
			}
		case "version":
			if j.once(&seen, 1) {
				s.version = j.str(v)
			}
		case "attributes":
			if j.once(&seen, 2) {
				s.attrs = j.kvList(v, depth+1, nil)
			}
		case "droppedAttributesCount", "dropped_attributes_count":
			if j.once(&seen, 3) {
				j.uint32(v)
			}
		default:
			j.bad = true
		}
	})
}

func (j *jdoc) logRecord(v *fastjson.Value, depth int) {
	o := j.object(v, depth)
	if o == nil {
		return
	}
	r := jrec{attrs: -1, body: -1}
	var seen uint32
	o.Visit(func(key []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		switch string(key) {
		case "timeUnixNano", "time_unix_nano":
			if j.once(&seen, 0) {
				r.time = j.uint64(v)
			}
		case "observedTimeUnixNano", "observed_time_unix_nano":
			if j.once(&seen, 1) {
				r.observed = j.uint64(v)
			}
		case "severityNumber", "severity_number":
			if j.once(&seen, 2) {
				// A name (SEVERITY_NUMBER_INFO) is left to pdata.
				r.sev = j.int32(v)
			}
		case "severityText", "severity_text":
			if j.once(&seen, 3) {
				r.sevText = j.str(v)
			}
		case "body":
			if j.once(&seen, 4) {
				r.body = j.anyValue(v, depth+1, nil)
			}
		case "attributes":
			if j.once(&seen, 5) {
				r.attrs = j.kvList(v, depth+1, nil)
			}
		case "droppedAttributesCount", "dropped_attributes_count":
			if j.once(&seen, 6) {
				j.uint32(v)
			}
		case "flags":
			if j.once(&seen, 7) {
				r.flags = j.uint32(v)
			}
		case "traceId", "trace_id":
			if j.once(&seen, 8) {
				j.id(v, r.trace[:])
			}
		case "spanId", "span_id":
			if j.once(&seen, 9) {
				j.id(v, r.span[:])
			}
		case "eventName", "event_name":
			if j.once(&seen, 10) {
				r.event = j.str(v)
			}
		default:
			j.bad = true
		}
	})
	j.recs = append(j.recs, r)
}

// id reads a hex trace or span id into dst as pdata does: "" is all zero.
func (j *jdoc) id(v *fastjson.Value, dst []byte) {
	s := j.str(v)
	if len(s) == 0 {
		return
	}
	if len(s) != 2*len(dst) {
		j.bad = true
		return
	}
	if _, err := hex.Decode(dst, s); err != nil {
		j.bad = true
	}
}

// kvList reads an array of KeyValue as a jMap node and returns its index.
// key, if not nil, is the key of the node (an entry of a kvlist).
func (j *jdoc) kvList(v *fastjson.Value, depth int, key []byte) int {
	n := len(j.vals)
	j.vals = append(j.vals, jval{kind: jMap, key: key})
	j.eachArray(v, depth, j.keyValue)
	j.vals[n].end = len(j.vals)
	return n
}

func (j *jdoc) keyValue(v *fastjson.Value, depth int) {
	o := j.object(v, depth)
	if o == nil {
		return
	}
	var key []byte
	var val *fastjson.Value
	var seen uint32
	o.Visit(func(k []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		switch string(k) {
		case "key":
			if j.once(&seen, 0) {
				key = j.str(v)
			}
		case "value":
			if j.once(&seen, 1) {
				val = v
			}
		default:
			j.bad = true
		}
	})
	if j.bad {
		return
	}
	if key == nil {
		key = []byte{}
	}
	if val == nil {
		j.vals = append(j.vals, jval{kind: jEmpty, key: key, end: len(j.vals) + 1})
		return
	}
	j.anyValue(val, depth+1, key)
}

// anyValue reads an AnyValue into a node and returns its index.
func (j *jdoc) anyValue(v *fastjson.Value, depth int, key []byte) int {
	n := len(j.vals)
	o := j.object(v, depth)
	if o == nil {
		return n
	}
	if key == nil {
		key = []byte{}
	}
	j.vals = append(j.vals, jval{kind: jEmpty, key: key})
	count := 0
	o.Visit(func(k []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		if count++; count > 1 {
			j.bad = true // several values: left to pdata
			return
		}
		e := &j.vals[n]
		switch string(k) {
		case "stringValue", "string_value":
			e.kind, e.s = jStr, j.str(v)
		case "boolValue", "bool_value":
			switch v.Type() {
			case fastjson.TypeTrue:
				e.kind, e.b = jBool, true
			case fastjson.TypeFalse:
				e.kind = jBool
			default:
				j.bad = true
			}
		case "intValue", "int_value":
			e.kind, e.i = jInt, j.int64(v)
		case "doubleValue", "double_value":
			e.kind, e.f = jDouble, j.float64(v)
		case "bytesValue", "bytes_value":
			e.kind, e.s = jBytes, j.bytes(v)
		case "arrayValue", "array_value":
			e.kind = jArray
			j.arrayValue(v, depth+1)
		case "kvlistValue", "kvlist_value":
			e.kind = jMap
			j.kvlistValue(v, depth+1)
		default:
			j.bad = true
		}
	})
	j.vals[n].end = len(j.vals)
	return n
}

// arrayValue reads the values of an ArrayValue as the children of the node
// being read.
func (j *jdoc) arrayValue(v *fastjson.Value, depth int) {
	o := j.object(v, depth)
	if o == nil {
		return
	}
	var seen uint32
	o.Visit(func(k []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		if string(k) != "values" || !j.once(&seen, 0) {
			j.bad = true
			return
		}
		j.eachArray(v, depth+1, func(v *fastjson.Value, depth int) {
			j.anyValue(v, depth, nil)
		})
	})
}

// kvlistValue reads the values of a KeyValueList as the entries of the
// node being read.
func (j *jdoc) kvlistValue(v *fastjson.Value, depth int) {
	o := j.object(v, depth)
	if o == nil {
		return
	}
	var seen uint32
	o.Visit(func(k []byte, v *fastjson.Value) {
		if j.bad {
			return
		}
		if string(k) != "values" || !j.once(&seen, 0) {
			j.bad = true
			return
		}
		j.eachArray(v, depth+1, j.keyValue)
	})
}

// bytes reads a bytesValue, standard base64, as pdata does.
func (j *jdoc) bytes(v *fastjson.Value) []byte {
	s := j.str(v)
	if len(s) == 0 {
		return nil
	}
	if j.escape {
		// pdata decodes the string as written, escapes included.
		j.bad = true
		return nil
	}
	b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	n, err := base64.StdEncoding.Decode(b, s)
	if err != nil {
		j.bad = true
		return nil
	}
	return b[:n]
}

// Integers and doubles, as a string (read by strconv, as pdata does) or
// as a number (read by json-iterator, as pdata does).

func (j *jdoc) int64(v *fastjson.Value) int64 {
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		x, err := strconv.ParseInt(string(s), 10, 64)
		j.bad = j.bad || err != nil
		return x
	case fastjson.TypeNumber:
		if it := j.number(v, true); it != nil {
			x := it.ReadInt64()
			j.bad = j.bad || it.Error != nil
			return x
		}
	}
	j.bad = true
	return 0
}

func (j *jdoc) int32(v *fastjson.Value) int32 {
	switch v.Type() {
	case fastjson.TypeNumber:
		if it := j.number(v, true); it != nil {
			x := it.ReadInt32()
			j.bad = j.bad || it.Error != nil
			return x
		}
	}
	j.bad = true
	return 0
}

func (j *jdoc) uint64(v *fastjson.Value) uint64 {
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		x, err := strconv.ParseUint(string(s), 10, 64)
		j.bad = j.bad || err != nil
		return x
	case fastjson.TypeNumber:
		if it := j.number(v, true); it != nil {
			x := it.ReadUint64()
			j.bad = j.bad || it.Error != nil
			return x
		}
	}
	j.bad = true
	return 0
}

func (j *jdoc) uint32(v *fastjson.Value) uint32 {
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		x, err := strconv.ParseUint(string(s), 10, 32)
		j.bad = j.bad || err != nil
		return uint32(x)
	case fastjson.TypeNumber:
		if it := j.number(v, true); it != nil {
			x := it.ReadUint32()
			j.bad = j.bad || it.Error != nil
			return x
		}
	}
	j.bad = true
	return 0
}

func (j *jdoc) float64(v *fastjson.Value) float64 {
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		x, err := strconv.ParseFloat(string(s), 64)
		j.bad = j.bad || err != nil
		return x
	case fastjson.TypeNumber:
		if it := j.number(v, false); it != nil {
			x := it.ReadFloat64()
			j.bad = j.bad || it.Error != nil
			return x
		}
	}
	j.bad = true
	return 0
}

// number returns a json-iterator positioned on the number v, followed by
// '}' as in a body; nil if its text is not a JSON number (an integer if
// integer is set), which fastjson may accept.
func (j *jdoc) number(v *fastjson.Value, integer bool) *jsoniter.Iterator {
	j.num = v.MarshalTo(j.num[:0])
	if !isJSONNumber(j.num, integer) {
		return nil
	}
	j.num = append(j.num, '}')
	if j.it == nil {
		j.it = jsoniter.NewIterator(jsoniter.ConfigFastest)
	}
	j.it.ResetBytes(j.num)
	j.it.Error = nil
	return j.it
}

// isJSONNumber reports whether s is a JSON number: -?(0|[1-9][0-9]*), then
// unless integer (\.[0-9]+)?([eE][+-]?[0-9]+)?.
func isJSONNumber(s []byte, integer bool) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	n := digits()
	if n == 0 || (n > 1 && s[start] == '0') {
		return false
	}
	if integer {
		return i == len(s)
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}
