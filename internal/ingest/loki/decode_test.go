package loki

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"

	"github.com/logbucket/logbucket/internal/ingest"
)

const oneJSON = `{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]}]}`

var oneRecord = []string{`time=1 msg="x" stream:a="b"`}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestDecodeEncodings(t *testing.T) {
	oneProto := pbPush(pbStream{`{a="b"}`, []pbEntry{{nanos: 1, line: "x"}}})
	tests := []struct {
		name, ct, ce string
		body         []byte
	}{
		{"json", "application/json", "", []byte(oneJSON)},
		{"json with parameters and case", "Application/JSON; charset=utf-8", "", []byte(oneJSON)},
		{"json gzip", ctJSON, "gzip", gz([]byte(oneJSON))},
		{"json x-gzip, identity", ctJSON, "identity, X-Gzip", gz([]byte(oneJSON))},
		{"json snappy header ignored, as Loki does", ctJSON, "snappy", []byte(oneJSON)},
		{"protobuf", ctProto, "", snappy(oneProto)},
		{"protobuf with Content-Encoding snappy", ctProto, "snappy", snappy(oneProto)},
		{"protobuf in gzip", ctProto, "gzip", gz(snappy(oneProto))},
		{"no Content-Type is protobuf", "", "", snappy(oneProto)},
		{"application/protobuf", "application/protobuf", "", snappy(oneProto)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := decode(t, tc.body, tc.ct, tc.ce, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			equalLines(t, render(res), oneRecord)
		})
	}
}

func TestDecodeBodyErrors(t *testing.T) {
	bomb := gz(make([]byte, 2<<20))
	small := testOptions()
	small.MaxDecodedBytes = 1 << 20
	big := snappy(bytes.Repeat([]byte{0}, 2<<20)) // a valid snappy block, not a valid message
	tests := []struct {
		name, ct, ce string
		body         []byte
		opts         Options
		kind         error
		want         string
	}{
		{"brotli", ctJSON, "br", []byte(oneJSON), testOptions(), ErrUnsupported,
			`decode push request: unsupported encoding: Content-Encoding "br": use gzip, snappy (protobuf bodies) or none`},
		{"stacked", ctJSON, "gzip, gzip", gz(gz([]byte(oneJSON))), testOptions(), ErrUnsupported,
			`decode push request: unsupported encoding: stacked Content-Encoding "gzip, gzip": compress the body once, with gzip, or send snappy-compressed protobuf`},
		{"bad gzip", ctJSON, "gzip", []byte(oneJSON), testOptions(), ErrMalformed,
			`decode push request: malformed body: body is not gzip (gzip: invalid header): send it uncompressed or fix Content-Encoding`},
		{"truncated gzip", ctJSON, "gzip", gz([]byte(oneJSON))[:20], testOptions(), ErrMalformed,
			`decode push request: malformed body: body is not valid gzip (unexpected EOF): send it uncompressed or fix Content-Encoding`},
		{"gzip bomb", ctJSON, "gzip", bomb, small, ErrTooLarge,
			`decode push request: body too large: gzip body decompresses to more than 1048576 bytes: send smaller batches`},
		{"snappy over the limit", ctProto, "", big, small, ErrTooLarge,
			`decode push request: body too large: the snappy body decompresses to 2097152 bytes, the limit is 1048576: send smaller batches`},
		{"snappy header claims 4 GB", ctProto, "", []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00}, testOptions(), ErrMalformed,
			`decode push request: malformed body: the snappy header claims 4294967295 bytes, more than snappy can encode in 6: the body is corrupt or not snappy`},
		{"snappy header claims 24 bytes per byte", ctProto, "", []byte{0xf2, 0x01, 0, 0, 0, 0, 0, 0, 0, 0}, testOptions(), ErrMalformed,
			`decode push request: malformed body: the snappy header claims 242 bytes, more than snappy can encode in 10: the body is corrupt or not snappy`},
		{"JSON sent as form by curl -d", "application/x-www-form-urlencoded", "", []byte(oneJSON), testOptions(), ErrMalformed,
			`decode push request: malformed body: a body with Content-Type "application/x-www-form-urlencoded" is read as snappy-compressed protobuf, and it is not a snappy block (s2: corrupt input): compress the PushRequest with snappy's block format, or send Content-Type: application/json for JSON`},
		{"snappy JSON", ctJSON, "snappy", snappy([]byte(oneJSON)), testOptions(), ErrMalformed,
			`Content-Encoding: snappy applies to protobuf bodies only; send JSON uncompressed or with gzip`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := decode(t, tc.body, tc.ct, tc.ce, tc.opts)
			if err == nil {
				t.Fatalf("no error; result %v", render(res))
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %v does not wrap %v", err, tc.kind)
			}
			if got := err.Error(); got != tc.want && !strings.HasSuffix(got, ": "+tc.want) {
				t.Errorf("error:\n\t%s\nwant:\n\t%s", got, tc.want)
			}
			if len(res.Records)+len(res.Rejections)+len(res.Discards) != 0 {
				t.Errorf("res changed on error: %v", render(res))
			}
		})
	}
}

