package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/logbucket/logbucket/internal/vfs"
)

// Part is an open part file. It keeps the part's index (stream table and
// block metadata) in memory and reads blocks and filters on demand, one
// ReadAt per contiguous run of requested columns. A Part is safe for
// concurrent use; Close it when done.
type Part struct {
	f          vfs.File
	path       string
	verify     bool
	info       PartInfo
	streams    []Stream
	blocks     []blockEntry
	metas      []BlockMeta
	filtersOff int64

	// headers caches each block's parsed column table after its first
	// read (nil until then).
	headers []atomic.Pointer[[]blockColumn]
}

// OpenPart opens a part file and validates its header, footer, index and
// their checksums (blocks and filters are checked when read). Three reads;
// memory: the index, a few hundred bytes per block.
func OpenPart(fsys vfs.FS, path string) (*Part, error) {
	return openPart(fsys, path, true)
}

// openPart opens a part; without verify it skips the checksums (fuzzing
// uses this to reach the decoders).
func openPart(fsys vfs.FS, path string, verify bool) (*Part, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open part %s: %w", path, err)
	}
	p := &Part{f: f, path: path, verify: verify}
	if err := p.load(); err != nil {
		f.Close()
		return nil, err
	}
	return p, nil
}

func (p *Part) corrupt(section string, off int64, err error) error {
	return &CorruptionError{Path: p.path, Section: section, Offset: off, Err: err}
}

// readAt reads n bytes at off; a short file is corruption.
func (p *Part) readAt(section string, off int64, n int) ([]byte, error) {
	buf := make([]byte, n)
	if _, err := p.f.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, p.corrupt(section, off, fmt.Errorf("%w: file ends early", errData))
		}
		return nil, fmt.Errorf("read %s of %s at %d: %w", section, p.path, off, err)
	}
	return buf, nil
}

func (p *Part) load() error {
	st, err := p.f.Stat()
	if err != nil {
		return fmt.Errorf("stat part %s: %w", p.path, err)
	}
	size := st.Size()
	if size < headerSize+footerSize {
		return p.corrupt("file", 0, dataErrorf("%d bytes is too short for a part", size))
	}
	hdr, err := p.readAt("header", 0, headerSize)
	if err != nil {
		return err
	}
	if string(hdr[:8]) != headerMagic {
		return p.corrupt("header", 0, dataErrorf("bad magic %q", hdr[:8]))
	}
	if p.verify && crc(hdr[:12]) != binary.LittleEndian.Uint32(hdr[12:]) {
		return p.corrupt("header", 0, dataErrorf("header crc mismatch"))
	}
	if v := binary.LittleEndian.Uint16(hdr[8:]); v != formatVersion {
		return p.corrupt("header", 0, dataErrorf("unknown format version %d", v))
	}
	footOff := size - footerSize
	foot, err := p.readAt("footer", footOff, footerSize)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	if string(foot[52:]) != footerMagic {
		return p.corrupt("footer", footOff, dataErrorf("bad magic %q", foot[52:]))
	}
	if p.verify && crc(foot[:48]) != le.Uint32(foot[48:]) {
		return p.corrupt("footer", footOff, dataErrorf("footer crc mismatch"))
	}
	filtersOff, filtersLen := le.Uint64(foot[0:]), le.Uint64(foot[8:])
	indexOff, indexLen, indexRaw := le.Uint64(foot[16:]), le.Uint64(foot[24:]), le.Uint64(foot[32:])
	if v := le.Uint16(foot[44:]); v != formatVersion {
		return p.corrupt("footer", footOff, dataErrorf("unknown format version %d", v))
	}
	switch {
	case filtersOff < headerSize || filtersOff > uint64(footOff) || filtersLen > uint64(footOff)-filtersOff,
		indexOff != filtersOff+filtersLen || indexLen != uint64(footOff)-indexOff,
		indexRaw > maxIndexRaw || indexLen > maxIndexRaw:
		return p.corrupt("footer", footOff, dataErrorf("sections out of place (filters %d+%d, index %d+%d of %d raw, file %d)",
			filtersOff, filtersLen, indexOff, indexLen, indexRaw, size))
	}
	stored, err := p.readAt("index", int64(indexOff), int(indexLen))
	if err != nil {
		return err
	}
	if p.verify && crc(stored) != le.Uint32(foot[40:]) {
		return p.corrupt("index", int64(indexOff), dataErrorf("index crc mismatch"))
	}
	raw, err := zstdDecoder().DecodeAll(stored, make([]byte, 0, indexRaw))
	if err == nil && uint64(len(raw)) != indexRaw {
		err = dataErrorf("index decoded to %d bytes, footer says %d", len(raw), indexRaw)
	}
	if err != nil {
		return p.corrupt("index", int64(indexOff), fmt.Errorf("%w: %v", errData, err))
	}
	ix, err := decodeIndex(raw, int64(filtersOff), int64(filtersLen))
	if err != nil {
		return p.corrupt("index", int64(indexOff), err)
	}
	p.info, p.streams, p.blocks = ix.info, ix.streams, ix.blocks
	p.info.Bytes = size
	p.filtersOff = int64(filtersOff)
	p.headers = make([]atomic.Pointer[[]blockColumn], len(p.blocks))
	p.metas = make([]BlockMeta, len(p.blocks))
	for i := range p.blocks {
		p.metas[i] = p.blocks[i].BlockMeta
	}
	return nil
}

