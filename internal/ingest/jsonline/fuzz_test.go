package jsonline

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/model"
)

// fuzzOptions are the option sets every fuzz input is decoded with: the
// defaults, and tight limits that make truncation and drops frequent.
func fuzzOptions() []ingest.Options {
	def := ingest.DefaultOptions()
	def.Now = testNow
	def.StreamFields = []string{"host", "service"}
	tight := def
	tight.MaxLineBytes = 128
	tight.MaxFields = 3
	tight.MaxFieldNameBytes = 6
	tight.StreamFields = []string{"h", "a.b", "_msg"}
	return []ingest.Options{def, tight}
}

// FuzzDecode checks Decode's invariants on arbitrary bodies. Seeds live in
// testdata/fuzz/FuzzDecode; these are added too so that a plain go test
// covers the main shapes.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		benchLineASCII + "\n" + benchLineKorean,
		`{"a":{"b":[1,{"c":null}]},"_msg":"m","_time":"0"}` + "\r\n\r\n[1]\n42\n",
		"{\"k\xff\":\"v\xfe\",\"z\":\"\\u0000\\ud800\"}",
		`{"_time":"nope"}` + "\n" + `{"a":1,"a":"","a":3}`,
		`{"a":` + strings.Repeat(`[`, 400) + strings.Repeat(`]`, 400) + `}`,
		`{"h":"x","_msg":"` + strings.Repeat("가", 100) + `","big":"` + strings.Repeat("b", 300) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		lines := nonBlankLines(body)
		for _, opts := range fuzzOptions() {
			res := &ingest.Result{}
			Decode(body, opts, res)
			checkResult(t, lines, opts, res)
		}
		var p fastjson.Parser
		for _, line := range lines {
			_, err := p.ParseBytes(line.text)
			if off, msg := syntaxError(line.text); (err == nil) != (off < 0) {
				t.Fatalf("line %d %q: fastjson error %v, syntaxError %d %q", line.no, line.text, err, off, msg)
			}
		}
	})
}

type numberedLine struct {
	no   int
	text []byte
}

// nonBlankLines splits body independently of Decode.
func nonBlankLines(body []byte) []numberedLine {
	var out []numberedLine
	if len(body) == 0 {
		return nil
	}
	for i, l := range bytes.Split(body, []byte("\n")) {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(bytes.Trim(l, " \t\r\v\f")) > 0 {
			out = append(out, numberedLine{no: i + 1, text: l})
		}
	}
	return out
}

func checkResult(t *testing.T, lines []numberedLine, opts ingest.Options, res *ingest.Result) {
	t.Helper()
	if got := len(res.Records) + len(res.Rejections); got != len(lines) {
		t.Fatalf("%d records + %d rejections for %d non-blank lines", len(res.Records), len(res.Rejections), len(lines))
	}
	byReason := map[string]int{}
	j := 0
	for _, rj := range res.Rejections {
		for j < len(lines) && lines[j].no < rj.Line {
			j++
		}
		if j == len(lines) || lines[j].no != rj.Line {
			t.Fatalf("rejection %+v is not on a non-blank line", rj)
		}
		j++
		byReason[rj.Reason]++
		if !utf8.ValidString(rj.Detail) || len(rj.Detail) > 400 {
			t.Fatalf("bad detail %q", rj.Detail)
		}
		if rj.Reason == ingest.ReasonInvalidJSON && !strings.HasPrefix(rj.Detail, "invalid JSON at byte ") {
			t.Fatalf("syntaxError found no error where fastjson did: %q", rj.Detail)
		}
	}
	for reason, n := range byReason {
		if res.Discards[reason] != n {
			t.Fatalf("Discards[%s] = %d, want %d", reason, res.Discards[reason], n)
		}
	}
	for i := range res.Records {
		checkRecord(t, opts, &res.Records[i])
	}
}

func checkRecord(t *testing.T, opts ingest.Options, r *model.Record) {
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
	for i, f := range slices.Concat(r.Stream, r.Fields) {
		if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
			t.Fatalf("field %q=%q is not valid UTF-8", f.Name, f.Value)
		}
		tooLong := len(f.Name) > opts.MaxFieldNameBytes && f.Name != ingest.TruncatedField
		if f.Value == "" || seen[f.Name] || tooLong {
			t.Fatalf("field %d %q=%q: empty, duplicate or too long", i, f.Name, f.Value)
		}
		if f.Name == opts.TimeField {
			t.Fatalf("time field %q kept", f.Name)
		}
		seen[f.Name] = true
	}
	for _, f := range r.Stream {
		if !slices.Contains(opts.StreamFields, f.Name) {
			t.Fatalf("stream field %q not in StreamFields", f.Name)
		}
	}
	if !slices.IsSortedFunc(r.Stream, func(a, b model.Field) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatalf("stream not sorted: %v", r.Stream)
	}
}
