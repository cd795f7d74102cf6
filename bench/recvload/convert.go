package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/logbucket/logbucket/internal/jsonstr"
)

// formats lists every format, in the order the benchmark runs them.
var formats = []string{"ndjson", "esbulk", "loki-json", "loki-proto", "otlp-json", "otlp-proto", "syslog"}

// contentTypes is the Content-Type each HTTP format is sent with.
var contentTypes = map[string]string{
	"ndjson":     "application/x-ndjson",
	"esbulk":     "application/x-ndjson",
	"loki-json":  "application/json",
	"loki-proto": "application/x-protobuf", // snappy block, no Content-Encoding (as Promtail, winston-loki)
	"otlp-json":  "application/json",
	"otlp-proto": "application/x-protobuf",
	"syslog":     "",
}

// manifest describes the bodies of one format in its directory.
type manifest struct {
	Format      string     `json:"format"`
	ContentType string     `json:"content_type,omitempty"`
	Source      string     `json:"source"`
	SourceBytes int64      `json:"source_bytes"`
	Lines       int        `json:"lines"`
	BodyBytes   int64      `json:"body_bytes"`
	Bodies      []bodyInfo `json:"bodies"`
}

type bodyInfo struct {
	File  string `json:"file"`
	Lines int    `json:"lines"`
	Bytes int    `json:"bytes"`
}

// field is a record field other than the time and the message.
type field struct{ name, value string }

// record is one input line, parsed.
type record struct {
	raw    []byte // the line as read, without its newline
	ns     int64  // _time in unix nanoseconds
	msg    string
	fields []field // the other fields, in input order
}

