package commitlog

import (
	"errors"
	"fmt"
	"io"

	"github.com/logbucket/logbucket/internal/vfs"
)

// scanResult is what a scan of a segment found.
type scanResult struct {
	validEnd    int64 // byte position after the last complete, valid group
	end         int64 // next offset after the last kept record
	index       []indexEntry
	lastIndexed int64
	firstAppend int64
	lastAppend  int64
	// damage describes why the scan stopped before the end, if it did.
	damage error
}

// scanSegment walks the frames of a segment from its header to size. With
// verify it reads every frame and checks its CRC (the active segment at
// recovery); without, it trusts the headers (sealed segments). It stops at
// the first frame that is damaged, does not continue the offsets, or runs
// past size, and it never keeps an incomplete group at the end: validEnd is
// the end of the last complete group. onHeader, when set, sees the header
// of every kept frame.
func scanSegment(f vfs.File, base, size, interval int64, verify bool, onHeader func(batchHeader)) scanResult {
	res := scanResult{validEnd: segmentHeaderSize, end: base, lastIndexed: -1}
	if size < segmentHeaderSize {
		res.validEnd = 0
		res.damage = fmt.Errorf("%w: segment is %d bytes, shorter than its header", ErrCorrupt, size)
		return res
	}
	if err := checkSegmentHeader(f, base); err != nil {
		res.validEnd = 0
		res.damage = err
		return res
	}
	var (
		buf     = make([]byte, batchFixedHeader+maxBatchIDLen)
		pos     = int64(segmentHeaderSize)
		next    = base
		pending []batchHeader // frames of the group being read
		pendIdx []indexEntry
		lastIdx = int64(-1)
	)
	for {
		h, err := readHeaderAt(f, pos, size, buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil && h.BaseOffset != next {
			err = fmt.Errorf("%w: frame at %d has base offset %d, expected %d", ErrCorrupt, pos, h.BaseOffset, next)
		}
		if err == nil && len(pending) > 0 && (h.Part != pending[len(pending)-1].Part+1 || h.Parts != pending[0].Parts) {
			err = fmt.Errorf("%w: frame at %d is part %d/%d inside an unfinished group", ErrCorrupt, pos, h.Part, h.Parts)
		}
		if err == nil && len(pending) == 0 && h.Part != 0 {
			err = fmt.Errorf("%w: frame at %d starts with part %d", ErrCorrupt, pos, h.Part)
		}
		if err == nil && verify {
			_, err = readFrameAt(f, pos, h)
		}
		if err != nil {
			res.damage = err
			break
		}
		if lastIdx < 0 || pos-lastIdx >= interval {
			pendIdx = append(pendIdx, indexEntry{Offset: h.BaseOffset, Pos: pos})
			lastIdx = pos
		}
		pending = append(pending, h)
		pos += h.frameLen()
		next = h.lastOffset() + 1
		if h.groupDone() {
			for _, ph := range pending {
				if onHeader != nil {
					onHeader(ph)
				}
				if res.firstAppend == 0 {
					res.firstAppend = ph.AppendTime
				}
				res.lastAppend = max(res.lastAppend, ph.AppendTime)
			}
			res.index = append(res.index, pendIdx...)
			res.lastIndexed = lastIdx
			res.validEnd, res.end = pos, next
			pending, pendIdx = pending[:0], pendIdx[:0]
		}
	}
	if len(pending) > 0 && res.damage == nil {
		res.damage = fmt.Errorf("%w: group of %d frames at %d is incomplete (%d present)", ErrCorrupt, pending[0].Parts, res.validEnd, len(pending))
	}
	return res
}
