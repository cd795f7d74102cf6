package otlp

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/logbucket/logbucket/internal/ingest"
)

// poolMaxRecord is the record input size after which a Decoder is not
// pooled, so that a single huge record does not pin its buffers.
const poolMaxRecord = 1 << 20

// maxDetailBytes bounds the pdata error text quoted in an error.
const maxDetailBytes = 256

// builderMsgFields makes the builder take the message from the `_msg`
// field alone, which only the decoder adds (see isReserved).
var builderMsgFields = []string{"_msg"}

var decoderPool = sync.Pool{New: func() any { return new(Decoder) }}

// Decode decodes an OTLP/HTTP logs export request body in the encoding
// contentType names, appending records, rejections and discard counts to
// res. It returns an error wrapping ErrUnsupportedContentType or
// ErrInvalidBody, and then appends nothing, if the body cannot be decoded
// as a whole. It is safe for concurrent use.
func Decode(body []byte, contentType string, opts Options, res *ingest.Result) error {
	d := decoderPool.Get().(*Decoder)
	err := d.Decode(body, contentType, opts, res)
	if d.longest <= poolMaxRecord {
		decoderPool.Put(d)
	}
	return err
}

// Decoder decodes OTLP logs request bodies, reusing its buffers across
// calls. The zero Decoder is ready to use. It is not safe for concurrent
// use.
type Decoder struct {
	b    ingest.Builder
	name []byte // dotted name of the field being flattened
	val  []byte // text of a non-string value
	msg  []byte // text of a non-string message

	resource fieldList // ordinary fields from the resource attributes
	stream   fieldList // stream fields from the resource attributes
	scope    fieldList // fields from the instrumentation scope

	msgFields   []string // Options.MsgFields during Decode
	streamAttrs []string // Options.StreamAttributes during Decode
	recordBytes int      // names and values added for the pending record
	longest     int      // largest recordBytes so far
}

// Decode is the function Decode with d's buffers.
func (d *Decoder) Decode(body []byte, contentType string, opts Options, res *ingest.Result) error {
	f, err := ParseContentType(contentType)
	if err != nil {
		return err
	}
	ld, err := unmarshal(body, f)
	if err != nil {
		return err
	}
	d.decodeLogs(ld, opts, res)
	return nil
}

// unmarshal decodes body with pdata after checking its nesting.
func unmarshal(body []byte, f Format) (ld plog.Logs, err error) {
	if err := checkDepth(body, f); err != nil {
		return ld, fmt.Errorf("%w: %w (flatten the attribute values)", ErrInvalidBody, err)
	}
	defer func() {
		// pdata is fuzzed upstream and here; should it still panic on some
		// input, refuse that body rather than crash the server.
		if p := recover(); p != nil {
			err = invalidBody(f, fmt.Errorf("BUG: pdata panicked: %v", p))
		}
	}()
	req := plogotlp.NewExportRequest()
	if f == JSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return ld, invalidBody(f, err)
	}
	return req.Logs(), nil
}

// invalidBody wraps a pdata error, which may quote the body: shortened,
// made valid UTF-8 and with control characters shown as '.', so that it
// can be logged and sent back to the client.
func invalidBody(f Format, err error) error {
	s := err.Error()
	if len(s) > maxDetailBytes {
		s = s[:maxDetailBytes] + "..."
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '.'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return fmt.Errorf("%w: decode %s ExportLogsServiceRequest: %s (send one uncompressed request in the encoding the Content-Type names)",
		ErrInvalidBody, f, s)
}

func (d *Decoder) decodeLogs(ld plog.Logs, opts Options, res *ingest.Result) {
	bo := opts.Options
	bo.TimeField, bo.MsgFields, bo.StreamFields = "", builderMsgFields, nil
	d.b.SetOptions(bo)
	d.msgFields, d.streamAttrs = opts.MsgFields, opts.StreamAttributes
	defer func() {
		// Do not retain the caller's slices.
		d.b.SetOptions(ingest.Options{})
		d.msgFields, d.streamAttrs = nil, nil
	}()
	res.Records = slices.Grow(res.Records, ld.LogRecordCount())
	pos := 0
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		d.resourceFields(rl)
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			sl := sls.At(j)
			d.scopeFields(sl)
			lrs := sl.LogRecords()
			for k := range lrs.Len() {
				pos++
				d.record(lrs.At(k), pos, opts.Now, res)
			}
		}
	}
}

