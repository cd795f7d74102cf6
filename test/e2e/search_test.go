package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// queryCount runs `QUERY | stats count() n` and returns n.
func queryCount(t testing.TB, s *server, bucket, q string) int {
	t.Helper()
	resp := s.mustDo(t, http.MethodGet, "/select/logsql/query", url.Values{"query": {q + " | stats count() n"}, "bucket": {bucket}}, nil, nil)
	if resp.status != 200 {
		t.Fatalf("query %q: %s", q, resp)
	}
	body := strings.TrimSpace(string(resp.body))
	var n int
	if _, err := fmt.Sscanf(body, `{"n":"%d"}`, &n); err != nil {
		t.Fatalf("query %q answered %q", q, body)
	}
	return n
}

// TestSearchSeesRecordsWithinASecond: an acknowledged record is found by a
// query within one second, Korean words match inside longer words, and
// Latin words match whole tokens only.
func TestSearchSeesRecordsWithinASecond(t *testing.T) {
	s := startServer(t, t.TempDir())
	body := `{"_msg":"결제가 완료되었습니다","service":"pay","level":"info"}
{"_msg":"미결제 주문","service":"pay","level":"warn"}
{"_msg":"payment timeout after 3s","service":"pay","level":"error"}
{"_msg":"timeouts are not timeout words","service":"game","level":"info"}
`
	if resp, _, err := s.ingest(context.Background(), ingestReq{bucket: "s", streamFields: "service", body: []byte(body)}); err != nil || resp.status != 200 {
		t.Fatalf("ingest: %v %v", err, resp)
	}
	acked := time.Now()
	for queryCount(t, s, "s", "*") < 4 {
		if time.Since(acked) > time.Second {
			t.Fatalf("records not searchable within 1s of their acknowledgement")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for q, want := range map[string]int{"결제": 2, "timeout": 2, "timeouts": 1, "level:error": 1, `{service="pay"} -level:info`: 2, "_msg:~\"after [0-9]s\"": 1} {
		if got := queryCount(t, s, "s", q); got != want {
			t.Errorf("query %q: %d rows, want %d", q, got, want)
		}
	}
}

// TestSearchExactlyOnceAcrossKill9 kills the server while it ingests and
// indexes (flushing parts every 200ms), restarts it, and checks that `*`
// finds every acknowledged record exactly once.
func TestSearchExactlyOnceAcrossKill9(t *testing.T) {
	iterations := 3
	if longMode() {
		iterations = 30
	}
	dir := t.TempDir()
	s := startServer(t, dir, "--indexer.flush-interval", "200ms", "--indexer.flush-rows", "1000")
	acked := map[string]bool{}
	var mu sync.Mutex
	seq := 0
	for it := 0; it < iterations; it++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for ctx.Err() == nil {
					mu.Lock()
					seq++
					batch := fmt.Sprintf("it%d-w%d-%d", it, w, seq)
					mu.Unlock()
					var b strings.Builder
					n := 1 + rand.IntN(40)
					for i := 0; i < n; i++ {
						fmt.Fprintf(&b, `{"_msg":"rec %s-%d","id":"%s-%d","service":"svc%d"}`+"\n", batch, i, batch, i, i%4)
					}
					resp, res, err := s.ingest(ctx, ingestReq{bucket: "k", streamFields: "service", batchID: batch, body: []byte(b.String())})
					if err == nil && resp.status == 200 && res != nil {
						mu.Lock()
						for i := 0; i < n; i++ {
							acked[batch+"-"+strconv.Itoa(i)] = true
						}
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(150+rand.IntN(400)) * time.Millisecond)
		s.kill(t)
		cancel()
		wg.Wait()
		s.start(t)
	}
	// Every acknowledged record once; nothing else but retried-unacked ones.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := s.mustDo(t, http.MethodGet, "/select/logsql/query", url.Values{"query": {"* | stats by (id) count() c | filter c:>1 | stats count() dups"}, "bucket": {"k"}}, nil, nil)
		if !strings.Contains(string(resp.body), `"dups":"0"`) {
			t.Fatalf("records found more than once: %s", resp)
		}
		found := map[string]bool{}
		r2 := s.mustDo(t, http.MethodGet, "/select/logsql/query", url.Values{"query": {"* | fields id"}, "bucket": {"k"}}, nil, nil)
		for _, line := range strings.Split(strings.TrimSpace(string(r2.body)), "\n") {
			if i := strings.Index(line, `"id":"`); i >= 0 {
				found[strings.TrimSuffix(line[i+6:], `"}`)] = true
			}
		}
		missing := 0
		for id := range acked {
			if !found[id] {
				missing++
			}
		}
		if missing == 0 {
			t.Logf("%d acknowledged records found exactly once (%d rows in all)", len(acked), len(found))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged records not found by *", missing, len(acked))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// longMode reports whether the long test tier was asked for.
func longMode() bool { return os.Getenv("LOGBUCKET_LONG") == "1" }

// TestSearchLogContextByStreamID follows Grafana's and vmui's log context:
// take a result row's _stream_id and _time, then ask for the rows of that
// stream before it (`_stream_id:ID _time:<=T | sort by (_time) desc |
// limit N`) and around it (`... | stream_context`).
func TestSearchLogContextByStreamID(t *testing.T) {
	s := startServer(t, t.TempDir())
	var body strings.Builder
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&body, `{"_time":%q,"_msg":"step %d","service":"%s"}`+"\n",
			base.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), i, []string{"pay", "game"}[i%2])
	}
	if resp, _, err := s.ingest(context.Background(), ingestReq{bucket: "s", streamFields: "service", body: []byte(body.String())}); err != nil || resp.status != 200 {
		t.Fatalf("ingest: %v %v", err, resp)
	}
	for queryCount(t, s, "s", "*") < 40 {
		time.Sleep(20 * time.Millisecond)
	}
	rows := func(q string) []map[string]string {
		t.Helper()
		resp := s.mustDo(t, http.MethodGet, "/select/logsql/query", url.Values{"query": {q}, "bucket": {"s"}}, nil, nil)
		if resp.status != 200 {
			t.Fatalf("query %q: %s", q, resp)
		}
		var out []map[string]string
		for _, line := range strings.Split(strings.TrimSpace(string(resp.body)), "\n") {
			var m map[string]string
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("query %q: row %q: %v", q, line, err)
			}
			out = append(out, m)
		}
		return out
	}
	anchor := rows(`"step 20"`)
	if len(anchor) != 1 || len(anchor[0]["_stream_id"]) != 48 {
		t.Fatalf("anchor rows %v: want one with a 48-digit _stream_id", anchor)
	}
	id, ts := anchor[0]["_stream_id"], anchor[0]["_time"]
	before := rows(fmt.Sprintf("_stream_id:%s _time:<=%s | sort by (_time) desc | limit 3", id, ts))
	var got []string
	for _, r := range before {
		if r["_stream_id"] != id || r["service"] != "pay" {
			t.Fatalf("context row of another stream: %v", r)
		}
		got = append(got, r["_msg"])
	}
	if want := "step 20,step 18,step 16"; strings.Join(got, ",") != want {
		t.Fatalf("rows before: %q, want %s", got, want)
	}
	around := rows(fmt.Sprintf("_stream_id:%s _time:%s | stream_context before 1 after 1", id, ts))
	got = got[:0]
	for _, r := range around {
		got = append(got, r["_msg"])
	}
	if want := "step 18,step 20,step 22"; strings.Join(got, ",") != want {
		t.Fatalf("stream_context: %q, want %s", got, want)
	}
	if other := rows(`{service="game"} | limit 1`); other[0]["_stream_id"] == id || len(other[0]["_stream_id"]) != 48 {
		t.Fatalf("the game stream's _stream_id %q equals pay's or is malformed", other[0]["_stream_id"])
	}
}
