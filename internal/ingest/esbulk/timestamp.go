package esbulk

import (
	"time"
	"unsafe"

	"github.com/logbucket/logbucket/internal/model"
)

// esLayouts are the forms of Elasticsearch's default date format
// (strict_date_optional_time) that model.ParseTime refuses, tried in UTC
// as Elasticsearch does: an offset without a colon, no offset, no seconds,
// a date alone. time.Parse accepts a fraction (with '.' or ',') after the
// seconds of a layout that has none.
var esLayouts = [...]string{
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTimestamp parses the text of a time field into unix nanoseconds:
// model.ParseTime first (RFC 3339, unix times of any unit), then, for a
// JSON string, the Elasticsearch forms in esLayouts. v is not retained.
func parseTimestamp(v []byte, number bool) (int64, error) {
	// Neither ParseTime nor time.Parse retains its argument when it
	// succeeds, so v can be lent without a copy; errors are built from a
	// copy below.
	s := unsafe.String(unsafe.SliceData(v), len(v))
	ns, err := model.ParseTime(s)
	if err == nil {
		return ns, nil
	}
	if !number {
		for _, layout := range esLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UnixNano(), nil
			}
		}
	}
	_, err = model.ParseTime(string(v))
	return 0, err
}
