package e2e

import (
	"encoding/json"
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
)

// TestShipLogrotate runs the real `logbucket ship` on a file that a writer
// appends to while the real logrotate rotates it (in rename mode, then in
// copytruncate mode), kills the shipper with SIGKILL and restarts it, then
// kills the server with SIGKILL and restarts it, all mid-stream, and checks
// through the query API that every record written arrived exactly once,
// with its message, stream field and fields.
//
// copytruncate loses, for any tailer, the lines written between logrotate's
// copy and its truncate; the writer therefore pauses while logrotate runs in
// that mode (as it would with a copytruncate-safe logger). It keeps writing
// during rename rotations, to the renamed file until it reopens the path.
func TestShipLogrotate(t *testing.T) {
	logrotate, err := exec.LookPath("logrotate")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/logrotate"); serr == nil {
			logrotate = "/usr/sbin/logrotate"
		} else {
			if os.Getenv("LOGBUCKET_SKIP_CLIENTS") != "" {
				t.Skip("LOGBUCKET_SKIP_CLIENTS is set and logrotate is not installed")
			}
			t.Fatal("logrotate is not installed (Debian package logrotate; scripts/install-test-deps.sh installs it): " +
				"the shipper's rotation test needs the real logrotate")
		}
	}
	for _, mode := range []string{"rename", "copytruncate"} {
		t.Run(mode, func(t *testing.T) { testShipLogrotate(t, logrotate, mode) })
	}
}

