package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/logbucket/logbucket/internal/config"
)

// TestLokiPushFixtures sends the requests captured from pino-loki and
// winston-loki (JSON, and protobuf in snappy with and without
// Content-Encoding) and reads the records back through the pull API.
func TestLokiPushFixtures(t *testing.T) {
	s := newTestServer(t, nil)
	pino := []map[string]string{{
		"_time":   nsTime(1795303594472000000),
		"_msg":    `{"level":30,"time":1795303594472,"pid":7289,"component":"payments","orderId":17,"msg":"order placed"}`,
		"_stream": `{app="checkout",component="payments",env="dev",hostname="<host>",level="info"}`,
		"app":     "checkout", "component": "payments", "env": "dev", "hostname": "<host>", "level": "info",
	}, {
		"_time": nsTime(1795303594473000000),
		"_msg": `{"level":50,"time":1795303594473,"pid":7289,"err":{"type":"Error","message":"card declined","stack":"Error: card declined\n    at Object.<anonymous> (/app/checkout.js:12:13)"},` +
			`"meta":{"traceId":"abc123"},"msg":"payment failed"}`,
		"_stream": `{app="checkout",env="dev",hostname="<host>",level="error"}`,
		"app":     "checkout", "env": "dev", "hostname": "<host>", "level": "error", "traceId": "abc123",
	}}
	winston := []map[string]string{{
		"_time": nsTime(1795303597674000000), "_msg": `invoice created {"invoiceId":5,"level":"info"}`,
		"_stream": `{app="billing",level="info",tenant="t1"}`, "app": "billing", "level": "info", "tenant": "t1",
	}, {
		"_time": nsTime(1795303597676000000), "_msg": `slow db query {"ms":1200,"level":"warn"}`,
		"_stream": `{app="billing",level="warn"}`, "app": "billing", "level": "warn",
	}}
	winstonJSON := []map[string]string{{
		"_time": nsTime(1795303600855000000), "_msg": `invoice created {"invoiceId":5,"level":"info"}`,
		"_stream": `{app="billing-json",level="info"}`, "app": "billing-json", "level": "info", "invoiceId": "5",
	}}
	cases := []struct {
		name, path, file string
		header           map[string]string
		gzip             bool
		bucket           string
		want             []map[string]string
	}{
		{"pino-loki JSON, tenant header", "/loki/api/v1/push", "pino-loki.json",
			map[string]string{"Content-Type": "application/json", "X-Scope-OrgID": "tenant-a"}, false, "tenant-a", pino},
		{"winston-loki protobuf, snappy without Content-Encoding", "/loki/api/v1/push?bucket=w1", "winston-loki.pb.snappy",
			map[string]string{"Content-Type": "application/x-protobuf"}, false, "w1", winston},
		{"protobuf with Content-Encoding snappy", "/loki/api/v1/push", "winston-loki.pb.snappy",
			map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy", "X-Logbucket-Bucket": "w2"}, false, "w2", winston},
		{"protobuf in gzip", "/loki/api/v1/push", "winston-loki.pb.snappy",
			map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip", "X-Scope-OrgID": "w3"}, true, "w3", winston},
		{"winston-loki JSON in gzip, our header beats the tenant", "/loki/api/v1/push", "winston-loki-json.json",
			map[string]string{"Content-Type": "application/json; charset=utf-8", "Content-Encoding": "gzip", "X-Logbucket-Bucket": "wj", "X-Scope-OrgID": "other"}, true, "wj", winstonJSON},
		{"tenant mapped to a bucket name", "/loki/api/v1/push", "winston-loki-json.json",
			map[string]string{"Content-Type": "application/json", "X-Scope-OrgID": "Team.A"}, false, "team-a", winstonJSON},
		{"no bucket named: the default", "/loki/api/v1/push", "winston-loki-json.json",
			map[string]string{"Content-Type": "application/json"}, false, "default", winstonJSON},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := fixture(t, "loki", c.file)
			if c.gzip {
				body = gz(body)
			}
			r := s.do(t, http.MethodPost, c.path, body, c.header)
			if r.status != http.StatusNoContent || len(r.body) != 0 {
				t.Fatalf("status %d, want 204 without body: %s", r.status, r.body)
			}
			checkRecords(t, c.bucket, s.readBucket(t, c.bucket), c.want)
		})
	}
}

// lokiJSON builds a JSON push body of one stream.
func lokiJSON(labels string, values ...string) []byte {
	return []byte(fmt.Sprintf(`{"streams":[{"stream":%s,"values":[%s]}]}`, labels, strings.Join(values, ",")))
}

