package otlp

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/model"
)

// fuzzOptions are the option sets every fuzz input is decoded with: the
// defaults, and tight limits with reserved and short stream attributes.
func fuzzOptions() []Options {
	def := testOptions()
	tight := def
	tight.MaxLineBytes = 128
	tight.MaxFields = 3
	tight.MaxFieldNameBytes = 12
	tight.MsgFields = []string{"msg", "_msg"}
	tight.StreamAttributes = []string{"s", "_msg", "service.name"}
	return []Options{def, tight}
}

// sampleLogs returns logs using every part of the mapping, for seeds.
func sampleLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr("service.name", "svc")
	ra.PutStr("_msg", "r")
	ra.PutEmptyMap("s").PutInt("n", 1)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("lib")
	sl.Scope().Attributes().PutBool("b", true)
	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(1795303611541000000)
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetTraceID(testTraceID)
	lr.SetSpanID(testSpanID)
	lr.SetFlags(1)
	lr.SetEventName("e")
	a := lr.Attributes()
	a.PutDouble("d", math.NaN())
	a.PutEmptyBytes("bytes").FromRaw([]byte{0xff})
	a.PutStr("_time", "t\xff")
	arr := a.PutEmptySlice("arr")
	arr.AppendEmpty().SetEmptyMap().PutInt("i", -1)
	arr.AppendEmpty()
	m := lr.Body().SetEmptyMap()
	m.PutStr("msg", "결제")
	m.PutEmptyMap("nested").PutEmptySlice("x").AppendEmpty().SetStr("y")
	lr2 := sl.LogRecords().AppendEmpty()
	lr2.SetObservedTimestamp(math.MaxUint64)
	lr3 := sl.LogRecords().AppendEmpty()
	lr3.Body().SetStr(strings.Repeat("가", 60))
	lr3.SetSeverityText("INFO")
	return ld
}

func fuzzSeeds(f *testing.F, format Format) {
	var bodies [][]byte
	proto, json := encodeBoth(f, sampleLogs())
	if format == JSON {
		bodies = append(bodies, readFixture(f, "js-exporter-0.223.1.json"), json,
			[]byte(deepJSON(maxValueDepth)), []byte(deepJSON(maxValueDepth+2)), []byte(`{}`), []byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"x"}]}]}]}`))
	} else {
		bodies = append(bodies, readFixture(f, "js-exporter-0.223.1.pb"), proto,
			deepProto(maxValueDepth), deepProto(maxValueDepth+1), nil, []byte{0x0b, 0x0c, 0x0a, 0x00})
	}
	for _, b := range bodies {
		f.Add(b)
	}
}

// FuzzDecodeJSON checks Decode's invariants on arbitrary JSON bodies.
func FuzzDecodeJSON(f *testing.F) {
	fuzzSeeds(f, JSON)
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, body, JSON) })
}

// FuzzDecodeProto checks Decode's invariants on arbitrary protobuf bodies.
func FuzzDecodeProto(f *testing.F) {
	fuzzSeeds(f, Protobuf)
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, body, Protobuf) })
}

func checkDecode(t *testing.T, body []byte, format Format) {
	for _, opts := range fuzzOptions() {
		res := &ingest.Result{}
		err := Decode(body, format.ContentType(), opts, res)
		if err != nil {
			msg := err.Error()
			if !errors.Is(err, ErrInvalidBody) || !utf8.ValidString(msg) || len(msg) > 600 || strings.ContainsFunc(msg, unicode.IsControl) {
				t.Fatalf("bad error %q", err)
			}
			if len(res.Records)+len(res.Rejections) != 0 || res.Discards != nil {
				t.Fatalf("error %v with a non-empty result", err)
			}
			continue
		}
		// Decode accepted the body, so its depth is safe for pdata.
		req := plogotlp.NewExportRequest()
		if format == JSON {
			err = req.UnmarshalJSON(body)
		} else {
			err = req.UnmarshalProto(body)
		}
		if err != nil {
			t.Fatalf("Decode accepted a body pdata refuses: %v", err)
		}
		if n, want := len(res.Records)+len(res.Rejections), req.Logs().LogRecordCount(); n != want {
			t.Fatalf("%d records + rejections for %d log records", n, want)
		}
		for _, rj := range res.Rejections {
			if rj.Reason != ingest.ReasonInvalidTime || !utf8.ValidString(rj.Detail) {
				t.Fatalf("bad rejection %+v", rj)
			}
		}
		for i := range res.Records {
			checkRecord(t, opts, &res.Records[i])
		}
	}
}

func checkRecord(t *testing.T, opts Options, r *model.Record) {
	t.Helper()
	if r.Time < 0 {
		t.Fatalf("negative time %d", r.Time)
	}
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
		if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
			t.Fatalf("field %q=%q is not valid UTF-8", f.Name, f.Value)
		}
		if f.Value == "" || seen[f.Name] || isReserved(f.Name) {
			t.Fatalf("field %q=%q: empty, duplicate or reserved", f.Name, f.Value)
		}
		seen[f.Name] = true
	}
	for _, f := range r.Stream {
		if !streamName(opts, f.Name) {
			t.Fatalf("stream field %q does not come from %v", f.Name, opts.StreamAttributes)
		}
	}
	if !slices.IsSortedFunc(r.Stream, func(a, b model.Field) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatalf("stream not sorted: %v", r.Stream)
	}
}

// streamName reports whether name is a stream attribute, a key inside
// one, or a renamed reserved one.
func streamName(opts Options, name string) bool {
	name = strings.TrimPrefix(name, originResource)
	for _, a := range opts.StreamAttributes {
		if name == a || strings.HasPrefix(name, a+".") {
			return true
		}
	}
	return false
}
