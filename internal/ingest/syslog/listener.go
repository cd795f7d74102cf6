package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/logbucket/logbucket/internal/ingest"
)

// Appender stores a batch of records. Append returns once the records are
// durable, or with an error; an error that wraps ErrTemporary makes the
// listener retry the same batch (see the package documentation). Append
// must not retain res after it returns (the records' strings it may).
type Appender interface {
	Append(ctx context.Context, bucket string, res *ingest.Result) error
}

// AppenderFunc adapts a function to Appender.
type AppenderFunc func(ctx context.Context, bucket string, res *ingest.Result) error

// Append calls f.
func (f AppenderFunc) Append(ctx context.Context, bucket string, res *ingest.Result) error {
	return f(ctx, bucket, res)
}

// ErrTemporary marks an append error worth retrying (for example a
// saturated commit log): wrap it, fmt.Errorf("%w: %w", ErrTemporary, err).
var ErrTemporary = errors.New("temporary append failure")

// Append retry backoff bounds.
const (
	retryMin = 50 * time.Millisecond
	retryMax = 5 * time.Second
)

// Listener receives syslog messages on one socket and appends them as
// records to one bucket. Create it with New, then Start it; Close it in
// every case.
type Listener struct {
	s   *settings
	app Appender

	// onAdd, if set before Start, is called after each message is added
	// to a batch (tests).
	onAdd func()

	closing chan struct{}  // closed when the listener starts stopping
	wg      sync.WaitGroup // every goroutine the listener started
	// ctx is Start's context, the context of appends. Start sets it
	// before it starts any goroutine; it does not change after.
	ctx context.Context

	mu       sync.Mutex // protects the fields below
	started  bool
	stopping bool
	ln       net.Listener // TCP and TLS
	pc       *net.UDPConn // UDP
	conns    map[net.Conn]struct{}
}

// New validates cfg (and, for TLS, loads the key pair) and returns a
// listener that is not listening yet.
func New(cfg Config, app Appender) (*Listener, error) {
	if app == nil {
		return nil, errors.New("syslog listener: nil appender")
	}
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	return &Listener{s: s, app: app, closing: make(chan struct{}), conns: map[net.Conn]struct{}{}}, nil
}

// Start binds the socket and serves it until Close. ctx is the parent
// context of every append; when it ends, the listener stops as with Close
// and appends in progress are cancelled. Close must still be called to
// wait for the goroutines.
func (l *Listener) Start(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started || l.stopping {
		return fmt.Errorf("syslog %s listener %s: already started or closed", l.s.Network, l.s.Address)
	}
	var lc net.ListenConfig
	if l.s.Network == NetworkUDP {
		pc, err := lc.ListenPacket(ctx, "udp", l.s.Address)
		if err != nil {
			return fmt.Errorf("syslog udp listener: %w", err)
		}
		udp := pc.(*net.UDPConn)
		if l.s.UDPReadBuffer > 0 {
			if err := udp.SetReadBuffer(l.s.UDPReadBuffer); err != nil {
				udp.Close()
				return fmt.Errorf("syslog udp listener %s: set read buffer: %w", udp.LocalAddr(), err)
			}
		}
		l.pc = udp
	} else {
		ln, err := lc.Listen(ctx, "tcp", l.s.Address)
		if err != nil {
			return fmt.Errorf("syslog %s listener: %w", l.s.Network, err)
		}
		if l.s.Network == NetworkTLS {
			ln = tls.NewListener(ln, l.s.tls)
		}
		l.ln = ln
	}
	l.ctx = ctx
	l.started = true
	l.wg.Add(2)
	go l.watch(ctx)
	if l.pc != nil {
		go l.serveUDP(l.pc)
	} else {
		go l.acceptLoop(l.ln)
	}
	return nil
}

// Addr returns the bound address, or nil before Start.
func (l *Listener) Addr() net.Addr {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.ln != nil:
		return l.ln.Addr()
	case l.pc != nil:
		return l.pc.LocalAddr()
	}
	return nil
}

// Close stops the listener: it stops accepting and reading, appends the
// messages already read (one attempt per batch: no retry), and returns
// once every goroutine has ended. To bound the wait on a slow appender,
// cancel Start's context. Close is idempotent.
func (l *Listener) Close() error {
	l.stop()
	l.wg.Wait()
	return nil
}

// watch stops the listener when ctx ends. It ends with the listener.
func (l *Listener) watch(ctx context.Context) {
	defer l.wg.Done()
	select {
	case <-ctx.Done():
		l.stop()
	case <-l.closing:
	}
}

// stop starts stopping: it closes the socket and the read side of every
// connection, which makes every goroutine flush and end.
func (l *Listener) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping {
		return
	}
	l.stopping = true
	close(l.closing)
	if l.ln != nil {
		l.ln.Close()
	}
	if l.pc != nil {
		l.pc.Close()
	}
	for c := range l.conns {
		closeRead(c)
	}
}

func (l *Listener) isStopping() bool {
	select {
	case <-l.closing:
		return true
	default:
		return false
	}
}

// closeRead makes reads of c return io.EOF, leaving it open for the
// connection's goroutine to close.
func closeRead(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if cr, ok := c.(interface{ CloseRead() error }); ok && cr.CloseRead() == nil {
		return
	}
	c.SetReadDeadline(time.Unix(1, 0)) // not a TCP connection: a past deadline
}

// append hands res to the appender, retrying while it fails with
// ErrTemporary and the listener is not stopping. It reports whether the
// records were stored; if not, it counts them as discarded.
func (l *Listener) append(res *ingest.Result) bool {
	n := len(res.Records)
	if n == 0 {
		return true
	}
	backoff := retryMin
	for attempt := 1; ; attempt++ {
		err := l.app.Append(l.ctx, l.s.Bucket, res)
		if err == nil {
			l.s.Metrics.Stored(n)
			return true
		}
		if !errors.Is(err, ErrTemporary) || l.ctx.Err() != nil {
			reason := ReasonAppendFailed
			if l.ctx.Err() != nil {
				reason = ReasonShuttingDown
			}
			l.s.Metrics.Discarded(reason, n)
			l.s.Logger.Error("syslog append", "network", l.s.Network, "bucket", l.s.Bucket, "records", n, "err", err)
			return false
		}
		if attempt == 1 {
			l.s.Logger.Warn("syslog append: retrying", "network", l.s.Network, "bucket", l.s.Bucket, "records", n, "err", err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-l.closing:
			t.Stop()
			l.s.Metrics.Discarded(ReasonShuttingDown, n)
			l.s.Logger.Error("syslog append: stopping before the records were stored", "network", l.s.Network,
				"bucket", l.s.Bucket, "records", n, "attempts", attempt, "err", err)
			return false
		}
		backoff = min(2*backoff, retryMax)
	}
}