func TestLokiPushErrors(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) {
		c.Ingest.MaxRequestBytes = 64 << 10
		c.Ingest.MaxDecompressedBytes = 64 << 10 // records: at most 128 KiB
	})
	good := lokiJSON(`{"a":"b"}`, `["1795303594472000000","x"]`)
	// 200 entries carrying a 1000-byte label: about 230 KB of records
	// from a 3 KB body.
	expand := lokiJSON(`{"big":"`+strings.Repeat("x", 1000)+`"}`, strings.TrimSuffix(strings.Repeat(`["0","e"],`, 200), ","))
	js := map[string]string{"Content-Type": "application/json"}
	pb := map[string]string{"Content-Type": "application/x-protobuf"}
	cases := []struct {
		name   string
		path   string
		body   []byte
		header map[string]string
		status int
		code   string
		reason string // discard reason counted under bucket "e" (or _invalid)
	}{
		{"invalid JSON", "?bucket=e", []byte(`{"streams":[`), js, 400, "invalid_body", "invalid_body"},
		{"JSON without streams", "?bucket=e", []byte(`{"foo":1}`), js, 400, "invalid_body", "invalid_body"},
		{"not snappy", "?bucket=e", []byte("plain text, not snappy"), pb, 400, "invalid_body", "invalid_body"},
		{"corrupt gzip", "?bucket=e", []byte("not gzip"), map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, 400, "bad_request", "bad_compression"},
		{"wrong content type", "?bucket=e", good, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type", "unsupported_media_type"},
		{"unknown encoding", "?bucket=e", good, map[string]string{"Content-Type": "application/json", "Content-Encoding": "br"}, 415, "unsupported_encoding", "unsupported_encoding"},
		{"stacked encodings", "?bucket=e", good, map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip, snappy"}, 415, "unsupported_encoding", "unsupported_encoding"},
		{"body over the limit", "?bucket=e", bytes.Repeat([]byte("x"), 65<<10), js, 413, "payload_too_large", "request_too_large"},
		{"snappy over the decompressed limit", "?bucket=e", s2.EncodeSnappy(nil, make([]byte, 1<<20)), pb, 413, "payload_too_large", "decompressed_too_large"},
		{"records over the limit", "?bucket=e", expand, js, 413, "payload_too_large", "records_too_large"},
		{"invalid bucket", "?bucket=Bad", good, js, 400, "invalid_bucket", "invalid_request"},
		{"tenant without a letter or digit", "", good, map[string]string{"Content-Type": "application/json", "X-Scope-OrgID": "._."}, 400, "invalid_bucket", "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bucket := "e"
			if c.code == "invalid_bucket" {
				bucket = "_invalid"
			}
			before := s.discarded(t, bucket, c.reason)
			r := s.do(t, http.MethodPost, "/loki/api/v1/push"+c.path, c.body, c.header)
			if r.status != c.status || r.errorCode() != c.code {
				t.Fatalf("status %d code %q, want %d %q: %s", r.status, r.errorCode(), c.status, c.code, r.body)
			}
			if e, _ := r.json(t)["error"].(map[string]any); e == nil || e["code"] != c.code || e["message"] == "" {
				t.Fatalf("body %s is not the catalogue error %q", r.body, c.code)
			}
			if got := s.discarded(t, bucket, c.reason) - before; got != 1 {
				t.Errorf("discarded{bucket=%q,reason=%q} grew by %v, want 1", bucket, c.reason, got)
			}
			if n := s.records(t, "e"); n != 0 {
				t.Fatalf("a refused request stored %d records", n)
			}
		})
	}
	// With the default limits the expanding request fits: the records'
	// reservation grows as the decoder asks.
	d := newTestServer(t, nil)
	if r := d.do(t, http.MethodPost, "/loki/api/v1/push?bucket=x", expand, js); r.status != http.StatusNoContent {
		t.Fatalf("expanding request with the default limits: %d %s", r.status, r.body)
	}
	if n := d.records(t, "x"); n != 200 {
		t.Fatalf("stored %d records, want 200", n)
	}
}

// TestLokiPushPartial: rejected entries are listed in a 400 answer and
// the others are stored, as Loki does.
func TestLokiPushPartial(t *testing.T) {
	s := newTestServer(t, nil)
	body := []byte(`{"streams":[{"stream":{"job":"a"},"values":[["1795303594472000000","one"],["99999999999999999999","bad time"],["1795303594473000000","two"]]},` +
		`{"stream":{"job":1},"values":[["1795303594474000000","bad labels"]]}]}`)
	r := s.do(t, http.MethodPost, "/loki/api/v1/push?bucket=p", body, map[string]string{"Content-Type": "application/json"})
	if r.status != http.StatusBadRequest || r.errorCode() != "rejected_entries" {
		t.Fatalf("status %d code %q, want 400 rejected_entries: %s", r.status, r.errorCode(), r.body)
	}
	var ans struct {
		Error    apiError    `json:"error"`
		Accepted int         `json:"accepted"`
		Rejected int         `json:"rejected"`
		Errors   []lineError `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &ans); err != nil {
		t.Fatal(err)
	}
	if ans.Accepted != 2 || ans.Rejected != 2 || len(ans.Errors) != 2 || ans.Errors[0].Line != 2 || ans.Errors[1].Line != 4 ||
		!strings.HasPrefix(ans.Errors[0].Reason, "invalid_time") || !strings.HasPrefix(ans.Errors[1].Reason, "invalid_labels") {
		t.Fatalf("answer %+v", ans)
	}
	checkRecords(t, "p", s.readBucket(t, "p"), []map[string]string{
		{"_time": nsTime(1795303594472000000), "_msg": "one", "_stream": `{job="a"}`, "job": "a"},
		{"_time": nsTime(1795303594473000000), "_msg": "two", "_stream": `{job="a"}`, "job": "a"},
	})
	if s.discarded(t, "p", "invalid_time") != 1 || s.discarded(t, "p", "invalid_labels") != 1 {
		t.Error("the rejected entries are not counted by reason")
	}
}
