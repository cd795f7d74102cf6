package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"go.uber.org/goleak"
)

const (
	listenTimeout = 30 * time.Second // process start until "http server listening"
	readyTimeout  = 60 * time.Second // listening until /readyz answers 200
	stopTimeout   = 20 * time.Second // SIGTERM until exit
	pollInterval  = 20 * time.Millisecond
	maxLogBytes   = 4 << 20 // stderr kept per server for failure reports
)

var (
	// binPath is the logbucket binary under test, built once in TestMain.
	binPath string

	httpTransport = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	httpClient = &http.Client{Transport: httpTransport, Timeout: 30 * time.Second}
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "logbucket-e2e-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	if p := os.Getenv("LOGBUCKET_E2E_BIN"); p != "" {
		binPath = p
	} else {
		root, err := moduleRoot()
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			return 1
		}
		binPath = filepath.Join(tmp, "logbucket")
		start := time.Now()
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/logbucket")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/logbucket in %s failed: %v\n%s", root, err, out)
			return 1
		}
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "e2e: built %s in %v\n", binPath, time.Since(start).Round(time.Millisecond))
		}
	}

	code := m.Run()

	httpTransport.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: leaked goroutines: %v\n", err)
			code = 1
		}
	}
	return code
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}

// ---------------------------------------------------------------------------
// Server process management

// server is one logbucket data directory and the process currently serving
// it. A server can be killed and started again on the same data directory;
// each start listens on a fresh port.
type server struct {
	dataDir string
	args    []string
	log     *logBuffer

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when the current process has exited
	waitErr error
	gen     int
	addr    string
	base    string // http://addr
}

// startServer starts logbucket on dataDir and waits until /readyz answers
// 200. The process is killed when the test ends; its output is written to
// the test log only if the test failed.
func startServer(t testing.TB, dataDir string, extraArgs ...string) *server {
	t.Helper()
	s := &server{dataDir: dataDir, args: extraArgs, log: &logBuffer{}}
	t.Cleanup(func() {
		s.kill(t)
		if t.Failed() {
			t.Logf("logbucket output (data dir %s):\n%s", dataDir, s.log.String())
		}
	})
	s.start(t)
	return s
}

var listenAddrRE = regexp.MustCompile(`\baddr="?([^\s"]+)"?`)

// start starts a new process on the server's data directory and waits until
// it is ready. The previous process, if any, must have exited.
func (s *server) start(t testing.TB) {
	t.Helper()
	s.startProcess(t)
	s.waitReady(t)
	s.waitSearch(t)
	s.log.printf("[%d] ready\n", s.gen)
}

// waitSearch waits until queries stop answering 503: /readyz turns ready
// once the commit log is open (ingest), the query routes once the index
// is open too.
func (s *server) waitSearch(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := s.do(context.Background(), http.MethodGet, "/select/logsql/query", url.Values{"query": {"*"}, "limit": {"1"}}, nil, nil)
		if err == nil && resp.status != http.StatusServiceUnavailable {
			return
		}
		if !s.running() {
			t.Fatalf("logbucket exited while waiting for its index to open: %s", exitString(s.exitErr()))
		}
		if time.Now().After(deadline) {
			t.Fatalf("queries still answered 503 after %v", readyTimeout)
		}
		time.Sleep(pollInterval)
	}
}

// startProcess starts a new process and waits only until it logs that it
// listens (recovery may still be running).
func (s *server) startProcess(t testing.TB) {
	t.Helper()
	if s.running() {
		t.Fatalf("start: logbucket (gen %d) is still running", s.gen)
	}
	s.gen++
	gen := s.gen
	args := append([]string{"server", "--data", s.dataDir, "--listen", "127.0.0.1:0"}, s.args...)
	addrCh := make(chan string, 1)
	w := &lineWriter{log: s.log, prefix: fmt.Sprintf("[%d] ", gen), onLine: func(line string) {
		if !strings.Contains(line, `msg="http server listening"`) {
			return
		}
		if m := listenAddrRE.FindStringSubmatch(line); m != nil {
			select {
			case addrCh <- m[1]:
			default:
			}
		}
	}}
	cmd := exec.Command(binPath, args...)
	cmd.Stdout = w
	cmd.Stderr = w
	setProcAttr(cmd)
	s.log.printf("[%d] $ %s %s\n", gen, binPath, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start logbucket: %v", err)
	}
	done := make(chan struct{})
	s.mu.Lock()
	s.cmd, s.done, s.waitErr, s.addr, s.base = cmd, done, nil, "", ""
	s.mu.Unlock()
	go func() {
		err := cmd.Wait()
		s.mu.Lock()
		s.waitErr = err
		s.mu.Unlock()
		s.log.printf("[%d] exited: %v\n", gen, exitString(err))
		close(done)
	}()

	started := time.Now()
	var addr string
	select {
	case addr = <-addrCh:
	case <-done:
		t.Fatalf("logbucket exited before logging msg=\"http server listening\": %s", exitString(s.exitErr()))
	case <-time.After(listenTimeout):
		t.Fatalf("logbucket did not log msg=\"http server listening\" with addr=... within %v", listenTimeout)
	}
	s.mu.Lock()
	s.addr, s.base = addr, "http://"+addr
	s.mu.Unlock()
	s.log.printf("[%d] listening on %s after %v\n", gen, addr, time.Since(started).Round(time.Millisecond))
}

