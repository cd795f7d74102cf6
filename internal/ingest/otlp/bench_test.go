package otlp

import (
	"fmt"
	"runtime"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/logbucket/logbucket/internal/ingest"
)

const benchRecords = 1000

// benchLogs returns benchRecords records with the content of jsonline's
// benchmark lines (time, service, host, level, trace id, user id and
// message), as an OpenTelemetry SDK sends them: service and host as
// resource attributes, one scope, severity, trace and span ids, the user
// id as an attribute and the message as a string body. sdkResource adds
// the resource attributes an SDK reports on its own (telemetry.sdk.*,
// process.*, service.instance.id), which become fields of every record.
func benchLogs(korean, sdkResource bool) plog.Logs {
	service, host := "auth-service", "auth-service-kr1a-09"
	msg := "event=login user_id=u101826 platform=pc ver=3.12.0 country=TH"
	if korean {
		service, host = "payment-service", "payment-kr1b-03"
		msg = "결제 승인 지연: 카드사 응답 시간 초과 (3.2초), 재시도 예정 주문번호=A-20260101-0042"
	}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr("service.name", service)
	ra.PutStr("host.name", host)
	if sdkResource {
		ra.PutStr("service.instance.id", "0c5f6a3e-3b7e-4f3c-9d5e-7f1a2b3c4d5e")
		ra.PutStr("telemetry.sdk.language", "nodejs")
		ra.PutStr("telemetry.sdk.name", "opentelemetry")
		ra.PutStr("telemetry.sdk.version", "2.12.1")
		ra.PutInt("process.pid", 4242)
		ra.PutStr("process.runtime.name", "nodejs")
	}
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("auth")
	for i := range benchRecords {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.Timestamp(1767251280329680811 + int64(i)))
		lr.SetObservedTimestamp(pcommon.Timestamp(1767251280329680811 + int64(i)))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("info")
		tid := testTraceID
		tid[0], tid[1] = byte(i), byte(i>>8)
		lr.SetTraceID(tid)
		lr.SetSpanID(testSpanID)
		lr.Attributes().PutStr("user_id", fmt.Sprintf("u%06d", 100000+i))
		lr.Body().SetStr(msg)
	}
	return ld
}

func BenchmarkDecode(b *testing.B) {
	for _, shape := range []struct {
		name                string
		korean, sdkResource bool
	}{
		{"ascii", false, false},
		{"korean", true, false},
		{"ascii-sdk-resource", false, true},
	} {
		proto, json := encodeBoth(b, benchLogs(shape.korean, shape.sdkResource))
		for _, enc := range []struct {
			name string
			f    Format
			body []byte
		}{{"proto", Protobuf, proto}, {"json", JSON, json}} {
			b.Run(shape.name+"/"+enc.name, func(b *testing.B) {
				benchDecode(b, enc.body, enc.f)
			})
		}
	}
}

func benchDecode(b *testing.B, body []byte, f Format) {
	opts := DefaultOptions()
	var d Decoder
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		res := &ingest.Result{} // a fresh result per request, as a receiver does
		if err := d.Decode(body, f.ContentType(), opts, res); err != nil {
			b.Fatal(err)
		}
		if len(res.Records) != benchRecords {
			b.Fatalf("%d records", len(res.Records))
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N) * benchRecords
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/record")
}

// BenchmarkUnmarshal measures pdata's part of Decode alone (the depth
// check and the unmarshalling into plog.Logs), to show where the time of
// BenchmarkDecode goes.
func BenchmarkUnmarshal(b *testing.B) {
	proto, json := encodeBoth(b, benchLogs(false, false))
	for _, enc := range []struct {
		name string
		f    Format
		body []byte
	}{{"proto", Protobuf, proto}, {"json", JSON, json}} {
		b.Run("ascii/"+enc.name, func(b *testing.B) {
			b.SetBytes(int64(len(enc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := checkDepth(enc.body, enc.f); err != nil {
					b.Fatal(err)
				}
				req := plogotlp.NewExportRequest()
				var err error
				if enc.f == JSON {
					err = req.UnmarshalJSON(enc.body)
				} else {
					err = req.UnmarshalProto(enc.body)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/(float64(b.N)*benchRecords), "ns/record")
		})
	}
}
