package storage

import (
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/logbucket/logbucket/internal/model"
)

// Block is one decoded block: rows of one stream sorted by time, then
// partition, then offset. It is immutable and safe for concurrent use.
type Block struct {
	meta  BlockMeta
	index int
	msg   *Column
	cols  []*Column // named columns that were decoded, sorted by name
	// refOnly holds the undecoded columns the message references that
	// were not requested (see Column.raw).
	refOnly []*Column

	// The times are decoded on the first Time or Times call, the
	// positions on the first Position call (and read from the part then
	// when ReadBlock did not): many queries need neither.
	part        *Part
	timeOnce    sync.Once
	timeCol     *blockColumn
	timePayload []byte
	timeEntry   *blockEntry
	timeErr     atomic.Pointer[error]
	times       []int64

	posOnce    sync.Once
	posCol     *blockColumn
	posPayload []byte
	posErr     atomic.Pointer[error]
	parts      []int32
	offs       []int64
}

// lazyPayload returns a time or position payload, reading it now when
// ReadBlock did not.
func (b *Block) lazyPayload(have []byte, c *blockColumn) ([]byte, error) {
	if have != nil || b.part == nil {
		return have, nil
	}
	return b.part.columnPayload(b.index, c)
}

// lazyErr records damage or a read error found by a lazy decode.
func (b *Block) lazyErr(dst *atomic.Pointer[error], c *blockColumn, err error) {
	if b.part != nil {
		err = b.part.columnCorrupt(b.index, c, err)
	}
	dst.Store(&err)
}

// Index returns the block's number in its part.
func (b *Block) Index() int { return b.index }

// Meta returns the block's metadata.
func (b *Block) Meta() *BlockMeta { return &b.meta }

// Len returns the number of rows.
func (b *Block) Len() int { return b.meta.Rows }

// Time returns row i's time (unix ns).
func (b *Block) Time(i int) int64 {
	b.loadTimes()
	return b.times[i]
}

// Times returns every row's time, ascending. Shared: do not modify.
func (b *Block) Times() []int64 {
	b.loadTimes()
	return b.times
}

// loadTimes decodes the time column once; on damage every time reads as
// the block's MinTime and Err reports it.
func (b *Block) loadTimes() {
	b.timeOnce.Do(func() {
		if b.times != nil {
			return
		}
		payload, err := b.lazyPayload(b.timePayload, b.timeCol)
		if err == nil {
			d := &decoder{b: payload}
			b.times = decodeTime(d, b.timeEntry)
			err = d.done("column")
		}
		if err != nil {
			b.lazyErr(&b.timeErr, b.timeCol, err)
			b.times = make([]int64, b.meta.Rows)
			for i := range b.times {
				b.times[i] = b.meta.MinTime
			}
		}
		b.timePayload = nil
	})
}

// Position returns row i's commit-log position.
func (b *Block) Position(i int) Position {
	b.loadPositions()
	return Position{int(b.parts[i]), b.offs[i]}
}

// loadPositions decodes the position column once; on damage every
// position reads as (0, 0) and Err reports it.
func (b *Block) loadPositions() {
	b.posOnce.Do(func() {
		if b.parts != nil {
			return
		}
		times := b.Times()
		payload, err := b.lazyPayload(b.posPayload, b.posCol)
		if err == nil {
			d := &decoder{b: payload}
			b.parts, b.offs = decodePositions(d, len(times), times)
			err = d.done("column")
		}
		if err != nil {
			b.lazyErr(&b.posErr, b.posCol, err)
			b.parts, b.offs = make([]int32, b.meta.Rows), make([]int64, b.meta.Rows)
		}
		b.posPayload = nil
	})
}

// Msg returns row i's message ("" when the message was not requested).
func (b *Block) Msg(i int) string {
	if b.msg == nil {
		return ""
	}
	return b.msg.Value(i)
}

// Column returns a decoded column: MsgField for the message, a stream
// field (as a constant column) or an ordinary field. It returns nil when
// the block has no such column or it was not requested from ReadBlock;
// both mean "every value empty" for the rows of this block.
func (b *Block) Column(name string) *Column {
	if name == MsgField {
		return b.msg
	}
	if c := b.field(name); c != nil {
		return c
	}
	for _, f := range b.meta.StreamFields {
		if f.Name == name {
			values := make([]string, b.meta.Rows)
			for i := range values {
				values[i] = f.Value
			}
			return &Column{name: name, enc: EncConst, n: len(values), values: values, dict: []string{f.Value}}
		}
	}
	return nil
}

// DecodedColumn returns a decoded ordinary column (not the message, not a
// stream field), nil when the block has none of that name or it was not
// requested.
func (b *Block) DecodedColumn(name string) *Column { return b.field(name) }