// waitReady polls GET /readyz until it answers 200.
func (s *server) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	last := "no answer"
	for {
		resp, err := s.do(context.Background(), http.MethodGet, "/readyz", nil, nil, nil)
		if err == nil && resp.status == http.StatusOK {
			return
		}
		if err != nil {
			last = err.Error()
		} else {
			last = fmt.Sprintf("%d %s", resp.status, truncate(resp.body, 200))
		}
		if !s.running() {
			t.Fatalf("logbucket exited while waiting for /readyz (%s): %s", last, exitString(s.exitErr()))
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz did not answer 200 within %v; last: %s", readyTimeout, last)
		}
		time.Sleep(pollInterval)
	}
}

func (s *server) running() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

func (s *server) exitErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waitErr
}

// url returns the absolute URL of path on the running process.
func (s *server) url(path string, q url.Values) string {
	s.mu.Lock()
	base := s.base
	s.mu.Unlock()
	u := base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// kill sends SIGKILL and waits for the process to exit. No-op if it is not
// running.
func (s *server) kill(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil || !s.running() {
		return
	}
	s.log.printf("[%d] SIGKILL\n", s.gen)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(stopTimeout):
		t.Fatalf("logbucket did not exit within %v after SIGKILL", stopTimeout)
	}
}

// stop sends SIGTERM and waits for a graceful exit. It fails the test if the
// process does not exit in time (and then kills it).
func (s *server) stop(t testing.TB) {
	t.Helper()
	s.stopWith(t, syscall.SIGTERM)
}

// stopWith is stop with another signal (SIGINT is graceful too).
func (s *server) stopWith(t testing.TB, sig syscall.Signal) {
	t.Helper()
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil || !s.running() {
		t.Fatalf("stop: logbucket is not running (%s)", exitString(s.exitErr()))
	}
	s.log.printf("[%d] %v\n", s.gen, sig)
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		if err := s.exitErr(); err != nil {
			// The contract does not state the exit status of a graceful
			// stop; note it for the report without failing.
			t.Logf("note: logbucket exited with %s after %v", exitString(err), sig)
		}
	case <-time.After(stopTimeout):
		t.Errorf("logbucket did not exit within %v after %v (graceful stop)", stopTimeout, sig)
		s.kill(t)
	}
}

// restart stops the process gracefully and starts a new one on the same data
// directory.
func (s *server) restart(t testing.TB) {
	t.Helper()
	s.stop(t)
	s.start(t)
}

// killRestart kills the process with SIGKILL and starts a new one on the
// same data directory.
func (s *server) killRestart(t testing.TB) {
	t.Helper()
	s.kill(t)
	s.start(t)
}

func exitString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// logBuffer keeps the combined output of a server's processes, dropping the
// oldest half when it grows past maxLogBytes.
type logBuffer struct {
	mu  sync.Mutex
	buf []byte
	cut int
}

func (b *logBuffer) write(p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > maxLogBytes {
		n := len(b.buf) - maxLogBytes/2
		if i := bytes.IndexByte(b.buf[n:], '\n'); i >= 0 {
			n += i + 1
		}
		b.cut += n
		b.buf = append([]byte(nil), b.buf[n:]...)
	}
}

func (b *logBuffer) printf(format string, args ...any) {
	b.write([]byte(fmt.Sprintf(format, args...)))
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cut > 0 {
		return fmt.Sprintf("[... %d bytes dropped ...]\n%s", b.cut, b.buf)
	}
	return string(b.buf)
}

