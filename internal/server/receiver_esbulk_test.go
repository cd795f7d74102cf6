package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/config"
)

// bulkAnswer is the part of a _bulk response the tests read.
type bulkAnswer struct {
	Errors bool                         `json:"errors"`
	Items  []map[string]json.RawMessage `json:"items"`
}

type bulkItem struct {
	Index  string `json:"_index"`
	ID     string `json:"_id"`
	Status int    `json:"status"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// bulk sends a _bulk request and returns its decoded items, in order.
func (s *testServer) bulk(t *testing.T, method, path string, body []byte, header map[string]string) (bulkAnswer, []bulkItem) {
	t.Helper()
	if header == nil {
		header = map[string]string{"Content-Type": "application/x-ndjson"}
	}
	r := s.do(t, method, path, body, header)
	if r.status != http.StatusOK || r.header.Get("X-Elastic-Product") != "Elasticsearch" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s %s: status %d, product %q, type %q: %s", method, path, r.status, r.header.Get("X-Elastic-Product"), r.header.Get("Content-Type"), r.body)
	}
	var ans bulkAnswer
	if err := json.Unmarshal(r.body, &ans); err != nil {
		t.Fatalf("%s %s: %v: %s", method, path, err, r.body)
	}
	items := make([]bulkItem, len(ans.Items))
	for i, m := range ans.Items {
		if len(m) != 1 {
			t.Fatalf("item %d: %v", i, m)
		}
		for _, raw := range m {
			if err := json.Unmarshal(raw, &items[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return ans, items
}

// TestESBulkFixtures sends the _bulk bodies captured from the ES JS
// client, rsyslog and syslog-ng, with their Content-Types, and reads the
// records back.
func TestESBulkFixtures(t *testing.T) {
	s := newTestServer(t, nil)
	sng := nsTime(1795303507000000000) // 2026-11-21T23:25:07Z
	rsys := func(msg, facility, priority string) map[string]string {
		return map[string]string{"_time": "*", "_msg": msg, "_stream": "{}", "fromhost": "<host>", "facility": facility, "priority": priority,
			"timereported": "2026-11-21T23:26:05.794069+00:00", "timegenerated": "2026-11-21T23:26:05.794069+00:00"}
	}
	cases := []struct {
		file, ct, bucket string
		want             []map[string]string
	}{
		{"elasticsearch-js-9.4.3.bulk", "application/vnd.elasticsearch+x-ndjson; compatible-with=9", "logs-app", []map[string]string{
			{"_time": "1970-01-01T00:00:00Z", "_msg": "user login", "_stream": "{}", "user": "bob"},
			{"_time": "1970-01-01T00:00:01Z", "_msg": "user logout", "_stream": "{}", "user": "bob"},
		}},
		{"rsyslog-8.2302.bulk", "application/json; charset=utf-8", "rsyslog", []map[string]string{
			rsys(" job nightly finished in 42s", "cron", "notice"),
			rsys("order 18 ok", "local0", "info"),
			rsys("payment failed for order 17", "local0", "err"),
		}},
		{"syslog-ng-3.38.bulk", "application/x-ndjson", "syslog-ng", []map[string]string{
			{"_time": sng, "_msg": "job nightly finished in 42s", "_stream": "{}", "PROGRAM": "cron", "PRIORITY": "notice", "LEGACY_MSGHDR": "cron: ",
				"ISODATE": "2026-11-21T23:25:07+00:00", "HOST": "<host>", "FACILITY": "cron"},
			{"_time": sng, "_msg": "order 18 ok", "_stream": "{}", "_SDATA.timeQuality.tzKnown": "1", "_SDATA.timeQuality.isSynced": "0",
				"PROGRAM": "checkout", "PRIORITY": "info", "ISODATE": "2026-11-21T23:25:07+00:00", "HOST": "<host>", "FACILITY": "local0"},
			{"_time": sng, "_msg": "payment failed for order 17", "_stream": "{}", "_SDATA.timeQuality.tzKnown": "1", "_SDATA.timeQuality.isSynced": "0",
				"_SDATA.meta@32473.trace_id": "abc123", "PROGRAM": "checkout", "PRIORITY": "err", "PID": "4242",
				"ISODATE": "2026-11-21T23:25:07+00:00", "HOST": "<host>", "FACILITY": "local0"},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			ans, items := s.bulk(t, http.MethodPost, "/_bulk", fixture(t, "esbulk", c.file), map[string]string{"Content-Type": c.ct})
			if ans.Errors || len(items) != len(c.want) {
				t.Fatalf("errors %v, %d items", ans.Errors, len(items))
			}
			for i, it := range items {
				if it.Status != 201 || it.Index != c.bucket || it.Error != nil || it.ID == "" {
					t.Errorf("item %d: %+v", i, it)
				}
			}
			checkRecords(t, c.bucket, s.readBucket(t, c.bucket), c.want)
		})
	}
}

// TestESBulkIndexToBucket: the bucket of an item is its _index mapped to
// a bucket name, else the URL's index, else the request's bucket.
func TestESBulkIndexToBucket(t *testing.T) {
	s := newTestServer(t, nil)
	doc := `{"@timestamp":"2026-11-22T10:00:00Z","message":"m"}` + "\n"
	cases := []struct {
		name, method, path string
		action             string
		header             map[string]string
		bucket             string
	}{
		{"dated index", "POST", "/_bulk", `{"index":{"_index":"logs-2026.11.22"}}`, nil, "logs-2026-11-22"},
		{"filebeat data stream", "POST", "/_bulk", `{"create":{"_index":"filebeat-8.15.0"}}`, nil, "filebeat-8-15-0"},
		{"upper case", "POST", "/_bulk", `{"index":{"_index":"Fluent-Bit"}}`, nil, "fluent-bit"},
		{"hidden index", "POST", "/_bulk", `{"index":{"_index":".ds-logs"}}`, nil, "ds-logs"},
		{"_index beats the URL", "POST", "/url-index/_bulk", `{"index":{"_index":"item-index"}}`, nil, "item-index"},
		{"URL index", "POST", "/my.index/_bulk", `{"index":{}}`, nil, "my-index"},
		{"PUT with URL index", "PUT", "/web/_bulk", `{"create":{}}`, nil, "web"},
		{"PUT without index", "PUT", "/_bulk?bucket=put-q", `{"create":{}}`, nil, "put-q"},
		{"query bucket", "POST", "/_bulk?bucket=qb", `{"index":{}}`, nil, "qb"},
		{"header bucket", "POST", "/_bulk", `{"index":{}}`, map[string]string{"X-Logbucket-Bucket": "hb", "Content-Type": "application/json"}, "hb"},
		{"default bucket", "POST", "/_bulk", `{"index":{}}`, nil, "default"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s.records(t, c.bucket)
			ans, items := s.bulk(t, c.method, c.path, []byte(c.action+"\n"+doc), c.header)
			if ans.Errors || len(items) != 1 || items[0].Status != 201 {
				t.Fatalf("answer %+v %+v", ans, items)
			}
			if got := s.records(t, c.bucket) - before; got != 1 {
				t.Fatalf("bucket %s got %d records, want 1", c.bucket, got)
			}
		})
	}
}

// TestESBulkMixedItems: good and bad items in one request get their own
// statuses; indexes mapping to one bucket are stored together; a retry
// with the same batch id stores nothing again.
func TestESBulkMixedItems(t *testing.T) {
	s := newTestServer(t, nil)
	body := []byte(strings.Join([]string{
		`{"create":{"_index":"logs"}}`, `{"message":"one","@timestamp":"2026-11-22T10:00:00Z"}`,
		`{"index":{"_index":"logs"}}`, `not json`,
		`{"delete":{"_index":"logs","_id":"1"}}`,
		`{"index":{"_index":"..."}}`, `{"message":"no bucket"}`,
		`{"index":{"_index":"logs"}}`, `{"message":"bad time","@timestamp":true}`,
		`{"create":{"_index":"other","_id":"x1"}}`, `{"message":"three"}`,
		`{"index":{"_index":"Logs"}}`, `{"message":"two","@timestamp":"2026-11-22T10:00:01Z"}`,
	}, "\n") + "\n")
	want := []struct {
		status  int
		errType string
	}{{201, ""}, {400, "document_parsing_exception"}, {400, "illegal_argument_exception"}, {400, "invalid_index_name_exception"},
		{400, "document_parsing_exception"}, {201, ""}, {201, ""}}
	h := map[string]string{"Content-Type": "application/x-ndjson", "X-Logbucket-Batch-Id": "es-1"}
	for round := 0; round < 2; round++ {
		ans, items := s.bulk(t, http.MethodPost, "/_bulk", body, h)
		if !ans.Errors || len(items) != len(want) {
			t.Fatalf("round %d: errors %v, %d items", round, ans.Errors, len(items))
		}
		for i, w := range want {
			got := items[i]
			if got.Status != w.status || (w.errType == "") != (got.Error == nil) || (got.Error != nil && got.Error.Type != w.errType) {
				t.Errorf("round %d item %d: %+v, want %d %s", round, i, got, w.status, w.errType)
			}
		}
		if items[5].ID != "x1" || items[6].Index != "Logs" {
			t.Errorf("items echo their _id and _index: %+v %+v", items[5], items[6])
		}
	}
	checkRecords(t, "logs", s.readBucket(t, "logs"), []map[string]string{
		{"_time": "2026-11-22T10:00:00Z", "_msg": "one", "_stream": "{}"},
		{"_time": "2026-11-22T10:00:01Z", "_msg": "two", "_stream": "{}"},
	})
	if n := s.records(t, "other"); n != 1 {
		t.Errorf("bucket other holds %d records, want 1", n)
	}
	for _, d := range []struct{ bucket, reason string }{
		{"logs", "invalid_json"}, {"logs", "unsupported_action"}, {"logs", "invalid_time"}, {"_invalid", "invalid_index"},
	} {
		if n := s.discarded(t, d.bucket, d.reason); n != 2 {
			t.Errorf("discarded{bucket=%q,reason=%q} = %v, want 2 (one per round)", d.bucket, d.reason, n)
		}
	}
}

// TestESBulkUnknownBucket: with auto-creation off, items of an unknown
// bucket answer 404 while the others are stored.
func TestESBulkUnknownBucket(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.Ingest.AutoCreateBuckets = false })
	if err := s.log.CreateBucket(context.Background(), "known"); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"index":{"_index":"known"}}` + "\n{\"message\":\"a\"}\n" + `{"index":{"_index":"unknown"}}` + "\n{\"message\":\"b\"}\n")
	ans, items := s.bulk(t, http.MethodPost, "/_bulk", body, nil)
	if !ans.Errors || items[0].Status != 201 || items[1].Status != 404 || items[1].Error == nil || items[1].Error.Type != "index_not_found_exception" {
		t.Fatalf("answer %+v %+v", ans, items)
	}
	if s.records(t, "known") != 1 {
		t.Fatal("the known bucket's record was not stored")
	}
}

