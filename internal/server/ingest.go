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
	"github.com/logbucket/logbucket/internal/model"
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

// requestParams checks a request's bucket and batch id and returns the
// configured decoding options of that bucket.
func (s *Server) requestParams(r *http.Request, bucket string) (ingestParams, *apiError) {
	p := ingestParams{bucket: bucket, batchID: r.Header.Get(batchIDHeader)}
	if !config.ValidBucketName(p.bucket) {
		e := errBadBucket.with(fmt.Sprintf("bucket name %q is invalid: use 1-63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit", p.bucket))
		return p, &e
	}
	if len(p.batchID) > 255 {
		e := errBadRequest.with("X-Logbucket-Batch-Id is longer than 255 bytes")
		return p, &e
	}
	p.opts = s.bucketOptions(p.bucket, time.Now().UnixNano())
	return p, nil
}

// bucketOptions returns the configured decoding options of bucket.
func (s *Server) bucketOptions(bucket string, now int64) ingest.Options {
	opts := ingest.DefaultOptions()
	opts.TimeField = s.cfg.Ingest.TimeField
	opts.MsgFields = s.cfg.Ingest.MsgFields
	opts.StreamFields = s.cfg.Bucket(bucket).StreamFields
	opts.MaxLineBytes = int(s.cfg.Ingest.MaxLineBytes)
	opts.MaxFields = s.cfg.Ingest.MaxFields
	opts.MaxFieldNameBytes = int(s.cfg.Ingest.MaxFieldNameBytes)
	opts.Now = now
	return opts
}

// parseIngestParams reads the bucket and decoding options of a request.
func (s *Server) parseIngestParams(r *http.Request) (ingestParams, *apiError) {
	p, perr := s.requestParams(r, s.bucketOf(r))
	if perr != nil {
		return p, perr
	}
	q := r.URL.Query()
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
	if b := r.Header.Get(bucketHeader); b != "" {
		return b
	}
	return s.cfg.Ingest.DefaultBucket
}

// handleIngest serves POST /api/v1/ingest and /insert/jsonline.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	p, perr := s.parseIngestParams(r)
	if perr != nil {
		s.refuse(w, p.bucket, "invalid_request", writeError, *perr)
		return
	}
	c, ok := s.beginIngest(w, r, p.bucket, writeError)
	if !ok {
		return
	}
	defer c.end()
	body, _, ok := c.readBody("")
	// Decoded records hold about as much again as the body.
	if !ok || !c.reserve(int64(len(body))*2) {
		return
	}
	var result ingest.Result
	jsonline.Decode(body, p.opts, &result)
	s.answerDecoded(w, r.Context(), p, &result, len(body))
}

// answerDecoded stores decoded records and writes the ingest answer.
func (s *Server) answerDecoded(w http.ResponseWriter, ctx context.Context, p ingestParams, result *ingest.Result, bodyBytes int) {
	s.countDiscards(p.bucket, result.Discards)
	resp := ingestResponse{Accepted: len(result.Records), Rejected: len(result.Rejections),
		Errors: listErrors(result.Rejections), Partitions: map[string]commitlog.OffsetRange{}}
	if p.strict && len(result.Rejections) > 0 {
		s.discard(p.bucket, "strict", len(result.Records))
		writeStrictError(w, resp)
		return
	}
	if len(result.Records) > 0 {
		ar, apiErr := s.store(ctx, p.bucket, p.batchID, result.Records, bodyBytes)
		if apiErr != nil {
			writeError(w, *apiErr)
			return
		}
		for part, rng := range ar.Partitions {
			resp.Partitions[strconv.Itoa(part)] = rng
		}
		resp.Duplicate = ar.Duplicate
	}
	writeJSON(w, resp)
}

// listErrors lists the first maxListedErrors rejections of a request.
func listErrors(rejections []ingest.Rejection) []lineError {
	out := make([]lineError, 0, min(len(rejections), maxListedErrors))
	for _, rj := range rejections[:min(len(rejections), maxListedErrors)] {
		reason := rj.Reason
		if rj.Detail != "" {
			reason = rj.Reason + ": " + rj.Detail
		}
		out = append(out, lineError{Line: rj.Line, Reason: reason})
	}
	return out
}

func writeStrictError(w http.ResponseWriter, resp ingestResponse) {
	e := errStrictRejected.with(fmt.Sprintf("%d of %d lines are invalid and strict=true: nothing was stored", resp.Rejected, resp.Rejected+resp.Accepted))
	writeErrorBody(w, e, struct {
		Error    apiError    `json:"error"`
		Rejected int         `json:"rejected"`
		Errors   []lineError `json:"errors"`
	}{e, resp.Rejected, resp.Errors})
}

// appendRecords stores the records of bucket, creating the bucket when
// allowed; the failures are counted as discards and returned as the
// catalogue error to answer.
func (s *Server) appendRecords(ctx context.Context, bucket, batchID string, records []model.Record) (commitlog.AppendResult, *apiError) {
	req := commitlog.AppendRequest{Bucket: bucket, Records: records, BatchID: batchID}
	ar, err := s.log.Append(ctx, req)
	if errors.Is(err, commitlog.ErrBucketNotFound) && s.cfg.Ingest.AutoCreateBuckets {
		if err = s.log.CreateBucket(ctx, bucket); err == nil {
			ar, err = s.log.Append(ctx, req)
		}
	}
	if err == nil {
		return ar, nil
	}
	return commitlog.AppendResult{}, s.appendError(ctx, bucket, len(records), err)
}

// appendError counts the n records of a failed append of bucket as
// discarded and returns the error to answer.
func (s *Server) appendError(ctx context.Context, bucket string, n int, err error) *apiError {
	var e apiError
	switch {
	case errors.Is(err, commitlog.ErrBucketNotFound):
		s.discard(bucket, "unknown_bucket", n)
		e = errBucketNotFound.with(fmt.Sprintf("bucket %q does not exist and ingest.auto_create_buckets is off: create it in the configuration", bucket))
	case errors.Is(err, commitlog.ErrOverloaded):
		s.discard(bucket, "overloaded", n)
		e = errOverloaded.with("the commit log cannot keep up: retry after the Retry-After delay")
	case errors.Is(err, commitlog.ErrReadOnly):
		s.discard(bucket, "read_only", n)
		e = errReadOnly.with(err.Error())
	case errors.Is(err, commitlog.ErrClosed):
		s.discard(bucket, "shutting_down", n)
		e = errShuttingDown.with("the server is shutting down: retry against the restarted server")
	case ctx.Err() != nil:
		s.discard(bucket, "client_gone", n)
		e = errClientGone.with("the client closed the request before the records were durable; they may or may not be stored: retry with the same X-Logbucket-Batch-Id")
	default:
		s.discard(bucket, "internal", n)
		s.logger.Error("append", "bucket", bucket, "err", err)
		e = errInternal.with("storing the records failed; they may or may not be stored: retry with the same X-Logbucket-Batch-Id")
	}
	return &e
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
