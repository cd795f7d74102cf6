package app

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/syslog"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/tlstest"
)

// waitLimit bounds every wait of these tests; it is a hang guard, not a
// timing requirement: the machine may be slow and shared.
const waitLimit = 60 * time.Second

// listenLog is a slog handler that keeps the bound address of every
// "syslog listening" record by its listener label.
type listenLog struct {
	mu    sync.Mutex
	addrs map[string]string
}

func (h *listenLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *listenLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *listenLog) WithGroup(string) slog.Handler            { return h }
func (h *listenLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "syslog listening" {
		return nil
	}
	var listener, addr string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "listener":
			listener = a.Value.String()
		case "addr":
			addr = a.Value.String()
		}
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.addrs == nil {
		h.addrs = map[string]string{}
	}
	h.addrs[listener] = addr
	return nil
}

// wait returns the bound addresses once n listeners are listening.
func (h *listenLog) wait(t *testing.T, n int) map[string]string {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		h.mu.Lock()
		if len(h.addrs) >= n {
			out := make(map[string]string, len(h.addrs))
			for k, v := range h.addrs {
				out[k] = v
			}
			h.mu.Unlock()
			return out
		}
		h.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d syslog listeners are listening, want %d", waitLimit, len(h.addrs), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// listener is a syslog listener of the file's list.
func listener(network, addr, bucket string) config.SyslogListener {
	l := config.DefaultSyslogListener()
	l.Network, l.Address, l.Bucket = network, addr, bucket
	return l
}

// readBucket returns every record of a one-partition bucket, or nil if it
// does not exist yet.
func readBucket(t *testing.T, addr, bucket string) []map[string]any {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/buckets/" + bucket + "/partitions/0/records?offset=earliest")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("read %s: %d %s", bucket, resp.StatusCode, b)
	}
	var out []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("read %s: line %q: %v", bucket, sc.Text(), err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitBucket polls a bucket until it holds n records.
func waitBucket(t *testing.T, addr, bucket string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		recs := readBucket(t, addr, bucket)
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, bucket %s holds %d records, want %d: %v", waitLimit, bucket, len(recs), n, recs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkRecord compares the fields of rec named in want; "_time" is
// compared as an instant.
func checkRecord(t *testing.T, rec map[string]any, want map[string]string) {
	t.Helper()
	for k, w := range want {
		got, _ := rec[k].(string)
		if k == "_time" {
			gt, err1 := time.Parse(time.RFC3339Nano, got)
			wt, err2 := time.Parse(time.RFC3339Nano, w)
			if err1 != nil || err2 != nil || !gt.Equal(wt) {
				t.Errorf("record %v: _time %q, want %s", rec, got, w)
			}
			continue
		}
		if got != w {
			t.Errorf("record %v: %s = %q, want %q", rec, k, got, w)
		}
	}
}

// octet frames msg as syslog-ng and rsyslog do: MSG-LEN SP MSG, the LF
// inside the count.
func octet(msg string) string {
	msg += "\n"
	return fmt.Sprintf("%d %s", len(msg), msg)
}

func findMsg(recs []map[string]any, msg string) map[string]any {
	for _, r := range recs {
		if r["_msg"] == msg {
			return r
		}
	}
	return nil
}

// metricValue returns the value of one series of /metrics, or -1.
func metricValue(t *testing.T, addr, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err == nil {
				return v
			}
		}
	}
	return -1
}

func waitMetric(t *testing.T, addr, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		got := metricValue(t, addr, series)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %s = %v, want %v", waitLimit, series, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSyslogListenersServe: Serve starts a TCP, a UDP and a TLS listener
// from the file's list and one TCP listener from a flag; what they receive
// reaches the commit log, in the configured buckets, with the syslog fields;
// the metrics count it; shutdown stops them (goleak checks the goroutines).
func TestSyslogListenersServe(t *testing.T) {
	certFile, keyFile, pool := tlstest.SelfSigned(t)
	logs := &listenLog{}
	addr, stop := startLogged(t, func(c *config.Config) {
		c.BucketDefaults.Partitions = 1
		tlsl := listener("tls", "127.0.0.1:0", "secure")
		tlsl.CertFile, tlsl.KeyFile = certFile, keyFile
		c.Syslog.Listeners = []config.SyslogListener{
			listener("tcp", "127.0.0.1:0", ""), // ingest.default_bucket
			listener("udp", "127.0.0.1:0", "udp-logs"),
			tlsl,
		}
		c.Syslog.TCP = []string{"localhost:0"}
		c.Syslog.Bucket = "flagged"
	}, slog.New(logs))
	addrs := logs.wait(t, 4)
	for _, l := range []string{"tcp://127.0.0.1:0", "udp://127.0.0.1:0", "tls://127.0.0.1:0", "tcp://localhost:0"} {
		if a := addrs[l]; a == "" || strings.HasSuffix(a, ":0") {
			t.Fatalf("listener %s: bound address %q (all: %v)", l, a, addrs)
		}
	}

	// TCP: a syslog-ng octet-counted RFC 5424 frame, then an LF-framed
	// RFC 3164 message on the same connection.
	legacy := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	c, err := net.Dial("tcp", addrs["tcp://127.0.0.1:0"])
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.WriteString(c, octet(`<131>1 2026-11-21T23:25:07.123456+01:00 web1 checkout 4242 - [timeQuality tzKnown="1" isSynced="0"][meta@32473 trace_id="abc123"] payment failed for order 17`)+
		"<77>"+legacy.Format(time.Stamp)+" web1 cron: job nightly finished in 42s\n")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	// UDP: rsyslog's forward format, one datagram.
	u, err := net.Dial("udp", addrs["udp://127.0.0.1:0"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(u, "<134>2026-11-21T23:26:05.794069+00:00 web2 nginx[77]: GET /health 200"); err != nil {
		t.Fatal(err)
	}
	u.Close()

	// TLS, with the self-signed certificate.
	tc, err := tls.Dial("tcp", addrs["tls://127.0.0.1:0"], &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(tc, octet("<85>1 2026-11-22T01:02:03Z vault sshd 999 AUTH - accepted publickey")); err != nil {
		t.Fatal(err)
	}
	tc.Close()

	// The listener of --syslog-tcp, to --syslog-bucket.
	f, err := net.Dial("tcp", addrs["tcp://localhost:0"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(f, "<14>Nov  3 04:05:06 box app: from the flag listener\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()

	recs := waitBucket(t, addr, "default", 2)
	checkRecord(t, findMsg(recs, "payment failed for order 17"), map[string]string{
		"_time": "2026-11-21T22:25:07.123456Z", "hostname": "web1", "app_name": "checkout", "proc_id": "4242",
		"facility": "local0", "level": "error", "meta@32473.trace_id": "abc123", "timeQuality.tzKnown": "1",
		"_stream": `{app_name="checkout",hostname="web1"}`,
	})
	checkRecord(t, findMsg(recs, "job nightly finished in 42s"), map[string]string{
		"_time": legacy.Format(time.RFC3339), "hostname": "web1", "app_name": "cron", "facility": "cron", "level": "notice",
	})
	checkRecord(t, waitBucket(t, addr, "udp-logs", 1)[0], map[string]string{
		"_msg": "GET /health 200", "_time": "2026-11-21T23:26:05.794069Z", "hostname": "web2", "app_name": "nginx",
		"proc_id": "77", "facility": "local0", "level": "info",
	})
	checkRecord(t, waitBucket(t, addr, "secure", 1)[0], map[string]string{
		"_msg": "accepted publickey", "_time": "2026-11-22T01:02:03Z", "hostname": "vault", "app_name": "sshd",
		"msg_id": "AUTH", "facility": "authpriv", "level": "notice",
	})
	checkRecord(t, waitBucket(t, addr, "flagged", 1)[0], map[string]string{
		"_msg": "from the flag listener", "hostname": "box", "app_name": "app", "facility": "user", "level": "info",
	})

	waitMetric(t, addr, `logbucket_syslog_records_total{bucket="default",listener="tcp://127.0.0.1:0"}`, 2)
	waitMetric(t, addr, `logbucket_syslog_records_total{bucket="udp-logs",listener="udp://127.0.0.1:0"}`, 1)
	waitMetric(t, addr, `logbucket_syslog_records_total{bucket="secure",listener="tls://127.0.0.1:0"}`, 1)
	waitMetric(t, addr, `logbucket_syslog_records_total{bucket="flagged",listener="tcp://localhost:0"}`, 1)
	waitMetric(t, addr, `logbucket_syslog_messages_total{format="rfc5424",listener="tcp://127.0.0.1:0"}`, 1)
	waitMetric(t, addr, `logbucket_syslog_messages_total{format="rfc3164",listener="tcp://127.0.0.1:0"}`, 1)
	waitMetric(t, addr, `logbucket_syslog_connection_events_total{event="closed",listener="tls://127.0.0.1:0"}`, 1)
	waitMetric(t, addr, `logbucket_syslog_open_connections{listener="tcp://127.0.0.1:0"}`, 0)

	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestSyslogStartFailures: a listener that cannot start fails start-up
// with an error naming it, and Serve releases everything it took.
func TestSyslogStartFailures(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyAddr := busy.Addr().String()
	tests := []struct {
		name  string
		tweak func(c *config.Config)
		want  []string
	}{
		{"address in use", func(c *config.Config) {
			c.Syslog.Listeners = []config.SyslogListener{listener("udp", "127.0.0.1:0", ""), listener("tcp", busyAddr, "")}
		}, []string{"start syslog listener syslog.listeners[1] (tcp " + busyAddr + "): ", "address already in use", "(choose a free address)"}},
		{"address in use by a flag listener", func(c *config.Config) { c.Syslog.TCP = []string{busyAddr} },
			[]string{"start syslog listener --syslog-tcp (tcp " + busyAddr + "): "}},
		{"missing key pair", func(c *config.Config) {
			l := listener("tls", "127.0.0.1:0", "")
			l.CertFile, l.KeyFile = filepath.Join(t.TempDir(), "none.crt"), filepath.Join(t.TempDir(), "none.key")
			c.Syslog.Listeners = []config.SyslogListener{l}
		}, []string{"syslog listener syslog.listeners[0] (tls 127.0.0.1:0): ", "load key pair", "none.crt"}},
		{"missing bucket without auto-create", func(c *config.Config) {
			c.Ingest.AutoCreateBuckets = false
			c.Syslog.UDP = []string{"127.0.0.1:0"}
			c.Syslog.Bucket = "net"
		}, []string{`syslog listener --syslog-udp (udp 127.0.0.1:0): bucket "net" does not exist and ingest.auto_create_buckets is off`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Data = t.TempDir()
			tt.tweak(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("the configuration is invalid: %v", err)
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			err = Serve(context.Background(), &cfg, slog.New(slog.DiscardHandler), ln)
			if err == nil {
				t.Fatal("Serve succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Serve() = %q\nwant it to contain %q", err, w)
				}
			}
			if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
				c.Close()
				t.Error("the HTTP listener is still open")
			}
			// The data directory is unlocked: a server starts on it.
			addr, stop := start(t, func(c *config.Config) { c.Data = cfg.Data })
			if addr == "" || stop() != nil {
				t.Error("no server after the failed start")
			}
		})
	}
}

// fakeLog is a commit log whose Append fails with errs, in turn, then
// succeeds.
type fakeLog struct {
	commitlog.Log
	errs    []error
	buckets map[string]bool
	appends []commitlog.AppendRequest
}

func (f *fakeLog) Append(_ context.Context, req commitlog.AppendRequest) (commitlog.AppendResult, error) {
	if !f.buckets[req.Bucket] {
		return commitlog.AppendResult{}, fmt.Errorf("append to %s: %w", req.Bucket, commitlog.ErrBucketNotFound)
	}
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return commitlog.AppendResult{}, err
	}
	f.appends = append(f.appends, req)
	return commitlog.AppendResult{}, nil
}

func (f *fakeLog) CreateBucket(_ context.Context, name string) error {
	f.buckets[name] = true
	return nil
}

func TestSyslogAppender(t *testing.T) {
	res := &ingest.Result{Records: []model.Record{{Msg: "a"}, {Msg: "b"}}}
	tests := []struct {
		name       string
		autoCreate bool
		exists     bool
		err        error
		temporary  bool
		wantErr    string
	}{
		{name: "stored", exists: true},
		{name: "bucket created", autoCreate: true},
		{name: "no bucket", wantErr: `bucket "b" does not exist and ingest.auto_create_buckets is off`},
		{name: "overloaded", exists: true, err: fmt.Errorf("partition b/0: %w", commitlog.ErrOverloaded), temporary: true},
		{name: "overloaded new bucket", autoCreate: true, err: commitlog.ErrOverloaded, temporary: true},
		{name: "read-only", exists: true, err: commitlog.ErrReadOnly, temporary: true},
		{name: "closed", exists: true, err: commitlog.ErrClosed, wantErr: "commit log is closed"},
		{name: "cancelled", exists: true, err: context.Canceled, wantErr: "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &fakeLog{buckets: map[string]bool{"b": tt.exists}}
			if tt.err != nil {
				log.errs = []error{tt.err}
			}
			a := &syslogAppender{log: log, autoCreate: tt.autoCreate}
			err := a.Append(context.Background(), "b", res)
			switch {
			case tt.temporary:
				if !errors.Is(err, syslog.ErrTemporary) || !errors.Is(err, tt.err) {
					t.Fatalf("Append() = %v, want syslog.ErrTemporary wrapping %v", err, tt.err)
				}
			case tt.wantErr != "":
				if err == nil || errors.Is(err, syslog.ErrTemporary) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Append() = %v, want a permanent error containing %q", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("Append() = %v", err)
				}
				if len(log.appends) != 1 || log.appends[0].Bucket != "b" || len(log.appends[0].Records) != 2 || log.appends[0].BatchID != "" {
					t.Fatalf("appends = %+v", log.appends)
				}
			}
		})
	}
}

// TestSyslogDefaultsAgree: the defaults package config documents for a
// listener are those package syslog applies.
func TestSyslogDefaultsAgree(t *testing.T) {
	d := config.DefaultSyslogListener()
	if int(d.MaxMessageBytes) != syslog.DefaultMaxMessageBytes || time.Duration(d.IdleTimeout) != syslog.DefaultIdleTimeout ||
		d.MaxConnections != syslog.DefaultMaxConnections || !reflect.DeepEqual(d.StreamFields, syslog.DefaultStreamFields()) {
		t.Fatalf("config.DefaultSyslogListener() = %+v; package syslog: %d bytes, %v, %d connections, %v", d,
			syslog.DefaultMaxMessageBytes, syslog.DefaultIdleTimeout, syslog.DefaultMaxConnections, syslog.DefaultStreamFields())
	}
	if config.SyslogTCP != syslog.NetworkTCP || config.SyslogTLS != syslog.NetworkTLS || config.SyslogUDP != syslog.NetworkUDP {
		t.Fatal("network names differ")
	}
}