func TestESItemStatus(t *testing.T) {
	for e, want := range map[*apiError]int{&errOverloaded: 429, &errReadOnly: 503, &errShuttingDown: 503, &errBucketNotFound: 404, &errInternal: 500} {
		if got := esItemStatus(*e); got != want {
			t.Errorf("esItemStatus(%s) = %d, want %d", e.Code, got, want)
		}
	}
}

// TestESBulkErrors: requests refused as a whole answer Elasticsearch's
// error document with the catalogue code as its type.
func TestESBulkErrors(t *testing.T) {
	s := newTestServer(t, func(c *config.Config) { c.Ingest.MaxRequestBytes = 2 << 20 })
	good := []byte(`{"index":{}}` + "\n" + `{"message":"x"}` + "\n")
	tooMany := bytes.Repeat([]byte(`{"delete":{}}`+"\n"), 100_001)
	cases := []struct {
		name   string
		path   string
		body   []byte
		header map[string]string
		status int
		code   string
	}{
		{"wrong content type", "/_bulk?bucket=e", good, map[string]string{"Content-Type": "text/plain"}, 415, "unsupported_media_type"},
		{"unknown encoding", "/_bulk?bucket=e", good, map[string]string{"Content-Encoding": "br"}, 415, "unsupported_encoding"},
		{"corrupt gzip", "/_bulk?bucket=e", good, map[string]string{"Content-Encoding": "gzip"}, 400, "bad_request"},
		{"body over the limit", "/_bulk?bucket=e", bytes.Repeat(good, (2<<20)/len(good)+1), nil, 413, "payload_too_large"},
		{"too many items", "/_bulk?bucket=e", tooMany, nil, 413, "payload_too_large"},
		{"invalid bucket", "/_bulk?bucket=Bad", good, nil, 400, "invalid_bucket"},
		{"batch id too long", "/_bulk?bucket=e", good, map[string]string{"X-Logbucket-Batch-Id": strings.Repeat("b", 256)}, 400, "bad_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, c.path, c.body, c.header)
			var doc struct {
				Error struct {
					RootCause []struct{ Type, Reason string } `json:"root_cause"`
					Type      string                          `json:"type"`
					Reason    string                          `json:"reason"`
				} `json:"error"`
				Status int `json:"status"`
			}
			if err := json.Unmarshal(r.body, &doc); err != nil {
				t.Fatalf("%v: %s", err, r.body)
			}
			if r.status != c.status || doc.Status != c.status || doc.Error.Type != c.code || len(doc.Error.RootCause) != 1 || doc.Error.Reason == "" ||
				r.errorCode() != c.code || r.header.Get("X-Elastic-Product") != "Elasticsearch" {
				t.Fatalf("status %d, header code %q, product %q, body %s; want %d %s", r.status, r.errorCode(), r.header.Get("X-Elastic-Product"), r.body, c.status, c.code)
			}
			if n := s.records(t, "e"); n != 0 {
				t.Fatalf("a refused request stored %d records", n)
			}
		})
	}
	if s.discarded(t, "e", "too_many_items") != 1 || s.discarded(t, "e", "unsupported_media_type") != 1 {
		t.Error("refused requests are not counted by reason")
	}
}

