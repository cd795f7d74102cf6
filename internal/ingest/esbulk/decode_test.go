package esbulk

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/ingest"
)

func TestDecodeItems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"index and create", `{"index":{"_index":"logs","_id":"a1"}}
{"message":"one","n":1}
{"create":{"_index":"logs"}}
{"message":"two"}
`, []string{
			`index logs id=a1 L1/D2 → msg="one" n="1"`,
			`create logs id=gen L3/D4 → msg="two"`,
		}},
		{"no final newline", "{\"create\":{\"_index\":\"logs\"}}\n{\"message\":\"m\"}", []string{
			`create logs id=gen L1/D2 → msg="m"`,
		}},
		{"delete has no document line", `{"index":{"_index":"logs"}}
{"message":"a"}
{"delete":{"_index":"logs","_id":"x"}}
{"create":{"_index":"logs"}}
{"message":"b"}
`, []string{
			`index logs id=gen L1/D2 → msg="a"`,
			`delete logs id=x L3 → 400 illegal_argument_exception`,
			`create logs id=gen L4/D5 → msg="b"`,
		}},
		{"update consumes its document", `{"update":{"_index":"logs","_id":"u"}}
{"doc":{"message":"ignored"}}
{"index":{"_index":"logs"}}
{"message":"kept"}
`, []string{
			`update logs id=u L1/D2 → 400 illegal_argument_exception`,
			`index logs id=gen L3/D4 → msg="kept"`,
		}},
		{"blank lines anywhere and CRLF", "\r\n  \n{\"index\":{\"_index\":\"logs\"}}\r\n\r\n\t\n{\"message\":\"a\"}\r\n\n{\"index\":{\"_index\":\"logs\"}}\r\n{\"message\":\"b\\r\"}\r\n\r\n", []string{
			`index logs id=gen L3/D6 → msg="a"`,
			`index logs id=gen L8/D9 → msg="b\r"`,
		}},
		{"rsyslog spacing and _type ignored", `{"index":{"_index": "rsyslog", "_type": "_doc", "pipeline": "p", "routing": "r"}}

{"message":"x"}

`, []string{
			`index rsyslog id=gen L1/D3 → msg="x"`,
		}},
		{"missing document line at end", `{"index":{"_index":"logs"}}
{"message":"a"}
{"create":{"_index":"logs"}}

`, []string{
			`index logs id=gen L1/D2 → msg="a"`,
			`create logs id=gen L3 → 400 action_request_validation_exception`,
		}},
		{"malformed action then its document", `{"index":{"_index":"logs"}
{"message":"lost"}
{"index":{"_index":"logs"}}
{"message":"kept"}
`, []string{
			`index  id=gen L1/D2 → 400 illegal_argument_exception`,
			`index logs id=gen L3/D4 → msg="kept"`,
		}},
		{"malformed action then a valid action resynchronises", `garbage
{"create":{"_index":"logs"}}
{"message":"kept"}
`, []string{
			`index  id=gen L1 → 400 illegal_argument_exception`,
			`create logs id=gen L2/D3 → msg="kept"`,
		}},
		{"unknown action consumes one line", `{"upsert":{"_index":"logs"}}
{"message":"lost"}
{"index":{"_index":"logs"}}
{"message":"kept"}
`, []string{
			`index  id=gen L1/D2 → 400 illegal_argument_exception`,
			`index logs id=gen L3/D4 → msg="kept"`,
		}},
		{"consecutive malformed lines pair up", `{}
{"create":{"_index":"logs"},"index":{}}
{"delete":"logs"}
{"index":{"_index":{"name":"logs"}}}
[1]
{"index":{"_index":"logs"}}
{"message":"kept"}
`, []string{
			`index  id=gen L1/D2 → 400 illegal_argument_exception`,
			`delete  id=gen L3/D4 → 400 illegal_argument_exception`,
			`index  id=gen L5 → 400 illegal_argument_exception`,
			`index logs id=gen L6/D7 → msg="kept"`,
		}},
		{"bad documents fail alone", `{"index":{"_index":"logs","_id":"1"}}
{"message":"a",}
{"index":{"_index":"logs","_id":"2"}}
[1,2]
{"index":{"_index":"logs","_id":"3"}}
"text"
{"index":{"_index":"logs","_id":"4"}}
{"message":"ok"}
`, []string{
			`index logs id=1 L1/D2 → 400 document_parsing_exception`,
			`index logs id=2 L3/D4 → 400 document_parsing_exception`,
			`index logs id=3 L5/D6 → 400 document_parsing_exception`,
			`index logs id=4 L7/D8 → msg="ok"`,
		}},
		{"nested fields flattened", `{"create":{"_index":"logs"}}
{"message":"m","log":{"level":"info","file":{"path":"/var/log/x"}},"tags":["a","b"],"ok":true,"none":null,"empty":{}}
`, []string{
			`create logs id=gen L1/D2 → msg="m" log.level="info" log.file.path="/var/log/x" tags="[\"a\",\"b\"]" ok="true"`,
		}},
		{"_msg wins over message", `{"create":{"_index":"logs"}}
{"message":"second","_msg":"first"}
`, []string{
			`create logs id=gen L1/D2 → msg="first" message="second"`,
		}},
		{"_id and _index as numbers and null", `{"index":{"_index":7,"_id":42}}
{"message":"a"}
{"index":{"_index":"logs","_id":null}}
{"message":"b"}
{"index":{"_index":"logs","_id":""}}
{"message":"c"}
`, []string{
			`index 7 id=42 L1/D2 → msg="a"`,
			`index logs id=gen L3/D4 → msg="b"`,
			`index logs id=gen L5/D6 → msg="c"`,
		}},
		{"missing index", `{"index":{}}
{"message":"a"}
{"index":{"_index":""}}
{"message":"b"}
`, []string{
			`index  id=gen L1/D2 → 400 action_request_validation_exception`,
			`index  id=gen L3/D4 → 400 action_request_validation_exception`,
		}},
		{"too long id and index", `{"index":{"_index":"logs","_id":"` + strings.Repeat("i", MaxIDBytes+1) + `"}}
{"message":"a"}
{"index":{"_index":"` + strings.Repeat("x", MaxIndexBytes+1) + `"}}
{"message":"b"}
{"index":{"_index":"logs","_id":"` + strings.Repeat("i", MaxIDBytes) + `"}}
{"message":"c"}
`, []string{
			`index logs id=` + strings.Repeat("i", MaxIDBytes+1) + ` L1/D2 → 400 action_request_validation_exception`,
			`index ` + strings.Repeat("x", MaxIndexBytes+1) + ` id=gen L3/D4 → 400 invalid_index_name_exception`,
			`index logs id=` + strings.Repeat("i", MaxIDBytes) + ` L5/D6 → msg="c"`,
		}},
		{"invalid UTF-8 in metadata", "{\"index\":{\"_index\":\"lo\xffgs\",\"_id\":\"i\xfed\"}}\n{\"message\":\"m\xff\"}\n", []string{
			"index lo\uFFFDgs id=i\uFFFDd L1/D2 → msg=\"m\uFFFD\"",
		}},
		{"empty body", "", []string{}},
		{"only blank lines", "\n\r\n \n", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := decodeTest(t, tc.body, testConfig())
			if got := renderItems(b); !slices.Equal(got, tc.want) {
				t.Errorf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestDecodeGroups(t *testing.T) {
	var calls []string
	cfg := testConfig()
	cfg.DefaultIndex = "default"
	cfg.OptionsFor = func(index string) ingest.Options {
		calls = append(calls, index)
		return testOptionsWith(func(o *ingest.Options) {
			o.StreamFields = []string{"host." + index}
		})
	}
	body := `{"create":{"_index":"a"}}
{"message":"a1","host":{"a":"h1","b":"x"}}
{"create":{"_index":"b"}}
{"message":"b1","host":{"a":"h2","b":"y"}}
{"delete":{"_index":"c"}}
{"create":{}}
{"message":"d1"}
{"create":{"_index":"a"}}
{"message":"a2"}
`
	b := decodeTest(t, body, cfg)
	want := []string{
		`create a id=gen L1/D2 → msg="a1" stream:host.a="h1" host.b="x"`,
		`create b id=gen L3/D4 → msg="b1" stream:host.b="y" host.a="h2"`,
		`delete c id=gen L5 → 400 illegal_argument_exception`,
		`create default id=gen L6/D7 → msg="d1"`,
		`create a id=gen L8/D9 → msg="a2"`,
	}
	if got := renderItems(b); !slices.Equal(got, want) {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if want := []string{"a", "b", "c", "default"}; !slices.Equal(calls, want) {
		t.Errorf("OptionsFor called for %q, want %q", calls, want)
	}
	var indexes []string
	var records []int
	for _, g := range b.Groups {
		indexes = append(indexes, g.Index)
		records = append(records, len(g.Result.Records))
	}
	if !slices.Equal(indexes, []string{"a", "b", "c", "default"}) || !slices.Equal(records, []int{2, 1, 0, 1}) {
		t.Errorf("groups %q with %v records", indexes, records)
	}
	if c := b.Groups[0].Result.Records; cap(c) != 2 {
		t.Errorf("group a reserved %d records, want exactly 2", cap(c))
	}
}

func TestDecodeMaxItems(t *testing.T) {
	pair := "{\"create\":{\"_index\":\"logs\"}}\n{\"message\":\"m\"}\n"
	cfg := testConfig()
	cfg.MaxItems = 3
	b, err := newTestDecoder().Decode([]byte(strings.Repeat(pair, 3)), cfg)
	if err != nil || len(b.Items) != 3 {
		t.Fatalf("3 items with MaxItems 3: %v, %v", b, err)
	}
	_, err = newTestDecoder().Decode([]byte(strings.Repeat(pair, 4)), cfg)
	if !errors.Is(err, ErrTooManyItems) {
		t.Fatalf("4 items with MaxItems 3: error %v, want ErrTooManyItems", err)
	}
	if want := "scan bulk body: too many bulk items: more than 3 items (line 7): send smaller batches"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	// Malformed lines and deletes are items too.
	_, err = newTestDecoder().Decode([]byte("x\n{\"delete\":{}}\n{\"delete\":{}}\n{\"delete\":{}}\n"), cfg)
	if !errors.Is(err, ErrTooManyItems) {
		t.Errorf("4 action lines: error %v, want ErrTooManyItems", err)
	}
	cfg.MaxItems = -1
	if b, err := Decode([]byte(strings.Repeat(pair, 5)), cfg); err != nil || len(b.Items) != 5 {
		t.Errorf("unbounded: %v", err)
	}
	for _, tc := range []struct{ set, want int }{{0, DefaultMaxItems}, {-5, -1}, {7, 7}} {
		if got := (&Config{MaxItems: tc.set}).maxItems(); got != tc.want {
			t.Errorf("MaxItems %d is a bound of %d, want %d", tc.set, got, tc.want)
		}
	}
}

func TestOptions(t *testing.T) {
	base := ingest.DefaultOptions()
	base.MsgFields = []string{"_msg", "log"}
	got := Options(base)
	if !slices.Equal(got.MsgFields, []string{"_msg", "log", "message", "MESSAGE"}) {
		t.Errorf("MsgFields %q", got.MsgFields)
	}
	if !slices.Equal(base.MsgFields, []string{"_msg", "log"}) {
		t.Errorf("base modified: %q", base.MsgFields)
	}
	if got.TimeField != base.TimeField {
		t.Errorf("TimeField %q", got.TimeField)
	}
	if def := Options(ingest.DefaultOptions()); !slices.Equal(def.MsgFields, []string{"_msg", "message", "msg", "log", "MESSAGE"}) {
		t.Errorf("default MsgFields: %q", def.MsgFields)
	}
}

// TestDecodeNoAlias checks that records and items do not alias the body.
func TestDecodeNoAlias(t *testing.T) {
	body := []byte(`{"index":{"_index":"logs","_id":"id1"}}
{"message":"hello","k":"v","@timestamp":"2026-01-02T00:00:00Z"}
`)
	b, err := Decode(body, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i := range body {
		body[i] = 'X'
	}
	r := b.Groups[0].Result.Records[0]
	if r.Msg != "hello" || r.Fields[0].Value != "v" || b.Items[0].ID != "id1" || b.Items[0].Index != "logs" {
		t.Errorf("decoded values changed with the body: %+v %+v", r, b.Items[0])
	}
}

// TestDecoderReuse checks that a Decoder gives the same answer when reused.
func TestDecoderReuse(t *testing.T) {
	bodies := []string{
		"{\"index\":{\"_index\":\"a\"}}\n{\"message\":\"1\",\"x\":{\"y\":2}}\n",
		"bad\n{\"create\":{\"_index\":\"b\",\"_id\":\"z\"}}\n{\"@timestamp\":1767225600123,\"message\":\"2\"}\n",
	}
	d := newTestDecoder()
	for round := range 2 {
		for _, body := range bodies {
			b1, err1 := d.Decode([]byte(body), testConfig())
			b2, err2 := newTestDecoder().Decode([]byte(body), testConfig())
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if g1, g2 := renderItems(b1), renderItems(b2); !slices.Equal(g1, g2) {
				t.Errorf("round %d: reused %q, fresh %q", round, g1, g2)
			}
		}
	}
}