func testShipLogrotate(t *testing.T, logrotate, mode string) {
	dir := t.TempDir()
	logDir := filepath.Join(dir, "logs")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(logDir, "app.log")
	rot := newLogrotate(t, logrotate, dir, logPath, mode)

	// A fixed port, so that the shipper finds the server after its restart.
	port := freePort(t)
	s := startServer(t, filepath.Join(dir, "data"), "--listen", "127.0.0.1:"+port)
	const bucket = "shipe2e"
	started := time.Now()

	w := newLogWriter(t, logPath)
	sp := &shipProc{t: t, log: &logBuffer{}, args: []string{"ship",
		"--server", "http://127.0.0.1:" + port, "--bucket", bucket, "--state", filepath.Join(dir, "state"),
		"--field", "host=e2e-host", "--stream-fields", "host",
		"--poll-interval", "200ms", "--read-interval", "50ms", "--rotate-wait", "2s",
		"--batch-wait", "200ms", "--max-backoff", "1s", "--progress", "never",
		"--metrics-listen", "127.0.0.1:0", logPath}}
	t.Cleanup(func() {
		sp.kill()
		if t.Failed() {
			t.Logf("logbucket ship output:\n%s", sp.log.String())
		}
	})
	sp.start()
	w.start()

	rotate := func() {
		t.Helper()
		if mode == "copytruncate" {
			w.pause()
			defer w.resume()
		}
		rot.run()
		if mode == "rename" {
			time.Sleep(200 * time.Millisecond) // the writer still appends to the renamed file
			w.reopen()
		}
	}
	step := func(d time.Duration, what string, f func()) {
		time.Sleep(d)
		t.Logf("%s: %s (%d records written)", time.Since(started).Round(time.Millisecond), what, w.count())
		f()
	}
	step(time.Second, "rotate", rotate)
	step(time.Second, "SIGKILL the shipper", sp.kill)
	step(500*time.Millisecond, "rotate while the shipper is down", rotate)
	step(500*time.Millisecond, "restart the shipper", sp.start)
	step(time.Second, "rotate", rotate)
	step(500*time.Millisecond, "SIGKILL the server", func() { s.kill(t) })
	step(500*time.Millisecond, "rotate while the server is down", rotate)
	step(500*time.Millisecond, "restart the server", func() { s.start(t) })
	step(time.Second, "rotate", rotate)
	step(300*time.Millisecond, "SIGKILL the shipper again", sp.kill)
	step(300*time.Millisecond, "restart the shipper", sp.start)
	step(time.Second, "stop writing", w.stop)

	total := w.count()
	t.Logf("%d records written, %d rotations; waiting for all of them", total, rot.runs)
	deadline := time.Now().Add(3 * time.Minute)
	for n := -1; n != total; {
		n = queryCount(t, s, bucket, "*")
		if n > total {
			t.Fatalf("the bucket holds %d records, more than the %d written", n, total)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes the bucket holds %d of the %d records written", n, total)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Stop the shipper gracefully, so that nothing it might still send
	// could arrive after the checks.
	sp.stop()
	if n := queryCount(t, s, bucket, "*"); n != total {
		t.Fatalf("after the shipper stopped: %d records, want %d", n, total)
	}
	resp := s.mustDo(t, http.MethodGet, "/select/logsql/query", url.Values{"bucket": {bucket},
		"query": {"kind:json | stats by (seq) count() c | filter c:>1 | stats count() dups"}}, nil, nil)
	if strings.TrimSpace(string(resp.body)) != `{"dups":"0"}` {
		t.Errorf("JSON records stored more than once: %s", resp)
	}
	w.check(t, s, bucket, logPath, started)
}

// ---------------------------------------------------------------------------
// The writer

var seqRE = regexp.MustCompile(`seq=(\d+)`)

// logWriter appends numbered records to a file through a descriptor opened
// with O_APPEND, each record in one write: JSON lines, plain lines and Java
// stack traces.
type logWriter struct {
	t    *testing.T
	path string

	mu   sync.Mutex // protects f, want, times; held while paused
	f    *os.File
	want []string          // seq → the _msg it must arrive with
	time map[int]time.Time // seq → _time of JSON records

	stopCh chan struct{}
	done   chan struct{}
}

func newLogWriter(t *testing.T, path string) *logWriter {
	w := &logWriter{t: t, path: path, time: map[int]time.Time{}, stopCh: make(chan struct{}), done: make(chan struct{})}
	w.reopen()
	t.Cleanup(func() {
		w.stop()
		w.mu.Lock()
		w.f.Close()
		w.mu.Unlock()
	})
	return w
}

func (w *logWriter) start() {
	go func() {
		defer close(w.done)
		for {
			select {
			case <-w.stopCh:
				return
			case <-time.After(5 * time.Millisecond):
			}
			for range 5 {
				w.writeOne()
			}
		}
	}()
}

func (w *logWriter) stop() {
	select {
	case <-w.stopCh:
	default:
		close(w.stopCh)
	}
	select {
	case <-w.done:
	case <-time.After(time.Minute):
		w.t.Error("the writer did not stop")
	}
}

func (w *logWriter) pause()  { w.mu.Lock() }
func (w *logWriter) resume() { w.mu.Unlock() }

func (w *logWriter) reopen() {
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		w.t.Errorf("open %s: %v", w.path, err)
		return
	}
	w.mu.Lock()
	old := w.f
	w.f = f
	w.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

func (w *logWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.want)
}

func (w *logWriter) writeOne() {
	w.mu.Lock()
	defer w.mu.Unlock()
	seq := len(w.want)
	var text, msg string
	switch seq % 10 {
	case 7, 8:
		msg = fmt.Sprintf("plain record seq=%d level=info", seq)
		text = msg + "\n"
	case 9:
		msg = fmt.Sprintf("ERROR request failed seq=%d\n"+
			"java.lang.IllegalStateException: boom seq=%d\n"+
			"\tat com.example.Handler.handle(Handler.java:42)\n"+
			"\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"+
			"Caused by: java.io.IOException: disk full\n"+
			"\t... 2 more", seq, seq)
		text = msg + "\n"
	default:
		now := time.Now().UTC()
		msg = fmt.Sprintf("json record %d", seq)
		text = fmt.Sprintf(`{"_time":%q,"seq":%d,"kind":"json","_msg":%q}`+"\n", now.Format(time.RFC3339Nano), seq, msg)
		w.time[seq] = now
	}
	if _, err := w.f.WriteString(text); err != nil {
		w.t.Errorf("write record %d: %v", seq, err)
		return
	}
	w.want = append(w.want, msg)
}

// check reads every record of the bucket and compares it with what was
// written: each record once, with its message, fields and time.
func (w *logWriter) check(t *testing.T, s *server, bucket, logPath string, started time.Time) {
	t.Helper()
	resp := s.mustDo(t, http.MethodGet, "/select/logsql/query", url.Values{"bucket": {bucket},
		"query": {"* | fields _msg, _time, _stream, seq, kind, host, filename"}}, nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("query: %s", resp)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := make([]int, len(w.want))
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(format, args...)
		}
	}
	lines := strings.Split(strings.TrimSpace(string(resp.body)), "\n")
	for _, line := range lines {
		var row map[string]string
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("query row %q: %v", line, err)
		}
		seq := -1
		if row["seq"] != "" {
			seq, _ = strconv.Atoi(row["seq"])
		} else if m := seqRE.FindStringSubmatch(row["_msg"]); m != nil {
			seq, _ = strconv.Atoi(m[1])
		}
		if seq < 0 || seq >= len(w.want) {
			report("a record that was never written: %s", line)
			continue
		}
		seen[seq]++
		if row["_msg"] != w.want[seq] {
			report("record %d: _msg %q, want %q", seq, row["_msg"], w.want[seq])
		}
		if row["host"] != "e2e-host" || row["_stream"] != `{host="e2e-host"}` || row["filename"] != logPath {
			report("record %d: host %q, _stream %q, filename %q; want e2e-host, {host=\"e2e-host\"}, %s",
				seq, row["host"], row["_stream"], row["filename"], logPath)
		}
		got, err := time.Parse(time.RFC3339Nano, row["_time"])
		if want, ok := w.time[seq]; ok {
			if err != nil || !got.Equal(want) {
				report("record %d: _time %q, want %s (the JSON line's own)", seq, row["_time"], want.Format(time.RFC3339Nano))
			}
		} else if err != nil || got.Before(started.Add(-time.Second)) || got.After(time.Now().Add(time.Second)) {
			report("record %d: _time %q, want the time of receipt (a plain line has none)", seq, row["_time"])
		}
	}
	missing, twice := 0, 0
	for seq, n := range seen {
		switch {
		case n == 0:
			missing++
			report("record %d (%q) is missing", seq, w.want[seq])
		case n > 1:
			twice++
			report("record %d (%q) arrived %d times", seq, w.want[seq], n)
		}
	}
	t.Logf("%d rows read back for %d records written: %d missing, %d more than once", len(lines), len(w.want), missing, twice)
}

