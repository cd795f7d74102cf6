package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestShippersPlugIn sends to the real binary one request per protocol,
// as real clients sent them (the captures kept under
// internal/ingest/*/testdata): a Loki push from pino-loki (JSON, tenant
// header) and from winston-loki (protobuf in snappy, no
// Content-Encoding), an Elasticsearch _bulk from the ES JS client, and an
// OTLP/HTTP export from the OpenTelemetry JS exporter; then it finds every
// line with /select/logsql/query.
func TestShippersPlugIn(t *testing.T) {
	s := startServer(t, t.TempDir())
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	fixture := func(pkg, name string) []byte {
		b, err := os.ReadFile(filepath.Join(root, "internal", "ingest", pkg, "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name, path string
		q          url.Values
		header     http.Header
		body       []byte
		status     int
		bucket     string
		field      string   // a field every stored line has
		msgs       []string // the _msg of the stored lines, sorted
	}{
		{"loki JSON", "/loki/api/v1/push", nil,
			http.Header{"Content-Type": {"application/json"}, "X-Scope-Orgid": {"tenant-a"}},
			fixture("loki", "pino-loki.json"), http.StatusNoContent, "tenant-a", "app", []string{
				`{"level":30,"time":1795303594472,"pid":7289,"component":"payments","orderId":17,"msg":"order placed"}`,
				`{"level":50,"time":1795303594473,"pid":7289,"err":{"type":"Error","message":"card declined","stack":"Error: card declined\n    at Object.<anonymous> (/app/checkout.js:12:13)"},"meta":{"traceId":"abc123"},"msg":"payment failed"}`,
			}},
		{"loki protobuf", "/loki/api/v1/push", url.Values{"bucket": {"winston"}},
			http.Header{"Content-Type": {"application/x-protobuf"}},
			fixture("loki", "winston-loki.pb.snappy"), http.StatusNoContent, "winston", "level", []string{
				`invoice created {"invoiceId":5,"level":"info"}`, `slow db query {"ms":1200,"level":"warn"}`,
			}},
		{"elasticsearch _bulk", "/_bulk", nil,
			http.Header{"Content-Type": {"application/vnd.elasticsearch+x-ndjson; compatible-with=9"}},
			fixture("esbulk", "elasticsearch-js-9.4.3.bulk"), http.StatusOK, "logs-app", "user", []string{"user login", "user logout"}},
		{"otlp", "/v1/logs", nil,
			http.Header{"Content-Type": {"application/json"}, "X-Logbucket-Bucket": {"otel"}},
			fixture("otlp", "js-exporter-0.223.1.json"), http.StatusOK, "otel", "service.name", []string{
				"", "payment failed for order 17", "결제 재시도 (2s)",
			}},
	}
	for _, c := range cases {
		resp := s.mustDo(t, http.MethodPost, c.path, c.q, c.header, bytes.NewReader(c.body))
		if resp.status != c.status {
			t.Fatalf("%s: POST %s: want %d, got %s", c.name, c.path, c.status, resp)
		}
		if c.path == "/_bulk" && (resp.header.Get("X-Elastic-Product") != "Elasticsearch" || !bytes.Contains(resp.body, []byte(`"errors":false`))) {
			t.Fatalf("%s: answer %s with X-Elastic-Product %q", c.name, resp, resp.header.Get("X-Elastic-Product"))
		}
	}
	for _, c := range cases {
		var rows []map[string]any
		eventually(t, 30*time.Second, func() string {
			resp := s.mustDo(t, http.MethodGet, "/select/logsql/query", url.Values{"query": {"*"}, "bucket": {c.bucket}}, nil, nil)
			if resp.status != http.StatusOK {
				return "query: " + resp.String()
			}
			rows = rows[:0]
			for _, line := range strings.Split(strings.TrimSpace(string(resp.body)), "\n") {
				var row map[string]any
				if line == "" || json.Unmarshal([]byte(line), &row) != nil {
					continue
				}
				rows = append(rows, row)
			}
			if len(rows) < len(c.msgs) {
				return c.name + ": " + resp.String()
			}
			return ""
		})
		var msgs []string
		for _, row := range rows {
			msg, _ := row["_msg"].(string)
			msgs = append(msgs, msg)
			if v, _ := row[c.field].(string); v == "" {
				t.Errorf("%s: row %v has no %s", c.name, row, c.field)
			}
		}
		slices.Sort(msgs)
		if !slices.Equal(msgs, c.msgs) {
			t.Errorf("%s: bucket %s holds the lines %q, want %q", c.name, c.bucket, msgs, c.msgs)
		}
	}
}
