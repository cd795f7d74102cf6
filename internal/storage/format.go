package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// File layout constants (docs/format/part.md is the specification).
const (
	formatVersion = 1
	headerMagic   = "LBKTPART"
	footerMagic   = "LBKTPEND"
	headerSize    = 16
	footerSize    = 60
)

// Limits. The writer never produces anything beyond them and the reader
// refuses anything beyond them, so that a damaged file cannot make a reader
// allocate without bound.
const (
	// MaxBlockRows bounds WriteOptions.BlockRows.
	MaxBlockRows = 1 << 16
	// MaxBlockBytes bounds WriteOptions.BlockBytes.
	MaxBlockBytes = 64 << 20
	// MaxRecordBytes bounds one row's raw size (see Row.rawSize); bigger
	// rows are refused by WritePart with ErrInvalidRow.
	MaxRecordBytes = 64 << 20
	// maxBlockRaw bounds the decoded size of one block: a block is cut
	// before it exceeds BlockBytes, but always takes at least one row.
	maxBlockRaw = MaxBlockBytes + MaxRecordBytes
	// maxBlockColumns bounds the named columns of one block; the writer
	// starts a new block before a block would exceed it.
	maxBlockColumns = 4096
	// maxIndexRaw bounds the decoded index section.
	maxIndexRaw = 256 << 20
	// maxFilterBytes bounds one block's filter.
	maxFilterBytes = 64 << 20
	// maxNameLen bounds field names, bucket names and stream field names.
	maxNameLen = 64 << 10
	// maxStreamFields bounds the fields of one stream.
	maxStreamFields = 4096
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// ErrCorrupt is wrapped by every error that reports a damaged part file:
// errors.Is(err, ErrCorrupt) tells damage from I/O errors and misuse.
var ErrCorrupt = errors.New("corrupt part")

// ErrInvalidRow is wrapped by WritePart's errors for rows it refuses
// (reserved or duplicate field names, oversized rows, duplicate offsets).
var ErrInvalidRow = errors.New("invalid row")

// CorruptionError describes damage found in a part file. It wraps
// ErrCorrupt and the underlying cause.
type CorruptionError struct {
	Path    string // the part file
	Section string // e.g. "footer", "index", "block 3 column _msg", "filter 7"
	Offset  int64  // file offset of the damaged section, -1 when unknown
	Err     error  // what is wrong
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("corrupt part %s: %s at offset %d: %v", e.Path, e.Section, e.Offset, e.Err)
}

// Unwrap returns ErrCorrupt and the cause.
func (e *CorruptionError) Unwrap() []error { return []error{ErrCorrupt, e.Err} }

// errData is the cause of every decoding failure; the reader wraps it in a
// CorruptionError that says where.
var errData = errors.New("malformed data")

func dataErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errData}, args...)...)
}

// decoder reads LEB128 varints, fixed-width integers and byte strings from a
// buffer. The first failure is sticky: later reads return zero values, and
// err says what went wrong. Nothing it returns aliases beyond b.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = dataErrorf(format+" (at byte %d)", append(args, d.off)...)
	}
}

func (d *decoder) remaining() int { return len(d.b) - d.off }

func (d *decoder) uvarint() uint64 {
	if d.off < len(d.b) && d.b[d.off] < 0x80 && d.err == nil {
		v := d.b[d.off]
		d.off++
		return uint64(v)
	}
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.off += n
	return v
}

// uvarintMax reads a uvarint and fails when it exceeds max.
func (d *decoder) uvarintMax(max uint64, what string) int {
	v := d.uvarint()
	if v > max {
		d.fail("%s %d exceeds %d", what, v, max)
		return 0
	}
	return int(v)
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("unexpected end")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *decoder) u32() uint32 {
	b := d.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (d *decoder) u64() uint64 {
	b := d.bytes(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// bytes returns the next n bytes (a sub-slice of the buffer).
func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b)-d.off {
		d.fail("need %d bytes, have %d", n, len(d.b)-d.off)
		return nil
	}
	b := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// str reads a uvarint length, at most max, and that many bytes as a string.
func (d *decoder) str(max int) string {
	n := d.uvarintMax(uint64(max), "string length")
	return string(d.bytes(n))
}

// done fails unless the whole buffer was consumed.
func (d *decoder) done(what string) error {
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d trailing bytes after %s", len(d.b)-d.off, what)
	}
	return d.err
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendU32(dst []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(dst, v) }

func appendU64(dst []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(dst, v) }

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }
