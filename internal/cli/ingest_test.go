package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/server"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startServer runs the real HTTP handler over a real commit log; front,
// when set, sees each request first and may answer it instead.
func startServer(t *testing.T, front func(w http.ResponseWriter, r *http.Request) bool) (*httptest.Server, *commitlog.Embedded) {
	ts, l, _ := startServerHandler(t, front)
	return ts, l
}

// startServerHandler is startServer that also returns the real handler.
func startServerHandler(t *testing.T, front func(w http.ResponseWriter, r *http.Request) bool) (*httptest.Server, *commitlog.Embedded, http.Handler) {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	reg := prometheus.NewRegistry()
	s, err := server.New(server.Options{Config: &cfg, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	l, err := commitlog.Open(commitlog.Options{Dir: cfg.Data})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLog(l, l.Health)
	h := s.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if front != nil && front(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { ts.Close(); l.Close() })
	return ts, l, h
}

// stored returns the _msg of every record of a bucket, in partition order.
func stored(t *testing.T, l *commitlog.Embedded, bucket string) []string {
	t.Helper()
	var out []string
	info, err := l.Bucket(context.Background(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range info.Partitions {
		res, err := l.Read(context.Background(), bucket, p.Partition, 0, 100000, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Records {
			out = append(out, r.Record.Msg)
		}
	}
	return out
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestIngestFilesOfEveryKind(t *testing.T) {
	ts, l := startServer(t, nil)
	plain := writeFile(t, "app.log", []byte("plain line one\n\nplain \"two\"\n"))
	nd := writeFile(t, "app.ndjson", []byte(`{"_msg":"json one","level":"info"}`+"\n"+`{"message":"json two"}`+"\n"))
	var gzBuf bytes.Buffer
	gw := gzip.NewWriter(&gzBuf)
	gw.Write([]byte("gz line\n"))
	gw.Close()
	gzf := writeFile(t, "app.log.gz", gzBuf.Bytes())
	enc, _ := zstd.NewWriter(nil)
	zf := writeFile(t, "app.log.zst", enc.EncodeAll([]byte("zst line\n"), nil))
	enc.Close()
	var out, errOut bytes.Buffer
	code := RunIngest(context.Background(), []string{"--server", ts.URL, "--bucket", "files", "--batch-lines", "2", plain, nd, gzf, zf, "-"},
		strings.NewReader("stdin line\n"), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errOut.String())
	}
	got := strings.Join(stored(t, l, "files"), "|")
	for _, want := range []string{"plain line one", `plain "two"`, "json one", "json two", "gz line", "zst line", "stdin line"} {
		if !strings.Contains(got, want) {
			t.Errorf("stored %q lacks %q", got, want)
		}
	}
	if n := len(stored(t, l, "files")); n != 7 {
		t.Errorf("stored %d records, want 7", n)
	}
	if !strings.Contains(out.String(), "7 stored, 0 rejected") {
		t.Errorf("summary: %s", out.String())
	}
}

func TestIngestRejectedLinesExitOne(t *testing.T) {
	ts, _ := startServer(t, nil)
	f := writeFile(t, "bad.ndjson", []byte("{\"_msg\":\"ok\"}\n{\"_msg\": broken\n{\"_msg\":\"ok2\"}\n"))
	var out, errOut bytes.Buffer
	code := RunIngest(context.Background(), []string{"--server", ts.URL, "--bucket", "bad", "--compress", "gzip", f}, nil, &out, &errOut)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "2 stored, 1 rejected") || !strings.Contains(out.String(), "bad.ndjson:2: invalid_json") {
		t.Fatalf("summary does not name the rejected line:\n%s", out.String())
	}
}

// TestIngestRetriesWithSameBatchID: the server answers 503 (and once
// stores the batch but fails the answer); the CLI retries with the same
// batch id and every line is stored exactly once.
func TestIngestRetriesWithSameBatchID(t *testing.T) {
	var mu sync.Mutex
	ids := map[string]int{}
	var inner http.Handler
	ts, l, h := startServerHandler(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v1/ingest" {
			return false
		}
		mu.Lock()
		id := r.Header.Get("X-Logbucket-Batch-Id")
		ids[id]++
		n := ids[id]
		mu.Unlock()
		switch n {
		case 1:
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"error":{"code":"overloaded","message":"busy"}}`, 503)
			return true
		case 2: // store it, then lose the answer
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, r)
			http.Error(w, "gateway lost the answer", 502)
			return true
		}
		return false
	})
	inner = h
	f := writeFile(t, "r.log", []byte("a\nb\nc\nd\ne\n"))
	var out, errOut bytes.Buffer
	code := RunIngest(context.Background(), []string{"--server", ts.URL, "--bucket", "retry", "--batch-lines", "2", f}, nil, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	got := stored(t, l, "retry")
	if len(got) != 5 {
		t.Fatalf("stored %v, want a..e exactly once", got)
	}
	if len(ids) != 3 {
		t.Fatalf("%d batch ids used, want 3 (one per batch)", len(ids))
	}
	for id, n := range ids {
		if n != 3 {
			t.Errorf("batch %s sent %d times, want 3", id, n)
		}
	}
}

func TestIngestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"--bucket", "x"}, {"file"}, {"--bucket", "x", "--compress", "lz4", "f"}, {"--nope"}} {
		var out, errOut bytes.Buffer
		if code := RunIngest(context.Background(), args, nil, &out, &errOut); code != 2 {
			t.Errorf("RunIngest(%q) = %d, want 2", args, code)
		}
	}
}
