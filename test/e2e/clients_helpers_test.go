package e2e

// Helpers of the real-client tests (clients_*_test.go): each starts the real
// logbucket binary, runs an unmodified log client against it (syslog-ng from
// Debian, or a Node script of test/clients using the pinned npm clients),
// and checks through /select/logsql/query that every line arrived exactly
// once with its _time, _msg, stream fields and fields.
//
// The clients are installed by scripts/install-client-deps.sh (`make deps`
// runs it). A missing client fails its test, naming that script; set
// LOGBUCKET_SKIP_CLIENTS=1 to skip these tests on purpose.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	clientsLines    = 50               // lines each client sends
	clientsRunLimit = 60 * time.Second // one client process, a hang guard
	clientsWait     = 30 * time.Second // until every line is searchable
	clientsInstall  = "scripts/install-client-deps.sh"
)

// clientsSkipIfAsked skips the test when LOGBUCKET_SKIP_CLIENTS=1.
func clientsSkipIfAsked(t *testing.T) {
	t.Helper()
	if os.Getenv("LOGBUCKET_SKIP_CLIENTS") == "1" {
		t.Skip("LOGBUCKET_SKIP_CLIENTS=1: real-client tests skipped on purpose")
	}
}

// clientsMissing fails the test for a client that is not installed.
func clientsMissing(t *testing.T, what string) {
	t.Helper()
	t.Fatalf("%s: run %s to install the real clients (or set LOGBUCKET_SKIP_CLIENTS=1 to skip these tests)", what, clientsInstall)
}

// clientsRunID returns a fresh run id: 10 lowercase hex digits.
func clientsRunID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// clientsMessage is the text of line i that every client sends; it mirrors
// message() in test/clients/lib.js.
func clientsMessage(client, runID string, i int) string {
	if i%10 == 3 {
		return fmt.Sprintf("결제 완료: 주문 %d번 (%s %s)", i, client, runID)
	}
	return fmt.Sprintf("%s %s order %d placed", client, runID, i)
}

// clientsLevel is the severity of line i (level() in test/clients/lib.js):
// info, warn or error.
func clientsLevel(i int) string {
	switch i % 10 {
	case 9:
		return "error"
	case 5:
		return "warn"
	}
	return "info"
}

// clientsTraceID and clientsSpanID are the ids the OTel and Elasticsearch
// scripts derive from the run id and the line number.
func clientsTraceID(runID string, i int) string {
	h := md5.Sum([]byte(fmt.Sprintf("%s-%d", runID, i)))
	return hex.EncodeToString(h[:])
}

func clientsSpanID(runID string, i int) string {
	h := sha1.Sum([]byte(fmt.Sprintf("%s-%d", runID, i)))
	return hex.EncodeToString(h[:])[:16]
}

