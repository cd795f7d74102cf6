package storage

import (
	"slices"
	"unicode/utf8"

	"github.com/logbucket/logbucket/internal/model"
)

// Sanitize rewrites a row so WritePart accepts it, and reports whether it
// changed anything. The indexer calls it on every row, so that no record,
// however odd, can stop indexing:
//   - a field named like a reserved name (_msg, _time, _stream) or like
//     one of the row's stream fields gets a trailing '_' (repeated until
//     the name is free);
//   - a repeated field name keeps its first non-empty value;
//   - stream fields beyond the limit become ordinary fields; stream field
//     names and values, and field names, longer than the limit are cut
//     (at a rune boundary);
//   - a record over MaxRecordBytes has its message cut.
func Sanitize(r *Row) bool {
	rec := &r.Record
	changed := false
	if len(rec.Stream) > maxStreamFields {
		extra := rec.Stream[maxStreamFields:]
		rec.Stream = rec.Stream[:maxStreamFields:maxStreamFields]
		rec.Fields = append(append([]model.Field(nil), extra...), rec.Fields...)
		changed = true
	}
	for i := range rec.Stream {
		s := &rec.Stream[i]
		if len(s.Name) > maxNameLen || len(s.Value) > maxNameLen {
			s.Name, s.Value = cutString(s.Name, maxNameLen), cutString(s.Value, maxNameLen)
			changed = true
		}
	}
	if hasDuplicates(rec.Stream) {
		rec.Stream, changed = dedupFields(rec.Stream), true
	}
	taken := map[string]bool{}
	for _, s := range rec.Stream {
		taken[s.Name] = true
	}
	for _, n := range reservedNames {
		taken[n] = true
	}
	originals := map[string]bool{}
	for _, f := range rec.Fields {
		originals[f.Name] = true
	}
	fields := rec.Fields[:0:0]
	seen := map[string]bool{}
	for _, f := range rec.Fields {
		if f.Value == "" {
			continue
		}
		name := cutString(f.Name, maxNameLen)
		if taken[name] {
			// Renamed names avoid every name the record already uses.
			for taken[name] || originals[name] || seen[name] {
				name += "_"
			}
		}
		if seen[name] {
			changed = true // a repeated name: keep the first value
			continue
		}
		if name != f.Name {
			changed = true
		}
		seen[name] = true
		fields = append(fields, model.Field{Name: name, Value: f.Value})
	}
	if len(fields) != len(rec.Fields) {
		changed = true
	}
	rec.Fields = fields
	if size := rowRawSize(rec); size > MaxRecordBytes {
		rec.Msg = cutString(rec.Msg, max(0, len(rec.Msg)-int(size-MaxRecordBytes)))
		changed = true
	}
	return changed
}

func hasDuplicates(fs []model.Field) bool {
	for i := range fs {
		for j := range fs[:i] {
			if fs[i].Name == fs[j].Name {
				return true
			}
		}
	}
	return false
}

// dedupFields keeps the first field of each name.
func dedupFields(fs []model.Field) []model.Field {
	out := fs[:0:0]
	for _, f := range fs {
		if !slices.ContainsFunc(out, func(g model.Field) bool { return g.Name == f.Name }) {
			out = append(out, f)
		}
	}
	return out
}

// cutString returns s cut to at most n bytes at a rune boundary.
func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Valid reports why WritePart would refuse a row, or nil.
func Valid(r *Row) error {
	_, err := checkRow(r)
	return err
}