func TestDecodeEmptyBody(t *testing.T) {
	for _, ct := range []string{ctJSON, ctProto} {
		for _, body := range [][]byte{nil, {}, gz(nil)} {
			ce := ""
			if len(body) > 0 {
				ce = "gzip"
			}
			res, err := decode(t, body, ct, ce, testOptions())
			if err != nil || len(render(res)) != 0 {
				t.Errorf("%s %q: %v, %v", ct, body, render(res), err)
			}
		}
	}
}

// TestDecodeRecordBytes checks the bound on what labels copied into every
// record can expand a small body to.
func TestDecodeRecordBytes(t *testing.T) {
	labels := strings.Repeat("x", 10_000)
	const entries = 1000
	var js strings.Builder
	fmt.Fprintf(&js, `{"streams":[{"stream":{"big":%q},"values":[`, labels)
	pb := pbStream{labels: fmt.Sprintf("{big=%q}", labels)}
	for i := range entries {
		if i > 0 {
			js.WriteByte(',')
		}
		js.WriteString(`["1",""]`)
		pb.entries = append(pb.entries, pbEntry{})
	}
	js.WriteString(`]}]}`)
	bodies := []struct {
		ct   string
		body []byte
	}{{ctJSON, []byte(js.String())}, {ctProto, snappy(pbPush(pb))}}
	for _, b := range bodies {
		opts := testOptions()
		opts.MaxRecordBytes = 10 << 20 // 1000 × (10,003 + 128) bytes is 10,131,000
		res, err := decode(t, b.body, b.ct, "", opts)
		if err != nil || len(res.Records) != entries {
			t.Fatalf("%s under the limit: %d records, %v", b.ct, len(res.Records), err)
		}
		opts.MaxRecordBytes = 9 << 20
		res, err = decode(t, b.body, b.ct, "", opts)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1000 entries would take about 101") || len(res.Records) != 0 {
			t.Fatalf("%s over the limit: %d records, error %v", b.ct, len(res.Records), err)
		}
		// Truncation caps each record, and so the estimate.
		opts.MaxLineBytes = 1000
		if _, err = decode(t, b.body, b.ct, "", opts); err != nil {
			t.Fatalf("%s with MaxLineBytes 1000: %v", b.ct, err)
		}
	}
}

func TestDecodeIgnoresCallerMsgAndStreamFields(t *testing.T) {
	opts := testOptions()
	opts.MsgFields = []string{"message", "_msg"}
	opts.StreamFields = []string{"host"}
	body := `{"streams":[{"stream":{"a":"b"},"values":[["1","line",{"message":"md","host":"h"}]]}]}`
	res, err := decode(t, []byte(body), ctJSON, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, render(res), []string{`time=1 msg="line" stream:a="b" message="md" host="h"`})
}

func TestDecodeLimitsApply(t *testing.T) {
	opts := testOptions()
	opts.MaxFields = 1
	opts.MaxLineBytes = 100
	long := strings.Repeat("é", 100)
	body := fmt.Sprintf(`{"streams":[{"stream":{"a":"b"},"values":[["1",%q,{"m1":"1","m2":"2"}]]}]}`, long)
	res, err := decode(t, []byte(body), ctJSON, "", opts)
	if err != nil || len(res.Records) != 1 {
		t.Fatalf("%v, %v", render(res), err)
	}
	r := res.Records[0]
	if r.Size() > 100 || !strings.HasPrefix(long, r.Msg) || len(r.Msg) == 0 {
		t.Errorf("record not cut to 100 bytes: size %d, msg %q", r.Size(), r.Msg)
	}
	want := map[string]int{ingest.ReasonTooManyFields: 1, ingest.ReasonTruncated: 1}
	if fmt.Sprint(res.Discards) != fmt.Sprint(want) {
		t.Errorf("Discards = %v, want %v", res.Discards, want)
	}
}

