package commitlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/logbucket/logbucket/internal/model"
)

// Batch frame layout (format version 1, little endian):
//
//	off size field
//	0   8    base offset (assigned by the partition writer; not in the CRC)
//	8   4    length: bytes that follow this field
//	12  4    CRC-32C (Castagnoli) of every byte after this field
//	16  1    format version (1)
//	17  1    codec (0 none, 1 zstd, 2 s2)
//	18  2    part: index of this batch in its group
//	20  2    parts: number of batches in the group (one append, one partition)
//	22  4    record count (> 0)
//	26  8    min record time, unix ns
//	34  8    max record time, unix ns
//	42  8    append time, unix ns
//	50  4    uncompressed payload length
//	54  1    batch id length k (0..255)
//	55  k    batch id (idempotency key)
//	55+k     payload (compressed records)
const (
	batchVersion      = 1
	batchFixedHeader  = 55
	batchLengthPrefix = 12 // base offset + length
	maxBatchIDLen     = 255
	// maxFrameLength bounds a frame so a corrupt length can't make a reader
	// allocate without limit.
	maxFrameLength = 256 << 20
	// maxPayloadLength bounds the uncompressed payload of one batch.
	maxPayloadLength = 64 << 20
)

// Codec is a batch payload compression.
type Codec uint8

// The codecs.
const (
	CodecNone Codec = 0
	CodecZstd Codec = 1
	CodecS2   Codec = 2
)

// ParseCodec maps a configuration name to a Codec.
func ParseCodec(name string) (Codec, error) {
	switch name {
	case "none":
		return CodecNone, nil
	case "zstd", "":
		return CodecZstd, nil
	case "s2":
		return CodecS2, nil
	}
	return 0, fmt.Errorf("unknown compression %q: use zstd, s2 or none", name)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt marks a frame that fails validation.
var ErrCorrupt = errors.New("corrupt batch")

// batchHeader is the decoded fixed part of a frame.
type batchHeader struct {
	BaseOffset   int64
	Length       uint32 // bytes after the length field
	Codec        Codec
	Part, Parts  uint16
	Count        uint32
	MinTime      int64
	MaxTime      int64
	AppendTime   int64
	PayloadLen   uint32
	BatchID      string
	headerLength int // bytes from frame start to payload
}

// frameLen is the frame's total size in bytes.
func (h *batchHeader) frameLen() int64 { return batchLengthPrefix + int64(h.Length) }

// lastOffset is the offset of the frame's last record.
func (h *batchHeader) lastOffset() int64 { return h.BaseOffset + int64(h.Count) - 1 }

// groupDone reports whether this frame closes its group.
func (h *batchHeader) groupDone() bool { return h.Part+1 == h.Parts }

var (
	zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2), zstd.WithLowerEncoderMem(true))
	zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(2), zstd.WithDecoderMaxMemory(maxPayloadLength))
)

// encodeRecords appends the uncompressed payload of records to dst:
// per record uvarint(time-minTime), msg, stream pairs, field pairs, each
// string as uvarint length + bytes, each pair list prefixed by its count.
func encodeRecords(dst []byte, recs []model.Record, minTime int64) []byte {
	for i := range recs {
		r := &recs[i]
		dst = binary.AppendUvarint(dst, uint64(r.Time-minTime))
		dst = appendString(dst, r.Msg)
		dst = appendFields(dst, r.Stream)
		dst = appendFields(dst, r.Fields)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendFields(dst []byte, fs []model.Field) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(fs)))
	for _, f := range fs {
		dst = appendString(dst, f.Name)
		dst = appendString(dst, f.Value)
	}
	return dst
}

// encodeFrame builds one frame (base offset 0, patched by the writer) for
// recs. scratch is reused for the uncompressed payload and returned.
func encodeFrame(recs []model.Record, codec Codec, batchID string, part, parts int, appendTime int64, scratch []byte) (frame, scratchOut []byte) {
	minT, maxT := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range recs {
		minT = min(minT, recs[i].Time)
		maxT = max(maxT, recs[i].Time)
	}
	payload := encodeRecords(scratch[:0], recs, minT)
	idLen := len(batchID)
	frame = make([]byte, batchFixedHeader+idLen, batchFixedHeader+idLen+len(payload)/3+64)
	switch codec {
	case CodecZstd:
		frame = zstdEnc.EncodeAll(payload, frame)
	case CodecS2:
		frame = append(frame, s2.Encode(nil, payload)...)
	default:
		frame = append(frame, payload...)
	}
	le := binary.LittleEndian
	le.PutUint32(frame[8:], uint32(len(frame)-batchLengthPrefix))
	frame[16] = batchVersion
	frame[17] = byte(codec)
	le.PutUint16(frame[18:], uint16(part))
	le.PutUint16(frame[20:], uint16(parts))
	le.PutUint32(frame[22:], uint32(len(recs)))
	le.PutUint64(frame[26:], uint64(minT))
	le.PutUint64(frame[34:], uint64(maxT))
	le.PutUint64(frame[42:], uint64(appendTime))
	le.PutUint32(frame[50:], uint32(len(payload)))
	frame[54] = byte(idLen)
	copy(frame[batchFixedHeader:], batchID)
	le.PutUint32(frame[12:], crc32.Checksum(frame[16:], castagnoli))
	return frame, payload
}

// setBaseOffset writes the base offset into an encoded frame.
func setBaseOffset(frame []byte, base int64) {
	binary.LittleEndian.PutUint64(frame[0:], uint64(base))
}

