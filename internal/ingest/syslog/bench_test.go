package syslog

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/logbucket/logbucket/internal/ingest"
)

// benchTemplates are realistic messages as real senders write them; %d
// varies a value per message.
var benchTemplates = []string{
	// syslog-ng syslog() destination (RFC 5424, two SD elements).
	`<131>1 2026-11-21T23:25:07+00:00 checkout-kr1a-09 checkout 4242 - [timeQuality tzKnown="1" isSynced="0"][meta@32473 trace_id="4e3466d6989d696cbb494a02db99c29d" user_id="u%06d"] payment failed for order %d: card declined by issuer`,
	// rsyslog RSYSLOG_SyslogProtocol23Format, microseconds, no SD.
	`<30>1 2026-11-21T23:26:05.794069+00:00 auth-kr1b-03 sshd 812 - - Accepted publickey for deploy from 10.0.%d.7 port 51122 ssh2: ED25519 SHA256:q8cJk`,
	// rsyslog RSYSLOG_ForwardFormat (RFC 3164, RFC 3339 time).
	`<134>2026-11-21T23:26:05.794069+00:00 web-kr1a-01 nginx[1201]: 10.1.2.%d - - "GET /api/v1/orders HTTP/1.1" 200 512 "-" "okhttp/4.12.0"`,
	// Classic RFC 3164 from a local syslog daemon.
	`<86>Nov 21 23:26:05 batch-kr1c-11 CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`,
	// loggen (RFC 5424 with a BOM).
	"<38>1 2026-11-21T23:27:00+00:00 localhost prg00000 1234 - - \xEF\xBB\xBFseq: %010d, thread: 0000, runid: 1795303620, stamp: 2026-11-21T23:27:00 PADDPADDPADDPADDPADDPADD",
	// Korean text, as in the jsonline benchmark.
	`<132>1 2026-11-21T23:25:07.329680+09:00 payment-kr1b-03 payment-service - PAY01 [meta@32473 order="A-20260101-%04d"] 결제 승인 지연: 카드사 응답 시간 초과 (3.2초), 재시도 예정`,
}

// benchStream returns n octet-counted messages cycling through the
// templates, and their total size without framing.
func benchStream(n int) ([]byte, int) {
	var b bytes.Buffer
	size := 0
	for i := range n {
		msg := fmt.Sprintf(benchTemplates[i%len(benchTemplates)], 100000+i)
		if i%len(benchTemplates) == 0 {
			msg = fmt.Sprintf(benchTemplates[0], 100000+i, i)
		}
		size += len(msg)
		fmt.Fprintf(&b, "%d %s\n", len(msg)+1, msg) // LF inside the frame, as syslog-ng sends
	}
	return b.Bytes(), size
}

// BenchmarkDecode frames and decodes 1000 messages per op, as a TCP
// connection does: Framer, Parser and ingest.Builder into a fresh Result.
// Compare ns/line with internal/ingest/jsonline's BenchmarkDecode.
func BenchmarkDecode(b *testing.B) {
	const lines = 1000
	stream, _ := benchStream(lines)
	opts := ingest.DefaultOptions()
	d := NewDecoder(nil, DefaultStreamFields())
	d.SetOptions(opts)
	rd := bytes.NewReader(stream)
	fr := NewFramer(rd, DefaultMaxMessageBytes)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		rd.Reset(stream)
		res := &ingest.Result{} // a fresh result per batch, as a listener does
		for {
			f, err := fr.Next()
			if err == io.EOF {
				break
			}
			d.decode(f.Msg, 0, testNow, len(res.Records)+1, res)
		}
		if len(res.Records) != lines {
			b.Fatalf("%d records", len(res.Records))
		}
		fr.Reset(rd)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N) * lines
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/line")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/line")
}

// BenchmarkParse parses the messages alone (no records).
func BenchmarkParse(b *testing.B) {
	lines := len(benchTemplates) * 10
	stream, size := benchStream(lines)
	var msgs [][]byte
	fr := NewFramer(bytes.NewReader(stream), DefaultMaxMessageBytes)
	for {
		f, err := fr.Next()
		if err != nil {
			break
		}
		msgs = append(msgs, bytes.Clone(f.Msg))
	}
	var m Message
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, msg := range msgs {
			Parser{}.Parse(msg, testNow, &m)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/line")
}