// lineWriter splits a process's output into lines, prefixes them with the
// process generation and hands each one to onLine.
type lineWriter struct {
	log    *logBuffer
	prefix string
	onLine func(string)

	mu      sync.Mutex
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		w.log.write([]byte(w.prefix + line + "\n"))
		w.onLine(line)
	}
	if len(w.partial) > 64<<10 { // a huge line without newline: flush it
		w.log.write([]byte(w.prefix + string(w.partial) + "\n"))
		w.partial = nil
	}
	return len(p), nil
}

// ---------------------------------------------------------------------------
// HTTP helpers

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.status, truncate(r.body, 500))
}

// do sends one request to the running process and reads the whole answer.
func (s *server) do(ctx context.Context, method, path string, q url.Values, hdr http.Header, body io.Reader) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.url(path, q), body)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %d, reading body: %w", method, path, resp.StatusCode, err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// mustDo is do that fails the test on a transport error.
func (s *server) mustDo(t testing.TB, method, path string, q url.Values, hdr http.Header, body io.Reader) *response {
	t.Helper()
	resp, err := s.do(context.Background(), method, path, q, hdr, body)
	if err != nil {
		t.Fatalf("%s %s?%s: %v", method, path, q.Encode(), err)
	}
	return resp
}

// getJSON GETs path, requires 200 and decodes the body into v.
func (s *server) getJSON(t testing.TB, path string, q url.Values, v any) {
	t.Helper()
	resp := s.mustDo(t, http.MethodGet, path, q, nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("GET %s?%s: want 200, got %s", path, q.Encode(), resp)
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		t.Fatalf("GET %s?%s: decoding %q: %v", path, q.Encode(), truncate(resp.body, 500), err)
	}
}

func (s *server) healthy(t testing.TB) {
	t.Helper()
	resp, err := s.do(context.Background(), http.MethodGet, "/healthz", nil, nil, nil)
	if err != nil {
		t.Fatalf("GET /healthz: %v (server %s)", err, s.state())
	}
	if resp.status != http.StatusOK {
		t.Fatalf("GET /healthz: want 200, got %s", resp)
	}
}

func (s *server) state() string {
	if s.running() {
		return "running"
	}
	return "exited: " + exitString(s.exitErr())
}

// errorBody is the documented error document.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// checkErrorBody requires a JSON error document with a non-empty code.
func checkErrorBody(t testing.TB, what string, resp *response) {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(resp.body, &e); err != nil || e.Error.Code == "" {
		t.Errorf("%s: error response %d is not {\"error\":{\"code\":...,\"message\":...}}: %q", what, resp.status, truncate(resp.body, 300))
	}
}

// ---------------------------------------------------------------------------
// Ingest

type offsetRange struct {
	FirstOffset int64 `json:"first_offset"`
	LastOffset  int64 `json:"last_offset"`
}

type ingestError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

type ingestResult struct {
	Accepted   int                    `json:"accepted"`
	Rejected   int                    `json:"rejected"`
	Errors     []ingestError          `json:"errors"`
	Partitions map[string]offsetRange `json:"partitions"`
}

type ingestReq struct {
	bucket       string
	streamFields string // ?stream_fields=
	strict       bool
	batchID      string            // X-Logbucket-Batch-Id
	encoding     string            // "", "gzip" or "zstd": the body is compressed by the helper
	header       map[string]string // extra headers (sent as is)
	query        url.Values        // extra query parameters
	body         []byte            // NDJSON, uncompressed
}

func (r ingestReq) describe() string {
	return fmt.Sprintf("POST /api/v1/ingest?%s (batch %q, encoding %q, %d body bytes)", r.values().Encode(), r.batchID, r.encoding, len(r.body))
}

func (r ingestReq) values() url.Values {
	q := url.Values{}
	for k, v := range r.query {
		q[k] = v
	}
	if r.bucket != "" {
		q.Set("bucket", r.bucket)
	}
	if r.streamFields != "" {
		q.Set("stream_fields", r.streamFields)
	}
	if r.strict {
		q.Set("strict", "true")
	}
	return q
}

