package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPullConsumer covers the records endpoint (earliest/latest, offset and
// limit, long-poll) and consumer groups (commit survives a graceful restart
// and SIGKILL, lag in the bucket document).
func TestPullConsumer(t *testing.T) {
	s := startServer(t, t.TempDir())
	const bucket = "pull"

	// Ten records of one stream: one partition, offsets 0..9.
	var lines []any
	for i := range 10 {
		lines = append(lines, map[string]any{"service": "api", "n": i, "_msg": fmt.Sprintf("pull %d", i)})
	}
	res := s.mustIngest(t, ingestReq{bucket: bucket, streamFields: "service", body: ndjson(t, lines...)})
	if len(res.Partitions) != 1 {
		t.Fatalf("ten records of one stream went to %d partitions: %v", len(res.Partitions), res.Partitions)
	}
	var p int
	for ps, rng := range res.Partitions {
		p, _ = strconv.Atoi(ps)
		if rng.FirstOffset != 0 || rng.LastOffset != 9 {
			t.Fatalf("first batch into an empty bucket: partition %s offsets %d..%d, want 0..9", ps, rng.FirstOffset, rng.LastOffset)
		}
	}

	doc := s.bucket(t, bucket)
	if len(doc.Partitions) != 4 {
		t.Errorf("bucket %s has %d partitions, want the default 4: %+v", bucket, len(doc.Partitions), doc.Partitions)
	}
	for _, pd := range doc.Partitions {
		wantEnd := int64(0)
		if pd.Partition == p {
			wantEnd = 10
		}
		if pd.StartOffset != 0 || pd.EndOffset != wantEnd {
			t.Errorf("partition %d: start_offset=%d end_offset=%d, want 0 and %d", pd.Partition, pd.StartOffset, pd.EndOffset, wantEnd)
		}
	}
	if doc.Records != 10 {
		t.Errorf("bucket document records=%d, want 10", doc.Records)
	}
	if _, err := time.Parse(time.RFC3339Nano, doc.LastWrite); err != nil {
		t.Errorf("bucket document last_write %q is not RFC 3339: %v", doc.LastWrite, err)
	}
	var list struct {
		Buckets []bucketDoc `json:"buckets"`
	}
	s.getJSON(t, "/api/v1/buckets", nil, &list)
	found := false
	for _, b := range list.Buckets {
		found = found || b.Name == bucket
	}
	if !found {
		t.Errorf("GET /api/v1/buckets does not list %q: %+v", bucket, list.Buckets)
	}

	checkPage := func(t *testing.T, offset string, limit int, wantFrom int64, wantN int) []record {
		t.Helper()
		resp, recs := s.readRecords(t, bucket, p, offset, limit, "")
		if resp.status != http.StatusOK {
			t.Fatalf("GET %s?offset=%s&limit=%d: want 200, got %s", recordsPath(bucket, p), offset, limit, resp)
		}
		if len(recs) != wantN {
			t.Fatalf("GET %s?offset=%s&limit=%d: %d records, want %d: %s", recordsPath(bucket, p), offset, limit, len(recs), wantN, truncate(resp.body, 500))
		}
		for i, r := range recs {
			off := wantFrom + int64(i)
			if r.offset() != off || r.int("_partition") != int64(p) || r.get("_msg") != fmt.Sprintf("pull %d", off) || r.get("n") != strconv.FormatInt(off, 10) {
				t.Errorf("GET offset=%s: record %d = %s, want _offset=%d _partition=%d _msg=%q n=%d", offset, i, r, off, p, fmt.Sprintf("pull %d", off), off)
			}
		}
		return recs
	}

	t.Run("earliest and record shape", func(t *testing.T) {
		recs := checkPage(t, "earliest", 3, 0, 3)
		r := recs[0]
		if got := r.get("_stream"); got != `{service="api"}` {
			t.Errorf("_stream = %q, want %q", got, `{service="api"}`)
		}
		if got := r.get("service"); got != "api" {
			t.Errorf("service = %q, want api", got)
		}
		if _, err := time.Parse(time.RFC3339Nano, r.get("_time")); err != nil {
			t.Errorf("_time %q is not RFC 3339: %v", r.get("_time"), err)
		}
	})
	t.Run("offset and limit", func(t *testing.T) {
		checkPage(t, "4", 2, 4, 2)
		checkPage(t, "0", 1000, 0, 10)
		checkPage(t, "9", 5, 9, 1)
	})
	t.Run("latest is the end", func(t *testing.T) {
		checkPage(t, "latest", 10, 10, 0)
		checkPage(t, "10", 10, 10, 0)
	})

	t.Run("long-poll returns early when a record arrives", func(t *testing.T) {
		type result struct {
			resp *response
			err  error
			took time.Duration
		}
		ch := make(chan result, 1)
		start := time.Now()
		go func() {
			resp, err := s.do(t.Context(), http.MethodGet, recordsPath(bucket, p), url.Values{"offset": {"10"}, "limit": {"10"}, "wait": {"2s"}}, nil, nil)
			ch <- result{resp, err, time.Since(start)}
		}()
		// Ingest while the poll is waiting: there is no server-side signal
		// that the poll has started, so give it a moment.
		const delay = 300 * time.Millisecond
		time.Sleep(delay)
		s.mustIngest(t, ingestReq{bucket: bucket, streamFields: "service", body: ndjson(t, map[string]any{"service": "api", "n": 10, "_msg": "pull 10"})})
		r := <-ch
		if r.err != nil {
			t.Fatalf("long-poll: %v", r.err)
		}
		if r.resp.status != http.StatusOK {
			t.Fatalf("long-poll: want 200, got %s", r.resp)
		}
		recs, err := parseRecords(r.resp.body)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].offset() != 10 || recs[0].get("_msg") != "pull 10" {
			t.Errorf("long-poll at offset 10 returned %d records %q, want the record pull 10 at offset 10", len(recs), truncate(r.resp.body, 300))
		}
		if r.took < delay-50*time.Millisecond || r.took > 1800*time.Millisecond {
			t.Errorf("long-poll with wait=2s answered after %v; want right after the record arrived (~%v)", r.took, delay)
		}
	})
	t.Run("long-poll returns empty after the wait", func(t *testing.T) {
		start := time.Now()
		resp, recs := s.readRecords(t, bucket, p, "11", 10, "2s")
		took := time.Since(start)
		if resp.status != http.StatusOK || len(recs) != 0 {
			t.Errorf("long-poll at the end of the log: want 200 and no records, got %s", resp)
		}
		if took < 1800*time.Millisecond || took > 5*time.Second {
			t.Errorf("long-poll with wait=2s and no new record answered after %v, want ~2s", took)
		}
	})

	t.Run("offset below retention is 416", func(t *testing.T) {
		testRetention416(t)
	})

	t.Run("last_read is set after reading", func(t *testing.T) {
		doc := s.bucket(t, bucket)
		if _, err := time.Parse(time.RFC3339Nano, doc.LastRead); err != nil {
			t.Errorf("bucket document last_read %q is not RFC 3339 after records were read: %v", doc.LastRead, err)
		}
	})

	// Consumer groups. The partition now ends at 11.
	const group = "g1"
	groupPath := fmt.Sprintf("/api/v1/buckets/%s/groups/%s", bucket, group)
	commit := func(t *testing.T, off int64) {
		t.Helper()
		path := fmt.Sprintf("%s/partitions/%d", groupPath, p)
		resp := s.mustDo(t, http.MethodPut, path, nil, http.Header{"Content-Type": {"application/json"}}, strings.NewReader(fmt.Sprintf(`{"offset":%d}`, off)))
		if resp.status < 200 || resp.status > 299 {
			t.Fatalf("PUT %s {\"offset\":%d}: want 2xx, got %s", path, off, resp)
		}
	}
	checkGroup := func(t *testing.T, when string, wantOff int64) {
		t.Helper()
		resp := s.mustDo(t, http.MethodGet, groupPath, nil, nil, nil)
		if resp.status != http.StatusOK {
			t.Fatalf("%s: GET %s: want 200, got %s", when, groupPath, resp)
		}
		offs, lags, err := parseGroupDoc(resp.body)
		if err != nil {
			t.Fatalf("%s: GET %s: %v: %s", when, groupPath, err, truncate(resp.body, 500))
		}
		if got, ok := offs[p]; !ok || got != wantOff {
			t.Errorf("%s: GET %s: partition %d committed offset = %d (present %v), want %d; body %s", when, groupPath, p, got, ok, wantOff, truncate(resp.body, 500))
		}
		if lag, ok := lags[p]; ok && lag != 11-wantOff {
			t.Errorf("%s: GET %s: partition %d lag = %d, want %d; body %s", when, groupPath, p, lag, 11-wantOff, truncate(resp.body, 500))
		}
		doc := s.bucket(t, bucket)
		var g *groupLagDoc
		for i := range doc.Groups {
			if doc.Groups[i].Group == group {
				g = &doc.Groups[i]
			}
		}
		if g == nil {
			t.Errorf("%s: bucket document lists no group %q: groups=%+v", when, group, doc.Groups)
		} else if g.Lag != 11-wantOff {
			t.Errorf("%s: bucket document: group %q lag = %d, want %d (end 11 - committed %d)", when, group, g.Lag, 11-wantOff, wantOff)
		}
	}
	t.Run("consumer group commit survives restarts", func(t *testing.T) {
		commit(t, 4)
		checkGroup(t, "after commit", 4)
		s.restart(t)
		checkGroup(t, "after graceful restart", 4)
		commit(t, 6)
		s.killRestart(t)
		checkGroup(t, "after SIGKILL right after a commit", 6)
		// The records themselves survived too.
		checkPage(t, "earliest", 1000, 0, 11)
	})
}

