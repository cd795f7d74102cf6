package jsonline

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/ingest"
)

const (
	benchLineASCII  = `{"_time":"2026-01-01T07:08:00.329680811Z","service":"auth-service","host":"auth-service-kr1a-09","level":"info","trace_id":"4e3466d6989d696cbb494a02db99c29d","user_id":"u101826","_msg":"event=login user_id=u101826 platform=pc ver=3.12.0 country=TH"}`
	benchLineKorean = `{"_time":"2026-01-01T07:08:00.329680811Z","service":"payment-service","host":"payment-kr1b-03","level":"warn","trace_id":"9b1c0e7a55d24f0f8a6b3c2d1e0f9a8b","user_id":"u204417","_msg":"결제 승인 지연: 카드사 응답 시간 초과 (3.2초), 재시도 예정 주문번호=A-20260101-0042"}`
)

// benchBody repeats line n times, varying the user id so that lines differ.
func benchBody(line string, n int) []byte {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.ReplaceAll(line, "u101826", fmt.Sprintf("u%06d", 100000+i)))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func BenchmarkDecode(b *testing.B) {
	const lines = 1000
	for _, bc := range []struct{ name, line string }{
		{"ascii", benchLineASCII},
		{"korean", benchLineKorean},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := benchBody(bc.line, lines)
			opts := ingest.DefaultOptions()
			opts.StreamFields = []string{"service", "host"}
			var d Decoder
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for b.Loop() {
				res := &ingest.Result{} // a fresh result per request, as a receiver does
				d.Decode(body, opts, res)
				if len(res.Records) != lines {
					b.Fatalf("%d records", len(res.Records))
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			n := float64(b.N) * lines
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/line")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/line")
		})
	}
}
