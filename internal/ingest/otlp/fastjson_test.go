package otlp

import (
	"errors"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/ingest"
)

// handWrittenJSON are OTLP/JSON bodies for the corners of the mapping
// between the direct decoder and pdata: snake_case names, numbers as
// strings and numbers, enum names, non-finite doubles, escapes, nulls,
// repeated and unknown fields, malformed ids and numbers.
var handWrittenJSON = []string{
	`{"resource_logs":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"s"}}],"dropped_attributes_count":"2"},"scope_logs":[{"scope":{"name":"n","version":"v","dropped_attributes_count":1},"log_records":[{"time_unix_nano":1795303611541000000,"observed_time_unix_nano":"5","severity_number":9,"severity_text":"x","body":{"int_value":"-12"},"trace_id":"5B8EFFF798038103D269B633813FC60C","span_id":"eee19b7ec3c1b174","event_name":"e","flags":"3"}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"SEVERITY_NUMBER_WARN","body":{"doubleValue":"NaN"}}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"doubleValue":"Infinity"}},{"body":{"doubleValue":"-Infinity"}},{"body":{"doubleValue":1e400}},{"body":{"doubleValue":1.7976931348623157e308}},{"body":{"doubleValue":-0}},{"body":{"doubleValue":0.1234567890123456789}},{"body":{"doubleValue":123456789012345678901234}}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"intValue":9223372036854775807}},{"body":{"intValue":-9223372036854775808}},{"body":{"intValue":9223372036854775808}},{"body":{"intValue":1.0}},{"body":{"intValue":"+5"}},{"body":{"intValue":"007"}},{"body":{"intValue":1e3}}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":18446744073709551615},{"timeUnixNano":"9223372036854775808"},{"observedTimeUnixNano":"18446744073709551616"},{"timeUnixNano":-1},{"timeUnixNano":"0","observedTimeUnixNano":0}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"a\"b\\c\/d\n\t\r\b\f"},"attributes":[{"key":"k\n","value":{"stringValue":"\u00e9"}}]}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"a\"b"},"attributes":[{"key":"raw","value":{"bytesValue":"AAH+\/w=="}}]}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"bytesValue":"AAH+/w=="},"attributes":[{"key":"b","value":{"bytesValue":""}},{"key":"c","value":{"bytesValue":"!!"}}]}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":null,"attributes":null}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{},"attributes":[{},{"key":"x"},{"value":{"stringValue":"v"}},{"key":"y","value":{}},{"key":"z","value":null}]}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"a","intValue":1}}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"a","value":{"stringValue":"1"}}],"attributes":[{"key":"b","value":{"stringValue":"2"}}]}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","time_unix_nano":"2"}]}]}]}`,
	`{"resourceLogs":[{"unknown":1,"scopeLogs":[{"logRecords":[{"foo":{"bar":[1,2,{}]},"body":{"stringValue":"x"}}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"","spanId":""},{"traceId":"00000000000000000000000000000000"},{"traceId":"abc"},{"spanId":"zzzzzzzzzzzzzzzz"},{"traceId":"AAH+/wAAAAAAAAAAAAAAAA=="}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"msg","value":{"kvlistValue":{}}},{"key":"msg","value":{"intValue":"3"}},{"key":"message","value":{"arrayValue":{"values":[{"doubleValue":"NaN"},{},{"bytesValue":"AA=="},{"kvlistValue":{"values":[{"key":"a\"","value":{"boolValue":true}}]}}]}}},{"key":"_time","value":{"stringValue":"t"}}]}}}]}]}]}`,
	`{"resourceLogs":[{"resource":{"attributes":[{"key":"_msg","value":{"stringValue":"r"}},{"key":"s","value":{"kvlistValue":{"values":[{"key":"n","value":{"intValue":1}}]}}},{"key":"service.name","value":{"arrayValue":{"values":[]}}}]},"scopeLogs":[{"scope":{"attributes":[{"key":"_stream","value":{"boolValue":false}}]},"logRecords":[{},{"severityNumber":25,"flags":4294967295}]},{"logRecords":[{"severityNumber":-3,"flags":4294967296}]}]},{"scopeLogs":[]}]}`,
	`{"resourceLogs":[]} trailing`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":2147483648}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":"9"}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"` + "\x01" + `"}}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"` + "\xff" + `"}}]}]}]}`,
	`{"resourceLogs":[{"deprecatedScopeLogs":[{"logRecords":[{"body":{"stringValue":"d"}}]}]}]}`,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[{"key":"k","keyStrindex":1,"value":{"stringValueStrindex":2}}]}]}]}]}`,
	`{"resourceLogs":null}`,
	`{"":1,"resourceLogs":[{"scopeLogs":[{"logRecords":[{}]}]}]}`,
	`[]`,
	`null`,
	``,
	` {"resourceLogs" : [ { "scopeLogs" : [ { "logRecords" : [ { "body" : { "boolValue" : true } } ] } ] } ] } `,
	`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"doubleValue":01}},{"body":{"doubleValue":.5}},{"body":{"doubleValue":1.}},{"body":{"doubleValue":"1e5"}},{"body":{"doubleValue":"0x10"}},{"body":{"doubleValue":"1_000"}}]}]}]}`,
}

