package otlp

import (
	"reflect"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/ingesttest"
	"github.com/logbucket/logbucket/internal/model"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testNow = int64(1_767_225_600_000_000_000) // 2026-01-01T00:00:00Z

func testOptions() Options {
	o := DefaultOptions()
	o.Now = testNow
	return o
}

// render gives a record a compact comparable form: the time (if not
// testNow), the message, the stream fields, then the other fields.
func render(r model.Record) string {
	return ingesttest.Render(r, testNow)
}

func renderAll(res *ingest.Result) []string {
	out := make([]string, 0, len(res.Records))
	for _, r := range res.Records {
		out = append(out, render(r))
	}
	return out
}

// encodeBoth marshals ld as an export request in both encodings.
func encodeBoth(t testing.TB, ld plog.Logs) (proto, json []byte) {
	t.Helper()
	req := plogotlp.NewExportRequestFromLogs(ld)
	proto, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	json, err = req.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return proto, json
}

// decodeBoth decodes ld marshalled as protobuf and as JSON, checks that
// both give the same result, and returns it.
func decodeBoth(t *testing.T, ld plog.Logs, opts Options) *ingest.Result {
	t.Helper()
	proto, json := encodeBoth(t, ld)
	resProto, resJSON := &ingest.Result{}, &ingest.Result{}
	if err := Decode(proto, "application/x-protobuf", opts, resProto); err != nil {
		t.Fatalf("protobuf: %v", err)
	}
	if err := Decode(json, "application/json", opts, resJSON); err != nil {
		t.Fatalf("JSON: %v\n%s", err, json)
	}
	if !reflect.DeepEqual(resProto, resJSON) {
		t.Fatalf("protobuf and JSON differ:\nprotobuf %+v\nJSON     %+v\nJSON body %s", resProto, resJSON, json)
	}
	return resProto
}

// oneRecord returns logs holding a single record, and the record, its
// scope and its resource for the caller to fill.
func oneRecord() (plog.Logs, plog.ResourceLogs, plog.ScopeLogs, plog.LogRecord) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	sl := rl.ScopeLogs().AppendEmpty()
	return ld, rl, sl, sl.LogRecords().AppendEmpty()
}
