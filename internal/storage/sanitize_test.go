package storage

import (
	"errors"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/model"
)

// TestSanitizeMakesAnyRowWritable: rows WritePart would refuse become
// writable after Sanitize, keeping what can be kept.
func TestSanitizeMakesAnyRowWritable(t *testing.T) {
	long := strings.Repeat("가", maxNameLen)
	many := make([]model.Field, maxStreamFields+3)
	for i := range many {
		many[i] = model.Field{Name: "s" + strings.Repeat("x", i), Value: "v"}
	}
	rows := []Row{
		{Record: model.Record{Msg: "m", Fields: []model.Field{{Name: "_msg", Value: "inner"}, {Name: "_time", Value: "t"}, {Name: "_stream", Value: "s"}}}},
		{Offset: 1, Record: model.Record{Stream: []model.Field{{Name: "host", Value: "h"}}, Fields: []model.Field{{Name: "host", Value: "other"}, {Name: "host_", Value: "x"}}}},
		{Offset: 2, Record: model.Record{Fields: []model.Field{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}}},
		{Offset: 3, Record: model.Record{Stream: []model.Field{{Name: "svc", Value: long}}}},
		{Offset: 4, Record: model.Record{Stream: many}},
	}
	for i := range rows {
		if _, err := checkRow(&rows[i]); !errors.Is(err, ErrInvalidRow) {
			t.Fatalf("row %d is accepted before Sanitize; the test needs refused rows", i)
		}
		if !Sanitize(&rows[i]) {
			t.Errorf("Sanitize left row %d unchanged", i)
		}
		if _, err := checkRow(&rows[i]); err != nil {
			t.Errorf("row %d still refused after Sanitize: %v (%+v)", i, err, rows[i].Record)
		}
	}
	if got := rows[0].Record.Fields; len(got) != 3 || got[0].Name != "_msg_" || got[0].Value != "inner" {
		t.Errorf("reserved names: %+v", got)
	}
	if got := rows[1].Record.Fields; len(got) != 2 || got[0].Name != "host__" && got[1].Name != "host__" {
		t.Errorf("stream-field clash: %+v", got)
	}
	if got := rows[2].Record.Fields; len(got) != 1 || got[0].Value != "1" {
		t.Errorf("duplicates: %+v", got)
	}
	ok := Row{Record: model.Record{Msg: "fine", Fields: []model.Field{{Name: "a", Value: "1"}}}}
	if Sanitize(&ok) {
		t.Error("Sanitize changed a valid row")
	}
}