// ingest posts r and returns the raw answer and, for a 200 with a decodable
// body, the parsed result.
func (s *server) ingest(ctx context.Context, r ingestReq) (*response, *ingestResult, error) {
	body := r.body
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/x-ndjson")
	switch r.encoding {
	case "":
	case "gzip":
		body = gzipBytes(body)
		hdr.Set("Content-Encoding", "gzip")
	case "zstd":
		body = zstdBytes(body)
		hdr.Set("Content-Encoding", "zstd")
	default:
		return nil, nil, fmt.Errorf("ingest helper: unknown encoding %q", r.encoding)
	}
	if r.batchID != "" {
		hdr.Set("X-Logbucket-Batch-Id", r.batchID)
	}
	for k, v := range r.header {
		hdr.Set(k, v)
	}
	resp, err := s.do(ctx, http.MethodPost, "/api/v1/ingest", r.values(), hdr, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if resp.status != http.StatusOK {
		return resp, nil, nil
	}
	var res ingestResult
	if err := json.Unmarshal(resp.body, &res); err != nil {
		return resp, nil, fmt.Errorf("%s: 200 with undecodable body %q: %w", r.describe(), truncate(resp.body, 300), err)
	}
	return resp, &res, nil
}

// mustIngest posts r and requires 200 with every line accepted.
func (s *server) mustIngest(t testing.TB, r ingestReq) *ingestResult {
	t.Helper()
	resp, res, err := s.ingest(context.Background(), r)
	if err != nil {
		t.Fatalf("%s: %v", r.describe(), err)
	}
	if res == nil {
		t.Fatalf("%s: want 200, got %s", r.describe(), resp)
	}
	if want := countLines(r.body); res.Accepted != want || res.Rejected != 0 {
		t.Fatalf("%s: want accepted=%d rejected=0, got %s", r.describe(), want, resp.body)
	}
	return res
}

func countLines(b []byte) int {
	n := 0
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			n++
		}
	}
	return n
}

// ndjson marshals each value as one line.
func ndjson(t testing.TB, lines ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		j, err := json.Marshal(l)
		if err != nil {
			t.Fatalf("marshal %v: %v", l, err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return out.Bytes()
}

func zstdBytes(b []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err)
	}
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

// ---------------------------------------------------------------------------
// Pull API

type partitionDoc struct {
	Partition   int   `json:"partition"`
	StartOffset int64 `json:"start_offset"`
	EndOffset   int64 `json:"end_offset"`
	Bytes       int64 `json:"bytes"`
}

type groupLagDoc struct {
	Group string `json:"group"`
	Lag   int64  `json:"lag"`
}

type bucketDoc struct {
	Name       string         `json:"name"`
	Partitions []partitionDoc `json:"partitions"`
	Records    int64          `json:"records"`
	Bytes      int64          `json:"bytes"`
	LastWrite  string         `json:"last_write"`
	LastRead   string         `json:"last_read"`
	Groups     []groupLagDoc  `json:"groups"`
}

func (s *server) bucket(t testing.TB, name string) bucketDoc {
	t.Helper()
	var d bucketDoc
	s.getJSON(t, "/api/v1/buckets/"+url.PathEscape(name), nil, &d)
	if d.Name != name {
		t.Errorf("GET /api/v1/buckets/%s: name = %q", name, d.Name)
	}
	return d
}

// endOffsets returns partition → end_offset of a bucket.
func (s *server) endOffsets(t testing.TB, name string) map[int]int64 {
	t.Helper()
	m := map[int]int64{}
	for _, p := range s.bucket(t, name).Partitions {
		m[p.Partition] = p.EndOffset
	}
	return m
}

// record is one line of the records endpoint.
type record struct {
	raw    []byte
	fields map[string]any // numbers as json.Number
}

func (r record) str(name string) (string, bool) {
	v, ok := r.fields[name]
	if !ok {
		return "", false
	}
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case nil:
		return "null", true
	default:
		b, _ := json.Marshal(v)
		return string(b), true
	}
}

func (r record) get(name string) string {
	v, _ := r.str(name)
	return v
}

// int returns an integer field sent as a JSON number or string; -1 if absent
// or not an integer.
func (r record) int(name string) int64 {
	s, ok := r.str(name)
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func (r record) offset() int64 { return r.int("_offset") }

func (r record) String() string { return string(truncate(r.raw, 300)) }

func parseRecords(body []byte) ([]record, error) {
	var out []record
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		raw := append([]byte(nil), line...)
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			return nil, fmt.Errorf("line %d %q: %w", n, truncate(raw, 200), err)
		}
		out = append(out, record{raw: raw, fields: m})
	}
	return out, sc.Err()
}

func recordsPath(bucket string, p int) string {
	return fmt.Sprintf("/api/v1/buckets/%s/partitions/%d/records", url.PathEscape(bucket), p)
}

