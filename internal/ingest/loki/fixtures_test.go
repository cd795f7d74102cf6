package loki

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/winston-loki.pb.snappy")

// winstonProto is winston-loki's default request as decoded in the
// capture (see testdata/README.md).
func winstonProto() []byte {
	return pbPush(
		pbStream{`{level="info",app="billing",tenant="t1"}`, []pbEntry{
			{sec: 1795303597, nanos: 674000000, line: `invoice created {"invoiceId":5,"level":"info"}`},
		}},
		pbStream{`{level="warn",app="billing"}`, []pbEntry{
			{sec: 1795303597, nanos: 676000000, line: `slow db query {"ms":1200,"level":"warn"}`},
		}},
	)
}

func TestFixtures(t *testing.T) {
	pbPath := filepath.Join("testdata", "winston-loki.pb.snappy")
	if *update {
		if err := os.WriteFile(pbPath, snappy(winstonProto()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		file, ct, ce string
		want         []string
	}{
		{"pino-loki.json", "application/json", "", []string{
			`time=1795303594472000000 msg="{\"level\":30,\"time\":1795303594472,\"pid\":7289,\"component\":\"payments\",\"orderId\":17,\"msg\":\"order placed\"}" stream:app="checkout" stream:component="payments" stream:env="dev" stream:hostname="<host>" stream:level="info"`,
			`time=1795303594473000000 msg="{\"level\":50,\"time\":1795303594473,\"pid\":7289,\"err\":{\"type\":\"Error\",\"message\":\"card declined\",\"stack\":\"Error: card declined\\n    at Object.<anonymous> (/app/checkout.js:12:13)\"},\"meta\":{\"traceId\":\"abc123\"},\"msg\":\"payment failed\"}" stream:app="checkout" stream:env="dev" stream:hostname="<host>" stream:level="error" traceId="abc123"`,
		}},
		{"winston-loki-json.json", "application/json", "", []string{
			`time=1795303600855000000 msg="invoice created {\"invoiceId\":5,\"level\":\"info\"}" stream:app="billing-json" stream:level="info" invoiceId="5"`,
		}},
		{"winston-loki.pb.snappy", "application/x-protobuf", "", []string{
			`time=1795303597674000000 msg="invoice created {\"invoiceId\":5,\"level\":\"info\"}" stream:app="billing" stream:level="info" stream:tenant="t1"`,
			`time=1795303597676000000 msg="slow db query {\"ms\":1200,\"level\":\"warn\"}" stream:app="billing" stream:level="warn"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := decode(t, body, tc.ct, tc.ce, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			equalLines(t, render(res), tc.want)
		})
	}
	// The checked-in protobuf fixture is what the test builder writes.
	if body, err := os.ReadFile(pbPath); err != nil || !bytes.Equal(body, snappy(winstonProto())) {
		t.Errorf("%s differs from winstonProto (%v): run go test -run TestFixtures -update", pbPath, err)
	}
}
