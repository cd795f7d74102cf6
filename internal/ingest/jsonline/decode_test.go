package jsonline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fastjson"
	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/ingesttest"
	"github.com/logbucket/logbucket/internal/model"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testNow = int64(1_767_225_600_000_000_000) // 2026-01-01T00:00:00Z

func testOptions() ingest.Options {
	o := ingest.DefaultOptions()
	o.Now = testNow
	return o
}

// render gives a record a compact comparable form.
func render(r model.Record) string {
	return ingesttest.Render(r, testNow)
}

func decodeOne(t *testing.T, line string, opts ingest.Options) *ingest.Result {
	t.Helper()
	res := &ingest.Result{}
	Decode([]byte(line), opts, res)
	if n := len(res.Records) + len(res.Rejections); n != 1 {
		t.Fatalf("line %q gave %d records+rejections, want 1", line, n)
	}
	return res
}

func TestDecodeFields(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"flatten nested", `{"http":{"status":200,"req":{"method":"GET"}},"a":1}`,
			`http.status="200" http.req.method="GET" a="1"`},
		{"dotted key kept", `{"a.b":"x"}`, `a.b="x"`},
		{"empty nested object", `{"a":{},"b":{"c":{}},"d":"x"}`, `d="x"`},
		{"arrays compact", `{"a":[ 1 , "x" , {"b" : null} , [ ] ],"e":[]}`,
			`a="[1,\"x\",{\"b\":null},[]]" e="[]"`},
		{"array keeps escapes", `{"a":["q\"u","\u00e9"]}`, `a="[\"q\\\"u\",\"\\u00e9\"]"`},
		{"null dropped", `{"a":null,"b":"x"}`, `b="x"`},
		{"booleans", `{"t":true,"f":false}`, `t="true" f="false"`},
		{"numbers original text", `{"a":-1.50e+10,"b":0,"c":1E3,"d":12345678901234567890123}`,
			`a="-1.50e+10" b="0" c="1E3" d="12345678901234567890123"`},
		{"string escapes", `{"s":"\u00e9\ud83d\ude00\n\t\"\\\/\b\f\r"}`, `s="é😀\n\t\"\\/\b\f\r"`},
		{"escaped key", `{"a\u0062":"1","c\"d":"2"}`, `ab="1" c"d="2"`},
		{"invalid UTF-8 raw bytes", "{\"a\xff\":\"x\xffy\xfe\xfdz\"}", `a�="x�y�z"`},
		{"lone surrogate kept as text", `{"s":"\ud800x"}`, `s="\\ud800x"`},
		{"NUL escape kept", `{"s":"a\u0000b","_msg":"\u0000"}`, `msg="\x00" s="a\x00b"`},
		{"unicode raw", `{"_msg":"로그인 성공 ✓","k":"値"}`, `msg="로그인 성공 ✓" k="値"`},
		{"duplicate keys last wins", `{"a":1,"b":2,"a":3}`, `a="3" b="2"`},
		{"nested and dotted duplicate", `{"a":{"b":1},"a.b":2}`, `a.b="2"`},
		{"duplicate set to null", `{"a":1,"b":2,"a":null}`, `b="2"`},
		{"empty values dropped", `{"a":"","b":{},"c":[],"d":" "}`, `c="[]" d=" "`},
		{"empty object line", `{}`, ``},
		{"whitespace around", " \t{ \"a\" : 1 }\t ", `a="1"`},
		{"msg priority", `{"log":"l","msg":"m","message":"mm"}`, `msg="mm" log="l" msg="m"`},
		{"_msg first", `{"message":"mm","_msg":"u"}`, `msg="u" message="mm"`},
		{"msg non-string", `{"msg":{"x":1},"log":42}`, `msg="42" msg.x="1"`},
		{"time rfc3339 offset", `{"_time":"2026-01-01T16:08:00.123+09:00"}`, `time=1767251280123000000`},
		{"time unix number", `{"_time":1767251280}`, `time=1767251280000000000`},
		{"time unix millis string", `{"_time":"1767251280123"}`, `time=1767251280123000000`},
		{"time unix nanos", `{"_time":1767251280123456789}`, `time=1767251280123456789`},
		{"time zero is now", `{"_time":"0","a":1}`, `a="1"`},
		{"time zero number is now", `{"_time":0}`, ``},
		{"time null is now", `{"_time":null}`, ``},
		{"time missing is now", `{"a":"b"}`, `a="b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := decodeOne(t, tt.line, testOptions())
			if len(res.Records) != 1 {
				t.Fatalf("rejected: %+v", res.Rejections)
			}
			if got := render(res.Records[0]); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if res.Discards != nil {
				t.Errorf("Discards = %v, want none", res.Discards)
			}
		})
	}
}

func TestDecodeStream(t *testing.T) {
	opts := testOptions()
	opts.StreamFields = []string{"service", "host", "k8s.pod", "missing"}
	res := decodeOne(t, `{"service":"api","level":"info","k8s":{"pod":"p-1"},"host":"h1","_msg":"m"}`, opts)
	want := `msg="m" stream:host="h1" stream:k8s.pod="p-1" stream:service="api" level="info"`
	if got := render(res.Records[0]); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDecodeRejections(t *testing.T) {
	tests := []struct {
		line, reason, detail string
	}{
		{`[1,2]`, ingest.ReasonNotObject, "JSON array is not an object"},
		{`42`, ingest.ReasonNotObject, "JSON number is not an object"},
		{`"str"`, ingest.ReasonNotObject, "JSON string is not an object"},
		{`true`, ingest.ReasonNotObject, "JSON boolean is not an object"},
		{`null`, ingest.ReasonNotObject, "JSON null is not an object"},
		{`{"a":1`, ingest.ReasonInvalidJSON, "invalid JSON at byte 6: unexpected end of input"},
		{"{\"a\":1\r\n", ingest.ReasonInvalidJSON, "invalid JSON at byte 6: unexpected end of input"},
		{`{"a"}`, ingest.ReasonInvalidJSON, "invalid JSON at byte 4: expected ':' after object key"},
		{`{a:1}`, ingest.ReasonInvalidJSON, `invalid JSON at byte 1: expected '"' to start an object key`},
		{`{"a":1}x`, ingest.ReasonInvalidJSON, "invalid JSON at byte 7: unexpected data after the JSON value"},
		{`{"a":1}{"b":2}`, ingest.ReasonInvalidJSON, "invalid JSON at byte 7: unexpected data after the JSON value"},
		{`{"a":1 "b":2}`, ingest.ReasonInvalidJSON, "invalid JSON at byte 7: expected ',' or '}'"},
		{`{"a":[1 2]}`, ingest.ReasonInvalidJSON, "invalid JSON at byte 8: expected ',' or ']'"},
		{`{"a":"unterminated}`, ingest.ReasonInvalidJSON, "invalid JSON at byte 19: unterminated string"},
		{`{"a":tru}`, ingest.ReasonInvalidJSON, "invalid JSON at byte 5: invalid literal, want true"},
		{`{"a":@}`, ingest.ReasonInvalidJSON, `invalid JSON at byte 5: unexpected character '@'`},
		{"{\"a\":\xff}", ingest.ReasonInvalidJSON, "invalid JSON at byte 5: unexpected byte 0xff"},
		{`{"a":1,}`, ingest.ReasonInvalidJSON, `invalid JSON at byte 7: expected '"' to start an object key`},
		{`{"_time":"yesterday"}`, ingest.ReasonInvalidTime, `field "_time": timestamp "yesterday" is neither RFC 3339 nor a unix time`},
		{`{"_time":true}`, ingest.ReasonInvalidTime, `field "_time": timestamp "true" is neither RFC 3339 nor a unix time`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			res := decodeOne(t, tt.line, testOptions())
			if len(res.Rejections) != 1 {
				t.Fatalf("accepted: %s", render(res.Records[0]))
			}
			want := ingest.Rejection{Line: 1, Reason: tt.reason, Detail: tt.detail}
			if got := res.Rejections[0]; got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if res.Discards[tt.reason] != 1 || len(res.Discards) != 1 {
				t.Errorf("Discards = %v, want %s=1", res.Discards, tt.reason)
			}
		})
	}
}

