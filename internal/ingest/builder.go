package ingest

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/logbucket/logbucket/internal/model"
)

// truncReserve is the part of MaxLineBytes a cut record keeps free for the
// TruncatedField name and value and the 8 bytes Record.Size() adds.
const truncReserve = 64

// linearDedupMax is the field count up to which duplicates are found by
// comparing every pair; wider records are sorted instead.
const linearDedupMax = 16

type role uint8

const (
	roleField role = iota
	roleStream
	roleMsg
	roleTime
	roleDropped
)

// span is a [start, end) range of Builder.stage.
type span struct{ start, end int }

func (s span) len() int { return s.end - s.start }

type stagedField struct {
	name, val span
	role      role
	// stream marks a field added with AddStream: a stream field whatever
	// Options.StreamFields, TimeField and MsgFields say.
	stream bool
}

// Builder turns the flattened fields of one input record into a
// model.Record, applying the rules in the package documentation.
//
// Use: Add or AddString every field of a record in input order, then
// Finish. The zero Builder is usable with the zero Options; SetOptions
// changes them. A Builder is not safe for concurrent use.
type Builder struct {
	opts   Options
	stage  []byte        // names and values of the pending record
	fields []stagedField // the pending record's fields, in input order
	order  []int32       // scratch for dedup of wide records
	msgIdx int           // index in fields of the message, or -1
	timIdx int           // index in fields of the time field, or -1
	// inputBytes is the pending record's input line length, 0 if unknown.
	inputBytes int
	// time is the pending record's time set by SetTime; hasTime says
	// whether it was.
	time    int64
	hasTime bool
}

// NewBuilder returns a Builder using opts.
func NewBuilder(opts Options) *Builder {
	b := &Builder{}
	b.SetOptions(opts)
	return b
}

// SetOptions sets the options of the following records and discards any
// pending fields.
func (b *Builder) SetOptions(opts Options) {
	b.opts = opts
	b.Reset()
}

// Reset discards the fields added since the last Finish.
func (b *Builder) Reset() {
	b.inputBytes = 0
	b.hasTime = false
	b.stage = b.stage[:0]
	b.fields = b.fields[:0]
}

// Add appends a field to the pending record. The Builder copies name and
// value, so the caller may reuse them at once. Invalid UTF-8 is replaced
// when the record is finished. An empty value means the field is absent;
// it still overrides an earlier field of the same name.
func (b *Builder) Add(name, value []byte) {
	var f stagedField
	f.name.start = len(b.stage)
	b.stage = append(b.stage, name...)
	f.name.end = len(b.stage)
	f.val.start = f.name.end
	b.stage = append(b.stage, value...)
	f.val.end = len(b.stage)
	b.fields = append(b.fields, f)
}

// AddString is Add for strings.
func (b *Builder) AddString(name, value string) {
	var f stagedField
	f.name.start = len(b.stage)
	b.stage = append(b.stage, name...)
	f.name.end = len(b.stage)
	f.val.start = f.name.end
	b.stage = append(b.stage, value...)
	f.val.end = len(b.stage)
	b.fields = append(b.fields, f)
}

// AddStream appends a stream field to the pending record, for protocols
// whose records name their own stream (Loki labels, OTLP resource
// attributes). The field is a stream field even when its name is the time
// field, a message field or absent from Options.StreamFields. A later Add
// of the same name replaces it (and makes it an ordinary field) and vice
// versa: the last value wins, as for Add.
func (b *Builder) AddStream(name, value []byte) {
	b.Add(name, value)
	b.fields[len(b.fields)-1].stream = true
}

// AddStreamString is AddStream for strings.
func (b *Builder) AddStreamString(name, value string) {
	b.AddString(name, value)
	b.fields[len(b.fields)-1].stream = true
}

// SetTime sets the pending record's time in unix nanoseconds, for
// protocols that carry it outside the fields. It takes precedence over
// the time field, which then stays an ordinary field.
func (b *Builder) SetTime(ns int64) {
	b.time, b.hasTime = ns, true
}

