package model

import (
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
)

// Field is one name/value pair of a record.
type Field struct {
	Name  string
	Value string
}

// Record is one log line.
type Record struct {
	// Time is the event time in unix nanoseconds. Any value is accepted:
	// last year's, next week's. The commit log orders by offset, not time.
	Time int64
	// Msg is the log message (`_msg`).
	Msg string
	// Stream holds the stream fields, sorted by name. Records with equal
	// Stream belong to the same stream and keep their order in one partition.
	Stream []Field
	// Fields holds every other field in arrival order. Names are unique.
	Fields []Field
}

// SortStream sorts the stream fields by name so that equal streams compare
// equal regardless of the order the producer sent them in.
func (r *Record) SortStream() {
	if len(r.Stream) < 2 {
		return
	}
	sort.Slice(r.Stream, func(i, j int) bool { return r.Stream[i].Name < r.Stream[j].Name })
}

// StreamString returns the canonical `_stream` form of the record's stream
// fields, e.g. `{host="h1",service="api"}`; `{}` when there are none. Values
// are quoted with Go/LogsQL string escaping. Stream must be sorted.
func (r *Record) StreamString() string {
	return StreamString(r.Stream)
}

// StreamString returns the canonical `_stream` form of sorted stream fields.
func StreamString(stream []Field) string {
	if len(stream) == 0 {
		return "{}"
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range stream {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(f.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(f.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// StreamHash returns a stable 64-bit hash of sorted stream fields. It is part
// of the on-disk contract (it decides a stream's partition), so it must never
// change: FNV-1a over name, 0x00, value, 0x00 for each field.
func StreamHash(stream []Field) uint64 {
	h := fnv.New64a()
	var zero = []byte{0}
	for _, f := range stream {
		h.Write([]byte(f.Name))
		h.Write(zero)
		h.Write([]byte(f.Value))
		h.Write(zero)
	}
	return h.Sum64()
}

// StreamID returns the `_stream_id` of sorted stream fields: StreamIDOf
// their StreamHash.
func StreamID(stream []Field) string { return StreamIDOf(StreamHash(stream)) }

// StreamIDOf returns the `_stream_id` of a stream with the given
// StreamHash: 48 hexadecimal digits like VictoriaLogs' (which puts the
// tenant in the first 16 and a 128-bit stream hash in the rest), here 32
// zeros then the 64-bit hash, so clients that pass it back in a
// `_stream_id:` filter (Grafana's log context) find the stream.
func StreamIDOf(hash uint64) string {
	const digits = "0123456789abcdef"
	var b [48]byte
	for i := range b[:32] {
		b[i] = '0'
	}
	for i := 47; i >= 32; i-- {
		b[i] = digits[hash&15]
		hash >>= 4
	}
	return string(b[:])
}

// Size is the approximate number of bytes the record's strings occupy; used
// for memory budgets and limits.
func (r *Record) Size() int {
	n := 8 + len(r.Msg)
	for _, f := range r.Stream {
		n += len(f.Name) + len(f.Value)
	}
	for _, f := range r.Fields {
		n += len(f.Name) + len(f.Value)
	}
	return n
}
