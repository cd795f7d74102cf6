package loki

import (
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/ingesttest"
	"github.com/logbucket/logbucket/internal/model"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testNow   = int64(1_767_225_600_000_000_000) // 2026-01-01T00:00:00Z
	ctJSON    = "application/json"
	ctProto   = "application/x-protobuf"
	ts1       = int64(1_795_303_594_472_000_000)
	ts1String = "1795303594472000000"
)

func testOptions() Options {
	o := DefaultOptions()
	o.Now = testNow
	return o
}

// render gives a decode result a compact comparable form: one line per
// record or rejection, rejections as "#pos reason: detail".
func render(res *ingest.Result) []string {
	var out []string
	for _, r := range res.Records {
		out = append(out, renderRecord(r))
	}
	for _, rj := range res.Rejections {
		out = append(out, fmt.Sprintf("#%d %s: %s", rj.Line, rj.Reason, rj.Detail))
	}
	return out
}

func renderRecord(r model.Record) string {
	return ingesttest.Render(r, testNow)
}

func equalLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// Test protobuf bodies, written with protowire from push.proto's field
// numbers.

type pbEntry struct {
	sec, nanos int64 // both zero: no timestamp field
	line       string
	md         [][2]string
}

type pbStream struct {
	labels  string
	entries []pbEntry
}

func appendBytesField(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func appendStringField(b []byte, num protowire.Number, v string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, v)
}

func appendVarintField(b []byte, num protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func pbTimestamp(sec, nanos int64) []byte {
	var ts []byte
	if sec != 0 {
		ts = appendVarintField(ts, 1, uint64(sec))
	}
	if nanos != 0 {
		ts = appendVarintField(ts, 2, uint64(nanos))
	}
	return ts
}

func pbPair(name, value string) []byte {
	return appendStringField(appendStringField(nil, 1, name), 2, value)
}

func (e pbEntry) marshal() []byte {
	var b []byte
	if e.sec != 0 || e.nanos != 0 {
		b = appendBytesField(b, 1, pbTimestamp(e.sec, e.nanos))
	}
	b = appendStringField(b, 2, e.line)
	for _, p := range e.md {
		b = appendBytesField(b, 3, pbPair(p[0], p[1]))
	}
	return b
}

func (s pbStream) marshal() []byte {
	b := appendStringField(nil, 1, s.labels)
	for _, e := range s.entries {
		b = appendBytesField(b, 2, e.marshal())
	}
	return b
}

// pbPush returns the PushRequest message of streams, uncompressed.
func pbPush(streams ...pbStream) []byte {
	var b []byte
	for _, s := range streams {
		b = appendBytesField(b, 1, s.marshal())
	}
	return b
}

func snappy(msg []byte) []byte { return s2.EncodeSnappy(nil, msg) }

// decode runs Decode with a fresh Result.
func decode(t testing.TB, body []byte, ct, ce string, opts Options) (*ingest.Result, error) {
	t.Helper()
	res := &ingest.Result{}
	err := Decode(body, ct, ce, opts, res)
	return res, err
}
