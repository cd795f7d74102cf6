package otlp

import (
	"encoding/json"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/logbucket/logbucket/internal/ingest"
)

func TestEncodeResponse(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rejected int64
		msg      string
		wantJSON string
	}{
		{"full success", 0, "", `{}`},
		{"partial success", 2, "2 log records rejected", `{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"2 log records rejected"}}`},
		{"warning", 0, "kept with losses: truncated: 1", `{"partialSuccess":{"errorMessage":"kept with losses: truncated: 1"}}`},
		{"invalid UTF-8 repaired", 1, "bad \xff", `{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"bad �"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js, err := EncodeResponse(JSON, tc.rejected, tc.msg)
			if err != nil || string(js) != tc.wantJSON {
				t.Errorf("JSON = %s, %v; want %s", js, err, tc.wantJSON)
			}
			pb, err := EncodeResponse(Protobuf, tc.rejected, tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if tc.rejected == 0 && tc.msg == "" && len(pb) != 0 {
				t.Errorf("protobuf full success = %x, want empty", pb)
			}
			for _, body := range []struct {
				f Format
				b []byte
			}{{Protobuf, pb}, {JSON, js}} {
				resp := plogotlp.NewExportResponse()
				if body.f == JSON {
					err = resp.UnmarshalJSON(body.b)
				} else {
					err = resp.UnmarshalProto(body.b)
				}
				ps := resp.PartialSuccess()
				if err != nil || ps.RejectedLogRecords() != tc.rejected {
					t.Errorf("%v: decoded %d rejected, %v", body.f, ps.RejectedLogRecords(), err)
				}
			}
		})
	}
}

func TestPartialSuccess(t *testing.T) {
	res := &ingest.Result{}
	if n, msg := PartialSuccess(res); n != 0 || msg != "" {
		t.Errorf("empty result: %d, %q", n, msg)
	}
	res.Reject(4, ingest.ReasonInvalidTime, "time_unix_nano 18446744073709551615 is after 2262-04-11")
	res.Reject(9, ingest.ReasonInvalidTime, "second")
	res.AddDiscards(ingest.ReasonTruncated, 1)
	res.AddDiscards(ingest.ReasonTooManyFields, 3)
	n, msg := PartialSuccess(res)
	want := "2 log records rejected (invalid_time: 2); first: log record 4: invalid_time: time_unix_nano 18446744073709551615 is after 2262-04-11; " +
		"kept with losses: too_many_fields: 3, truncated: 1"
	if n != 2 || msg != want {
		t.Errorf("got %d, %q\nwant 2, %q", n, msg, want)
	}
	warn := &ingest.Result{}
	warn.AddDiscards(ingest.ReasonFieldNameTooLong, 1)
	if n, msg := PartialSuccess(warn); n != 0 || msg != "kept with losses: field_name_too_long: 1" {
		t.Errorf("warning only: %d, %q", n, msg)
	}
}

func TestEncodeStatus(t *testing.T) {
	for _, tc := range []struct {
		code int32
		msg  string
		want string // JSON
	}{
		{CodeInvalidArgument, "invalid OTLP logs request body: \"x\"\n", `{"code":3,"message":"invalid OTLP logs request body: \"x\"\n"}`},
		{0, "", `{"code":0,"message":""}`},
		{CodeUnavailable, "bad \xff", `{"code":14,"message":"bad �"}`},
	} {
		js := EncodeStatus(JSON, tc.code, tc.msg)
		var got struct {
			Code    int32  `json:"code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(js, &got); err != nil || string(js) != tc.want {
			t.Errorf("JSON = %s, %v; want %s", js, err, tc.want)
		}
		var st spb.Status
		if err := proto.Unmarshal(EncodeStatus(Protobuf, tc.code, tc.msg), &st); err != nil {
			t.Fatal(err)
		}
		if st.GetCode() != tc.code || st.GetMessage() != got.Message {
			t.Errorf("protobuf = %d %q, want %d %q", st.GetCode(), st.GetMessage(), tc.code, got.Message)
		}
	}
}
