package syslog

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/ingest"
)

// decodeAll frames data and decodes every message into one Result.
func decodeAll(t *testing.T, data []byte, d *Decoder, maxMsg int) *ingest.Result {
	t.Helper()
	res := &ingest.Result{}
	fr := NewFramer(bytes.NewReader(data), maxMsg)
	for line := 1; ; line++ {
		f, err := fr.Next()
		if err != nil {
			break
		}
		wire := 0
		if f.Truncated {
			wire = f.Size
		}
		d.decode(f.Msg, wire, testNow, line, res)
	}
	return res
}

func renderAll(res *ingest.Result) []string {
	var out []string
	for _, r := range res.Records {
		out = append(out, renderRecord(r, testNow))
	}
	return out
}

func checkRecords(t *testing.T, res *ingest.Result, want []string) {
	t.Helper()
	got := renderAll(res)
	if len(got) != len(want) || len(res.Rejections) != 0 {
		t.Fatalf("got %d records, %d rejections:\n%s\nwant %d:\n%s", len(got), len(res.Rejections),
			strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("record %d\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"syslog-ng-tcp.bin", []string{
			`time=2026-11-21T23:25:07Z msg="payment failed for order 17" stream:app_name="checkout" stream:hostname="h1" facility="local0" level="error" proc_id="4242" timeQuality.tzKnown="1" timeQuality.isSynced="0" meta@32473.trace_id="abc123"`,
			`time=2026-11-21T23:25:07Z msg="order 18 ok" stream:app_name="checkout" stream:hostname="h1" facility="local0" level="info" timeQuality.tzKnown="1" timeQuality.isSynced="0"`,
			`time=2026-11-21T23:25:07Z msg="job nightly finished in 42s" stream:app_name="cron" stream:hostname="h1" facility="cron" level="notice"`,
		}},
		{"rsyslog-omfwd-tcp.bin", []string{
			`time=2026-11-21T23:26:05.794069Z msg="payment failed for order 17" stream:app_name="checkout" stream:hostname="h1" facility="local0" level="error" proc_id="4242" timeQuality.tzKnown="1" timeQuality.isSynced="0" meta@32473.trace_id="abc123"`,
			`time=2026-11-21T23:26:05.794069Z msg="job nightly finished in 42s" stream:app_name="cron" stream:hostname="h1" facility="cron" level="notice"`,
		}},
		{"rsyslog-omfwd-udp.bin", []string{
			`time=2026-11-21T23:26:05.794069Z msg="payment failed for order 17" stream:app_name="checkout" stream:hostname="h1" facility="local0" level="error" proc_id="4242"`,
		}},
		{"loggen-tcp.bin", []string{
			`time=2026-11-21T23:27:00Z msg="seq: 0000000000, thread: 0000, runid: 1795303620, stamp: 2026-11-21T23:27:00 PADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADD" stream:app_name="prg00000" stream:hostname="localhost" facility="auth" level="info" proc_id="1234"`,
			`time=2026-11-21T23:27:00Z msg="seq: 0000000001, thread: 0000, runid: 1795303620, stamp: 2026-11-21T23:27:00 PADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADDPADD" stream:app_name="prg00000" stream:hostname="localhost" facility="auth" level="info" proc_id="1234"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d := NewDecoder(nil, DefaultStreamFields())
			checkRecords(t, decodeAll(t, readFixture(t, tc.file), d, DefaultMaxMessageBytes), tc.want)
		})
	}
}

func TestDecodeMapping(t *testing.T) {
	opts := ingest.DefaultOptions()
	tests := []struct {
		name   string
		stream []string
		opts   func(*ingest.Options)
		in     string
		want   string
	}{
		{"unparsed keeps the whole message and the receipt time", nil, nil, "plain text line",
			`msg="plain text line" unparsed="true"`},
		{"no stream fields", []string{}, nil, `<165>1 - h a 1 m - x`,
			`msg="x" facility="local4" level="notice" hostname="h" app_name="a" proc_id="1" msg_id="m"`},
		{"every header field and sd param as stream", []string{"facility", "level", "proc_id", "msg_id", "x@1.k"}, nil,
			`<0>1 - h a 1 m [x@1 k="v" j="w"] x`,
			`msg="x" stream:facility="kern" stream:level="emergency" stream:msg_id="m" stream:proc_id="1" stream:x@1.k="v" hostname="h" app_name="a" x@1.j="w"`},
		{"levels", nil, nil, `<7>1 - - - - - -`, `facility="kern" level="debug"`},
		{"msg field from options", nil, func(o *ingest.Options) { o.MsgFields = []string{"message"} }, `<14>1 - - - - - - hi`,
			`msg="hi" facility="user" level="info"`},
		{"invalid utf-8 repaired", nil, nil, "<14>1 - h\xff - - - - caf\xe9",
			"msg=\"caf\uFFFD\" stream:hostname=\"h\uFFFD\" facility=\"user\" level=\"info\""},
		{"sd param named like a header field stays distinct", nil, nil, `<14>1 - h - - - [hostname x="y"] m`,
			`msg="m" stream:hostname="h" facility="user" level="info" hostname.x="y"`},
		{"record cut to MaxLineBytes", nil, func(o *ingest.Options) { o.MaxLineBytes = 100 }, `<14>1 - h - - - - ` + strings.Repeat("x", 200),
			`msg="` + strings.Repeat("x", 6) + `" stream:hostname="h" facility="user" level="info" _truncated="218"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream := tc.stream
			if stream == nil {
				stream = DefaultStreamFields()
			}
			d := NewDecoder(nil, stream)
			o := opts
			if tc.opts != nil {
				tc.opts(&o)
			}
			d.SetOptions(o)
			res := &ingest.Result{}
			d.Decode([]byte(tc.in), testNow, res)
			checkRecords(t, res, []string{tc.want})
		})
	}
}

func TestDecodeFramingCut(t *testing.T) {
	d := NewDecoder(nil, DefaultStreamFields())
	msg := `<14>1 - h - - - - ` + strings.Repeat("y", 100)
	data := []byte("118 " + msg + "9 <14>1 - -")
	res := decodeAll(t, data, d, 50)
	checkRecords(t, res, []string{
		`msg="` + strings.Repeat("y", 32) + `" stream:hostname="h" facility="user" level="info" _truncated="118"`,
		`msg="1 - -" facility="user" level="info"`,
	})
	if got := res.Discards[ingest.ReasonTruncated]; got != 1 {
		t.Errorf("Discards[truncated] = %d, want 1", got)
	}
}

func TestDecodeTimeZone(t *testing.T) {
	seoul := time.FixedZone("KST", 9*3600)
	d := NewDecoder(seoul, nil)
	res := &ingest.Result{}
	d.Decode([]byte("<14>Nov 21 09:00:00 h a: m"), testNow, res)
	if want := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC).UnixNano(); len(res.Records) != 1 || res.Records[0].Time != want {
		t.Fatalf("records %+v, want time %d", res.Records, want)
	}
}