// Close closes the part file.
func (p *Part) Close() error {
	if err := p.f.Close(); err != nil {
		return fmt.Errorf("close part %s: %w", p.path, err)
	}
	return nil
}

// Path returns the part's file name.
func (p *Part) Path() string { return p.path }

// Info describes the part. Ranges is shared: do not modify.
func (p *Part) Info() PartInfo { return p.info }

// Streams returns the stream table, sorted by ID then fields. Shared.
func (p *Part) Streams() []Stream { return p.streams }

// Blocks returns every block's metadata in part order: by stream (the
// order of Streams), then by time. Shared: do not modify.
func (p *Part) Blocks() []BlockMeta { return p.metas }

// ReadFilter reads block i's token filter (one read).
func (p *Part) ReadFilter(i int) (*Filter, error) {
	if i < 0 || i >= len(p.blocks) {
		return nil, fmt.Errorf("read filter %d of %s: no such block", i, p.path)
	}
	e := &p.blocks[i]
	b, err := p.readAt(fmt.Sprintf("filter %d", i), p.filtersOff+e.filterOff, e.filterLen)
	if err != nil {
		return nil, err
	}
	return p.parseFilter(i, b)
}

func (p *Part) parseFilter(i int, b []byte) (*Filter, error) {
	e := &p.blocks[i]
	off := p.filtersOff + e.filterOff
	if p.verify && crc(b) != e.filterCRC {
		return nil, p.corrupt(fmt.Sprintf("filter %d", i), off, dataErrorf("crc mismatch"))
	}
	f, err := decodeFilter(b)
	if err != nil {
		return nil, p.corrupt(fmt.Sprintf("filter %d", i), off, err)
	}
	return f, nil
}

