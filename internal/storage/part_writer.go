package storage

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/logbucket/logbucket/internal/vfs"
)

// WritePart writes rows as a new part file at path, atomically: it writes
// path+".tmp" (and a scratch file path+".filters.tmp"), fsyncs it, renames
// it to path and fsyncs the directory. It refuses to replace an existing
// file. rows may come in any order; WritePart sorts a permutation of them
// and neither modifies nor retains them.
//
// Every row must satisfy: Partition and Offset >= 0, no two rows at the
// same position, field names unique within a record and different from
// its stream fields and from "_msg", "_time" and "_stream", and a raw size
// (message plus names and values) of at most MaxRecordBytes; otherwise
// the error wraps ErrInvalidRow. Empty field values are absent.
//
// Memory: the rows (the caller's), about 32 bytes per row of sort and
// range state, and one block being encoded.
func WritePart(fsys vfs.FS, path string, meta PartMeta, rows []Row, opts WriteOptions) (PartInfo, error) {
	opts, err := opts.normalize()
	if err != nil {
		return PartInfo{}, fmt.Errorf("write part %s: %w", path, err)
	}
	if len(rows) == 0 || len(rows) > math.MaxInt32 {
		return PartInfo{}, fmt.Errorf("write part %s: %d rows, want 1..%d", path, len(rows), math.MaxInt32)
	}
	streams := newStreamSet()
	rowStream := make([]int32, len(rows))
	rowSize := make([]int32, len(rows))
	pos := make([]Position, len(rows))
	for i := range rows {
		r := &rows[i]
		size, err := checkRow(r)
		if err != nil {
			return PartInfo{}, fmt.Errorf("write part %s: row %d (partition %d offset %d): %w", path, i, r.Partition, r.Offset, err)
		}
		rowSize[i] = int32(size)
		rowStream[i] = streams.index(sortedStream(r.Record.Stream))
		pos[i] = Position{r.Partition, r.Offset}
	}
	ranges, err := coalesce(pos)
	if err != nil {
		return PartInfo{}, fmt.Errorf("write part %s: %w", path, err)
	}
	pos = nil
	list, rank := streams.sorted()
	for i := range rowStream {
		rowStream[i] = rank[rowStream[i]]
	}
	order := make([]int32, len(rows))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(rowStream[a], rowStream[b]); c != 0 {
			return c
		}
		return compareRows(&rows[a], &rows[b])
	})
	pw, err := createPartWriter(fsys, path, list, opts)
	if err != nil {
		return PartInfo{}, err
	}
	b := newBlockBuilder()
	cur := int32(-1)
	for _, i := range order {
		r := &rows[i]
		size := int(rowSize[i])
		if b.rows() > 0 && (rowStream[i] != cur || b.rows() >= opts.BlockRows || b.raw+size > opts.BlockBytes ||
			len(b.cols)+len(r.Record.Fields) > maxBlockColumns && len(b.cols)+b.newColumns(r.Record.Fields) > maxBlockColumns) {
			if b, err = pw.writeBlock(b, int(cur)); err != nil {
				pw.abort()
				return PartInfo{}, err
			}
		}
		cur = rowStream[i]
		b.startRow(r.Record.Time, r.Partition, r.Offset, r.Record.Msg)
		for j, f := range r.Record.Fields {
			b.setFieldAt(j, f.Name, f.Value)
		}
	}
	if _, err := pw.writeBlock(b, int(cur)); err != nil {
		pw.abort()
		return PartInfo{}, err
	}
	return pw.finish(meta, ranges)
}

// compareRows is the order of rows within a stream: time, then position.
func compareRows(a, b *Row) int {
	if c := cmp.Compare(a.Record.Time, b.Record.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Partition, b.Partition); c != 0 {
		return c
	}
	return cmp.Compare(a.Offset, b.Offset)
}

var reservedNames = [...]string{MsgField, TimeField, "_stream"}

