package syslog

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/ingest/ingesttest"
	"github.com/logbucket/logbucket/internal/model"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testNow is the receipt time of the parse tests: 2026-11-22T03:00:00Z.
var testNow = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

// renderMessage gives a parsed message a compact comparable form.
func renderMessage(m *Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", m.Format)
	if m.Priority >= 0 {
		fmt.Fprintf(&b, " pri=%d", m.Priority)
	}
	if m.HasTime {
		fmt.Fprintf(&b, " time=%s", time.Unix(0, m.Time).UTC().Format(time.RFC3339Nano))
	}
	for _, f := range []struct {
		name string
		v    []byte
	}{{"host", m.Hostname}, {"app", m.AppName}, {"pid", m.ProcID}, {"msgid", m.MsgID}} {
		if f.v != nil {
			fmt.Fprintf(&b, " %s=%s", f.name, f.v)
		}
	}
	for _, p := range m.SD {
		fmt.Fprintf(&b, " [%s %s=%q]", p.ID, p.Name, p.Value)
	}
	if m.Msg != nil {
		fmt.Fprintf(&b, " msg=%q", m.Msg)
	}
	return b.String()
}

// renderRecord gives a record a compact comparable form; the time is
// shown unless it is recv.
func renderRecord(r model.Record, recv time.Time) string {
	return ingesttest.RenderWith(r, recv.UnixNano(), func(t int64) string {
		return time.Unix(0, t).UTC().Format(time.RFC3339Nano)
	})
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
