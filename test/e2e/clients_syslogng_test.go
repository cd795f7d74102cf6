package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestClientsSyslogNG runs Debian's syslog-ng 3.38 as a private foreground
// instance that reads RFC 5424 lines from a file and forwards each one to
// the real server three ways (the configurations of docs/ingest.md and
// ecosystem.md B.1): http() posting NDJSON ($(format-json)) to
// /api/v1/ingest, the SCL's elasticsearch-http() posting to /_bulk, and
// syslog() over TCP (RFC 5424, octet-counted) to the server's syslog
// listener. On each path every line must arrive exactly once, with _time =
// the line's microsecond timestamp, _msg = its text (Korean included), the
// stream fields of that path and the line's header and structured data as
// fields.
func TestClientsSyslogNG(t *testing.T) {
	clientsSkipIfAsked(t)
	sng, err := exec.LookPath("syslog-ng")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/syslog-ng"); serr != nil {
			clientsMissing(t, "syslog-ng (Debian syslog-ng-core, syslog-ng-mod-http, syslog-ng-scl) is not installed")
		}
		sng = "/usr/sbin/syslog-ng"
	}
	if f := "/usr/share/syslog-ng/include/scl/elasticsearch/elastic-http.conf"; !clientsExists(f) {
		clientsMissing(t, "syslog-ng's elasticsearch-http() (Debian syslog-ng-scl) is not installed: no "+f)
	}
	if m, _ := filepath.Glob("/usr/lib/syslog-ng/*/libhttp.so"); len(m) == 0 {
		clientsMissing(t, "syslog-ng's http() (Debian syslog-ng-mod-http) is not installed: no /usr/lib/syslog-ng/*/libhttp.so")
	}

	run := clientsRunID(t)
	httpBucket, esBucket, syslogBucket := "sng-http-"+run, "sng-es-"+run, "sng-syslog-"+run
	dir := t.TempDir()
	cfg := filepath.Join(dir, "logbucket.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("buckets:\n  %s:\n    stream_fields: [HOST, PROGRAM]\n", esBucket)), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, filepath.Join(dir, "data"), "--config", cfg,
		"--syslog-tcp", "127.0.0.1:0", "--syslog-bucket", syslogBucket)
	syslogPortNum := syslogPort(t, s.syslogAddr(t, "tcp://127.0.0.1:0"))

	// The input: RFC 5424 lines with microsecond timestamps, two programs,
	// three severities, structured data and Korean text.
	base := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	stamp := func(i int) time.Time {
		return base.Add(time.Duration(i)*time.Millisecond + time.Duration(i)*time.Microsecond)
	}
	program := func(i int) string { return []string{"checkout", "billing"}[i%2] }
	pri := map[string]int{"info": 16*8 + 6, "warn": 16*8 + 4, "error": 16*8 + 3} // local0
	var in bytes.Buffer
	for i := 0; i < clientsLines; i++ {
		fmt.Fprintf(&in, "<%d>1 %s sng-e2e-host %s 4242 M%d [meta@32473 seq=\"%d\" trace_id=\"trace-%s-%d\"] %s\n",
			pri[clientsLevel(i)], stamp(i).Format("2006-01-02T15:04:05.000000Z07:00"), program(i), i, i, run, i, clientsMessage("syslog-ng", run, i))
	}
	input := filepath.Join(dir, "in.log")
	if err := os.WriteFile(input, in.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	conf := filepath.Join(dir, "syslog-ng.conf")
	baseURL := s.url("", nil)
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`@version: 3.38
@include "scl.conf"
options { chain-hostnames(no); stats-freq(0); keep-hostname(yes); keep-timestamp(yes); frac-digits(6); };
source s_file { file(%q flags(syslog-protocol) follow-freq(0.1)); };
destination d_http {
  http(url("%s/api/v1/ingest?bucket=%s&msg_field=MESSAGE&time_field=ISODATE&stream_fields=HOST,PROGRAM")
       method("POST") user-agent("syslog-ng-e2e") headers("Content-Type: application/x-ndjson")
       body("$(format-json --scope rfc5424 --scope nv-pairs --exclude DATE --key ISODATE)")
       delimiter("\n") batch-lines(10) batch-timeout(200) workers(1));
};
destination d_es {
  elasticsearch-http(url("%s/_bulk") index("Sng.Es-%s") type("") batch-lines(10) batch-timeout(200) workers(1));
};
destination d_syslog { syslog("127.0.0.1" port(%s) transport("tcp")); };
log { source(s_file); destination(d_http); destination(d_es); destination(d_syslog); };
`, input, baseURL, httpBucket, baseURL, run, syslogPortNum)), 0o600); err != nil {
		t.Fatal(err)
	}

	p := startSyslogNG(t, sng, dir, conf)
	for _, b := range []string{httpBucket, esBucket, syslogBucket} {
		eventually(t, clientsWait, func() string {
			if n := len(clientsQuery(t, s, b, "*")); n < clientsLines {
				if !p.running() {
					t.Fatalf("syslog-ng exited: %v\n%s", p.err, p.out.String())
				}
				return fmt.Sprintf("bucket %s: %d rows, want %d", b, n, clientsLines)
			}
			return ""
		})
	}
	// Stop syslog-ng (it flushes its queues), then count again: nothing
	// may have arrived twice.
	p.stop(t)

	// http() → /api/v1/ingest: format-json's keys; the URL names _msg,
	// _time and the stream fields.
	rows := clientsRows(t, s, httpBucket, clientsLines)
	for i, r := range clientsBySeq(t, "syslog-ng http()", rows, clientsLines, seqField("_SDATA.meta@32473.seq")) {
		what := fmt.Sprintf("syslog-ng http() line %d", i)
		clientsCheck(t, what, r, map[string]string{
			"_msg":    clientsMessage("syslog-ng", run, i),
			"_stream": clientsStream(map[string]string{"HOST": "sng-e2e-host", "PROGRAM": program(i)}),
			"HOST":    "sng-e2e-host", "PROGRAM": program(i), "PID": "4242", "MSGID": fmt.Sprintf("M%d", i),
			"FACILITY": "local0", "PRIORITY": map[string]string{"info": "info", "warn": "warning", "error": "err"}[clientsLevel(i)],
			"_SDATA.meta@32473.trace_id": fmt.Sprintf("trace-%s-%d", run, i),
			"MESSAGE":                    "", "ISODATE": "", // they are _msg and _time
		})
		clientsCheckTime(t, what, r, stamp(i))
	}

	// elasticsearch-http() → /_bulk: the index Sng.Es-RUN maps to the bucket
	// sng-es-RUN, whose configured stream fields apply; MESSAGE is _msg and
	// @timestamp (ISODATE) is _time.
	rows = clientsRows(t, s, esBucket, clientsLines)
	for i, r := range clientsBySeq(t, "syslog-ng elasticsearch-http()", rows, clientsLines, seqField("_SDATA.meta@32473.seq")) {
		what := fmt.Sprintf("syslog-ng elasticsearch-http() line %d", i)
		clientsCheck(t, what, r, map[string]string{
			"_msg":    clientsMessage("syslog-ng", run, i),
			"_stream": clientsStream(map[string]string{"HOST": "sng-e2e-host", "PROGRAM": program(i)}),
			"HOST":    "sng-e2e-host", "PROGRAM": program(i), "PID": "4242", "MSGID": fmt.Sprintf("M%d", i),
			"FACILITY": "local0", "PRIORITY": map[string]string{"info": "info", "warn": "warning", "error": "err"}[clientsLevel(i)],
			"_SDATA.meta@32473.trace_id": fmt.Sprintf("trace-%s-%d", run, i),
			"MESSAGE":                    "", "@timestamp": "",
		})
		clientsCheckTime(t, what, r, stamp(i))
	}

	// syslog() → the TCP listener: RFC 5424, octet-counted.
	rows = clientsRows(t, s, syslogBucket, clientsLines)
	for i, r := range clientsBySeq(t, "syslog-ng syslog()", rows, clientsLines, seqField("meta@32473.seq")) {
		what := fmt.Sprintf("syslog-ng syslog() line %d", i)
		clientsCheck(t, what, r, map[string]string{
			"_msg":     clientsMessage("syslog-ng", run, i),
			"_stream":  clientsStream(map[string]string{"hostname": "sng-e2e-host", "app_name": program(i)}),
			"hostname": "sng-e2e-host", "app_name": program(i), "proc_id": "4242", "msg_id": fmt.Sprintf("M%d", i),
			"facility": "local0", "level": map[string]string{"info": "info", "warn": "warning", "error": "error"}[clientsLevel(i)],
			"meta@32473.trace_id": fmt.Sprintf("trace-%s-%d", run, i),
		})
		clientsCheckTime(t, what, r, stamp(i))
	}
	for _, b := range []string{httpBucket, esBucket, syslogBucket} {
		if got, want := queryCount(t, s, b, "결제"), clientsLines/10; got != want {
			t.Errorf("bucket %s: query 결제: %d rows, want %d", b, got, want)
		}
	}
	clientsOnlyBuckets(t, s, httpBucket, esBucket, syslogBucket)
}

func clientsExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// syslogNGProc is a private syslog-ng instance in the foreground.
type syslogNGProc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

func (p *syslogNGProc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// startSyslogNG starts `syslog-ng -F` with conf and its persist, pid and
// control files in dir (so it touches nothing of a system instance). It is
// killed when the test ends; its output is logged if the test failed.
func startSyslogNG(t *testing.T, sng, dir, conf string) *syslogNGProc {
	t.Helper()
	args := []string{"--no-caps", "-F", "-e", "-f", conf,
		"-R", filepath.Join(dir, "syslog-ng.persist"), "-p", filepath.Join(dir, "syslog-ng.pid"), "-c", filepath.Join(dir, "syslog-ng.ctl")}
	p := &syslogNGProc{out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(sng, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = clientsEnv()
	setProcAttr(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", sng, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if p.running() {
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("syslog-ng %s output:\n%s", strings.Join(args, " "), p.out.String())
		}
	})
	return p
}

// stop sends SIGTERM and requires a clean exit within 20 s.
func (p *syslogNGProc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("syslog-ng exited with %v after SIGTERM\n%s", p.err, p.out.String())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("syslog-ng did not exit within 20s of SIGTERM")
	}
}

// syncBuffer is a bytes.Buffer safe for a process's concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
