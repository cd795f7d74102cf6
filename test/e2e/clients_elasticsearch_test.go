package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestClientsElasticsearch runs the official Elasticsearch JS client's bulk
// helper (client.helpers.bulk: several _bulk requests with `create` actions,
// Content-Type application/vnd.elasticsearch+x-ndjson; compatible-with=9)
// against the real server. The index E2E-ES.RUN maps to the bucket
// e2e-es-RUN, configured with the stream fields service.name and host.name.
// Every document must arrive once with _time = its @timestamp (an RFC 3339
// string or epoch milliseconds), _msg = its message, its nested objects
// flattened into fields, and the bucket's stream fields as _stream.
func TestClientsElasticsearch(t *testing.T) {
	node, dir := clientsDir(t, "@elastic/elasticsearch")
	run := clientsRunID(t)
	bucket := "e2e-es-" + run
	cfg := filepath.Join(t.TempDir(), "logbucket.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("buckets:\n  %s:\n    stream_fields: [service.name, host.name]\n", bucket)), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, t.TempDir(), "--config", cfg)
	res := clientsNode(t, node, dir, clientsLines, "elasticsearch.js", s.url("", nil), run, strconv.Itoa(clientsLines))
	base := time.UnixMilli(res.summaryInt(t, "base_unix_ms"))

	rows := clientsRows(t, s, bucket, clientsLines)
	bySeq := clientsBySeq(t, "elasticsearch", rows, clientsLines, seqField("seq"))
	for i, r := range bySeq {
		what := fmt.Sprintf("elasticsearch document %d", i)
		host := fmt.Sprintf("e2e-host-%d", i%2)
		clientsCheck(t, what, r, map[string]string{
			"_msg":         clientsMessage("es", run, i),
			"_stream":      clientsStream(map[string]string{"service.name": "e2e-es", "host.name": host}),
			"service.name": "e2e-es",
			"host.name":    host,
			"level":        clientsLevel(i),
			"user.name":    "김철수",
			"user.id":      strconv.Itoa(1000 + i),
			"tags":         `["a","b"]`,
			"trace.id":     clientsTraceID(run, i),
			"@timestamp":   "", // it is _time
			"message":      "", // it is _msg
		})
		clientsCheckTime(t, what, r, base.Add(time.Duration(i)*time.Millisecond))
	}
	if got, want := queryCount(t, s, bucket, "결제"), clientsLines/10; got != want {
		t.Errorf("query 결제: %d rows, want %d", got, want)
	}
	if got, want := queryCount(t, s, bucket, `{host.name="e2e-host-1"}`), clientsLines/2; got != want {
		t.Errorf("query by stream host.name: %d rows, want %d", got, want)
	}
	clientsOnlyBuckets(t, s, bucket)
}
