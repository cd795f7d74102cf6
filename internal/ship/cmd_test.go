package ship

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "ship.yaml")
	if err := os.WriteFile(conf, []byte("inputs:\n  - paths: [/x]\n    bucket: b\n    bogus: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--help"}, 0, "Usage: logbucket ship"},
		{[]string{"--bucket", "b", "/var/log/*.log"}, 2, "state (--state DIR) is required"},
		{[]string{"--config", filepath.Join(dir, "missing.yaml")}, 2, "no such file"},
		{[]string{"--state", dir, "/var/log/*.log"}, 2, "bucket"},
		{[]string{"--state", dir, "--bucket", "b"}, 2, "no files to follow"},
		{[]string{"--state", dir, "--bucket", "b", "--field", "novalue", "/x"}, 2, "want NAME=VALUE"},
		{[]string{"--state", dir, "--bucket", "b", "--multiline-start", "(", "/x"}, 2, "multiline.start"},
		{[]string{"--config", conf, "--bucket", "b"}, 2, "describes an input"},
		{[]string{"--config", conf, "/x"}, 2, "not on the command line"},
		{[]string{"--config", conf}, 2, "field bogus not found"},
		{[]string{"--nosuchflag"}, 2, "flag provided but not defined"},
	} {
		var stderr bytes.Buffer
		code := RunCommand(context.Background(), tc.args, io.Discard, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}

// TestRunCommandConfig runs the command with a YAML file of two inputs and
// reads the shipper's own /metrics.
func TestRunCommandConfig(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	openWriter(t, filepath.Join(dir, "a.log")).jsonLines(0, 20)
	openWriter(t, filepath.Join(dir, "b.txt")).write("2026-01-02 10:00:00 first\n  more\nnot a start\n2026-01-02 10:00:01 second\n")
	conf := filepath.Join(dir, "ship.yaml")
	yaml := fmt.Sprintf(`server: %s
state: %s
metrics_listen: 127.0.0.1:0
batch_wait: 20ms
poll_interval: 30ms
read_interval: 10ms
inputs:
  - name: json
    paths: [%s]
    bucket: a
    fields: {host: h1}
  - name: text
    paths: [%s]
    bucket: b
    filename_field: ""
    multiline:
      start: '^\d{4}-\d{2}-\d{2} '
      timeout: 50ms
`, fs.srv.URL, filepath.Join(dir, "state"), filepath.Join(dir, "*.log"), filepath.Join(dir, "*.txt"))
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- RunCommand(ctx, []string{"--config", conf, "--progress", "never"}, io.Discard, &stderr)
	}()

	want := append(seqNames(0, 20), "2026-01-02 10:00:00 first\n  more\nnot a start", "2026-01-02 10:00:01 second")
	recs := fs.waitExactly(t, want)
	for _, r := range recs {
		switch r["_bucket"] {
		case "a":
			if r["host"] != "h1" || r["filename"] != filepath.Join(dir, "a.log") {
				t.Errorf("bucket a record %v: want host h1 and filename %s", r, filepath.Join(dir, "a.log"))
			}
		case "b":
			if _, ok := r["filename"]; ok {
				t.Errorf("bucket b record %v has a filename field; filename_field is \"\"", r)
			}
		default:
			t.Errorf("record %v in bucket %v", r, r["_bucket"])
		}
	}

	var addr string
	eventually(t, "the metrics address is logged", func() bool {
		m := regexp.MustCompile(`msg="metrics listening" addr=(\S+)`).FindStringSubmatch(stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	var body string
	eventually(t, "/metrics shows the records", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		return strings.Contains(body, `logbucket_ship_records_total{input="json"} 20`) &&
			strings.Contains(body, `logbucket_ship_records_total{input="text"} 2`)
	})
	for _, name := range []string{"logbucket_ship_files_open 2", "logbucket_ship_checkpoint_writes_total", "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after the stop, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(waitTimeout):
		t.Fatal("RunCommand did not return after its context ended")
	}
}

func TestStatusLine(t *testing.T) {
	prev := Stats{LinesRead: 100, RecordsSent: 50, Retries: 1}
	cur := Stats{Files: 3, LinesRead: 2100, RecordsSent: 1050, BytesBehind: 3 << 20, Retries: 2, LastError: "connection refused"}
	got := statusLine(cur, prev, 2*time.Second)
	want := "ship: 3 files  1000 lines/s read  500 records/s stored  3.0 MiB behind  2 retries  last error: connection refused"
	if got != want {
		t.Errorf("status line\n%q\nwant\n%q", got, want)
	}
	var out bytes.Buffer
	sw := &statusWriter{w: &out, shown: true}
	fmt.Fprint(sw, "log line\n")
	if out.String() != "\r\033[Klog line\n" {
		t.Errorf("a log line over a status line: %q", out.String())
	}
}
