package syslog

import (
	"time"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/model"
)

// session is the batch of one connection (or of the UDP socket): the
// records decoded since the last append. It belongs to one goroutine.
type session struct {
	l     *Listener
	dec   *Decoder
	res   *ingest.Result
	n     int       // messages in res
	bytes int       // bytes of those messages
	first time.Time // receipt time of the first of them
	// formats counts the messages in res by format.
	formats [numFormats]int
}

func (l *Listener) newSession() *session {
	d := NewDecoder(l.s.loc, l.s.StreamFields)
	d.SetOptions(l.s.opts)
	return &session{l: l, dec: d, res: &ingest.Result{}}
}

// add decodes one message received at now into the batch.
func (s *session) add(fr Frame, now time.Time) {
	if s.n == 0 {
		s.first = now
	}
	s.n++
	s.bytes += len(fr.Msg)
	wire := 0
	if fr.Truncated {
		wire = fr.Size
	}
	s.formats[s.dec.decode(fr.Msg, wire, now, s.n, s.res)]++
	if s.l.onAdd != nil {
		s.l.onAdd()
	}
}

// full reports whether the batch must be appended now.
func (s *session) full() bool {
	return s.n >= s.l.s.BatchMessages || s.bytes >= s.l.s.BatchBytes
}

// due returns when the batch must be appended at the latest; ok is false
// when the batch is empty.
func (s *session) due() (t time.Time, ok bool) {
	if s.n == 0 {
		return time.Time{}, false
	}
	return s.first.Add(s.l.s.BatchDelay), true
}

// flush appends the batch, if any, and starts a new one. It reports false
// if the records could not be stored (see Listener.append).
func (s *session) flush() bool {
	if s.n == 0 {
		return true
	}
	res := s.res
	s.res = &ingest.Result{Records: make([]model.Record, 0, len(res.Records))}
	m := s.l.s.Metrics
	for f, n := range s.formats {
		if n > 0 {
			m.Received(Format(f), n)
		}
	}
	for reason, n := range res.Discards {
		m.Discarded(reason, n)
	}
	s.n, s.bytes, s.formats = 0, 0, [numFormats]int{}
	return s.l.append(res)
}
