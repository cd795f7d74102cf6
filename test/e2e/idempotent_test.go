package e2e

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestIdempotentRetryAcrossRestart posts a batch with a batch id, restarts
// the server (gracefully, then with SIGKILL) and posts the same id again:
// the answer must carry the original offsets and the records must be stored
// once.
func TestIdempotentRetryAcrossRestart(t *testing.T) {
	s := startServer(t, t.TempDir())
	const bucket = "idem"

	batch := func(prefix string, n int) []byte {
		var lines []any
		for i := range n {
			lines = append(lines, map[string]any{
				"service": fmt.Sprintf("svc%d", i%4),
				"i":       i,
				"_msg":    fmt.Sprintf("%s %d", prefix, i),
			})
		}
		return ndjson(t, lines...)
	}
	idReq := ingestReq{bucket: bucket, streamFields: "service", batchID: "idem-batch-1", body: batch("idem", 20)}

	// Some traffic before and after, so that the retry's offsets cannot match
	// by accident of where the log ends.
	s.mustIngest(t, ingestReq{bucket: bucket, streamFields: "service", body: batch("before", 8)})
	first := s.mustIngest(t, idReq)
	checkSame := func(when string, got *ingestResult) {
		t.Helper()
		if got.Accepted != first.Accepted || got.Rejected != first.Rejected || !reflect.DeepEqual(got.Partitions, first.Partitions) {
			t.Errorf("%s: retry of batch %q: want the first answer accepted=%d rejected=%d partitions=%v, got accepted=%d rejected=%d partitions=%v",
				when, idReq.batchID, first.Accepted, first.Rejected, first.Partitions, got.Accepted, got.Rejected, got.Partitions)
		}
	}
	checkSame("same process", s.mustIngest(t, idReq))

	// A batch with a rejected line: its retry names the same offsets too.
	partial := ingestReq{bucket: bucket, streamFields: "service", batchID: "idem-batch-2",
		body: []byte(`{"service":"svc0","_msg":"partial 0"}` + "\n" + `not json` + "\n" + `{"service":"svc1","_msg":"partial 2"}` + "\n")}
	postPartial := func(when string) *ingestResult {
		t.Helper()
		resp, res, err := s.ingest(context.Background(), partial)
		if err != nil || res == nil {
			t.Fatalf("%s: %s: want 200, got %v %v", when, partial.describe(), resp, err)
		}
		if res.Accepted != 2 || res.Rejected != 1 {
			t.Errorf("%s: %s: want accepted=2 rejected=1, got %s", when, partial.describe(), resp.body)
		}
		return res
	}
	firstPartial := postPartial("first")
	s.mustIngest(t, ingestReq{bucket: bucket, streamFields: "service", body: batch("after", 8)})
	ends := s.endOffsets(t, bucket)

	s.restart(t)
	if got := s.endOffsets(t, bucket); !reflect.DeepEqual(got, ends) {
		t.Errorf("end offsets changed across a graceful restart: before %v, after %v", ends, got)
	}
	checkSame("after graceful restart (SIGTERM)", s.mustIngest(t, idReq))

	s.stopWith(t, syscall.SIGINT)
	s.start(t)
	checkSame("after graceful restart (SIGINT)", s.mustIngest(t, idReq))

	s.killRestart(t)
	checkSame("after SIGKILL restart", s.mustIngest(t, idReq))
	if got := postPartial("after restarts"); !reflect.DeepEqual(got.Partitions, firstPartial.Partitions) {
		t.Errorf("retry of batch %q (one line rejected) after restarts: want partitions %v, got %v", partial.batchID, firstPartial.Partitions, got.Partitions)
	}
	if got := s.endOffsets(t, bucket); !reflect.DeepEqual(got, ends) {
		t.Errorf("end offsets after the retries: want %v (nothing stored again), got %v", ends, got)
	}

	// The records of the batch are stored exactly once, at the offsets the
	// first answer named.
	_, parts := s.readAll(t, bucket)
	count := map[string]int{}
	total := 0
	for p, recs := range parts {
		for _, r := range recs {
			count[r.get("_msg")]++
			total++
			if r.int("_partition") != int64(p) {
				t.Errorf("record %s read from partition %d", r, p)
			}
		}
	}
	if total != 38 {
		t.Errorf("bucket holds %d records, want 38 (8 before + 20 in the batch + 2 of the partial batch + 8 after)", total)
	}
	for i := range 20 {
		if msg := fmt.Sprintf("idem %d", i); count[msg] != 1 {
			t.Errorf("record %q stored %d times, want once", msg, count[msg])
		}
	}
	for ps, rng := range first.Partitions {
		p, err := strconv.Atoi(ps)
		if err != nil {
			t.Fatalf("partition key %q is not a number", ps)
		}
		for _, r := range parts[p] {
			in := r.offset() >= rng.FirstOffset && r.offset() <= rng.LastOffset
			isBatch := strings.HasPrefix(r.get("_msg"), "idem ")
			if in != isBatch {
				t.Errorf("partition %d offset %d holds %q; the batch's answer named offsets %d..%d", p, r.offset(), r.get("_msg"), rng.FirstOffset, rng.LastOffset)
			}
		}
	}
}
