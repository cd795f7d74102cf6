package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/logbucket/logbucket/internal/config"
)

// jsExporterWant is what the OpenTelemetry JS exporter's requests must be
// stored as (internal/ingest/otlp/testdata/README.md).
func jsExporterWant() []map[string]string {
	common := func(m map[string]string) map[string]string {
		m["_stream"] = `{deployment.environment="dev",service.name="checkout-svc"}`
		m["deployment.environment"], m["service.name"] = "dev", "checkout-svc"
		m["scope.name"], m["scope.version"] = "my-lib", "1.2.3"
		return m
	}
	return []map[string]string{
		common(map[string]string{"_time": nsTime(1795303611541000000), "_msg": "payment failed for order 17",
			"order.id": "17", "http.status_code": "402", "retry": "false", "tags": `["a","b"]`, "level": "ERROR", "severity_number": "17"}),
		common(map[string]string{"_time": nsTime(1795303611542000000), "_msg": "",
			"structured": "true", "n": "1.5", "level": "INFO", "severity_number": "9"}),
		common(map[string]string{"_time": nsTime(1795303611543000000), "_msg": "결제 재시도 (2s)",
			"http.method": "POST", "http.route": "/pay", "ratio": "0.25", "raw": "AAH+/w==", "level": "warn", "severity_number": "13",
			"trace_id": "5b8efff798038103d269b633813fc60c", "span_id": "eee19b7ec3c1b174", "flags": "1", "event_name": "checkout.retry"}),
	}
}

// TestOTLPFixtures sends the JSON and protobuf requests of the
// OpenTelemetry JS exporter to each OTLP path and reads the records back.
func TestOTLPFixtures(t *testing.T) {
	s := newTestServer(t, nil)
	cases := []struct {
		name, path, file string
		header           map[string]string
		gzip             bool
		bucket, answer   string // answer: the body of the 200
	}{
		{"JSON", "/v1/logs?bucket=o1", "js-exporter-0.223.1.json", map[string]string{"Content-Type": "application/json"}, false, "o1", "{}"},
		{"protobuf, Loki's path and tenant", "/otlp/v1/logs", "js-exporter-0.223.1.pb",
			map[string]string{"Content-Type": "application/x-protobuf", "X-Scope-OrgID": "tenant-a"}, false, "tenant-a", ""},
		{"gzip JSON, VictoriaLogs' path", "/insert/opentelemetry/v1/logs", "js-exporter-0.223.1.json",
			map[string]string{"Content-Type": "application/json; charset=utf-8", "Content-Encoding": "gzip", "X-Logbucket-Bucket": "o3"}, true, "o3", "{}"},
		{"gzip protobuf, default bucket", "/v1/logs", "js-exporter-0.223.1.pb",
			map[string]string{"Content-Type": "application/protobuf", "Content-Encoding": "gzip"}, true, "default", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := fixture(t, "otlp", c.file)
			if c.gzip {
				body = gz(body)
			}
			r := s.do(t, http.MethodPost, c.path, body, c.header)
			wantType := "application/json"
			if strings.HasSuffix(c.file, ".pb") {
				wantType = "application/x-protobuf"
			}
			if r.status != http.StatusOK || string(r.body) != c.answer || r.header.Get("Content-Type") != wantType {
				t.Fatalf("status %d type %q body %q, want 200 %s %q", r.status, r.header.Get("Content-Type"), r.body, wantType, c.answer)
			}
			checkRecords(t, c.bucket, s.readBucket(t, c.bucket), jsExporterWant())
		})
	}
	// ?_stream_fields= names the resource attributes of the stream.
	r := s.do(t, http.MethodPost, "/v1/logs?bucket=o5&_stream_fields=service.name", fixture(t, "otlp", "js-exporter-0.223.1.json"),
		map[string]string{"Content-Type": "application/json"})
	if got := s.readBucket(t, "o5"); r.status != 200 || len(got) != 3 || got[0]["_stream"] != `{service.name="checkout-svc"}` {
		t.Fatalf("with _stream_fields: %d %s, records %v", r.status, r.body, got)
	}
}

// partialRequest is an export of two records, the second one dated past
// 2262, which no int64 of nanoseconds holds.
func partialRequest() plogotlp.ExportRequest {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "svc")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	ok := lrs.AppendEmpty()
	ok.SetTimestamp(1795303611541000000)
	ok.Body().SetStr("kept")
	late := lrs.AppendEmpty()
	late.SetTimestamp(1<<64 - 1)
	late.Body().SetStr("too late")
	return plogotlp.NewExportRequestFromLogs(ld)
}

