package syslog

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/model"
)

// fuzzSeeds are inputs of both formats, good and broken.
func fuzzSeeds(t testing.TB) [][]byte {
	seeds := [][]byte{
		readFixture(t, "syslog-ng-tcp.bin"), readFixture(t, "rsyslog-omfwd-tcp.bin"),
		readFixture(t, "rsyslog-omfwd-udp.bin"), readFixture(t, "loggen-tcp.bin"),
	}
	for _, s := range []string{
		`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] msg`,
		`<13>1 - - - - - [x@1 a="q\"u\\o\]t" b="back\slash"]m`,
		"<34>Oct 11 22:14:15 mymachine su: 'su root' failed\r\n",
		"<30>Nov 21 23:26:05 systemd[1]: Started\x00",
		"<13>Nov 21 2025 23:26:05.123 h1 a: \xEF\xBB\xBF m\xff",
		"<13>2026-11-21T23:26:05+0900 h a: m", "<0>1 1677-09-21T00:12:44Z - - - - -",
		"<191>1 2262-04-11T23:47:16.854775807-01:00 - - - - -", "plain\n5 hello", "999999999 x", "<1>",
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// FuzzParse checks Parse and Decoder on arbitrary messages: no panic, the
// structural invariants, an RFC 5424 round trip, and the record rules.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	kst := time.FixedZone("KST", 9*3600)
	tight := ingest.DefaultOptions()
	tight.MaxLineBytes, tight.MaxFields, tight.MaxFieldNameBytes = 128, 3, 10
	decoders := []struct {
		d    *Decoder
		opts ingest.Options
	}{
		{NewDecoder(nil, DefaultStreamFields()), ingest.DefaultOptions()},
		{NewDecoder(kst, []string{"level", "x@1.a", "_msg"}), tight},
	}
	for _, dc := range decoders {
		dc.d.SetOptions(dc.opts)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m, again Message
		for _, p := range []Parser{{}, {Location: kst}} {
			p.Parse(data, testNow, &m)
			checkMessage(t, data, &m)
			if m.Format == FormatRFC5424 {
				text := format5424(&m)
				p.Parse([]byte(text), testNow, &again)
				if got, want := renderMessage(&again), renderMessage(&m); text != "" && got != want {
					t.Fatalf("round trip of %q via %q:\n got %s\nwant %s", data, text, got, want)
				}
			}
		}
		for _, dc := range decoders {
			res := &ingest.Result{}
			dc.d.Decode(data, testNow, res)
			if len(res.Records) != 1 || len(res.Rejections) != 0 {
				t.Fatalf("%d records, %d rejections", len(res.Records), len(res.Rejections))
			}
			checkRecord(t, dc.opts, dc.d.streamFields, &res.Records[0])
		}
	})
}

func checkMessage(t *testing.T, data []byte, m *Message) {
	t.Helper()
	pri, _ := parsePRI(trimTrailer(data))
	if (m.Format == FormatUnparsed) != (pri < 0) || m.Priority != pri {
		t.Fatalf("format %s, priority %d; parsePRI %d", m.Format, m.Priority, pri)
	}
	if m.Format == FormatUnparsed && !bytes.Equal(m.Msg, trimTrailer(data)) {
		t.Fatalf("unparsed message %q is not the input %q", m.Msg, data)
	}
	if m.Format != FormatUnparsed && len(m.Msg) > 0 && (m.Msg[0] == ' ' || bytes.HasPrefix(m.Msg, bom)) {
		t.Fatalf("message %q starts with a space or BOM", m.Msg)
	}
	if n := len(m.Msg); n > 0 && (m.Msg[n-1] == '\n' || m.Msg[n-1] == '\r' || m.Msg[n-1] == 0) {
		t.Fatalf("message %q ends with a terminator", m.Msg)
	}
	for _, v := range [][]byte{m.Hostname, m.AppName, m.ProcID, m.MsgID, m.Msg} {
		if v != nil && (len(v) == 0 || !bytes.Contains(data, v)) {
			t.Fatalf("field %q is empty or not from the input %q", v, data)
		}
	}
	for _, v := range [][]byte{m.Hostname, m.AppName, m.ProcID, m.MsgID} {
		if bytes.IndexByte(v, ' ') >= 0 {
			t.Fatalf("header field %q has a space", v)
		}
	}
	for _, p := range m.SD {
		if len(p.ID) == 0 || len(p.Name) == 0 || !bytes.Contains(data, p.ID) || !bytes.Contains(data, p.Name) {
			t.Fatalf("bad SD param %+v", p)
		}
	}
	if m.HasTime {
		if y := time.Unix(0, m.Time).UTC().Year(); y < 1677 || y > 2262 {
			t.Fatalf("time %d out of range", m.Time)
		}
	}
}

