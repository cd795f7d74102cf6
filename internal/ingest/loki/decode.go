package loki

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"

	"github.com/logbucket/logbucket/internal/ingest"
)

// Options are the settings of one push request.
type Options struct {
	// Options are the record rules. Decode replaces MsgFields with
	// ["_msg"] and StreamFields with none: the message is the entry's line
	// and the stream is the stream's labels.
	ingest.Options
	// MaxDecodedBytes bounds the body after each decompression step (gzip,
	// snappy). A bigger body is refused with ErrTooLarge before it is
	// decompressed further.
	MaxDecodedBytes int
	// MaxRecordBytes bounds the estimated memory of the records of one
	// request: each entry counts recordOverhead plus the bytes of its
	// stream's labels, line and structured metadata, at most MaxLineBytes.
	// Labels are sent once per stream but copied into every record, so a
	// small body can expand a lot; a request over the bound is refused with
	// ErrTooLarge before any record is built.
	MaxRecordBytes int
}

// Default limits.
const (
	DefaultMaxDecodedBytes = 256 << 20
	DefaultMaxRecordBytes  = 512 << 20
)

// DefaultOptions returns ingest.DefaultOptions with the default limits.
func DefaultOptions() Options {
	return Options{
		Options:         ingest.DefaultOptions(),
		MaxDecodedBytes: DefaultMaxDecodedBytes,
		MaxRecordBytes:  DefaultMaxRecordBytes,
	}
}

// Rejection reasons of this package, besides ingest.ReasonInvalidTime.
// They are stable metric label values.
const (
	// ReasonInvalidLabels: the stream's labels are malformed; every entry
	// of the stream is rejected.
	ReasonInvalidLabels = "invalid_labels"
	// ReasonInvalidEntry: a JSON entry is not [timestamp, line] or
	// [timestamp, line, {metadata}], or a JSON stream is not an object or
	// its "values" is not an array (the stream counts as one entry).
	ReasonInvalidEntry = "invalid_entry"
)

// Errors for a body that is not decodable at all; Decode wraps them.
var (
	// ErrMalformed: bad gzip, bad snappy, bad protobuf, invalid JSON or a
	// JSON body that is not {"streams":[...]} (HTTP 400).
	ErrMalformed = errors.New("malformed body")
	// ErrTooLarge: over MaxDecodedBytes or MaxRecordBytes (HTTP 413).
	ErrTooLarge = errors.New("body too large")
	// ErrUnsupported: a Content-Encoding other than gzip, snappy or none
	// (HTTP 415).
	ErrUnsupported = errors.New("unsupported encoding")
)

const (
	msgField        = "_msg"
	contentTypeJSON = "application/json"
	// recordOverhead is the memory counted per entry besides its strings:
	// a model.Record, its fields' headers and allocation slack.
	recordOverhead = 128
	// minEntryBytes is the entry size assumed when reserving records.
	minEntryBytes = 16
	// poolMaxBytes is the decompressed body size after which a Decoder is
	// not pooled, so that one huge request does not pin its buffers.
	poolMaxBytes = 4 << 20
	// maxErrorText bounds a library error quoted in an error.
	maxErrorText = 256
)

var decoderPool = sync.Pool{New: func() any { return new(Decoder) }}

// Decode decodes a Loki push request body, appending records, rejections
// and discard counts to res. contentType and contentEncoding are the
// request's header values. It is safe for concurrent use.
func Decode(body []byte, contentType, contentEncoding string, opts Options, res *ingest.Result) error {
	d := decoderPool.Get().(*Decoder)
	err := d.Decode(body, contentType, contentEncoding, opts, res)
	if d.largest <= poolMaxBytes {
		decoderPool.Put(d)
	}
	return err
}

// Decoder decodes push requests, reusing its parser and buffers across
// calls. The zero Decoder is ready to use. It is not safe for concurrent
// use.
type Decoder struct {
	opts      Options
	msgFields [1]string
	b         ingest.Builder
	p         fastjson.Parser
	labels    labelSet
	br        bytes.Reader
	gz        *gzip.Reader
	gzBuf     []byte // gunzipped body
	snappyBuf []byte // snappy-decoded body
	val       []byte // text of a JSON value
	largest   int    // largest decompressed or JSON body so far

	// Set by the measuring pass, before anything is built.
	entries     int
	recordBytes int64
	// pos is the 1-based position of the entry being built.
	pos int
}

// Decode decodes a Loki push request body, appending records, rejections
// and discard counts to res. On error res is unchanged.
func (d *Decoder) Decode(body []byte, contentType, contentEncoding string, opts Options, res *ingest.Result) error {
	d.opts = opts
	d.msgFields[0] = msgField
	bo := opts.Options
	bo.MsgFields, bo.StreamFields = d.msgFields[:], nil
	d.b.SetOptions(bo)
	defer func() { // do not retain the caller's slices
		d.opts = Options{}
		d.b.SetOptions(ingest.Options{})
	}()
	if err := d.decode(body, contentType, contentEncoding, res); err != nil {
		return fmt.Errorf("decode push request: %w", err)
	}
	return nil
}

