package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// TestVictoriaLogsJSONLine ingests through the VictoriaLogs-compatible
// /insert/jsonline endpoint and reads the records back through the pull API.
func TestVictoriaLogsJSONLine(t *testing.T) {
	s := startServer(t, t.TempDir())

	ts := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
	body := []byte(`{"ts":"2024-01-02T03:04:05.123456789Z","text":"rfc3339 utc","service":"api","level":"info"}
{"ts":"2024-01-02T05:04:05.123456789+02:00","text":"rfc3339 offset","service":"api"}
{"ts":1704164645,"text":"unix s","service":"api"}
{"ts":1704164645123,"text":"unix ms","service":"api"}
{"ts":1704164645123456,"text":"unix us","service":"api"}
{"ts":1704164645123456789,"text":"unix ns","service":"api"}
{"ts":"1704164645123","text":"unix ms as string","service":"web"}
`)
	want := []struct {
		msg, stream string
		time        time.Time
	}{
		{"rfc3339 utc", `{service="api"}`, ts},
		{"rfc3339 offset", `{service="api"}`, ts},
		{"unix s", `{service="api"}`, ts.Truncate(time.Second)},
		{"unix ms", `{service="api"}`, ts.Truncate(time.Millisecond)},
		{"unix us", `{service="api"}`, ts.Truncate(time.Microsecond)},
		{"unix ns", `{service="api"}`, ts},
		{"unix ms as string", `{service="web"}`, ts.Truncate(time.Millisecond)},
	}
	q := url.Values{"_stream_fields": {"service"}, "_time_field": {"ts"}, "_msg_field": {"text"}}
	resp := s.mustDo(t, http.MethodPost, "/insert/jsonline", q, http.Header{"X-Logbucket-Bucket": {"vl"}, "Content-Type": {"application/stream+json"}}, bytes.NewReader(body))
	if resp.status < 200 || resp.status > 299 {
		t.Fatalf("POST /insert/jsonline?%s with X-Logbucket-Bucket: vl: want 2xx, got %s", q.Encode(), resp)
	}

	_, parts := s.readAll(t, "vl")
	byMsg := map[string]record{}
	for _, r := range allRecords(parts) {
		byMsg[r.get("_msg")] = r
	}
	if len(byMsg) != len(want) {
		t.Errorf("bucket vl holds %d distinct records, want %d: %v", len(byMsg), len(want), keys(byMsg))
	}
	for _, w := range want {
		r, ok := byMsg[w.msg]
		if !ok {
			t.Errorf("no record with _msg %q (the _msg_field=text value); have %v", w.msg, keys(byMsg))
			continue
		}
		got, err := time.Parse(time.RFC3339Nano, r.get("_time"))
		if err != nil {
			t.Errorf("record %q: _time %q is not RFC 3339: %v", w.msg, r.get("_time"), err)
		} else if !got.Equal(w.time) {
			t.Errorf("record %q: _time = %s, want %s (from the _time_field ts)", w.msg, got.UTC().Format(time.RFC3339Nano), w.time.Format(time.RFC3339Nano))
		}
		if got := r.get("_stream"); got != w.stream {
			t.Errorf("record %q: _stream = %q, want %q", w.msg, got, w.stream)
		}
		if got := r.get("service"); got != w.stream[10:len(w.stream)-2] {
			t.Errorf("record %q: service = %q", w.msg, got)
		}
	}
	if r, ok := byMsg["rfc3339 utc"]; ok && r.get("level") != "info" {
		t.Errorf("record %q: level = %q, want info", "rfc3339 utc", r.get("level"))
	}

	// The bucket may also come from ?bucket=, and defaults to "default".
	line := []byte(`{"_msg":"via query","service":"q"}` + "\n")
	resp = s.mustDo(t, http.MethodPost, "/insert/jsonline", url.Values{"bucket": {"vlq"}, "_stream_fields": {"service"}}, nil, bytes.NewReader(line))
	if resp.status < 200 || resp.status > 299 {
		t.Fatalf("POST /insert/jsonline?bucket=vlq: want 2xx, got %s", resp)
	}
	_, parts = s.readAll(t, "vlq")
	if recs := allRecords(parts); len(recs) != 1 || recs[0].get("_msg") != "via query" || recs[0].get("_stream") != `{service="q"}` {
		t.Errorf("bucket vlq: want the one record sent with ?bucket=vlq, got %v", recs)
	}
	line = []byte(`{"message":"to default"}` + "\n")
	resp = s.mustDo(t, http.MethodPost, "/insert/jsonline", nil, nil, bytes.NewReader(line))
	if resp.status < 200 || resp.status > 299 {
		t.Fatalf("POST /insert/jsonline without a bucket: want 2xx, got %s", resp)
	}
	_, parts = s.readAll(t, "default")
	if recs := allRecords(parts); len(recs) != 1 || recs[0].get("_msg") != "to default" || recs[0].get("_stream") != "{}" {
		t.Errorf("bucket default: want the one record sent without a bucket (_msg from message, _stream {}), got %v", recs)
	}
}