// format5424 writes m back as RFC 5424, or returns "" when m cannot
// round-trip (its time is at the edge of the range, or its message starts
// with a second BOM).
func format5424(m *Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<%d>1 ", m.Priority)
	if m.HasTime {
		ts := time.Unix(0, m.Time).UTC()
		if ts.Year() < minYear || ts.Year() > maxYear {
			return ""
		}
		b.WriteString(ts.Format("2006-01-02T15:04:05.999999999Z07:00"))
	} else {
		b.WriteByte('-')
	}
	for _, v := range [][]byte{m.Hostname, m.AppName, m.ProcID, m.MsgID} {
		b.WriteByte(' ')
		if v == nil {
			b.WriteByte('-')
		} else {
			b.Write(v)
		}
	}
	b.WriteByte(' ')
	if len(m.SD) == 0 {
		b.WriteByte('-')
	}
	r := strings.NewReplacer(`"`, `\"`, `\`, `\\`, `]`, `\]`)
	for _, p := range m.SD {
		fmt.Fprintf(&b, `[%s %s="%s"]`, p.ID, p.Name, r.Replace(string(p.Value)))
	}
	if m.Msg != nil {
		if bytes.HasPrefix(m.Msg, bom) {
			return ""
		}
		b.WriteByte(' ')
		b.Write(m.Msg)
	}
	return b.String()
}

// checkRecord checks the ingest rules on a decoded record.
func checkRecord(t *testing.T, opts ingest.Options, streamFields []string, r *model.Record) {
	t.Helper()
	if size := r.Size(); size > opts.MaxLineBytes {
		t.Fatalf("record size %d > MaxLineBytes %d", size, opts.MaxLineBytes)
	}
	if !utf8.ValidString(r.Msg) {
		t.Fatalf("msg %q is not valid UTF-8", r.Msg)
	}
	if len(r.Fields) > opts.MaxFields+1 { // +1: _truncated
		t.Fatalf("%d fields > MaxFields %d", len(r.Fields), opts.MaxFields)
	}
	seen := map[string]bool{}
	for _, f := range slices.Concat(r.Stream, r.Fields) {
		if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) || f.Value == "" || seen[f.Name] {
			t.Fatalf("field %q=%q: invalid UTF-8, empty or duplicate", f.Name, f.Value)
		}
		seen[f.Name] = true
	}
	for _, f := range r.Stream {
		if !slices.Contains(streamFields, f.Name) {
			t.Fatalf("stream field %q not configured", f.Name)
		}
	}
	if !slices.IsSortedFunc(r.Stream, func(a, b model.Field) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatalf("stream not sorted: %v", r.Stream)
	}
}

// FuzzFraming checks the Framer on arbitrary streams: no panic, the frame
// invariants, and the same frames however the stream is split into reads.
func FuzzFraming(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s, uint16(1024))
		f.Add(s, uint16(16))
	}
	f.Add([]byte("30 "+strings.Repeat("x", 40)+"\n"+strings.Repeat("y", 50)+"\x00z"), uint16(10))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		maxMsg := int(limit%512) + 1
		var first []Frame
		for _, name := range []string{"whole", "one byte", "timeouts", "7-byte read"} {
			fr := NewFramer(chunkings[name](data), maxMsg)
			var frames []Frame
			for {
				frame, err := fr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					if name == "timeouts" {
						continue
					}
					t.Fatalf("%s: error %v", name, err)
				}
				checkFrame(t, data, maxMsg, frame)
				frame.Msg = bytes.Clone(frame.Msg)
				frames = append(frames, frame)
				if len(frames) > len(data) {
					t.Fatalf("%s: more frames than bytes", name)
				}
			}
			if name == "whole" {
				first = frames
				continue
			}
			if !slices.EqualFunc(first, frames, func(a, b Frame) bool {
				return bytes.Equal(a.Msg, b.Msg) && a.Size == b.Size && a.Truncated == b.Truncated && a.OctetCounted == b.OctetCounted
			}) {
				t.Fatalf("%s reads framed differently:\n%v\n%v", name, first, frames)
			}
		}
	})
}

func checkFrame(t *testing.T, data []byte, maxMsg int, f Frame) {
	t.Helper()
	n := len(f.Msg)
	if n == 0 || n > maxMsg || f.Size < n || !bytes.Contains(data, f.Msg) {
		t.Fatalf("frame %s: empty, over %d, bigger than its size, or not from the input", frameString(f), maxMsg)
	}
	if c := f.Msg[n-1]; c == '\n' || c == '\r' || c == 0 {
		t.Fatalf("frame %s ends with a terminator", frameString(f))
	}
	if !f.OctetCounted {
		if bytes.IndexByte(f.Msg, '\n') >= 0 || bytes.IndexByte(f.Msg, 0) >= 0 {
			t.Fatalf("line frame %s holds a terminator", frameString(f))
		}
		if f.Size > len(data) || f.Truncated != (f.Size > maxMsg) {
			t.Fatalf("line frame %s: size over the input, or cut without need", frameString(f))
		}
	} else if !f.Truncated && f.Size > maxMsg {
		t.Fatalf("octet frame %s over the limit %d and not cut", frameString(f), maxMsg)
	}
}
