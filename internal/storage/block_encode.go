package storage

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/logbucket/logbucket/internal/model"
)

// Column roles in a block header.
const (
	roleTime  = 0
	rolePos   = 1
	roleMsg   = 2
	roleField = 3
)

// blockBuilder accumulates the rows of one block, column by column. Its
// strings alias the rows it was given.
type blockBuilder struct {
	times  []int64
	parts  []int64
	offs   []int64
	msg    []string
	cols   []*colBuf
	colIdx map[string]int
	spare  []*colBuf
	hint   []int // column of the field at each position of the last row
	raw    int
}

type colBuf struct {
	name   string
	values []string
}

func newBlockBuilder() *blockBuilder {
	return &blockBuilder{colIdx: make(map[string]int)}
}

func (b *blockBuilder) reset() {
	clear(b.msg) // let the strings go
	b.times, b.parts, b.offs, b.msg = b.times[:0], b.parts[:0], b.offs[:0], b.msg[:0]
	for _, c := range b.cols {
		clear(c.values)
		c.values = c.values[:0]
		b.spare = append(b.spare, c)
	}
	b.cols = b.cols[:0]
	clear(b.colIdx)
	b.raw = 0
}

func (b *blockBuilder) rows() int { return len(b.times) }

// startRow appends a row's time, position and message; setField then adds
// its fields.
func (b *blockBuilder) startRow(t int64, partition int, offset int64, msg string) {
	b.times = append(b.times, t)
	b.parts = append(b.parts, int64(partition))
	b.offs = append(b.offs, offset)
	b.msg = append(b.msg, msg)
	b.raw += len(msg)
}

// setFieldAt is setField for the field at position j of its record: rows
// usually list their fields in the same order, so the column of position j
// is tried before the map.
func (b *blockBuilder) setFieldAt(j int, name, value string) {
	if value == "" {
		return
	}
	if j < len(b.hint) {
		if i := b.hint[j]; i < len(b.cols) && b.cols[i].name == name {
			b.setCol(i, value)
			b.raw += len(name)
			return
		}
	}
	b.setField(name, value)
	for len(b.hint) <= j {
		b.hint = append(b.hint, 0)
	}
	b.hint[j] = b.colIdx[name]
}

// setField sets the current row's value of a field; empty values are
// absent.
func (b *blockBuilder) setField(name, value string) {
	if value == "" {
		return
	}
	i, ok := b.colIdx[name]
	if !ok {
		var c *colBuf
		if n := len(b.spare); n > 0 {
			c, b.spare = b.spare[n-1], b.spare[:n-1]
		} else {
			c = &colBuf{}
		}
		c.name = name
		i = len(b.cols)
		b.cols = append(b.cols, c)
		b.colIdx[name] = i
	}
	b.setCol(i, value)
	b.raw += len(name)
}

func (b *blockBuilder) setCol(i int, value string) {
	c := b.cols[i]
	row := len(b.times) - 1
	for len(c.values) < row {
		c.values = append(c.values, "")
	}
	c.values = append(c.values, value)
	b.raw += len(value)
}

// rowRawSize is the raw size a row adds to a block: message, names and
// values of its non-empty fields.
func rowRawSize(r *model.Record) int {
	n := len(r.Msg)
	for _, f := range r.Fields {
		if f.Value != "" {
			n += len(f.Name) + len(f.Value)
		}
	}
	return n
}

// newColumns counts the fields of r the block does not have yet.
func (b *blockBuilder) newColumns(fields []model.Field) int {
	n := 0
	for _, f := range fields {
		if f.Value != "" {
			if _, ok := b.colIdx[f.Name]; !ok {
				n++
			}
		}
	}
	return n
}

// colEncoder encodes columns. It keeps scratch buffers and is not safe for
// concurrent use.
type colEncoder struct {
	p    *packer
	seen map[string]int
	dict []string
	u64  []uint64
	i64  []int64
	buf  []byte
	pat  patternScratch
	// cluster, when set, is each row's value of the column that orders a
	// pattern column's templates (see appendPattern): the level.
	cluster []string
}

