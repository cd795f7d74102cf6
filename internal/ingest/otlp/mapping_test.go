package otlp

import (
	"math"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/logbucket/logbucket/internal/ingest"
)

func TestDecodeRecordFields(t *testing.T) {
	runRecordCases(t, []recordCase{
		{"severity text kept as sent", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.SetSeverityText("ERROR")
			lr.SetSeverityNumber(plog.SeverityNumberError)
		}, `level="ERROR" severity_number="17"`},
		{"level from number", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.SetSeverityNumber(plog.SeverityNumberWarn2)
		}, `level="warn" severity_number="14"`},
		{"text without number", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.SetSeverityText("notice")
		}, `level="notice"`},
		{"number out of range", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.SetSeverityNumber(99)
		}, `severity_number="99"`},
		{"ids, flags, event name", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.SetTraceID(testTraceID)
			lr.SetSpanID(testSpanID)
			lr.SetFlags(plog.DefaultLogRecordFlags.WithIsSampled(true))
			lr.SetEventName("checkout.retry")
		}, `trace_id="5b8efff798038103d269b633813fc60c" span_id="eee19b7ec3c1b174" flags="1" event_name="checkout.retry"`},
		{"record fields override attributes", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Attributes().PutStr("level", "from-attr")
			lr.Attributes().PutStr("trace_id", "from-attr")
			lr.SetSeverityText("INFO")
			lr.SetTraceID(testTraceID)
		}, `level="INFO" trace_id="5b8efff798038103d269b633813fc60c"`},
		{"attributes kept when the record field is unset", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Attributes().PutStr("level", "custom")
			lr.Attributes().PutStr("trace_id", "t-1")
		}, `level="custom" trace_id="t-1"`},
		{"attributes named like message candidates stay fields", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Attributes().PutStr("message", "m")
			lr.Attributes().PutStr("msg", "n")
		}, `message="m" msg="n"`},
	}, testOptions())
}

func TestDecodeSeverityNumbers(t *testing.T) {
	want := map[int32]string{0: "", 25: "", -1: ""}
	for n, level := range []string{"trace", "debug", "info", "warn", "error", "fatal"} {
		for i := range 4 {
			want[int32(n*4+i+1)] = level
		}
	}
	for sev, level := range want {
		if got := levelOf(plog.SeverityNumber(sev)); got != level {
			t.Errorf("levelOf(%d) = %q, want %q", sev, got, level)
		}
	}
}

func TestDecodeResourceAndScope(t *testing.T) {
	runRecordCases(t, []recordCase{
		{"stream and ordinary resource attributes", func(rl plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			a := rl.Resource().Attributes()
			a.PutStr("service.name", "checkout")
			a.PutStr("host.name", "h1")
			a.PutStr("service.instance.id", "6f1c")
			a.PutInt("process.pid", 42)
			a.PutStr("deployment.environment", "prod")
			lr.Body().SetStr("m")
		}, `msg="m" stream:deployment.environment="prod" stream:host.name="h1" stream:service.name="checkout" service.instance.id="6f1c" process.pid="42"`},
		{"non-string stream attribute", func(rl plog.ResourceLogs, _ plog.ScopeLogs, _ plog.LogRecord) {
			rl.Resource().Attributes().PutInt("service.namespace", 7)
			rl.Resource().Attributes().PutEmptyMap("k8s.pod.name").PutStr("x", "y")
		}, `stream:k8s.pod.name.x="y" stream:service.namespace="7"`},
		{"scope", func(_ plog.ResourceLogs, sl plog.ScopeLogs, _ plog.LogRecord) {
			sl.Scope().SetName("my-lib")
			sl.Scope().SetVersion("1.2.3")
			sl.Scope().Attributes().PutStr("k", "v")
		}, `scope.name="my-lib" scope.version="1.2.3" scope.attributes.k="v"`},
		{"record attributes override resource and scope", func(rl plog.ResourceLogs, sl plog.ScopeLogs, lr plog.LogRecord) {
			rl.Resource().Attributes().PutStr("region", "r-res")
			sl.Scope().SetName("lib")
			lr.Attributes().PutStr("region", "r-rec")
			lr.Attributes().PutStr("scope.name", "s-rec")
		}, `region="r-rec" scope.name="s-rec"`},
		{"stream fields override record attributes", func(rl plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			rl.Resource().Attributes().PutStr("service.name", "real")
			lr.Attributes().PutStr("service.name", "spoofed")
			lr.Body().SetEmptyMap().PutStr("host.name", "spoofed")
			rl.Resource().Attributes().PutStr("host.name", "h")
		}, `stream:host.name="h" stream:service.name="real"`},
	}, testOptions())

	opts := testOptions()
	opts.StreamAttributes = nil
	runRecordCases(t, []recordCase{
		{"no stream attributes", func(rl plog.ResourceLogs, _ plog.ScopeLogs, _ plog.LogRecord) {
			rl.Resource().Attributes().PutStr("service.name", "s")
		}, `service.name="s"`},
	}, opts)
}

