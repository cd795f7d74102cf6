package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/jsonline"
)

// maxListedErrors bounds the per-line errors an ingest answer lists.
const maxListedErrors = 100

// ingestResponse is the answer to an ingest request.
type ingestResponse struct {
	Accepted   int                              `json:"accepted"`
	Rejected   int                              `json:"rejected"`
	Errors     []lineError                      `json:"errors"`
	Partitions map[string]commitlog.OffsetRange `json:"partitions"`
	Duplicate  bool                             `json:"duplicate,omitempty"`
}

type lineError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ingestParams are the per-request decoding settings, from our own query
// parameters or VictoriaLogs' (_stream_fields, _time_field, _msg_field).
type ingestParams struct {
	bucket  string
	opts    ingest.Options
	strict  bool
	batchID string
}

// parseIngestParams reads the bucket and decoding options of a request.
func (s *Server) parseIngestParams(r *http.Request) (ingestParams, *apiError) {
	q := r.URL.Query()
	p := ingestParams{bucket: s.bucketOf(r), batchID: r.Header.Get("X-Logbucket-Batch-Id")}
	if !config.ValidBucketName(p.bucket) {
		e := errBadBucket.with(fmt.Sprintf("bucket name %q is invalid: use 1-63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit", p.bucket))
		return p, &e
	}
	if len(p.batchID) > 255 {
		e := errBadRequest.with("X-Logbucket-Batch-Id is longer than 255 bytes")
		return p, &e
	}
	bcfg := s.cfg.Bucket(p.bucket)
	p.opts = ingest.DefaultOptions()
	p.opts.TimeField = s.cfg.Ingest.TimeField
	p.opts.MsgFields = s.cfg.Ingest.MsgFields
	p.opts.StreamFields = bcfg.StreamFields
	p.opts.MaxLineBytes = int(s.cfg.Ingest.MaxLineBytes)
	p.opts.MaxFields = s.cfg.Ingest.MaxFields
	p.opts.MaxFieldNameBytes = int(s.cfg.Ingest.MaxFieldNameBytes)
	p.opts.Now = time.Now().UnixNano()
	if v := firstParam(q, "stream_fields", "_stream_fields"); v != "" {
		p.opts.StreamFields = splitList(v)
	}
	if v := firstParam(q, "time_field", "_time_field"); v != "" {
		p.opts.TimeField = v
	}
	if v := firstParam(q, "msg_field", "_msg_field"); v != "" {
		p.opts.MsgFields = splitList(v)
	}
	if v := q.Get("strict"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			e := errBadRequest.with(fmt.Sprintf("strict=%q is not a boolean: use true or false", v))
			return p, &e
		}
		p.strict = b
	}
	return p, nil
}

func firstParam(q map[string][]string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(strings.Join(q[n], ",")); v != "" {
			return v
		}
	}
	return ""
}

func splitList(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// bucketOf returns the bucket a request names: ?bucket=, then the
// X-Logbucket-Bucket header, then the configured default.
func (s *Server) bucketOf(r *http.Request) string {
	if b := r.URL.Query().Get("bucket"); b != "" {
		return b
	}
	if b := r.Header.Get("X-Logbucket-Bucket"); b != "" {
		return b
	}
	return s.cfg.Ingest.DefaultBucket
}

// handleIngest serves POST /api/v1/ingest and /insert/jsonline.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	p, perr := s.parseIngestParams(r)
	if perr != nil {
		s.discard(p.bucket, "invalid_request", 1)
		writeError(w, *perr)
		return
	}
	select {
	case s.ingestSlots <- struct{}{}:
		defer func() { <-s.ingestSlots }()
	default:
		s.discard(p.bucket, "overloaded", 1)
		writeError(w, errOverloaded.with(fmt.Sprintf("%d ingest requests are in progress (ingest.max_concurrent_requests): retry after the Retry-After delay", cap(s.ingestSlots))))
		return
	}
	res := &reservation{b: s.budget}
	defer res.release()
	body, err := readBody(r, s.bodyLimits, res)
	if err != nil {
		s.answerBodyError(w, p.bucket, err)
		return
	}
	// Decoded records hold about as much again as the body.
	if !res.grow(int64(len(body)) * 2) {
		s.discard(p.bucket, "overloaded", 1)
		writeError(w, errOverloaded.with("the ingest memory budget (ingest.memory_bytes) is spent: retry after the Retry-After delay"))
		return
	}
	var result ingest.Result
	jsonline.Decode(body, p.opts, &result)
	s.answerDecoded(w, r.Context(), p, &result, len(body))
}

