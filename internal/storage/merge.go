package storage

import (
	"errors"
	"fmt"
	"slices"

	"github.com/logbucket/logbucket/internal/vfs"
)

// MergeParts writes one part at dst holding every row of parts, in the
// part order (stream, then time, partition, offset), atomically like
// WritePart. The inputs must share Bucket and Day and hold disjoint
// offset ranges; the output's ranges are their union and its level one
// more than the highest input level. The inputs are not modified or
// closed; deleting them once MergeParts returns is the caller's job. After
// a crash between the two, the output's ranges contain each input's: a
// part whose ranges are all inside another part's is a merged-away input
// and can be deleted.
//
// A large input block whose rows all come before every row the other
// inputs have left of its stream (inputs adjacent in time, the indexer's
// usual case) is copied as it is, bytes and filter, after checking its
// checksums: merging such parts costs reads and writes, not re-encoding.
// Other rows are decoded and encoded again in merged blocks.
//
// Memory: the rows are streamed block by block: at most one decoded block
// per input plus the block being built (each at most about BlockBytes of
// raw data), the inputs' indexes and the output's index.
func MergeParts(fsys vfs.FS, dst string, parts []*Part, opts WriteOptions) (PartInfo, error) {
	opts, err := opts.normalize()
	if err != nil {
		return PartInfo{}, fmt.Errorf("merge into %s: %w", dst, err)
	}
	if len(parts) == 0 {
		return PartInfo{}, fmt.Errorf("merge into %s: no parts", dst)
	}
	meta := parts[0].info.PartMeta
	lists := make([][]OffsetRange, len(parts))
	for i, p := range parts {
		in := &p.info
		if in.Bucket != meta.Bucket || in.Day != meta.Day {
			return PartInfo{}, fmt.Errorf("merge into %s: part %s is bucket %q day %d, part %s is bucket %q day %d",
				dst, parts[0].path, meta.Bucket, meta.Day, p.path, in.Bucket, in.Day)
		}
		meta.Level = max(meta.Level, in.Level)
		lists[i] = in.Ranges
	}
	meta.Level++
	ranges, err := unionRanges(lists...)
	if err != nil {
		return PartInfo{}, fmt.Errorf("merge into %s: %w", dst, err)
	}
	// The output's stream table: the union, in part order.
	var streams []Stream
	for _, p := range parts {
		streams = append(streams, p.streams...)
	}
	slices.SortFunc(streams, func(a, b Stream) int { return compareStreams(&a, &b) })
	streams = slices.CompactFunc(streams, func(a, b Stream) bool { return compareStreams(&a, &b) == 0 })

	pw, err := createPartWriter(fsys, dst, streams, opts)
	if err != nil {
		return PartInfo{}, err
	}
	m := merger{pw: pw, opts: &opts, b: newBlockBuilder(), next: make([]int, len(parts)), parts: parts}
	for g := range streams {
		if err := m.mergeStream(g, &streams[g]); err != nil {
			pw.abort()
			return PartInfo{}, fmt.Errorf("merge into %s: %w", dst, err)
		}
	}
	return pw.finish(meta, ranges)
}

type merger struct {
	pw    *partWriter
	opts  *WriteOptions
	b     *blockBuilder
	parts []*Part
	next  []int // per input: its first block not merged yet
	curs  []cursor
}

// cursor walks one input's blocks of the stream being merged. Between
// blocks it is "at" the next block without having read it: its time is
// then that block's MinTime (the time of its first row, exactly) and its
// position the block's MinPos (a lower bound, only for ties), so that a
// block the merge copies whole is never decoded.
type cursor struct {
	p        *Part
	blk      *Block // nil: at block idx, not read yet
	row      int
	idx      int // current block
	endBlk   int // one past the stream's last block
	pos      Position
	time     int64
	finished bool
}

// at places the cursor at the start of block idx without reading it.
func (c *cursor) at(idx int) {
	c.blk, c.row, c.idx = nil, 0, idx
	if idx >= c.endBlk {
		c.finished = true
		return
	}
	e := &c.p.blocks[idx]
	c.time, c.pos = e.MinTime, e.MinPos
}

