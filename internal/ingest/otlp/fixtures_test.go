package otlp

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/logbucket/logbucket/internal/ingest"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func contentTypeOf(name string) string {
	if strings.HasSuffix(name, ".json") {
		return "application/json"
	}
	return "application/x-protobuf"
}

// jsExporterRecords is what the requests the OpenTelemetry JS exporters
// sent (testdata/README.md) must decode to; the first two records are the
// ones of shared/ecosystem.md C.3.
var jsExporterRecords = []string{
	`time=1795303611541000000 msg="payment failed for order 17" stream:deployment.environment="dev" stream:service.name="checkout-svc" ` +
		`scope.name="my-lib" scope.version="1.2.3" order.id="17" http.status_code="402" retry="false" tags="[\"a\",\"b\"]" level="ERROR" severity_number="17"`,
	`time=1795303611542000000 stream:deployment.environment="dev" stream:service.name="checkout-svc" ` +
		`scope.name="my-lib" scope.version="1.2.3" structured="true" n="1.5" level="INFO" severity_number="9"`,
	`time=1795303611543000000 msg="결제 재시도 (2s)" stream:deployment.environment="dev" stream:service.name="checkout-svc" ` +
		`scope.name="my-lib" scope.version="1.2.3" http.method="POST" http.route="/pay" ratio="0.25" raw="AAH+/w==" ` +
		`level="warn" severity_number="13" trace_id="5b8efff798038103d269b633813fc60c" span_id="eee19b7ec3c1b174" flags="1" event_name="checkout.retry"`,
}

func TestDecodeJSExporterRequests(t *testing.T) {
	for _, name := range []string{"js-exporter-0.223.1.json", "js-exporter-0.223.1.pb"} {
		t.Run(name, func(t *testing.T) {
			res := &ingest.Result{}
			if err := Decode(readFixture(t, name), contentTypeOf(name)+"; charset=utf-8", testOptions(), res); err != nil {
				t.Fatal(err)
			}
			if len(res.Rejections) != 0 || res.Discards != nil {
				t.Errorf("rejections %v, discards %v", res.Rejections, res.Discards)
			}
			if got := renderAll(res); !slices.Equal(got, jsExporterRecords) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(jsExporterRecords, "\n"))
			}
		})
	}
}

func TestDecodeContentType(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		want Format
	}{
		{"application/x-protobuf", Protobuf},
		{"Application/X-Protobuf ; foo=bar", Protobuf},
		{"application/protobuf", Protobuf},
		{"application/json", JSON},
		{"application/json; charset=utf-8", JSON},
		{"", 0},
		{"text/plain", 0},
		{"application/jsonl", 0},
		{"application/x-ndjson", 0},
	} {
		f, err := ParseContentType(tc.ct)
		if f != tc.want || (err == nil) != (tc.want != 0) {
			t.Errorf("ParseContentType(%q) = %v, %v; want %v", tc.ct, f, err, tc.want)
		}
		if err != nil && !errors.Is(err, ErrUnsupportedContentType) {
			t.Errorf("ParseContentType(%q): error %v does not wrap ErrUnsupportedContentType", tc.ct, err)
		}
	}
	res := &ingest.Result{}
	err := Decode(readFixture(t, "js-exporter-0.223.1.pb"), "text/plain", testOptions(), res)
	if !errors.Is(err, ErrUnsupportedContentType) || len(res.Records) != 0 {
		t.Errorf("text/plain: err %v, %d records", err, len(res.Records))
	}
}

func TestDecodeInvalidBody(t *testing.T) {
	pb := readFixture(t, "js-exporter-0.223.1.pb")
	js := readFixture(t, "js-exporter-0.223.1.json")
	for _, tc := range []struct {
		name, ct, body string
		want           string // in the error text
	}{
		{"truncated protobuf", "application/x-protobuf", string(pb[:len(pb)-3]), "unexpected EOF"},
		{"JSON sent as protobuf", "application/x-protobuf", string(js), "decode protobuf ExportLogsServiceRequest"},
		{"gzip not undone", "application/x-protobuf", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", "decode protobuf"},
		{"protobuf sent as JSON", "application/json", string(pb), "decode JSON ExportLogsServiceRequest"},
		{"truncated JSON", "application/json", string(js[:len(js)-5]), "decode JSON"},
		{"empty JSON", "application/json", "", "decode JSON"},
		{"JSON array", "application/json", "[]", "decode JSON"},
		{"bad trace id", "application/json", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"xyz"}]}]}]}`, "decode JSON"},
		{"deep protobuf", "application/x-protobuf", string(deepProto(maxValueDepth + 1)), "protobuf values nested deeper than 64 levels"},
		{"deep JSON", "application/json", deepJSON(100), "JSON nested deeper than 272 levels"},
		{"very deep protobuf", "application/x-protobuf", string(deepProto(100_000)), "nested deeper"},
		{"very deep JSON", "application/json", deepJSON(100_000), "nested deeper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := &ingest.Result{}
			err := Decode([]byte(tc.body), tc.ct, testOptions(), res)
			if !errors.Is(err, ErrInvalidBody) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidBody with %q", err, tc.want)
			}
			if len(err.Error()) > 600 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
			if len(res.Records)+len(res.Rejections) != 0 || res.Discards != nil {
				t.Errorf("result not empty: %+v", res)
			}
		})
	}
}

func TestDecodeEmptyBodies(t *testing.T) {
	for _, tc := range []struct{ ct, body string }{
		{"application/x-protobuf", ""},
		{"application/json", "{}"},
		{"application/json", `{"resourceLogs":[]}`},
		{"application/json", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[]}]}]}`},
	} {
		res := &ingest.Result{}
		if err := Decode([]byte(tc.body), tc.ct, testOptions(), res); err != nil || len(res.Records) != 0 {
			t.Errorf("%s %q: err %v, %d records", tc.ct, tc.body, err, len(res.Records))
		}
	}
}