func newColEncoder(level int) *colEncoder {
	return &colEncoder{p: newPacker(level), seen: make(map[string]int)}
}

// encodedColumn is one encoded column of the block being written.
type encodedColumn struct {
	role     byte
	name     string
	enc      Encoding
	start    int      // payload offset in blockEncoder.data
	end      int      //
	distinct []string // EncConst, EncDictCounts: the distinct values
	refs     []string // EncPattern: referenced columns
	values   []string
}

// appendColumn appends the best encoding of values to dst.
func (e *colEncoder) appendColumn(dst []byte, values []string, isMsg bool, cands []refColumn) ([]byte, Encoding, []string, []string) {
	st := analyze(values, e.seen, &e.dict)
	switch {
	case st.distinct == 1:
		return e.appendConst(dst, values[0]), EncConst, slices.Clone(e.dict), nil
	case st.distinct <= maxDictSize && (2*st.distinct <= st.n || !st.isInt && !st.isHex && !isMsg):
		return e.appendDict(dst, values), EncDictCounts, slices.Clone(e.dict), nil
	case st.isInt:
		return e.appendInt(dst, values, &st), EncInt, nil, nil
	case st.isHex:
		return e.appendHex(dst, values, &st), EncHex, nil, nil
	}
	if !st.highBytes && (isMsg || st.bytes >= 24*st.nonEmpty) {
		if out, refs, ok := e.appendPattern(dst, values, cands); ok {
			return out, EncPatternGroups, nil, refs
		}
	}
	return e.appendStrings(dst, values), EncStrings, nil, nil
}

// blockEncoder turns a blockBuilder into block bytes and a filter.
type blockEncoder struct {
	col        *colEncoder
	keys       *tokenKeys
	bitsPerKey float64
	cols       []encodedColumn
	cands      []refColumn // reference candidates of the message column
	data       []byte      // payloads
	out        []byte      // header + payloads
	filter     []byte
}

func newBlockEncoder(opts *WriteOptions) *blockEncoder {
	return &blockEncoder{col: newColEncoder(opts.Compression), keys: newTokenKeys(), bitsPerKey: opts.BloomBitsPerToken}
}

// encode encodes b's rows (sorted by the caller). It returns the block's
// bytes, the length of its header and its filter, valid until the next
// call, and the names of its columns.
func (be *blockEncoder) encode(b *blockBuilder, stream []model.Field) (block []byte, hdrLen int, filter []byte, fields []string) {
	refs := be.encodeColumns(b)
	// Header: time, position, message, then fields by name.
	order := make([]int, 0, len(be.cols))
	order = append(order, 0, 1)
	for i := range be.cols {
		if be.cols[i].role == roleMsg {
			order = append(order, i)
		}
	}
	for i := range be.cols {
		if be.cols[i].role == roleField {
			order = append(order, i)
			fields = append(fields, be.cols[i].name)
		}
	}
	out := binary.AppendUvarint(be.out[:0], uint64(len(order)))
	for _, i := range order {
		c := &be.cols[i]
		out = append(out, c.role)
		if c.role == roleField {
			out = appendStr(out, c.name)
		}
		out = append(out, byte(c.enc))
		out = binary.AppendUvarint(out, uint64(c.end-c.start))
		out = appendU32(out, crc(be.data[c.start:c.end]))
	}
	out = appendU32(out, crc(out))
	hdrLen = len(out)
	for _, i := range order {
		out = append(out, be.data[be.cols[i].start:be.cols[i].end]...)
	}
	be.out = out
	be.filter = be.buildFilter(b, stream, refs)
	if nonEmpty(b.msg) > 0 {
		fields = append(fields, MsgField)
	}
	return out, hdrLen, be.filter, fields
}

// clusterField names the column whose values order a pattern message's
// templates when it has few distinct values: the level (ingest maps OTLP
// and syslog severities to it). A block's error messages then keep their
// variables in groups of their own, and showing them skips the variables
// of the info messages around them.
const clusterField = "level"

