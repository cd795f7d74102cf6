package syslog

import (
	"bytes"
	"errors"
	"io"
)

// Framing constants.
const (
	// maxCountDigits bounds MSG-LEN: an octet count has at most 9 digits.
	maxCountDigits = 9
	// scanRoom is the buffer room past the limit in which the rest of a
	// cut line is scanned for its terminator.
	scanRoom = 4096
	// initialBuffer is a Framer's first buffer size.
	initialBuffer = 16 << 10
	// maxEmptyReads bounds the reads in a row that return nothing.
	maxEmptyReads = 100
)

// errBufferFull is an internal invariant violation: a frame that should
// fit the buffer does not.
var errBufferFull = errors.New("syslog framing: buffer full")

// Frame is one message read off a stream.
type Frame struct {
	// Msg is the message without its framing (the octet count, or the
	// terminating LF or NUL) and without trailing LF, CR and NUL bytes. It
	// aliases the Framer's buffer: it is valid until the next Next.
	Msg []byte
	// Size is the message's size on the wire without the framing: the
	// octet count, or the length of the line.
	Size int
	// Truncated reports that Msg is only the first bytes of the message:
	// it was longer than the limit, or the stream ended inside it.
	Truncated bool
	// OctetCounted reports the framing: octet counting (RFC 6587 3.4.1)
	// or a terminator (3.4.2).
	OctetCounted bool
}

// Framer splits a syslog stream into messages. It detects the framing of
// each message: a message that starts with MSG-LEN SP (a non-zero number
// of at most 9 digits and a space) is octet counted, anything else ends at
// the next LF or NUL. Empty messages are skipped. A message longer than
// the limit is cut to it: the rest is read and discarded.
//
// A Framer survives read errors such as timeouts: after one, Next may be
// called again and resumes where the stream stopped. It is not safe for
// concurrent use.
type Framer struct {
	r          io.Reader
	max        int    // longest message kept
	limit      int    // largest buffer
	buf        []byte // buf[start:end] holds the bytes not yet framed
	start, end int
	pending    error // read error to return after the bytes read with it
	eof        bool  // the stream ended; the rest of buf is being drained
	skip       int   // bytes still to discard of a cut octet-counted frame
	cutLine    bool  // buf[start:start+max] is a cut line; the rest is discarded
	cutSize    int   // bytes of the cut line seen so far
}

// NewFramer returns a Framer reading r that cuts messages to
// maxMessageBytes (at least 1).
func NewFramer(r io.Reader, maxMessageBytes int) *Framer {
	maxMessageBytes = max(maxMessageBytes, 1)
	limit := maxMessageBytes + scanRoom
	return &Framer{r: r, max: maxMessageBytes, limit: limit, buf: make([]byte, min(initialBuffer, limit))}
}

// Reset makes f read r from its start, keeping f's buffer and limit.
func (f *Framer) Reset(r io.Reader) {
	*f = Framer{r: r, max: f.max, limit: f.limit, buf: f.buf}
}

// Next returns the next message. At the end of the stream it returns a
// message the stream cut (marked Truncated if octet counted), then io.EOF.
// Other read errors are returned as they happen, and Next may be called
// again after them.
func (f *Framer) Next() (Frame, error) {
	for {
		if f.skip > 0 {
			n := min(f.skip, f.end-f.start)
			f.start += n
			f.skip -= n
			if f.skip > 0 {
				if f.eof {
					return Frame{}, io.EOF
				}
				if err := f.fill(); err != nil && !f.eof {
					return Frame{}, err
				}
				continue
			}
		}
		if !f.cutLine {
			if fr, ok := f.frame(); ok {
				if len(fr.Msg) == 0 {
					continue
				}
				return fr, nil
			}
		}
		if f.cutLine { // possibly set by frame just now
			if fr, ok := f.scanCutLine(); ok {
				return fr, nil
			}
		}
		if f.eof {
			if fr, ok := f.drain(); ok {
				return fr, nil
			}
			return Frame{}, io.EOF
		}
		if err := f.fill(); err != nil && !f.eof {
			return Frame{}, err
		}
	}
}