// compareDecoders decodes body with Decode (the direct decoder, or pdata
// for a body it leaves) and with the pdata path alone, and fails unless
// both refuse it with ErrInvalidBody or both give the same Result. It
// reports whether the direct decoder took the body.
func compareDecoders(t *testing.T, body []byte) (fast bool) {
	t.Helper()
	for _, opts := range fuzzOptions() {
		var d Decoder
		resFast := &ingest.Result{}
		took := d.decodeJSONFast(body, opts, resFast)
		if !took && (len(resFast.Records)+len(resFast.Rejections) != 0 || resFast.Discards != nil) {
			t.Fatalf("direct decoder left the body to pdata after appending to the result")
		}
		fast = fast || took
		resDecode := &ingest.Result{}
		errDecode := d.Decode(body, "application/json", opts, resDecode)
		resPdata := &ingest.Result{}
		errPdata := new(Decoder).decodePdata(body, JSON, opts, resPdata)
		if took && errPdata != nil {
			t.Fatalf("direct decoder took a body pdata refuses (%v):\n%q", errPdata, body)
		}
		if (errDecode != nil) != (errPdata != nil) {
			t.Fatalf("Decode error %v, pdata error %v:\n%q", errDecode, errPdata, body)
		}
		if errDecode != nil {
			if !errors.Is(errDecode, ErrInvalidBody) || !errors.Is(errPdata, ErrInvalidBody) {
				t.Fatalf("errors %v, %v", errDecode, errPdata)
			}
			continue
		}
		if took && !reflect.DeepEqual(resFast, resPdata) {
			t.Fatalf("direct and pdata decoders differ on %q:\ndirect %+v\npdata  %+v", body, resFast, resPdata)
		}
		if !reflect.DeepEqual(resDecode, resPdata) {
			t.Fatalf("Decode and pdata differ on %q:\nDecode %+v\npdata  %+v", body, resDecode, resPdata)
		}
	}
	return fast
}

// FuzzJSONMatchesPdata checks that the direct JSON decoder and the pdata
// path give the same Result, or both refuse the body.
func FuzzJSONMatchesPdata(f *testing.F) {
	fuzzSeeds(f, JSON)
	for _, s := range handWrittenJSON {
		f.Add([]byte(s))
	}
	_, json := encodeBoth(f, benchLogs(true, true))
	f.Add(json[:min(len(json), 4096)]) // a prefix: invalid, but rich
	f.Fuzz(func(t *testing.T, body []byte) {
		compareDecoders(t, body)
		// The input also drives a generator of well-formed requests.
		compareDecoders(t, genBody(body))
	})
}

// TestJSONMatchesPdata runs the differential check on the seeds, and checks
// that the direct decoder takes the bodies encoders send.
func TestJSONMatchesPdata(t *testing.T) {
	for _, s := range handWrittenJSON {
		compareDecoders(t, []byte(s))
	}
	// Generated bodies: the direct decoder must take most of them.
	taken := 0
	for i := range 2000 {
		seed := []byte(strconv.Itoa(i*7919) + strings.Repeat(string(rune('a'+i%26)), i%40))
		for k := range seed {
			seed[k] ^= byte(i * (k + 3))
		}
		if compareDecoders(t, genBody(seed)) {
			taken++
		}
	}
	t.Logf("direct decoder took %d of 2000 generated bodies", taken)
	_, sample := encodeBoth(t, sampleLogs())
	takes := map[string][]byte{
		"js-exporter": readFixture(t, "js-exporter-0.223.1.json"),
		"sample":      sample,
		"deep":        []byte(deepJSON(maxValueDepth)),
		"snake":       []byte(handWrittenJSON[0]),
	}
	for _, shape := range [][2]bool{{false, false}, {true, false}, {false, true}} {
		_, json := encodeBoth(t, benchLogs(shape[0], shape[1]))
		takes["bench"+strings.Repeat("+", len(takes))] = json
	}
	for name, body := range takes {
		if !compareDecoders(t, body) {
			t.Errorf("%s: the direct decoder left the body to pdata", name)
		}
	}
	for _, body := range []string{deepJSON(maxValueDepth + 4), deepJSON(100000)} {
		if compareDecoders(t, []byte(body)) {
			t.Errorf("the direct decoder took a body nested %d bytes deep", len(body))
		}
	}
}

// BenchmarkDecodeJSONPdata measures the JSON bodies of BenchmarkDecode
// decoded by the pdata path alone, the decoder the direct one replaces.
func BenchmarkDecodeJSONPdata(b *testing.B) {
	for _, shape := range []struct {
		name                string
		korean, sdkResource bool
	}{
		{"ascii", false, false},
		{"korean", true, false},
		{"ascii-sdk-resource", false, true},
	} {
		_, json := encodeBoth(b, benchLogs(shape.korean, shape.sdkResource))
		b.Run(shape.name, func(b *testing.B) {
			opts := DefaultOptions()
			var d Decoder
			b.SetBytes(int64(len(json)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for b.Loop() {
				res := &ingest.Result{}
				if err := d.decodePdata(json, JSON, opts, res); err != nil {
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
		})
	}
}

func TestHasSpecial(t *testing.T) {
	for n := range 20 {
		for pos := range n {
			for _, c := range []byte{0, 0x1f, '\\', 0x20, 0x5b, 0x5d, 0x7f, 0x80, 0xdc, 0xff, 0x9f} {
				b := []byte(strings.Repeat("a", n))
				b[pos] = c
				if got, want := hasSpecial(b), c < 0x20 || c == '\\'; got != want {
					t.Fatalf("hasSpecial(%q) = %v", b, got)
				}
			}
		}
	}
}
