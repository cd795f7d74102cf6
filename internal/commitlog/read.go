package commitlog

import (
	"errors"
	"fmt"
	"io"

	"github.com/logbucket/logbucket/internal/model"
)

// readLimits bound one read.
type readLimits struct {
	maxRecords int
	maxBytes   int
}

// read calls fn for the durable records from offset on, in offset order,
// until the limits are reached or fn returns false. It returns the offset
// after the last record delivered (offset itself when there is nothing).
func (p *partition) read(offset int64, lim readLimits, fn func(off int64, r model.Record) bool) (int64, error) {
	next := offset
	records, bytes := 0, 0
	for records < lim.maxRecords && bytes < lim.maxBytes {
		seg, pos, base, limit, hw, err := p.locate(next)
		if err != nil {
			return next, err
		}
		if seg == nil {
			return next, nil // at the high watermark
		}
		stop := false
		err = p.scanFrom(seg, pos, base, limit, next, hw, func(off int64, r model.Record) bool {
			if !fn(off, r) {
				stop = true
				return false
			}
			next = off + 1
			records++
			bytes += r.Size()
			return records < lim.maxRecords && bytes < lim.maxBytes
		})
		seg.release()
		if errors.Is(err, errSegmentGone) {
			continue
		}
		if err != nil {
			return next, err
		}
		if stop {
			return next, nil
		}
		p.mu.Lock()
		segEnd := seg.end
		p.mu.Unlock()
		if next < segEnd {
			// Stopped by the limits inside this segment.
			return next, nil
		}
		next = segEnd
		if next >= hw {
			return next, nil
		}
	}
	return next, nil
}

// locate finds the segment holding offset, takes a reference on it, and
// returns where to start scanning, the base offset of the frame there, and
// how far its durable data reaches. An offset in a gap left by a damaged
// segment moves to the next segment.
func (p *partition) locate(offset int64) (seg *segment, pos, base, limit, hw int64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	start := p.segments[0].base
	if offset < start {
		return nil, 0, 0, 0, 0, &OffsetOutOfRangeError{Offset: offset, Earliest: start, Latest: p.hw}
	}
	if offset >= p.hw {
		return nil, 0, 0, 0, p.hw, nil
	}
	for i := len(p.segments) - 1; i >= 0; i-- {
		s := p.segments[i]
		if s.base > offset {
			continue
		}
		if offset >= s.end && i+1 < len(p.segments) {
			s = p.segments[i+1] // gap: continue at the next segment
		}
		if !s.acquire() {
			return nil, 0, 0, 0, 0, errSegmentGone
		}
		pos, base := s.lookup(offset)
		return s, pos, base, s.durableSize, p.hw, nil
	}
	return nil, 0, 0, 0, p.hw, nil
}

// scanFrom decodes the frames of seg from pos (where the frame must start
// at offset base) up to limit and hands every record at or after from (and
// below hw) to fn. A damaged frame in a sealed segment ends the segment's
// readable data there (see quarantine).
func (p *partition) scanFrom(seg *segment, pos, base, limit, from, hw int64, fn func(int64, model.Record) bool) error {
	buf := make([]byte, batchFixedHeader+maxBatchIDLen)
	damaged := func(err error) error {
		if seg.deleted.Load() {
			return errSegmentGone
		}
		if errors.Is(err, ErrCorrupt) && p.quarantine(seg, pos, base, err) {
			return nil
		}
		return fmt.Errorf("read partition %s/%d at %s:%d: %w", p.bucket, p.id, seg.path, pos, err)
	}
	for pos < limit {
		h, err := readHeaderAt(seg.file, pos, limit, buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil && h.BaseOffset != base {
			// The base offset is not covered by the CRC.
			err = fmt.Errorf("%w: frame has base offset %d, expected %d", ErrCorrupt, h.BaseOffset, base)
		}
		if err != nil {
			return damaged(err)
		}
		if h.BaseOffset >= hw {
			return nil
		}
		if h.lastOffset() >= from {
			frame, err := readFrameAt(seg.file, pos, h)
			if err != nil {
				return damaged(err)
			}
			more := true
			err = decodeFrame(frame, h, func(off int64, r model.Record) bool {
				if off < from {
					return true
				}
				more = fn(off, r)
				return more
			})
			if err != nil {
				return damaged(err)
			}
			if !more {
				return nil
			}
		}
		pos += h.frameLen()
		base = h.lastOffset() + 1
	}
	return nil
}

// quarantine handles a damaged frame that a reader found at pos (offset
// base) of a sealed segment, whose index let recovery skip the scan: as
// recovery does for damage inside a sealed segment, the segment's records
// end there, the rest of it is a gap that reads skip, and the damage is
// reported. It returns false for the active segment, whose damage is an
// error.
func (p *partition) quarantine(seg *segment, pos, base int64, damage error) bool {
	p.mu.Lock()
	if !seg.sealed {
		p.mu.Unlock()
		return false
	}
	fresh := base < seg.end
	seg.end = min(seg.end, base)
	size := seg.durableSize
	p.mu.Unlock()
	if fresh {
		p.log.reportDamage(p, seg, size, scanResult{validEnd: pos, end: base, damage: damage}, false)
	}
	return true
}
