package loki

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/klauspost/compress/s2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/logbucket/logbucket/internal/ingest"
)

// Field numbers of Loki's push.proto (package logproto). Other fields
// (PushRequest.format, StreamAdapter.hash, EntryAdapter.parsed, and any
// unknown field) are skipped.
const (
	fieldPushStreams    = 1 // PushRequest: repeated StreamAdapter
	fieldStreamLabels   = 1 // StreamAdapter: string
	fieldStreamEntries  = 2 // StreamAdapter: repeated EntryAdapter
	fieldEntryTimestamp = 1 // EntryAdapter: google.protobuf.Timestamp
	fieldEntryLine      = 2 // EntryAdapter: string
	fieldEntryMetadata  = 3 // EntryAdapter: repeated LabelPairAdapter
	fieldTimeSeconds    = 1 // Timestamp: int64
	fieldTimeNanos      = 2 // Timestamp: int32
	fieldPairName       = 1 // LabelPairAdapter: string
	fieldPairValue      = 2 // LabelPairAdapter: string
)

// maxSnappyRatio bounds the expansion of a snappy block: its densest
// element, a 3-byte copy, writes 64 bytes. (s2.Decode also reads S2's
// denser extensions, which no Loki client writes.) Checking it first keeps
// a few bytes from allocating MaxDecodedBytes.
const maxSnappyRatio = 22

// decodeProto decodes a snappy block holding a PushRequest. The message is
// walked twice: a measuring pass that checks the whole wire format and
// sizes the records, then a building pass, so that a malformed body or one
// over MaxRecordBytes leaves res unchanged.
func (d *Decoder) decodeProto(body []byte, contentType string, res *ingest.Result) error {
	n, err := s2.DecodedLen(body)
	if err != nil {
		return notSnappy(err, contentType)
	}
	if n/maxSnappyRatio > len(body) {
		return fmt.Errorf("%w: the snappy header claims %d bytes, more than snappy can encode in %d: the body is corrupt or not snappy", ErrMalformed, n, len(body))
	}
	if lim := d.opts.MaxDecodedBytes; lim > 0 && n > lim {
		return fmt.Errorf("%w: the snappy body decompresses to %d bytes, the limit is %d: send smaller batches", ErrTooLarge, n, lim)
	}
	d.snappyBuf, err = s2.Decode(d.snappyBuf[:cap(d.snappyBuf)], body)
	d.largest = max(d.largest, cap(d.snappyBuf))
	if err != nil {
		return notSnappy(err, contentType)
	}
	msg := d.snappyBuf
	d.entries, d.recordBytes = 0, 0
	if err := d.walkPush(msg, false, res); err != nil {
		return err
	}
	if err := d.reserve(len(msg), res); err != nil {
		return err
	}
	d.pos = 0
	if err := d.walkPush(msg, true, res); err != nil {
		return fmt.Errorf("BUG: the building pass failed after the measuring pass passed: %w", err)
	}
	return nil
}

func notSnappy(err error, contentType string) error {
	return fmt.Errorf("%w: a body with Content-Type %q is read as snappy-compressed protobuf, and it is not a snappy block (%v): compress the PushRequest with snappy's block format, or send Content-Type: application/json for JSON",
		ErrMalformed, contentType, err)
}

// protoError is a wire format error at a path such as "stream 2, entry 7".
func protoError(path string, err error) error {
	return fmt.Errorf("%w: protobuf PushRequest, %s: %v: the body is truncated or not a Loki PushRequest", ErrMalformed, path, err)
}

var errWireType = errors.New("wrong wire type")

// field is one field of a message.
type field struct {
	num protowire.Number
	val []byte // the contents of a bytes field
	u   uint64 // the value of a varint field
}

// Wire types of the known fields, as bit masks of field numbers.
const (
	pushBytes    = 1 << fieldPushStreams
	streamBytes  = 1<<fieldStreamLabels | 1<<fieldStreamEntries
	entryBytes   = 1<<fieldEntryTimestamp | 1<<fieldEntryLine | 1<<fieldEntryMetadata
	timeVarints  = 1<<fieldTimeSeconds | 1<<fieldTimeNanos
	pairBytes    = 1<<fieldPairName | 1<<fieldPairValue
	noFieldsMask = 0
)

// nextField consumes the next field of b. A field whose number has its bit
// set in bytesMask (varintMask) must have the bytes (varint) wire type; any
// other field is skipped whatever its type.
func nextField(b []byte, bytesMask, varintMask uint32) (field, []byte, error) {
	num, typ, n := protowire.ConsumeTag(b)
	if n < 0 {
		return field{}, nil, wireError(n)
	}
	b = b[n:]
	f := field{num: num}
	if num < 32 {
		bit := uint32(1) << num
		if bytesMask&bit != 0 && typ != protowire.BytesType || varintMask&bit != 0 && typ != protowire.VarintType {
			want := protowire.BytesType
			if varintMask&bit != 0 {
				want = protowire.VarintType
			}
			return f, nil, fmt.Errorf("field %d: %w %d, want %d", num, errWireType, typ, want)
		}
	}
	switch typ {
	case protowire.BytesType:
		f.val, n = protowire.ConsumeBytes(b)
	case protowire.VarintType:
		f.u, n = protowire.ConsumeVarint(b)
	default:
		n = protowire.ConsumeFieldValue(num, typ, b)
	}
	if n < 0 {
		return f, nil, fmt.Errorf("field %d: %w", num, wireError(n))
	}
	return f, b[n:], nil
}