func TestDecodeReservedNames(t *testing.T) {
	opts := testOptions()
	opts.StreamAttributes = append(opts.StreamAttributes, "_stream")
	runRecordCases(t, []recordCase{
		{"attributes", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Attributes().PutStr("_msg", "a")
			lr.Attributes().PutStr("_time", "2020-01-01T00:00:00Z")
			lr.Attributes().PutEmptyMap("_stream").PutStr("x", "c")
			lr.Attributes().PutStr("_msgx", "not reserved")
		}, `attributes._msg="a" attributes._time="2020-01-01T00:00:00Z" attributes._stream.x="c" _msgx="not reserved"`},
		{"attribute _msg does not replace the body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			lr.Attributes().PutStr("_msg", "attr")
			lr.Body().SetStr("body")
		}, `msg="body" attributes._msg="attr"`},
		{"resource", func(rl plog.ResourceLogs, _ plog.ScopeLogs, _ plog.LogRecord) {
			rl.Resource().Attributes().PutStr("_msg", "r")
			rl.Resource().Attributes().PutStr("_stream", "s")
		}, `stream:resource._stream="s" resource._msg="r"`},
		{"map body", func(_ plog.ResourceLogs, _ plog.ScopeLogs, lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutStr("_time", "t")
			m.PutStr("_stream", "s")
			m.PutStr("_msg", "the message")
		}, `msg="the message" body._time="t" body._stream="s"`},
	}, opts)
}

func TestDecodeLimits(t *testing.T) {
	opts := testOptions()
	opts.MaxFields = 2
	opts.MaxLineBytes = 128
	ld, rl, _, lr := oneRecord()
	rl.Resource().Attributes().PutStr("service.name", "svc")
	for _, k := range []string{"a", "b", "c", "d"} {
		lr.Attributes().PutStr(k, k)
	}
	lr.Body().SetStr(strings.Repeat("m", 200))
	res := decodeBoth(t, ld, opts)
	if len(res.Records) != 1 {
		t.Fatalf("%d records", len(res.Records))
	}
	r := res.Records[0]
	if r.Size() > opts.MaxLineBytes || res.Discards[ingest.ReasonTruncated] != 1 || res.Discards[ingest.ReasonTooManyFields] != 2 {
		t.Fatalf("size %d, discards %v: %s", r.Size(), res.Discards, render(r))
	}
	if got := render(r); !strings.HasPrefix(got, `msg="mmm`) || !strings.Contains(got, `stream:service.name="svc" a="a" b="b" _truncated=`) {
		t.Errorf("got %s", got)
	}
}

func TestDecodeManyResourcesAndScopes(t *testing.T) {
	ld := plog.NewLogs()
	rl1 := ld.ResourceLogs().AppendEmpty()
	rl1.Resource().Attributes().PutStr("service.name", "a")
	rl1.Resource().Attributes().PutStr("only.a", "1")
	sl1 := rl1.ScopeLogs().AppendEmpty()
	sl1.Scope().SetName("s1")
	sl1.LogRecords().AppendEmpty().Body().SetStr("r1")
	sl1.LogRecords().AppendEmpty().SetTimestamp(math.MaxUint64) // rejected
	sl2 := rl1.ScopeLogs().AppendEmpty()
	sl2.LogRecords().AppendEmpty().Body().SetStr("r3")
	rl2 := ld.ResourceLogs().AppendEmpty()
	rl2.Resource().Attributes().PutStr("service.name", "b")
	rl2.ScopeLogs().AppendEmpty() // no records
	sl4 := rl2.ScopeLogs().AppendEmpty()
	sl4.Scope().SetVersion("v4")
	r4 := sl4.LogRecords().AppendEmpty()
	r4.Body().SetStr("r4")
	r4.SetObservedTimestamp(math.MaxInt64 + 1) // rejected
	sl4.LogRecords().AppendEmpty().Body().SetStr("r5")

	res := decodeBoth(t, ld, testOptions())
	want := []string{
		`msg="r1" stream:service.name="a" only.a="1" scope.name="s1"`,
		`msg="r3" stream:service.name="a" only.a="1"`,
		`msg="r5" stream:service.name="b" scope.version="v4"`,
	}
	if got := renderAll(res); !slices.Equal(got, want) {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantRej := []ingest.Rejection{
		{Line: 2, Reason: ingest.ReasonInvalidTime, Detail: "time_unix_nano 18446744073709551615 is after 2262-04-11, the last time an int64 of nanoseconds holds"},
		{Line: 4, Reason: ingest.ReasonInvalidTime, Detail: "observed_time_unix_nano 9223372036854775808 is after 2262-04-11, the last time an int64 of nanoseconds holds"},
	}
	if !slices.Equal(res.Rejections, wantRej) || res.Discards[ingest.ReasonInvalidTime] != 2 {
		t.Errorf("rejections %+v, discards %v", res.Rejections, res.Discards)
	}
}

// TestDecodeNoAliasing checks that records do not share memory with the
// body: overwriting the body after Decode changes no record.
func TestDecodeNoAliasing(t *testing.T) {
	for _, name := range []string{"js-exporter-0.223.1.pb", "js-exporter-0.223.1.json"} {
		body := readFixture(t, name)
		res := &ingest.Result{}
		if err := Decode(body, contentTypeOf(name), testOptions(), res); err != nil {
			t.Fatal(err)
		}
		before := renderAll(res)
		for i := range body {
			body[i] = 'X'
		}
		if after := renderAll(res); !slices.Equal(before, after) {
			t.Errorf("%s: records changed with the body:\n%v\n%v", name, before, after)
		}
	}
}
