package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	maxBodyBytes         = 64 << 20
	maxDecompressedBytes = 256 << 20
	maxLineBytes         = 256 << 10
)

// badCase is one ingest request and its documented answer. Every case uses
// its own bucket so that the records it stored can be checked.
type badCase struct {
	name     string
	bucket   string
	query    url.Values
	header   map[string]string
	body     []byte
	stream   func() (r io.Reader, size int64) // instead of body; size -1 = chunked
	seed     bool                             // store one record first; end offsets must not move
	status   int                              // wanted status; 4 = any 4xx
	accepted int                              // wanted for 200
	rejected int                              // wanted for 200
	errLines []int                            // wanted error line numbers for 200, if not nil
	discard  bool                             // logbucket_ingest_discarded_total must move
	check    func(t *testing.T, res *ingestResult, recs []record)
}

// TestBadInputTable sends malformed, hostile and oversized requests to one
// server and checks each documented answer, that the server stays healthy and
// that the discard counters move.
func TestBadInputTable(t *testing.T) {
	s := startServer(t, t.TempDir())
	metricsBefore := s.discardCounters(t)

	deepObject := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	deepArray := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	bigLine := func() []byte {
		const size = 1<<20 + 1
		head, tail := `{"service":"big","_msg":"`, `"}`
		return []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
	}()
	manyFields := func() []byte {
		var b bytes.Buffer
		b.WriteString(`{"_msg":"many fields"`)
		for i := range 1100 {
			fmt.Fprintf(&b, `,"f%04d":%d`, i, i)
		}
		b.WriteString("}\n")
		return b.Bytes()
	}()
	good3 := []byte(`{"_msg":"g1"}` + "\n" + `{"_msg":"g2"}` + "\n" + `{"_msg":"g3"}` + "\n")

	cases := []badCase{
		{
			name:     "invalid JSON line among good lines",
			bucket:   "badjson",
			body:     []byte(`{"_msg":"one"}` + "\n" + `{"_msg": broken` + "\n" + `{"_msg":"three"}` + "\n"),
			status:   200,
			accepted: 2, rejected: 1, errLines: []int{2},
			discard: true,
			check: func(t *testing.T, _ *ingestResult, recs []record) {
				wantMsgs(t, recs, "one", "three")
			},
		},
		{
			name:     "arrays, numbers, strings, null, bool as lines",
			bucket:   "nonobject",
			body:     []byte("[1,2]\n42\n\"str\"\n{\"_msg\":\"ok\"}\nnull\ntrue\n"),
			status:   200,
			accepted: 1, rejected: 5, errLines: []int{1, 2, 3, 5, 6},
			discard: true,
			check: func(t *testing.T, _ *ingestResult, recs []record) {
				wantMsgs(t, recs, "ok")
			},
		},
		{
			// The contract does not say whether a 10,000-deep object is kept
			// (flattened) or rejected; it must be one of the two, the array
			// must be rejected, and the neighbours must be kept.
			name:     "10000-deep nesting",
			bucket:   "deep",
			body:     []byte(`{"_msg":"before"}` + "\n" + deepObject + "\n" + deepArray + "\n" + `{"_msg":"after"}` + "\n"),
			status:   200,
			accepted: -1, rejected: -1,
			check: func(t *testing.T, res *ingestResult, recs []record) {
				if res.Accepted+res.Rejected != 4 || res.Accepted < 2 || res.Accepted > 3 {
					t.Errorf("want 4 lines counted, 2 or 3 accepted; got accepted=%d rejected=%d errors=%v", res.Accepted, res.Rejected, res.Errors)
				}
				if !hasErrLine(res, 3) {
					t.Errorf("the deep array on line 3 must be rejected with its line number; errors=%v", res.Errors)
				}
				if len(recs) != res.Accepted {
					t.Errorf("accepted=%d but %d records stored", res.Accepted, len(recs))
				}
				var msgs []string
				for _, r := range recs {
					if m := r.get("_msg"); m == "before" || m == "after" {
						msgs = append(msgs, m)
					}
				}
				if !reflect.DeepEqual(msgs, []string{"before", "after"}) {
					t.Errorf("want records before and after kept in order, got %v", msgs)
				}
			},
		},
		{
			name:     "invalid UTF-8 is kept with U+FFFD",
			bucket:   "utf8",
			body:     []byte("{\"_msg\":\"bad \xff here\",\"v\":\"x\xc3\"}\n"),
			status:   200,
			accepted: 1, rejected: 0,
			check: func(t *testing.T, _ *ingestResult, recs []record) {
				if len(recs) != 1 {
					t.Fatalf("want 1 record, got %d", len(recs))
				}
				r := recs[0]
				if !utf8.Valid(r.raw) {
					t.Errorf("records endpoint returned invalid UTF-8: %q", r.raw)
				}
				if got, want := r.get("_msg"), "bad \uFFFD here"; got != want {
					t.Errorf("_msg = %q, want %q", got, want)
				}
				if got, want := r.get("v"), "x\uFFFD"; got != want {
					t.Errorf("v = %q, want %q", got, want)
				}
			},
		},
		{
			name:     "NUL bytes are kept byte-exact",
			bucket:   "nul",
			body:     []byte(`{"_msg":"a\u0000b","z":"\u0000","mixed":"x\u0000\u0001\u001fy"}` + "\n"),
			status:   200,
			accepted: 1, rejected: 0,
			check: func(t *testing.T, _ *ingestResult, recs []record) {
				if len(recs) != 1 {
					t.Fatalf("want 1 record, got %d", len(recs))
				}
				r := recs[0]
				for field, want := range map[string]string{"_msg": "a\x00b", "z": "\x00", "mixed": "x\x00\x01\x1fy"} {
					if got, ok := r.str(field); !ok || got != want {
						t.Errorf("%s = %q (present %v), want %q; record %s", field, got, ok, want, r)
					}
				}
			},
		},
		{
			name:     "1 MiB + 1 line is truncated and kept",
			bucket:   "bigline",
			body:     append(append(append([]byte(nil), bigLine...), '\n'), []byte(`{"_msg":"after big"}`+"\n")...),
			status:   200,
			accepted: 2, rejected: 0,
			check: func(t *testing.T, _ *ingestResult, recs []record) {
				if len(recs) != 2 {
					t.Fatalf("want 2 records, got %d", len(recs))
				}
				r := recs[0]
				// "_truncated = <original length>": the input line's bytes.
				if n := r.int("_truncated"); n != int64(len(bigLine)) {
					t.Errorf("_truncated = %q, want the original line length %d", r.get("_truncated"), len(bigLine))
				}
				msg := r.get("_msg")
				if len(msg) > maxLineBytes || strings.Trim(msg, "x") != "" {
					t.Errorf("_msg of the truncated record: %d bytes (limit %d), all 'x': %v", len(msg), maxLineBytes, strings.Trim(msg, "x") == "")
				}
				if len(r.raw) > 2*maxLineBytes {
					t.Errorf("truncated record is %d bytes on read", len(r.raw))
				}
				if got := recs[1].get("_msg"); got != "after big" {
					t.Errorf("second record _msg = %q, want %q", got, "after big")
				}
				t.Logf("truncated record: %d bytes of _msg, %d bytes on read", len(msg), len(r.raw))
			},
		},
		{
			name:     "more than 1000 fields: extras dropped",
			bucket:   "manyfields",
			body:     manyFields,
			status:   200,
			accepted: 1, rejected: 0,
			check: func(t *testing.T, _ *ingestResult, recs []record) {
				if len(recs) != 1 {
					t.Fatalf("want 1 record, got %d", len(recs))
				}
				n := 0
				for k := range recs[0].fields {
					if strings.HasPrefix(k, "f") {
						n++
					}
				}
				if n > 1000 || n < 900 {
					t.Errorf("record has %d of the 1100 fields f0000..f1099, want at most 1000 (extras dropped) and not much fewer", n)
				}
				if recs[0].get("f0000") != "0" {
					t.Errorf("the first field f0000 was dropped (got %q)", recs[0].get("f0000"))
				}
				if recs[0].get("_msg") != "many fields" {
					t.Errorf("_msg = %q", recs[0].get("_msg"))
				}
			},
		},
		{
			name:    "strict=true with one bad line stores nothing",
			bucket:  "strict",
			query:   url.Values{"strict": {"true"}},
			body:    append(append([]byte(nil), good3...), []byte("{oops\n")...),
			seed:    true,
			status:  400,
			discard: true,
		},
		{
			name:     "strict=true with good lines",
			bucket:   "strictok",
			query:    url.Values{"strict": {"true"}},
			body:     good3,
			status:   200,
			accepted: 3, rejected: 0,
		},
		{
			name:     "gzip body",
			bucket:   "gz",
			header:   map[string]string{"Content-Encoding": "gzip"},
			body:     gzipBytes(good3),
			status:   200,
			accepted: 3, rejected: 0,
			check: func(t *testing.T, _ *ingestResult, recs []record) {
				wantMsgs(t, recs, "g1", "g2", "g3")
			},
		},
		{
			name:     "zstd body",
			bucket:   "zst",
			header:   map[string]string{"Content-Encoding": "zstd"},
			body:     zstdBytes(good3),
			status:   200,
			accepted: 3, rejected: 0,
			check: func(t *testing.T, _ *ingestResult, recs []record) {
				wantMsgs(t, recs, "g1", "g2", "g3")
			},
		},
		{
			name:    "gzip bomb inflating past 256 MiB",
			bucket:  "bomb",
			header:  map[string]string{"Content-Encoding": "gzip"},
			body:    gzipBomb(t),
			seed:    true,
			status:  413,
			discard: true,
		},
		{
			name:    "Content-Encoding: gzip, gzip",
			bucket:  "gzgz",
			header:  map[string]string{"Content-Encoding": "gzip, gzip"},
			body:    gzipBytes(gzipBytes(good3)),
			seed:    true,
			status:  415,
			discard: true,
		},
		{
			name:    "Content-Encoding: br",
			bucket:  "br",
			header:  map[string]string{"Content-Encoding": "br"},
			body:    good3,
			seed:    true,
			status:  415,
			discard: true,
		},
		{
			name:    "unknown Content-Encoding",
			bucket:  "unknownenc",
			header:  map[string]string{"Content-Encoding": "x-snappy-framed"},
			body:    good3,
			seed:    true,
			status:  415,
			discard: true,
		},
		{
			// Not in the contract's list; any 4xx (and a healthy server)
			// is fine.
			name:   "corrupt gzip body",
			bucket: "badgzip",
			header: map[string]string{"Content-Encoding": "gzip"},
			body:   append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, bytes.Repeat([]byte{0xAA}, 100)...),
			seed:   true,
			status: 4,
		},
		{
			name:     "150 bad lines: at most 100 errors listed",
			bucket:   "manyerrors",
			body:     append(bytes.Repeat([]byte("nope\n"), 150), []byte(`{"_msg":"kept"}`+"\n")...),
			status:   200,
			accepted: 1, rejected: 150,
			discard: true,
			check: func(t *testing.T, res *ingestResult, recs []record) {
				if len(res.Errors) == 0 || len(res.Errors) > 100 {
					t.Errorf("150 rejected lines: %d errors listed, want 1..100", len(res.Errors))
				}
				for i, e := range res.Errors {
					if e.Line != i+1 {
						t.Errorf("errors[%d].line = %d, want %d", i, e.Line, i+1)
						break
					}
				}
				wantMsgs(t, recs, "kept")
			},
		},
		{
			name:     "empty body",
			bucket:   "empty",
			body:     nil,
			status:   200,
			accepted: 0, rejected: 0,
		},
		{name: "bucket name with upper case", bucket: "Bad", body: good3, status: 400, discard: true},
		{name: "bucket name starting with -", bucket: "-x", body: good3, status: 400, discard: true},
		{name: "bucket name starting with _", bucket: "_x", body: good3, status: 400, discard: true},
		{name: "bucket name of 64 chars", bucket: strings.Repeat("a", 64), body: good3, status: 400, discard: true},
		{name: "bucket name with slash", bucket: "a/b", body: good3, status: 400, discard: true},
		{name: "bucket name with dot", bucket: "a.b", body: good3, status: 400, discard: true},
		{name: "bucket name of 63 chars is valid", bucket: strings.Repeat("a", 63), body: good3, status: 200, accepted: 3},
		{name: "bucket name with digits, - and _ is valid", bucket: "0a_b-c", body: good3, status: 200, accepted: 3},
		{
			name:   "body over 64 MiB, chunked",
			bucket: "bigchunked",
			stream: func() (io.Reader, int64) {
				return newFillerReader(maxBodyBytes + 1<<20), -1
			},
			seed:    true,
			status:  413,
			discard: true,
		},
		{
			name:   "body over 64 MiB with Content-Length",
			bucket: "biglength",
			stream: func() (io.Reader, int64) {
				n := int64(maxBodyBytes + 1<<20)
				return newFillerReader(n), n
			},
			seed:    true,
			status:  413,
			discard: true,
		},
	}

	ran := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ran++
			runBadCase(t, s, c)
		})
		s.healthy(t)
	}
	if ran < len(cases) {
		t.Logf("only %d of %d cases ran (-run filter): discard counter summary not checked", ran, len(cases))
		return
	}

	// The discard counters moved, split by reason.
	after := s.discardCounters(t)
	moved := map[string]float64{}
	reasons := map[string]bool{}
	var lines []string
	for series, v := range after {
		if d := v - metricsBefore[series]; d > 0 {
			moved[series] = d
			reasons[labelValue(series, "reason")] = true
			lines = append(lines, fmt.Sprintf("  %s +%g", series, d))
		}
	}
	sort.Strings(lines)
	t.Logf("logbucket_ingest_discarded_total moved:\n%s", strings.Join(lines, "\n"))
	if len(reasons) < 4 {
		t.Errorf("logbucket_ingest_discarded_total: want the counters of several reasons (bad line, strict, too large, encoding, bucket name) to move, got %d reason(s): %v", len(reasons), lines)
	}
	var badjson float64
	for series, d := range moved {
		if labelValue(series, "bucket") == "badjson" {
			badjson += d
		}
	}
	if badjson < 1 {
		t.Errorf(`logbucket_ingest_discarded_total{bucket="badjson"} did not move after a rejected line; moved: %v`, lines)
	}
}