// read decodes the current block and takes its first row's key.
func (c *cursor) read() error {
	blk, err := c.p.ReadBlock(c.idx, nil)
	if err != nil {
		return fmt.Errorf("read block %d of %s: %w", c.idx, c.p.path, err)
	}
	c.blk = blk
	c.time, c.pos = blk.Time(0), blk.Position(0)
	return nil
}

// step moves past the current row. Leaving a block, it reports damage
// found while its values were built lazily (Block.Err): those values
// read as empty, and a merge must not write them.
func (c *cursor) step() error {
	c.row++
	if c.row >= c.blk.Len() {
		if err := c.blk.Err(); err != nil {
			return fmt.Errorf("read block %d of %s: %w", c.idx, c.p.path, err)
		}
		c.at(c.idx + 1)
		return nil
	}
	c.time, c.pos = c.blk.Time(c.row), c.blk.Position(c.row)
	return nil
}

// copyable reports whether cursor i's next block, not read yet, can go to
// the output as it is: it is large (so keeping it does not leave small
// blocks behind), every row of it comes before every row the other
// inputs have left (so copying keeps the stream's order), and the block
// being built is empty or large enough to be written on its own.
func (m *merger) copyable(i, building int) bool {
	c := &m.curs[i]
	e := &c.p.blocks[c.idx]
	if e.Rows < m.opts.BlockRows/2 && e.RawBytes < int64(m.opts.BlockBytes/2) {
		return false
	}
	if building > 0 && building < m.opts.BlockRows/4 {
		return false
	}
	for j := range m.curs {
		if o := &m.curs[j]; j != i && !o.finished && o.time <= e.MaxTime {
			return false
		}
	}
	return true
}

func (m *merger) mergeStream(g int, s *Stream) error {
	m.curs = m.curs[:0]
	for i, p := range m.parts {
		start := m.next[i]
		end := start
		for end < len(p.blocks) && compareStreams(&p.streams[p.blocks[end].Stream], s) == 0 {
			end++
		}
		m.next[i] = end
		if end > start {
			c := cursor{p: p, endBlk: end}
			c.at(start)
			m.curs = append(m.curs, c)
		}
	}
	b := m.b
	b.reset()
	var last Position
	var lastTime int64
	for {
		best := -1
		for i := range m.curs {
			c := &m.curs[i]
			if c.finished {
				continue
			}
			if best < 0 || c.time < m.curs[best].time || c.time == m.curs[best].time && c.pos.Compare(m.curs[best].pos) < 0 {
				best = i
			}
		}
		if best < 0 {
			break
		}
		c := &m.curs[best]
		if c.blk == nil {
			if m.copyable(best, b.rows()) {
				var err error
				if b, err = m.pw.writeBlock(b, g); err != nil {
					return err
				}
				if err := m.pw.copyBlock(c.p, c.idx, g); err != nil {
					return err
				}
				c.at(c.idx + 1)
				continue
			}
			// Read it, then choose again with its first row's exact key.
			if err := c.read(); err != nil {
				return err
			}
			continue
		}
		blk, r := c.blk, c.row
		if b.rows() > 0 && c.time == lastTime && c.pos == last {
			return errors.New("two inputs hold the same row")
		}
		size := len(blk.Msg(r))
		for _, col := range blk.cols {
			if v := col.Value(r); v != "" {
				size += len(col.name) + len(v)
			}
		}
		if b.rows() > 0 && (b.rows() >= m.opts.BlockRows || b.raw+size > m.opts.BlockBytes || len(b.cols)+len(blk.cols) > maxBlockColumns) {
			var err error
			if b, err = m.pw.writeBlock(b, g); err != nil {
				return err
			}
		}
		b.startRow(c.time, c.pos.Partition, c.pos.Offset, blk.Msg(r))
		for _, col := range blk.cols {
			b.setField(col.name, col.Value(r))
		}
		last, lastTime = c.pos, c.time
		if err := c.step(); err != nil {
			return err
		}
	}
	nb, err := m.pw.writeBlock(b, g)
	m.b = nb // the writer owns b now
	return err
}
