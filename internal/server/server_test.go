package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type testServer struct {
	*Server
	ts  *httptest.Server
	log *commitlog.Embedded
	reg *prometheus.Registry
}

// newTestServer starts the handler over a real commit log in a temp dir.
func newTestServer(t *testing.T, tweak func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	if tweak != nil {
		tweak(&cfg)
	}
	reg := prometheus.NewRegistry()
	s, err := New(Options{Config: &cfg, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	l, err := commitlog.Open(commitlog.Options{Dir: cfg.Data, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLog(l, l.Health)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		l.Close()
	})
	return &testServer{Server: s, ts: ts, log: l, reg: reg}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, r.body)
	}
	return m
}

func (s *testServer) post(t *testing.T, path string, body io.Reader, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func (s *testServer) records(t *testing.T, bucket string) int64 {
	t.Helper()
	info, err := s.log.Bucket(context.Background(), bucket)
	if err != nil {
		return 0
	}
	return info.Records
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// gzipBomb is a small gzip body that inflates to n zero bytes.
func gzipBomb(n int) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(zero))
		w.Write(zero[:k])
		n -= k
	}
	w.Close()
	return buf.Bytes()
}

func TestIngestBadInputTable(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) {
		c.Ingest.MaxRequestBytes = 1 << 20
		c.Ingest.MaxDecompressedBytes = 4 << 20
	})
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	zenc, _ := zstd.NewWriter(nil)
	zbody := zenc.EncodeAll([]byte(`{"_msg":"z1"}`+"\n"+`{"_msg":"z2"}`), nil)
	zenc.Close()
	cases := []struct {
		name     string
		path     string
		body     []byte
		header   map[string]string
		status   int
		code     string // error code for non-200
		accepted float64
		rejected float64
		stored   int64 // records added to bucket "t"
	}{
		{"good and bad lines", "/api/v1/ingest?bucket=t", []byte("{\"_msg\":\"a\"}\nnot json\n{\"_msg\":\"b\"}\n"), nil, 200, "", 2, 1, 2},
		{"arrays numbers strings", "/api/v1/ingest?bucket=t", []byte("[1,2]\n42\n\"s\"\n{\"_msg\":\"ok\"}"), nil, 200, "", 1, 3, 1},
		{"deep nesting", "/api/v1/ingest?bucket=t", []byte(deep), nil, 200, "", 0, 1, 0},
		{"invalid utf8", "/api/v1/ingest?bucket=t", []byte("{\"_msg\":\"bad \xff\xfe end\"}"), nil, 200, "", 1, 0, 1},
		{"nul escape", "/api/v1/ingest?bucket=t", []byte(`{"_msg":"a\u0000b"}`), nil, 200, "", 1, 0, 1},
		{"empty body", "/api/v1/ingest?bucket=t", nil, nil, 200, "", 0, 0, 0},
		{"strict with a bad line", "/api/v1/ingest?bucket=t&strict=true", []byte("{\"_msg\":\"a\"}\n[1]\n"), nil, 400, "invalid_lines", 0, 0, 0},
		{"gzip", "/api/v1/ingest?bucket=t", gz([]byte(`{"_msg":"g"}`)), map[string]string{"Content-Encoding": "gzip"}, 200, "", 1, 0, 1},
		{"zstd", "/api/v1/ingest?bucket=t", zbody, map[string]string{"Content-Encoding": "zstd"}, 200, "", 2, 0, 2},
		{"gzip bomb", "/api/v1/ingest?bucket=t", gzipBomb(64 << 20), map[string]string{"Content-Encoding": "gzip"}, 413, "payload_too_large", 0, 0, 0},
		{"stacked encodings", "/api/v1/ingest?bucket=t", gz(gz([]byte(`{}`))), map[string]string{"Content-Encoding": "gzip, gzip"}, 415, "unsupported_encoding", 0, 0, 0},
		{"unknown encoding", "/api/v1/ingest?bucket=t", []byte(`{}`), map[string]string{"Content-Encoding": "br"}, 415, "unsupported_encoding", 0, 0, 0},
		{"corrupt gzip", "/api/v1/ingest?bucket=t", []byte("not gzip at all"), map[string]string{"Content-Encoding": "gzip"}, 400, "bad_request", 0, 0, 0},
		{"body over the limit", "/api/v1/ingest?bucket=t", bytes.Repeat([]byte("{\"_msg\":\"x\"}\n"), (1<<20)/13+1), nil, 413, "payload_too_large", 0, 0, 0},
		{"invalid bucket upper", "/api/v1/ingest?bucket=Bad", []byte(`{}`), nil, 400, "invalid_bucket", 0, 0, 0},
		{"invalid bucket dash", "/api/v1/ingest?bucket=-x", []byte(`{}`), nil, 400, "invalid_bucket", 0, 0, 0},
		{"invalid bucket long", "/api/v1/ingest?bucket=" + strings.Repeat("a", 64), []byte(`{}`), nil, 400, "invalid_bucket", 0, 0, 0},
		{"invalid bucket header", "/api/v1/ingest", []byte(`{}`), map[string]string{"X-Logbucket-Bucket": "a/b"}, 400, "invalid_bucket", 0, 0, 0},
		{"invalid strict", "/api/v1/ingest?bucket=t&strict=maybe", []byte(`{}`), nil, 400, "bad_request", 0, 0, 0},
		{"jsonline with header bucket", "/insert/jsonline?_msg_field=text", []byte(`{"text":"vl"}`), map[string]string{"X-Logbucket-Bucket": "t"}, 200, "", 1, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.records(t, "t")
			r := s.post(t, c.path, bytes.NewReader(c.body), c.header)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			m := r.json(t)
			if c.status == 200 {
				if m["accepted"] != c.accepted || m["rejected"] != c.rejected {
					t.Fatalf("accepted/rejected %v/%v, want %v/%v: %s", m["accepted"], m["rejected"], c.accepted, c.rejected, r.body)
				}
			} else if e, _ := m["error"].(map[string]any); e == nil || e["code"] != c.code {
				t.Fatalf("error %v, want code %q", m["error"], c.code)
			}
			if got := s.records(t, "t") - before; got != c.stored {
				t.Fatalf("stored %d records, want %d", got, c.stored)
			}
		})
	}
	for _, reason := range []string{"invalid_json", "not_object", "request_too_large", "decompressed_too_large", "unsupported_encoding", "invalid_request"} {
		var n float64
		mfs, _ := s.reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() != "logbucket_ingest_discarded_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "reason" && lp.GetValue() == reason {
						n += m.GetCounter().GetValue()
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("logbucket_ingest_discarded_total{reason=%q} did not move", reason)
		}
	}
}

