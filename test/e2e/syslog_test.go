package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/tlstest"
)

// syslogWait bounds the waits of the syslog tests: a hang guard for a slow,
// shared machine, not a latency requirement.
const syslogWait = 60 * time.Second

var syslogListeningRE = regexp.MustCompile(`msg="syslog listening" listener="?([^\s"]+)"? addr="?([^\s"]+)"?`)

// syslogAddr waits until the server logs that the listener labelled
// listener ("tcp://127.0.0.1:0", as configured) listens, and returns the
// address it bound.
func (s *server) syslogAddr(t testing.TB, listener string) string {
	t.Helper()
	var addr string
	eventually(t, syslogWait, func() string {
		for _, m := range syslogListeningRE.FindAllStringSubmatch(s.log.String(), -1) {
			if m[1] == listener {
				addr = m[2]
				return ""
			}
		}
		if !s.running() {
			t.Fatalf("logbucket exited: %s", exitString(s.exitErr()))
		}
		return "no syslog listener " + listener + " in the log"
	})
	return addr
}

// syslogQueryRows runs a LogsQL query over bucket and returns its rows.
func syslogQueryRows(t testing.TB, s *server, bucket, q string) []record {
	t.Helper()
	resp := s.mustDo(t, http.MethodGet, "/select/logsql/query", url.Values{"query": {q}, "bucket": {bucket}}, nil, nil)
	if resp.status != http.StatusOK {
		t.Fatalf("query %q: %s", q, resp)
	}
	rows, err := parseRecords(resp.body)
	if err != nil {
		t.Fatalf("query %q: %v", q, err)
	}
	return rows
}

// syslogFindOne waits until the query `"word"` finds exactly one row in bucket.
func syslogFindOne(t testing.TB, s *server, bucket, word string) record {
	t.Helper()
	var rows []record
	eventually(t, syslogWait, func() string {
		rows = syslogQueryRows(t, s, bucket, `"`+word+`"`)
		if len(rows) == 1 {
			return ""
		}
		return fmt.Sprintf("query %q in bucket %s: %d rows, want 1: %v", word, bucket, len(rows), rows)
	})
	return rows[0]
}

// syslogCheckFields compares the fields of r named in want; _time is
// compared as an instant, written in RFC 3339.
func syslogCheckFields(t testing.TB, r record, want map[string]string) {
	t.Helper()
	for k, w := range want {
		got, ok := r.str(k)
		if k == "_time" {
			wt, err := time.Parse(time.RFC3339Nano, w)
			if err != nil {
				t.Fatalf("bad wanted _time %q: %v", w, err)
			}
			syslogCheckTimeBetween(t, r, wt, wt)
			continue
		}
		if !ok || got != w {
			t.Errorf("row %s: %s = %q, want %q", r, k, got, w)
		}
	}
}

// syslogCheckTimeBetween requires the row's _time between lo and hi.
func syslogCheckTimeBetween(t testing.TB, r record, lo, hi time.Time) {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, r.get("_time"))
	if err != nil {
		t.Fatalf("row %s: _time: %v", r, err)
	}
	if ts.Before(lo) || ts.After(hi) {
		t.Errorf("row %s: _time %s is not between %s and %s", r, ts, lo, hi)
	}
}

// syslogShortHostname is the host name logger(1) sends: up to the first dot.
func syslogShortHostname(t testing.TB) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".")
	return host
}

