package syslog

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/tlstest"
)

func TestTCPListenerCaptures(t *testing.T) {
	app := newFakeAppender(nil)
	l, m := startListener(t, Config{Network: NetworkTCP}, app)
	c := dialTCP(t, l)
	write(t, c, readFixture(t, "syslog-ng-tcp.bin"))
	write(t, c, readFixture(t, "rsyslog-omfwd-tcp.bin"))
	write(t, c, []byte("<13>Nov 21 23:26:05 h2 cron[7]: newline framed\nplain text, no PRI\n"))
	c.Close()
	got := app.waitRecords(t, 7)
	checkStored(t, got, []string{
		`msg="payment failed for order 17" stream:app_name="checkout" stream:hostname="h1" facility="local0" level="error" proc_id="4242" timeQuality.tzKnown="1" timeQuality.isSynced="0" meta@32473.trace_id="abc123"`,
		`msg="order 18 ok" stream:app_name="checkout" stream:hostname="h1" facility="local0" level="info" timeQuality.tzKnown="1" timeQuality.isSynced="0"`,
		`msg="job nightly finished in 42s" stream:app_name="cron" stream:hostname="h1" facility="cron" level="notice"`,
		`msg="payment failed for order 17" stream:app_name="checkout" stream:hostname="h1" facility="local0" level="error" proc_id="4242" timeQuality.tzKnown="1" timeQuality.isSynced="0" meta@32473.trace_id="abc123"`,
		`msg="job nightly finished in 42s" stream:app_name="cron" stream:hostname="h1" facility="cron" level="notice"`,
		`msg="newline framed" stream:app_name="cron" stream:hostname="h2" facility="user" level="notice" proc_id="7"`,
		`msg="plain text, no PRI" unparsed="true"`,
	})
	if want := time.Date(2026, 11, 21, 23, 25, 7, 0, time.UTC).UnixNano(); got[0].Time != want {
		t.Errorf("time %d, want %d", got[0].Time, want)
	}
	m.waitFor(t, "conn:closed", 1)
	for key, want := range map[string]int{"received:rfc5424": 5, "received:rfc3164": 1, "received:unparsed": 1,
		"stored": 7, "conn:accepted": 1} {
		if got := m.get(key); got != want {
			t.Errorf("%s = %d, want %d (%v)", key, got, want, m.snapshot())
		}
	}
}

func TestTCPOneByteWrites(t *testing.T) {
	app := newFakeAppender(nil)
	l, _ := startListener(t, Config{Network: NetworkTCP}, app)
	c := dialTCP(t, l)
	c.SetNoDelay(true)
	for _, b := range readFixture(t, "loggen-tcp.bin") {
		write(t, c, []byte{b})
	}
	c.Close()
	for i, r := range app.waitRecords(t, 2) {
		if want := fmt.Sprintf("seq: %010d, thread: 0000", i); !strings.HasPrefix(r.Msg, want) {
			t.Errorf("record %d: msg %q, want prefix %q (BOM stripped)", i, r.Msg, want)
		}
	}
}

func TestTCPOversizeMessage(t *testing.T) {
	app := newFakeAppender(nil)
	l, m := startListener(t, Config{Network: NetworkTCP, MaxMessageBytes: 100}, app)
	c := dialTCP(t, l)
	msg := "<14>1 - h - - - - " + strings.Repeat("x", 282)
	write(t, c, []byte(fmt.Sprintf("%d %s<14>1 - h - - - - next\n", len(msg), msg)))
	c.Close()
	checkStored(t, app.waitRecords(t, 2), []string{
		`msg="` + strings.Repeat("x", 82) + `" stream:hostname="h" facility="user" level="info" _truncated="300"`,
		`msg="next" stream:hostname="h" facility="user" level="info"`,
	})
	m.waitFor(t, "discarded:"+ingest.ReasonTruncated, 1)
}

func TestTLSListener(t *testing.T) {
	certFile, keyFile, pool := tlstest.SelfSigned(t)
	app := newFakeAppender(nil)
	l, m := startListener(t, Config{Network: NetworkTLS, CertFile: certFile, KeyFile: keyFile}, app)
	c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write(t, c, readFixture(t, "loggen-tcp.bin"))
	c.Close()
	got := app.waitRecords(t, 2)
	if !strings.HasPrefix(got[1].Msg, "seq: 0000000001") {
		t.Errorf("msg %q", got[1].Msg)
	}

	// A client that does not speak TLS is dropped.
	plain := dialTCP(t, l)
	write(t, plain, []byte("<13>not tls\n"))
	expectServerClose(t, plain)
	m.waitFor(t, "conn:"+ConnError, 1)
}

// TestTLSReadTimeouts checks that a TLS connection survives the read
// timeouts that flush batches, with a Config.TLSConfig.
func TestTLSReadTimeouts(t *testing.T) {
	certFile, keyFile, pool := tlstest.SelfSigned(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	app := newFakeAppender(nil)
	l, _ := startListener(t, Config{Network: NetworkTLS, BatchDelay: 20 * time.Millisecond,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}}, app)
	c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS13})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 3 {
		write(t, c, []byte(fmt.Sprintf("<14>1 - - - - - - m%d\n", i)))
		app.waitRecords(t, i+1) // flushed by the batch delay: a read timed out
	}
	if got := app.records(); got[2].Msg != "m2" {
		t.Fatalf("records %v", renderStored(got))
	}
}

