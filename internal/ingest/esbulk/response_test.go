package esbulk

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\ngot:  %s\nwant: %s", name, got, want)
	}
}

// indent makes a golden file readable after checking that the answer is
// compact JSON: indenting changes only whitespace, so the golden file
// still fixes the key order and every value.
func indent(t *testing.T, compact []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, compact); err != nil || !bytes.Equal(b.Bytes(), compact) {
		t.Fatalf("not compact JSON (%v): %s", err, compact)
	}
	b.Reset()
	if err := json.Indent(&b, compact, "", " "); err != nil {
		t.Fatalf("invalid JSON %s: %v", compact, err)
	}
	return append(b.Bytes(), '\n')
}

const mixedBody = `{"create":{"_index":"logs","_id":"id-1"}}
{"@timestamp":"2026-01-02T03:04:05Z","message":"ok"}
{"index":{"_index":"logs"}}
{"message":"generated id"}
{"index":{"_index":"logs","_id":"q\"uote\u00e9"}}
{"message": broken}
{"delete":{"_index":"logs","_id":"d"}}
{"update":{"_index":"logs","_id":"u"}}
{"doc":{"message":"x"}}
{"index":{"_index":"busy","_id":"b"}}
{"message":"overloaded bucket"}
{"create":{"_index":"gone","_id":"g"}}
{"message":"read-only bucket"}
{"create":{"_index":"forgot","_id":"f"}}
{"message":"handler forgot this group"}
not an action
{"create":{}}
{"message":"no index"}
`

func mixedBatch(t *testing.T) *Batch {
	b := decodeTest(t, mixedBody, testConfig())
	for i := range b.Groups {
		g := &b.Groups[i]
		switch g.Index {
		case "logs":
			g.Stored()
		case "busy":
			g.Fail(429, "", "the commit log cannot keep up: retry")
		case "gone":
			g.Fail(503, "cluster_block_exception", "bucket \"gone\" is read-only: retry later")
		}
	}
	return b
}

func TestResponseGolden(t *testing.T) {
	b := mixedBatch(t)
	got := b.AppendResponse(nil, 3*time.Millisecond+900*time.Microsecond)
	golden(t, "response_mixed.json", indent(t, got))

	ok := decodeTest(t, "{\"create\":{\"_index\":\"logs-app\"}}\n{\"@timestamp\":\"1970-01-01T00:00:00.000Z\",\"message\":\"user login\",\"user\":\"bob\"}\n"+
		"{\"index\":{\"_index\":\"logs-app\",\"_id\":\"7\"}}\n{\"message\":\"user logout\"}\n", testConfig())
	ok.Groups[0].Stored()
	got = ok.AppendResponse([]byte("prefix:"), 0)
	if !bytes.HasPrefix(got, []byte("prefix:{")) {
		t.Errorf("AppendResponse does not append: %s", got)
	}
	golden(t, "response_ok.json", indent(t, got[len("prefix:"):]))

	golden(t, "error_too_many_items.json", indent(t, ErrorBody(413, TypeIllegalArgument, "the request has more than 100000 items: send smaller batches")))
	golden(t, "error_ilm_not_found.json", indent(t, ErrorBody(404, "resource_not_found_exception", "Lifecycle policy not found: filebeat")))
}

// TestResponseMatchesItems decodes the response with encoding/json and
// checks it against Batch.Outcome, item by item.
func TestResponseMatchesItems(t *testing.T) {
	b := mixedBatch(t)
	var resp struct {
		Errors *bool
		Took   *int64
		Items  []map[string]struct {
			Index   *string `json:"_index"`
			ID      *string `json:"_id"`
			Status  int
			Result  string
			Version int `json:"_version"`
			Error   *struct{ Type, Reason string }
		}
	}
	if err := json.Unmarshal(b.AppendResponse(nil, 5*time.Millisecond), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Errors == nil || !*resp.Errors || resp.Took == nil || *resp.Took != 5 {
		t.Errorf("errors %v took %v", resp.Errors, resp.Took)
	}
	if len(resp.Items) != len(b.Items) {
		t.Fatalf("%d items for %d", len(resp.Items), len(b.Items))
	}
	wantStatus := []int{201, 201, 400, 400, 400, 429, 503, 500, 400, 400}
	for i, m := range resp.Items {
		it := &b.Items[i]
		r, ok := m[it.Action]
		if len(m) != 1 || !ok {
			t.Errorf("item %d: keys %v, want only %q", i, m, it.Action)
			continue
		}
		status, err := b.Outcome(i)
		if r.Status != status || r.Status != wantStatus[i] || r.Index == nil || *r.Index != it.Index || r.ID == nil || *r.ID != it.ID {
			t.Errorf("item %d: %+v, want status %d (%d) index %q id %q", i, r, status, wantStatus[i], it.Index, it.ID)
		}
		switch {
		case err == nil && (r.Error != nil || r.Result != "created" || r.Version != 1):
			t.Errorf("item %d: success answered %+v", i, r)
		case err != nil && (r.Error == nil || r.Error.Type != err.Type || r.Error.Reason != err.Reason || r.Result != ""):
			t.Errorf("item %d: error %+v answered %+v", i, err, r)
		}
	}
}

func TestFailStatus(t *testing.T) {
	for _, tc := range []struct {
		status     int
		errType    string
		wantStatus int
		wantType   string
	}{
		{429, "", 429, TypeRejectedExecution},
		{503, "", 503, TypeUnavailableShards},
		{500, "", 500, TypeException},
		{404, "", 404, TypeIndexNotFound},
		{400, "", 400, TypeIllegalArgument},
		{507, "", 507, TypeException},
		{200, "", 500, TypeException},
		{0, "x", 500, "x"},
	} {
		var g Group
		g.Fail(tc.status, tc.errType, "r")
		b := &Batch{Items: []Item{{Action: ActionIndex, Group: 0, Record: 0}}, Groups: []Group{g}}
		status, err := b.Outcome(0)
		if status != tc.wantStatus || err == nil || err.Type != tc.wantType || err.Reason != "r" {
			t.Errorf("Fail(%d, %q): %d %+v", tc.status, tc.errType, status, err)
		}
	}
	// A Batch not made by Decode never claims success.
	b := &Batch{Items: []Item{{Action: ActionIndex, Group: -1, Record: -1}}}
	if status, err := b.Outcome(0); status != 500 || err == nil || !b.Errors() {
		t.Errorf("inconsistent item answered %d %v", status, err)
	}
}

func BenchmarkAppendResponse(b *testing.B) {
	body := benchBody(benchDocASCII, 1000)
	batch, err := Decode(body, benchConfig())
	if err != nil {
		b.Fatal(err)
	}
	batch.Groups[0].Stored()
	var dst []byte
	b.ReportAllocs()
	for b.Loop() {
		dst = batch.AppendResponse(dst[:0], time.Millisecond)
	}
	b.SetBytes(int64(len(dst)))
}