// answerDecoded stores decoded records and writes the ingest answer.
func (s *Server) answerDecoded(w http.ResponseWriter, ctx context.Context, p ingestParams, result *ingest.Result, bodyBytes int) {
	for reason, n := range result.Discards {
		s.discard(p.bucket, reason, n)
	}
	resp := ingestResponse{Accepted: len(result.Records), Rejected: len(result.Rejections),
		Errors: []lineError{}, Partitions: map[string]commitlog.OffsetRange{}}
	for _, rj := range result.Rejections {
		if len(resp.Errors) == maxListedErrors {
			break
		}
		reason := rj.Reason
		if rj.Detail != "" {
			reason = rj.Reason + ": " + rj.Detail
		}
		resp.Errors = append(resp.Errors, lineError{Line: rj.Line, Reason: reason})
	}
	if p.strict && len(result.Rejections) > 0 {
		s.discard(p.bucket, "strict", len(result.Records))
		writeStrictError(w, resp)
		return
	}
	if len(result.Records) > 0 {
		ar, apiErr := s.appendRecords(ctx, p, result)
		if apiErr != nil {
			writeError(w, *apiErr)
			return
		}
		for part, rng := range ar.Partitions {
			resp.Partitions[strconv.Itoa(part)] = rng
		}
		resp.Duplicate = ar.Duplicate
		s.metrics.records.WithLabelValues(p.bucket).Add(float64(len(result.Records)))
		s.metrics.bytes.WithLabelValues(p.bucket).Add(float64(bodyBytes))
	}
	writeJSON(w, resp)
}

func writeStrictError(w http.ResponseWriter, resp ingestResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	e := errStrictRejected.with(fmt.Sprintf("%d of %d lines are invalid and strict=true: nothing was stored", resp.Rejected, resp.Rejected+resp.Accepted))
	writeJSONBody(w, struct {
		Error    apiError    `json:"error"`
		Rejected int         `json:"rejected"`
		Errors   []lineError `json:"errors"`
	}{e, resp.Rejected, resp.Errors})
}

// appendRecords stores records, creating the bucket when allowed.
func (s *Server) appendRecords(ctx context.Context, p ingestParams, result *ingest.Result) (commitlog.AppendResult, *apiError) {
	req := commitlog.AppendRequest{Bucket: p.bucket, Records: result.Records, BatchID: p.batchID}
	ar, err := s.log.Append(ctx, req)
	if errors.Is(err, commitlog.ErrBucketNotFound) && s.cfg.Ingest.AutoCreateBuckets {
		if err = s.log.CreateBucket(ctx, p.bucket); err == nil {
			ar, err = s.log.Append(ctx, req)
		}
	}
	if err == nil {
		return ar, nil
	}
	n := len(result.Records)
	var e apiError
	switch {
	case errors.Is(err, commitlog.ErrBucketNotFound):
		s.discard(p.bucket, "unknown_bucket", n)
		e = errBucketNotFound.with(fmt.Sprintf("bucket %q does not exist and ingest.auto_create_buckets is off: create it in the configuration", p.bucket))
	case errors.Is(err, commitlog.ErrOverloaded):
		s.discard(p.bucket, "overloaded", n)
		e = errOverloaded.with("the commit log cannot keep up: retry after the Retry-After delay")
	case errors.Is(err, commitlog.ErrReadOnly):
		s.discard(p.bucket, "read_only", n)
		e = errReadOnly.with(err.Error())
	case errors.Is(err, commitlog.ErrClosed):
		s.discard(p.bucket, "shutting_down", n)
		e = errShuttingDown.with("the server is shutting down: retry against the restarted server")
	case ctx.Err() != nil:
		s.discard(p.bucket, "client_gone", n)
		e = errClientGone.with("the client closed the request before the records were durable; they may or may not be stored: retry with the same X-Logbucket-Batch-Id")
	default:
		s.discard(p.bucket, "internal", n)
		s.logger.Error("append", "bucket", p.bucket, "err", err)
		e = errInternal.with("storing the records failed; they may or may not be stored: retry with the same X-Logbucket-Batch-Id")
	}
	return commitlog.AppendResult{}, &e
}

// answerBodyError answers a request whose body could not be read.
func (s *Server) answerBodyError(w http.ResponseWriter, bucket string, err error) {
	var be *bodyError
	if errors.As(err, &be) {
		s.discard(bucket, be.reason, 1)
		writeError(w, be.api)
		return
	}
	s.discard(bucket, "read_error", 1)
	writeError(w, errBadRequest.with(fmt.Sprintf("reading the request body failed: %v", err)))
}

// discard counts n discarded items of a bucket by reason.
func (s *Server) discard(bucket, reason string, n int) {
	if n <= 0 {
		return
	}
	if !config.ValidBucketName(bucket) {
		bucket = "_invalid"
	}
	s.metrics.discarded.WithLabelValues(bucket, reason).Add(float64(n))
}
