package commitlog

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/logbucket/logbucket/internal/vfs"
)

// Index file layout (format version 1, little endian), written when a
// segment is sealed; rebuilt from the segment when missing or stale:
//
//	0   4   magic "LBIX"
//	4   2   format version (1)
//	6   2   reserved (0)
//	8   8   base offset of the segment
//	16  8   end offset: next offset after the segment's last record
//	24  8   segment size in bytes (the index is stale if the file differs)
//	32  8   append time of the first frame, unix ns
//	40  8   append time of the last frame, unix ns
//	48  4   entry count n
//	52  16n entries: first offset of a frame (8), its byte position (8)
//	..  4   CRC-32C of every byte before it
const (
	indexMagic      = "LBIX"
	indexVersion    = 1
	indexHeaderSize = 52
	maxIndexEntries = 64 << 20
)

func indexPath(segPath string) string {
	return strings.TrimSuffix(segPath, segmentSuffix) + indexSuffix
}

// writeIndex stores a sealed segment's index durably.
func writeIndex(fsys vfs.FS, s *segment) error {
	b := make([]byte, indexHeaderSize, indexHeaderSize+16*len(s.index)+4)
	le := binary.LittleEndian
	copy(b, indexMagic)
	le.PutUint16(b[4:], indexVersion)
	le.PutUint64(b[8:], uint64(s.base))
	le.PutUint64(b[16:], uint64(s.end))
	le.PutUint64(b[24:], uint64(s.durableSize))
	le.PutUint64(b[32:], uint64(s.firstAppend))
	le.PutUint64(b[40:], uint64(s.lastAppend))
	le.PutUint32(b[48:], uint32(len(s.index)))
	for _, e := range s.index {
		b = le.AppendUint64(b, uint64(e.Offset))
		b = le.AppendUint64(b, uint64(e.Pos))
	}
	b = le.AppendUint32(b, crc32.Checksum(b, castagnoli))
	dir, name := filepath.Split(indexPath(s.path))
	if err := vfs.WriteFileAtomic(fsys, filepath.Clean(dir), name, b); err != nil {
		return fmt.Errorf("write index of segment %s: %w", s.path, err)
	}
	return nil
}

// readIndex loads a sealed segment's index into s. It reports an error when
// the file is missing, damaged or does not describe the segment as it is.
func readIndex(fsys vfs.FS, s *segment, size int64) error {
	path := indexPath(s.path)
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, indexHeaderSize+16*maxIndexEntries+4))
	if err != nil {
		return fmt.Errorf("read index %s: %w", path, err)
	}
	le := binary.LittleEndian
	if len(b) < indexHeaderSize+4 || string(b[:4]) != indexMagic || le.Uint16(b[4:]) != indexVersion {
		return fmt.Errorf("%w: index %s has a bad header", ErrCorrupt, path)
	}
	n := int(le.Uint32(b[48:]))
	if len(b) != indexHeaderSize+16*n+4 {
		return fmt.Errorf("%w: index %s is %d bytes for %d entries", ErrCorrupt, path, len(b), n)
	}
	if crc32.Checksum(b[:len(b)-4], castagnoli) != le.Uint32(b[len(b)-4:]) {
		return fmt.Errorf("%w: index %s fails its checksum", ErrCorrupt, path)
	}
	if int64(le.Uint64(b[8:])) != s.base || int64(le.Uint64(b[24:])) != size {
		return fmt.Errorf("index %s is stale", path)
	}
	s.end = int64(le.Uint64(b[16:]))
	s.size, s.durableSize = size, size
	s.firstAppend = int64(le.Uint64(b[32:]))
	s.lastAppend = int64(le.Uint64(b[40:]))
	s.index = make([]indexEntry, n)
	for i := range s.index {
		p := b[indexHeaderSize+16*i:]
		s.index[i] = indexEntry{Offset: int64(le.Uint64(p)), Pos: int64(le.Uint64(p[8:]))}
	}
	if n > 0 {
		s.lastIndexed = s.index[n-1].Pos
	}
	return nil
}