// ReadFilters reads every block's filter with one read; filters[i] is
// block i's. Memory: the filter section (about 1 byte per distinct token).
func (p *Part) ReadFilters() ([]*Filter, error) {
	var size int64
	for i := range p.blocks {
		size = max(size, p.blocks[i].filterOff+int64(p.blocks[i].filterLen))
	}
	sec, err := p.readAt("filters", p.filtersOff, int(size))
	if err != nil {
		return nil, err
	}
	out := make([]*Filter, len(p.blocks))
	for i := range p.blocks {
		e := &p.blocks[i]
		if out[i], err = p.parseFilter(i, sec[e.filterOff:e.filterOff+int64(e.filterLen)]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readGap is the largest gap between two requested columns that ReadBlock
// reads through rather than issuing a second read.
const readGap = 64 << 10

// blockHeader returns block i's parsed column table, reading it on first
// use and keeping it (a few dozen bytes per column) for the part's life.
func (p *Part) blockHeader(i int, section string) ([]blockColumn, error) {
	if h := p.headers[i].Load(); h != nil {
		return *h, nil
	}
	e := &p.blocks[i]
	hdr, err := p.readAt(section, e.off, e.hdrLen)
	if err != nil {
		return nil, err
	}
	cols, err := parseBlockHeader(hdr, e.off+int64(e.hdrLen), e.dataLen-e.hdrLen, p.verify)
	if err != nil {
		return nil, p.corrupt(section, e.off, err)
	}
	p.headers[i].Store(&cols) // racing readers store equal tables
	return cols, nil
}

// ReadBlock reads and decodes block i. columns names the fields to decode
// (MsgField for the message, TimeField for the times, PosField for the
// commit-log positions; stream fields need no decoding): nil means all,
// an empty slice none. Times and positions that were not requested are
// read from the file on their first use (Block.Time, Block.Position). A
// pattern-encoded message also needs the columns it references, which are
// then read too and decoded when the message's values are first built
// (Column.Values); filters that can work on templates (Column.Pattern)
// never pay for them. Reads: the block header once per part, then one per
// run of requested columns less than 64 KiB apart. Errors from damaged
// data wrap ErrCorrupt.
func (p *Part) ReadBlock(i int, columns []string) (*Block, error) {
	if i < 0 || i >= len(p.blocks) {
		return nil, fmt.Errorf("read block %d of %s: no such block", i, p.path)
	}
	e := &p.blocks[i]
	section := fmt.Sprintf("block %d", i)
	cols, err := p.blockHeader(i, section)
	if err != nil {
		return nil, err
	}
	want := func(c *blockColumn) bool {
		switch {
		case columns == nil:
			return true
		case c.role == roleTime:
			return slices.Contains(columns, TimeField)
		case c.role == rolePos:
			return slices.Contains(columns, PosField)
		case c.role == roleMsg:
			return slices.Contains(columns, MsgField)
		}
		return slices.Contains(columns, c.name)
	}
	payloads := make([][]byte, len(cols))
	if err := p.readColumns(section, cols, payloads, want); err != nil {
		return nil, err
	}
	// A pattern message may reference columns that were not requested.
	if len(cols) > 2 && cols[2].role == roleMsg && (cols[2].enc == EncPattern || cols[2].enc == EncPatternGroups) && payloads[2] != nil {
		refs := patternRefs(payloads[2])
		extra := func(c *blockColumn) bool {
			return payloads != nil && slices.Contains(refs, c.name) && c.role == roleField
		}
		if err := p.readColumns(section, cols, payloads, extra); err != nil {
			return nil, err
		}
	}
	b := &Block{meta: e.BlockMeta, index: i, part: p, timeEntry: e, timeCol: &cols[0], posCol: &cols[1]}
	limit := int(min(e.RawBytes, maxBlockRaw))
	var msgCol *blockColumn
	for k := range cols {
		c := &cols[k]
		if payloads[k] == nil {
			continue
		}
		if c.role == roleMsg {
			msgCol = c
			continue
		}
		if c.role == roleField && !want(c) {
			// Only the message's references need it, and only when its
			// values are built: decoded then (patternData.load).
			b.refOnly = append(b.refOnly, &Column{name: c.name, enc: c.enc, n: e.Rows, raw: payloads[k], rawLimit: limit})
			continue
		}
		if err := p.decodeColumn(section, c, payloads[k], e, b, limit); err != nil {
			return nil, err
		}
	}
	if msgCol != nil {
		if err := p.decodeColumn(section, msgCol, payloads[2], e, b, limit); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// columnPayload reads and checks one column's payload of block i.
func (p *Part) columnPayload(i int, c *blockColumn) ([]byte, error) {
	section := fmt.Sprintf("block %d", i)
	buf, err := p.readAt(section, c.start, c.len)
	if err != nil {
		return nil, err
	}
	if p.verify && crc(buf) != c.crc {
		return nil, p.corrupt(fmt.Sprintf("%s column %s", section, colName(c)), c.start, dataErrorf("crc mismatch"))
	}
	return buf, nil
}

// columnCorrupt wraps damage found in a column of block i.
func (p *Part) columnCorrupt(i int, c *blockColumn, err error) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return p.corrupt(fmt.Sprintf("block %d column %s", i, colName(c)), c.start, err)
}

// readColumns reads the payloads of the columns sel accepts that are not
// read yet, coalescing neighbours into one read.
func (p *Part) readColumns(section string, cols []blockColumn, payloads [][]byte, sel func(*blockColumn) bool) error {
	var idx []int
	for k := range cols {
		if payloads[k] == nil && sel(&cols[k]) {
			idx = append(idx, k)
		}
	}
	sort.Ints(idx)
	for s := 0; s < len(idx); {
		e := s + 1
		for e < len(idx) && cols[idx[e]].start-(cols[idx[e-1]].start+int64(cols[idx[e-1]].len)) <= readGap {
			e++
		}
		first, last := &cols[idx[s]], &cols[idx[e-1]]
		buf, err := p.readAt(section, first.start, int(last.start+int64(last.len)-first.start))
		if err != nil {
			return err
		}
		for _, k := range idx[s:e] {
			c := &cols[k]
			rel := c.start - first.start
			payloads[k] = buf[rel : rel+int64(c.len) : rel+int64(c.len)]
			if p.verify && crc(payloads[k]) != c.crc {
				return p.corrupt(fmt.Sprintf("%s column %s", section, colName(c)), c.start, dataErrorf("crc mismatch"))
			}
		}
		s = e
	}
	return nil
}

func colName(c *blockColumn) string {
	switch c.role {
	case roleTime:
		return TimeField
	case rolePos:
		return PosField
	case roleMsg:
		return MsgField
	}
	return fmt.Sprintf("%q", c.name)
}

// patternRefs returns the column names a pattern payload references (nil
// when the payload is malformed; decoding reports that).
func patternRefs(payload []byte) []string {
	d := decoder{b: payload}
	n := int(d.byte())
	var refs []string
	for i := 0; i < n && i < maxRefs && d.err == nil; i++ {
		refs = append(refs, d.str(maxNameLen))
	}
	return refs
}

func (p *Part) decodeColumn(section string, c *blockColumn, payload []byte, e *blockEntry, b *Block, limit int) error {
	d := &decoder{b: payload}
	n := e.Rows
	switch c.role {
	case roleTime:
		b.timePayload = payload // decoded on first use (Block.Time)
		return nil
	case rolePos:
		b.posPayload = payload // decoded on first use (Block.Position)
		return nil
	default:
		col := decodeValues(d, c.enc, n, limit, b.refColumn)
		if d.err == nil {
			if col.pat != nil {
				where, start := fmt.Sprintf("%s column %s", section, colName(c)), c.start
				col.pat.corrupt = func(err error) error { return p.corrupt(where, start, err) }
			}
			col.name = c.name
			if c.role == roleMsg {
				col.name = MsgField
				b.msg = col
			} else {
				b.cols = append(b.cols, col)
			}
		}
	}
	if err := d.done("column"); err != nil {
		return p.corrupt(fmt.Sprintf("%s column %s", section, colName(c)), c.start, err)
	}
	return nil
}

// decodeValues decodes a column payload of n rows; lookup finds the
// block's already decoded columns (for pattern references). Value bytes
// are bounded by limit.
func decodeValues(d *decoder, enc Encoding, n, limit int, lookup func(string) *Column) *Column {
	var col *Column
	switch enc {
	case EncConst:
		col = decodeConst(d, n, limit)
	case EncDict:
		col = decodeDict(d, n, limit, false)
	case EncDictCounts:
		col = decodeDict(d, n, limit, true)
	case EncStrings:
		col = decodeStrings(d, n, limit)
	case EncInt:
		col = decodeInt(d, n, limit)
	case EncHex:
		col = decodeHex(d, n, limit)
	case EncPattern, EncPatternGroups:
		col = decodePattern(d, n, limit, lookup, enc == EncPatternGroups)
	}
	if d.err == nil && col == nil {
		d.fail("encoding %d", enc)
	}
	return col
}
