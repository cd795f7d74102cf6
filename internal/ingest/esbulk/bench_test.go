package esbulk

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/jsonline"
)

// The documents of jsonline's BenchmarkDecode in Elasticsearch form
// (@timestamp, message), so that ns/doc compares with its ns/line, and a
// Filebeat-like ECS document with nested objects.
const (
	benchDocASCII    = `{"@timestamp":"2026-01-01T07:08:00.329680811Z","service":"auth-service","host":"auth-service-kr1a-09","level":"info","trace_id":"4e3466d6989d696cbb494a02db99c29d","user_id":"u101826","message":"event=login user_id=u101826 platform=pc ver=3.12.0 country=TH"}`
	benchDocKorean   = `{"@timestamp":"2026-01-01T07:08:00.329680811Z","service":"payment-service","host":"payment-kr1b-03","level":"warn","trace_id":"9b1c0e7a55d24f0f8a6b3c2d1e0f9a8b","user_id":"u204417","message":"결제 승인 지연: 카드사 응답 시간 초과 (3.2초), 재시도 예정 주문번호=A-20260101-0042"}`
	benchDocFilebeat = `{"@timestamp":"2026-01-01T07:08:00.329Z","log":{"offset":1048576,"file":{"path":"/var/log/auth/auth.log"}},"message":"event=login user_id=u101826 platform=pc ver=3.12.0 country=TH","input":{"type":"filestream"},"ecs":{"version":"8.0.0"},"host":{"name":"auth-service-kr1a-09"},"agent":{"type":"filebeat","version":"8.19.0","ephemeral_id":"1f0c7d5e-2b43-4c8e-9b8a-3c1d2e4f5a6b","id":"6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d","name":"auth-service-kr1a-09"},"service":{"name":"auth-service"}}`
	benchAction      = `{"create":{"_index":"logs-app"}}`
)

// benchBody makes n action and document pairs, varying the user id so
// that documents differ.
func benchBody(doc string, n int) []byte {
	var b strings.Builder
	for i := range n {
		b.WriteString(benchAction)
		b.WriteByte('\n')
		b.WriteString(strings.ReplaceAll(doc, "u101826", fmt.Sprintf("u%06d", 100000+i)))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func benchConfig() Config {
	cfg := DefaultConfig()
	cfg.Options.StreamFields = []string{"service", "host", "service.name", "host.name"}
	return cfg
}

// BenchmarkDecode decodes 1000 action and document pairs per op. Each
// case runs jsonline.Decode on the same documents as NDJSON right after,
// with the same rules, so that the ratio of their ns/doc holds on a
// shared, noisy machine. cpu-ns/doc is the process CPU time per document,
// less sensitive than wall time to other processes.
func BenchmarkDecode(b *testing.B) {
	const docs = 1000
	for _, bc := range []struct{ name, doc string }{
		{"ascii", benchDocASCII},
		{"korean", benchDocKorean},
		{"filebeat", benchDocFilebeat},
	} {
		cfg := benchConfig()
		b.Run(bc.name+"/esbulk", func(b *testing.B) {
			body := benchBody(bc.doc, docs)
			var d Decoder
			measure(b, len(body), docs, func() int {
				batch, err := d.Decode(body, cfg)
				if err != nil || len(batch.Groups) != 1 {
					b.Fatalf("%v, %+v", err, batch.Groups)
				}
				return len(batch.Groups[0].Result.Records)
			})
		})
		b.Run(bc.name+"/jsonline", func(b *testing.B) {
			body := ndjsonBody(bc.doc, docs)
			opts := cfg.Options
			opts.TimeField = DefaultTimeField
			var d jsonline.Decoder
			measure(b, len(body), docs, func() int {
				res := &ingest.Result{}
				d.Decode(body, opts, res)
				return len(res.Records)
			})
		})
	}
}

// measure runs decode, which must return docs records, and reports
// per-document metrics.
func measure(b *testing.B, bodyBytes, docs int, decode func() int) {
	b.SetBytes(int64(bodyBytes))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if n := decode(); n != docs {
			b.Fatalf("%d records, want %d", n, docs)
		}
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	runtime.ReadMemStats(&after)
	n := float64(b.N) * float64(docs)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/doc")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/n, "cpu-ns/doc")
	}
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/doc")
}

// ndjsonBody is benchBody without the action lines.
func ndjsonBody(doc string, n int) []byte {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.ReplaceAll(doc, "u101826", fmt.Sprintf("u%06d", 100000+i)))
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
