package storage

import (
	"cmp"
	"slices"
	"strings"

	"github.com/logbucket/logbucket/internal/model"
)

// streamHash is model.StreamHash without allocating: FNV-1a over name,
// 0x00, value, 0x00 of each field.
func streamHash(fields []model.Field) uint64 {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	for _, f := range fields {
		for i := 0; i < len(f.Name); i++ {
			h = (h ^ uint64(f.Name[i])) * prime64
		}
		h *= prime64 // ^ 0x00
		for i := 0; i < len(f.Value); i++ {
			h = (h ^ uint64(f.Value[i])) * prime64
		}
		h *= prime64
	}
	return h
}

func compareFields(a, b []model.Field) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := strings.Compare(a[i].Name, b[i].Name); c != 0 {
			return c
		}
		if c := strings.Compare(a[i].Value, b[i].Value); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}

func fieldsEqual(a, b []model.Field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// compareStreams is the part's stream order: by ID, then by fields.
func compareStreams(a, b *Stream) int {
	if c := cmp.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return compareFields(a.Fields, b.Fields)
}

// sortedStream returns fields sorted by name (fields itself when already
// sorted).
func sortedStream(fields []model.Field) []model.Field {
	if slices.IsSortedFunc(fields, func(a, b model.Field) int { return strings.Compare(a.Name, b.Name) }) {
		return fields
	}
	s := slices.Clone(fields)
	slices.SortStableFunc(s, func(a, b model.Field) int { return strings.Compare(a.Name, b.Name) })
	return s
}

// streamSet assigns an index to each distinct stream.
type streamSet struct {
	byID map[uint64][]int32
	list []Stream
}

func newStreamSet() *streamSet { return &streamSet{byID: make(map[uint64][]int32)} }

// index returns the index of the stream with these (sorted) fields,
// adding it when new.
func (s *streamSet) index(fields []model.Field) int32 {
	id := streamHash(fields)
	for _, i := range s.byID[id] {
		if fieldsEqual(s.list[i].Fields, fields) {
			return i
		}
	}
	i := int32(len(s.list))
	s.list = append(s.list, Stream{ID: id, Fields: fields})
	s.byID[id] = append(s.byID[id], i)
	return i
}

// sorted returns the streams in part order and, for each index, its rank.
func (s *streamSet) sorted() ([]Stream, []int32) {
	order := make([]int32, len(s.list))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return compareStreams(&s.list[a], &s.list[b]) })
	rank := make([]int32, len(s.list))
	out := make([]Stream, len(s.list))
	for r, i := range order {
		rank[i] = int32(r)
		out[r] = s.list[i]
	}
	return out, rank
}