// TestDecodeNoAliasing overwrites the body and reuses the Decoder after
// decoding: the records must not change.
func TestDecodeNoAliasing(t *testing.T) {
	msg := pbPush(pbStream{`{job="api"}`, []pbEntry{{sec: 1, line: "hello", md: [][2]string{{"k", "v"}}}}})
	bodies := []struct {
		ct, ce string
		body   []byte
	}{
		{ctJSON, "", []byte(`{"streams":[{"stream":{"job":"api"},"values":[["1000000000","hello",{"k":"v"}]]}]}`)},
		{ctJSON, "gzip", gz([]byte(`{"streams":[{"stream":{"job":"api"},"values":[["1000000000","hello",{"k":"v"}]]}]}`))},
		{ctProto, "", snappy(msg)},
	}
	want := []string{`time=1000000000 msg="hello" stream:job="api" k="v"`}
	for _, b := range bodies {
		var d Decoder
		res := &ingest.Result{}
		if err := d.Decode(b.body, b.ct, b.ce, testOptions(), res); err != nil {
			t.Fatal(err)
		}
		for i := range b.body {
			b.body[i] = 'X'
		}
		other := pbPush(pbStream{`{job="zzz"}`, []pbEntry{{sec: 2, line: "ZZZZZ", md: [][2]string{{"k", "Z"}}}}})
		if err := d.Decode(snappy(other), ctProto, "", testOptions(), &ingest.Result{}); err != nil {
			t.Fatal(err)
		}
		otherJSON := `{"streams":[{"stream":{"job":"zzz"},"values":[["2","ZZZZZ",{"k":"Z"}]]}]}`
		if err := d.Decode(gz([]byte(otherJSON)), ctJSON, "gzip", testOptions(), &ingest.Result{}); err != nil {
			t.Fatal(err)
		}
		equalLines(t, render(res), want)
	}
}

func TestDecodeAppends(t *testing.T) {
	res := &ingest.Result{}
	bad := `{"streams":[{"stream":{"a":"b"},"values":[["x","y"]]}]}`
	for range 2 {
		if err := Decode([]byte(bad), ctJSON, "", testOptions(), res); err != nil {
			t.Fatal(err)
		}
		if err := Decode([]byte(oneJSON), ctJSON, "", testOptions(), res); err != nil {
			t.Fatal(err)
		}
	}
	if len(res.Records) != 2 || len(res.Rejections) != 2 || res.Discards[ingest.ReasonInvalidTime] != 2 {
		t.Errorf("Decode did not append: %v", render(res))
	}
	// A failed Decode leaves an already filled res as it was.
	if err := Decode([]byte(`{`), ctJSON, "", testOptions(), res); err == nil || len(res.Records) != 2 {
		t.Errorf("failed decode changed res: %v, %v", render(res), err)
	}
}

func TestDecodeConcurrent(t *testing.T) {
	jsonBody := []byte(oneJSON)
	protoBody := snappy(pbPush(pbStream{`{a="b"}`, []pbEntry{{nanos: 1, line: "x"}}}))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for range 200 {
				body, ct := jsonBody, ctJSON
				if g%2 == 1 {
					body, ct = protoBody, ctProto
				}
				res := &ingest.Result{}
				if err := Decode(body, ct, "", testOptions(), res); err != nil || len(res.Records) != 1 || renderRecord(res.Records[0]) != oneRecord[0] {
					errs <- fmt.Sprintf("goroutine %d: %v %v", g, render(res), err)
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

// TestDecodeDenseSnappy checks that the expansion bound of snappy lets the
// densest blocks through.
func TestDecodeDenseSnappy(t *testing.T) {
	line := strings.Repeat("a", 4<<20)
	body := snappy(pbPush(pbStream{`{a="b"}`, []pbEntry{{sec: 1, line: line}}}))
	opts := testOptions()
	opts.MaxLineBytes = 0
	res, err := decode(t, body, ctProto, "", opts)
	if err != nil || len(res.Records) != 1 || res.Records[0].Msg != line {
		t.Fatalf("%d records, %v", len(res.Records), err)
	}

	// The densest snappy block: one literal byte, then copies of 64 bytes
	// at offset 1, each in 3 bytes. Its 'a' bytes read as a series of
	// fixed64 fields 12, unknown and skipped, when 1+64k is a multiple of 9.
	const copies = 8 + 9*10000
	dense := binary.AppendUvarint(nil, 1+64*copies)
	dense = append(dense, 0x00, 'a')
	for range copies {
		dense = append(dense, 0xfe, 0x01, 0x00)
	}
	if n, _ := s2.DecodedLen(dense); float64(n)/float64(len(dense)) < 21.3 {
		t.Fatalf("dense block expands %.2f times", float64(n)/float64(len(dense)))
	}
	res, err = decode(t, dense, ctProto, "", opts)
	if err != nil || len(res.Records) != 0 {
		t.Fatalf("densest block: %d records, %v", len(res.Records), err)
	}
}
