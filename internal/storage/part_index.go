package storage

import (
	"encoding/binary"
	"math"

	"github.com/logbucket/logbucket/internal/model"
)

// blockEntry is a block's index entry.
type blockEntry struct {
	BlockMeta
	off       int64 // file offset of the block
	hdrLen    int   // block header length
	dataLen   int   // header + payloads
	filterOff int64 // offset in the filter section
	filterLen int
	filterCRC uint32
}

// Index section layout (stored zstd-compressed; see docs/format/part.md):
//
//	bucket str, day varint, level uvarint, rows uvarint,
//	min time varint, max time varint,
//	ranges:  count, then partition uvarint, start uvarint, length uvarint
//	names:   count, then str (field names used by block entries)
//	streams: count, then id u64, field count, (name str, value str)*
//	blocks:  count, then per block:
//	  stream uvarint, rows uvarint, min time varint, max-min uvarint,
//	  min partition, min offset, max partition, max offset (uvarint),
//	  raw bytes, file offset, header length, data length (uvarint),
//	  filter offset, filter length (uvarint), filter CRC u32,
//	  field count uvarint, name numbers uvarint*
type partIndex struct {
	info    PartInfo
	streams []Stream
	blocks  []blockEntry
}

func encodeIndex(ix *partIndex) []byte {
	var b []byte
	in := &ix.info
	b = appendStr(b, in.Bucket)
	b = binary.AppendVarint(b, in.Day)
	b = binary.AppendUvarint(b, uint64(in.Level))
	b = binary.AppendUvarint(b, uint64(in.Rows))
	b = binary.AppendVarint(b, in.MinTime)
	b = binary.AppendVarint(b, in.MaxTime)
	b = binary.AppendUvarint(b, uint64(len(in.Ranges)))
	for _, r := range in.Ranges {
		b = binary.AppendUvarint(b, uint64(r.Partition))
		b = binary.AppendUvarint(b, uint64(r.Start))
		b = binary.AppendUvarint(b, uint64(r.End-r.Start))
	}
	names := map[string]int{}
	var nameList []string
	for i := range ix.blocks {
		for _, f := range ix.blocks[i].Fields {
			if _, ok := names[f]; !ok {
				names[f] = len(nameList)
				nameList = append(nameList, f)
			}
		}
	}
	b = binary.AppendUvarint(b, uint64(len(nameList)))
	for _, n := range nameList {
		b = appendStr(b, n)
	}
	b = binary.AppendUvarint(b, uint64(len(ix.streams)))
	for _, s := range ix.streams {
		b = appendU64(b, s.ID)
		b = binary.AppendUvarint(b, uint64(len(s.Fields)))
		for _, f := range s.Fields {
			b = appendStr(b, f.Name)
			b = appendStr(b, f.Value)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(ix.blocks)))
	for i := range ix.blocks {
		e := &ix.blocks[i]
		b = binary.AppendUvarint(b, uint64(e.Stream))
		b = binary.AppendUvarint(b, uint64(e.Rows))
		b = binary.AppendVarint(b, e.MinTime)
		b = binary.AppendUvarint(b, uint64(e.MaxTime-e.MinTime))
		b = binary.AppendUvarint(b, uint64(e.MinPos.Partition))
		b = binary.AppendUvarint(b, uint64(e.MinPos.Offset))
		b = binary.AppendUvarint(b, uint64(e.MaxPos.Partition))
		b = binary.AppendUvarint(b, uint64(e.MaxPos.Offset))
		b = binary.AppendUvarint(b, uint64(e.RawBytes))
		b = binary.AppendUvarint(b, uint64(e.off))
		b = binary.AppendUvarint(b, uint64(e.hdrLen))
		b = binary.AppendUvarint(b, uint64(e.dataLen))
		b = binary.AppendUvarint(b, uint64(e.filterOff))
		b = binary.AppendUvarint(b, uint64(e.filterLen))
		b = appendU32(b, e.filterCRC)
		b = binary.AppendUvarint(b, uint64(len(e.Fields)))
		for _, f := range e.Fields {
			b = binary.AppendUvarint(b, uint64(names[f]))
		}
	}
	return b
}

