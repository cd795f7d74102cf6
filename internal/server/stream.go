package server

import (
	"net/http"

	"github.com/logbucket/logbucket/internal/jsonstr"
)

// streamWriter batches NDJSON lines into ~64 KiB writes and flushes them
// to the client, so results stream as they are found.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	b       []byte
	started bool
}

func newStreamWriter(w http.ResponseWriter) *streamWriter {
	return &streamWriter{w: w, rc: http.NewResponseController(w), b: make([]byte, 0, 64<<10)}
}

// buf returns the buffer to append the next line to.
func (s *streamWriter) buf() []byte { return s.b }

// write takes the buffer back with a line appended, sending when full.
func (s *streamWriter) write(b []byte) error {
	s.b = b
	if len(s.b) >= 48<<10 {
		return s.send()
	}
	return nil
}

func (s *streamWriter) send() error {
	if len(s.b) == 0 {
		return nil
	}
	s.started = true
	_, err := s.w.Write(s.b)
	s.b = s.b[:0]
	return err
}

// flush sends what is buffered and pushes it to the client.
func (s *streamWriter) flush() {
	if s.send() == nil {
		_ = s.rc.Flush()
	}
}

func quoteJSON(s string) []byte { return jsonstr.Append(nil, s) }