// encodeColumns encodes every column's payload into be.data and lists them
// in be.cols; it returns the columns the message references.
func (be *blockEncoder) encodeColumns(b *blockBuilder) (refs []string) {
	n := b.rows()
	e := be.col
	be.cols = be.cols[:0]
	be.data = be.data[:0]
	add := func(role byte, name string, enc Encoding, start int) *encodedColumn {
		be.cols = append(be.cols, encodedColumn{role: role, name: name, enc: enc, start: start, end: len(be.data)})
		return &be.cols[len(be.cols)-1]
	}
	start := len(be.data)
	be.data = e.p.appendInts(be.data, b.times, &e.u64)
	add(roleTime, "", 0, start)
	start = len(be.data)
	be.data = e.p.appendInts(be.data, b.parts, &e.u64)
	be.data = e.p.appendInts(be.data, b.offs, &e.u64)
	add(rolePos, "", 0, start)

	slices.SortFunc(b.cols, func(x, y *colBuf) int { return strings.Compare(x.name, y.name) })
	var cands []refColumn
	for _, c := range b.cols {
		for len(c.values) < n {
			c.values = append(c.values, "")
		}
		start = len(be.data)
		var enc Encoding
		var distinct []string
		be.data, enc, distinct, _ = e.appendColumn(be.data, c.values, false, nil)
		ec := add(roleField, c.name, enc, start)
		ec.distinct, ec.values = distinct, c.values
		switch enc {
		case EncInt, EncHex, EncStrings:
			cands = append(cands, refColumn{name: c.name, values: c.values})
		}
	}
	// The message may reference the fullest high-cardinality columns.
	slices.SortStableFunc(cands, func(x, y refColumn) int { return nonEmpty(y.values) - nonEmpty(x.values) })
	be.cands = cands[:min(len(cands), maxRefs)]
	if nonEmpty(b.msg) > 0 {
		start = len(be.data)
		var enc Encoding
		var distinct []string
		e.cluster = nil
		for i := range be.cols {
			if c := &be.cols[i]; c.role == roleField && c.name == clusterField && c.distinct != nil {
				e.cluster = c.values
			}
		}
		be.data, enc, distinct, refs = e.appendColumn(be.data, b.msg, true, be.cands)
		e.cluster = nil
		ec := add(roleMsg, MsgField, enc, start)
		ec.distinct, ec.values = distinct, b.msg
	}
	return refs
}

func nonEmpty(values []string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}

// buildFilter builds the token filter of the block just encoded.
func (be *blockEncoder) buildFilter(b *blockBuilder, stream []model.Field, aliases []string) []byte {
	k := be.keys
	k.set.reset()
	for _, f := range stream {
		k.addValue(FieldSeed(f.Name), f.Value)
	}
	var aliasVals [][]string
	for _, c := range be.cols {
		switch c.role {
		case roleField:
			seed := FieldSeed(c.name)
			vals := c.values
			if c.distinct != nil {
				vals = c.distinct
			}
			for _, v := range vals {
				k.addValue(seed, v)
			}
			if slices.Contains(aliases, c.name) {
				aliasVals = append(aliasVals, c.values)
			}
		}
	}
	for _, c := range be.cols {
		if c.role != roleMsg {
			continue
		}
		seed := FieldSeed(MsgField)
		if c.distinct != nil {
			for _, v := range c.distinct {
				k.addValue(seed, v)
			}
			aliases = nil
			break
		}
		if c.enc == EncPatternGroups {
			k.addPattern(seed, &be.col.pat, be.cands, aliasVals)
			break
		}
		skip := make([]string, len(aliasVals))
		for r, v := range c.values {
			for a := range aliasVals {
				skip[a] = aliasVals[a][r]
			}
			k.skip = skip
			k.addValue(seed, v)
		}
		k.skip = nil
	}
	return buildFilter(be.filter[:0], &k.set, be.bitsPerKey, aliases)
}
