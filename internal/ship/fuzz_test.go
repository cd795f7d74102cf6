package ship

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzRecords feeds arbitrary file content, in arbitrary pieces, through
// the splitter, the joiner and the encoder, and checks what a batch relies
// on: every record is one valid JSON object on one line, no line is lost or
// invented, records respect their limits, and the safe offset only grows
// and ends at the end of the input.
func FuzzRecords(f *testing.F) {
	for _, s := range []string{
		"one\ntwo\n",
		"ERROR x\njava.lang.IllegalStateException: y\n\tat a.B(C.java:1)\nCaused by: z\n\t... 2 more\nnext\n",
		"panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n\nexit status 2\n",
		"Traceback (most recent call last):\n  File \"x\", line 1\nValueError: v\n",
		"{\"a\":1}\n{ }\n{bad\n\r\n\t\n{\"b\":\"\\u0000\"}\r\n",
		"2026-01-01 a\n b\n2026-01-01 c",
		"\xff\xfe{\"x\":\"\xc3\x28\"}\n",
		"{\"a\":\"\x01\t\"}\n{\"a\":1,\"a\":2}\n{\"n\":1e999}\n",
	} {
		f.Add([]byte(s), uint8(7), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, piece, mode uint8) {
		in := DefaultInput()
		in.MaxLineBytes = 64
		m := &in.Multiline
		m.MaxLines, m.MaxBytes = 4, 256
		switch mode % 3 {
		case 1:
			m.Mode, m.Start = "start", `^\d{4}-`
		case 2:
			m.Mode = "off"
		}
		in.Fields = map[string]string{"host": "h\x00\""}
		enc := newRecordEncoder(&in, "/var/log/\xff.log")
		var body []byte
		recLines := 0
		j := newJoiner(*m, func(text []byte, isJSON bool) {
			if isJSON {
				recLines++
			} else {
				lines := bytes.Split(text, []byte("\n"))
				if len(lines) > m.MaxLines || len(lines) > 1 && len(text) > m.MaxBytes {
					t.Fatalf("record of %d lines, %d bytes is over the limits: %q", len(lines), len(text), text)
				}
				for _, l := range lines {
					if !isBlank(l) {
						recLines++
					}
				}
			}
			body = enc.appendRecord(body, text, isJSON)
		})
		j.reset(0)
		inLines := 0
		spl := splitter{max: in.MaxLineBytes}
		last := int64(0)
		add := func(line []byte, start, end int64) {
			if !isBlank(line) {
				inLines++
			}
			if start != last || end <= start {
				t.Fatalf("line [%d,%d) after a line ending at %d", start, end, last)
			}
			last = end
			j.add(line, start, end)
			if j.safe > end {
				t.Fatalf("safe offset %d past the line's end %d", j.safe, end)
			}
		}
		step := int(piece)%97 + 1
		safe := int64(0)
		for off := 0; off < len(data); off += step {
			spl.feed(data[off:min(off+step, len(data))], int64(off), add)
			if j.safe < safe {
				t.Fatalf("safe offset went back from %d to %d", safe, j.safe)
			}
			safe = j.safe
		}
		spl.flush(int64(len(data)), add)
		j.flush()
		if j.safe != int64(len(data)) {
			t.Fatalf("safe offset %d at the end of %d bytes", j.safe, len(data))
		}
		if recLines != inLines {
			t.Fatalf("%d non-blank lines in, %d in records", inLines, recLines)
		}
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			if len(body) == 0 {
				break
			}
			var obj map[string]any
			dec := json.NewDecoder(bytes.NewReader(line))
			dec.UseNumber()
			if err := dec.Decode(&obj); err != nil || dec.More() {
				t.Fatalf("record %q is not a JSON object: %v", line, err)
			}
			if obj["filename"] == nil {
				t.Fatalf("record %q lacks the filename field", line)
			}
		}
	})
}