// Finish builds the pending record and appends it to res.Records, or, if
// its time field is unparsable, appends a rejection for line to
// res.Rejections. Dropped fields and cuts are counted in res.Discards. It
// reports whether a record was appended, and leaves the Builder empty.
func (b *Builder) Finish(line int, res *Result) bool {
	return b.FinishInput(line, 0, res)
}

// FinishInput is Finish for a receiver that knows the size in bytes of the
// input line the record came from: a record cut to MaxLineBytes then gets
// `_truncated` = inputBytes (the original line length) instead of the
// record's size before the cut.
func (b *Builder) FinishInput(line, inputBytes int, res *Result) bool {
	b.inputBytes = inputBytes
	ok := b.finish(line, res)
	b.Reset()
	return ok
}

func (b *Builder) finish(line int, res *Result) bool {
	if !b.validUTF8() {
		b.fixUTF8()
	}
	b.dedup()
	tooLong := b.classify()
	ts, err := b.recordTime()
	if err != nil {
		res.Reject(line, ReasonInvalidTime, err.Error())
		return false
	}
	tooMany := b.limitFields()
	origSize, cut := b.truncate()
	if cut && b.inputBytes > 0 {
		origSize = b.inputBytes // the receiver knows the original line length
	}

	var rec model.Record
	rec.Time = ts
	b.emit(&rec, origSize, cut)
	res.Records = append(res.Records, rec)

	res.AddDiscards(ReasonFieldNameTooLong, tooLong)
	res.AddDiscards(ReasonTooManyFields, tooMany)
	if cut {
		res.AddDiscards(ReasonTruncated, 1)
	}
	return true
}

func (b *Builder) bytes(s span) []byte { return b.stage[s.start:s.end] }

