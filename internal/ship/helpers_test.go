package ship

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait of these tests; it is generous because the
// machines they run on are slow and shared, and no test measures speed.
const waitTimeout = 60 * time.Second

// fakeServer is an ingest endpoint that remembers batch ids like
// logbucket's commit log: a batch id seen before stores nothing again.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex // protects the fields below
	records    []map[string]any
	ids        map[string]int // batch id → records stored by it
	duplicates int            // requests answered as duplicates
	requests   int
	// down makes the server answer 503 while it is true.
	down bool
	// onStored, when set, runs after a batch is stored and before the
	// answer; it may return false to drop the connection without answering.
	onStored func(id string, n int) bool
}

func newFakeServer(t *testing.T) *fakeServer {
	fs := &fakeServer{t: t, ids: map[string]int{}}
	fs.srv = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/ingest" {
		http.NotFound(w, r)
		return
	}
	fs.mu.Lock()
	fs.requests++
	down := fs.down
	fs.mu.Unlock()
	if down {
		w.Header().Set("Retry-After", "0")
		http.Error(w, `{"error":{"code":"overloaded","message":"down"}}`, http.StatusServiceUnavailable)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "zstd" {
		zr, err := zstd.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		defer zr.Close()
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			fs.t.Errorf("fake server: line %q is not a JSON object: %v", sc.Text(), err)
			continue
		}
		m["_bucket"] = r.URL.Query().Get("bucket")
		recs = append(recs, m)
	}
	id := r.Header.Get("X-Logbucket-Batch-Id")
	if id == "" {
		fs.t.Errorf("fake server: a request without X-Logbucket-Batch-Id")
	}
	fs.mu.Lock()
	n, dup := fs.ids[id]
	if dup {
		fs.duplicates++
	} else {
		fs.ids[id] = len(recs)
		fs.records = append(fs.records, recs...)
		n = len(recs)
	}
	hook := fs.onStored
	fs.mu.Unlock()
	if hook != nil && !dup && !hook(id, n) {
		panic(http.ErrAbortHandler) // the "crash": no answer
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"accepted":%d,"rejected":0,"duplicate":%v}`, n, dup)
}

func (fs *fakeServer) setDown(down bool) {
	fs.mu.Lock()
	fs.down = down
	fs.mu.Unlock()
}

// snapshot returns the records stored so far.
func (fs *fakeServer) snapshot() []map[string]any {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]map[string]any(nil), fs.records...)
}

func (fs *fakeServer) dupCount() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.duplicates
}

// msgs returns the _msg (or the n field of JSON lines) of every record.
func msgs(recs []map[string]any) []string {
	var out []string
	for _, r := range recs {
		if n, ok := r["n"]; ok {
			out = append(out, fmt.Sprint(n))
		} else {
			out = append(out, fmt.Sprint(r["_msg"]))
		}
	}
	return out
}

// waitExactly waits until the server holds want records (in any order) and
// then checks that they are want exactly: none missing, none twice.
func (fs *fakeServer) waitExactly(t *testing.T, want []string) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		recs := fs.snapshot()
		if len(recs) >= len(want) || time.Now().After(deadline) {
			got := msgs(recs)
			checkSameSet(t, got, want)
			return recs
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func checkSameSet(t *testing.T, got, want []string) {
	t.Helper()
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	var missing, twice []string
	for _, w := range want {
		switch count[w] {
		case 0:
			missing = append(missing, w)
		case 1:
		default:
			twice = append(twice, fmt.Sprintf("%s×%d", w, count[w]))
		}
		delete(count, w)
	}
	var extra []string
	for g := range count {
		extra = append(extra, g)
	}
	sort.Strings(extra)
	if len(missing)+len(twice)+len(extra) > 0 {
		t.Fatalf("server holds %d records, want %d: missing %v, more than once %v, unexpected %v",
			len(got), len(want), short(missing), short(twice), short(extra))
	}
}

func short(s []string) []string {
	if len(s) > 20 {
		return append(s[:20:20], fmt.Sprintf("... (%d in all)", len(s)))
	}
	return s
}

// testOptions are options with short intervals for one input on glob.
func testOptions(fs *fakeServer, state string, globs ...string) Options {
	o := DefaultOptions()
	o.Server = fs.srv.URL
	o.StateDir = state
	o.BatchWait = 20 * time.Millisecond
	o.PollInterval = 30 * time.Millisecond
	o.ReadInterval = 10 * time.Millisecond
	o.RotateWait = 200 * time.Millisecond
	o.DetachedTimeout = 5 * time.Second
	o.ShutdownGrace = 2 * time.Second
	o.MinBackoff, o.MaxBackoff = 5*time.Millisecond, 50*time.Millisecond
	in := DefaultInput()
	in.Name, in.Bucket, in.Paths = "test", "b", globs
	in.Multiline.Timeout = 100 * time.Millisecond
	o.Inputs = []Input{in}
	return o
}

// running is a shipper running in the background.
type running struct {
	sh     *Shipper
	cancel context.CancelFunc
	done   chan error
}

func startShipper(t *testing.T, o Options) *running {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sh, err := New(o, log, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{sh: sh, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- sh.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the shipper and waits for Run to return.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Run did not return within %v of its cancellation", waitTimeout)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// writer appends lines to a file through one descriptor opened with
// O_APPEND, as loggers do.
type writer struct {
	t *testing.T
	f *os.File
}

func openWriter(t *testing.T, path string) *writer {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{t: t, f: f}
	t.Cleanup(func() { w.f.Close() })
	return w
}

// jsonLines writes {"n":i} for i in [from, to) and returns their names.
func (w *writer) jsonLines(from, to int) []string {
	w.t.Helper()
	var b bytes.Buffer
	var names []string
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "{\"n\":%d}\n", i)
		names = append(names, fmt.Sprint(i))
	}
	w.write(b.String())
	return names
}

func (w *writer) write(s string) {
	w.t.Helper()
	if _, err := w.f.WriteString(s); err != nil {
		w.t.Fatal(err)
	}
}

func seqNames(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	return out
}

// eventually polls cond until it holds, failing after waitTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", waitTimeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fdsTo lists this process's open descriptors whose target names path
// (Linux only; nil elsewhere).
func fdsTo(path string) []string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.HasPrefix(target, path) {
			out = append(out, target)
		}
	}
	return out
}

// copyTruncate does what logrotate's copytruncate does.
func copyTruncate(t *testing.T, path, to string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
}
