package e2e

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// TestClientsOTel runs the OpenTelemetry JS logs SDK (sdk-logs with a
// BatchLogRecordProcessor) with its OTLP/HTTP exporters against the real
// server: JSON to /v1/logs with a tenant header, and protobuf to
// /otlp/v1/logs with X-Logbucket-Bucket. Every record must arrive once with
// _time = its nanosecond timestamp, _msg = its body (the `message` key of a
// map body), the resource's service.name, service.namespace and
// deployment.environment as stream fields, and its other resource
// attributes, scope, attributes, severity, trace and span ids, flags and
// event name as fields.
func TestClientsOTel(t *testing.T) {
	node, dir := clientsDir(t, "@opentelemetry/sdk-logs", "@opentelemetry/exporter-logs-otlp-http", "@opentelemetry/exporter-logs-otlp-proto")
	s := startServer(t, t.TempDir())
	var buckets []string
	for _, mode := range []string{"json", "protobuf"} {
		t.Run(mode, func(t *testing.T) {
			run := clientsRunID(t)
			client, args := "otel", []string{s.url("", nil), run, strconv.Itoa(clientsLines)}
			if mode == "protobuf" {
				client, args = "otelproto", append(args, "--proto")
			}
			// JSON: the tenant E2E.OTel-RUN maps to e2e-otel-RUN; protobuf:
			// X-Logbucket-Bucket e2e-otelproto-RUN.
			bucket := "e2e-" + client + "-" + run
			buckets = append(buckets, bucket)
			res := clientsNode(t, node, dir, clientsLines, "otel.js", args...)
			base := time.Unix(res.summaryInt(t, "base_unix_sec"), 0)

			rows := clientsRows(t, s, bucket, clientsLines)
			bySeq := clientsBySeq(t, "otel "+mode, rows, clientsLines, seqField("seq"))
			service := "e2e-" + client + "-" + run
			for i, r := range bySeq {
				what := fmt.Sprintf("otel %s record %d", mode, i)
				lvl := clientsLevel(i)
				want := map[string]string{
					"_msg":                   clientsMessage(client, run, i),
					"_stream":                clientsStream(map[string]string{"service.name": service, "service.namespace": "e2e", "deployment.environment": "test"}),
					"service.name":           service,
					"service.namespace":      "e2e",
					"deployment.environment": "test",
					"service.version":        "1.2.3",
					"scope.name":             "e2e-scope",
					"scope.version":          "0.1.0",
					"order.id":               strconv.Itoa(1000 + i),
					"user.name":              "김철수",
					"retry":                  strconv.FormatBool(i%2 == 1),
					"ratio":                  strconv.FormatFloat(float64(i)/4, 'f', -1, 64),
					"tags":                   `["a","b"]`,
					"severity_number":        map[string]string{"info": "9", "warn": "13", "error": "17"}[lvl],
					"trace_id":               clientsTraceID(run, i),
					"span_id":                clientsSpanID(run, i),
					"flags":                  "1",
					"event_name":             "",
					"structured":             "",
					"score":                  "",
				}
				// Errors are sent with a severity number only: the level
				// comes from it.
				if lvl == "error" {
					want["level"] = "error"
				} else {
					want["level"] = map[string]string{"info": "INFO", "warn": "WARN"}[lvl]
				}
				if i%10 == 0 {
					want["event_name"] = "e2e.tick"
				}
				if i%10 == 7 { // a map body: flattened, its message key is _msg
					want["structured"], want["score"] = "true", "1.5"
				}
				clientsCheck(t, what, r, want)
				clientsCheckTime(t, what, r, base.Add(time.Duration(i)*1000001))
			}
			if got, want := queryCount(t, s, bucket, "결제"), clientsLines/10; got != want {
				t.Errorf("query 결제: %d rows, want %d", got, want)
			}
			if got := queryCount(t, s, bucket, fmt.Sprintf(`{service.name=%q} trace_id:%s`, service, clientsTraceID(run, 17))); got != 1 {
				t.Errorf("query by stream and trace_id: %d rows, want 1", got)
			}
		})
	}
	clientsOnlyBuckets(t, s, buckets...)
}
