package otlp

import (
	"encoding/base64"
	"encoding/hex"
	"math"
	"slices"
	"strconv"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/jsonstr"
)

// The record building of the direct JSON decoder. Each function mirrors
// its pdata counterpart in decode.go, record.go and flatten.go, with the
// same Builder calls in the same order, so that both give the same
// records.

// decodeDoc builds the records of the request readFast read into j.
func (d *Decoder) decodeDoc(j *jdoc, opts Options, res *ingest.Result) {
	bo := opts.Options
	bo.TimeField, bo.MsgFields, bo.StreamFields = "", builderMsgFields, nil
	d.b.SetOptions(bo)
	d.msgFields, d.streamAttrs = opts.MsgFields, opts.StreamAttributes
	defer func() {
		// Do not retain the caller's slices.
		d.b.SetOptions(ingest.Options{})
		d.msgFields, d.streamAttrs = nil, nil
	}()
	res.Records = slices.Grow(res.Records, len(j.recs))
	pos := 0
	for ri := range j.res {
		r := &j.res[ri]
		d.jResourceFields(j, r.attrs)
		for si := r.scopes; si < r.scopesEnd; si++ {
			s := &j.scopes[si]
			d.jScopeFields(j, s)
			for k := s.recs; k < s.recsEnd; k++ {
				pos++
				d.jRecord(j, &j.recs[k], pos, opts.Now, res)
			}
		}
	}
}

// entries returns the bounds of the children of the node n.
func (j *jdoc) entries(n int) (first, end int) {
	if n < 0 {
		return 0, 0
	}
	return n + 1, j.vals[n].end
}

func (d *Decoder) jResourceFields(j *jdoc, attrs int) {
	d.resource.reset()
	d.stream.reset()
	first, end := j.entries(attrs)
	for i := first; i < end; i = j.vals[i].end {
		k := bstr(j.vals[i].key)
		to := &d.resource
		if slices.Contains(d.streamAttrs, k) {
			to = &d.stream
		}
		d.setTopName(k, originResource)
		d.jFlatten(j, i, to, 1)
	}
}

func (d *Decoder) jScopeFields(j *jdoc, s *jscope) {
	d.scope.reset()
	if len(s.name) > 0 {
		d.scope.add("scope.name", bstr(s.name))
	}
	if len(s.version) > 0 {
		d.scope.add("scope.version", bstr(s.version))
	}
	first, end := j.entries(s.attrs)
	for i := first; i < end; i = j.vals[i].end {
		d.name = append(append(d.name[:0], "scope.attributes."...), j.vals[i].key...)
		d.jFlatten(j, i, &d.scope, 1)
	}
}

func (d *Decoder) jRecord(j *jdoc, r *jrec, pos int, now int64, res *ingest.Result) {
	ts, err := timeOf(r.time, r.observed, now)
	if err != nil {
		res.Reject(pos, ingest.ReasonInvalidTime, err.Error())
		return
	}
	d.recordBytes = 0
	d.addList(&d.resource, false)
	d.addList(&d.scope, false)
	first, end := j.entries(r.attrs)
	for i := first; i < end; i = j.vals[i].end {
		d.setTopName(bstr(j.vals[i].key), originAttributes)
		d.jFlatten(j, i, nil, 1)
	}
	msg := d.jBody(j, r.body)
	d.jOwnFields(r)
	d.addList(&d.stream, true)
	if msg != "" {
		d.b.AddString("_msg", msg)
		d.recordBytes += len(msg)
	}
	d.b.SetTime(ts)
	d.b.Finish(pos, res)
	d.longest = max(d.longest, d.recordBytes)
}

func (d *Decoder) jBody(j *jdoc, n int) string {
	if n < 0 {
		return ""
	}
	v := &j.vals[n]
	switch v.kind {
	case jEmpty:
		return ""
	case jStr:
		return bstr(v.s)
	case jMap:
		key, msg := d.jMapMessage(j, n)
		first, end := j.entries(n)
		for i := first; i < end; i = j.vals[i].end {
			k := bstr(j.vals[i].key)
			if key != "" && k == key {
				continue
			}
			d.setTopName(k, originBody)
			d.jFlatten(j, i, nil, 1)
		}
		return msg
	}
	d.msg = jAppendText(d.msg[:0], j, n, 1)
	return bstr(d.msg)
}