func TestDecodeLinesAndNumbers(t *testing.T) {
	body := "{\"a\":1}\r\n" + // 1
		"\n" + // 2 empty
		"   \t \r\n" + // 3 blank
		"not json\n" + // 4
		"{\"b\":2}\n" + // 5
		"\r\n" + // 6 blank after CR strip
		"[1]\r\n" + // 7
		"{\"_time\":\"x\"}\n" + // 8
		"{\"c\":\"3\\r\"}\r" + // 9, last line without newline but with CR
		""
	res := &ingest.Result{}
	Decode([]byte(body), testOptions(), res)
	var got []string
	for _, r := range res.Records {
		got = append(got, render(r))
	}
	if want := []string{`a="1"`, `b="2"`, `c="3\r"`}; !slices.Equal(got, want) {
		t.Errorf("records %q, want %q", got, want)
	}
	var lines []string
	for _, rj := range res.Rejections {
		lines = append(lines, fmt.Sprintf("%d:%s", rj.Line, rj.Reason))
	}
	if want := []string{"4:invalid_json", "7:not_object", "8:invalid_time"}; !slices.Equal(lines, want) {
		t.Errorf("rejections %q, want %q", lines, want)
	}
}

func TestDecodeEmptyBodies(t *testing.T) {
	for _, body := range []string{"", "\n", "\r\n\r\n", "  \n\t\n"} {
		res := &ingest.Result{}
		Decode([]byte(body), testOptions(), res)
		if len(res.Records)+len(res.Rejections) != 0 || res.Discards != nil {
			t.Errorf("body %q: %+v", body, res)
		}
	}
}

