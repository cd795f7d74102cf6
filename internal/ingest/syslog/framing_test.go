package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

// frameString renders a frame compactly.
func frameString(f Frame) string {
	s := fmt.Sprintf("%q size=%d", f.Msg, f.Size)
	if f.OctetCounted {
		s += " octet"
	}
	if f.Truncated {
		s += " cut"
	}
	return s
}

// readFrames reads every frame of r, and the error that ended them.
func readFrames(r io.Reader, maxMsg int) ([]string, error) {
	fr := NewFramer(r, maxMsg)
	var out []string
	for {
		f, err := fr.Next()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue // timeoutReader: resume
			}
			return out, err
		}
		out = append(out, frameString(f))
	}
}

// chunkings are the ways the framing tests split their input into reads.
var chunkings = map[string]func([]byte) io.Reader{
	"whole":       func(b []byte) io.Reader { return bytes.NewReader(b) },
	"one byte":    func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
	"half":        func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
	"data+EOF":    func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	"timeouts":    func(b []byte) io.Reader { return &timeoutReader{data: b} },
	"zero reads":  func(b []byte) io.Reader { return &zeroReader{r: iotest.OneByteReader(bytes.NewReader(b))} },
	"7-byte read": func(b []byte) io.Reader { return &chunkReader{data: b, n: 7} },
}

// timeoutReader returns one byte per read, with a timeout error before
// each, as a connection whose read deadline keeps expiring.
type timeoutReader struct {
	data    []byte
	timeout bool
}

func (r *timeoutReader) Read(p []byte) (int, error) {
	r.timeout = !r.timeout
	if r.timeout {
		return 0, os.ErrDeadlineExceeded
	}
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

// zeroReader returns nothing (and no error) every other read.
type zeroReader struct {
	r    io.Reader
	zero bool
}

func (r *zeroReader) Read(p []byte) (int, error) {
	if r.zero = !r.zero; r.zero {
		return 0, nil
	}
	return r.r.Read(p)
}

type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestFramer(t *testing.T) {
	long := strings.Repeat("L", 30)
	huge := strings.Repeat("H", 3*scanRoom) // a cut line longer than the scan room
	tests := []struct {
		name string
		in   string
		max  int
		want []string
	}{
		{"syslog-ng capture", string(readFixture(t, "syslog-ng-tcp.bin")), 1024, []string{
			`"<131>1 2026-11-21T23:25:07+00:00 h1 checkout 4242 - [timeQuality tzKnown=\"1\" isSynced=\"0\"][meta@32473 trace_id=\"abc123\"] payment failed for order 17" size=149 octet`,
			`"<134>1 2026-11-21T23:25:07+00:00 h1 checkout - - [timeQuality tzKnown=\"1\" isSynced=\"0\"] order 18 ok" size=100 octet`,
			`"<77>1 2026-11-21T23:25:07+00:00 h1 cron - - - job nightly finished in 42s" size=74 octet`,
		}},
		{"newline framing", "a\nb\r\n\n\nc\x00d", 1024, []string{
			`"a" size=1`, `"b" size=2`, `"c" size=1`, `"d" size=1`,
		}},
		{"mixed framing", "5 hello<13>x\n3 abc\n\n9 line two\n\nplain", 1024, []string{
			`"hello" size=5 octet`, `"<13>x" size=5`, `"abc" size=3 octet`, `"line two" size=9 octet`, `"plain" size=5`,
		}},
		{"lf inside and after the frame", "4 abc\n\n4 def\n", 1024, []string{
			`"abc" size=4 octet`, `"def" size=4 octet`,
		}},
		{"empty octet frames skipped", "1 \n2 \r\n1 x", 1024, []string{`"x" size=1 octet`}},
		{"frame holds newlines", "10 a\nb\nc\r\n\x00\n\nz\n", 1024, []string{`"a\nb\nc" size=10 octet`, `"z" size=1`}},
		{"message exactly max", "5 12345" + "12345\n", 5, []string{`"12345" size=5 octet`, `"12345" size=5`}},
		{"oversize octet frame", "30 " + long + "3 end", 10, []string{
			`"LLLLLLLLLL" size=30 octet cut`, `"end" size=3 octet`,
		}},
		{"oversize line", long + "\nok\n", 10, []string{`"LLLLLLLLLL" size=30 cut`, `"ok" size=2`}},
		{"oversize line longer than the scan room", huge + "\x00ok\n", 10, []string{
			fmt.Sprintf(`"HHHHHHHHHH" size=%d cut`, len(huge)), `"ok" size=2`,
		}},
		{"oversize line at eof", long, 10, []string{`"LLLLLLLLLL" size=30 cut`}},
		{"garbage count letters", "12a hello\n", 1024, []string{`"12a hello" size=9`}},
		{"garbage count zero", "0 x\n01 y\n", 1024, []string{`"0 x" size=3`, `"01 y" size=4`}},
		{"garbage count ten digits", "1234567890 x\n", 1024, []string{`"1234567890 x" size=12`}},
		{"digits at eof", "123", 1024, []string{`"123" size=3`}},
		{"huge count cut by eof", "999999999 abc", 1024, []string{`"abc" size=999999999 octet cut`}},
		{"frame cut by eof", "10 abc", 1024, []string{`"abc" size=10 octet cut`}},
		{"oversize frame cut by eof", "100 " + long, 10, []string{`"LLLLLLLLLL" size=100 octet cut`}},
		{"line without terminator at eof", "<13>last", 1024, []string{`"<13>last" size=8`}},
		{"empty", "", 1024, nil},
	}
	for _, tc := range tests {
		for cname, chunk := range chunkings {
			t.Run(tc.name+"/"+cname, func(t *testing.T) {
				got, err := readFrames(chunk([]byte(tc.in)), tc.max)
				if err != io.EOF {
					t.Errorf("error %v, want io.EOF", err)
				}
				if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
					t.Errorf("frames of %.80q\n got %s\nwant %s", tc.in, strings.Join(got, "\n     "), strings.Join(tc.want, "\n     "))
				}
			})
		}
	}
}

// TestFramerResumesAfterError checks that a read error other than EOF is
// returned once, with the frames read before it, and that Next resumes.
func TestFramerResumesAfterError(t *testing.T) {
	boom := errors.New("boom")
	r := &scriptReader{steps: []step{{"3 ab", nil}, {"c4 de", boom}, {"f\n", nil}}}
	fr := NewFramer(r, 100)
	var got []string
	for {
		f, err := fr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			got = append(got, "err "+err.Error())
			continue
		}
		got = append(got, frameString(f))
	}
	want := []string{`"abc" size=3 octet`, "err boom", `"def" size=4 octet`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

type step struct {
	data string
	err  error
}

type scriptReader struct{ steps []step }

func (r *scriptReader) Read(p []byte) (int, error) {
	if len(r.steps) == 0 {
		return 0, io.EOF
	}
	s := r.steps[0]
	r.steps = r.steps[1:]
	return copy(p, s.data), s.err
}

func TestFramerNoProgress(t *testing.T) {
	fr := NewFramer(readerFunc(func([]byte) (int, error) { return 0, nil }), 100)
	if _, err := fr.Next(); err != io.ErrNoProgress {
		t.Fatalf("error %v, want io.ErrNoProgress", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