// checkRow validates a row and returns its raw size.
func checkRow(r *Row) (int, error) {
	if r.Partition < 0 || r.Partition > math.MaxInt32 || r.Offset < 0 {
		return 0, fmt.Errorf("%w: position out of range", ErrInvalidRow)
	}
	rec := &r.Record
	size := rowRawSize(rec)
	if size > MaxRecordBytes {
		return 0, fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidRow, size, MaxRecordBytes)
	}
	if len(rec.Stream) > maxStreamFields {
		return 0, fmt.Errorf("%w: %d stream fields, more than %d", ErrInvalidRow, len(rec.Stream), maxStreamFields)
	}
	for i, s := range rec.Stream {
		if len(s.Name) > maxNameLen || len(s.Value) > maxNameLen {
			return 0, fmt.Errorf("%w: stream field %.64q longer than %d bytes", ErrInvalidRow, s.Name, maxNameLen)
		}
		for _, t := range rec.Stream[:i] {
			if t.Name == s.Name {
				return 0, fmt.Errorf("%w: stream field %q twice", ErrInvalidRow, s.Name)
			}
		}
	}
	for i, f := range rec.Fields {
		if f.Value == "" {
			continue
		}
		if len(f.Name) > maxNameLen {
			return 0, fmt.Errorf("%w: field name %.64q longer than %d bytes", ErrInvalidRow, f.Name, maxNameLen)
		}
		if slices.Contains(reservedNames[:], f.Name) {
			return 0, fmt.Errorf("%w: field name %q is reserved", ErrInvalidRow, f.Name)
		}
		for _, s := range rec.Stream {
			if s.Name == f.Name {
				return 0, fmt.Errorf("%w: field %q is also a stream field", ErrInvalidRow, f.Name)
			}
		}
		if len(rec.Fields) <= 32 {
			for _, g := range rec.Fields[:i] {
				if g.Name == f.Name && g.Value != "" {
					return 0, fmt.Errorf("%w: field %q twice", ErrInvalidRow, f.Name)
				}
			}
		}
	}
	if len(rec.Fields) > 32 {
		seen := make(map[string]struct{}, len(rec.Fields))
		for _, f := range rec.Fields {
			if f.Value == "" {
				continue
			}
			if _, dup := seen[f.Name]; dup {
				return 0, fmt.Errorf("%w: field %q twice", ErrInvalidRow, f.Name)
			}
			seen[f.Name] = struct{}{}
		}
	}
	return size, nil
}

// partWriter writes a part file: blocks into the temporary part file,
// filters into a scratch file, then the filters, index and footer.
type partWriter struct {
	fsys         vfs.FS
	path         string
	tmp, filtTmp string
	f, ff        vfs.File
	w, fw        *bufio.Writer
	off, foff    int64
	opts         WriteOptions
	encoders     // blocks are encoded on every core, written in order
	ix           partIndex
	rows         int64
	minT, maxT   int64
	closed       bool
	renamed      bool
}

func createPartWriter(fsys vfs.FS, path string, streams []Stream, opts WriteOptions) (*partWriter, error) {
	if _, err := fsys.Stat(path); err == nil {
		return nil, fmt.Errorf("write part %s: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("write part %s: %w", path, err)
	}
	pw := &partWriter{fsys: fsys, path: path, tmp: path + ".tmp", filtTmp: path + ".filters.tmp",
		opts: opts, minT: math.MaxInt64, maxT: math.MinInt64}
	pw.ix.streams = streams
	var err error
	if pw.f, err = fsys.OpenFile(pw.tmp, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644); err != nil {
		return nil, fmt.Errorf("create %s: %w", pw.tmp, err)
	}
	if pw.ff, err = fsys.OpenFile(pw.filtTmp, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644); err != nil {
		pw.f.Close()
		fsys.Remove(pw.tmp)
		return nil, fmt.Errorf("create %s: %w", pw.filtTmp, err)
	}
	pw.w = bufio.NewWriterSize(pw.f, 1<<20)
	pw.fw = bufio.NewWriterSize(pw.ff, 256<<10)
	hdr := append([]byte(headerMagic), 0, 0, 0, 0)
	hdr[8] = formatVersion
	hdr = appendU32(hdr, crc(hdr))
	if _, err := pw.w.Write(hdr); err != nil {
		pw.abort()
		return nil, fmt.Errorf("write %s: %w", pw.tmp, err)
	}
	pw.off = headerSize
	return pw, nil
}

// writeEncoded writes an encoded (or copied) block and adds its entry.
func (pw *partWriter) writeEncoded(j *encodeJob) error {
	data, hdrLen, filter, fields := j.data, j.hdrLen, j.filter, j.names
	e := blockEntry{off: pw.off, hdrLen: hdrLen, dataLen: len(data),
		filterOff: pw.foff, filterLen: len(filter), filterCRC: crc(filter)}
	if j.copied != nil {
		m := j.copied
		e.Rows, e.MinTime, e.MaxTime, e.MinPos, e.MaxPos, e.RawBytes = m.Rows, m.MinTime, m.MaxTime, m.MinPos, m.MaxPos, m.RawBytes
	} else {
		b := j.b
		n := b.rows()
		e.Rows = n
		e.MinTime, e.MaxTime = b.times[0], b.times[n-1]
		e.MinPos = Position{int(b.parts[0]), b.offs[0]}
		e.MaxPos = e.MinPos
		for i := 1; i < n; i++ {
			p := Position{int(b.parts[i]), b.offs[i]}
			if p.Compare(e.MinPos) < 0 {
				e.MinPos = p
			}
			if p.Compare(e.MaxPos) > 0 {
				e.MaxPos = p
			}
		}
		e.RawBytes = int64(b.raw)
	}
	e.Stream = j.stream
	e.Fields = fields
	if _, err := pw.w.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", pw.tmp, err)
	}
	if _, err := pw.fw.Write(filter); err != nil {
		return fmt.Errorf("write %s: %w", pw.filtTmp, err)
	}
	pw.off += int64(len(data))
	pw.foff += int64(len(filter))
	pw.ix.blocks = append(pw.ix.blocks, e)
	pw.rows += int64(e.Rows)
	pw.minT, pw.maxT = min(pw.minT, e.MinTime), max(pw.maxT, e.MaxTime)
	return nil
}

