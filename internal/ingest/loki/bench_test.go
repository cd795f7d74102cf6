package loki

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/ingest"
)

// The benchmark requests hold the same records as jsonline's
// BenchmarkDecode lines: service, host and level as labels, trace_id and
// user_id as structured metadata, the message as the line.
const (
	benchStreams   = 10
	benchEntries   = 1000 // in all
	benchMsgASCII  = "event=login user_id=u101826 platform=pc ver=3.12.0 country=TH"
	benchMsgKorean = "결제 승인 지연: 카드사 응답 시간 초과 (3.2초), 재시도 예정 주문번호=A-20260101-0042"
)

type benchEntry struct {
	ns               int64
	line, trace, uid string
}

// benchRequest returns the streams' labels and entries of a request.
func benchRequest(msg string) ([]map[string]string, [][]benchEntry) {
	var labels []map[string]string
	var entries [][]benchEntry
	ns := int64(1_767_251_280_329_680_811)
	for s := range benchStreams {
		labels = append(labels, map[string]string{
			"service": "auth-service",
			"host":    fmt.Sprintf("auth-service-kr1a-%02d", s),
			"level":   []string{"info", "warn"}[s%2],
		})
		var es []benchEntry
		for i := range benchEntries / benchStreams {
			uid := fmt.Sprintf("u%06d", 100000+s*1000+i)
			es = append(es, benchEntry{ns + int64(i)*1000, strings.ReplaceAll(msg, "u101826", uid), "4e3466d6989d696cbb494a02db99c29d", uid})
		}
		entries = append(entries, es)
	}
	return labels, entries
}

func benchJSON(msg string) []byte {
	labels, entries := benchRequest(msg)
	var b strings.Builder
	b.WriteString(`{"streams":[`)
	for s := range labels {
		if s > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"stream":{"service":%q,"host":%q,"level":%q},"values":[`, labels[s]["service"], labels[s]["host"], labels[s]["level"])
		for i, e := range entries[s] {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `["%d",%q,{"trace_id":%q,"user_id":%q}]`, e.ns, e.line, e.trace, e.uid)
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func benchProto(msg string) []byte {
	labels, entries := benchRequest(msg)
	var streams []pbStream
	for s := range labels {
		ps := pbStream{labels: fmt.Sprintf(`{service=%q, host=%q, level=%q}`, labels[s]["service"], labels[s]["host"], labels[s]["level"])}
		for _, e := range entries[s] {
			ps.entries = append(ps.entries, pbEntry{sec: e.ns / 1e9, nanos: e.ns % 1e9, line: e.line,
				md: [][2]string{{"trace_id", e.trace}, {"user_id", e.uid}}})
		}
		streams = append(streams, ps)
	}
	return snappy(pbPush(streams...))
}

func BenchmarkDecode(b *testing.B) {
	for _, format := range []struct {
		name, ct string
		body     func(string) []byte
	}{{"json", ctJSON, benchJSON}, {"proto", ctProto, benchProto}} {
		for _, m := range []struct{ name, msg string }{{"ascii", benchMsgASCII}, {"korean", benchMsgKorean}} {
			b.Run(format.name+"/"+m.name, func(b *testing.B) {
				body := format.body(m.msg)
				opts := testOptions()
				var d Decoder
				b.SetBytes(int64(len(body)))
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				b.ResetTimer()
				for b.Loop() {
					res := &ingest.Result{} // a fresh result per request, as a receiver does
					if err := d.Decode(body, format.ct, "", opts, res); err != nil || len(res.Records) != benchEntries {
						b.Fatalf("%d records, %v", len(res.Records), err)
					}
				}
				b.StopTimer()
				runtime.ReadMemStats(&after)
				n := float64(b.N) * benchEntries
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/line")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/line")
			})
		}
	}
}

// TestBenchRequests checks that both benchmark bodies decode to the same
// records, so that the two paths are compared on equal work.
func TestBenchRequests(t *testing.T) {
	for _, msg := range []string{benchMsgASCII, benchMsgKorean} {
		j, err := decode(t, benchJSON(msg), ctJSON, "", testOptions())
		if err != nil {
			t.Fatal(err)
		}
		p, err := decode(t, benchProto(msg), ctProto, "", testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(j.Records) != benchEntries || strings.Join(render(j), "\n") != strings.Join(render(p), "\n") {
			t.Fatalf("%d JSON records differ from %d protobuf records", len(j.Records), len(p.Records))
		}
		want := `time=1767251280329680811 msg="` + strings.ReplaceAll(msg, "u101826", "u100000") +
			`" stream:host="auth-service-kr1a-00" stream:level="info" stream:service="auth-service" trace_id="4e3466d6989d696cbb494a02db99c29d" user_id="u100000"`
		if got := renderRecord(j.Records[0]); got != want {
			t.Errorf("first record:\n\t%s\nwant\n\t%s", got, want)
		}
	}
}