// readRecords GETs one page of the records endpoint; offset may be a number,
// "earliest" or "latest"; wait may be "".
func (s *server) readRecords(t testing.TB, bucket string, p int, offset string, limit int, wait string) (*response, []record) {
	t.Helper()
	q := url.Values{"offset": {offset}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if wait != "" {
		q.Set("wait", wait)
	}
	resp := s.mustDo(t, http.MethodGet, recordsPath(bucket, p), q, nil, nil)
	if resp.status != http.StatusOK {
		return resp, nil
	}
	recs, err := parseRecords(resp.body)
	if err != nil {
		t.Fatalf("GET %s?%s: body is not NDJSON: %v", recordsPath(bucket, p), q.Encode(), err)
	}
	return resp, recs
}

// readPartition reads partition p from offset `from` up to (excluding) `to`
// in pages of 1000 records.
func (s *server) readPartition(t testing.TB, bucket string, p int, from, to int64) []record {
	t.Helper()
	var out []record
	s.readPartitionFunc(t, bucket, p, from, to, func(r record) { out = append(out, r) })
	return out
}

// readPartitionFunc is readPartition with a callback per record, so that
// large partitions need not be held in memory as maps.
func (s *server) readPartitionFunc(t testing.TB, bucket string, p int, from, to int64, fn func(record)) {
	t.Helper()
	off := from
	for off < to {
		resp, recs := s.readRecords(t, bucket, p, strconv.FormatInt(off, 10), 1000, "")
		if resp.status != http.StatusOK {
			t.Fatalf("GET %s?offset=%d&limit=1000: want 200, got %s", recordsPath(bucket, p), off, resp)
		}
		if len(recs) == 0 {
			t.Fatalf("GET %s?offset=%d&limit=1000: no records, but end_offset is %d", recordsPath(bucket, p), off, to)
		}
		if len(recs) > 1000 {
			t.Errorf("GET %s?offset=%d&limit=1000: %d records, more than the limit", recordsPath(bucket, p), off, len(recs))
		}
		last := recs[len(recs)-1].offset()
		if last < off {
			t.Fatalf("GET %s?offset=%d: last record has _offset %d (record %s)", recordsPath(bucket, p), off, last, recs[len(recs)-1])
		}
		for _, r := range recs {
			if r.offset() < to {
				fn(r)
			}
		}
		off = last + 1
	}
}

// readAll reads every partition of a bucket from its start offset to its
// end offset (as reported by the bucket document before reading).
func (s *server) readAll(t testing.TB, bucket string) (bucketDoc, map[int][]record) {
	t.Helper()
	doc := s.bucket(t, bucket)
	out := map[int][]record{}
	for _, p := range doc.Partitions {
		out[p.Partition] = s.readPartition(t, bucket, p.Partition, p.StartOffset, p.EndOffset)
	}
	return doc, out
}

// allRecords flattens readAll's result.
func allRecords(m map[int][]record) []record {
	var out []record
	for p := 0; p < len(m)+64; p++ {
		out = append(out, m[p]...)
	}
	return out
}

// ---------------------------------------------------------------------------
// Metrics

// discardCounters returns the logbucket_ingest_discarded_total series as
// `bucket="..",reason=".."` → value.
func (s *server) discardCounters(t testing.TB) map[string]float64 {
	t.Helper()
	resp := s.mustDo(t, http.MethodGet, "/metrics", nil, nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("GET /metrics: want 200, got %s", resp)
	}
	const name = "logbucket_ingest_discarded_total"
	out := map[string]float64{}
	for _, line := range strings.Split(string(resp.body), "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(strings.TrimSpace(line[i+1:]), 64)
		if err != nil {
			t.Fatalf("GET /metrics: bad sample %q", line)
		}
		series := strings.TrimSpace(line[len(name):i])
		out[strings.Trim(series, "{}")] = v
	}
	return out
}

func labelValue(series, label string) string {
	m := regexp.MustCompile(`(?:^|,)\s*` + regexp.QuoteMeta(label) + `="((?:[^"\\]|\\.)*)"`).FindStringSubmatch(series)
	if m == nil {
		return ""
	}
	return m[1]
}

// ---------------------------------------------------------------------------
// misc

func truncate(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return append(append([]byte(nil), b[:n]...), fmt.Sprintf("...(%d bytes)", len(b))...)
}

// eventually polls f until it returns "" or the timeout passes; then it fails
// with f's last message.
func eventually(t testing.TB, timeout time.Duration, f func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := f()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, msg)
		}
		time.Sleep(pollInterval)
	}
}
