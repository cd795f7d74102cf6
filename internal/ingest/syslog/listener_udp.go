package syslog

import (
	"errors"
	"net"
	"os"
	"time"
)

// maxDatagram is the largest UDP payload (65,507 bytes over IPv4) rounded up.
const maxDatagram = 64 << 10

// UDP read error backoff bounds.
const (
	udpRetryMin = 5 * time.Millisecond
	udpRetryMax = time.Second
)

// serveUDP reads one message per datagram into a batch until the socket
// is closed. A failed append drops its batch (counted) and reading goes
// on: UDP has no sender to push back on. While an append is retried, the
// socket is not read and the kernel drops what overflows its buffer.
func (l *Listener) serveUDP(pc *net.UDPConn) {
	defer l.wg.Done()
	s := l.newSession()
	buf := make([]byte, maxDatagram)
	var set time.Time // the read deadline in force
	backoff := udpRetryMin
	for {
		due, _ := s.due() // zero, no deadline, when the batch is empty
		if !due.Equal(set) {
			if err := pc.SetReadDeadline(due); err != nil {
				s.flush()
				return // closed
			}
			set = due
		}
		n, err := pc.Read(buf)
		now := time.Now()
		if err == nil {
			backoff = udpRetryMin
			msg := trimTrailer(buf[:min(n, l.s.MaxMessageBytes)])
			if len(msg) == 0 {
				continue
			}
			s.add(Frame{Msg: msg, Size: n, Truncated: n > l.s.MaxMessageBytes}, now)
			if s.full() {
				s.flush()
			}
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.flush()
			continue
		}
		if l.isStopping() || errors.Is(err, net.ErrClosed) {
			s.flush()
			return
		}
		l.s.Metrics.Connection(ConnError)
		l.s.Logger.Warn("syslog udp read", "addr", pc.LocalAddr().String(), "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-l.closing:
			t.Stop()
		}
		backoff = min(2*backoff, udpRetryMax)
	}
}
