package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// fixture reads a request body captured from a real client, kept in the
// testdata of the decoder package pkg (internal/ingest/pkg/testdata).
func fixture(t *testing.T, pkg, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "ingest", pkg, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// do sends one request with any method.
func (s *testServer) do(t *testing.T, method, path string, body []byte, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, s.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

// readBucket reads every record of a bucket through the pull API, without
// _offset and _partition, ordered by _time then _msg.
func (s *testServer) readBucket(t *testing.T, bucket string) []map[string]string {
	t.Helper()
	var info struct {
		Partitions []struct {
			Partition int `json:"partition"`
		} `json:"partitions"`
	}
	r := s.do(t, http.MethodGet, "/api/v1/buckets/"+bucket, nil, nil)
	if r.status != http.StatusOK {
		return nil // no such bucket: nothing stored
	}
	if err := json.Unmarshal(r.body, &info); err != nil {
		t.Fatalf("bucket %s: %v: %s", bucket, err, r.body)
	}
	var out []map[string]string
	for _, p := range info.Partitions {
		r := s.do(t, http.MethodGet, fmt.Sprintf("/api/v1/buckets/%s/partitions/%d/records?offset=earliest&limit=10000", bucket, p.Partition), nil, nil)
		if r.status != http.StatusOK {
			t.Fatalf("records of %s/%d: %d %s", bucket, p.Partition, r.status, r.body)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(r.body)), "\n") {
			if line == "" {
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("record %q: %v", line, err)
			}
			m := map[string]string{}
			for k, v := range rec {
				if k != "_offset" && k != "_partition" {
					m[k] = fmt.Sprint(v)
				}
			}
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i]["_time"] != out[j]["_time"] {
			return out[i]["_time"] < out[j]["_time"]
		}
		return out[i]["_msg"] < out[j]["_msg"]
	})
	return out
}

// checkRecords compares stored records with want, field by field; a
// wanted value "*" matches any value.
func checkRecords(t *testing.T, bucket string, got, want []map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("bucket %s holds %d records, want %d: %v", bucket, len(got), len(want), got)
	}
	for i := range want {
		names := map[string]bool{}
		for k := range got[i] {
			names[k] = true
		}
		for k := range want[i] {
			names[k] = true
		}
		keys := make([]string, 0, len(names))
		for k := range names {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			g, gok := got[i][k]
			w, wok := want[i][k]
			if w == "*" && gok { // any value
				continue
			}
			if g != w || gok != wok {
				t.Errorf("bucket %s record %d (%q): field %s = %q (present %v), want %q (present %v)", bucket, i, got[i]["_msg"], k, g, gok, w, wok)
			}
		}
	}
}

// nsTime formats unix nanoseconds as the pull API does.
func nsTime(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// discarded returns logbucket_ingest_discarded_total{bucket, reason}.
func (s *testServer) discarded(t *testing.T, bucket, reason string) float64 {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "logbucket_ingest_discarded_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["bucket"] == bucket && labels["reason"] == reason {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// errorCode returns the catalogue code of an error answer (its header).
func (r reply) errorCode() string { return r.header.Get(ErrorCodeHeader) }
