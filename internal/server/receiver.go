package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/model"
)

// The receivers (our NDJSON API, Loki push, Elasticsearch _bulk, OTLP)
// share one path: admit the request (ready log, free ingest slot), read
// the body within the limits and the memory budget, decode, append each
// bucket's records to the commit log and answer only once they are
// durable. Only the decoding and the shape of the answers differ; an
// errorWriter gives the protocol's error answer.

// errorWriter answers a refused request in its protocol's format. Every
// writer sets the headers of setErrorHeaders.
type errorWriter func(w http.ResponseWriter, e apiError)

// Headers naming the bucket and the batch of an ingest request.
const (
	bucketHeader  = "X-Logbucket-Bucket"
	batchIDHeader = "X-Logbucket-Batch-Id"
	// tenantHeader is Loki's tenant header, also sent by OTLP clients
	// that write to Loki.
	tenantHeader = "X-Scope-OrgID"
)

// receiverRoutes registers the routes of the Loki, Elasticsearch and
// OTLP receivers. Each handler checks that the log is ready itself, so
// that even that answer has the protocol's shape.
func (s *Server) receiverRoutes(route func(pattern string, h http.HandlerFunc)) {
	route("POST /loki/api/v1/push", s.handleLokiPush)
	for _, p := range []string{"/v1/logs", "/otlp/v1/logs", "/insert/opentelemetry/v1/logs"} {
		route("POST "+p, s.handleOTLPLogs)
	}
	s.esRoutes(route)
}

// ingestCall is an admitted ingest request. It holds an ingest slot and a
// memory reservation until end. Its methods that can refuse the request
// answer it with fail, count the discard under bucket, and return false.
type ingestCall struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	bucket string // the bucket refusals are counted under
	fail   errorWriter
	res    *reservation
}

// beginIngest admits a request: the log must be recovered and an ingest
// slot free, else it answers 503 and returns false. Call end once the
// answer is written.
func (s *Server) beginIngest(w http.ResponseWriter, r *http.Request, bucket string, fail errorWriter) (*ingestCall, bool) {
	if !s.ready.Load() {
		fail(w, errNotReady.with("the server is still recovering its commit log: retry after the Retry-After delay"))
		return nil, false
	}
	select {
	case s.ingestSlots <- struct{}{}:
	default:
		s.refuse(w, bucket, "overloaded", fail, errOverloaded.with(fmt.Sprintf(
			"%d ingest requests are in progress (ingest.max_concurrent_requests): retry after the Retry-After delay", cap(s.ingestSlots))))
		return nil, false
	}
	return &ingestCall{s: s, w: w, r: r, bucket: bucket, fail: fail, res: &reservation{b: s.budget}}, true
}

// end releases the memory and the slot.
func (c *ingestCall) end() {
	c.res.release()
	<-c.s.ingestSlots
}

// refuse counts one discarded request of bucket under reason and answers e.
func (s *Server) refuse(w http.ResponseWriter, bucket, reason string, fail errorWriter, e apiError) {
	s.discard(bucket, reason, 1)
	fail(w, e)
}

func (c *ingestCall) refuse(reason string, e apiError) {
	c.s.refuse(c.w, c.bucket, reason, c.fail, e)
}

// readBody reads the body within the limits and the budget, undoing gzip
// and zstd, and leaving keep to the decoder (see readBodyKeeping).
func (c *ingestCall) readBody(keep string) (body []byte, enc string, ok bool) {
	body, enc, err := readBodyKeeping(c.r, c.s.bodyLimits, c.res, keep)
	if err == nil {
		return body, enc, true
	}
	var be *bodyError
	if errors.As(err, &be) {
		c.refuse(be.reason, be.api)
	} else {
		c.refuse("read_error", errBadRequest.with(fmt.Sprintf("reading the request body failed: %v", err)))
	}
	return nil, "", false
}

// reserve grows the request's memory reservation by n bytes, or answers
// 503 when the budget is spent.
func (c *ingestCall) reserve(n int64) bool {
	if n <= 0 || c.res.grow(n) {
		return true
	}
	c.refuse("overloaded", errOverloaded.with("the ingest memory budget (ingest.memory_bytes) is spent: retry after the Retry-After delay"))
	return false
}

// store appends records to bucket (see appendRecords) and, once they are
// durable, counts them and bodyBytes in the ingest metrics.
func (s *Server) store(ctx context.Context, bucket, batchID string, records []model.Record, bodyBytes int) (commitlog.AppendResult, *apiError) {
	ar, e := s.appendRecords(ctx, bucket, batchID, records)
	if e == nil {
		s.metrics.records.WithLabelValues(bucket).Add(float64(len(records)))
		s.metrics.bytes.WithLabelValues(bucket).Add(float64(bodyBytes))
	}
	return ar, e
}

// countDiscards adds a decoder's discard counts to the metrics of bucket.
func (s *Server) countDiscards(bucket string, discards map[string]int) {
	for reason, n := range discards {
		s.discard(bucket, reason, n)
	}
}

// tenantBucketOf returns the bucket of a Loki or OTLP request: ?bucket=,
// then X-Logbucket-Bucket (both as given), then Loki's X-Scope-OrgID
// tenant mapped by bucketNameFrom, then the configured default.
func (s *Server) tenantBucketOf(r *http.Request) string {
	if r.URL.Query().Get("bucket") != "" || r.Header.Get(bucketHeader) != "" {
		return s.bucketOf(r)
	}
	if t := r.Header.Get(tenantHeader); t != "" {
		if b := bucketNameFrom(t); b != "" {
			return b
		}
		return t // invalid: refused with its name in the message
	}
	return s.cfg.Ingest.DefaultBucket
}

// mediaTypeOf returns the lower-case media type of a Content-Type value,
// without its parameters.
func mediaTypeOf(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// clip shortens a client-supplied value quoted in an error message.
func clip(s string) string {
	const most = 100
	if len(s) > most {
		s = s[:most] + "..."
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
