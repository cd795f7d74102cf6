package esbulk

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestTimestamp(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ns := func(tm time.Time) string { return fmt.Sprintf("time=%d", tm.UnixNano()) }
	ms := base.Add(123 * time.Millisecond)
	tests := []struct {
		name, doc string
		want      string // rendered record, or "error" for a document_parsing_exception
	}{
		{"RFC 3339", `{"@timestamp":"2026-01-02T03:04:05Z"}`, ns(base)},
		{"RFC 3339 nanoseconds", `{"@timestamp":"2026-01-02T03:04:05.123456789Z"}`, ns(base.Add(123456789))},
		{"RFC 3339 millis and offset", `{"@timestamp":"2026-01-02T12:04:05.123+09:00"}`, ns(ms)},
		{"syslog-ng ISODATE", `{"@timestamp":"2026-01-02T03:04:05+00:00"}`, ns(base)},
		{"space for T", `{"@timestamp":"2026-01-02 03:04:05Z"}`, ns(base)},
		{"ES: no offset is UTC", `{"@timestamp":"2026-01-02T03:04:05.123"}`, ns(ms)},
		{"ES: comma fraction", `{"@timestamp":"2026-01-02T03:04:05,123"}`, ns(ms)},
		{"ES: offset without colon", `{"@timestamp":"2026-01-02T12:04:05+0900"}`, ns(base)},
		{"ES: no seconds", `{"@timestamp":"2026-01-02T03:04"}`, ns(base.Add(-5 * time.Second))},
		{"ES: date alone", `{"@timestamp":"2026-01-02"}`, ns(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))},
		{"epoch millis number", `{"@timestamp":1767323045123}`, ns(ms)},
		{"epoch millis string", `{"@timestamp":"1767323045123"}`, ns(ms)},
		// Decimals go through float64 in model.ParseTime: exact to the
		// microsecond only.
		{"gap: epoch millis decimal", `{"@timestamp":1767323045123.5}`, "≈" + ns(ms.Add(500*time.Microsecond))},
		{"gap: epoch millis exponent", `{"@timestamp":1.767323045123e12}`, "≈" + ns(ms)},
		{"gap: epoch seconds read as seconds", `{"@timestamp":1767323045}`, ns(base)},
		{"gap: a year alone is unix seconds", `{"@timestamp":"2026"}`, "time=2026000000000"},
		{"epoch zero as RFC 3339 (ES JS capture)", `{"@timestamp":"1970-01-01T00:00:00.000Z"}`, "time=0"},
		{"zero means now", `{"@timestamp":0}`, ""},
		{"zero string means now", `{"@timestamp":"0"}`, ""},
		{"empty means absent", `{"@timestamp":""}`, ""},
		{"null means absent", `{"@timestamp":null}`, ""},
		{"last duplicate wins", `{"@timestamp":"2026-01-02T03:04:05Z","@timestamp":null}`, ""},
		{"fallback to _time", `{"_time":"2026-01-02T03:04:05Z","k":"v"}`, ns(base) + ` k="v"`},
		{"@timestamp wins over _time", `{"_time":"2020-01-01T00:00:00Z","@timestamp":"2026-01-02T03:04:05Z"}`,
			ns(base) + ` _time="2020-01-01T00:00:00Z"`},
		{"object is not the time field", `{"@timestamp":{"x":"1"}}`, `@timestamp.x="1"`},
		{"unparsable", `{"@timestamp":"yesterday"}`, "error"},
		{"boolean", `{"@timestamp":true}`, "error"},
		{"array", `{"@timestamp":["2026-01-02T03:04:05Z"]}`, "error"},
		{"gap: year-month", `{"@timestamp":"2026-01"}`, "error"},
		{"gap: hour alone", `{"@timestamp":"2026-01-02T03"}`, "error"},
		{"bad fallback _time", `{"_time":"nope"}`, "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := decodeTest(t, "{\"create\":{\"_index\":\"logs\",\"_id\":\"x\"}}\n"+tc.doc+"\n", testConfig())
			it := b.Items[0]
			if tc.want == "error" {
				if it.Err == nil || it.Err.Type != TypeDocumentParsing || !strings.Contains(it.Err.Reason, "parse") {
					t.Errorf("item %+v, error %+v; want a document_parsing_exception", it, it.Err)
				}
				return
			}
			if it.Err != nil {
				t.Fatalf("error %+v", it.Err)
			}
			rec := b.Groups[0].Result.Records[0]
			if want, ok := strings.CutPrefix(tc.want, "≈time="); ok {
				var wantNS int64
				fmt.Sscan(want, &wantNS)
				if d := rec.Time - wantNS; d < -1000 || d > 1000 {
					t.Errorf("time %d, want %d within 1µs", rec.Time, wantNS)
				}
				return
			}
			if got := renderRecord(rec); got != tc.want {
				t.Errorf("record %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTimeFieldConfigurable(t *testing.T) {
	cfg := testConfig()
	cfg.TimeField = "event.created"
	body := "{\"create\":{\"_index\":\"logs\"}}\n" +
		`{"@timestamp":"2020-01-01T00:00:00Z","event":{"created":"2026-01-02T03:04:05Z"}}` + "\n"
	b := decodeTest(t, body, cfg)
	want := fmt.Sprintf("time=%d @timestamp=%q", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano(), "2020-01-01T00:00:00Z")
	if got := renderRecord(b.Groups[0].Result.Records[0]); got != want {
		t.Errorf("record %s, want %s", got, want)
	}
}

func TestTimestampErrorBounded(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	for _, doc := range []string{`{"@timestamp":"` + long + `"}`, `{"@timestamp":["` + long + `"]}`} {
		b := decodeTest(t, "{\"create\":{\"_index\":\"logs\"}}\n"+doc+"\n", testConfig())
		if n := len(b.Items[0].Err.Reason); n > 400 {
			t.Errorf("reason of %d bytes", n)
		}
		if n := len(b.Groups[0].Result.Rejections[0].Detail); n > 400 {
			t.Errorf("detail of %d bytes", n)
		}
	}
}