func (r *record) get(name string) string {
	for _, f := range r.fields {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// convOpts is the mapping of the input fields onto the formats.
type convOpts struct {
	timeField, msgField string
	stream              []string          // stream fields: Loki labels, OTLP resource attributes
	resourceNames       map[string]string // stream field -> OTLP resource attribute name
	levelField          string            // -> OTLP severityText, syslog severity
	index               string            // _index of the _bulk actions
	syslogHost          string            // field -> syslog HOSTNAME
	syslogApp           string            // field -> syslog APP-NAME
	syslogSD            bool              // other fields as structured data
}

type chunk struct {
	n    int // sequence number
	recs []record
	src  int // input bytes
}

func runConvert(args []string) error {
	fs := flag.NewFlagSet("convert", flag.ExitOnError)
	in := fs.String("in", "", "JSON-lines input file (../shared/loggen)")
	out := fs.String("out", "", "output directory: one subdirectory per format")
	format := fs.String("format", "all", "comma-separated formats, or all: "+strings.Join(formats, ","))
	chunkBytes := fs.Int("bytes", 4<<20, "input bytes per request body (split at line boundaries), as ../shared/loader's -chunk")
	chunkLines := fs.Int("lines", 0, "input lines per request body (overrides -bytes when > 0)")
	stream := fs.String("stream", "service,host", "stream fields: Loki labels, OTLP resource attributes")
	var o convOpts
	fs.StringVar(&o.timeField, "time-field", "_time", "input time field (RFC 3339)")
	fs.StringVar(&o.msgField, "msg-field", "_msg", "input message field")
	fs.StringVar(&o.levelField, "level-field", "level", "field that becomes OTLP severityText and the syslog severity")
	fs.StringVar(&o.index, "index", "bench", "_index of the esbulk actions (empty: no _index)")
	fs.StringVar(&o.syslogHost, "syslog-host", "host", "field that becomes the syslog HOSTNAME")
	fs.StringVar(&o.syslogApp, "syslog-app", "service", "field that becomes the syslog APP-NAME")
	fs.BoolVar(&o.syslogSD, "syslog-sd", true, "send the other fields as RFC 5424 structured data [lb@32473 name=\"value\" ...]")
	_ = fs.Parse(args)
	if *in == "" || *out == "" {
		return errors.New("convert: -in and -out are required")
	}
	o.stream = splitList(*stream)
	o.resourceNames = map[string]string{"service": "service.name", "host": "host.name"}
	want := formats
	if *format != "all" {
		want = splitList(*format)
		for _, f := range want {
			if !slices.Contains(formats, f) {
				return fmt.Errorf("convert: unknown format %q (want %s)", f, strings.Join(formats, ", "))
			}
		}
	}

	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	start := time.Now()
	// One writer goroutine per format; the parsed chunks are shared
	// read-only.
	var ws []*formatWriter
	var wg sync.WaitGroup
	for _, name := range want {
		w, err := newFormatWriter(*out, name, manifest{Format: name, ContentType: contentTypes[name], Source: *in, SourceBytes: st.Size()}, &o)
		if err != nil {
			return err
		}
		ws = append(ws, w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	rerr := readChunks(f, *in, &o, *chunkLines, *chunkBytes, func(c *chunk) {
		for _, w := range ws {
			w.ch <- c
		}
	})
	for _, w := range ws {
		close(w.ch)
	}
	wg.Wait()
	if rerr != nil {
		return rerr
	}
	for _, w := range ws {
		if err := w.finish(); err != nil {
			return err
		}
		fmt.Printf("%-10s %8d lines %5d bodies %12d bytes (%.0f B/line) -> %s\n", w.format, w.m.Lines, len(w.m.Bodies),
			w.m.BodyBytes, float64(w.m.BodyBytes)/float64(max(w.m.Lines, 1)), w.dst)
	}
	fmt.Printf("converted in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// readChunks parses the input and calls emit with every chunk of
// chunkLines lines (when > 0), else of chunkBytes input bytes.
func readChunks(r io.Reader, name string, o *convOpts, chunkLines, chunkBytes int, emit func(*chunk)) error {
	var p fastjson.Parser
	br := bufio.NewReaderSize(r, 1<<20)
	cur := &chunk{}
	flush := func() {
		if len(cur.recs) > 0 {
			emit(cur)
			cur = &chunk{n: cur.n + 1}
		}
	}
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			cur.src += len(line)
			if line = trimEOL(line); len(strings.TrimSpace(string(line))) > 0 {
				rec, perr := parseLine(&p, line, o)
				if perr != nil {
					return fmt.Errorf("%s:%d: %w", name, lineNo, perr)
				}
				cur.recs = append(cur.recs, rec)
			}
			if (chunkLines > 0 && len(cur.recs) >= chunkLines) || (chunkLines <= 0 && cur.src >= chunkBytes) {
				flush()
			}
		}
		if err == io.EOF {
			flush()
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// formatWriter writes the bodies of one format into DIR/F.tmp, renamed to
// DIR/F with its manifest once complete (so a cache is never half-written).
type formatWriter struct {
	format, tmp, dst string
	o                *convOpts
	ch               chan *chunk
	m                manifest
	err              error // the first error of run
}

func newFormatWriter(out, format string, m manifest, o *convOpts) (*formatWriter, error) {
	w := &formatWriter{format: format, tmp: filepath.Join(out, format+".tmp"), dst: filepath.Join(out, format),
		o: o, ch: make(chan *chunk, 2), m: m}
	if err := os.RemoveAll(w.tmp); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(w.tmp, 0o755); err != nil {
		return nil, err
	}
	return w, nil
}

// run encodes and writes every chunk it receives until ch is closed.
func (w *formatWriter) run() {
	for c := range w.ch {
		if w.err != nil {
			continue
		}
		body, err := encode(w.format, c.recs, w.o)
		if err != nil {
			w.err = fmt.Errorf("encode %s body %d: %w", w.format, c.n, err)
			continue
		}
		name := fmt.Sprintf("%06d.body", c.n)
		if err := os.WriteFile(filepath.Join(w.tmp, name), body, 0o644); err != nil {
			w.err = err
			continue
		}
		w.m.Bodies = append(w.m.Bodies, bodyInfo{File: name, Lines: len(c.recs), Bytes: len(body)})
		w.m.Lines += len(c.recs)
		w.m.BodyBytes += int64(len(body))
	}
}

// finish writes the manifest and moves the bodies to their place.
func (w *formatWriter) finish() error {
	if w.err != nil {
		return w.err
	}
	mb, err := json.MarshalIndent(&w.m, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(w.tmp, "manifest.json"), mb, 0o644); err != nil {
		return err
	}
	if err := os.RemoveAll(w.dst); err != nil {
		return err
	}
	return os.Rename(w.tmp, w.dst)
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseLine parses one JSON object: every value becomes a string (strings
// as they are, other values as their JSON text), as logbucket stores them.
func parseLine(p *fastjson.Parser, line []byte, o *convOpts) (record, error) {
	v, err := p.ParseBytes(line)
	if err != nil {
		return record{}, err
	}
	obj, err := v.Object()
	if err != nil {
		return record{}, err
	}
	r := record{raw: slices.Clone(line)}
	var timeText string
	obj.Visit(func(k []byte, v *fastjson.Value) {
		var s string
		if v.Type() == fastjson.TypeString {
			s = string(v.GetStringBytes())
		} else {
			s = string(v.MarshalTo(nil))
		}
		switch string(k) {
		case o.timeField:
			timeText = s
		case o.msgField:
			r.msg = s
		default:
			if s != "" {
				r.fields = append(r.fields, field{string(k), s})
			}
		}
	})
	if timeText == "" {
		return record{}, fmt.Errorf("no %s field", o.timeField)
	}
	t, err := time.Parse(time.RFC3339Nano, timeText)
	if err != nil {
		return record{}, err
	}
	r.ns = t.UnixNano()
	return r, nil
}

func encode(format string, recs []record, o *convOpts) ([]byte, error) {
	switch format {
	case "ndjson":
		return encodeNDJSON(recs), nil
	case "esbulk":
		return encodeESBulk(recs, o), nil
	case "loki-json":
		return encodeLokiJSON(recs, o), nil
	case "loki-proto":
		return encodeLokiProto(recs, o), nil
	case "otlp-json":
		return plogotlp.NewExportRequestFromLogs(buildLogs(recs, o)).MarshalJSON()
	case "otlp-proto":
		return plogotlp.NewExportRequestFromLogs(buildLogs(recs, o)).MarshalProto()
	case "syslog":
		return encodeSyslog(recs, o), nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

// encodeNDJSON: the input lines as they are (what /api/v1/ingest takes).
func encodeNDJSON(recs []record) []byte {
	n := 0
	for i := range recs {
		n += len(recs[i].raw) + 1
	}
	b := make([]byte, 0, n)
	for i := range recs {
		b = append(b, recs[i].raw...)
		b = append(b, '\n')
	}
	return b
}

// rfc3339 formats unix nanoseconds as RFC 3339 in UTC with all the
// nanoseconds (the input's form).
func rfc3339(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// encodeESBulk: {"index":{"_index":I}} then the document, whose _time is
// @timestamp and _msg message, as Beats, Logstash and Fluent Bit send.
func encodeESBulk(recs []record, o *convOpts) []byte {
	action := []byte(`{"index":{}}` + "\n")
	if o.index != "" {
		action = jsonstr.Append([]byte(`{"index":{"_index":`), o.index)
		action = append(action, "}}\n"...)
	}
	var b []byte
	for i := range recs {
		r := &recs[i]
		b = append(b, action...)
		b = append(b, `{"@timestamp":`...)
		b = jsonstr.Append(b, rfc3339(r.ns))
		for _, f := range r.fields {
			b = append(b, ',')
			b = jsonstr.Append(b, f.name)
			b = append(b, ':')
			b = jsonstr.Append(b, f.value)
		}
		b = append(b, `,"message":`...)
		b = jsonstr.Append(b, r.msg)
		b = append(b, "}\n"...)
	}
	return b
}

// group is the records of one stream, in input order.
type group struct {
	values []string // of the stream fields
	idx    []int
}

// groupBy groups records by the values of fields, in order of first
// appearance.
func groupBy(recs []record, fields []string) []*group {
	var out []*group
	byKey := map[string]*group{}
	vals := make([]string, len(fields))
	for i := range recs {
		for j, f := range fields {
			vals[j] = recs[i].get(f)
		}
		k := strings.Join(vals, "\x00")
		g := byKey[k]
		if g == nil {
			g = &group{values: slices.Clone(vals)}
			byKey[k] = g
			out = append(out, g)
		}
		g.idx = append(g.idx, i)
	}
	return out
}

// others returns the fields of r that are not stream fields.
func others(r *record, stream []string) []field {
	var out []field
	for _, f := range r.fields {
		if !slices.Contains(stream, f.name) {
			out = append(out, f)
		}
	}
	return out
}

// encodeLokiJSON: a push request with one stream per stream-field values
// (the labels), the line as sent, the other fields as structured metadata.
func encodeLokiJSON(recs []record, o *convOpts) []byte {
	b := []byte(`{"streams":[`)
	for gi, g := range groupBy(recs, o.stream) {
		if gi > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stream":{`...)
		n := 0
		for j, name := range o.stream {
			if g.values[j] == "" {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = jsonstr.Append(b, name)
			b = append(b, ':')
			b = jsonstr.Append(b, g.values[j])
		}
		b = append(b, `},"values":[`...)
		for k, i := range g.idx {
			r := &recs[i]
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, `["`...)
			b = strconv.AppendInt(b, r.ns, 10)
			b = append(b, `",`...)
			b = jsonstr.Append(b, r.msg)
			if md := others(r, o.stream); len(md) > 0 {
				b = append(b, ",{"...)
				for m, f := range md {
					if m > 0 {
						b = append(b, ',')
					}
					b = jsonstr.Append(b, f.name)
					b = append(b, ':')
					b = jsonstr.Append(b, f.value)
				}
				b = append(b, '}')
			}
			b = append(b, ']')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

// lokiLabels formats labels as Prometheus does: {a="x", b="y"}, sorted.
func lokiLabels(names, values []string) string {
	type kv struct{ k, v string }
	var l []kv
	for i, n := range names {
		if values[i] != "" {
			l = append(l, kv{n, values[i]})
		}
	}
	sort.Slice(l, func(i, j int) bool { return l[i].k < l[j].k })
	var sb strings.Builder
	sb.WriteByte('{')
	for i, p := range l {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(p.k)
		sb.WriteByte('=')
		sb.WriteString(strconv.Quote(p.v))
	}
	sb.WriteByte('}')
	return sb.String()
}

// encodeLokiProto: the same push request as a logproto.PushRequest,
// written with protowire (schema in ../shared/ecosystem.md A.7), in a
// snappy block:
//
//	PushRequest{1: repeated StreamAdapter streams}
//	StreamAdapter{1: string labels; 2: repeated EntryAdapter entries}
//	EntryAdapter{1: Timestamp{1: int64 seconds; 2: int32 nanos}; 2: string line;
//	             3: repeated LabelPairAdapter structuredMetadata}
//	LabelPairAdapter{1: string name; 2: string value}
func encodeLokiProto(recs []record, o *convOpts) []byte {
	var req, sa, e, sub []byte
	for _, g := range groupBy(recs, o.stream) {
		sa = sa[:0]
		sa = protowire.AppendTag(sa, 1, protowire.BytesType)
		sa = protowire.AppendString(sa, lokiLabels(o.stream, g.values))
		for _, i := range g.idx {
			r := &recs[i]
			e = e[:0]
			sub = sub[:0]
			if s := r.ns / 1e9; s != 0 {
				sub = protowire.AppendTag(sub, 1, protowire.VarintType)
				sub = protowire.AppendVarint(sub, uint64(s))
			}
			if n := r.ns % 1e9; n != 0 {
				sub = protowire.AppendTag(sub, 2, protowire.VarintType)
				sub = protowire.AppendVarint(sub, uint64(n))
			}
			e = protowire.AppendTag(e, 1, protowire.BytesType)
			e = protowire.AppendBytes(e, sub)
			e = protowire.AppendTag(e, 2, protowire.BytesType)
			e = protowire.AppendString(e, r.msg)
			for _, f := range others(r, o.stream) {
				sub = sub[:0]
				sub = protowire.AppendTag(sub, 1, protowire.BytesType)
				sub = protowire.AppendString(sub, f.name)
				sub = protowire.AppendTag(sub, 2, protowire.BytesType)
				sub = protowire.AppendString(sub, f.value)
				e = protowire.AppendTag(e, 3, protowire.BytesType)
				e = protowire.AppendBytes(e, sub)
			}
			sa = protowire.AppendTag(sa, 2, protowire.BytesType)
			sa = protowire.AppendBytes(sa, e)
		}
		req = protowire.AppendTag(req, 1, protowire.BytesType)
		req = protowire.AppendBytes(req, sa)
	}
	return s2.EncodeSnappy(nil, req)
}

// buildLogs: one ResourceLogs per stream (the stream fields as resource
// attributes, service -> service.name, host -> host.name) with one
// ScopeLogs; per record timeUnixNano, severityText (level), a string
// body (the message) and the other fields as string attributes.
func buildLogs(recs []record, o *convOpts) plog.Logs {
	ld := plog.NewLogs()
	rls := ld.ResourceLogs()
	for _, g := range groupBy(recs, o.stream) {
		rl := rls.AppendEmpty()
		attrs := rl.Resource().Attributes()
		for j, name := range o.stream {
			if g.values[j] == "" {
				continue
			}
			if rn, ok := o.resourceNames[name]; ok {
				name = rn
			}
			attrs.PutStr(name, g.values[j])
		}
		lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
		lrs.EnsureCapacity(len(g.idx))
		for _, i := range g.idx {
			r := &recs[i]
			lr := lrs.AppendEmpty()
			lr.SetTimestamp(pcommon.Timestamp(r.ns))
			lr.Body().SetStr(r.msg)
			la := lr.Attributes()
			for _, f := range others(r, o.stream) {
				if f.name == o.levelField {
					lr.SetSeverityText(f.value)
					continue
				}
				la.PutStr(f.name, f.value)
			}
		}
	}
	return ld
}

// syslogSeverity maps a level onto an RFC 5424 severity.
func syslogSeverity(level string) int {
	switch strings.ToLower(level) {
	case "emerg", "emergency", "panic":
		return 0
	case "alert":
		return 1
	case "crit", "critical", "fatal":
		return 2
	case "err", "error":
		return 3
	case "warn", "warning":
		return 4
	case "notice":
		return 5
	case "debug", "trace":
		return 7
	}
	return 6
}

// syslogFacility is local0.
const syslogFacility = 16

// encodeSyslog: RFC 5424 messages in octet-counted frames (RFC 6587, as
// syslog-ng's syslog() and rsyslog's omfwd send them, with the LF inside
// the frame):
//
//	LEN <PRI>1 TIMESTAMP HOST APP - - [lb@32473 trace_id="..." user_id="..."] MSG\n
//
// PRI = local0 and the level's severity; HOST and APP from the record.
func encodeSyslog(recs []record, o *convOpts) []byte {
	var b, m []byte
	for i := range recs {
		r := &recs[i]
		m = m[:0]
		m = append(m, '<')
		m = strconv.AppendInt(m, int64(syslogFacility*8+syslogSeverity(r.get(o.levelField))), 10)
		m = append(m, ">1 "...)
		m = append(m, rfc3339(r.ns)...)
		m = append(m, ' ')
		m = appendHeaderField(m, r.get(o.syslogHost), 255)
		m = append(m, ' ')
		m = appendHeaderField(m, r.get(o.syslogApp), 48)
		m = append(m, " - - "...)
		sd := false
		if o.syslogSD {
			for _, f := range r.fields {
				if f.name == o.syslogHost || f.name == o.syslogApp || f.name == o.levelField || !sdName(f.name) {
					continue
				}
				if !sd {
					m = append(m, "[lb@32473"...)
					sd = true
				}
				m = append(m, ' ')
				m = append(m, f.name...)
				m = append(m, `="`...)
				m = appendSDValue(m, f.value)
				m = append(m, '"')
			}
		}
		if sd {
			m = append(m, ']')
		} else {
			m = append(m, '-')
		}
		if r.msg != "" {
			m = append(m, ' ')
			m = append(m, r.msg...)
		}
		m = append(m, '\n')
		b = strconv.AppendInt(b, int64(len(m)), 10)
		b = append(b, ' ')
		b = append(b, m...)
	}
	return b
}

// appendHeaderField appends a HOSTNAME or APP-NAME: printable US-ASCII
// without spaces, at most limit bytes, "-" when empty.
func appendHeaderField(b []byte, s string, limit int) []byte {
	if s == "" {
		return append(b, '-')
	}
	for i := 0; i < len(s) && i < limit; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// sdName reports whether s can be an SD PARAM-NAME.
func sdName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			return false
		}
	}
	return true
}

// appendSDValue escapes '"', '\' and ']' as RFC 5424 requires.
func appendSDValue(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', ']':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return b
}