// syslogRunLogger runs util-linux logger(1) against 127.0.0.1:port. TZ=UTC makes
// its RFC 3164 timestamps, which carry no offset, UTC like the listener's
// default time zone.
func syslogRunLogger(t testing.TB, path, port string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), syslogWait)
	defer cancel()
	args = append([]string{"--server", "127.0.0.1", "--port", port}, args...)
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func syslogPort(t testing.TB, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// syslogOctetFrame frames msg as syslog-ng's syslog() destination does: MSG-LEN
// SP MSG, with the LF inside the counted bytes (ecosystem.md B.1).
func syslogOctetFrame(msg string) string {
	msg += "\n"
	return fmt.Sprintf("%d %s", len(msg), msg)
}

// TestSyslogListeners starts `logbucket server --syslog-tcp --syslog-udp`,
// sends with the real logger(1) over UDP (RFC 3164) and TCP (RFC 5424,
// octet counted) and a raw syslog-ng frame over TCP, and finds each
// message with its fields through /select/logsql/query.
func TestSyslogListeners(t *testing.T) {
	s := startServer(t, t.TempDir(), "--syslog-tcp", "127.0.0.1:0", "--syslog-udp", "127.0.0.1:0", "--syslog-bucket", "net")
	tcpAddr := s.syslogAddr(t, "tcp://127.0.0.1:0")
	udpAddr := s.syslogAddr(t, "udp://127.0.0.1:0")

	t.Run("syslog-ng octet-counted frame", func(t *testing.T) {
		c, err := net.Dial("tcp", tcpAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		frames := syslogOctetFrame(`<131>1 2026-11-21T23:25:07+00:00 sng-host checkout 4242 - [timeQuality tzKnown="1" isSynced="0"][meta@32473 trace_id="abc123"] payment failed for order e2esngpay17`) +
			syslogOctetFrame(`<77>1 2026-11-21T23:25:07.250+01:00 sng-host cron - - - job nightly e2esngcron finished in 42s`)
		if _, err := io.WriteString(c, frames); err != nil {
			t.Fatal(err)
		}
		r := syslogFindOne(t, s, "net", "e2esngpay17")
		syslogCheckFields(t, r, map[string]string{
			"_msg": "payment failed for order e2esngpay17", "_time": "2026-11-21T23:25:07Z",
			"hostname": "sng-host", "app_name": "checkout", "proc_id": "4242", "facility": "local0", "level": "error",
			"meta@32473.trace_id": "abc123", "timeQuality.isSynced": "0", "_stream": `{app_name="checkout",hostname="sng-host"}`,
		})
		r = syslogFindOne(t, s, "net", "e2esngcron")
		syslogCheckFields(t, r, map[string]string{
			"_msg": "job nightly e2esngcron finished in 42s", "_time": "2026-11-21T22:25:07.25Z", "hostname": "sng-host",
			"app_name": "cron", "facility": "cron", "level": "notice",
		})
	})

	t.Run("logger", func(t *testing.T) {
		loggerPath, err := exec.LookPath("logger")
		if err != nil {
			t.Skip("logger (util-linux) is not installed")
		}
		host := syslogShortHostname(t)
		start := time.Now()
		syslogRunLogger(t, loggerPath, syslogPort(t, udpAddr), "--udp", "--rfc3164", "--tag", "e2etag", "--id=4242", "-p", "local3.warning", "hello e2eudp3164 from logger")
		syslogRunLogger(t, loggerPath, syslogPort(t, tcpAddr), "--tcp", "--rfc5424", "--octet-count", "--tag", "t5", "--id=77", "-p", "daemon.err",
			"--msgid", "M1", "--sd-id", "zoo@123", "--sd-param", `tiger="hungry"`, "hello e2etcp5424 from logger")

		r := syslogFindOne(t, s, "net", "e2eudp3164")
		syslogCheckFields(t, r, map[string]string{
			"_msg": "hello e2eudp3164 from logger", "hostname": host, "app_name": "e2etag", "proc_id": "4242",
			"facility": "local3", "level": "warning",
		})
		// RFC 3164 has whole seconds.
		syslogCheckTimeBetween(t, r, start.Truncate(time.Second), time.Now())

		r = syslogFindOne(t, s, "net", "e2etcp5424")
		syslogCheckFields(t, r, map[string]string{
			"_msg": "hello e2etcp5424 from logger", "hostname": host, "app_name": "t5", "proc_id": "77", "msg_id": "M1",
			"facility": "daemon", "level": "error", "zoo@123.tiger": "hungry",
		})
		// logger's RFC 5424 timestamps have microseconds.
		syslogCheckTimeBetween(t, r, start.Truncate(time.Microsecond), time.Now())
	})

	// Every record went to --syslog-bucket; none to the default bucket.
	if n := queryCount(t, s, "default", "*"); n != 0 {
		t.Errorf("bucket default holds %d records, want 0", n)
	}
	s.stop(t)
}

// TestSyslogTLSFromConfigFile starts a TLS listener listed in the YAML
// file, with a self-signed certificate, and sends to it over TLS.
func TestSyslogTLSFromConfigFile(t *testing.T) {
	certFile, keyFile, pool := tlstest.SelfSigned(t)
	cfg := filepath.Join(t.TempDir(), "logbucket.yaml")
	body := fmt.Sprintf(`syslog:
  listeners:
    - network: tls
      address: 127.0.0.1:0
      bucket: secure
      stream_fields: [hostname]
      cert_file: %q
      key_file: %q
`, certFile, keyFile)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, t.TempDir(), "--config", cfg)
	addr := s.syslogAddr(t, "tls://127.0.0.1:0")

	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	// rsyslog's octet-counted RFC 5424, then a newline-framed RFC 3164
	// message in its forward format, on one connection.
	_, err = io.WriteString(c, syslogOctetFrame(`<86>1 2026-11-21T23:26:05.794069+00:00 vault sshd 999 AUTH - accepted e2etlskey for root`)+
		"<38>2026-11-21T23:26:06.5+00:00 vault sshd[999]: session e2etlsopen opened\n")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	r := syslogFindOne(t, s, "secure", "e2etlskey")
	syslogCheckFields(t, r, map[string]string{
		"_msg": "accepted e2etlskey for root", "_time": "2026-11-21T23:26:05.794069Z", "hostname": "vault",
		"app_name": "sshd", "proc_id": "999", "msg_id": "AUTH", "facility": "authpriv", "level": "info",
		"_stream": `{hostname="vault"}`,
	})
	r = syslogFindOne(t, s, "secure", "e2etlsopen")
	syslogCheckFields(t, r, map[string]string{
		"_msg": "session e2etlsopen opened", "_time": "2026-11-21T23:26:06.5Z", "hostname": "vault",
		"app_name": "sshd", "proc_id": "999", "facility": "auth", "level": "info",
	})

	// A client that does not trust the certificate is refused, and the
	// listener goes on serving.
	if c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		c.Close()
		t.Error("a TLS client without the CA completed the handshake")
	}
	s.healthy(t)
	s.stop(t)
}