// clientsStream renders stream labels as logbucket's _stream does: names
// sorted, values quoted.
func clientsStream(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.Quote(labels[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// clientsDir returns test/clients after checking that Node.js and the npm
// packages the test needs are installed.
func clientsDir(t *testing.T, packages ...string) (node, dir string) {
	t.Helper()
	clientsSkipIfAsked(t)
	node, err := exec.LookPath("node")
	if err != nil {
		clientsMissing(t, "node (Node.js 20 or later) is not on PATH")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(root, "test", "clients")
	for _, p := range packages {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", filepath.FromSlash(p), "package.json")); err != nil {
			clientsMissing(t, fmt.Sprintf("npm package %s is not installed in test/clients/node_modules", p))
		}
	}
	return node, dir
}

// clientsRun is one finished client process.
type clientsRun struct {
	start, end time.Time      // just before the process started, just after it exited
	summary    map[string]any // the JSON line the script printed last
	stderr     string
}

// summaryInt returns an integer of the summary.
func (r clientsRun) summaryInt(t *testing.T, key string) int64 {
	t.Helper()
	v, ok := r.summary[key].(json.Number)
	if !ok {
		t.Fatalf("client summary %v has no number %q", r.summary, key)
	}
	n, err := v.Int64()
	if err != nil {
		t.Fatalf("client summary %q: %v", key, err)
	}
	return n
}

// clientsNode runs `node SCRIPT ARGS...` in test/clients, requires exit
// status 0 within clientsRunLimit and a JSON summary with sent == want.
func clientsNode(t *testing.T, node, dir string, want int, script string, args ...string) clientsRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientsRunLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = clientsEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	setProcAttr(cmd)
	cmd.WaitDelay = 5 * time.Second
	run := clientsRun{start: time.Now()}
	err := cmd.Run()
	run.end = time.Now()
	run.stderr = stderr.String()
	desc := fmt.Sprintf("node %s %s", script, strings.Join(args, " "))
	if err != nil {
		t.Fatalf("%s: %v (after %v)\nstdout:\n%s\nstderr:\n%s", desc, err, run.end.Sub(run.start).Round(time.Millisecond), stdout.String(), stderr.String())
	}
	t.Logf("%s: exit 0 after %v", desc, run.end.Sub(run.start).Round(time.Millisecond))
	if run.stderr != "" {
		t.Logf("%s: stderr:\n%s", desc, run.stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	d := json.NewDecoder(strings.NewReader(lines[len(lines)-1]))
	d.UseNumber()
	if err := d.Decode(&run.summary); err != nil {
		t.Fatalf("%s: last stdout line is not the JSON summary: %v\nstdout:\n%s", desc, err, stdout.String())
	}
	if sent := run.summaryInt(t, "sent"); sent != int64(want) {
		t.Fatalf("%s: sent %d lines, want %d", desc, sent, want)
	}
	return run
}

// clientsEnv is the test's environment without the OTEL_* variables, which
// would reconfigure the OpenTelemetry exporters, and with loopback exempt
// from any proxy.
func clientsEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	return append(env, "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
}

// clientsRows waits until the query `*` finds at least want rows in bucket
// and returns them; it fails if it finds more (a line stored twice).
func clientsRows(t *testing.T, s *server, bucket string, want int) []record {
	t.Helper()
	var rows []record
	eventually(t, clientsWait, func() string {
		rows = clientsQuery(t, s, bucket, "*")
		if len(rows) >= want {
			return ""
		}
		return fmt.Sprintf("bucket %s: %d rows, want %d", bucket, len(rows), want)
	})
	if len(rows) != want {
		t.Errorf("bucket %s: %d rows, want exactly %d", bucket, len(rows), want)
	}
	return rows
}

// clientsQuery runs a LogsQL query over one bucket and returns its rows.
func clientsQuery(t *testing.T, s *server, bucket, q string) []record {
	t.Helper()
	resp := s.mustDo(t, http.MethodGet, "/select/logsql/query", url.Values{"query": {q}, "bucket": {bucket}}, nil, nil)
	if resp.status == http.StatusNotFound {
		return nil // the bucket does not exist yet
	}
	if resp.status != http.StatusOK {
		t.Fatalf("query %q in bucket %s: %s", q, bucket, resp)
	}
	rows, err := parseRecords(resp.body)
	if err != nil {
		t.Fatalf("query %q in bucket %s: %v", q, bucket, err)
	}
	return rows
}

// clientsBySeq indexes rows by their line number (seq returns it, or false
// when a row has none) and requires each of 0..n-1 exactly once.
func clientsBySeq(t *testing.T, what string, rows []record, n int, seq func(record) (int, bool)) []record {
	t.Helper()
	out := make([]record, n)
	seen := make([]int, n)
	for _, r := range rows {
		i, ok := seq(r)
		if !ok || i < 0 || i >= n {
			clientsErrorf(t, "%s: row without a line number in 0..%d: %s", what, n-1, r)
			continue
		}
		seen[i]++
		out[i] = r
	}
	var missing, twice []int
	for i, c := range seen {
		switch {
		case c == 0:
			missing = append(missing, i)
		case c > 1:
			twice = append(twice, i)
		}
	}
	if len(missing) > 0 || len(twice) > 0 {
		t.Fatalf("%s: lines missing %v, stored more than once %v (of %d rows)", what, missing, twice, len(rows))
	}
	return out
}

// seqField reads the line number from a field.
func seqField(name string) func(record) (int, bool) {
	return func(r record) (int, bool) {
		v, ok := r.str(name)
		if !ok {
			return 0, false
		}
		i, err := strconv.Atoi(v)
		return i, err == nil
	}
}

// clientsErrors counts the mismatches reported per test, so that a client
// that gets every line wrong reports a few, not hundreds.
var clientsErrors = struct {
	sync.Mutex
	n map[testing.TB]int
}{n: map[testing.TB]int{}}

const clientsMaxErrors = 20

// clientsErrorf is t.Errorf for at most clientsMaxErrors mismatches per
// test; the rest are counted and reported once the test ends.
func clientsErrorf(t *testing.T, format string, args ...any) {
	t.Helper()
	clientsErrors.Lock()
	n := clientsErrors.n[t] + 1
	clientsErrors.n[t] = n
	clientsErrors.Unlock()
	switch {
	case n <= clientsMaxErrors:
		t.Errorf(format, args...)
	case n == clientsMaxErrors+1:
		t.Cleanup(func() {
			clientsErrors.Lock()
			defer clientsErrors.Unlock()
			t.Errorf("... and %d more mismatches of the same kind", clientsErrors.n[t]-clientsMaxErrors)
			delete(clientsErrors.n, t)
		})
	}
}

// clientsCheck compares the fields of r named in want ("" = must be
// absent); _time is compared as an instant (RFC 3339 in want).
func clientsCheck(t *testing.T, what string, r record, want map[string]string) {
	t.Helper()
	for k, w := range want {
		got, ok := r.str(k)
		switch {
		case k == "_time":
			clientsCheckTime(t, what, r, mustParseTime(t, w))
		case w == "":
			if ok {
				clientsErrorf(t, "%s: field %s = %q, want it absent; row %s", what, k, got, r)
			}
		case !ok || got != w:
			clientsErrorf(t, "%s: %s = %q, want %q; row %s", what, k, got, w, r)
		}
	}
}

// clientsCheckTime requires the row's _time to be the instant want.
func clientsCheckTime(t *testing.T, what string, r record, want time.Time) {
	t.Helper()
	got, err := time.Parse(time.RFC3339Nano, r.get("_time"))
	if err != nil {
		clientsErrorf(t, "%s: _time: %v; row %s", what, err, r)
		return
	}
	if !got.Equal(want) {
		clientsErrorf(t, "%s: _time %s, want %s; row %s", what, got.Format(time.RFC3339Nano), want.UTC().Format(time.RFC3339Nano), r)
	}
}

// clientsCheckTimeIn requires the row's _time within [lo, hi].
func clientsCheckTimeIn(t *testing.T, what string, r record, lo, hi time.Time) {
	t.Helper()
	got, err := time.Parse(time.RFC3339Nano, r.get("_time"))
	if err != nil {
		clientsErrorf(t, "%s: _time: %v; row %s", what, err, r)
		return
	}
	if got.Before(lo) || got.After(hi) {
		clientsErrorf(t, "%s: _time %s is not between %s and %s (when the client ran); row %s", what,
			got.Format(time.RFC3339Nano), lo.UTC().Format(time.RFC3339Nano), hi.UTC().Format(time.RFC3339Nano), r)
	}
}

func mustParseTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return ts
}

// clientsOnlyBuckets requires that the server holds exactly the buckets
// named (so that no line went to a wrong or default bucket).
func clientsOnlyBuckets(t *testing.T, s *server, want ...string) {
	t.Helper()
	var doc struct {
		Buckets []struct {
			Name    string `json:"name"`
			Records int64  `json:"records"`
		} `json:"buckets"`
	}
	s.getJSON(t, "/api/v1/buckets", nil, &doc)
	var got []string
	for _, b := range doc.Buckets {
		if b.Records > 0 {
			got = append(got, b.Name)
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("buckets holding records: %q, want %q", got, want)
	}
}