func (d *Decoder) jMapMessage(j *jdoc, n int) (key, msg string) {
	first, end := j.entries(n)
	for _, name := range d.msgFields {
		found := -1
		for i := first; i < end; i = j.vals[i].end {
			if bstr(j.vals[i].key) == name {
				found = i
				break
			}
		}
		if found < 0 {
			continue
		}
		v := &j.vals[found]
		switch v.kind {
		case jMap, jEmpty:
			continue
		case jStr:
			if len(v.s) > 0 {
				return name, bstr(v.s)
			}
			continue
		}
		if d.msg = jAppendText(d.msg[:0], j, found, 2); len(d.msg) > 0 {
			return name, bstr(d.msg)
		}
	}
	return "", ""
}

func (d *Decoder) jOwnFields(r *jrec) {
	sev := plog.SeverityNumber(r.sev)
	if len(r.sevText) > 0 {
		d.addOwn("level", bstr(r.sevText))
	} else if l := levelOf(sev); l != "" {
		d.addOwn("level", l)
	}
	if sev != 0 {
		d.val = strconv.AppendInt(d.val[:0], int64(sev), 10)
		d.addOwn("severity_number", bstr(d.val))
	}
	if r.trace != [16]byte{} {
		d.val = hex.AppendEncode(d.val[:0], r.trace[:])
		d.addOwn("trace_id", bstr(d.val))
	}
	if r.span != [8]byte{} {
		d.val = hex.AppendEncode(d.val[:0], r.span[:])
		d.addOwn("span_id", bstr(d.val))
	}
	if r.flags != 0 {
		d.val = strconv.AppendUint(d.val[:0], uint64(r.flags), 10)
		d.addOwn("flags", bstr(d.val))
	}
	if len(r.event) > 0 {
		d.addOwn("event_name", bstr(r.event))
	}
}

// jFlatten is flattenValue for node n.
func (d *Decoder) jFlatten(j *jdoc, n int, to *fieldList, depth int) {
	v := &j.vals[n]
	switch v.kind {
	case jMap:
		if depth >= flattenDepthCap {
			return // unreachable: readFast refused the body
		}
		d.name = append(d.name, '.')
		prefix := len(d.name)
		first, end := j.entries(n)
		for i := first; i < end; i = j.vals[i].end {
			d.name = append(d.name[:prefix], j.vals[i].key...)
			d.jFlatten(j, i, to, depth+1)
		}
	case jStr:
		d.emit(to, d.name, bstr(v.s))
	default:
		d.val = jAppendText(d.val[:0], j, n, depth)
		d.emit(to, d.name, bstr(d.val))
	}
}

// jAppendText is appendText for node n.
func jAppendText(dst []byte, j *jdoc, n int, depth int) []byte {
	v := &j.vals[n]
	switch v.kind {
	case jStr:
		return append(dst, v.s...)
	case jInt:
		return strconv.AppendInt(dst, v.i, 10)
	case jDouble:
		return appendDouble(dst, v.f)
	case jBool:
		return strconv.AppendBool(dst, v.b)
	case jBytes:
		return base64.StdEncoding.AppendEncode(dst, v.s)
	case jArray, jMap:
		return jAppendJSON(dst, j, n, depth)
	}
	return dst
}

// jAppendJSON is appendJSON for node n.
func jAppendJSON(dst []byte, j *jdoc, n int, depth int) []byte {
	if depth > flattenDepthCap {
		return append(dst, "null"...) // unreachable: readFast refused the body
	}
	v := &j.vals[n]
	switch v.kind {
	case jStr:
		return jsonstr.Append(dst, bstr(v.s))
	case jInt, jBool:
		return jAppendText(dst, j, n, depth)
	case jDouble:
		f := v.f
		if math.IsNaN(f) || math.IsInf(f, 0) {
			dst = append(dst, '"')
			dst = appendDouble(dst, f)
			return append(dst, '"')
		}
		return appendDouble(dst, f)
	case jBytes:
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, v.s)
		return append(dst, '"')
	case jArray:
		dst = append(dst, '[')
		first, end := j.entries(n)
		for i := first; i < end; i = j.vals[i].end {
			if i > first {
				dst = append(dst, ',')
			}
			dst = jAppendJSON(dst, j, i, depth+1)
		}
		return append(dst, ']')
	case jMap:
		dst = append(dst, '{')
		first, end := j.entries(n)
		for i := first; i < end; i = j.vals[i].end {
			if i > first {
				dst = append(dst, ',')
			}
			dst = jsonstr.Append(dst, bstr(j.vals[i].key))
			dst = append(dst, ':')
			dst = jAppendJSON(dst, j, i, depth+1)
		}
		return append(dst, '}')
	}
	return append(dst, "null"...)
}