// wireError returns protowire's error for code n without its "proto:"
// prefix, which protobuf-go spells with a random kind of space.
func wireError(n int) error {
	err := protowire.ParseError(n)
	if s, ok := strings.CutPrefix(err.Error(), "proto:"); ok {
		return errors.New(strings.TrimLeft(s, " \u00a0"))
	}
	return err
}

// walkPush walks a PushRequest: checking and measuring it, or building its
// records.
func (d *Decoder) walkPush(b []byte, build bool, res *ingest.Result) error {
	for n := 1; len(b) > 0; {
		f, rest, err := nextField(b, pushBytes, noFieldsMask)
		if err != nil {
			return protoError("top level", err)
		}
		b = rest
		if f.num == fieldPushStreams {
			if err := d.walkStream(f.val, n, build, res); err != nil {
				return err
			}
			n++
		}
	}
	return nil
}

// walkStream walks the n-th StreamAdapter.
func (d *Decoder) walkStream(b []byte, n int, build bool, res *ingest.Result) error {
	// The labels may follow the entries on the wire: find them first. As
	// for any scalar field, the last occurrence wins.
	var labels []byte
	for rest := b; len(rest) > 0; {
		f, next, err := nextField(rest, streamBytes, noFieldsMask)
		if err != nil {
			return protoError(fmt.Sprintf("stream %d", n), err)
		}
		rest = next
		if f.num == fieldStreamLabels {
			labels = f.val
		}
	}
	labelsBad := ""
	if build {
		if err := d.labels.parse(string(labels)); err != nil {
			labelsBad = fmt.Sprintf("stream %d: invalid labels %s: %v", n, quoted(labels), err)
		}
	}
	for entry := 1; len(b) > 0; {
		f, rest, _ := nextField(b, streamBytes, noFieldsMask) // checked above
		b = rest
		if f.num != fieldStreamEntries {
			continue
		}
		if build {
			d.pos++
			if labelsBad != "" {
				res.Reject(d.pos, ReasonInvalidLabels, labelsBad)
				entry++
				continue
			}
		}
		if err := d.walkEntry(f.val, build, res); err != nil {
			return protoError(fmt.Sprintf("stream %d, entry %d", n, entry), err)
		}
		if !build {
			d.measure(len(labels), len(f.val))
		}
		entry++
	}
	return nil
}

// walkEntry walks an EntryAdapter: checking it, or building its record.
func (d *Decoder) walkEntry(b []byte, build bool, res *ingest.Result) error {
	var line []byte
	var sec, nanos int64
	for len(b) > 0 {
		f, rest, err := nextField(b, entryBytes, noFieldsMask)
		if err != nil {
			return err
		}
		b = rest
		switch f.num {
		case fieldEntryTimestamp:
			if err := walkTimestamp(f.val, &sec, &nanos); err != nil {
				return fmt.Errorf("timestamp: %w", err)
			}
		case fieldEntryLine:
			line = f.val
		case fieldEntryMetadata:
			name, value, err := walkPair(f.val)
			if err != nil {
				return fmt.Errorf("structured metadata: %w", err)
			}
			if build {
				d.b.Add(name, value)
			}
		}
	}
	if !build {
		return nil
	}
	ns, bad := protoTime(sec, nanos)
	if bad != "" {
		d.b.Reset()
		res.Reject(d.pos, ingest.ReasonInvalidTime, bad)
		return nil
	}
	d.finishEntry(ns, line, res)
	return nil
}

// walkTimestamp merges a google.protobuf.Timestamp into sec and nanos.
func walkTimestamp(b []byte, sec, nanos *int64) error {
	for len(b) > 0 {
		f, rest, err := nextField(b, noFieldsMask, timeVarints)
		if err != nil {
			return err
		}
		b = rest
		switch f.num {
		case fieldTimeSeconds:
			*sec = int64(f.u)
		case fieldTimeNanos:
			*nanos = int64(int32(f.u)) // int32 semantics: the high bits are dropped
		}
	}
	return nil
}

// walkPair returns the name and value of a LabelPairAdapter.
func walkPair(b []byte) (name, value []byte, err error) {
	for len(b) > 0 {
		f, rest, err := nextField(b, pairBytes, noFieldsMask)
		if err != nil {
			return nil, nil, err
		}
		b = rest
		switch f.num {
		case fieldPairName:
			name = f.val
		case fieldPairValue:
			value = f.val
		}
	}
	return name, value, nil
}

// protoTime returns the unix nanoseconds of a Timestamp (0 for the zero
// Timestamp), or a detail saying why it is out of range.
func protoTime(sec, nanos int64) (int64, string) {
	if sec < 0 || nanos < 0 || nanos >= 1e9 || sec > (math.MaxInt64-nanos)/1e9 {
		return 0, fmt.Sprintf("timestamp %ds + %dns is out of range (1970 to 2262, nanos below 1e9)", sec, nanos)
	}
	return sec*1e9 + nanos, ""
}
