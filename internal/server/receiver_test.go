package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/config"
)

// TestReceiversOverload: every receiver answers 503 with Retry-After,
// in its own format, when the ingest slots or the memory budget are
// taken, and stores nothing.
func TestReceiversOverload(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.Ingest.MaxConcurrentRequests = 1 })
	requests := []struct {
		name, path string
		body       []byte
		header     map[string]string
		product    bool // Elasticsearch answer
	}{
		{"loki", "/loki/api/v1/push?bucket=o", fixture(t, "loki", "pino-loki.json"), map[string]string{"Content-Type": "application/json"}, false},
		{"es", "/_bulk?bucket=o", fixture(t, "esbulk", "elasticsearch-js-9.4.3.bulk"), map[string]string{"Content-Type": "application/x-ndjson"}, true},
		{"otlp", "/v1/logs?bucket=o", fixture(t, "otlp", "js-exporter-0.223.1.pb"), map[string]string{"Content-Type": "application/x-protobuf"}, false},
		{"ndjson", "/api/v1/ingest?bucket=o", []byte(`{"_msg":"x"}`), nil, false},
	}
	take := map[string]func() func(){
		"slot": func() func() {
			s.ingestSlots <- struct{}{}
			return func() { <-s.ingestSlots }
		},
		"budget": func() func() {
			n := s.budget.limit - s.budget.inUse()
			s.budget.tryAcquire(n)
			return func() { s.budget.release(n) }
		},
	}
	for what, takeIt := range take {
		for _, q := range requests {
			t.Run(what+"/"+q.name, func(t *testing.T) {
				give := takeIt()
				r := s.do(t, http.MethodPost, q.path, q.body, q.header)
				give()
				if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || r.errorCode() != "overloaded" {
					t.Fatalf("status %d Retry-After %q code %q, want 503 overloaded with Retry-After: %s", r.status, r.header.Get("Retry-After"), r.errorCode(), r.body)
				}
				if q.product != (r.header.Get("X-Elastic-Product") == "Elasticsearch") {
					t.Errorf("X-Elastic-Product %q", r.header.Get("X-Elastic-Product"))
				}
			})
		}
	}
	if n := s.records(t, "o"); n != 0 {
		t.Fatalf("refused requests stored %d records", n)
	}
	if used := s.budget.inUse(); used != 0 {
		t.Fatalf("the budget holds %d bytes after the requests", used)
	}
}

// TestReceiversNotReady: before the commit log is recovered, every
// receiver answers 503 not_ready in its own format, while the
// Elasticsearch version probe already answers.
func TestReceiversNotReady(t *testing.T) {
	cfg := config.Default()
	s, err := New(Options{Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	cases := []struct {
		method, path, ct string
		status           int
		es               bool
	}{
		{"POST", "/loki/api/v1/push", "application/json", 503, false},
		{"POST", "/_bulk", "application/x-ndjson", 503, true},
		{"POST", "/logs/_bulk", "application/x-ndjson", 503, true},
		{"POST", "/v1/logs", "application/x-protobuf", 503, false},
		{"HEAD", "/logs", "", 503, true},
		{"PUT", "/logs", "", 503, true},
		{"GET", "/", "", 200, true},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(c.method, c.path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", c.ct)
		h.ServeHTTP(rec, req)
		if rec.Code != c.status || (c.status == 503 && (rec.Header().Get(ErrorCodeHeader) != "not_ready" || rec.Header().Get("Retry-After") == "")) {
			t.Errorf("%s %s before recovery: %d %q %s", c.method, c.path, rec.Code, rec.Header().Get(ErrorCodeHeader), rec.Body)
		}
		if got := rec.Header().Get("X-Elastic-Product") == "Elasticsearch"; got != c.es {
			t.Errorf("%s %s: X-Elastic-Product present = %v", c.method, c.path, got)
		}
	}
}

// TestReceiversBatchID: a retry with the same X-Logbucket-Batch-Id is
// answered as the first request and stored once.
func TestReceiversBatchID(t *testing.T) {
	s := newTestServer(t, nil)
	cases := []struct {
		name, path, ct, pkg, file string
		status                    int
		bucket                    string
		records                   int64
	}{
		{"loki", "/loki/api/v1/push?bucket=il", "application/json", "loki", "pino-loki.json", http.StatusNoContent, "il", 2},
		{"es", "/_bulk", "application/x-ndjson", "esbulk", "syslog-ng-3.38.bulk", http.StatusOK, "syslog-ng", 3},
		{"otlp", "/v1/logs?bucket=io", "application/x-protobuf", "otlp", "js-exporter-0.223.1.pb", http.StatusOK, "io", 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": c.ct, "X-Logbucket-Batch-Id": "batch-" + c.name}
			for i := 0; i < 2; i++ {
				if r := s.do(t, http.MethodPost, c.path, fixture(t, c.pkg, c.file), h); r.status != c.status {
					t.Fatalf("send %d: %d %s", i, r.status, r.body)
				}
			}
			if n := s.records(t, c.bucket); n != c.records {
				t.Fatalf("bucket %s holds %d records, want %d", c.bucket, n, c.records)
			}
		})
	}
}