// parseGroupDoc extracts partition → committed offset (and lag where given)
// from the consumer-group document. The contract says only "returns offsets
// and lag", so the common shapes are accepted:
//
//	{"partitions":[{"partition":0,"offset":4,"lag":7}]}
//	{"offsets":[{"partition":0,"offset":4}]}
//	{"offsets":{"0":4}}  /  {"partitions":{"0":{"offset":4}}}
func parseGroupDoc(body []byte) (offsets, lags map[int]int64, err error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil, nil, err
	}
	offsets, lags = map[int]int64{}, map[int]int64{}
	num := func(v any) (int64, bool) {
		switch v := v.(type) {
		case json.Number:
			n, err := v.Int64()
			return n, err == nil
		case string:
			n, err := strconv.ParseInt(v, 10, 64)
			return n, err == nil
		}
		return 0, false
	}
	entry := func(p int64, v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range []string{"offset", "committed_offset", "committed"} {
				if n, ok := num(v[k]); ok {
					offsets[int(p)] = n
					break
				}
			}
			if n, ok := num(v["lag"]); ok {
				lags[int(p)] = n
			}
		default:
			if n, ok := num(v); ok {
				offsets[int(p)] = n
			}
		}
	}
	for _, key := range []string{"partitions", "offsets"} {
		switch v := doc[key].(type) {
		case []any:
			for _, e := range v {
				m, ok := e.(map[string]any)
				if !ok {
					continue
				}
				if p, ok := num(m["partition"]); ok {
					entry(p, m)
				}
			}
		case map[string]any:
			for ps, e := range v {
				if p, err := strconv.ParseInt(ps, 10, 64); err == nil {
					entry(p, e)
				}
			}
		}
	}
	if len(offsets) == 0 {
		return nil, nil, fmt.Errorf("no committed offsets found in the group document")
	}
	return offsets, lags, nil
}

