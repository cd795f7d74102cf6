package commitlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"

	"github.com/logbucket/logbucket/internal/vfs"
)

// Segment file layout: a 16-byte header, then frames back to back.
//
//	0  4  magic "LBCL"
//	4  2  format version (1)
//	6  2  reserved (0)
//	8  8  base offset: the offset of the first record the segment holds
const (
	segmentMagic      = "LBCL"
	segmentVersion    = 1
	segmentHeaderSize = 16
	segmentSuffix     = ".log"
	indexSuffix       = ".idx"
)

// indexEntry maps the first offset of a frame to its byte position.
type indexEntry struct {
	Offset int64
	Pos    int64
}

// segment is one file of a partition. Its fields are guarded by the owning
// partition's mu except where noted.
type segment struct {
	path string
	base int64
	file vfs.File

	// Written by the partition writer and read by readers, under p.mu.
	size         int64        // bytes written (the writer's view)
	durableSize  int64        // bytes known fsync'd; readers never read past it
	end          int64        // next offset after the last durable record
	index        []indexEntry // sparse, sorted by Offset
	lastIndexed  int64        // position of the last index entry
	firstAppend  int64        // append time of the first frame, unix ns (0 if empty)
	lastAppend   int64        // append time of the last durable frame
	sealed       bool
	refs         atomic.Int32 // readers holding the file open
	deleted      atomic.Bool  // removed from the partition; close when refs drop to 0
	closeOnce    atomic.Bool
	closeErrHook func(error)
}

func segmentName(base int64) string { return fmt.Sprintf("%020d", base) }

// parseSegmentName returns the base offset encoded in a file name.
func parseSegmentName(name string) (int64, bool) {
	if filepath.Ext(name) != segmentSuffix || len(name) != 20+len(segmentSuffix) {
		return 0, false
	}
	n, err := strconv.ParseInt(name[:20], 10, 64)
	return n, err == nil && n >= 0
}

// createSegment makes a new empty segment file and syncs it and its
// directory so the header survives a crash.
func createSegment(fsys vfs.FS, dir string, base int64) (*segment, error) {
	path := filepath.Join(dir, segmentName(base)+segmentSuffix)
	f, err := fsys.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment %s: %w", path, err)
	}
	// On failure the file is removed: a retry (CreateBucket again) must not
	// append to a file whose header never reached the disk, because a
	// failed fsync is not made good by a later one.
	fail := func(err error) (*segment, error) {
		f.Close()
		fsys.Remove(path)
		return nil, err
	}
	var hdr [segmentHeaderSize]byte
	copy(hdr[:], segmentMagic)
	binary.LittleEndian.PutUint16(hdr[4:], segmentVersion)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(base))
	if _, err := f.Write(hdr[:]); err != nil {
		return fail(fmt.Errorf("write segment header %s: %w", path, err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("sync segment %s: %w", path, err))
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fail(fmt.Errorf("sync partition directory: %w", err))
	}
	return &segment{path: path, base: base, file: f, size: segmentHeaderSize,
		durableSize: segmentHeaderSize, end: base, lastIndexed: -1}, nil
}

// checkSegmentHeader validates a segment's 16-byte header.
func checkSegmentHeader(f vfs.File, base int64) error {
	var hdr [segmentHeaderSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return fmt.Errorf("%w: read segment header: %v", ErrCorrupt, err)
	}
	if string(hdr[:4]) != segmentMagic {
		return fmt.Errorf("%w: bad segment magic %q", ErrCorrupt, hdr[:4])
	}
	if v := binary.LittleEndian.Uint16(hdr[4:]); v != segmentVersion {
		return fmt.Errorf("%w: unknown segment version %d", ErrCorrupt, v)
	}
	if got := int64(binary.LittleEndian.Uint64(hdr[8:])); got != base {
		return fmt.Errorf("%w: segment header base %d, file name says %d", ErrCorrupt, got, base)
	}
	return nil
}

// readHeaderAt reads the frame header at pos. It returns io.EOF at the end
// of the readable data (limit).
func readHeaderAt(f vfs.File, pos, limit int64, buf []byte) (batchHeader, error) {
	if pos == limit {
		return batchHeader{}, io.EOF
	}
	n := int64(batchFixedHeader + maxBatchIDLen)
	if pos+n > limit {
		n = limit - pos
	}
	if n < batchFixedHeader {
		return batchHeader{}, fmt.Errorf("%w: %d trailing bytes at %d are not a frame header", ErrCorrupt, n, pos)
	}
	b := buf[:n]
	if _, err := f.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
		return batchHeader{}, fmt.Errorf("read frame header at %d: %w", pos, err)
	}
	h, err := parseHeader(b)
	if err != nil {
		return h, err
	}
	if pos+h.frameLen() > limit {
		return h, fmt.Errorf("%w: frame at %d runs past the end (%d > %d)", ErrCorrupt, pos, pos+h.frameLen(), limit)
	}
	return h, nil
}

// readFrameAt reads and verifies the whole frame at pos.
func readFrameAt(f vfs.File, pos int64, h batchHeader) ([]byte, error) {
	frame := make([]byte, h.frameLen())
	if _, err := f.ReadAt(frame, pos); err != nil {
		return nil, fmt.Errorf("read frame at %d: %w", pos, err)
	}
	if _, err := checkFrame(frame); err != nil {
		return nil, err
	}
	return frame, nil
}

// lookup returns the position to start scanning from for offset and the
// base offset the frame there must have.
func (s *segment) lookup(offset int64) (pos, base int64) {
	i := sort.Search(len(s.index), func(i int) bool { return s.index[i].Offset > offset })
	if i == 0 {
		return segmentHeaderSize, s.base
	}
	return s.index[i-1].Pos, s.index[i-1].Offset
}

// acquire takes a reader reference. It fails when the segment was deleted.
func (s *segment) acquire() bool {
	s.refs.Add(1)
	if s.deleted.Load() {
		s.release()
		return false
	}
	return true
}

// release drops a reader reference, closing a deleted segment's file when
// the last reader leaves.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 && s.deleted.Load() {
		s.closeFile()
	}
}

func (s *segment) closeFile() {
	if s.closeOnce.CompareAndSwap(false, true) {
		if err := s.file.Close(); err != nil && s.closeErrHook != nil {
			s.closeErrHook(err)
		}
	}
}