func TestIdleTimeout(t *testing.T) {
	app := newFakeAppender(nil)
	l, m := startListener(t, Config{Network: NetworkTCP, IdleTimeout: 200 * time.Millisecond, BatchDelay: time.Hour}, app)
	c := dialTCP(t, l)
	start := time.Now()
	write(t, c, []byte("<14>1 - h - - - - before idle\n"))
	expectServerClose(t, c)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("closed after %v, before the idle timeout", d)
	}
	checkStored(t, app.waitRecords(t, 1), []string{`msg="before idle" stream:hostname="h" facility="user" level="info"`})
	m.waitFor(t, "conn:"+ConnIdleTimeout, 1)
}

func TestMaxConnections(t *testing.T) {
	app := newFakeAppender(nil)
	l, m := startListener(t, Config{Network: NetworkTCP, MaxConnections: 1, BatchMessages: 1}, app)
	c1 := dialTCP(t, l)
	write(t, c1, []byte("<14>1 - - - - - - one\n"))
	app.waitRecords(t, 1) // c1 is being served

	c2 := dialTCP(t, l)
	expectServerClose(t, c2)
	m.waitFor(t, "conn:"+ConnRefused, 1)

	c1.Close()
	m.waitFor(t, "conn:"+ConnClosed, 1)
	c3 := dialTCP(t, l)
	write(t, c3, []byte("<14>1 - - - - - - three\n"))
	if got := app.waitRecords(t, 2); got[1].Msg != "three" {
		t.Fatalf("second record %q", got[1].Msg)
	}
}

// TestBackpressure checks that the listener stops reading a connection
// while appends fail with ErrTemporary: the sender's writes block.
func TestBackpressure(t *testing.T) {
	var released atomic.Bool
	app := newFakeAppender(func(int) error {
		if !released.Load() {
			return ErrTemporary
		}
		return nil
	})
	l, m := startListener(t, Config{Network: NetworkTCP, BatchMessages: 1}, app)
	c := dialTCP(t, l)
	write(t, c, []byte("<14>1 - - - - - - first\n"))
	app.waitFor(t, "a failed call", func(calls int, _ []model.Record) bool { return calls >= 1 })

	// 32 MiB of 1 MiB messages: more than the socket buffers hold.
	msg := "<14>1 - - - - - - " + strings.Repeat("x", 1<<20-18)
	payload := []byte(strings.Repeat(fmt.Sprintf("%d %s", len(msg), msg), 32))
	c.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
	n, err := c.Write(payload)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write of %d bytes: %d written, error %v; want a timeout (the server kept reading)", len(payload), n, err)
	}
	released.Store(true)
	c.SetWriteDeadline(time.Time{})
	write(t, c, payload[n:])
	c.Close()
	got := app.waitRecords(t, 33)
	if got[0].Msg != "first" || got[32].Fields[len(got[32].Fields)-1].Value != strconv.Itoa(len(msg)) {
		t.Fatalf("records 0 and 32: %v", renderStored([]model.Record{got[0], got[32]}))
	}
	for key := range m.snapshot() {
		if key == "discarded:"+ReasonAppendFailed || key == "discarded:"+ReasonShuttingDown {
			t.Errorf("unexpected discard %s", key)
		}
	}
}

func TestPermanentErrorClosesConnection(t *testing.T) {
	app := newFakeAppender(func(int) error { return errors.New("bucket is read-only") })
	l, m := startListener(t, Config{Network: NetworkTCP, BatchMessages: 1}, app)
	c := dialTCP(t, l)
	write(t, c, []byte("<14>1 - - - - - - lost\n"))
	expectServerClose(t, c)
	m.waitFor(t, "discarded:"+ReasonAppendFailed, 1)
}

// TestAppendTimeIsNotIdle checks that time spent retrying an append does
// not count towards the idle timeout.
func TestAppendTimeIsNotIdle(t *testing.T) {
	app := newFakeAppender(func(call int) error {
		if call <= 4 { // 50+100+200+400 ms of backoff: longer than the idle timeout
			return ErrTemporary
		}
		return nil
	})
	l, m := startListener(t, Config{Network: NetworkTCP, IdleTimeout: 300 * time.Millisecond, BatchMessages: 1}, app)
	c := dialTCP(t, l)
	write(t, c, []byte("<14>1 - - - - - - m1\n"))
	app.waitRecords(t, 1)
	write(t, c, []byte("<14>1 - - - - - - m2\n"))
	if got := app.waitRecords(t, 2); got[1].Msg != "m2" {
		t.Fatalf("records %v", renderStored(got))
	}
	if n := m.get("conn:" + ConnIdleTimeout); n != 0 {
		t.Fatalf("%d idle timeouts", n)
	}
}