// testRetention416 starts a server with tiny segments and a tiny retention
// limit, writes until retention has deleted the first segment, and reads
// below the new start offset: 416 with the earliest offset in the body.
func testRetention416(t *testing.T) {
	flags := []string{
		"--commitlog.segment-bytes", "64KiB",
		"--commitlog.retention-check-interval", "1s",
		"--bucket-defaults.retention-bytes", "256KiB",
	}
	help, _ := exec.Command(binPath, "server", "--help").CombinedOutput()
	for i := 0; i < len(flags); i += 2 {
		if !bytes.Contains(help, []byte(flags[i])) {
			t.Skipf("logbucket server --help does not list %s; the contract gives no other way to trigger retention quickly, so 416 is not tested", flags[i])
		}
	}
	s := startServer(t, t.TempDir(), flags...)
	const bucket = "ret"
	// Incompressible payloads, one stream, 2 MiB in all.
	rnd := rand.New(rand.NewPCG(1, 2))
	for batch := range 8 {
		var b bytes.Buffer
		for i := range 256 {
			pad := make([]byte, 512)
			for j := range pad {
				pad[j] = "0123456789abcdef"[rnd.IntN(16)]
			}
			fmt.Fprintf(&b, `{"service":"r","n":%d,"pad":"%s"}`+"\n", batch*256+i, pad)
		}
		s.mustIngest(t, ingestReq{bucket: bucket, streamFields: "service", body: b.Bytes()})
	}
	var part partitionDoc
	eventually(t, 20*time.Second, func() string {
		for _, pd := range s.bucket(t, bucket).Partitions {
			if pd.EndOffset > 0 {
				part = pd
			}
		}
		if part.StartOffset == 0 {
			return fmt.Sprintf("retention (256KiB per bucket, segments of 64KiB, checked every 1s) did not delete anything: partition %+v", part)
		}
		return ""
	})
	// Retention may still be deleting segments: the earliest offset named
	// by the answers must lie between the start offsets seen before and
	// after.
	before := part.StartOffset
	resp, _ := s.readRecords(t, bucket, part.Partition, "0", 10, "")
	if resp.status != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("GET %s?offset=0 with start_offset %d: want 416, got %s", recordsPath(bucket, part.Partition), before, resp)
	}
	checkErrorBody(t, "416", resp)
	// Retention may have emptied the partition; one more record makes sure
	// there is something to read at the earliest offset.
	s.mustIngest(t, ingestReq{bucket: bucket, streamFields: "service", body: []byte(`{"service":"r","n":-1}` + "\n")})
	resp2, recs := s.readRecords(t, bucket, part.Partition, "earliest", 1, "")
	var after int64
	for _, pd := range s.bucket(t, bucket).Partitions {
		if pd.Partition == part.Partition {
			after = pd.StartOffset
		}
	}
	if !jsonHasNumberIn(resp.body, before, after) {
		t.Errorf("416 body does not carry the earliest offset (start_offset was %d before the request, %d after): %s", before, after, resp.body)
	}
	if resp2.status != http.StatusOK || len(recs) != 1 || recs[0].offset() < before || recs[0].offset() > after {
		t.Errorf("GET offset=earliest after retention: want the first record at start_offset (%d..%d), got %s", before, after, resp2)
	}
}

// jsonHasNumberIn reports whether the JSON document holds an integer in
// [lo, hi] anywhere.
func jsonHasNumberIn(body []byte, lo, hi int64) bool {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case json.Number:
			n, err := v.Int64()
			return err == nil && n >= lo && n <= hi
		case map[string]any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
