package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/klauspost/compress/s2"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/loki"
)

// lokiRecordFactor bounds the records of one push request to this many
// times ingest.max_decompressed_bytes (and to ingest.memory_bytes): the
// labels a stream sends once are copied into each of its records, so a
// small body can expand a lot.
const lokiRecordFactor = 2

// handleLokiPush serves POST /loki/api/v1/push: JSON, or protobuf in a
// snappy block with or without Content-Encoding: snappy, each possibly in
// gzip or zstd. It answers 204 once every entry is durable; rejected
// entries get 400 rejected_entries, the others being stored.
func (s *Server) handleLokiPush(w http.ResponseWriter, r *http.Request) {
	p, perr := s.requestParams(r, s.tenantBucketOf(r))
	if perr != nil {
		s.refuse(w, p.bucket, "invalid_request", writeError, *perr)
		return
	}
	ct := r.Header.Get("Content-Type")
	switch mediaTypeOf(ct) {
	case "", "application/json", "application/x-protobuf", "application/protobuf", "application/octet-stream":
	default:
		s.refuse(w, p.bucket, "unsupported_media_type", writeError, errMediaType.with(fmt.Sprintf(
			"Content-Type %q is not a Loki push body: send application/json, or application/x-protobuf compressed with snappy", clip(ct))))
		return
	}
	c, ok := s.beginIngest(w, r, p.bucket, writeError)
	if !ok {
		return
	}
	defer c.end()
	body, enc, ok := c.readBody("snappy")
	if !ok {
		return
	}
	result, decoded, ok := c.decodeLoki(body, ct, enc, p.opts)
	if !ok {
		return
	}
	s.answerLoki(w, r.Context(), p, result, decoded)
}

// decodeLoki decodes a push body within the memory budget. It returns the
// result and the size of the decoded body.
func (c *ingestCall) decodeLoki(body []byte, ct, enc string, base ingest.Options) (*ingest.Result, int, bool) {
	maxDecoded := c.s.bodyLimits.maxDecompressed
	decoded, parse := int64(len(body)), 2*int64(len(body)) // JSON: fastjson's tree
	if mediaTypeOf(ct) != "application/json" {
		// A snappy block, which loki.Decode expands; a bad header is
		// refused there.
		if n, err := s2.DecodedLen(body); err == nil {
			if decoded, parse = int64(n), int64(n); decoded > maxDecoded {
				c.refuse("decompressed_too_large", errTooLarge.with(fmt.Sprintf(
					"the snappy body decompresses to %d bytes, more than %d (ingest.max_decompressed_bytes): send smaller batches", n, maxDecoded)))
				return nil, 0, false
			}
		}
	}
	if !c.reserve(parse) {
		return nil, 0, false
	}
	// Reserve room for the records, growing it while the decoder finds the
	// request needs more, up to the limit.
	opts := loki.Options{Options: base, MaxDecodedBytes: int(maxDecoded)}
	limit := min(lokiRecordFactor*maxDecoded, c.s.budget.limit)
	want, held := min(limit, 2*decoded+64<<10), int64(0)
	for {
		if !c.reserve(want - held) {
			return nil, 0, false
		}
		held = want
		opts.MaxRecordBytes = int(want)
		var res ingest.Result
		err := loki.Decode(body, ct, enc, opts, &res)
		switch {
		case err == nil:
			return &res, int(decoded), true
		case errors.Is(err, loki.ErrTooLarge) && want < limit:
			want = min(limit, 4*want)
		case errors.Is(err, loki.ErrTooLarge):
			c.refuse("records_too_large", errTooLarge.with(fmt.Sprintf(
				"%v (the limit is %d × ingest.max_decompressed_bytes, at most ingest.memory_bytes)", err, lokiRecordFactor)))
			return nil, 0, false
		case errors.Is(err, loki.ErrUnsupported):
			c.refuse("unsupported_encoding", errBadEncoding.with(err.Error()))
			return nil, 0, false
		default:
			c.refuse("invalid_body", errBadBody.with(err.Error()))
			return nil, 0, false
		}
	}
}

// answerLoki stores the decoded records and answers 204, or 400 listing
// the rejected entries (the others are stored, as Loki does).
func (s *Server) answerLoki(w http.ResponseWriter, ctx context.Context, p ingestParams, result *ingest.Result, bodyBytes int) {
	s.countDiscards(p.bucket, result.Discards)
	if len(result.Records) > 0 {
		if _, e := s.store(ctx, p.bucket, p.batchID, result.Records, bodyBytes); e != nil {
			writeError(w, *e)
			return
		}
	}
	if len(result.Rejections) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	acc, rej := len(result.Records), len(result.Rejections)
	e := errRejectedEntries.with(fmt.Sprintf("%d of %d entries are invalid and were not stored; the other %d are stored: do not send them again",
		rej, acc+rej, acc))
	writeErrorBody(w, e, struct {
		Error    apiError    `json:"error"`
		Accepted int         `json:"accepted"`
		Rejected int         `json:"rejected"`
		Errors   []lineError `json:"errors"`
	}{e, acc, rej, listErrors(result.Rejections)})
}
