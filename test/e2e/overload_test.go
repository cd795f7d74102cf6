package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// TestOverload holds the only ingest slot of a server started with
// --ingest.max-concurrent-requests 1 with a slow request and checks that
// another write is refused with 429/503 and Retry-After, stores nothing, is
// counted as discarded, and succeeds once the slot is free.
func TestOverload(t *testing.T) {
	const flag = "--ingest.max-concurrent-requests"
	help, _ := exec.Command(binPath, "server", "--help").CombinedOutput()
	if !bytes.Contains(help, []byte(flag)) {
		t.Skipf("logbucket server --help does not list %s; overload is not tested", flag)
	}
	s := startServer(t, t.TempDir(), flag, "1")
	const bucket = "busy"
	s.mustIngest(t, ingestReq{bucket: bucket, body: []byte(`{"_msg":"seed"}` + "\n")})
	ends := s.endOffsets(t, bucket)

	// Request A: a body that trickles in, holding the ingest slot.
	pr, pw := io.Pipe()
	type result struct {
		resp *response
		err  error
	}
	aDone := make(chan result, 1)
	go func() {
		resp, err := s.do(context.Background(), http.MethodPost, "/api/v1/ingest", url.Values{"bucket": {bucket}},
			http.Header{"Content-Type": {"application/x-ndjson"}}, pr)
		aDone <- result{resp, err}
	}()
	t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) })
	if _, err := pw.Write([]byte(`{"_msg":"slow 1"}` + "\n")); err != nil {
		t.Fatalf("writing the slow body: %v", err)
	}

	// Wait until A holds the slot: probe with empty bodies, which store
	// nothing either way, until one is refused.
	probe := ingestReq{bucket: bucket}
	eventually(t, 10*time.Second, func() string {
		resp, _, err := s.ingest(context.Background(), probe)
		if err != nil {
			t.Fatalf("%s: %v", probe.describe(), err)
		}
		if resp.status == http.StatusTooManyRequests || resp.status == http.StatusServiceUnavailable {
			return ""
		}
		return "a slow request holds the only ingest slot, but an empty-body write still got " + resp.String()
	})

	// Request B while A holds the slot: refused.
	discards := sumValues(s.discardCounters(t))
	b := ingestReq{bucket: bucket, body: []byte(`{"_msg":"refused then kept"}` + "\n")}
	refused, res, err := s.ingest(context.Background(), b)
	if err != nil {
		t.Fatalf("%s: %v", b.describe(), err)
	}
	if res != nil || (refused.status != http.StatusTooManyRequests && refused.status != http.StatusServiceUnavailable) {
		t.Fatalf("%s while another request holds the only ingest slot: want 429/503, got %s", b.describe(), refused)
	}
	if ra := refused.header.Get("Retry-After"); ra == "" {
		t.Errorf("overload answer %d has no Retry-After header", refused.status)
	} else if n, err := strconv.Atoi(ra); err != nil || n < 0 {
		t.Errorf("Retry-After %q is not a number of seconds", ra)
	}
	checkErrorBody(t, "overload answer", refused)
	if got := s.endOffsets(t, bucket); !equalEnds(got, ends) {
		t.Errorf("a write refused for overload moved the end offsets from %v to %v", ends, got)
	}
	if after := sumValues(s.discardCounters(t)); after <= discards {
		t.Errorf("logbucket_ingest_discarded_total did not move for a write refused for overload (sum %g → %g)", discards, after)
	}

	// Finish A: it is answered 200 with both lines.
	if _, err := pw.Write([]byte(`{"_msg":"slow 2"}` + "\n")); err != nil {
		t.Fatalf("writing the slow body: %v", err)
	}
	pw.Close()
	var a result
	select {
	case a = <-aDone:
	case <-time.After(30 * time.Second):
		t.Fatal("the slow request got no answer 30s after its body was complete")
	}
	if a.err != nil || a.resp.status != http.StatusOK {
		t.Fatalf("slow request: want 200, got %v %v", a.resp, a.err)
	}
	var ares ingestResult
	if err := json.Unmarshal(a.resp.body, &ares); err != nil || ares.Accepted != 2 {
		t.Errorf("slow request: want accepted=2, got %s", a.resp.body)
	}

	// B succeeds once the slot is free.
	s.mustIngest(t, b)
	_, parts := s.readAll(t, bucket)
	count := map[string]int{}
	for _, r := range allRecords(parts) {
		count[r.get("_msg")]++
	}
	for msg, want := range map[string]int{"seed": 1, "slow 1": 1, "slow 2": 1, "refused then kept": 1} {
		if count[msg] != want {
			t.Errorf("record %q stored %d times, want %d; all: %v", msg, count[msg], want, count)
		}
	}
}

func equalEnds(a, b map[int]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