// TestOTLPPartialSuccess: a rejected record is reported in
// partial_success, in the request's encoding, and the others stored.
func TestOTLPPartialSuccess(t *testing.T) {
	s := newTestServer(t, nil)
	req := partialRequest()
	js, err := req.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	pb, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ct     string
		body   []byte
		bucket string
	}{{"application/json", js, "pj"}, {"application/x-protobuf", pb, "pp"}} {
		t.Run(c.ct, func(t *testing.T) {
			r := s.do(t, http.MethodPost, "/v1/logs?bucket="+c.bucket, c.body, map[string]string{"Content-Type": c.ct})
			if r.status != http.StatusOK || r.header.Get("Content-Type") != c.ct {
				t.Fatalf("status %d type %q: %s", r.status, r.header.Get("Content-Type"), r.body)
			}
			ans := plogotlp.NewExportResponse()
			if c.ct == "application/json" {
				err = ans.UnmarshalJSON(r.body)
			} else {
				err = ans.UnmarshalProto(r.body)
			}
			ps := ans.PartialSuccess()
			if err != nil || ps.RejectedLogRecords() != 1 || !strings.Contains(ps.ErrorMessage(), "invalid_time") {
				t.Fatalf("answer %q: %v, rejected %d, message %q", r.body, err, ps.RejectedLogRecords(), ps.ErrorMessage())
			}
			checkRecords(t, c.bucket, s.readBucket(t, c.bucket), []map[string]string{{"_time": nsTime(1795303611541000000), "_msg": "kept",
				"_stream": `{service.name="svc"}`, "service.name": "svc"}})
			if s.discarded(t, c.bucket, "invalid_time") != 1 {
				t.Error("the rejected record is not counted")
			}
		})
	}
}

// TestOTLPErrors: refused requests answer a google.rpc.Status in the
// request's encoding (JSON when it names none) with the HTTP status of the
// catalogue error and its code in the header.
func TestOTLPErrors(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.Ingest.MaxRequestBytes = 64 << 10 })
	good := fixture(t, "otlp", "js-exporter-0.223.1.json")
	js := map[string]string{"Content-Type": "application/json"}
	pb := map[string]string{"Content-Type": "application/x-protobuf"}
	cases := []struct {
		name   string
		path   string
		body   []byte
		header map[string]string
		status int
		code   string
		grpc   int32
		proto  bool // the answer is protobuf
	}{
		{"invalid JSON", "?bucket=e", []byte(`{"resourceLogs":`), js, 400, "invalid_body", 3, false},
		{"invalid protobuf", "?bucket=e", []byte{0xff, 0xff, 0xff}, pb, 400, "invalid_body", 3, true},
		{"wrong content type", "?bucket=e", good, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", 3, false},
		{"no content type", "?bucket=e", good, nil, 415, "unsupported_media_type", 3, false},
		{"unknown encoding", "?bucket=e", good, map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "br"}, 415, "unsupported_encoding", 3, true},
		{"body over the limit", "?bucket=e", bytes.Repeat([]byte(" "), 65<<10), js, 413, "payload_too_large", 8, false},
		{"invalid bucket", "?bucket=Bad", good, pb, 400, "invalid_bucket", 3, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, "/v1/logs"+c.path, c.body, c.header)
			if r.status != c.status || r.errorCode() != c.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.status, r.errorCode(), c.status, c.code, r.body)
			}
			var st statuspb.Status
			if c.proto {
				if r.header.Get("Content-Type") != "application/x-protobuf" {
					t.Fatalf("Content-Type %q", r.header.Get("Content-Type"))
				}
				if err := proto.Unmarshal(r.body, &st); err != nil {
					t.Fatalf("not a google.rpc.Status: %v", err)
				}
			} else {
				var doc struct {
					Code    int32  `json:"code"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(r.body, &doc); err != nil || r.header.Get("Content-Type") != "application/json" {
					t.Fatalf("not a JSON status (%v): %s", err, r.body)
				}
				st.Code, st.Message = doc.Code, doc.Message
			}
			if st.Code != c.grpc || st.Message == "" {
				t.Fatalf("status code %d message %q, want code %d", st.Code, st.Message, c.grpc)
			}
			if n := s.records(t, "e"); n != 0 {
				t.Fatalf("a refused request stored %d records", n)
			}
		})
	}
}