// ---------------------------------------------------------------------------
// logrotate

type logrotateRun struct {
	t               *testing.T
	bin, conf, stat string
	runs            int
}

// newLogrotate writes a private configuration and state file for path.
func newLogrotate(t *testing.T, bin, dir, path, mode string) *logrotateRun {
	how := "create 0644"
	if mode == "copytruncate" {
		how = "copytruncate"
	}
	conf := filepath.Join(dir, "logrotate.conf")
	text := fmt.Sprintf("%s {\n    rotate 100\n    missingok\n    nocompress\n    %s\n}\n", path, how)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return &logrotateRun{t: t, bin: bin, conf: conf, stat: filepath.Join(dir, "logrotate.status")}
}

// run forces one rotation.
func (r *logrotateRun) run() {
	r.t.Helper()
	out, err := exec.Command(r.bin, "-f", "-s", r.stat, r.conf).CombinedOutput()
	if err != nil {
		r.t.Fatalf("%s -f -s %s %s: %v\n%s", r.bin, r.stat, r.conf, err, out)
	}
	r.runs++
}

// ---------------------------------------------------------------------------
// The shipper process

// shipProc is the `logbucket ship` process, killed and started again.
type shipProc struct {
	t    *testing.T
	args []string
	log  *logBuffer
	gen  int
	cmd  *exec.Cmd
	done chan struct{}
}

var metricsAddrRE = regexp.MustCompile(`msg="metrics listening" addr=(\S+)`)

// start starts the shipper and waits until it follows a file, so that the
// test's next rotation cannot come before the shipper has seen the file.
func (p *shipProc) start() {
	p.t.Helper()
	p.gen++
	addrCh := make(chan string, 1)
	cmd := exec.Command(binPath, p.args...)
	w := &lineWriter{log: p.log, prefix: fmt.Sprintf("[ship %d] ", p.gen), onLine: func(line string) {
		if m := metricsAddrRE.FindStringSubmatch(line); m != nil {
			select {
			case addrCh <- m[1]:
			default:
			}
		}
	}}
	cmd.Stdout, cmd.Stderr = w, w
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start logbucket ship: %v", err)
	}
	done := make(chan struct{})
	gen := p.gen
	go func() {
		err := cmd.Wait()
		p.log.printf("[ship %d] exited: %s\n", gen, exitString(err))
		close(done)
	}()
	p.cmd, p.done = cmd, done
	var addr string
	select {
	case addr = <-addrCh:
	case <-done:
		p.t.Fatalf("logbucket ship exited at its start")
	case <-time.After(listenTimeout):
		p.t.Fatalf("logbucket ship did not log its metrics address within %v", listenTimeout)
	}
	deadline := time.Now().Add(readyTimeout)
	for {
		resp, err := httpClient.Get("http://" + addr + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if m := regexp.MustCompile(`(?m)^logbucket_ship_files_open (\d+)`).FindSubmatch(body); m != nil && string(m[1]) != "0" {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("logbucket ship follows no file %v after its start (last error: %v)", readyTimeout, err)
		}
		time.Sleep(pollInterval)
	}
}

func (p *shipProc) kill() { p.signal(syscall.SIGKILL) }

func (p *shipProc) stop() {
	p.signal(syscall.SIGTERM)
	if p.cmd != nil && p.cmd.ProcessState != nil && !p.cmd.ProcessState.Success() {
		p.t.Errorf("logbucket ship exited with %v after SIGTERM", p.cmd.ProcessState)
	}
}

func (p *shipProc) signal(sig syscall.Signal) {
	if p.cmd == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	p.log.printf("[ship %d] %v\n", p.gen, sig)
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		p.t.Errorf("logbucket ship did not exit within %v after %v", stopTimeout, sig)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// freePort returns a port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