func TestDecodeAppends(t *testing.T) {
	res := &ingest.Result{}
	Decode([]byte(`{"a":1}`+"\n[]"), testOptions(), res)
	Decode([]byte(`{"b":2}`+"\n[]"), testOptions(), res)
	if len(res.Records) != 2 || len(res.Rejections) != 2 || res.Discards[ingest.ReasonNotObject] != 2 {
		t.Errorf("second Decode did not append: %+v", res)
	}
}

func TestDecodeLimits(t *testing.T) {
	opts := testOptions()
	opts.MaxFields = 2
	opts.MaxFieldNameBytes = 5
	res := decodeOne(t, `{"a":1,"b":{"long":1,"c":2},"d":3,"e":4,"_msg":"m"}`, opts)
	if got, want := render(res.Records[0]), `msg="m" a="1" b.c="2"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	want := map[string]int{ingest.ReasonFieldNameTooLong: 1, ingest.ReasonTooManyFields: 2}
	if fmt.Sprint(res.Discards) != fmt.Sprint(want) {
		t.Errorf("Discards = %v, want %v", res.Discards, want)
	}
}

func TestDecodeTruncate(t *testing.T) {
	opts := testOptions() // default MaxLineBytes: 256 KiB
	limit := opts.MaxLineBytes
	prefix := `{"_time":"2026-01-01T07:08:00Z","service":"s","big":"`
	suffix := `","after":"ok"}`
	fill := 1<<20 + 1 - len(prefix) - len(suffix)
	big := strings.Repeat("한", fill/3) + strings.Repeat("x", fill%3)
	line := prefix + big + suffix
	if len(line) != 1<<20+1 {
		t.Fatalf("line is %d bytes", len(line))
	}
	res := decodeOne(t, line, opts)
	if len(res.Records) != 1 {
		t.Fatalf("rejected: %+v", res.Rejections)
	}
	r := res.Records[0]
	if r.Size() > limit {
		t.Errorf("Size = %d > %d", r.Size(), limit)
	}
	vals := map[string]string{}
	for _, f := range r.Fields {
		vals[f.Name] = f.Value
		if !utf8.ValidString(f.Value) {
			t.Errorf("field %s is not valid UTF-8", f.Name)
		}
	}
	if v := vals["big"]; len(v) >= len(big) || len(v) < limit-200 || !strings.HasPrefix(big, v) {
		t.Errorf("big: %d bytes, want a prefix a little under %d", len(v), limit)
	}
	wantOrig := len(line) // _truncated carries the original line length
	if vals["service"] != "s" || vals["after"] != "ok" || vals["_truncated"] != strconv.Itoa(wantOrig) {
		t.Errorf("service=%q after=%q _truncated=%q (want %d)", vals["service"], vals["after"], vals["_truncated"], wantOrig)
	}
	if r.Time != 1_767_251_280e9 || res.Discards[ingest.ReasonTruncated] != 1 {
		t.Errorf("time %d, discards %v", r.Time, res.Discards)
	}
}

func TestDecodeDeepNesting(t *testing.T) {
	deep := func(open, close, inner string, n int) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
	}
	tests := []struct {
		name, line string
		ok         bool
	}{
		{"10000 objects", deep(`{"a":`, `}`, `1`, 10000), false},
		{"10000 arrays", deep(`[`, `]`, ``, 10000), false},
		{"10000 arrays in object", `{"a":` + deep(`[`, `]`, `1`, 10000) + `}`, false},
		{"10000 unclosed", strings.Repeat(`{"a":[`, 10000), false},
		{"299 objects accepted", deep(`{"a":`, `}`, `1`, 299), true},
		{"300 objects rejected", deep(`{"a":`, `}`, `1`, 300), false},
		{"300 containers, innermost empty", `{"a":` + deep(`[`, `]`, ``, 299) + `}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := decodeOne(t, tt.line, testOptions())
			if ok := len(res.Records) == 1; ok != tt.ok {
				t.Fatalf("accepted = %v, want %v (%+v)", ok, tt.ok, res.Rejections)
			}
			if !tt.ok {
				rj := res.Rejections[0]
				if rj.Reason != ingest.ReasonInvalidJSON || !strings.HasPrefix(rj.Detail, "invalid JSON at byte ") || len(rj.Detail) > 100 {
					t.Errorf("rejection %+v", rj)
				}
			}
		})
	}
	res := decodeOne(t, deep(`{"a":`, `}`, `1`, 299), testOptions())
	if f := res.Records[0].Fields; len(f) != 1 || f[0].Name != strings.Repeat("a.", 298)+"a" {
		t.Errorf("299-deep field: %q", render(res.Records[0]))
	}
}

// TestSyntaxErrorAgreesWithFastjson checks that the error locator accepts
// exactly what fastjson accepts, including fastjson's leniencies.
func TestSyntaxErrorAgreesWithFastjson(t *testing.T) {
	lines := []string{
		`{}`, `[]`, `{"a":1}`, ` {"a" : [1, {"b":"c"}] } `, `{"a":NaN}`, `{"a":nan}`, `{"a":-Inf}`,
		`{"a":inf}`, `{"a":1-2}`, `{"a":e}`, `{"a":-}`, `{"a":+}`, `{"a":"\x"}`, "{\"a\":\"\x01\"}",
		`{"a":"\\"}`, `{"a":"\\\"}`, `{"a\"":1}`, `{"a":truex}`, `{"a":nul}`, `{"a":nulls}`, `{"a":.}`,
		`{"a":1}}`, `[1,]`, `[,1]`, `{,}`, `{"a" 1}`, "{\"a\":1}\v", `"x"`, `"x`, `-`, `+`, `Infinity`, `nanx`,
		"\t{\"a\":\r1}", `{"a":[[[]]]}`, `{"a":{"b":{}}`, `{"":""}`,
	}
	var p fastjson.Parser
	for _, s := range lines {
		_, err := p.Parse(s)
		off, msg := syntaxError([]byte(s))
		if (err == nil) != (off < 0) {
			t.Errorf("%q: fastjson error %v, syntaxError %d %q", s, err, off, msg)
		}
	}
}

