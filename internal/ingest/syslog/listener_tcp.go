package syslog

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"time"
)

// Accept error backoff bounds (EMFILE and the like).
const (
	acceptRetryMin = 5 * time.Millisecond
	acceptRetryMax = time.Second
)

// maxHandshake bounds a TLS handshake (and IdleTimeout bounds it too).
const maxHandshake = 30 * time.Second

// acceptLoop accepts connections until the listener is closed.
func (l *Listener) acceptLoop(ln net.Listener) {
	defer l.wg.Done()
	backoff := acceptRetryMin
	for {
		c, err := ln.Accept()
		if err != nil {
			if l.isStopping() || errors.Is(err, net.ErrClosed) {
				return
			}
			l.s.Logger.Warn("syslog accept", "network", l.s.Network, "addr", ln.Addr().String(), "err", err)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-l.closing:
				t.Stop()
				return
			}
			backoff = min(2*backoff, acceptRetryMax)
			continue
		}
		backoff = acceptRetryMin
		if !l.track(c) {
			c.Close()
			l.s.Metrics.Connection(ConnRefused)
			continue
		}
		l.s.Metrics.Connection(ConnAccepted)
		go l.serveConn(c)
	}
}

// track registers c and adds its goroutine to the wait group, unless
// MaxConnections are open or the listener is stopping.
func (l *Listener) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping || len(l.conns) >= l.s.MaxConnections {
		return false
	}
	l.conns[c] = struct{}{}
	l.wg.Add(1)
	return true
}

func (l *Listener) untrack(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.conns, c)
}

// serveConn reads messages from c into batches until c ends, is idle, or
// an append fails for good (the connection is then closed: the sender
// keeps what it has not sent yet, and reconnects).
func (l *Listener) serveConn(c net.Conn) {
	defer l.wg.Done()
	defer func() {
		c.Close()
		l.untrack(c)
		l.s.Metrics.Connection(ConnClosed)
	}()
	if tc, ok := c.(*tls.Conn); ok && !l.handshake(tc) {
		return
	}
	s := l.newSession()
	rd := &deadlineReader{c: c}
	fr := NewFramer(rd, l.s.MaxMessageBytes)
	idle := l.s.IdleTimeout
	// last is when the last complete message arrived (at first, when the
	// connection did), moved forward by the time spent appending since:
	// the sender is not idle while the listener does not read.
	last := time.Now()
	flush := func() bool {
		start := time.Now()
		ok := s.flush()
		last = last.Add(time.Since(start))
		return ok
	}
	for {
		rd.deadline = last.Add(idle)
		if due, ok := s.due(); ok && due.Before(rd.deadline) {
			rd.deadline = due
		}
		frame, err := fr.Next()
		now := time.Now()
		switch {
		case err == nil:
			last = now
			s.add(frame, now)
			if s.full() && !flush() {
				return
			}
		case errors.Is(err, os.ErrDeadlineExceeded):
			if due, ok := s.due(); ok && !now.Before(due) {
				if !flush() {
					return
				}
			} else if !now.Before(last.Add(idle)) {
				l.s.Metrics.Connection(ConnIdleTimeout)
				s.flush()
				return
			}
		default:
			if !errors.Is(err, io.EOF) && !l.isStopping() {
				l.s.Metrics.Connection(ConnError)
				l.s.Logger.Debug("syslog read", "network", l.s.Network, "remote", c.RemoteAddr().String(), "err", err)
			}
			s.flush()
			return
		}
	}
}

// handshake runs the TLS handshake of c, bounded by maxHandshake and
// IdleTimeout; Close interrupts it by closing the read side.
func (l *Listener) handshake(c *tls.Conn) bool {
	c.SetDeadline(time.Now().Add(min(maxHandshake, l.s.IdleTimeout)))
	if err := c.Handshake(); err != nil {
		if !l.isStopping() {
			l.s.Metrics.Connection(ConnError)
			l.s.Logger.Debug("syslog tls handshake", "remote", c.RemoteAddr().String(), "err", err)
		}
		return false
	}
	c.SetDeadline(time.Time{})
	return true
}

// deadlineReader sets the connection's read deadline to deadline before
// each read, when it changed.
type deadlineReader struct {
	c             net.Conn
	deadline, set time.Time
}

func (r *deadlineReader) Read(p []byte) (int, error) {
	if !r.deadline.Equal(r.set) {
		if err := r.c.SetReadDeadline(r.deadline); err != nil {
			return 0, err
		}
		r.set = r.deadline
	}
	return r.c.Read(p)
}
