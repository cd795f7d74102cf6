package storage

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/logbucket/logbucket/internal/model"
)

// Row is one record with its commit-log position.
type Row struct {
	Partition int
	Offset    int64
	Record    model.Record
}

// Position is a place in the commit log of a bucket.
type Position struct {
	Partition int
	Offset    int64
}

// Compare orders positions by partition, then offset.
func (p Position) Compare(q Position) int {
	if c := cmp.Compare(p.Partition, q.Partition); c != 0 {
		return c
	}
	return cmp.Compare(p.Offset, q.Offset)
}

// PartMeta is what the caller says about a part it writes.
type PartMeta struct {
	// Bucket names the bucket the rows belong to.
	Bucket string
	// Day is the UTC day of the rows' time, in days since 1970-01-01 (see
	// DayOf). The part records it; it does not check the rows against it.
	Day int64
	// Level is 0 for parts written from the commit log; MergeParts writes
	// one more than the highest level of its inputs.
	Level int
}

// DayOf returns the UTC day (days since 1970-01-01) of a unix-ns time.
func DayOf(t int64) int64 {
	const day = 86400 * 1e9
	d := t / day
	if t%day < 0 {
		d--
	}
	return d
}

// OffsetRange is a run of consecutive offsets of one partition, all held
// by the part: [Start, End).
type OffsetRange struct {
	Partition int
	Start     int64
	End       int64
}

// PartInfo describes a part.
type PartInfo struct {
	PartMeta
	FormatVersion int
	Rows          int64
	Blocks        int
	Streams       int
	// MinTime and MaxTime bound the rows' times (unix ns), inclusive.
	MinTime, MaxTime int64
	// Ranges lists exactly the offsets the part holds, sorted by partition
	// then offset, adjacent runs coalesced.
	Ranges []OffsetRange
	// Bytes is the size of the part file.
	Bytes int64
}

// Contains reports whether the part holds the row at pos.
func (pi *PartInfo) Contains(pos Position) bool {
	_, found := slices.BinarySearchFunc(pi.Ranges, pos, func(r OffsetRange, p Position) int {
		if c := cmp.Compare(r.Partition, p.Partition); c != 0 {
			return c
		}
		switch {
		case r.End <= p.Offset:
			return -1
		case r.Start > p.Offset:
			return 1
		}
		return 0
	})
	return found
}

// Stream is an entry of a part's stream table.
type Stream struct {
	// ID is model.StreamHash(Fields). Two different streams may share an
	// ID; they are still different entries.
	ID uint64
	// Fields are the stream fields, sorted by name.
	Fields []model.Field
	// String is the rows' `_stream` value, model.StreamString(Fields),
	// and IDString their `_stream_id`, model.StreamIDOf(ID) (both set by
	// OpenPart, so queries need not build them again).
	String, IDString string
}

// BlockMeta describes one block; a Part keeps them all in memory.
type BlockMeta struct {
	// Stream indexes Part.Streams(); StreamID and StreamFields repeat that
	// entry (shared: do not modify).
	Stream       int
	StreamID     uint64
	StreamFields []model.Field
	StreamString string // the rows' `_stream`
	StreamIDStr  string // the rows' `_stream_id`
	Rows         int
	// MinTime and MaxTime bound the rows' times, inclusive.
	MinTime, MaxTime int64
	// MinPos and MaxPos are the smallest and largest row positions.
	MinPos, MaxPos Position
	// RawBytes is the rows' message, field name and value bytes.
	RawBytes int64
	// Fields names the block's columns, sorted, plus MsgField last when
	// some row has a message. Stream fields are not listed. Shared.
	Fields []string
}

// HasField reports whether some row of the block has a value for name
// (a stream field, the message or an ordinary field).
func (m *BlockMeta) HasField(name string) bool {
	for _, f := range m.StreamFields {
		if f.Name == name {
			return true
		}
	}
	return slices.Contains(m.Fields, name)
}

// WriteOptions tune WritePart and MergeParts. Zero fields take the
// defaults of DefaultWriteOptions.
type WriteOptions struct {
	// BlockRows caps the rows of a block (default 8192, at most
	// MaxBlockRows).
	BlockRows int
	// BlockBytes caps a block's raw bytes (default 2 MiB, at most
	// MaxBlockBytes); a block always takes at least one row.
	BlockBytes int
	// Compression is the zstd effort, 1 (fastest) to 4 (best; slow to
	// write, as fast to read). Default 2.
	Compression int
	// BloomBitsPerToken sizes each block's token filter (default 8: about
	// 2% false positives per token).
	BloomBitsPerToken float64
}

// DefaultWriteOptions returns the defaults.
func DefaultWriteOptions() WriteOptions {
	return WriteOptions{BlockRows: 8192, BlockBytes: 2 << 20, Compression: 2, BloomBitsPerToken: 8}
}

func (o WriteOptions) normalize() (WriteOptions, error) {
	d := DefaultWriteOptions()
	if o.BlockRows == 0 {
		o.BlockRows = d.BlockRows
	}
	if o.BlockBytes == 0 {
		o.BlockBytes = d.BlockBytes
	}
	if o.Compression == 0 {
		o.Compression = d.Compression
	}
	if o.BloomBitsPerToken == 0 {
		o.BloomBitsPerToken = d.BloomBitsPerToken
	}
	switch {
	case o.BlockRows < 1 || o.BlockRows > MaxBlockRows:
		return o, fmt.Errorf("block rows %d out of range 1..%d", o.BlockRows, MaxBlockRows)
	case o.BlockBytes < 1 || o.BlockBytes > MaxBlockBytes:
		return o, fmt.Errorf("block bytes %d out of range 1..%d", o.BlockBytes, MaxBlockBytes)
	case o.Compression < 1 || o.Compression > 4:
		return o, fmt.Errorf("compression %d out of range 1..4", o.Compression)
	case !(o.BloomBitsPerToken >= 1 && o.BloomBitsPerToken <= 64):
		return o, fmt.Errorf("bloom bits per token %g out of range 1..64", o.BloomBitsPerToken)
	}
	return o, nil
}

// coalesce sorts positions and turns them into ranges; it fails on a
// duplicate position.
func coalesce(pos []Position) ([]OffsetRange, error) {
	slices.SortFunc(pos, Position.Compare)
	var out []OffsetRange
	for i, p := range pos {
		if i > 0 && p == pos[i-1] {
			return nil, fmt.Errorf("%w: two rows at partition %d offset %d", ErrInvalidRow, p.Partition, p.Offset)
		}
		if n := len(out); n > 0 && out[n-1].Partition == p.Partition && out[n-1].End == p.Offset {
			out[n-1].End++
			continue
		}
		out = append(out, OffsetRange{Partition: p.Partition, Start: p.Offset, End: p.Offset + 1})
	}
	return out, nil
}

// unionRanges merges sorted range lists; it fails when two overlap.
func unionRanges(lists ...[]OffsetRange) ([]OffsetRange, error) {
	var all []OffsetRange
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.SortFunc(all, func(a, b OffsetRange) int {
		if c := cmp.Compare(a.Partition, b.Partition); c != 0 {
			return c
		}
		return cmp.Compare(a.Start, b.Start)
	})
	var out []OffsetRange
	for _, r := range all {
		if n := len(out); n > 0 && out[n-1].Partition == r.Partition {
			last := &out[n-1]
			if r.Start < last.End {
				return nil, fmt.Errorf("offset ranges overlap: partition %d [%d,%d) and [%d,%d)",
					r.Partition, last.Start, last.End, r.Start, r.End)
			}
			if r.Start == last.End {
				last.End = r.End
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}
