package ship

import (
	"bytes"
	"regexp"

	"github.com/valyala/fastjson"
)

type multilineMode int

const (
	modeAuto  multilineMode = iota // built-in stack trace rules
	modeStart                      // a line matching the start pattern starts a record
	modeOff                        // every line is a record
)

// traceState is what the auto rules remember of the record being joined.
type traceState int

const (
	stNone    traceState = iota
	stGo                 // after "goroutine N [...]:": Go frames continue
	stPyTrace            // after "Traceback (most recent call last):"
)

// autoPrefixes start continuation lines in auto mode (besides any line
// that starts with a space or a tab).
var autoPrefixes = [][]byte{
	[]byte("at "),
	[]byte("Caused by:"),
	[]byte("..."),
	[]byte("goroutine "),
	[]byte("created by "),
	[]byte("[signal "),
	[]byte("Suppressed:"),
	[]byte("Traceback (most recent call last):"),
	[]byte("During handling of the above exception"),
	[]byte("The above exception was the direct cause"),
}

var (
	prefixGoroutine = []byte("goroutine ")
	prefixTraceback = []byte("Traceback (most recent call last):")
)

// joiner turns lines into records: it joins the lines of a multi-line
// record (stack traces) with "\n" and hands each complete record to emit.
// A line that is a JSON object is always a record of its own, sent as the
// object. Blank lines between records are dropped; blank lines inside a
// record (a Go panic's) are kept when a continuation line follows.
//
// joiner also keeps the offset up to which the file is fully turned into
// emitted records (safe): a batch may end there and a restart resume there.
// Not safe for concurrent use.
type joiner struct {
	mode     multilineMode
	start    *regexp.Regexp
	maxLines int
	maxBytes int
	// emit receives each record; text is only valid during the call.
	emit func(text []byte, isJSON bool)

	rec      []byte // the pending record's text
	recLines int    // its lines, 0 when none is pending
	blanks   int    // blank lines held after it
	state    traceState
	lastEnd  int64 // end offset of the last line added
	safe     int64
}

func newJoiner(m Multiline, emit func([]byte, bool)) *joiner {
	j := &joiner{maxLines: m.MaxLines, maxBytes: m.MaxBytes, emit: emit}
	switch m.Mode {
	case "off":
		j.mode = modeOff
	case "start":
		j.mode = modeStart
		j.start = regexp.MustCompile(m.Start) // checked by Validate
	}
	return j
}

// reset forgets any pending record and starts at offset off.
func (j *joiner) reset(off int64) {
	j.rec, j.recLines, j.blanks, j.state = j.rec[:0], 0, 0, stNone
	j.lastEnd, j.safe = off, off
}

// pending reports whether a record is waiting for more lines.
func (j *joiner) pending() bool { return j.recLines > 0 }

// add takes one line (without its line ending) that spans [start, end) of
// the file.
func (j *joiner) add(line []byte, start, end int64) {
	j.lastEnd = end
	if isBlank(line) {
		if j.recLines == 0 {
			j.safe = end
		} else {
			j.blanks++
		}
		return
	}
	if line[0] == '{' && fastjson.ValidateBytes(line) == nil {
		j.flushAt(start)
		j.emit(line, true)
		j.safe = end
		return
	}
	if j.recLines > 0 && j.continues(line) && j.fits(line) {
		for range j.blanks + 1 {
			j.rec = append(j.rec, '\n')
		}
		j.rec = append(j.rec, line...)
		j.recLines += j.blanks + 1
		j.blanks = 0
		j.state = nextState(j.state, line)
		return
	}
	j.flushAt(start)
	j.rec = append(j.rec[:0], line...)
	j.recLines = 1
	j.safe = start
	j.state = nextState(stNone, line)
}

// flush emits the pending record (its time is up, or the file ends).
func (j *joiner) flush() { j.flushAt(j.lastEnd) }

func (j *joiner) flushAt(off int64) {
	if j.recLines > 0 {
		j.emit(j.rec, false)
		j.rec, j.recLines = j.rec[:0], 0
		if cap(j.rec) > 64<<10 {
			j.rec = nil // do not keep a huge record's buffer
		}
	}
	j.blanks, j.state, j.safe = 0, stNone, off
}

func (j *joiner) fits(line []byte) bool {
	return j.recLines+j.blanks+1 <= j.maxLines && len(j.rec)+j.blanks+1+len(line) <= j.maxBytes
}

// continues reports whether line continues the pending record.
func (j *joiner) continues(line []byte) bool {
	switch j.mode {
	case modeOff:
		return false
	case modeStart:
		return !j.start.Match(line)
	}
	if line[0] == ' ' || line[0] == '\t' {
		return true
	}
	for _, p := range autoPrefixes {
		if bytes.HasPrefix(line, p) {
			return true
		}
	}
	switch j.state {
	case stGo:
		if isGoFrame(line) {
			return true
		}
	case stPyTrace:
		return true // the exception line that ends a traceback
	}
	// A Java exception header right after a one-line message belongs to
	// it (logback and log4j print "message\nException: ...\n\tat ...").
	return j.recLines == 1 && j.blanks == 0 && isJavaHeader(line)
}

// nextState is the trace state after a line joined a record in state cur.
func nextState(cur traceState, line []byte) traceState {
	switch {
	case bytes.HasPrefix(line, prefixGoroutine):
		return stGo
	case bytes.HasPrefix(line, prefixTraceback):
		return stPyTrace
	case cur == stPyTrace && line[0] != ' ' && line[0] != '\t':
		return stNone // the exception line closed the traceback
	}
	return cur
}

// isGoFrame reports whether line looks like a function line of a Go stack
// trace: "main.main()", "net/http.(*conn).serve(0xc000123000)".
func isGoFrame(line []byte) bool {
	i := bytes.IndexByte(line, '(')
	return i > 0 && line[len(line)-1] == ')' && bytes.IndexByte(line[:i], ' ') < 0
}

// isJavaHeader reports whether line looks like "java.lang.IllegalStateException: boom".
func isJavaHeader(line []byte) bool {
	name := line
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		name = line[:i]
	}
	if bytes.IndexByte(name, ' ') >= 0 || bytes.IndexByte(name, '.') < 0 {
		return false
	}
	return bytes.HasSuffix(name, []byte("Exception")) || bytes.HasSuffix(name, []byte("Error")) ||
		bytes.HasSuffix(name, []byte("Throwable"))
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}