// TestRecordFields checks the documented record mapping of the native ingest
// API: _time formats and default, _msg fallbacks, flattening, arrays.
func TestRecordFields(t *testing.T) {
	s := startServer(t, t.TempDir())
	before := time.Now()
	body := []byte(`{"id":"t1","_time":"2024-01-02T03:04:05.5Z","_msg":"m"}
{"id":"t2","_time":1704164645123456789}
{"id":"t3"}
{"id":"m1","message":"from message","msg":"x","log":"y"}
{"id":"m2","msg":"from msg","log":"y"}
{"id":"m3","log":"from log"}
{"id":"f1","a":{"b":1,"c":{"d":"x"}},"arr":[1,"two",{"k":3}],"t":true,"n":1.5}
`)
	s.mustIngest(t, ingestReq{bucket: "fields", body: body})
	after := time.Now()

	_, parts := s.readAll(t, "fields")
	byID := map[string]record{}
	for _, r := range allRecords(parts) {
		byID[r.get("id")] = r
	}
	get := func(id string) record {
		t.Helper()
		r, ok := byID[id]
		if !ok {
			t.Fatalf("record id=%s not found; have %v", id, keys(byID))
		}
		return r
	}
	checkTime := func(id string, want time.Time) {
		t.Helper()
		r := get(id)
		got, err := time.Parse(time.RFC3339Nano, r.get("_time"))
		if err != nil || !got.Equal(want) {
			t.Errorf("record %s: _time = %q, want %s", id, r.get("_time"), want.Format(time.RFC3339Nano))
		}
	}
	checkTime("t1", time.Date(2024, 1, 2, 3, 4, 5, 500000000, time.UTC))
	checkTime("t2", time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC))
	if got, err := time.Parse(time.RFC3339Nano, get("t3").get("_time")); err != nil || got.Before(before.Add(-time.Second)) || got.After(after.Add(time.Second)) {
		t.Errorf("record t3 without _time: _time = %q, want the receipt time (between %s and %s)", get("t3").get("_time"), before.UTC().Format(time.RFC3339Nano), after.UTC().Format(time.RFC3339Nano))
	}
	for id, want := range map[string]string{"t1": "m", "m1": "from message", "m2": "from msg", "m3": "from log"} {
		if got := get(id).get("_msg"); got != want {
			t.Errorf("record %s: _msg = %q, want %q", id, got, want)
		}
	}
	f := get("f1")
	for field, want := range map[string]string{"a.b": "1", "a.c.d": "x", "t": "true", "n": "1.5"} {
		if got, ok := f.str(field); !ok || got != want {
			t.Errorf("record f1: field %q = %q (present %v), want %q (nested objects flattened with dots); record %s", field, got, ok, want, f)
		}
	}
	if _, ok := f.str("a"); ok {
		t.Errorf("record f1: the object field a is still present next to its flattened fields: %s", f)
	}
	arr, ok := f.str("arr")
	var gotArr, wantArr any
	_ = json.Unmarshal([]byte(`[1,"two",{"k":3}]`), &wantArr)
	if !ok || json.Unmarshal([]byte(arr), &gotArr) != nil || !reflect.DeepEqual(gotArr, wantArr) {
		t.Errorf("record f1: arr = %q (present %v), want the array as JSON text [1,\"two\",{\"k\":3}]", arr, ok)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
