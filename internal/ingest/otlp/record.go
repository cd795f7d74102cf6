package otlp

import (
	"encoding/hex"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// body flattens a map body into the pending record and returns the
// record's message: a string body as is, the message key of a map body,
// the text of any other body (see appendText). The result may alias d.msg.
func (d *Decoder) body(lr plog.LogRecord) string {
	v := lr.Body()
	switch v.Type() {
	case pcommon.ValueTypeEmpty:
		return ""
	case pcommon.ValueTypeStr:
		return v.Str()
	case pcommon.ValueTypeMap:
		m := v.Map()
		key, msg := d.mapMessage(m)
		for k, e := range m.All() {
			if key != "" && k == key {
				continue
			}
			d.setTopName(k, originBody)
			d.flattenValue(e, nil, 1)
		}
		return msg
	}
	d.msg = appendText(d.msg[:0], v, 1)
	return bstr(d.msg)
}

// mapMessage returns the first key of m named in Options.MsgFields whose
// value is not a map and has a non-empty text, and that text (which may
// alias d.msg); "" if there is none.
func (d *Decoder) mapMessage(m pcommon.Map) (key, msg string) {
	for _, name := range d.msgFields {
		v, ok := m.Get(name)
		if !ok {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeMap, pcommon.ValueTypeEmpty:
			continue
		case pcommon.ValueTypeStr:
			if s := v.Str(); s != "" {
				return name, s
			}
			continue
		}
		if d.msg = appendText(d.msg[:0], v, 2); len(d.msg) > 0 {
			return name, bstr(d.msg)
		}
	}
	return "", ""
}

// ownFields adds the fields OTLP gives every log record, those that are
// set: level, severity_number, trace_id, span_id, flags and event_name.
func (d *Decoder) ownFields(lr plog.LogRecord) {
	sev := lr.SeverityNumber()
	if t := lr.SeverityText(); t != "" {
		d.addOwn("level", t)
	} else if l := levelOf(sev); l != "" {
		d.addOwn("level", l)
	}
	if sev != 0 {
		d.val = strconv.AppendInt(d.val[:0], int64(sev), 10)
		d.addOwn("severity_number", bstr(d.val))
	}
	if id := lr.TraceID(); !id.IsEmpty() {
		d.val = hex.AppendEncode(d.val[:0], id[:])
		d.addOwn("trace_id", bstr(d.val))
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		d.val = hex.AppendEncode(d.val[:0], id[:])
		d.addOwn("span_id", bstr(d.val))
	}
	if f := lr.Flags(); f != 0 {
		d.val = strconv.AppendUint(d.val[:0], uint64(f), 10)
		d.addOwn("flags", bstr(d.val))
	}
	if e := lr.EventName(); e != "" {
		d.addOwn("event_name", e)
	}
}

func (d *Decoder) addOwn(name, value string) {
	d.recordBytes += len(name) + len(value)
	d.b.AddString(name, value)
}

// levelOf returns the level of an OTLP severity number without severity
// text, by the ranges of the OpenTelemetry log data model; "" outside
// 1-24.
func levelOf(sev plog.SeverityNumber) string {
	switch {
	case sev >= 1 && sev <= 4:
		return "trace"
	case sev >= 5 && sev <= 8:
		return "debug"
	case sev >= 9 && sev <= 12:
		return "info"
	case sev >= 13 && sev <= 16:
		return "warn"
	case sev >= 17 && sev <= 20:
		return "error"
	case sev >= 21 && sev <= 24:
		return "fatal"
	}
	return ""
}