// decodeIndex parses and validates an index section. dataEnd is where the
// block data ends (the filter section's offset) and filtersLen the filter
// section's length.
func decodeIndex(raw []byte, dataEnd, filtersLen int64) (*partIndex, error) {
	d := &decoder{b: raw}
	ix := &partIndex{}
	in := &ix.info
	in.FormatVersion = formatVersion
	in.Bucket = d.str(maxNameLen)
	in.Day = d.varint()
	in.Level = d.uvarintMax(math.MaxInt32, "level")
	in.Rows = int64(d.uvarintMax(math.MaxInt64, "rows"))
	in.MinTime = d.varint()
	in.MaxTime = d.varint()
	if d.err == nil && (in.MinTime > in.MaxTime || in.Rows == 0) {
		d.fail("time range [%d,%d] with %d rows", in.MinTime, in.MaxTime, in.Rows)
	}
	nr := d.uvarintMax(uint64(d.remaining()/3), "range count")
	for i := 0; i < nr && d.err == nil; i++ {
		p := d.uvarintMax(math.MaxInt32, "partition")
		start := d.uvarintMax(math.MaxInt64, "offset")
		length := d.uvarintMax(uint64(math.MaxInt64-start), "range length")
		r := OffsetRange{Partition: p, Start: int64(start), End: int64(start + length)}
		if length == 0 || i > 0 && comparePos(in.Ranges[i-1], r) {
			d.fail("range %d [%d,%d) of partition %d out of order", i, r.Start, r.End, p)
		}
		in.Ranges = append(in.Ranges, r)
	}
	names := make([]string, d.uvarintMax(uint64(d.remaining()), "name count"))
	for i := range names {
		names[i] = d.str(maxNameLen)
	}
	ix.streams = make([]Stream, d.uvarintMax(uint64(d.remaining()/9), "stream count"))
	for i := range ix.streams {
		s := &ix.streams[i]
		s.ID = d.u64()
		s.Fields = make([]model.Field, d.uvarintMax(maxStreamFields, "stream field count"))
		for j := range s.Fields {
			s.Fields[j] = model.Field{Name: d.str(maxNameLen), Value: d.str(maxNameLen)}
		}
		if d.err == nil && streamHash(s.Fields) != s.ID {
			d.fail("stream %d id %x does not match its fields", i, s.ID)
		}
		if d.err == nil {
			s.String, s.IDString = model.StreamString(s.Fields), model.StreamIDOf(s.ID)
		}
		if d.err == nil && i > 0 && compareStreams(&ix.streams[i-1], s) >= 0 {
			d.fail("stream %d out of order", i)
		}
	}
	ix.blocks = make([]blockEntry, d.uvarintMax(uint64(d.remaining()/16), "block count"))
	var rows int64
	for i := range ix.blocks {
		e := &ix.blocks[i]
		decodeEntry(d, e, names, len(ix.streams))
		if d.err != nil {
			break
		}
		st := &ix.streams[e.Stream]
		e.StreamID, e.StreamFields, e.StreamString, e.StreamIDStr = st.ID, st.Fields, st.String, st.IDString
		switch {
		case i > 0 && e.Stream < ix.blocks[i-1].Stream:
			d.fail("block %d out of stream order", i)
		case e.MinTime < in.MinTime || e.MaxTime > in.MaxTime:
			d.fail("block %d time range outside the part's", i)
		case e.off < headerSize || e.off > dataEnd || int64(e.dataLen) > dataEnd-e.off || e.hdrLen > e.dataLen:
			d.fail("block %d data [%d,+%d) outside the data section", i, e.off, e.dataLen)
		case e.filterOff > filtersLen || int64(e.filterLen) > filtersLen-e.filterOff:
			d.fail("block %d filter outside the filter section", i)
		}
		rows += int64(e.Rows)
	}
	if err := d.done("index"); err != nil {
		return nil, err
	}
	if rows != in.Rows {
		return nil, dataErrorf("blocks hold %d rows, part says %d", rows, in.Rows)
	}
	in.Blocks, in.Streams = len(ix.blocks), len(ix.streams)
	return ix, nil
}

func comparePos(prev, r OffsetRange) bool {
	return prev.Partition > r.Partition || prev.Partition == r.Partition && prev.End >= r.Start
}

func decodeEntry(d *decoder, e *blockEntry, names []string, nstreams int) {
	e.Stream = d.uvarintMax(uint64(max(nstreams-1, 0)), "stream number")
	if d.err == nil && nstreams == 0 {
		d.fail("block without streams")
	}
	e.Rows = d.uvarintMax(MaxBlockRows, "block rows")
	e.MinTime = d.varint()
	span := d.uvarint()
	e.MaxTime = int64(uint64(e.MinTime) + span)
	if d.err == nil && (e.Rows == 0 || e.MaxTime < e.MinTime) {
		d.fail("block of %d rows, time span %d", e.Rows, span)
	}
	e.MinPos.Partition = d.uvarintMax(math.MaxInt32, "partition")
	e.MinPos.Offset = int64(d.uvarintMax(math.MaxInt64, "offset"))
	e.MaxPos.Partition = d.uvarintMax(math.MaxInt32, "partition")
	e.MaxPos.Offset = int64(d.uvarintMax(math.MaxInt64, "offset"))
	e.RawBytes = int64(d.uvarintMax(maxBlockRaw, "raw bytes"))
	e.off = int64(d.uvarintMax(math.MaxInt64, "block offset"))
	e.hdrLen = d.uvarintMax(maxBlockRaw, "header length")
	e.dataLen = d.uvarintMax(2*maxBlockRaw, "block length")
	e.filterOff = int64(d.uvarintMax(math.MaxInt64, "filter offset"))
	e.filterLen = d.uvarintMax(maxFilterBytes, "filter length")
	e.filterCRC = d.u32()
	nf := d.uvarintMax(uint64(len(names)), "field count")
	e.Fields = make([]string, 0, nf)
	for j := 0; j < nf && d.err == nil; j++ {
		e.Fields = append(e.Fields, names[d.uvarintMax(uint64(max(len(names)-1, 0)), "name number")])
	}
}