// TestDecodeDepthLimit checks that the deepest values checkDepth accepts
// decode in full in both encodings, and that brackets inside JSON strings
// do not count.
func TestDecodeDepthLimit(t *testing.T) {
	res := &ingest.Result{}
	if err := Decode(deepProto(maxValueDepth), "application/x-protobuf", testOptions(), res); err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat("a.", maxValueDepth-2) + `a="x"`; len(res.Records) != 1 || render(res.Records[0]) != want {
		t.Fatalf("protobuf at the limit: got %v, want %s", renderAll(res), want)
	}
	// JSON: 64 nested maps as attribute values, built with pdata.
	ld, _, _, lr := oneRecord()
	m := lr.Attributes()
	for range maxValueDepth - 1 {
		m = m.PutEmptyMap("a")
	}
	m.PutStr("a", "x")
	res = decodeBoth(t, ld, testOptions())
	if got, want := render(res.Records[0]), strings.Repeat("a.", maxValueDepth-1)+`a="x"`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	body := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"` +
		strings.Repeat(`[{\"`, 1000) + `"}}]}]}]}`
	res = &ingest.Result{}
	if err := Decode([]byte(body), "application/json", testOptions(), res); err != nil || len(res.Records) != 1 {
		t.Fatalf("brackets in a string: err %v, %d records", err, len(res.Records))
	}
}

// deepProto returns a protobuf request whose one record's body is a map
// nesting levels AnyValues ({"a": {"a": ... "x"}}), built inside out in
// linear time.
func deepProto(levels int) []byte {
	inner := []byte{0x0a, 0x01, 'x'} // AnyValue{string_value: "x"}
	type prefix []byte
	var prefixes []prefix
	size := len(inner)
	appendLen := func(tag byte) {
		p := appendVarint([]byte{tag}, size)
		prefixes = append(prefixes, p)
		size += len(p)
	}
	for i := 1; i < levels; i++ {
		appendLen(2<<3 | 2) // KeyValue.value
		keyed := []byte{1<<3 | 2, 1, 'a'}
		prefixes = append(prefixes, keyed)
		size += len(keyed)
		appendLen(1<<3 | 2) // KeyValueList.values
		appendLen(6<<3 | 2) // AnyValue.kvlist_value
	}
	appendLen(5<<3 | 2) // LogRecord.body
	appendLen(2<<3 | 2) // ScopeLogs.log_records
	appendLen(2<<3 | 2) // ResourceLogs.scope_logs
	appendLen(1<<3 | 2) // request.resource_logs
	out := make([]byte, 0, size)
	for i := len(prefixes) - 1; i >= 0; i-- {
		out = append(out, prefixes[i]...)
	}
	return append(out, inner...)
}

func appendVarint(b []byte, v int) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// deepJSON returns a JSON request whose one record's body nests levels
// maps.
func deepJSON(levels int) string {
	var b strings.Builder
	b.WriteString(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":`)
	for range levels - 1 {
		b.WriteString(`{"kvlistValue":{"values":[{"key":"a","value":`)
	}
	b.WriteString(`{"stringValue":"x"}`)
	for range levels - 1 {
		b.WriteString(`}]}}`)
	}
	b.WriteString(`}]}]}]}`)
	return b.String()
}

// TestDecodeConcurrent decodes from several goroutines through the pool;
// run with -race.
func TestDecodeConcurrent(t *testing.T) {
	bodies := map[string][]byte{}
	for _, name := range []string{"js-exporter-0.223.1.json", "js-exporter-0.223.1.pb"} {
		bodies[name] = readFixture(t, name)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				name := "js-exporter-0.223.1.json"
				if (g+i)%2 == 1 {
					name = "js-exporter-0.223.1.pb"
				}
				res := &ingest.Result{}
				if err := Decode(bodies[name], contentTypeOf(name), testOptions(), res); err != nil {
					errs <- err.Error()
					return
				}
				if got := renderAll(res); !slices.Equal(got, jsExporterRecords) {
					errs <- strings.Join(got, "\n")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
