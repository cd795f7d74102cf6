package loki

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klauspost/compress/s2"
	"github.com/valyala/fastjson"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/model"
)

// fuzzOptions are the option sets every fuzz input is decoded with: the
// defaults with small body limits, and tight limits that make truncation,
// drops and ErrTooLarge frequent.
func fuzzOptions() []Options {
	def := testOptions()
	def.MaxDecodedBytes = 1 << 20
	def.MaxRecordBytes = 64 << 20
	tight := def
	tight.MaxLineBytes = 128
	tight.MaxFields = 2
	tight.MaxFieldNameBytes = 6
	tight.MaxRecordBytes = 4096
	return []Options{def, tight}
}

func fixture(f *testing.F, name string) []byte {
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	return body
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add(fixture(f, "pino-loki.json"))
	f.Add(fixture(f, "winston-loki-json.json"))
	for _, s := range []string{
		oneJSON,
		`{"streams":[{"stream":{"a":1},"values":[["1","x"]]},[1],{"values":{}},{"stream":{"a":"b","a":"c"},"values":[["x","y"],["1"],["0","z",{"k":[1],"_msg":"m","a":"d"}]]}]}`,
		`{"streams":[{"stream":{"k\u00e9":"v\ud800"},"values":[[12,"l\u0000",null],["9223372036854775808",""]]}]}`,
		"{\"streams\":[{\"stream\":{\"\xff\":\"\xfe\"},\"values\":[[\"1\",\"\xff\"]]}]}",
		`{"streams":null}`,
		`{"x":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, opts := range fuzzOptions() {
			res := &ingest.Result{}
			err := Decode(body, ctJSON, "", opts, res)
			if checkError(t, err, res) {
				continue
			}
			checkResult(t, jsonPositions(t, body), opts, res)
		}
	})
}

// jsonPositions counts the entry positions of a JSON body that decoded
// without error, independently of the decoder.
func jsonPositions(t *testing.T, body []byte) int {
	if len(body) == 0 {
		return 0
	}
	v, err := fastjson.ParseBytes(body)
	if err != nil {
		t.Fatalf("Decode accepted invalid JSON: %v", err)
	}
	n := 0
	for _, s := range v.GetArray("streams") {
		values := s.Get("values")
		switch {
		case s.Type() != fastjson.TypeObject:
			n++
		case values == nil || values.Type() == fastjson.TypeNull:
		case values.Type() != fastjson.TypeArray:
			n++
		default:
			n += len(values.GetArray())
		}
	}
	return n
}

func FuzzDecodeProto(f *testing.F) {
	winston := fixture(f, "winston-loki.pb.snappy")
	f.Add(winston, true)
	if msg, err := s2.Decode(nil, winston); err == nil {
		f.Add(msg, false)
	}
	for _, msg := range [][]byte{
		pbPush(pbStream{`{a="b", c="d"}`, []pbEntry{{sec: 1, nanos: 2, line: "x", md: [][2]string{{"k", "v"}, {"a", "z"}}}, {}}}),
		pbPush(pbStream{`{a=1}`, []pbEntry{{sec: 1, line: "x"}}}, pbStream{"{\"\xff\"=\"\\xfe\",b=`r`}", []pbEntry{{sec: -1, line: "\xff"}}}),
		pbPush(pbStream{``, []pbEntry{{nanos: 1e9, line: ""}}}),
		{0x0a, 0x03, 0x2b, 0x01, 0x2c}, // a stream holding a group
	} {
		f.Add(msg, false)
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}, true)
	f.Fuzz(func(t *testing.T, in []byte, raw bool) {
		body := in
		if !raw {
			body = s2.EncodeSnappy(nil, in)
		}
		for _, opts := range fuzzOptions() {
			res := &ingest.Result{}
			err := Decode(body, ctProto, "", opts, res)
			if !raw && errors.Is(err, ErrMalformed) && strings.Contains(err.Error(), "snappy") {
				t.Fatalf("s2.EncodeSnappy output refused: %v", err)
			}
			if checkError(t, err, res) {
				continue
			}
			msg := in
			if raw && len(in) > 0 {
				var derr error
				if msg, derr = s2.Decode(nil, in); derr != nil {
					t.Fatalf("Decode accepted a body s2.Decode refuses: %v", derr)
				}
			}
			checkResult(t, protoPositions(t, msg), opts, res)
		}
	})
}

// protoPositions counts the entries of a PushRequest that decoded without
// error, independently of the decoder.
func protoPositions(t *testing.T, msg []byte) int {
	n := 0
	for len(msg) > 0 {
		num, typ, l := protowire.ConsumeField(msg)
		if l < 0 {
			t.Fatalf("Decode accepted a bad message: %v", protowire.ParseError(l))
		}
		if num == 1 && typ == protowire.BytesType {
			s, _ := protowire.ConsumeBytes(msg[protowire.SizeTag(1):])
			for len(s) > 0 {
				num2, typ2, l2 := protowire.ConsumeField(s)
				if l2 < 0 {
					t.Fatalf("Decode accepted a bad stream: %v", protowire.ParseError(l2))
				}
				if num2 == 2 && typ2 == protowire.BytesType {
					n++
				}
				s = s[l2:]
			}
		}
		msg = msg[l:]
	}
	return n
}

// checkError checks an error's kind and that res is untouched; it reports
// whether there was an error.
func checkError(t *testing.T, err error, res *ingest.Result) bool {
	t.Helper()
	if err == nil {
		return false
	}
	if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error of no known kind: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "decode push request: ") {
		t.Fatalf("error without context: %v", err)
	}
	if len(res.Records)+len(res.Rejections)+len(res.Discards) != 0 {
		t.Fatalf("res changed by a failed Decode: %+v", res)
	}
	return true
}

func checkResult(t *testing.T, positions int, opts Options, res *ingest.Result) {
	t.Helper()
	if got := len(res.Records) + len(res.Rejections); got != positions {
		t.Fatalf("%d records + %d rejections for %d entries", len(res.Records), len(res.Rejections), positions)
	}
	byReason := map[string]int{}
	last := 0
	for _, rj := range res.Rejections {
		if rj.Line <= last || rj.Line > positions {
			t.Fatalf("rejection at %d after %d, of %d entries", rj.Line, last, positions)
		}
		last = rj.Line
		byReason[rj.Reason]++
		if !utf8.ValidString(rj.Detail) || len(rj.Detail) > 400 || rj.Detail == "" {
			t.Fatalf("bad detail %q", rj.Detail)
		}
		switch rj.Reason {
		case ReasonInvalidLabels, ReasonInvalidEntry, ingest.ReasonInvalidTime:
		default:
			t.Fatalf("unknown reason %q", rj.Reason)
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

func checkRecord(t *testing.T, opts Options, r *model.Record) {
	t.Helper()
	if size := r.Size(); size > opts.MaxLineBytes {
		t.Fatalf("record size %d > MaxLineBytes %d", size, opts.MaxLineBytes)
	}
	if r.Time < 0 {
		t.Fatalf("negative time %d", r.Time)
	}
	if !utf8.ValidString(r.Msg) {
		t.Fatalf("msg %q is not valid UTF-8", r.Msg)
	}
	seen := map[string]bool{}
	for _, f := range slices.Concat(r.Stream, r.Fields) {
		if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
			t.Fatalf("field %q=%q is not valid UTF-8", f.Name, f.Value)
		}
		if f.Value == "" || seen[f.Name] || f.Name == msgField {
			t.Fatalf("field %q=%q: empty, duplicate or the message", f.Name, f.Value)
		}
		seen[f.Name] = true
	}
	if !slices.IsSortedFunc(r.Stream, func(a, b model.Field) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatalf("stream not sorted: %v", r.Stream)
	}
}

func FuzzParseLabels(f *testing.F) {
	for _, s := range []string{
		`{job="api", level="info"}`,
		` { a = "q\"u\\o\nte" , "x.y"="\u00e9\xff" , b=` + "`raw`" + `, } `,
		`{}`, ``, `{a=~"x"}`, `{a="1",a="2"}`, `{a="\U0001F600\101"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ls labelSet
		if err := ls.parse(s); err != nil {
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("error %q is not valid UTF-8", err)
			}
			return
		}
		// Write the set back in canonical form; it must parse to the same.
		var b strings.Builder
		b.WriteByte('{')
		for i := range ls.len() {
			name := ls.name(i)
			if len(name) == 0 {
				t.Fatalf("empty name from %q", s)
			}
			if i > 0 {
				b.WriteByte(',')
			}
			if identEnd(string(name), 0) == len(name) {
				b.Write(name)
			} else {
				b.WriteString(strconv.Quote(string(name)))
			}
			b.WriteString("=" + strconv.Quote(string(ls.value(i))))
		}
		b.WriteByte('}')
		var again labelSet
		if err := again.parse(b.String()); err != nil {
			t.Fatalf("%q parsed to %s, which does not parse: %v", s, b.String(), err)
		}
		if renderLabels(&again) != renderLabels(&ls) {
			t.Fatalf("%q: %s, then %s", s, renderLabels(&ls), renderLabels(&again))
		}
	})
}
