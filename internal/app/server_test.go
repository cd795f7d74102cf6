package app

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/config"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs Serve on a loopback port until the test ends.
func start(t *testing.T, tweak func(*config.Config)) (addr string, stop func() error) {
	t.Helper()
	return startLogged(t, tweak, slog.New(slog.DiscardHandler))
}

// startLogged is start with the server's logger.
func startLogged(t *testing.T, tweak func(*config.Config), logger *slog.Logger) (addr string, stop func() error) {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	if tweak != nil {
		tweak(&cfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, &cfg, logger, ln) }()
	addr = ln.Addr().String()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { stop() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSlowlorisIsCut: a client that trickles its headers is disconnected at
// the header timeout, while a healthy client is served meanwhile.
func TestSlowlorisIsCut(t *testing.T) {
	addr, _ := start(t, func(c *config.Config) {
		c.HTTP.ReadHeaderTimeout = config.Duration(300 * time.Millisecond)
	})
	conns := make([]net.Conn, 20)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	resp, err := http.Post("http://"+addr+"/api/v1/ingest?bucket=s", "application/x-ndjson", strings.NewReader(`{"_msg":"healthy"}`))
	if err != nil {
		t.Fatalf("healthy client: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthy client got %d", resp.StatusCode)
	}
	start := time.Now()
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		// The server may answer 408 before closing; either way the
		// connection must end well before our 5 s deadline.
		_, err := io.Copy(io.Discard, bufio.NewReader(c))
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("slow connection %d still open after %v", i, time.Since(start))
		}
	}
}

// TestGracefulShutdownKeepsData: records acknowledged before a shutdown
// are there after a restart on the same directory, and the data
// directory lock is released.
func TestGracefulShutdownKeepsData(t *testing.T) {
	dir := t.TempDir()
	addr, stop := start(t, func(c *config.Config) { c.Data = dir })
	resp, err := http.Post("http://"+addr+"/api/v1/ingest?bucket=g", "", strings.NewReader("{\"_msg\":\"a\"}\n{\"_msg\":\"b\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	addr2, _ := start(t, func(c *config.Config) { c.Data = dir })
	resp, err = http.Get("http://" + addr2 + "/api/v1/buckets/g")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `"records":2`) {
		t.Fatalf("after restart: %s", b)
	}
}

// TestDataDirLocked: a second server on the same directory refuses to start.
func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	start(t, func(c *config.Config) { c.Data = dir })
	cfg := config.Default()
	cfg.Data = dir
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	err = Serve(context.Background(), &cfg, slog.New(slog.DiscardHandler), ln)
	if err == nil || !strings.Contains(err.Error(), "in use by another logbucket process") {
		t.Fatalf("second server on the same directory: %v", err)
	}
}
