package ingest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/model"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testNow = int64(1_767_225_600_000_000_000) // 2026-01-01T00:00:00Z

func testOptions() Options {
	o := DefaultOptions()
	o.Now = testNow
	return o
}

// build runs one record of name/value pairs through a Builder.
func build(t *testing.T, opts Options, kv ...string) (model.Record, *Result) {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatalf("odd kv list %q", kv)
	}
	b := NewBuilder(opts)
	for i := 0; i < len(kv); i += 2 {
		b.AddString(kv[i], kv[i+1])
	}
	res := &Result{}
	ok := b.Finish(7, res)
	if ok != (len(res.Records) == 1) || len(res.Records)+len(res.Rejections) != 1 {
		t.Fatalf("Finish = %v with %d records and %d rejections", ok, len(res.Records), len(res.Rejections))
	}
	if !ok {
		return model.Record{}, res
	}
	return res.Records[0], res
}

// fieldList renders fields as name=value pairs for comparison.
func fieldList(fs []model.Field) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name+"="+f.Value)
	}
	return out
}

func TestBuilderTime(t *testing.T) {
	const sec = int64(1_767_251_280) // 2026-01-01T07:08:00Z
	tests := []struct {
		name  string
		value string // "<absent>" for no time field
		want  int64
		tol   int64 // decimals go through float64
	}{
		{"rfc3339 Z nanos", "2026-01-01T07:08:00.329680811Z", sec*1e9 + 329680811, 0},
		{"rfc3339 seconds", "2026-01-01T07:08:00Z", sec * 1e9, 0},
		{"rfc3339 millis", "2026-01-01T07:08:00.123Z", sec*1e9 + 123e6, 0},
		{"rfc3339 micros", "2026-01-01T07:08:00.123456Z", sec*1e9 + 123456e3, 0},
		{"rfc3339 positive offset", "2026-01-01T16:08:00+09:00", sec * 1e9, 0},
		{"rfc3339 negative offset", "2025-12-31T23:38:00.5-07:30", sec*1e9 + 5e8, 0},
		{"rfc3339 space separator", "2026-01-01 07:08:00Z", sec * 1e9, 0},
		{"rfc3339 lower case", "2026-01-01t07:08:00z", sec * 1e9, 0},
		{"unix seconds", "1767251280", sec * 1e9, 0},
		{"unix millis", "1767251280123", sec*1e9 + 123e6, 0},
		{"unix micros", "1767251280123456", sec*1e9 + 123456e3, 0},
		{"unix nanos", "1767251280123456789", sec*1e9 + 123456789, 0},
		{"unix decimal seconds", "1767251280.5", sec*1e9 + 5e8, 1000},
		{"unix decimal millis", "1767251280123.5", sec*1e9 + 123500000, 1000},
		{"zero means now", "0", testNow, 0},
		{"empty means now", "", testNow, 0},
		{"absent means now", "<absent>", testNow, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := []string{"a", "1"}
			if tt.value != "<absent>" {
				kv = append(kv, "_time", tt.value)
			}
			rec, _ := build(t, testOptions(), kv...)
			if d := rec.Time - tt.want; d > tt.tol || d < -tt.tol {
				t.Errorf("Time = %d, want %d (diff %d)", rec.Time, tt.want, rec.Time-tt.want)
			}
			if got := fieldList(rec.Fields); !slices.Equal(got, []string{"a=1"}) {
				t.Errorf("Fields = %q, want only a=1 (time field removed)", got)
			}
		})
	}
}

