package syslog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// renderStored renders records without their time, which is the receipt
// time for some: tests check message times apart.
func renderStored(rs []model.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, renderRecord(r, time.Unix(0, r.Time)))
	}
	return out
}

func checkStored(t *testing.T, got []model.Record, want []string) {
	t.Helper()
	g := renderStored(got)
	if !slices.Equal(g, want) {
		t.Fatalf("stored records\n got %s\nwant %s", strings.Join(g, "\n     "), strings.Join(want, "\n     "))
	}
}

func TestBatching(t *testing.T) {
	app := newFakeAppender(nil)
	l, _ := startListener(t, Config{Network: NetworkTCP, BatchMessages: 3, BatchDelay: time.Hour}, app)
	c := dialTCP(t, l)
	var msgs strings.Builder
	for i := range 7 {
		fmt.Fprintf(&msgs, "<14>1 - - - - - - m%d\n", i)
	}
	write(t, c, []byte(msgs.String()))
	app.waitFor(t, "two full batches", func(calls int, _ []model.Record) bool { return calls >= 2 })
	c.Close() // the last message goes with the connection's end
	app.waitRecords(t, 7)
	_, batches := app.state()
	var sizes []int
	for _, b := range batches {
		sizes = append(sizes, len(b))
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Fatalf("batch sizes %v, want [3 3 1]", sizes)
	}
}

func TestBatchDelay(t *testing.T) {
	app := newFakeAppender(nil)
	l, _ := startListener(t, Config{Network: NetworkTCP, BatchDelay: 20 * time.Millisecond}, app)
	c := dialTCP(t, l)
	write(t, c, []byte("<14>1 - - - - - - alone\n"))
	app.waitRecords(t, 1) // appended while the connection stays open
}

func TestTemporaryErrorRetries(t *testing.T) {
	overloaded := errors.New("commit log is saturated")
	app := newFakeAppender(func(call int) error {
		if call <= 2 {
			return fmt.Errorf("%w: %w", ErrTemporary, overloaded)
		}
		return nil
	})
	l, m := startListener(t, Config{Network: NetworkTCP}, app)
	c := dialTCP(t, l)
	write(t, c, []byte("<14>1 - - - - - - a\n<14>1 - - - - - - b\n"))
	c.Close()
	got := app.waitRecords(t, 2)
	m.waitFor(t, "stored", 2)
	calls, _ := app.state()
	if calls != 3 || len(got) != 2 || got[0].Msg != "a" || got[1].Msg != "b" {
		t.Fatalf("%d calls, records %v; want 3 calls storing a and b once", calls, renderStored(got))
	}
	for key := range m.snapshot() {
		if strings.HasPrefix(key, "discarded:") {
			t.Errorf("unexpected discard %s", key)
		}
	}
}

func TestCloseFlushesPendingBatch(t *testing.T) {
	added := make(chan struct{}, 1)
	app := newFakeAppender(nil)
	l, m := startListenerHook(t, Config{Network: NetworkTCP, BatchDelay: time.Hour}, app, func() { added <- struct{}{} })
	c := dialTCP(t, l)
	write(t, c, []byte("<14>1 - - - - - - pending\n"))
	select {
	case <-added:
	case <-time.After(waitLimit):
		t.Fatal("the message was not read")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := app.records(); len(got) != 1 || got[0].Msg != "pending" {
		t.Fatalf("records after Close: %v", renderStored(got))
	}
	if m.get("conn:"+ConnClosed) != 1 {
		t.Fatalf("metrics %v", m.snapshot())
	}
	expectServerClose(t, c)
}

func TestCloseStopsRetrying(t *testing.T) {
	app := newFakeAppender(func(int) error { return ErrTemporary })
	l, m := startListener(t, Config{Network: NetworkTCP, BatchMessages: 1}, app)
	c := dialTCP(t, l)
	write(t, c, []byte("<14>1 - - - - - - stuck\n"))
	app.waitFor(t, "a failed call", func(calls int, _ []model.Record) bool { return calls >= 1 })
	l.Close()
	if got := m.get("discarded:" + ReasonShuttingDown); got != 1 {
		t.Fatalf("shutting_down discards %d, want 1 (%v)", got, m.snapshot())
	}
}

func TestStartContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := New(Config{Network: NetworkTCP, Address: "127.0.0.1:0", Bucket: "logs"}, newFakeAppender(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := dialTCP(t, l)
	write(t, c, []byte("<14>1 - - - - - - x\n"))
	cancel()
	expectServerClose(t, c)
	l.Close()
	if err := l.Start(context.Background()); err == nil {
		t.Fatal("Start after Close succeeded")
	}
}

func TestNewErrors(t *testing.T) {
	app := newFakeAppender(nil)
	base := Config{Network: NetworkTCP, Address: "127.0.0.1:0", Bucket: "logs"}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"network", func(c *Config) { c.Network = "sctp" }, `network "sctp"`},
		{"address", func(c *Config) { c.Address = "" }, "no address"},
		{"bucket", func(c *Config) { c.Bucket = "Bad Bucket" }, "bucket name"},
		{"negative limit", func(c *Config) { c.BatchDelay = -1 }, "negative batch delay"},
		{"time zone", func(c *Config) { c.TimeZone = "Mars/Olympus" }, "time zone"},
		{"tls without cert", func(c *Config) { c.Network = NetworkTLS }, "needs CertFile"},
		{"tls missing files", func(c *Config) { c.Network, c.CertFile, c.KeyFile = NetworkTLS, "/nonexistent/c", "/nonexistent/k" }, "load key pair"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			if _, err := New(cfg, app); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if _, err := New(base, nil); err == nil {
		t.Fatal("nil appender accepted")
	}
	l, err := New(base, app)
	if err != nil {
		t.Fatal(err)
	}
	if l.Addr() != nil {
		t.Fatal("address before Start")
	}
	if err := l.Close(); err != nil { // Close before Start
		t.Fatal(err)
	}
}

func TestStartBindError(t *testing.T) {
	l1, _ := startListener(t, Config{Network: NetworkTCP}, newFakeAppender(nil))
	l2, err := New(Config{Network: NetworkTCP, Address: l1.Addr().String(), Bucket: "logs"}, newFakeAppender(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if err := l2.Start(context.Background()); err == nil {
		t.Fatal("second bind of the same port succeeded")
	}
}
