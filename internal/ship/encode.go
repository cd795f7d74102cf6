package ship

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/klauspost/compress/zstd"

	"github.com/logbucket/logbucket/internal/jsonstr"
)

// cutMarkerMax bounds the length of the marker added to a cut line.
const cutMarkerMax = 64

// appendCutMarker appends the marker of a line of total bytes cut to kept.
func appendCutMarker(dst []byte, total int64, kept int) []byte {
	return fmt.Appendf(dst, " …[line cut: %d bytes, first %d kept]", total, kept)
}

// splitter cuts a file's bytes into lines. A line longer than max is cut to
// its first max bytes plus a marker; the rest is read and dropped, so no
// line costs more than max bytes of memory. Not safe for concurrent use.
type splitter struct {
	max     int
	partial []byte // the start of an unfinished line, at most max bytes
	pstart  int64  // offset of the unfinished line
	total   int64  // bytes of the unfinished line seen so far
	onCut   func() // counts cut lines (may be nil)
}

// feed splits data, read at offset off, and calls fn for each complete
// line (without "\n" or "\r\n") with the range [start, end) it spans.
func (s *splitter) feed(data []byte, off int64, fn func(line []byte, start, end int64)) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			s.keep(data, off)
			return
		}
		if s.total == 0 && i <= s.max {
			fn(trimCR(data[:i]), off, off+int64(i)+1)
		} else {
			s.keep(data[:i], off)
			fn(s.finish(), s.pstart, off+int64(i)+1)
		}
		data = data[i+1:]
		off += int64(i) + 1
	}
}

// keep adds b (read at off) to the unfinished line.
func (s *splitter) keep(b []byte, off int64) {
	if s.total == 0 {
		s.pstart = off
	}
	if room := s.max - len(s.partial); room > 0 {
		s.partial = append(s.partial, b[:min(room, len(b))]...)
	}
	s.total += int64(len(b))
}

// finish returns the unfinished line as complete and forgets it; the
// result is valid until the next call.
func (s *splitter) finish() []byte {
	line := s.partial
	if s.total > int64(len(line)) {
		line = appendCutMarker(line, s.total, len(line))
		if s.onCut != nil {
			s.onCut()
		}
	} else {
		line = trimCR(line)
	}
	s.partial, s.total = s.partial[:0], 0
	if cap(s.partial) > 64<<10 {
		s.partial = nil
	}
	return line
}

// pending reports whether an unfinished line is held.
func (s *splitter) pending() bool { return s.total > 0 }

// flush hands over the unfinished line (a file that ends without "\n").
func (s *splitter) flush(end int64, fn func(line []byte, start, end int64)) {
	if s.total > 0 {
		start := s.pstart
		fn(s.finish(), start, end)
	}
}

func (s *splitter) reset() { s.partial, s.total = s.partial[:0], 0 }

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// recordEncoder writes records as NDJSON objects. Every object starts with
// the input's fields (the filename field, then the static fields sorted by
// name); a JSON line's own fields follow, so where a name repeats, the
// line's own value wins (the server keeps the last value of a field).
type recordEncoder struct {
	prefix []byte // `{"filename":"/var/log/app.log","host":"web-1"`, no closing brace
	fields bool   // prefix holds at least one field
	msgKey []byte // `"_msg":` or the configured message field
}

func newRecordEncoder(in *Input, name string) *recordEncoder {
	e := &recordEncoder{prefix: []byte{'{'}}
	add := func(k, v string) {
		if e.fields {
			e.prefix = append(e.prefix, ',')
		}
		e.prefix = jsonstr.Append(e.prefix, k)
		e.prefix = append(e.prefix, ':')
		e.prefix = jsonstr.Append(e.prefix, v)
		e.fields = true
	}
	if f := in.filenameField(); f != "" {
		add(f, name)
	}
	keys := make([]string, 0, len(in.Fields))
	for k := range in.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(k, in.Fields[k])
	}
	msg := "_msg"
	if in.MsgField != "" {
		msg, _, _ = strings.Cut(in.MsgField, ",")
	}
	e.msgKey = append(jsonstr.Append(nil, msg), ':')
	return e
}

// appendRecord appends one record and its "\n" to dst.
func (e *recordEncoder) appendRecord(dst, text []byte, isJSON bool) []byte {
	if isJSON {
		if !e.fields {
			dst = append(dst, text...)
			return append(dst, '\n')
		}
		rest := text[1:] // after '{'
		dst = append(dst, e.prefix...)
		if i := bytes.IndexFunc(rest, func(r rune) bool { return r != ' ' && r != '\t' }); i >= 0 && rest[i] != '}' {
			dst = append(dst, ',')
		}
		dst = append(dst, rest...)
		return append(dst, '\n')
	}
	dst = append(dst, e.prefix...)
	if e.fields {
		dst = append(dst, ',')
	}
	dst = append(dst, e.msgKey...)
	if len(text) > 0 {
		dst = jsonstr.Append(dst, unsafe.String(&text[0], len(text)))
	} else {
		dst = append(dst, `""`...)
	}
	return append(dst, '}', '\n')
}

// compressor compresses request bodies. Safe for concurrent use.
type compressor struct {
	encoding string // "zstd", "gzip" or "" (none)
	zenc     *zstd.Encoder
}

func newCompressor(kind string, concurrency int) (*compressor, error) {
	switch kind {
	case "zstd":
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest),
			zstd.WithEncoderConcurrency(max(1, concurrency)), zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, fmt.Errorf("start zstd: %w", err)
		}
		return &compressor{encoding: "zstd", zenc: enc}, nil
	case "gzip":
		return &compressor{encoding: "gzip"}, nil
	}
	return &compressor{}, nil
}

func (c *compressor) compress(body []byte) []byte {
	switch c.encoding {
	case "zstd":
		return c.zenc.EncodeAll(body, make([]byte, 0, len(body)/4+64))
	case "gzip":
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = w.Write(body)
		_ = w.Close()
		return buf.Bytes()
	}
	return body
}

func (c *compressor) close() {
	if c.zenc != nil {
		_ = c.zenc.Close()
	}
}

// formatBytes renders n bytes for people.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