// parseHeader decodes a frame header from b, which must hold at least
// batchFixedHeader bytes (plus the batch id when present). It checks the
// structure but not the CRC.
func parseHeader(b []byte) (batchHeader, error) {
	var h batchHeader
	if len(b) < batchFixedHeader {
		return h, fmt.Errorf("%w: header needs %d bytes, have %d", ErrCorrupt, batchFixedHeader, len(b))
	}
	le := binary.LittleEndian
	h.BaseOffset = int64(le.Uint64(b[0:]))
	h.Length = le.Uint32(b[8:])
	if b[16] != batchVersion {
		return h, fmt.Errorf("%w: unknown format version %d", ErrCorrupt, b[16])
	}
	h.Codec = Codec(b[17])
	h.Part = le.Uint16(b[18:])
	h.Parts = le.Uint16(b[20:])
	h.Count = le.Uint32(b[22:])
	h.MinTime = int64(le.Uint64(b[26:]))
	h.MaxTime = int64(le.Uint64(b[34:]))
	h.AppendTime = int64(le.Uint64(b[42:]))
	h.PayloadLen = le.Uint32(b[50:])
	idLen := int(b[54])
	h.headerLength = batchFixedHeader + idLen
	switch {
	case h.Length > maxFrameLength || int64(h.Length)+batchLengthPrefix < int64(h.headerLength):
		return h, fmt.Errorf("%w: frame length %d out of range", ErrCorrupt, h.Length)
	case h.Codec > CodecS2:
		return h, fmt.Errorf("%w: unknown codec %d", ErrCorrupt, h.Codec)
	case h.Count == 0 || h.Parts == 0 || h.Part >= h.Parts:
		return h, fmt.Errorf("%w: count %d part %d/%d", ErrCorrupt, h.Count, h.Part, h.Parts)
	case h.PayloadLen > maxPayloadLength || h.BaseOffset < 0 || h.MinTime > h.MaxTime:
		return h, fmt.Errorf("%w: implausible header fields", ErrCorrupt)
	}
	if len(b) >= h.headerLength {
		h.BatchID = string(b[batchFixedHeader:h.headerLength])
	}
	return h, nil
}

// checkFrame verifies a whole frame's header and CRC.
func checkFrame(frame []byte) (batchHeader, error) {
	h, err := parseHeader(frame)
	if err != nil {
		return h, err
	}
	if int64(len(frame)) != h.frameLen() {
		return h, fmt.Errorf("%w: frame is %d bytes, header says %d", ErrCorrupt, len(frame), h.frameLen())
	}
	if got, want := crc32.Checksum(frame[16:], castagnoli), binary.LittleEndian.Uint32(frame[12:]); got != want {
		return h, fmt.Errorf("%w: crc %08x, want %08x", ErrCorrupt, got, want)
	}
	return h, nil
}

// decodeFrame decodes a verified frame's records, calling fn with each
// record's offset. Strings of the records share one allocation.
func decodeFrame(frame []byte, h batchHeader, fn func(off int64, r model.Record) bool) error {
	raw := frame[h.headerLength:]
	var payload []byte
	var err error
	switch h.Codec {
	case CodecZstd:
		payload, err = zstdDec.DecodeAll(raw, make([]byte, 0, h.PayloadLen))
	case CodecS2:
		var n int
		if n, err = s2.DecodedLen(raw); err == nil && n > maxPayloadLength {
			err = fmt.Errorf("decoded length %d too large", n)
		}
		if err == nil {
			payload, err = s2.Decode(nil, raw)
		}
	default:
		payload = raw
	}
	if err != nil {
		return fmt.Errorf("%w: decompress batch at offset %d: %v", ErrCorrupt, h.BaseOffset, err)
	}
	if len(payload) != int(h.PayloadLen) {
		return fmt.Errorf("%w: payload is %d bytes, header says %d", ErrCorrupt, len(payload), h.PayloadLen)
	}
	d := payloadDecoder{s: string(payload)}
	for i := int64(0); i < int64(h.Count); i++ {
		r, err := d.record(h.MinTime)
		if err != nil {
			return fmt.Errorf("%w: record %d of batch at offset %d: %v", ErrCorrupt, i, h.BaseOffset, err)
		}
		if !fn(h.BaseOffset+i, r) {
			return nil
		}
	}
	return nil
}

// payloadDecoder reads records from a payload string, slicing strings out
// of it without copying.
type payloadDecoder struct {
	s   string
	pos int
}

var errShortPayload = errors.New("payload ends early")

func (d *payloadDecoder) uvarint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.pos >= len(d.s) {
			return 0, errShortPayload
		}
		c := d.s[d.pos]
		d.pos++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("varint overflows 64 bits")
}

func (d *payloadDecoder) str() (string, error) {
	n, err := d.uvarint()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.s)-d.pos) {
		return "", errShortPayload
	}
	s := d.s[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s, nil
}

func (d *payloadDecoder) fields() ([]model.Field, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	if n > uint64(len(d.s)-d.pos)/2 {
		return nil, errShortPayload
	}
	fs := make([]model.Field, n)
	for i := range fs {
		if fs[i].Name, err = d.str(); err != nil {
			return nil, err
		}
		if fs[i].Value, err = d.str(); err != nil {
			return nil, err
		}
	}
	return fs, nil
}

func (d *payloadDecoder) record(minTime int64) (model.Record, error) {
	var r model.Record
	dt, err := d.uvarint()
	if err != nil {
		return r, err
	}
	r.Time = minTime + int64(dt)
	if r.Msg, err = d.str(); err != nil {
		return r, err
	}
	if r.Stream, err = d.fields(); err != nil {
		return r, err
	}
	r.Fields, err = d.fields()
	return r, err
}
