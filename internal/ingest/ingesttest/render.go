// Package ingesttest holds what the receivers' decoder tests share: a
// compact, comparable text form of a decoded record. Tests only.
package ingesttest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/logbucket/logbucket/internal/model"
)

// Render gives a record a compact comparable form: "time=<ns>" unless the
// time is now (the decoder's default), then msg=, the stream fields as
// stream:name=, then the other fields, space separated, values quoted.
func Render(r model.Record, now int64) string {
	return RenderWith(r, now, func(t int64) string { return strconv.FormatInt(t, 10) })
}

// RenderWith is Render with the time written by formatTime.
func RenderWith(r model.Record, now int64, formatTime func(int64) string) string {
	var b strings.Builder
	if r.Time != now {
		fmt.Fprintf(&b, "time=%s ", formatTime(r.Time))
	}
	if r.Msg != "" {
		fmt.Fprintf(&b, "msg=%q ", r.Msg)
	}
	for _, f := range r.Stream {
		fmt.Fprintf(&b, "stream:%s=%q ", f.Name, f.Value)
	}
	for _, f := range r.Fields {
		fmt.Fprintf(&b, "%s=%q ", f.Name, f.Value)
	}
	return strings.TrimSuffix(b.String(), " ")
}