// finish writes the filters, index and footer, makes the file durable and
// renames it into place.
func (pw *partWriter) finish(meta PartMeta, ranges []OffsetRange) (PartInfo, error) {
	info, err := pw.finishFile(meta, ranges)
	if err != nil {
		pw.abort()
		return PartInfo{}, err
	}
	return info, nil
}

func (pw *partWriter) finishFile(meta PartMeta, ranges []OffsetRange) (PartInfo, error) {
	if err := pw.drain(0); err != nil {
		return PartInfo{}, err
	}
	pw.stopEncoders()
	if err := pw.fw.Flush(); err != nil {
		return PartInfo{}, fmt.Errorf("write %s: %w", pw.filtTmp, err)
	}
	filtersOff := pw.off
	if _, err := io.Copy(pw.w, io.NewSectionReader(pw.ff, 0, pw.foff)); err != nil {
		return PartInfo{}, fmt.Errorf("copy filters into %s: %w", pw.tmp, err)
	}
	pw.off += pw.foff
	in := &pw.ix.info
	in.PartMeta = meta
	in.FormatVersion = formatVersion
	in.Rows, in.MinTime, in.MaxTime = pw.rows, pw.minT, pw.maxT
	in.Ranges = ranges
	in.Blocks, in.Streams = len(pw.ix.blocks), len(pw.ix.streams)
	raw := encodeIndex(&pw.ix)
	if len(raw) > maxIndexRaw {
		return PartInfo{}, fmt.Errorf("write part %s: index of %d bytes exceeds %d", pw.path, len(raw), maxIndexRaw)
	}
	stored := zstdEncoder(pw.opts.Compression).EncodeAll(raw, nil)
	indexOff := pw.off
	foot := make([]byte, 0, footerSize)
	foot = appendU64(foot, uint64(filtersOff))
	foot = appendU64(foot, uint64(pw.foff))
	foot = appendU64(foot, uint64(indexOff))
	foot = appendU64(foot, uint64(len(stored)))
	foot = appendU64(foot, uint64(len(raw)))
	foot = appendU32(foot, crc(stored))
	foot = append(foot, formatVersion, 0, 0, 0)
	foot = appendU32(foot, crc(foot))
	foot = append(foot, footerMagic...)
	if _, err := pw.w.Write(stored); err != nil {
		return PartInfo{}, fmt.Errorf("write %s: %w", pw.tmp, err)
	}
	if _, err := pw.w.Write(foot); err != nil {
		return PartInfo{}, fmt.Errorf("write %s: %w", pw.tmp, err)
	}
	if err := pw.w.Flush(); err != nil {
		return PartInfo{}, fmt.Errorf("write %s: %w", pw.tmp, err)
	}
	in.Bytes = indexOff + int64(len(stored)) + footerSize
	if err := pw.f.Sync(); err != nil {
		return PartInfo{}, fmt.Errorf("sync %s: %w", pw.tmp, err)
	}
	pw.closed = true
	ferr := pw.ff.Close()
	if err := pw.f.Close(); err != nil {
		return PartInfo{}, fmt.Errorf("close %s: %w", pw.tmp, err)
	}
	if ferr != nil {
		return PartInfo{}, fmt.Errorf("close %s: %w", pw.filtTmp, ferr)
	}
	if err := pw.fsys.Remove(pw.filtTmp); err != nil {
		return PartInfo{}, fmt.Errorf("remove %s: %w", pw.filtTmp, err)
	}
	if err := pw.fsys.Rename(pw.tmp, pw.path); err != nil {
		return PartInfo{}, fmt.Errorf("rename %s: %w", pw.tmp, err)
	}
	pw.renamed = true
	if err := pw.fsys.SyncDir(filepath.Dir(pw.path)); err != nil {
		// The part is in place but its name may not survive a crash; the
		// caller must not treat it as durable.
		return PartInfo{}, fmt.Errorf("sync directory of %s: %w", pw.path, err)
	}
	return *in, nil
}

// abort closes and removes the temporary files. A part already renamed
// into place (a failed directory sync) is removed too: it was never
// reported as written.
func (pw *partWriter) abort() {
	pw.stopEncoders()
	if !pw.closed {
		pw.f.Close()
		pw.ff.Close()
		pw.closed = true
	}
	pw.fsys.Remove(pw.tmp)
	pw.fsys.Remove(pw.filtTmp)
	if pw.renamed {
		pw.fsys.Remove(pw.path)
	}
}
