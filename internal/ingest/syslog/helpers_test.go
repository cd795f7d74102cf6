package syslog

import (
	"context"
	"errors"
	"io"
	"maps"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/model"
)

// waitLimit bounds every wait of the listener tests; reaching it fails.
const waitLimit = 10 * time.Second

// fakeAppender records the batches it is given. fail, if set, decides the
// result of each call (1-based); a failed call records nothing.
type fakeAppender struct {
	fail    func(call int) error
	changed chan struct{} // signalled after each call

	mu      sync.Mutex // protects the fields below
	calls   int
	batches [][]model.Record
}

func newFakeAppender(fail func(int) error) *fakeAppender {
	return &fakeAppender{fail: fail, changed: make(chan struct{}, 1)}
}

func (a *fakeAppender) Append(ctx context.Context, bucket string, res *ingest.Result) error {
	if bucket != "logs" {
		return errors.New("wrong bucket " + bucket)
	}
	a.mu.Lock()
	a.calls++
	var err error
	if a.fail != nil {
		err = a.fail(a.calls)
	}
	if err == nil {
		a.batches = append(a.batches, slices.Clone(res.Records))
	}
	a.mu.Unlock()
	select {
	case a.changed <- struct{}{}:
	default:
	}
	return err
}

// state returns the number of calls and the stored batches.
func (a *fakeAppender) state() (int, [][]model.Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls, slices.Clone(a.batches)
}

func (a *fakeAppender) records() []model.Record {
	_, batches := a.state()
	return slices.Concat(batches...)
}

// waitFor waits until cond holds, re-checking it after every call.
func (a *fakeAppender) waitFor(t *testing.T, what string, cond func(calls int, records []model.Record) bool) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		calls, _ := a.state()
		if cond(calls, a.records()) {
			return
		}
		select {
		case <-a.changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s (%d calls, %d records)", what, calls, len(a.records()))
		}
	}
}

func (a *fakeAppender) waitRecords(t *testing.T, n int) []model.Record {
	t.Helper()
	a.waitFor(t, "records", func(_ int, rs []model.Record) bool { return len(rs) >= n })
	return a.records()
}

// testMetrics counts every event under "received:<format>", "stored",
// "discarded:<reason>" and "conn:<event>".
type testMetrics struct {
	changed chan struct{} // signalled after each count

	mu     sync.Mutex // protects counts
	counts map[string]int
}

func newTestMetrics() *testMetrics {
	return &testMetrics{changed: make(chan struct{}, 1), counts: map[string]int{}}
}

func (m *testMetrics) add(key string, n int) {
	m.mu.Lock()
	m.counts[key] += n
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

func (m *testMetrics) Received(f Format, n int)       { m.add("received:"+f.String(), n) }
func (m *testMetrics) Stored(n int)                   { m.add("stored", n) }
func (m *testMetrics) Discarded(reason string, n int) { m.add("discarded:"+reason, n) }
func (m *testMetrics) Connection(event string)        { m.add("conn:"+event, 1) }

func (m *testMetrics) get(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[key]
}

func (m *testMetrics) snapshot() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.counts)
}

// waitFor waits until the count of key reaches n.
func (m *testMetrics) waitFor(t *testing.T, key string, n int) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for m.get(key) < n {
		select {
		case <-m.changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s >= %d: %v", key, n, m.snapshot())
		}
	}
}

// startListener starts a listener on 127.0.0.1:0 for bucket "logs" and
// closes it at the end of the test.
func startListener(t *testing.T, cfg Config, app Appender) (*Listener, *testMetrics) {
	t.Helper()
	return startListenerHook(t, cfg, app, nil)
}

func startListenerHook(t *testing.T, cfg Config, app Appender, onAdd func()) (*Listener, *testMetrics) {
	t.Helper()
	m := newTestMetrics()
	cfg.Address, cfg.Bucket, cfg.Metrics = "127.0.0.1:0", "logs", m
	l, err := New(cfg, app)
	if err != nil {
		t.Fatal(err)
	}
	l.onAdd = onAdd
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, m
}

// dialTCP connects to l and closes the connection at the end of the test.
func dialTCP(t *testing.T, l *Listener) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

func write(t *testing.T, c net.Conn, data []byte) {
	t.Helper()
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
}

// expectServerClose reads c until the server closes it.
func expectServerClose(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitLimit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server did not close the connection")
	}
}
