package query

import (
	"github.com/logbucket/logbucket/internal/jsonstr"
	"github.com/logbucket/logbucket/internal/model"
)

// Pos locates a row in storage: the commit-log partition and offset. The
// stream_context pipe hands it back to ContextSource.Neighbours; nothing
// else reads it. Sources that cannot tell leave it zero.
type Pos struct {
	Partition int32
	Offset    int64
}

// Row is one log entry flowing through a query.
//
// Source rows carry the time in Time and every other field in Fields:
// `_msg`, `_stream` (model.StreamString form), the stream fields and the
// other fields. Fields never holds `_time` in a source row, names are
// unique, and an empty value means the field is absent.
//
// The value of `_time` is the Fields entry named `_time` when there is one
// (pipes such as `stats by (_time:5m)` or `fields _time` produce it as
// text), otherwise Time formatted by FormatTime, unless NoTime is set: then
// the row has no `_time` at all (after `fields`, `delete _time`, `stats`).
type Row struct {
	Time   int64
	Fields []model.Field
	Pos    Pos
	// NoTime is set by pipes whose output has no implicit `_time`.
	NoTime bool
}

// RowFromRecord converts a stored record into a source row.
func RowFromRecord(rec *model.Record) Row {
	fields := make([]model.Field, 0, 3+len(rec.Stream)+len(rec.Fields))
	if rec.Msg != "" {
		fields = append(fields, model.Field{Name: "_msg", Value: rec.Msg})
	}
	fields = append(fields, model.Field{Name: "_stream", Value: model.StreamString(rec.Stream)},
		model.Field{Name: "_stream_id", Value: model.StreamID(rec.Stream)})
	fields = append(fields, rec.Stream...)
	fields = append(fields, rec.Fields...)
	return Row{Time: rec.Time, Fields: fields}
}

// Lookup returns the value of the named field and whether the row has it.
func (r *Row) Lookup(name string) (string, bool) {
	for i := range r.Fields {
		if r.Fields[i].Name == name {
			return r.Fields[i].Value, true
		}
	}
	if name == "_time" && !r.NoTime {
		return FormatTime(r.Time), true
	}
	return "", false
}

// Get returns the value of the named field; "" when absent.
func (r *Row) Get(name string) string {
	v, _ := r.Lookup(name)
	return v
}

// rowTime returns the row's `_time` as unix nanoseconds.
func rowTime(r *Row) (int64, bool) {
	for i := range r.Fields {
		if r.Fields[i].Name == "_time" {
			return parseRowTime(r.Fields[i].Value)
		}
	}
	return r.Time, !r.NoTime
}

// hasImplicitTime reports whether `_time` comes from Time (not from Fields).
func (r *Row) hasImplicitTime() bool {
	if r.NoTime {
		return false
	}
	for i := range r.Fields {
		if r.Fields[i].Name == "_time" {
			return false
		}
	}
	return true
}

// Size is the approximate number of bytes the row's strings and headers
// occupy; the memory budget counts retained rows with it.
func (r *Row) Size() int64 {
	n := int64(64)
	for i := range r.Fields {
		n += 32 + int64(len(r.Fields[i].Name)+len(r.Fields[i].Value))
	}
	return n
}

// AppendJSON appends the row as one JSON object line ending in '\n', the
// result format of VictoriaLogs' /select/logsql/query: every value is a
// JSON string, `_time` (when implicit) comes first, then Fields in order;
// empty values are omitted, and a row without any non-empty field appends
// nothing at all.
func (r *Row) AppendJSON(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, '{')
	sep := false
	add := func(name, value string) {
		if value == "" {
			return
		}
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = jsonstr.Append(dst, name)
		dst = append(dst, ':')
		dst = jsonstr.Append(dst, value)
	}
	if r.hasImplicitTime() {
		add("_time", FormatTime(r.Time))
	}
	for i := range r.Fields {
		add(r.Fields[i].Name, r.Fields[i].Value)
	}
	if !sep {
		return dst[:start]
	}
	return append(dst, '}', '\n')
}