// frame frames the message at the start of the buffer, if it is all there.
func (f *Framer) frame() (Frame, bool) {
	data := f.buf[f.start:f.end]
	if len(data) == 0 {
		return Frame{}, false
	}
	n, hdr, octet, more := octetHeader(data)
	if more && !f.eof {
		return Frame{}, false
	}
	if octet {
		if n <= f.max {
			if len(data) < hdr+n {
				return Frame{}, false
			}
			f.start += hdr + n
			return Frame{Msg: trimTrailer(data[hdr : hdr+n]), Size: n, OctetCounted: true}, true
		}
		if len(data) < hdr+f.max {
			return Frame{}, false
		}
		f.start += hdr + f.max
		f.skip = n - f.max
		return Frame{Msg: trimTrailer(data[hdr : hdr+f.max]), Size: n, Truncated: true, OctetCounted: true}, true
	}
	if i := indexTerminator(data[:min(len(data), f.max+1)]); i >= 0 {
		f.start += i + 1
		return Frame{Msg: trimTrailer(data[:i]), Size: i}, true
	}
	if len(data) > f.max {
		f.cutLine, f.cutSize = true, f.max
	}
	return Frame{}, false
}

// scanCutLine discards the bytes of the cut line after its first max
// until its terminator, then returns the cut line.
func (f *Framer) scanCutLine() (Frame, bool) {
	scanFrom := f.start + f.max
	scan := f.buf[scanFrom:f.end]
	if i := indexTerminator(scan); i >= 0 {
		f.cutSize += i
		fr := Frame{Msg: trimTrailer(f.buf[f.start:scanFrom]), Size: f.cutSize, Truncated: true}
		f.start = scanFrom + i + 1
		f.cutLine = false
		return fr, true
	}
	f.cutSize += len(scan)
	f.end = scanFrom
	return Frame{}, false
}

// drain returns what is left in the buffer at the end of the stream: a
// cut line, the start of an octet-counted frame, or a line without its
// terminator.
func (f *Framer) drain() (Frame, bool) {
	data := f.buf[f.start:f.end]
	f.start = f.end
	var fr Frame
	switch {
	case f.cutLine:
		f.cutLine = false
		fr = Frame{Msg: trimTrailer(data[:min(len(data), f.max)]), Size: f.cutSize, Truncated: true}
	case len(data) == 0:
		return Frame{}, false
	default:
		if n, hdr, octet, _ := octetHeader(data); octet {
			fr = Frame{Msg: trimTrailer(data[hdr:]), Size: n, Truncated: true, OctetCounted: true}
		} else {
			fr = Frame{Msg: trimTrailer(data), Size: len(data)}
		}
	}
	return fr, len(fr.Msg) > 0
}

// octetHeader parses MSG-LEN SP at the start of data. more reports that
// data is too short to tell.
func octetHeader(data []byte) (n, hdr int, octet, more bool) {
	if data[0] < '1' || data[0] > '9' {
		return 0, 0, false, false
	}
	for i, c := range data {
		switch {
		case isDigit(c) && i < maxCountDigits:
			n = n*10 + int(c-'0')
		case c == ' ':
			return n, i + 1, true, false
		default:
			return 0, 0, false, false
		}
	}
	return 0, 0, false, true
}

// indexTerminator returns the index of the first LF or NUL in b, or -1.
func indexTerminator(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	head := b
	if i >= 0 {
		head = b[:i]
	}
	if j := bytes.IndexByte(head, 0); j >= 0 {
		return j
	}
	return i
}

// fill reads more of the stream into the buffer, making room first. It
// reports a read error only once the bytes read with it are buffered.
func (f *Framer) fill() error {
	if f.pending != nil {
		err := f.pending
		f.pending = nil
		if err == io.EOF {
			f.eof = true
		}
		return err
	}
	if f.start == f.end && !f.cutLine {
		f.start, f.end = 0, 0
	}
	if f.end == len(f.buf) {
		switch {
		case f.start > 0:
			f.end = copy(f.buf, f.buf[f.start:f.end])
			f.start = 0
		case len(f.buf) < f.limit:
			nb := make([]byte, min(2*len(f.buf), f.limit))
			copy(nb, f.buf[:f.end])
			f.buf = nb
		default:
			return errBufferFull
		}
	}
	for range maxEmptyReads {
		n, err := f.r.Read(f.buf[f.end:])
		f.end += n
		if n > 0 {
			f.pending = err
			return nil
		}
		if err != nil {
			if err == io.EOF {
				f.eof = true
			}
			return err
		}
	}
	return io.ErrNoProgress
}