// refColumn finds a column a pattern message references.
func (b *Block) refColumn(name string) *Column {
	if c := b.field(name); c != nil {
		return c
	}
	for _, c := range b.refOnly {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (b *Block) field(name string) *Column {
	i, ok := slices.BinarySearchFunc(b.cols, name, func(c *Column, n string) int { return strings.Compare(c.name, n) })
	if !ok {
		return nil
	}
	return b.cols[i]
}

// Value returns row i's value of a field (as Column, without allocating).
func (b *Block) Value(name string, i int) string {
	if name == MsgField {
		return b.Msg(i)
	}
	if c := b.field(name); c != nil {
		return c.Value(i)
	}
	for _, f := range b.meta.StreamFields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Err returns the first damage found while building values lazily (see
// Column.Err), nil if none so far. Check it after using a block's values.
func (b *Block) Err() error {
	if e := b.timeErr.Load(); e != nil {
		return *e
	}
	if e := b.posErr.Load(); e != nil {
		return *e
	}
	if b.msg != nil {
		if err := b.msg.Err(); err != nil {
			return err
		}
	}
	for _, c := range b.cols {
		if err := c.Err(); err != nil {
			return err
		}
	}
	return nil
}

// Columns returns the decoded ordinary columns, sorted by name (not the
// message, not the stream fields). Shared: do not modify.
func (b *Block) Columns() []*Column { return b.cols }

// Record rebuilds row i as a record: Stream is shared with the part's
// stream table, Fields lists the decoded non-empty columns sorted by
// name (the input's field order is not kept).
func (b *Block) Record(i int) model.Record {
	r := model.Record{Time: b.Time(i), Msg: b.Msg(i), Stream: b.meta.StreamFields}
	for _, c := range b.cols {
		if v := c.Value(i); v != "" {
			r.Fields = append(r.Fields, model.Field{Name: c.name, Value: v})
		}
	}
	return r
}

// Row rebuilds row i with its position.
func (b *Block) Row(i int) Row {
	pos := b.Position(i)
	return Row{Partition: pos.Partition, Offset: pos.Offset, Record: b.Record(i)}
}

// blockColumn is a column entry of a block header.
type blockColumn struct {
	role  byte
	name  string
	enc   Encoding
	start int64 // file offset
	len   int
	crc   uint32
}

// parseBlockHeader parses a block header; base is the file offset of the
// block's first payload.
func parseBlockHeader(hdr []byte, base int64, dataLen int, verify bool) ([]blockColumn, error) {
	if len(hdr) < 4 {
		return nil, dataErrorf("block header of %d bytes", len(hdr))
	}
	body := hdr[:len(hdr)-4]
	if verify {
		if got, want := crc(body), le32(unsafeString(hdr[len(hdr)-4:]), 0); got != want {
			return nil, dataErrorf("block header crc %08x, want %08x", got, want)
		}
	}
	d := decoder{b: body}
	n := d.uvarintMax(maxBlockColumns+3, "column count")
	cols := make([]blockColumn, 0, n)
	off := base
	for i := 0; i < n && d.err == nil; i++ {
		var c blockColumn
		c.role = d.byte()
		if c.role == roleField {
			c.name = d.str(maxNameLen)
		}
		c.enc = Encoding(d.byte())
		c.len = d.uvarintMax(uint64(dataLen), "column length")
		c.crc = d.u32()
		c.start = off
		off += int64(c.len)
		if d.err != nil {
			break
		}
		switch {
		case i == 0 && c.role != roleTime, i == 1 && c.role != rolePos:
			d.fail("column %d has role %d", i, c.role)
		case i >= 2 && c.role != roleMsg && c.role != roleField,
			i > 2 && c.role == roleMsg:
			d.fail("column %d has role %d", i, c.role)
		case c.role == roleMsg || c.role == roleField:
			if c.enc < EncConst || c.enc > EncPatternGroups {
				d.fail("column %d has encoding %d", i, c.enc)
			}
		}
		if c.role == roleField && len(cols) > 0 {
			if prev := cols[len(cols)-1]; prev.role == roleField && prev.name >= c.name {
				d.fail("column %q after %q", c.name, prev.name)
			}
		}
		cols = append(cols, c)
	}
	if err := d.done("block header"); err != nil {
		return nil, err
	}
	if len(cols) < 2 {
		return nil, dataErrorf("block of %d columns", len(cols))
	}
	if off-base != int64(dataLen) {
		return nil, dataErrorf("columns hold %d bytes, block has %d", off-base, dataLen)
	}
	return cols, nil
}

// decodeTime decodes the time column and checks it against the entry.
func decodeTime(d *decoder, e *blockEntry) []int64 {
	times := readInts(d, e.Rows, nil)
	if d.err != nil {
		return nil
	}
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			d.fail("times out of order at row %d", i)
			return nil
		}
	}
	if times[0] != e.MinTime || times[len(times)-1] != e.MaxTime {
		d.fail("times [%d,%d], index says [%d,%d]", times[0], times[len(times)-1], e.MinTime, e.MaxTime)
		return nil
	}
	return times
}

// decodePositions decodes the position column of n rows and checks the
// row order.
func decodePositions(d *decoder, n int, times []int64) ([]int32, []int64) {
	parts := readInts(d, n, nil)
	offs := readInts(d, n, nil)
	if d.err != nil {
		return nil, nil
	}
	p32 := make([]int32, len(parts))
	for i, p := range parts {
		if p < 0 || p > math.MaxInt32 || offs[i] < 0 {
			d.fail("position (%d,%d) out of range", p, offs[i])
			return nil, nil
		}
		p32[i] = int32(p)
		if i > 0 && times[i] == times[i-1] && (Position{int(p), offs[i]}).Compare(Position{int(parts[i-1]), offs[i-1]}) <= 0 {
			d.fail("rows %d and %d out of order", i-1, i)
			return nil, nil
		}
	}
	return p32, offs
}