func TestBuilderInvalidTime(t *testing.T) {
	for _, v := range []string{"yesterday", "2026-13-01T00:00:00Z", "1e400", "2026-01-01", "--1"} {
		t.Run(v, func(t *testing.T) {
			long := strings.Repeat("x", 2000) // its drop must not be counted
			opts := testOptions()
			opts.MaxFieldNameBytes = 10
			_, res := build(t, opts, "_time", v, long, "y", "_msg", "m")
			if len(res.Rejections) != 1 {
				t.Fatalf("got %d rejections, want 1", len(res.Rejections))
			}
			rj := res.Rejections[0]
			if rj.Line != 7 || rj.Reason != ReasonInvalidTime {
				t.Errorf("rejection = %+v, want line 7 reason %s", rj, ReasonInvalidTime)
			}
			if !strings.Contains(rj.Detail, `"_time"`) || !strings.Contains(rj.Detail, v) {
				t.Errorf("Detail %q should name the field and the value", rj.Detail)
			}
			want := map[string]int{ReasonInvalidTime: 1}
			if fmt.Sprint(res.Discards) != fmt.Sprint(want) {
				t.Errorf("Discards = %v, want %v", res.Discards, want)
			}
		})
	}
}

func TestBuilderCustomTimeField(t *testing.T) {
	opts := testOptions()
	opts.TimeField = "ts"
	rec, _ := build(t, opts, "_time", "garbage", "ts", "1767251280")
	if rec.Time != 1_767_251_280e9 {
		t.Errorf("Time = %d, want from ts", rec.Time)
	}
	if got := fieldList(rec.Fields); !slices.Equal(got, []string{"_time=garbage"}) {
		t.Errorf("Fields = %q, want _time kept as ordinary field", got)
	}
}

func TestBuilderMsg(t *testing.T) {
	tests := []struct {
		name       string
		kv         []string
		wantMsg    string
		wantFields []string
	}{
		{"_msg first", []string{"log", "l", "msg", "m", "message", "mm", "_msg", "u"}, "u", []string{"log=l", "msg=m", "message=mm"}},
		{"priority beats arrival order", []string{"_msg", "u", "message", "mm", "log", "l"}, "u", []string{"message=mm", "log=l"}},
		{"message beats msg and log", []string{"log", "l", "msg", "m", "message", "mm"}, "mm", []string{"log=l", "msg=m"}},
		{"empty _msg skipped", []string{"_msg", "", "msg", "m"}, "m", nil},
		{"log last", []string{"a", "1", "log", "l"}, "l", []string{"a=1"}},
		{"no message", []string{"a", "1"}, "", []string{"a=1"}},
		{"case sensitive", []string{"MSG", "x"}, "", []string{"MSG=x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := build(t, testOptions(), tt.kv...)
			if rec.Msg != tt.wantMsg {
				t.Errorf("Msg = %q, want %q", rec.Msg, tt.wantMsg)
			}
			if got := fieldList(rec.Fields); !slices.Equal(got, tt.wantFields) {
				t.Errorf("Fields = %q, want %q", got, tt.wantFields)
			}
		})
	}
}

