package otlp

import (
	"math"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

var (
	testTraceID = pcommon.TraceID{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c}
	testSpanID  = pcommon.SpanID{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74}
)

type recordCase struct {
	name  string
	build func(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord)
	want  string // render of the single record
}

func runRecordCases(t *testing.T, cases []recordCase, opts Options) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ld, rl, sl, lr := oneRecord()
			tc.build(rl, sl, lr)
			res := decodeBoth(t, ld, opts)
			if len(res.Records) != 1 || len(res.Rejections) != 0 {
				t.Fatalf("got %d records, %d rejections, want 1 record", len(res.Records), len(res.Rejections))
			}
			if got := render(res.Records[0]); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDecodeBodyAndTime(t *testing.T) {
	runRecordCases(t, []recordCase{
		{"empty record", func(_ plog.ResourceLogs, _ plog.ScopeLogs, _ plog.LogRecord) {}, ``},
		{"string body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Body().SetStr("결제 승인 지연 ✓")
		}, `msg="결제 승인 지연 ✓"`},
		{"empty string body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Body().SetStr("")
			lr.Attributes().PutStr("a", "x")
		}, `a="x"`},
		{"int body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Body().SetInt(-42)
		}, `msg="-42"`},
		{"double body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Body().SetDouble(2.5)
		}, `msg="2.5"`},
		{"bool body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Body().SetBool(true)
		}, `msg="true"`},
		{"bytes body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Body().SetEmptyBytes().FromRaw([]byte("hi\x00"))
		}, `msg="aGkA"`},
		{"array body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			s := lr.Body().SetEmptySlice()
			s.AppendEmpty().SetStr("a")
			s.AppendEmpty().SetInt(1)
		}, `msg="[\"a\",1]"`},
		{"time_unix_nano wins", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.SetTimestamp(1795303611541000000)
			lr.SetObservedTimestamp(1795303611999000000)
		}, `time=1795303611541000000`},
		{"observed time when time is zero", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.SetObservedTimestamp(1795303611999000000)
		}, `time=1795303611999000000`},
		{"largest time", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.SetTimestamp(math.MaxInt64)
		}, `time=9223372036854775807`},
	}, testOptions())
}

func TestDecodeMapBody(t *testing.T) {
	runRecordCases(t, []recordCase{
		{"flattened, message from msg", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutStr("user", "u1")
			m.PutStr("msg", "login ok")
			m.PutEmptyMap("http").PutInt("status", 200)
		}, `msg="login ok" user="u1" http.status="200"`},
		{"MsgFields priority", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutStr("log", "third")
			m.PutStr("message", "second")
			m.PutStr("_msg", "first")
		}, `msg="first" log="third" message="second"`},
		{"empty and map candidates skipped", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutStr("_msg", "")
			m.PutEmptyMap("message").PutStr("text", "nested")
			m.PutInt("msg", 7)
		}, `msg="7" message.text="nested"`},
		{"no candidate: no message", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutBool("structured", true)
			m.PutDouble("n", 1.5)
		}, `structured="true" n="1.5"`},
		{"body keys override attributes", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Attributes().PutStr("user", "from-attr")
			lr.Attributes().PutStr("other", "kept")
			lr.Body().SetEmptyMap().PutStr("user", "from-body")
		}, `user="from-body" other="kept"`},
		{"empty map body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Body().SetEmptyMap()
		}, ``},
	}, testOptions())

	opts := testOptions()
	opts.MsgFields = []string{"text"}
	runRecordCases(t, []recordCase{
		{"custom MsgFields", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutStr("msg", "not the message")
			m.PutStr("text", "the message")
			m.PutStr("_msg", "renamed")
		}, `msg="the message" msg="not the message" body._msg="renamed"`},
	}, opts)
}

func TestDecodeAttributeValues(t *testing.T) {
	runRecordCases(t, []recordCase{
		{"scalars", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			a := lr.Attributes()
			a.PutStr("s", "text")
			a.PutInt("i", math.MinInt64)
			a.PutDouble("d", 0.1)
			a.PutDouble("big", 1e21)
			a.PutDouble("small", 1e-7)
			a.PutDouble("whole", 3)
			a.PutBool("t", true)
			a.PutBool("f", false)
			a.PutEmptyBytes("b").FromRaw([]byte{0, 1, 254, 255})
		}, `s="text" i="-9223372036854775808" d="0.1" big="1e+21" small="1e-7" whole="3" t="true" f="false" b="AAH+/w=="`},
		{"non-finite doubles", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			a := lr.Attributes()
			a.PutDouble("nan", math.NaN())
			a.PutDouble("inf", math.Inf(1))
			a.PutDouble("ninf", math.Inf(-1))
		}, `nan="NaN" inf="Infinity" ninf="-Infinity"`},
		{"empty values are absent", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			a := lr.Attributes()
			a.PutEmpty("none")
			a.PutStr("empty", "")
			a.PutEmptyBytes("nobytes")
			a.PutEmptyMap("nomap")
			a.PutStr("kept", "x")
		}, `kept="x"`},
		{"nested maps flattened with dots", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			http := lr.Attributes().PutEmptyMap("http")
			http.PutStr("method", "POST")
			req := http.PutEmptyMap("request")
			req.PutInt("size", 12)
			req.PutEmptyMap("headers").PutStr("x-id", "7")
			lr.Attributes().PutStr("a.b", "dotted key kept")
		}, `http.method="POST" http.request.size="12" http.request.headers.x-id="7" a.b="dotted key kept"`},
		{"arrays as compact JSON", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			s := lr.Attributes().PutEmptySlice("arr")
			s.AppendEmpty().SetStr("q\"u\n<")
			s.AppendEmpty().SetInt(-1)
			s.AppendEmpty().SetDouble(math.NaN())
			s.AppendEmpty().SetBool(false)
			s.AppendEmpty()
			s.AppendEmpty().SetEmptyBytes().FromRaw([]byte("x"))
			m := s.AppendEmpty().SetEmptyMap()
			m.PutStr("k", "v")
			m.PutEmptySlice("e")
			s.AppendEmpty().SetEmptySlice().AppendEmpty().SetDouble(0.5)
			lr.Attributes().PutEmptySlice("empty")
		}, `arr="[\"q\\\"u\\n<\",-1,\"NaN\",false,null,\"eA==\",{\"k\":\"v\",\"e\":[]},[0.5]]" empty="[]"`},
		{"Korean and invalid UTF-8", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Attributes().PutStr("주문", "결제")
			lr.Attributes().PutStr("bad\xff", "x\xfe\xfdy")
		}, `주문="결제" bad�="x�y"`},
	}, testOptions())
}
