package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClientsPinoLoki runs pino with the pino-loki transport (in pino's
// worker thread, batching on) against the real server: a Loki JSON push
// with the tenant header and structured metadata. Every line must arrive
// once in the bucket the tenant maps to (E2E.Pino-RUN → e2e-pino-RUN), with
// the pino JSON line as _msg, _time = the line's pino time, the labels as
// stream fields and the structured metadata as fields.
func TestClientsPinoLoki(t *testing.T) {
	node, dir := clientsDir(t, "pino", "pino-loki")
	s := startServer(t, t.TempDir())
	run := clientsRunID(t)
	res := clientsNode(t, node, dir, clientsLines, "pino-loki.js", s.url("", nil), run, strconv.Itoa(clientsLines))

	bucket := "e2e-pino-" + run
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	rows := clientsRows(t, s, bucket, clientsLines)
	// The pino line (the Loki line, stored as _msg as sent) carries seq.
	type pinoLine struct {
		Level     int    `json:"level"`
		Time      int64  `json:"time"`
		Msg       string `json:"msg"`
		Seq       int    `json:"seq"`
		Component string `json:"component"`
		Hostname  *string
		Order     struct {
			ID int `json:"id"`
		} `json:"order"`
		Meta struct {
			TraceID string `json:"traceId"`
		} `json:"meta"`
	}
	lines := map[string]pinoLine{}
	bySeq := clientsBySeq(t, "pino-loki", rows, clientsLines, func(r record) (int, bool) {
		var l pinoLine
		if err := json.Unmarshal([]byte(r.get("_msg")), &l); err != nil {
			return 0, false
		}
		lines[r.get("_msg")] = l
		return l.Seq, true
	})
	lokiLevel := map[string]string{"info": "info", "warn": "warning", "error": "error"}
	pinoLevel := map[string]int{"info": 30, "warn": 40, "error": 50}
	for i, r := range bySeq {
		what := fmt.Sprintf("pino-loki line %d", i)
		l := lines[r.get("_msg")]
		component := "orders"
		if i%2 == 1 {
			component = "payments"
		}
		if l.Msg != clientsMessage("pino", run, i) || l.Level != pinoLevel[clientsLevel(i)] || l.Component != component || l.Order.ID != 1000+i {
			clientsErrorf(t, "%s: _msg %q is not the pino line sent", what, r.get("_msg"))
		}
		// pino-loki moves hostname to a label.
		if l.Hostname != nil || strings.Contains(r.get("_msg"), `"hostname"`) {
			clientsErrorf(t, "%s: _msg %q still holds hostname", what, r.get("_msg"))
		}
		labels := map[string]string{"app": "e2e-pino", "run": run, "component": component, "hostname": host, "level": lokiLevel[clientsLevel(i)]}
		want := map[string]string{
			"_stream": clientsStream(labels),
			"traceId": fmt.Sprintf("trace-%s-%d", run, i), "seq": strconv.Itoa(i), // structured metadata
		}
		for k, v := range labels {
			want[k] = v
		}
		clientsCheck(t, what, r, want)
		// pino-loki sends pino's millisecond time as the entry's timestamp.
		clientsCheckTime(t, what, r, time.UnixMilli(l.Time))
		clientsCheckTimeIn(t, what, r, res.start.Truncate(time.Millisecond), res.end)
	}
	// The Korean lines are found by a word inside them.
	if got, want := queryCount(t, s, bucket, "결제"), clientsLines/10; got != want {
		t.Errorf("query 결제: %d rows, want %d", got, want)
	}
	if got := queryCount(t, s, bucket, `{app="e2e-pino",level="error"} traceId:"trace-`+run+`-9"`); got != 1 {
		t.Errorf("query by stream and structured metadata: %d rows, want 1", got)
	}
	clientsOnlyBuckets(t, s, bucket)
}

// TestClientsWinstonLoki runs winston with the winston-loki transport
// against the real server, in its default mode (a protobuf PushRequest in a
// snappy block without Content-Encoding; Date.now() timestamps; no
// structured metadata) and with json: true (Loki JSON; the log's meta as
// structured metadata). Every line must arrive once in the bucket named by
// X-Logbucket-Bucket, with winston-loki's line as _msg, _time when the line
// was logged, the labels as stream fields and, in JSON mode, the metadata as
// fields.
func TestClientsWinstonLoki(t *testing.T) {
	node, dir := clientsDir(t, "winston", "winston-loki")
	s := startServer(t, t.TempDir())
	var buckets []string
	for _, mode := range []string{"protobuf", "json"} {
		t.Run(mode, func(t *testing.T) {
			run := clientsRunID(t)
			bucket := "e2e-winston-" + run
			buckets = append(buckets, bucket)
			args := []string{s.url("", nil), run, strconv.Itoa(clientsLines)}
			app := "e2e-winston"
			if mode == "json" {
				args = append(args, "--json")
				app = "e2e-winston-json"
			}
			res := clientsNode(t, node, dir, clientsLines, "winston-loki.js", args...)

			rows := clientsRows(t, s, bucket, clientsLines)
			// winston-loki's line: the message, a space, the meta as JSON.
			bySeq := clientsBySeq(t, "winston-loki "+mode, rows, clientsLines, func(r record) (int, bool) {
				_, meta, ok := strings.Cut(r.get("_msg"), " {")
				if !ok {
					return 0, false
				}
				var m struct {
					Seq *int `json:"seq"`
				}
				if json.Unmarshal([]byte("{"+meta), &m) != nil || m.Seq == nil {
					return 0, false
				}
				return *m.Seq, true
			})
			for i, r := range bySeq {
				what := fmt.Sprintf("winston-loki %s line %d", mode, i)
				component := "orders"
				if i%2 == 1 {
					component = "payments"
				}
				labels := map[string]string{"app": app, "run": run, "component": component, "level": clientsLevel(i)}
				want := map[string]string{
					"_msg":    fmt.Sprintf(`%s {"seq":%d,"traceId":"trace-%s-%d","level":"%s"}`, clientsMessage("winston", run, i), i, run, i, clientsLevel(i)),
					"_stream": clientsStream(labels),
					"seq":     "", "traceId": "", // protobuf: winston-loki sends no structured metadata
				}
				if mode == "json" {
					want["seq"], want["traceId"] = strconv.Itoa(i), fmt.Sprintf("trace-%s-%d", run, i)
				}
				for k, v := range labels {
					want[k] = v
				}
				clientsCheck(t, what, r, want)
				// winston-loki stamps lines with Date.now() in milliseconds.
				clientsCheckTimeIn(t, what, r, res.start.Truncate(time.Millisecond), res.end)
			}
			if got, want := queryCount(t, s, bucket, "결제"), clientsLines/10; got != want {
				t.Errorf("query 결제: %d rows, want %d", got, want)
			}
		})
	}
	clientsOnlyBuckets(t, s, buckets...)
}