func runBadCase(t *testing.T, s *server, c badCase) {
	t.Helper()
	var ends map[int]int64
	if c.seed {
		s.mustIngest(t, ingestReq{bucket: c.bucket, body: []byte(`{"_msg":"seed"}` + "\n")})
		ends = s.endOffsets(t, c.bucket)
	}
	discardsBefore := sumValues(s.discardCounters(t))

	q := url.Values{"bucket": {c.bucket}}
	for k, v := range c.query {
		q[k] = v
	}
	var body io.Reader = bytes.NewReader(c.body)
	size := int64(len(c.body))
	if c.stream != nil {
		body, size = c.stream()
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, s.url("/api/v1/ingest", q), body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	if size < 0 {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	what := fmt.Sprintf("POST /api/v1/ingest?%s (%s)", q.Encode(), c.name)
	hr, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v (server %s)", what, err, s.state())
	}
	respBody, err := io.ReadAll(hr.Body)
	hr.Body.Close()
	if err != nil {
		t.Fatalf("%s: reading answer: %v", what, err)
	}
	resp := &response{status: hr.StatusCode, header: hr.Header, body: respBody}

	switch {
	case c.status == 4 && (resp.status < 400 || resp.status > 499):
		t.Errorf("%s: want a 4xx, got %s", what, resp)
	case c.status != 4 && resp.status != c.status:
		t.Errorf("%s: want %d, got %s", what, c.status, resp)
	}
	if resp.status >= 400 {
		checkErrorBody(t, what, resp)
	}
	if ends != nil {
		if got := s.endOffsets(t, c.bucket); !reflect.DeepEqual(got, ends) {
			t.Errorf("%s: answered %d but end offsets moved from %v to %v (nothing may be stored)", what, resp.status, ends, got)
		}
	}
	if c.discard {
		if after := sumValues(s.discardCounters(t)); after <= discardsBefore {
			t.Errorf("%s: logbucket_ingest_discarded_total did not move (sum %g before and %g after)", what, discardsBefore, after)
		}
	}
	if c.status != 200 || resp.status != 200 {
		return
	}
	var res ingestResult
	if err := json.Unmarshal(resp.body, &res); err != nil {
		t.Fatalf("%s: 200 body %q: %v", what, truncate(resp.body, 300), err)
	}
	if c.accepted >= 0 && res.Accepted != c.accepted {
		t.Errorf("%s: accepted = %d, want %d (%s)", what, res.Accepted, c.accepted, truncate(resp.body, 300))
	}
	if c.rejected >= 0 && res.Rejected != c.rejected {
		t.Errorf("%s: rejected = %d, want %d (%s)", what, res.Rejected, c.rejected, truncate(resp.body, 300))
	}
	if c.errLines != nil {
		var got []int
		for _, e := range res.Errors {
			got = append(got, e.Line)
			if e.Reason == "" {
				t.Errorf("%s: error for line %d has no reason", what, e.Line)
			}
		}
		if !reflect.DeepEqual(got, c.errLines) {
			t.Errorf("%s: error lines = %v, want %v (errors %v)", what, got, c.errLines, res.Errors)
		}
	}
	var recs []record
	if res.Accepted > 0 || c.check != nil {
		_, parts := s.readAll(t, c.bucket)
		recs = allRecords(parts)
		if res.Accepted >= 0 && len(recs) != res.Accepted {
			t.Errorf("%s: accepted=%d but the bucket holds %d records", what, res.Accepted, len(recs))
		}
	}
	if c.check != nil {
		c.check(t, &res, recs)
	}
}

func sumValues(m map[string]float64) float64 {
	var s float64
	for _, v := range m {
		s += v
	}
	return s
}

func hasErrLine(res *ingestResult, line int) bool {
	for _, e := range res.Errors {
		if e.Line == line {
			return true
		}
	}
	return false
}

// wantMsgs requires the records' _msg values, in order.
func wantMsgs(t *testing.T, recs []record, msgs ...string) {
	t.Helper()
	var got []string
	for _, r := range recs {
		got = append(got, r.get("_msg"))
	}
	if !reflect.DeepEqual(got, msgs) && !(len(got) == 0 && len(msgs) == 0) {
		t.Errorf("stored _msg values = %q, want %q", got, msgs)
	}
}

// gzipBomb returns a gzip body (well under the 64 MiB body limit) that
// inflates to more than 256 MiB of valid NDJSON records of 64 KiB each.
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	line := []byte(`{"_msg":"bomb","pad":"` + strings.Repeat("a", 64<<10) + "\"}\n")
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= maxDecompressedBytes+1<<20; n += len(line) {
		if _, err := zw.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if out.Len() > 4<<20 {
		t.Fatalf("gzip bomb is %d bytes", out.Len())
	}
	return out.Bytes()
}

// fillerReader produces n bytes of valid NDJSON records (the last one may be
// cut) without holding them in memory.
type fillerReader struct {
	left int64
	line []byte
	pos  int
}

func newFillerReader(n int64) *fillerReader {
	return &fillerReader{left: n, line: []byte(`{"_msg":"filler","pad":"` + strings.Repeat("f", 1000) + "\"}\n")}
}

func (r *fillerReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		c := copy(p[n:], r.line[r.pos:])
		if int64(c) > r.left {
			c = int(r.left)
		}
		n += c
		r.left -= int64(c)
		r.pos = (r.pos + c) % len(r.line)
	}
	return n, nil
}