func (d *Decoder) decode(body []byte, contentType, contentEncoding string, res *ingest.Result) error {
	enc, err := parseEncoding(contentEncoding)
	if err != nil {
		return err
	}
	if enc == "gzip" {
		if body, err = d.gunzip(body); err != nil {
			return err
		}
	}
	if len(body) == 0 {
		return nil
	}
	if mediaType(contentType) == contentTypeJSON {
		return d.decodeJSON(body, enc == "snappy", res)
	}
	return d.decodeProto(body, contentType, res)
}

// mediaType returns the lower-case media type of a Content-Type value.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// parseEncoding returns "", "gzip" or "snappy" for a Content-Encoding
// value, refusing anything else and stacked encodings.
func parseEncoding(v string) (string, error) {
	enc := ""
	for part := range strings.SplitSeq(v, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "" || part == "identity" {
			continue
		}
		if enc != "" {
			return "", fmt.Errorf("%w: stacked Content-Encoding %q: compress the body once, with gzip, or send snappy-compressed protobuf", ErrUnsupported, v)
		}
		switch part {
		case "gzip", "x-gzip":
			enc = "gzip"
		case "snappy":
			enc = "snappy"
		default:
			return "", fmt.Errorf("%w: Content-Encoding %q: use gzip, snappy (protobuf bodies) or none", ErrUnsupported, part)
		}
	}
	return enc, nil
}

// gunzip returns the gunzipped body in d.gzBuf, within MaxDecodedBytes.
func (d *Decoder) gunzip(body []byte) ([]byte, error) {
	d.br.Reset(body)
	defer d.br.Reset(nil) // do not retain body
	var err error
	if d.gz == nil {
		d.gz, err = gzip.NewReader(&d.br)
	} else {
		err = d.gz.Reset(&d.br)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: body is not gzip (%v): send it uncompressed or fix Content-Encoding", ErrMalformed, err)
	}
	limit := d.opts.MaxDecodedBytes
	buf := d.gzBuf[:0]
	for {
		if len(buf) == cap(buf) {
			grow := max(cap(buf), 64<<10)
			if limit > 0 {
				grow = max(min(grow, limit+1-len(buf)), 1)
			}
			buf = slices.Grow(buf, grow)
		}
		n, rerr := d.gz.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		d.largest = max(d.largest, cap(buf))
		d.gzBuf = buf
		if limit > 0 && len(buf) > limit {
			return nil, fmt.Errorf("%w: gzip body decompresses to more than %d bytes: send smaller batches", ErrTooLarge, limit)
		}
		if rerr == io.EOF {
			return buf, nil
		}
		if rerr != nil {
			return nil, fmt.Errorf("%w: body is not valid gzip (%v): send it uncompressed or fix Content-Encoding", ErrMalformed, rerr)
		}
	}
}

// measure counts an entry of a stream with labelBytes of labels and
// entryBytes of line and metadata towards the MaxRecordBytes estimate.
func (d *Decoder) measure(labelBytes, entryBytes int) {
	d.entries++
	size := labelBytes + entryBytes
	if lim := d.opts.MaxLineBytes; lim > 0 {
		size = min(size, lim)
	}
	d.recordBytes += int64(recordOverhead + size)
}

// reserve checks the measured size against MaxRecordBytes and reserves
// room for the records, bounded by the body size.
func (d *Decoder) reserve(bodyLen int, res *ingest.Result) error {
	if lim := d.opts.MaxRecordBytes; lim > 0 && d.recordBytes > int64(lim) {
		return fmt.Errorf("%w: %d entries would take about %d bytes as records (the stream labels are copied into every record), the limit is %d: send fewer entries per request, or shorter labels",
			ErrTooLarge, d.entries, d.recordBytes, lim)
	}
	res.Records = slices.Grow(res.Records, min(d.entries, bodyLen/minEntryBytes+1))
	return nil
}

// finishEntry completes the pending record of the entry at d.pos, whose
// structured metadata is already added: the stream's labels (added after
// the metadata, so that a label wins over metadata of the same name), the
// line (added last, so that it is always the message) and the time.
func (d *Decoder) finishEntry(ns int64, line []byte, res *ingest.Result) {
	for i := range d.labels.len() {
		d.b.AddStream(d.labels.name(i), d.labels.value(i))
	}
	d.b.Add([]byte(msgField), line)
	if ns == 0 {
		ns = d.opts.Now
	}
	d.b.SetTime(ns)
	d.b.Finish(d.pos, res)
}

// clipError returns the text of err, valid UTF-8, at most maxErrorText
// bytes.
func clipError(err error) string {
	s := err.Error()
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