// resourceFields flattens the resource attributes of rl into d.stream
// (keys in Options.StreamAttributes) and d.resource (the others).
func (d *Decoder) resourceFields(rl plog.ResourceLogs) {
	d.resource.reset()
	d.stream.reset()
	for k, v := range rl.Resource().Attributes().All() {
		to := &d.resource
		if slices.Contains(d.streamAttrs, k) {
			to = &d.stream
		}
		d.setTopName(k, originResource)
		d.flattenValue(v, to, 1)
	}
}

// scopeFields flattens the instrumentation scope of sl into d.scope.
func (d *Decoder) scopeFields(sl plog.ScopeLogs) {
	d.scope.reset()
	s := sl.Scope()
	if n := s.Name(); n != "" {
		d.scope.add("scope.name", n)
	}
	if v := s.Version(); v != "" {
		d.scope.add("scope.version", v)
	}
	for k, v := range s.Attributes().All() {
		d.name = append(append(d.name[:0], "scope.attributes."...), k...)
		d.flattenValue(v, &d.scope, 1)
	}
}

// record adds one log record to res. The order of the Add calls is the
// precedence of the documented mapping, lowest first: for a repeated name
// the builder keeps the last value.
func (d *Decoder) record(lr plog.LogRecord, pos int, now int64, res *ingest.Result) {
	ts, err := recordTime(lr, now)
	if err != nil {
		res.Reject(pos, ingest.ReasonInvalidTime, err.Error())
		return
	}
	d.recordBytes = 0
	d.addList(&d.resource, false)
	d.addList(&d.scope, false)
	for k, v := range lr.Attributes().All() {
		d.setTopName(k, originAttributes)
		d.flattenValue(v, nil, 1)
	}
	msg := d.body(lr)
	d.ownFields(lr)
	d.addList(&d.stream, true)
	if msg != "" {
		d.b.AddString("_msg", msg)
		d.recordBytes += len(msg)
	}
	d.b.SetTime(ts)
	d.b.Finish(pos, res)
	d.longest = max(d.longest, d.recordBytes)
}

// setTopName sets d.name to the field name of a top-level key from origin.
func (d *Decoder) setTopName(key, origin string) {
	d.name = d.name[:0]
	if isReserved(key) {
		d.name = append(d.name, origin...)
	}
	d.name = append(d.name, key...)
}

// addList adds the fields of l to the pending record.
func (d *Decoder) addList(l *fieldList, stream bool) {
	start := 0
	for _, e := range l.ends {
		name, value := l.buf[start:e.name], l.buf[e.name:e.value]
		if stream {
			d.b.AddStream(name, value)
		} else {
			d.b.Add(name, value)
		}
		start = e.value
	}
	d.recordBytes += len(l.buf)
}

// recordTime returns the time of lr: time_unix_nano, else
// observed_time_unix_nano, else now.
func recordTime(lr plog.LogRecord, now int64) (int64, error) {
	t, field := uint64(lr.Timestamp()), "time_unix_nano"
	if t == 0 {
		t, field = uint64(lr.ObservedTimestamp()), "observed_time_unix_nano"
	}
	if t == 0 {
		return now, nil
	}
	if t > math.MaxInt64 {
		return 0, fmt.Errorf("%s %d is after 2262-04-11, the last time an int64 of nanoseconds holds", field, t)
	}
	return int64(t), nil
}