func TestIngestLineNumbersAndStoredContent(t *testing.T) {
	s := newTestServer(t, nil)
	body := "{\"_msg\":\"one\",\"service\":\"api\"}\n\n[]\n{\"message\":\"bad \xff\",\"n\":{\"x\":[1,2]},\"service\":\"api\"}\n"
	r := s.post(t, "/api/v1/ingest?bucket=c&stream_fields=service", strings.NewReader(body), nil)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	m := r.json(t)
	errs := m["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["line"] != float64(3) {
		t.Fatalf("errors %v, want one at line 3", errs)
	}
	parts := m["partitions"].(map[string]any)
	if len(parts) != 1 {
		t.Fatalf("one stream must land in one partition: %v", parts)
	}
	var p string
	for k := range parts {
		p = k
	}
	resp, err := http.Get(s.ts.URL + "/api/v1/buckets/c/partitions/" + p + "/records?offset=earliest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("read %d records: %s", len(lines), b)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil {
		t.Fatalf("record is not JSON: %v: %s", err, lines[1])
	}
	if rec["_msg"] != "bad \ufffd" || rec["n.x"] != "[1,2]" || rec["_stream"] != `{service="api"}` || rec["_offset"] != float64(1) {
		t.Fatalf("record read back as %v", rec)
	}
}

func TestOverloadAnswers503WithRetryAfter(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) {
		c.Ingest.MemoryBytes = 1 << 20
		c.Ingest.MaxRequestBytes = 1 << 20
	})
	// A 600 KiB body needs its size plus twice that for decoding: more
	// than the 1 MiB budget, so it is refused without being stored.
	body := bytes.Repeat([]byte("{\"_msg\":\"xxxxxxxxxxxxxxxxxxxx\"}\n"), 600<<10/31)
	r := s.post(t, "/api/v1/ingest?bucket=o", bytes.NewReader(body), nil)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q, want 503 with Retry-After: %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if s.records(t, "o") != 0 {
		t.Fatal("a refused request stored records")
	}
	if used := s.budget.inUse(); used != 0 {
		t.Fatalf("budget holds %d bytes after the request ended", used)
	}
	small := s.post(t, "/api/v1/ingest?bucket=o", strings.NewReader(`{"_msg":"fits"}`), nil)
	if small.status != 200 {
		t.Fatalf("a small request after overload: %d %s", small.status, small.body)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.Ingest.MaxConcurrentRequests = 1 })
	s.ingestSlots <- struct{}{} // occupy the only slot
	r := s.post(t, "/api/v1/ingest?bucket=o", strings.NewReader(`{"_msg":"x"}`), nil)
	<-s.ingestSlots
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("status %d, want 503 with Retry-After", r.status)
	}
}

func TestNotReadyUntilLogIsSet(t *testing.T) {
	cfg := config.Default()
	s, err := New(Options{Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503, "/api/v1/buckets": 503} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s before recovery: %d, want %d", path, rec.Code, want)
		}
	}
}

func TestPullErrors(t *testing.T) {
	s := newTestServer(t, nil)
	s.post(t, "/api/v1/ingest?bucket=p", strings.NewReader(`{"_msg":"x"}`), nil)
	cases := map[string]int{
		"/api/v1/buckets/nope":                             404,
		"/api/v1/buckets/p/partitions/9/records":           404,
		"/api/v1/buckets/p/partitions/x/records":           404,
		"/api/v1/buckets/p/partitions/0/records?offset=-3": 400,
		"/api/v1/buckets/p/partitions/0/records?limit=0":   400,
		"/api/v1/buckets/p/partitions/0/records?wait=zz":   400,
		"/api/v1/buckets/p/groups/bad%20name":              400,
	}
	for path, want := range cases {
		resp, err := http.Get(s.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

func TestPprofOnlyWhenConfigured(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := newTestServer(t, func(c *config.Config) { c.HTTP.Pprof = on })
		resp, err := http.Get(s.ts.URL + "/debug/pprof/goroutine?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := resp.StatusCode == http.StatusOK && strings.Contains(string(body), "goroutine profile"); got != on {
			t.Errorf("http.pprof=%v: status %d, profile served = %v", on, resp.StatusCode, got)
		}
	}
}
