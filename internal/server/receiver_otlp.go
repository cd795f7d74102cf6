package server

import (
	"context"
	"net/http"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/otlp"
	"github.com/logbucket/logbucket/internal/model"
)

// otlpTreeFactor is the memory reserved for pdata's tree of a request,
// per body byte (about 2 for protobuf, 1.5 for JSON).
const otlpTreeFactor = 2

// recordOverhead is the memory of a record besides the bytes
// model.Record.Size counts: the struct and its fields' headers.
const recordOverhead = 128

// gRPC codes of OTLP error answers besides those package otlp names.
const (
	grpcCanceled = 1
	grpcNotFound = 5
	grpcInternal = 13
)

// handleOTLPLogs serves POST /v1/logs, /otlp/v1/logs and
// /insert/opentelemetry/v1/logs: an OTLP/HTTP logs export, protobuf or
// JSON, maybe gzip- or zstd-compressed. It answers 200 with an
// ExportLogsServiceResponse in the request's encoding once the records
// are durable (partial_success when some were rejected), and errors as
// google.rpc.Status.
func (s *Server) handleOTLPLogs(w http.ResponseWriter, r *http.Request) {
	ct := r.Header.Get("Content-Type")
	f, ferr := otlp.ParseContentType(ct)
	fail := otlpErrorWriter(f)
	p, perr := s.requestParams(r, s.tenantBucketOf(r))
	if perr != nil {
		s.refuse(w, p.bucket, "invalid_request", fail, *perr)
		return
	}
	if ferr != nil {
		s.refuse(w, p.bucket, "unsupported_media_type", fail, errMediaType.with(ferr.Error()))
		return
	}
	c, ok := s.beginIngest(w, r, p.bucket, fail)
	if !ok {
		return
	}
	defer c.end()
	body, _, ok := c.readBody("")
	if !ok || !c.reserve(otlpTreeFactor*int64(len(body))) {
		return
	}
	opts := otlp.Options{Options: p.opts, StreamAttributes: otlp.DefaultStreamAttributes()}
	if v := firstParam(r.URL.Query(), "stream_fields", "_stream_fields"); v != "" {
		opts.StreamAttributes = splitList(v)
	}
	var result ingest.Result
	if err := otlp.Decode(body, ct, opts, &result); err != nil {
		c.refuse("invalid_body", errBadBody.with(err.Error()))
		return
	}
	// Every record copies its resource's attributes: reserve what the
	// records really hold while they are appended.
	if !c.reserve(recordsBytes(result.Records)) {
		return
	}
	s.answerOTLP(w, r.Context(), p, f, &result, len(body))
}

// answerOTLP stores the decoded records and answers the export.
func (s *Server) answerOTLP(w http.ResponseWriter, ctx context.Context, p ingestParams, f otlp.Format, result *ingest.Result, bodyBytes int) {
	s.countDiscards(p.bucket, result.Discards)
	if len(result.Records) > 0 {
		if _, e := s.store(ctx, p.bucket, p.batchID, result.Records, bodyBytes); e != nil {
			otlpErrorWriter(f)(w, *e)
			return
		}
	}
	rejected, msg := otlp.PartialSuccess(result)
	body, err := otlp.EncodeResponse(f, rejected, msg)
	if err != nil {
		// The records are durable: answer success without the details
		// rather than have the client send them again.
		s.logger.Error("encode otlp response", "err", err)
		body, _ = otlp.EncodeResponse(f, 0, "")
	}
	w.Header().Set("Content-Type", f.ContentType())
	_, _ = w.Write(body)
}

// otlpErrorWriter answers errors as a google.rpc.Status in format f (JSON
// when the request's Content-Type names neither format).
func otlpErrorWriter(f otlp.Format) errorWriter {
	if f != otlp.Protobuf {
		f = otlp.JSON
	}
	return func(w http.ResponseWriter, e apiError) {
		h := w.Header()
		h.Set("Content-Type", f.ContentType())
		setErrorHeaders(h, e)
		w.WriteHeader(e.status)
		_, _ = w.Write(otlp.EncodeStatus(f, grpcCode(e.status), e.Message))
	}
}

// grpcCode is the google.rpc.Code of an error answered with HTTP status.
func grpcCode(status int) int32 {
	switch status {
	case http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
		return otlp.CodeResourceExhausted
	case http.StatusServiceUnavailable:
		return otlp.CodeUnavailable
	case http.StatusNotFound:
		return grpcNotFound
	case errClientGone.status:
		return grpcCanceled
	case http.StatusInternalServerError:
		return grpcInternal
	}
	return otlp.CodeInvalidArgument
}

// recordsBytes estimates the memory records hold.
func recordsBytes(records []model.Record) int64 {
	var n int64
	for i := range records {
		n += int64(records[i].Size()) + recordOverhead
	}
	return n
}
