package loki

import (
	"fmt"
	"math"

	"github.com/valyala/fastjson"

	"github.com/logbucket/logbucket/internal/ingest"
)

// decodeJSON decodes {"streams":[{"stream":{...},"values":[[ts,line,{md}]]}]}.
// snappy says that the request claimed Content-Encoding: snappy, which
// Loki ignores for JSON; it only adds a hint to a syntax error.
func (d *Decoder) decodeJSON(body []byte, snappy bool, res *ingest.Result) error {
	d.largest = max(d.largest, len(body))
	v, err := d.p.ParseBytes(body)
	if err != nil {
		hint := `send {"streams":[{"stream":{"label":"value"},"values":[["<unix ns>","line"]]}]}`
		if snappy {
			hint = "Content-Encoding: snappy applies to protobuf bodies only; send JSON uncompressed or with gzip"
		}
		return fmt.Errorf("%w: invalid JSON (%s): %s", ErrMalformed, clipError(err), hint)
	}
	if v.Type() != fastjson.TypeObject {
		return fmt.Errorf(`%w: the JSON body is %s, not an object: send {"streams":[...]}`, ErrMalformed, typeName(v))
	}
	sv := v.Get("streams")
	if sv == nil {
		return fmt.Errorf(`%w: the JSON body has no "streams" field: send {"streams":[{"stream":{...},"values":[...]}]}`, ErrMalformed)
	}
	if sv.Type() == fastjson.TypeNull {
		return nil
	}
	if sv.Type() != fastjson.TypeArray {
		return fmt.Errorf(`%w: "streams" is %s, not an array: send {"streams":[{"stream":{...},"values":[...]}]}`, ErrMalformed, typeName(sv))
	}
	streams, _ := sv.Array() // cannot fail: sv is an array

	d.entries, d.recordBytes = 0, 0
	for _, s := range streams {
		d.measureJSONStream(s)
	}
	if err := d.reserve(len(body), res); err != nil {
		return err
	}
	d.pos = 0
	for i, s := range streams {
		d.jsonStream(i+1, s, res)
	}
	return nil
}

// jsonValues returns the entries of stream s, or a detail saying why they
// cannot be found. A missing or null "values" has no entries.
func jsonValues(n int, s *fastjson.Value) ([]*fastjson.Value, string) {
	if s.Type() != fastjson.TypeObject {
		return nil, fmt.Sprintf("stream %d is %s, not an object", n, typeName(s))
	}
	vals := s.Get("values")
	if vals == nil || vals.Type() == fastjson.TypeNull {
		return nil, ""
	}
	if vals.Type() != fastjson.TypeArray {
		return nil, fmt.Sprintf(`stream %d: "values" is %s, not an array`, n, typeName(vals))
	}
	arr, _ := vals.Array() // cannot fail: vals is an array
	return arr, ""
}

// measureJSONStream counts the entries of s and their size.
func (d *Decoder) measureJSONStream(s *fastjson.Value) {
	values, bad := jsonValues(0, s)
	if bad != "" {
		d.measure(0, 0)
		return
	}
	labelBytes := 0
	if o := s.GetObject("stream"); o != nil {
		o.Visit(func(k []byte, v *fastjson.Value) { labelBytes += len(k) + d.jsonTextLen(v) })
	}
	for _, e := range values {
		entryBytes := 0
		for i, ev := range e.GetArray() {
			switch i {
			case 1:
				entryBytes += d.jsonTextLen(ev)
			case 2:
				if o := ev.GetObject(); o != nil {
					o.Visit(func(k []byte, v *fastjson.Value) { entryBytes += len(k) + d.jsonTextLen(v) })
				}
			}
		}
		d.measure(labelBytes, entryBytes)
	}
}

// jsonStream builds the records of the n-th stream s.
func (d *Decoder) jsonStream(n int, s *fastjson.Value, res *ingest.Result) {
	values, bad := jsonValues(n, s)
	if bad != "" {
		d.pos++
		res.Reject(d.pos, ReasonInvalidEntry, bad)
		return
	}
	if len(values) == 0 {
		return
	}
	labelsBad := d.jsonLabels(n, s.Get("stream"))
	for _, e := range values {
		d.pos++
		if labelsBad != "" {
			res.Reject(d.pos, ReasonInvalidLabels, labelsBad)
			continue
		}
		d.jsonEntry(e, res)
	}
}

