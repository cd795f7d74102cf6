package loki

import (
	"errors"
	"testing"

	"github.com/logbucket/logbucket/internal/ingest"
)

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"two entries", `{"streams":[{"stream":{"job":"api","level":"info"},"values":[["` + ts1String + `","first"],["1795303594472000001","second"]]}]}`,
			[]string{
				`time=1795303594472000000 msg="first" stream:job="api" stream:level="info"`,
				`time=1795303594472000001 msg="second" stream:job="api" stream:level="info"`,
			}},
		{"structured metadata", `{"streams":[{"stream":{"job":"api"},"values":[["1","m",{"trace_id":"abc","n":17,"ok":true,"nil":null,"obj":{"a":[1, 2]},"empty":""}]]}]}`,
			[]string{`time=1 msg="m" stream:job="api" trace_id="abc" n="17" ok="true" obj="{\"a\":[1,2]}"`}},
		{"null and empty metadata", `{"streams":[{"stream":{"a":"b"},"values":[["1","x",null],["2","y",{}]]}]}`,
			[]string{`time=1 msg="x" stream:a="b"`, `time=2 msg="y" stream:a="b"`}},
		{"JSON line not unpacked", `{"streams":[{"stream":{"a":"b"},"values":[["1","{\"level\":30,\"msg\":\"hi\"}"]]}]}`,
			[]string{`time=1 msg="{\"level\":30,\"msg\":\"hi\"}" stream:a="b"`}},
		{"timestamp as a number", `{"streams":[{"stream":{"a":"b"},"values":[[1795303594472000000,"x"]]}]}`,
			[]string{`time=1795303594472000000 msg="x" stream:a="b"`}},
		{"zero timestamp is receipt time", `{"streams":[{"stream":{"a":"b"},"values":[["0","x"],[0,"y"]]}]}`,
			[]string{`msg="x" stream:a="b"`, `msg="y" stream:a="b"`}},
		{"label wins over metadata, line over _msg", `{"streams":[{"stream":{"level":"info","_msg":"label"},"values":[["1","line",{"level":"warn","_msg":"md","x":"y"}]]}]}`,
			[]string{`time=1 msg="line" stream:level="info" x="y"`}},
		{"metadata message stays a field", `{"streams":[{"stream":{"a":"b"},"values":[["1","",{"message":"m","_time":"5"}]]}]}`,
			[]string{`time=1 stream:a="b" message="m" _time="5"`}},
		{"no labels", `{"streams":[{"values":[["1","x"]]},{"stream":null,"values":[["2","y"]]},{"stream":{},"values":[["3","z"]]}]}`,
			[]string{`time=1 msg="x"`, `time=2 msg="y"`, `time=3 msg="z"`}},
		{"identical streams repeated", `{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]},{"stream":{"a":"b"},"values":[["2","y"]]}]}`,
			[]string{`time=1 msg="x" stream:a="b"`, `time=2 msg="y" stream:a="b"`}},
		{"escapes and invalid UTF-8", "{\"streams\":[{\"stream\":{\"k\":\"v\\u00e9\\n\"},\"values\":[[\"1\",\"a\\tb\xffc\"]]}]}",
			[]string{`time=1 msg="a\tb�c" stream:k="vé\n"`}},
		{"empty label value is absent", `{"streams":[{"stream":{"a":"","b":"c"},"values":[["1","x"]]}]}`,
			[]string{`time=1 msg="x" stream:b="c"`}},
		{"other top-level keys ignored", `{"x":1,"streams":[{"stream":{"a":"b"},"values":[["1","x"]],"entries":[]}]}`,
			[]string{`time=1 msg="x" stream:a="b"`}},
		{"no or null values", `{"streams":[{"stream":{"a":"b"}},{"stream":{"a":"b"},"values":null},{"stream":{"a":"b"},"values":[]}]}`,
			nil},
		{"null streams", `{"streams":null}`, nil},
		{"empty streams", ` {"streams":[]} `, nil},
		{"bad timestamps", `{"streams":[{"stream":{"a":"b"},"values":[["abc","x"],["-5","x"],["1.5","x"],["9223372036854775808","x"],[true,"x"],["","x"],[1e3,"x"],["9223372036854775807","ok"]]}]}`,
			[]string{
				`time=9223372036854775807 msg="ok" stream:a="b"`,
				`#1 invalid_time: timestamp "abc" is not unix nanoseconds (decimal digits, below 2^63)`,
				`#2 invalid_time: timestamp "-5" is not unix nanoseconds (decimal digits, below 2^63)`,
				`#3 invalid_time: timestamp "1.5" is not unix nanoseconds (decimal digits, below 2^63)`,
				`#4 invalid_time: timestamp "9223372036854775808" is not unix nanoseconds (decimal digits, below 2^63)`,
				`#5 invalid_time: the timestamp is a boolean, not a string of unix nanoseconds`,
				`#6 invalid_time: timestamp "" is not unix nanoseconds (decimal digits, below 2^63)`,
				`#7 invalid_time: timestamp "1e3" is not unix nanoseconds (decimal digits, below 2^63)`,
			}},
		{"bad entries", `{"streams":[{"stream":{"a":"b"},"values":[["1"],["1","x",{},4],"e",["1",7],["1","x",[]],["1","x","md"],["2","ok"]]}]}`,
			[]string{
				`time=2 msg="ok" stream:a="b"`,
				`#1 invalid_entry: entry has 1 elements, want 2 or 3: ["<unix ns>", "line"] or ["<unix ns>", "line", {"name":"value"}]`,
				`#2 invalid_entry: entry has 4 elements, want 2 or 3: ["<unix ns>", "line"] or ["<unix ns>", "line", {"name":"value"}]`,
				`#3 invalid_entry: entry is a string, not an array ["<unix ns>", "line"]`,
				`#4 invalid_entry: the line is a number, not a string`,
				`#5 invalid_entry: the structured metadata is an array, not an object`,
				`#6 invalid_entry: the structured metadata is a string, not an object`,
			}},
		{"bad labels reject each entry", `{"streams":[{"stream":{"a":1},"values":[["1","x"],["2","y"]]},{"stream":{"a":"1","a":"2"},"values":[["3","z"]]},{"stream":{"":"v"},"values":[["4","w"]]},{"stream":"job=x","values":[["5","v"]]}]}`,
			[]string{
				`#1 invalid_labels: stream 1: label "a" is a number, not a string`,
				`#2 invalid_labels: stream 1: label "a" is a number, not a string`,
				`#3 invalid_labels: stream 2: duplicate label name "a"`,
				`#4 invalid_labels: stream 3: empty label name`,
				`#5 invalid_labels: stream 4: "stream" is a string, not an object of label names to string values`,
			}},
		{"positions across streams", `{"streams":[{"stream":{"a":"1"},"values":[["1","x"],["bad","y"]]},[1],{"stream":{"a":"2"},"values":{}},{"stream":{"a":"3"},"values":[["3","z"],["4"]]}]}`,
			[]string{
				`time=1 msg="x" stream:a="1"`,
				`time=3 msg="z" stream:a="3"`,
				`#2 invalid_time: timestamp "bad" is not unix nanoseconds (decimal digits, below 2^63)`,
				`#3 invalid_entry: stream 2 is an array, not an object`,
				`#4 invalid_entry: stream 3: "values" is an object, not an array`,
				`#6 invalid_entry: entry has 1 elements, want 2 or 3: ["<unix ns>", "line"] or ["<unix ns>", "line", {"name":"value"}]`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := decode(t, []byte(tc.body), ctJSON, "", testOptions())
			if err != nil {
				t.Fatal(err)
			}
			equalLines(t, render(res), tc.want)
			checkDiscards(t, res)
		})
	}
}