func TestBuilderStream(t *testing.T) {
	opts := testOptions()
	opts.StreamFields = []string{"service", "host", "absent", "empty"}
	rec, _ := build(t, opts, "level", "info", "service", "api", "empty", "", "host", "h1", "_msg", "m")
	if got, want := fieldList(rec.Stream), []string{"host=h1", "service=api"}; !slices.Equal(got, want) {
		t.Errorf("Stream = %q, want %q", got, want)
	}
	if got, want := fieldList(rec.Fields), []string{"level=info"}; !slices.Equal(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
	sorted := slices.Clone(rec.Stream)
	(&model.Record{Stream: sorted}).SortStream()
	if !slices.Equal(sorted, rec.Stream) {
		t.Errorf("Stream %q is not in SortStream order %q", fieldList(rec.Stream), fieldList(sorted))
	}
	if got := rec.StreamString(); got != `{host="h1",service="api"}` {
		t.Errorf("StreamString = %s", got)
	}
	// Appending to Stream must not overwrite Fields (shared backing array).
	_ = append(rec.Stream, model.Field{Name: "x", Value: "y"})
	if got := fieldList(rec.Fields); !slices.Equal(got, []string{"level=info"}) {
		t.Errorf("append to Stream changed Fields to %q", got)
	}
}

func TestBuilderDuplicatesAndEmpty(t *testing.T) {
	wide := func(n int, tail ...string) []string {
		var kv []string
		for i := range n {
			kv = append(kv, "f"+strconv.Itoa(i), "v")
		}
		return append(kv, tail...)
	}
	tests := []struct {
		name string
		kv   []string
		want []string // last few fields expected
	}{
		{"last wins at first position", []string{"a", "1", "b", "2", "a", "3"}, []string{"a=3", "b=2"}},
		{"three copies", []string{"a", "1", "a", "2", "b", "x", "a", "3"}, []string{"a=3", "b=x"}},
		{"empty dropped", []string{"a", "", "b", "2"}, []string{"b=2"}},
		{"empty last value removes", []string{"a", "1", "b", "2", "a", ""}, []string{"b=2"}},
		{"empty first value then set", []string{"a", "", "b", "2", "a", "1"}, []string{"a=1", "b=2"}},
		{"wide record", wide(40, "f3", "last", "f39", "", "z", "1"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _ := build(t, testOptions(), tt.kv...)
			got := fieldList(rec.Fields)
			if tt.want != nil {
				if !slices.Equal(got, tt.want) {
					t.Errorf("Fields = %q, want %q", got, tt.want)
				}
				return
			}
			// wide record: f0..f38 in order with f3=last, then z=1.
			var want []string
			for i := range 39 {
				v := "v"
				if i == 3 {
					v = "last"
				}
				want = append(want, fmt.Sprintf("f%d=%s", i, v))
			}
			want = append(want, "z=1")
			if !slices.Equal(got, want) {
				t.Errorf("Fields = %q, want %q", got, want)
			}
		})
	}
}

func TestBuilderLimits(t *testing.T) {
	opts := testOptions()
	opts.MaxFields = 3
	opts.MaxFieldNameBytes = 4
	opts.StreamFields = []string{"host"}
	rec, res := build(t, opts,
		"host", "h", "_msg", "m", "a", "1", "toolong", "x", "b", "2", "c", "3", "d", "4", "e", "5", "fivec", "y")
	if got, want := fieldList(rec.Fields), []string{"a=1", "b=2", "c=3"}; !slices.Equal(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
	if rec.Msg != "m" || len(rec.Stream) != 1 {
		t.Errorf("Msg = %q, Stream = %q: message and stream do not count towards MaxFields", rec.Msg, fieldList(rec.Stream))
	}
	want := map[string]int{ReasonTooManyFields: 2, ReasonFieldNameTooLong: 2}
	if fmt.Sprint(res.Discards) != fmt.Sprint(want) {
		t.Errorf("Discards = %v, want %v", res.Discards, want)
	}
	if len(res.Rejections) != 0 {
		t.Errorf("Rejections = %v, want none", res.Rejections)
	}
}

func TestBuilderLimitsDisabled(t *testing.T) {
	opts := Options{Now: 5}
	var kv []string
	for i := range 50 {
		kv = append(kv, strings.Repeat("n", 2000)+strconv.Itoa(i), strings.Repeat("v", 10000))
	}
	rec, res := build(t, opts, kv...)
	if len(rec.Fields) != 50 || res.Discards != nil || rec.Time != 5 {
		t.Errorf("zero Options: %d fields, discards %v, time %d; want 50 fields, none, 5", len(rec.Fields), res.Discards, rec.Time)
	}
}

func TestBuilderUTF8SplitRune(t *testing.T) {
	// "가" is EA B0 80: split between name and value, the stage as a whole
	// is valid UTF-8 but neither string is.
	rec, _ := build(t, testOptions(), "a\xea", "\xb0\x80b")
	if got, want := fieldList(rec.Fields), []string{"a\uFFFD=\uFFFDb"}; !slices.Equal(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
}

func TestBuilderTruncateExactCap(t *testing.T) {
	opts := testOptions()
	opts.MaxLineBytes = 200
	rec, _ := build(t, opts, "a", strings.Repeat("x", 100), "b", strings.Repeat("y", 150), "c", "z")
	// budget 200-64 = 136, names 3, so 1 + 2c <= 133 gives c = 66.
	want := []string{"a=" + strings.Repeat("x", 66), "b=" + strings.Repeat("y", 66), "c=z", "_truncated=254"}
	if got := fieldList(rec.Fields); !slices.Equal(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
}

func TestBuilderUTF8(t *testing.T) {
	rec, _ := build(t, testOptions(),
		"a\xffb", "x\xfe\xfdy", "_msg", "m\xc3", "nul", "a\x00b", "ok", "한국어", "\xff", "1", "\xfe", "2")
	if rec.Msg != "m\uFFFD" {
		t.Errorf("Msg = %q", rec.Msg)
	}
	want := []string{
		strings.ToValidUTF8("a\xffb", "\uFFFD") + "=" + strings.ToValidUTF8("x\xfe\xfdy", "\uFFFD"),
		"nul=a\x00b",
		"ok=한국어",
		"\uFFFD=2", // both names become U+FFFD: one field, last value
	}
	if got := fieldList(rec.Fields); !slices.Equal(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
}

func TestBuilderTruncate(t *testing.T) {
	opts := testOptions()
	opts.MaxLineBytes = 1000
	huge := strings.Repeat("가", 700) // 2100 bytes
	rec, res := build(t, opts, "small", "s", "_msg", huge, "big", huge, "mid", strings.Repeat("m", 100), "_truncated", "fake")
	origSize := len("small") + 1 + len(huge) + len("big") + len(huge) + len("mid") + 100 + len("_truncated") + 4
	if size := rec.Size(); size > opts.MaxLineBytes || size < opts.MaxLineBytes-3*truncReserve {
		t.Errorf("Size = %d, want at most %d and not far below", size, opts.MaxLineBytes)
	}
	if !utf8.ValidString(rec.Msg) || !strings.HasPrefix(huge, rec.Msg) || len(rec.Msg) >= len(huge) {
		t.Errorf("Msg is not a valid cut prefix: %d bytes", len(rec.Msg))
	}
	byName := map[string]string{}
	for _, f := range rec.Fields {
		byName[f.Name] = f.Value
	}
	if byName["small"] != "s" || byName["mid"] != strings.Repeat("m", 100) {
		t.Errorf("short values changed: small=%q mid=%d bytes", byName["small"], len(byName["mid"]))
	}
	if byName["big"] != rec.Msg {
		t.Errorf("both long values should be cut to the same cap: %d vs %d", len(byName["big"]), len(rec.Msg))
	}
	if got := byName[TruncatedField]; got != strconv.Itoa(origSize) {
		t.Errorf("_truncated = %q, want %d", got, origSize)
	}
	// budget 1000-64 = 936, names 5+3+3 = 11, so values get 925 bytes:
	// 1 + 100 + 2c <= 925 gives c = 412, cut back to a rune boundary: 411.
	if len(rec.Msg) != 411 {
		t.Errorf("Msg cut to %d bytes, want 411", len(rec.Msg))
	}
	markers := 0
	for _, f := range rec.Fields {
		if f.Name == TruncatedField {
			markers++
		}
	}
	if markers != 1 {
		t.Errorf("%d %s fields, want 1 (the input one replaced)", markers, TruncatedField)
	}
	if last := rec.Fields[len(rec.Fields)-1]; last.Name != TruncatedField {
		t.Errorf("last field %q, want %s; fields %d", last.Name, TruncatedField, len(rec.Fields))
	}
	if res.Discards[ReasonTruncated] != 1 {
		t.Errorf("Discards = %v, want truncated=1", res.Discards)
	}
}

func TestBuilderTruncateNames(t *testing.T) {
	opts := testOptions()
	opts.MaxLineBytes = 500
	opts.StreamFields = []string{"host"}
	var kv = []string{"host", "h1"}
	for i := range 20 {
		kv = append(kv, fmt.Sprintf("%050d", i), "v")
	}
	rec, _ := build(t, opts, kv...)
	if size := rec.Size(); size > opts.MaxLineBytes {
		t.Errorf("Size = %d > %d", size, opts.MaxLineBytes)
	}
	if fieldList(rec.Stream)[0] != "host=h1" {
		t.Errorf("stream field dropped before ordinary ones: %q", fieldList(rec.Stream))
	}
	n := len(rec.Fields)
	if n < 3 || rec.Fields[n-1].Name != TruncatedField || rec.Fields[n-2].Name != fmt.Sprintf("%050d", n-2) {
		t.Errorf("want leading fields kept then _truncated, got %q", fieldList(rec.Fields))
	}
}

func TestBuilderNotTruncatedAtLimit(t *testing.T) {
	opts := testOptions()
	opts.MaxLineBytes = 100
	v := strings.Repeat("x", 100-8-1)
	rec, res := build(t, opts, "a", v)
	if rec.Size() != 100 || len(rec.Fields) != 1 || res.Discards != nil {
		t.Errorf("record of exactly MaxLineBytes changed: size %d, fields %q", rec.Size(), fieldList(rec.Fields))
	}
	rec, res = build(t, opts, "a", v+"x")
	if rec.Size() > 100 || res.Discards[ReasonTruncated] != 1 {
		t.Errorf("record of MaxLineBytes+1 not cut: size %d", rec.Size())
	}
}

func TestRuneCut(t *testing.T) {
	v := []byte("a가b") // 1 + 3 + 1 bytes
	for n, want := range []int{0, 1, 1, 1, 4, 5, 5} {
		if got := runeCut(v, n); got != want {
			t.Errorf("runeCut(%q, %d) = %d, want %d", v, n, got, want)
		}
	}
}

func TestBuilderNoAliasing(t *testing.T) {
	b := NewBuilder(testOptions())
	name, val := []byte("key"), []byte("value")
	b.Add(name, val)
	copy(name, "XXX")
	copy(val, "XXXXX")
	res := &Result{}
	b.Finish(1, res)
	if got := fieldList(res.Records[0].Fields); !slices.Equal(got, []string{"key=value"}) {
		t.Errorf("record aliases the input: %q", got)
	}
}

func TestBuilderReuse(t *testing.T) {
	b := NewBuilder(testOptions())
	res := &Result{}
	b.AddString("_time", "bad")
	b.AddString("a", "1")
	b.Finish(1, res)
	b.AddString("b", "2")
	b.Finish(2, res)
	if len(res.Records) != 1 || !slices.Equal(fieldList(res.Records[0].Fields), []string{"b=2"}) {
		t.Errorf("a rejected record leaked into the next: %+v", res.Records)
	}
}

func TestBuilderAllocs(t *testing.T) {
	opts := testOptions()
	opts.StreamFields = []string{"service", "host"}
	b := NewBuilder(opts)
	res := &Result{Records: make([]model.Record, 0, 1000)}
	allocs := testing.AllocsPerRun(200, func() {
		b.AddString("_time", "2026-01-01T07:08:00.329680811Z")
		b.AddString("service", "auth-service")
		b.AddString("host", "auth-service-kr1a-09")
		b.AddString("level", "info")
		b.AddString("trace_id", "4e3466d6989d696cbb494a02db99c29d")
		b.AddString("_msg", "event=login user_id=u101826 platform=pc")
		b.Finish(1, res)
		res.Records = res.Records[:0]
	})
	if allocs > 2 {
		t.Errorf("%.1f allocations per record, want at most 2 (one string, one field slice)", allocs)
	}
}

func TestDefaultOptions(t *testing.T) {
	o := DefaultOptions()
	if o.TimeField != "_time" || !slices.Equal(o.MsgFields, []string{"_msg", "message", "msg", "log"}) ||
		o.MaxLineBytes != 256<<10 || o.MaxFields != 1000 || o.MaxFieldNameBytes != 1024 || o.Now == 0 {
		t.Errorf("DefaultOptions() = %+v", o)
	}
	o.MsgFields[0] = "changed"
	if DefaultOptions().MsgFields[0] != "_msg" {
		t.Error("DefaultOptions shares its MsgFields slice")
	}
}

func BenchmarkBuilder(b *testing.B) {
	opts := testOptions()
	opts.StreamFields = []string{"service", "host"}
	bl := NewBuilder(opts)
	kv := [][2][]byte{
		{[]byte("_time"), []byte("2026-01-01T07:08:00.329680811Z")},
		{[]byte("service"), []byte("auth-service")},
		{[]byte("host"), []byte("auth-service-kr1a-09")},
		{[]byte("level"), []byte("info")},
		{[]byte("trace_id"), []byte("4e3466d6989d696cbb494a02db99c29d")},
		{[]byte("user_id"), []byte("u101826")},
		{[]byte("_msg"), []byte("event=login user_id=u101826 platform=pc ver=3.12.0 country=TH")},
	}
	res := &Result{Records: make([]model.Record, 0, 1024)}
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range kv {
			bl.Add(f[0], f[1])
		}
		bl.Finish(1, res)
		if len(res.Records) == cap(res.Records) {
			res.Records = res.Records[:0]
		}
	}
}

func TestBuilderAddStream(t *testing.T) {
	opts := testOptions()
	opts.StreamFields = []string{"service"}
	b := NewBuilder(opts)
	b.AddStreamString("job", "api")
	b.AddStreamString("message", "label named like a message field")
	b.AddStreamString("_time", "label named like the time field")
	b.AddString("service", "svc") // configured stream field still applies
	b.AddString("msg", "hello")
	b.AddStream([]byte("level"), []byte("info"))
	b.AddString("level", "warn") // the last value wins and is ordinary
	res := &Result{}
	if !b.Finish(1, res) {
		t.Fatalf("rejected: %+v", res.Rejections)
	}
	rec := res.Records[0]
	if got, want := fieldList(rec.Stream), []string{"_time=label named like the time field", "job=api", "message=label named like a message field", "service=svc"}; !slices.Equal(got, want) {
		t.Errorf("Stream = %q, want %q", got, want)
	}
	if got, want := fieldList(rec.Fields), []string{"level=warn"}; !slices.Equal(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
	if rec.Msg != "hello" || rec.Time != testNow {
		t.Errorf("Msg, Time = %q, %d; want hello, %d", rec.Msg, rec.Time, testNow)
	}
}

func TestBuilderSetTime(t *testing.T) {
	b := NewBuilder(testOptions())
	b.SetTime(42)
	b.AddString("_time", "not a time") // ordinary field once SetTime was called
	b.AddString("_msg", "m")
	res := &Result{}
	if !b.Finish(1, res) {
		t.Fatalf("rejected: %+v", res.Rejections)
	}
	rec := res.Records[0]
	if rec.Time != 42 {
		t.Errorf("Time = %d, want 42", rec.Time)
	}
	if got, want := fieldList(rec.Fields), []string{"_time=not a time"}; !slices.Equal(got, want) {
		t.Errorf("Fields = %q, want %q", got, want)
	}
	// SetTime does not carry over to the next record.
	b.AddString("_msg", "next")
	if !b.Finish(2, res) || res.Records[1].Time != testNow {
		t.Errorf("next record Time = %d, want Now %d", res.Records[1].Time, testNow)
	}
}