func TestDecodeConcurrent(t *testing.T) {
	body := []byte(strings.Repeat(`{"_msg":"m","a":{"b":[1,2]},"n":1}`+"\n[]\n", 200))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				res := &ingest.Result{}
				Decode(body, testOptions(), res)
				if len(res.Records) != 200 || len(res.Rejections) != 200 || render(res.Records[199]) != `msg="m" a.b="[1,2]" n="1"` {
					t.Errorf("concurrent decode: %d records, %d rejections", len(res.Records), len(res.Rejections))
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestDecodeDoesNotAliasBody(t *testing.T) {
	body := []byte(`{"_msg":"hello","k":"value","a":[1]}`)
	res := &ingest.Result{}
	var d Decoder
	d.Decode(body, testOptions(), res)
	for i := range body {
		body[i] = 'X'
	}
	d.Decode([]byte(`{"_msg":"other","k":"zzzzz","a":[2]}`), testOptions(), &ingest.Result{})
	if got, want := render(res.Records[0]), `msg="hello" k="value" a="[1]"`; got != want {
		t.Errorf("record changed after the body was reused: %s", got)
	}
}

func TestDecodeAllocs(t *testing.T) {
	body := benchBody(benchLineASCII, 100)
	opts := testOptions()
	opts.StreamFields = []string{"service", "host"}
	var d Decoder
	d.Decode(body, opts, &ingest.Result{}) // warm up buffers
	res := &ingest.Result{}
	allocs := testing.AllocsPerRun(20, func() {
		res.Records = res.Records[:0]
		d.Decode(body, opts, res)
	})
	if perLine := allocs / 100; perLine > 2.05 {
		t.Errorf("%.2f allocations per line, want about 2", perLine)
	}
}