// checkDiscards checks that every rejection is counted under its reason.
func checkDiscards(t *testing.T, res *ingest.Result) {
	t.Helper()
	byReason := map[string]int{}
	for _, rj := range res.Rejections {
		byReason[rj.Reason]++
	}
	for reason, n := range byReason {
		if res.Discards[reason] != n {
			t.Errorf("Discards[%s] = %d, want %d", reason, res.Discards[reason], n)
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"syntax", `{"streams":[`, `decode push request: malformed body: invalid JSON (cannot parse JSON: cannot parse object: cannot parse object value: cannot parse array: missing ']'; unparsed tail: ""): send {"streams":[{"stream":{"label":"value"},"values":[["<unix ns>","line"]]}]}`},
		{"trailing data", `{"streams":[]} {}`, `decode push request: malformed body: invalid JSON (unexpected tail: "{}"): send {"streams":[{"stream":{"label":"value"},"values":[["<unix ns>","line"]]}]}`},
		{"NDJSON", "{\"a\":1}\n{\"a\":2}", `decode push request: malformed body: invalid JSON (unexpected tail: "{\"a\":2}"): send {"streams":[{"stream":{"label":"value"},"values":[["<unix ns>","line"]]}]}`},
		{"array", `[{"streams":[]}]`, `decode push request: malformed body: the JSON body is an array, not an object: send {"streams":[...]}`},
		{"no streams", `{"stream":{"a":"b"},"values":[["1","x"]]}`, `decode push request: malformed body: the JSON body has no "streams" field: send {"streams":[{"stream":{...},"values":[...]}]}`},
		{"streams not array", `{"streams":{"stream":{}}}`, `decode push request: malformed body: "streams" is an object, not an array: send {"streams":[{"stream":{...},"values":[...]}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := decode(t, []byte(tc.body), ctJSON, "", testOptions())
			if err == nil {
				t.Fatalf("no error; result %v", render(res))
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n\t%s\nwant:\n\t%s", err, tc.want)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error does not wrap ErrMalformed")
			}
			if len(res.Records)+len(res.Rejections)+len(res.Discards) != 0 {
				t.Errorf("res changed on error: %+v", res)
			}
		})
	}
}

func TestDecodeJSONDeepMetadata(t *testing.T) {
	deep := `{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"d":` + nested(400) + `}]]}]}`
	_, err := decode(t, []byte(deep), ctJSON, "", testOptions())
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("400 levels of nesting: error %v, want ErrMalformed", err)
	}
	ok := `{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"d":` + nested(10) + `}]]}]}`
	res, err := decode(t, []byte(ok), ctJSON, "", testOptions())
	if err != nil || len(res.Records) != 1 || res.Records[0].Fields[0].Value != nested(10) {
		t.Fatalf("10 levels: %v, %v", render(res), err)
	}
}

func nested(n int) string {
	s := "1"
	for range n {
		s = "[" + s + "]"
	}
	return s
}