// jsonLabels sets d.labels to the labels of the "stream" object v, or
// returns a detail saying why they are invalid. A missing or null "stream"
// is the empty set.
func (d *Decoder) jsonLabels(n int, v *fastjson.Value) string {
	d.labels.reset()
	if v == nil || v.Type() == fastjson.TypeNull {
		return ""
	}
	o, err := v.Object()
	if err != nil {
		return fmt.Sprintf(`stream %d: "stream" is %s, not an object of label names to string values`, n, typeName(v))
	}
	bad := ""
	o.Visit(func(k []byte, lv *fastjson.Value) {
		switch {
		case bad != "":
		case len(k) == 0:
			bad = fmt.Sprintf("stream %d: empty label name", n)
		case lv.Type() != fastjson.TypeString:
			bad = fmt.Sprintf("stream %d: label %s is %s, not a string", n, quoted(k), typeName(lv))
		default:
			s, _ := lv.StringBytes() // cannot fail: lv is a string
			d.labels.add(k, s)
		}
	})
	if bad != "" {
		return bad
	}
	if name, dup := d.labels.duplicate(); dup {
		return fmt.Sprintf("stream %d: duplicate label name %s", n, quoted(name))
	}
	return ""
}

// jsonEntry builds the record of entry e at d.pos, or rejects it.
func (d *Decoder) jsonEntry(e *fastjson.Value, res *ingest.Result) {
	if e.Type() != fastjson.TypeArray {
		res.Reject(d.pos, ReasonInvalidEntry, fmt.Sprintf(`entry is %s, not an array ["<unix ns>", "line"]`, typeName(e)))
		return
	}
	arr, _ := e.Array() // cannot fail: e is an array
	if len(arr) != 2 && len(arr) != 3 {
		res.Reject(d.pos, ReasonInvalidEntry, fmt.Sprintf(`entry has %d elements, want 2 or 3: ["<unix ns>", "line"] or ["<unix ns>", "line", {"name":"value"}]`, len(arr)))
		return
	}
	if arr[1].Type() != fastjson.TypeString {
		res.Reject(d.pos, ReasonInvalidEntry, fmt.Sprintf("the line is %s, not a string", typeName(arr[1])))
		return
	}
	line, _ := arr[1].StringBytes() // cannot fail: a string
	var md *fastjson.Object
	if len(arr) == 3 && arr[2].Type() != fastjson.TypeNull {
		if arr[2].Type() != fastjson.TypeObject {
			res.Reject(d.pos, ReasonInvalidEntry, fmt.Sprintf("the structured metadata is %s, not an object", typeName(arr[2])))
			return
		}
		md, _ = arr[2].Object() // cannot fail: an object
	}
	ns, bad := d.jsonTime(arr[0])
	if bad != "" {
		res.Reject(d.pos, ingest.ReasonInvalidTime, bad)
		return
	}
	if md != nil {
		md.Visit(func(k []byte, v *fastjson.Value) {
			if v.Type() == fastjson.TypeString {
				s, _ := v.StringBytes() // cannot fail: a string
				d.b.Add(k, s)
			} else if v.Type() != fastjson.TypeNull {
				d.val = v.MarshalTo(d.val[:0])
				d.b.Add(k, d.val)
			}
		})
	}
	d.finishEntry(ns, line, res)
}

// jsonTime returns the unix nanoseconds of a timestamp given as a string or
// a number of decimal digits, or a detail saying why it is invalid.
func (d *Decoder) jsonTime(v *fastjson.Value) (int64, string) {
	var text []byte
	switch v.Type() {
	case fastjson.TypeString:
		text, _ = v.StringBytes() // cannot fail: a string
	case fastjson.TypeNumber:
		d.val = v.MarshalTo(d.val[:0])
		text = d.val
	default:
		return 0, fmt.Sprintf("the timestamp is %s, not a string of unix nanoseconds", typeName(v))
	}
	ns, ok := parseNanos(text)
	if !ok {
		return 0, fmt.Sprintf("timestamp %s is not unix nanoseconds (decimal digits, below 2^63)", quoted(text))
	}
	return ns, ""
}

// parseNanos parses unix nanoseconds written as decimal digits.
func parseNanos(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		digit := int64(c - '0')
		if n > (math.MaxInt64-digit)/10 {
			return 0, false
		}
		n = n*10 + digit
	}
	return n, true
}

// jsonTextLen returns the length of the text v adds to a record: a string's
// bytes or a non-string value's JSON text.
func (d *Decoder) jsonTextLen(v *fastjson.Value) int {
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes() // cannot fail: a string
		return len(s)
	case fastjson.TypeNull:
		return 0
	}
	d.val = v.MarshalTo(d.val[:0])
	return len(d.val)
}

// typeName names the JSON type of v with its article, for details.
func typeName(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeObject:
		return "an object"
	case fastjson.TypeArray:
		return "an array"
	case fastjson.TypeString:
		return "a string"
	case fastjson.TypeNumber:
		return "a number"
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "a boolean"
	case fastjson.TypeNull:
		return "null"
	}
	return "a JSON value"
}