// TestESProbes: the requests Elasticsearch clients send besides _bulk are
// answered so that they proceed, with X-Elastic-Product, and the ES routes
// do not shadow the others.
func TestESProbes(t *testing.T) {
	s := newTestServer(t, nil)
	host := strings.TrimPrefix(s.ts.URL, "http://")
	cases := []struct {
		method, path string
		status       int
		contains     string // in the body; "" for none
		es           bool   // an Elasticsearch answer
	}{
		{"GET", "/", 200, `"number":"8.19.0"`, true},
		{"HEAD", "/", 200, "", true},
		{"GET", "/_license", 200, `"type":"basic"`, true},
		{"GET", "/_xpack", 200, `"ilm":{"available":false`, true},
		{"GET", "/_cluster/health", 200, `"status":"green"`, true},
		{"GET", "/_nodes/http", 200, `"publish_address":"` + host + `"`, true},
		{"HEAD", "/_template/makelogs_index_template__1", 404, "", true},
		{"GET", "/_template/t", 404, "resource_not_found_exception", true},
		{"PUT", "/_template/t", 200, `{"acknowledged":true}`, true},
		{"HEAD", "/_index_template/filebeat-8.15.0", 404, "", true},
		{"GET", "/_index_template/filebeat-8.15.0", 404, "resource_not_found_exception", true},
		{"PUT", "/_index_template/filebeat-8.15.0", 200, `{"acknowledged":true}`, true},
		{"PUT", "/_component_template/c", 200, `{"acknowledged":true}`, true},
		{"GET", "/_ilm/policy/filebeat", 404, "resource_not_found_exception", true},
		{"PUT", "/_ilm/policy/filebeat", 200, `{"acknowledged":true}`, true},
		{"HEAD", "/makelogs-*", 404, "", true},
		{"GET", "/nosuch", 404, "index_not_found_exception", true},
		{"PUT", "/New.Index", 200, `"index":"New.Index"`, true},
		{"HEAD", "/new.index", 200, "", true},
		{"GET", "/NEW.INDEX", 200, `{"NEW.INDEX":{`, true},
		{"PUT", "/...", 400, "invalid_bucket", true},
		// Route conflicts: the literal routes win over /{index}.
		{"PUT", "/_template/_bulk", 200, `{"acknowledged":true}`, true},
		{"PUT", "/some/_doc", 404, "no handler found", true},
		{"GET", "/_bulk", 404, "index_not_found_exception", true},
		{"GET", "/healthz", 200, `"status":"ok"`, false},
		{"GET", "/readyz", 200, `"status":"ready"`, false},
		{"GET", "/api/v1/buckets", 200, `"buckets"`, false},
		{"GET", "/metrics", 200, "logbucket_http_requests_in_flight", false},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := s.do(t, c.method, c.path, []byte(`{"index_patterns":["x-*"]}`), nil)
			if r.status != c.status || !strings.Contains(string(r.body), c.contains) {
				t.Fatalf("status %d, want %d with %q: %s", r.status, c.status, c.contains, r.body)
			}
			if c.method == "HEAD" && len(r.body) != 0 {
				t.Errorf("HEAD answered a body: %s", r.body)
			}
			if got := r.header.Get("X-Elastic-Product") == "Elasticsearch"; got != c.es {
				t.Errorf("X-Elastic-Product present = %v, want %v", got, c.es)
			}
		})
	}
	if _, err := s.log.Bucket(context.Background(), "new-index"); err != nil {
		t.Errorf("PUT /New.Index did not create bucket new-index: %v", err)
	}
	// The other POST routes still reach their handlers.
	if r := s.post(t, "/insert/jsonline?bucket=j", strings.NewReader(`{"_msg":"x"}`), nil); r.status != 200 {
		t.Errorf("POST /insert/jsonline: %d %s", r.status, r.body)
	}
	ans, items := s.bulk(t, http.MethodPut, "/put-index/_bulk", []byte(`{"index":{}}`+"\n"+`{"message":"p"}`+"\n"), nil)
	if ans.Errors || len(items) != 1 || items[0].Index != "put-index" {
		t.Errorf("PUT /put-index/_bulk: %+v %+v", ans, items)
	}
}