// dedup keeps the first field of each name, with the value of the last.
func (b *Builder) dedup() {
	fs := b.fields
	n := len(fs)
	if n < 2 {
		return
	}
	if n <= linearDedupMax {
		for i := 1; i < n; i++ {
			name := b.bytes(fs[i].name)
			for j := 0; j < i; j++ {
				if fs[j].role != roleDropped && bytes.Equal(b.bytes(fs[j].name), name) {
					fs[j].val, fs[j].stream = fs[i].val, fs[i].stream
					fs[i].role = roleDropped
					break
				}
			}
		}
		return
	}
	b.order = b.order[:0]
	for i := range n {
		b.order = append(b.order, int32(i))
	}
	slices.SortFunc(b.order, func(x, y int32) int {
		if c := bytes.Compare(b.bytes(fs[x].name), b.bytes(fs[y].name)); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	for i := 0; i < n; {
		first := b.order[i]
		j := i + 1
		for j < n && bytes.Equal(b.bytes(fs[b.order[j]].name), b.bytes(fs[first].name)) {
			fs[b.order[j]].role = roleDropped
			j++
		}
		last := fs[b.order[j-1]]
		fs[first].val, fs[first].stream = last.val, last.stream
		i = j
	}
}

// classify drops empty fields and too long names and finds the time,
// message and stream fields. It returns the number of too long names.
func (b *Builder) classify() (tooLong int) {
	b.msgIdx, b.timIdx = -1, -1
	msgRank := len(b.opts.MsgFields)
	maxName := b.opts.MaxFieldNameBytes
	for i := range b.fields {
		f := &b.fields[i]
		if f.role == roleDropped {
			continue
		}
		if f.val.len() == 0 {
			f.role = roleDropped
			continue
		}
		name := b.bytes(f.name)
		if maxName > 0 && len(name) > maxName {
			f.role = roleDropped
			tooLong++
			continue
		}
		if f.stream {
			f.role = roleStream
			continue
		}
		if !b.hasTime && b.opts.TimeField != "" && string(name) == b.opts.TimeField {
			f.role = roleTime
			b.timIdx = i
			continue
		}
		for rank, m := range b.opts.MsgFields[:msgRank] {
			if string(name) == m {
				msgRank, b.msgIdx = rank, i
				break
			}
		}
		if slices.Contains(b.opts.StreamFields, string(name)) {
			f.role = roleStream
		}
	}
	if b.msgIdx >= 0 {
		b.fields[b.msgIdx].role = roleMsg
	}
	return tooLong
}

// recordTime returns the record's time from its time field.
func (b *Builder) recordTime() (int64, error) {
	if b.hasTime {
		return b.time, nil
	}
	if b.timIdx < 0 {
		return b.opts.Now, nil
	}
	v := b.bytes(b.fields[b.timIdx].val)
	if string(v) == "0" {
		return b.opts.Now, nil
	}
	// ParseTime does not retain its argument when it succeeds, so the
	// stage bytes can be lent to it without a copy.
	ns, err := model.ParseTime(unsafe.String(unsafe.SliceData(v), len(v)))
	if err != nil {
		// Parse a copy again so that the error cannot alias the stage.
		_, err = model.ParseTime(string(v))
		return 0, fmt.Errorf("field %q: %w", b.opts.TimeField, err)
	}
	return ns, nil
}

// limitFields drops the ordinary fields past MaxFields and returns how many.
func (b *Builder) limitFields() (dropped int) {
	limit := b.opts.MaxFields
	if limit <= 0 {
		return 0
	}
	kept := 0
	for i := range b.fields {
		f := &b.fields[i]
		if f.role != roleField {
			continue
		}
		if kept < limit {
			kept++
			continue
		}
		f.role = roleDropped
		dropped++
	}
	return dropped
}

// kept reports whether a field of role r is part of the record's strings.
func kept(r role) bool { return r == roleField || r == roleStream || r == roleMsg }

// size returns the record's size in the sense of Record.Size() without its
// constant part: the message plus every kept name and value.
func (b *Builder) size() int {
	n := 0
	for _, f := range b.fields {
		switch f.role {
		case roleMsg:
			n += f.val.len()
		case roleField, roleStream:
			n += f.name.len() + f.val.len()
		}
	}
	return n
}

// truncate cuts the record to MaxLineBytes if it is bigger. It returns the
// size before the cut and whether it cut.
func (b *Builder) truncate() (origSize int, cut bool) {
	origSize = b.size()
	limit := b.opts.MaxLineBytes
	if limit <= 0 || origSize+8 <= limit {
		return origSize, false
	}
	budget := max(limit-truncReserve, 0)
	names := 0
	for i := range b.fields {
		f := &b.fields[i]
		if (f.role == roleField || f.role == roleStream) && string(b.bytes(f.name)) == TruncatedField {
			f.role = roleDropped // the marker added below replaces it
		}
		if f.role == roleField || f.role == roleStream {
			names += f.name.len()
		}
	}
	// Names cannot be cut: drop trailing fields, then stream fields.
	for _, r := range [...]role{roleField, roleStream} {
		for i := len(b.fields) - 1; i >= 0 && names > budget; i-- {
			if f := &b.fields[i]; f.role == r {
				f.role = roleDropped
				names -= f.name.len()
			}
		}
	}
	c := b.valueCap(budget - names)
	for i := range b.fields {
		f := &b.fields[i]
		if !kept(f.role) || f.val.len() <= c {
			continue
		}
		f.val.end = f.val.start + runeCut(b.bytes(f.val), c)
		if f.val.len() == 0 {
			f.role = roleDropped
		}
	}
	return origSize, true
}

// valueCap returns the largest c such that the kept values, each cut to c
// bytes, total at most budget bytes.
func (b *Builder) valueCap(budget int) int {
	longest := 0
	for _, f := range b.fields {
		if kept(f.role) {
			longest = max(longest, f.val.len())
		}
	}
	lo, hi := 0, longest
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		total := 0
		for _, f := range b.fields {
			if kept(f.role) {
				total += min(f.val.len(), mid)
			}
		}
		if total <= budget {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// runeCut returns the length of the longest prefix of the valid UTF-8 v
// that is at most n bytes and ends at a rune boundary.
func runeCut(v []byte, n int) int {
	if n >= len(v) {
		return len(v)
	}
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return n
}

// emit copies the kept strings into one string and slices the record's
// message, stream and fields out of it.
func (b *Builder) emit(rec *model.Record, origSize int, cut bool) {
	var digitsBuf [20]byte
	var digits []byte
	total, nStream, nFields := 0, 0, 0
	if cut {
		digits = strconv.AppendInt(digitsBuf[:0], int64(origSize), 10)
		total += len(digits)
		nFields++
	}
	for _, f := range b.fields {
		switch f.role {
		case roleMsg:
			total += f.val.len()
		case roleStream:
			total += f.name.len() + f.val.len()
			nStream++
		case roleField:
			total += f.name.len() + f.val.len()
			nFields++
		}
	}
	var sb strings.Builder
	sb.Grow(total)
	if b.msgIdx >= 0 && b.fields[b.msgIdx].role == roleMsg {
		sb.Write(b.bytes(b.fields[b.msgIdx].val))
	}
	msgLen := sb.Len()
	for _, f := range b.fields {
		if f.role == roleStream || f.role == roleField {
			sb.Write(b.bytes(f.name))
			sb.Write(b.bytes(f.val))
		}
	}
	sb.Write(digits)
	s := sb.String()

	rec.Msg = s[:msgLen]
	if nStream+nFields == 0 {
		return
	}
	all := make([]model.Field, nStream+nFields)
	pos, si, fi := msgLen, 0, nStream
	for _, f := range b.fields {
		if f.role != roleStream && f.role != roleField {
			continue
		}
		name := s[pos : pos+f.name.len()]
		pos += len(name)
		field := model.Field{Name: name, Value: s[pos : pos+f.val.len()]}
		pos += len(field.Value)
		if f.role == roleStream {
			all[si] = field
			si++
		} else {
			all[fi] = field
			fi++
		}
	}
	if cut {
		all[fi] = model.Field{Name: TruncatedField, Value: s[pos:]}
	}
	if nStream > 0 {
		rec.Stream = all[:nStream:nStream]
		// Same order as rec.SortStream() (names are unique), without the
		// allocations of sort.Slice.
		slices.SortFunc(rec.Stream, func(x, y model.Field) int { return strings.Compare(x.Name, y.Name) })
	}
	if nFields > 0 {
		rec.Fields = all[nStream:]
	}
}

// validUTF8 reports whether every staged name and value is valid UTF-8:
// the whole stage is, and each of them starts at a rune boundary.
func (b *Builder) validUTF8() bool {
	if !utf8.Valid(b.stage) {
		return false
	}
	for _, f := range b.fields {
		if !runeStartAt(b.stage, f.name.start) || !runeStartAt(b.stage, f.val.start) {
			return false
		}
	}
	return true
}

func runeStartAt(s []byte, i int) bool { return i >= len(s) || utf8.RuneStart(s[i]) }

// fixUTF8 restages every name and value with each run of invalid UTF-8
// replaced by U+FFFD, as strings.ToValidUTF8 does.
func (b *Builder) fixUTF8() {
	old := b.stage
	b.stage = make([]byte, 0, len(old)+len(old)/2)
	for i := range b.fields {
		f := &b.fields[i]
		name, val := old[f.name.start:f.name.end], old[f.val.start:f.val.end]
		f.name.start = len(b.stage)
		b.stage = appendValidUTF8(b.stage, name)
		f.name.end = len(b.stage)
		f.val.start = f.name.end
		b.stage = appendValidUTF8(b.stage, val)
		f.val.end = len(b.stage)
	}
}

// appendValidUTF8 appends src to dst with each run of invalid UTF-8
// replaced by U+FFFD.
func appendValidUTF8(dst, src []byte) []byte {
	if utf8.Valid(src) {
		return append(dst, src...)
	}
	return append(dst, bytes.ToValidUTF8(src, []byte(string(utf8.RuneError)))...)
}
