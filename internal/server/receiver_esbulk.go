package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/esbulk"
)

// esItemBytes is the memory reserved per possible item of a _bulk body
// (at most one per line): its esbulk.Item and its part of the response.
const esItemBytes = 320

// handleESBulk serves POST|PUT /_bulk and /{index}/_bulk. Each item's
// index (its _index, else the URL's {index}, else the bucket the request
// names) is mapped to a bucket by bucketNameFrom; each bucket's records
// are appended at once, and the items answered as Elasticsearch does:
// 200 with a status per item, 201 once durable.
func (s *Server) handleESBulk(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	p, perr := s.requestParams(r, s.bucketOf(r))
	if perr != nil {
		s.refuse(w, p.bucket, "invalid_request", writeESError, *perr)
		return
	}
	switch ct := r.Header.Get("Content-Type"); mediaTypeOf(ct) {
	case "", "application/x-ndjson", "application/json", "application/vnd.elasticsearch+x-ndjson", "application/vnd.elasticsearch+json":
	default:
		s.refuse(w, p.bucket, "unsupported_media_type", writeESError, errMediaType.with(fmt.Sprintf(
			"Content-Type %q is not a _bulk body: send application/x-ndjson or application/json", clip(ct))))
		return
	}
	c, ok := s.beginIngest(w, r, p.bucket, writeESError)
	if !ok {
		return
	}
	defer c.end()
	body, _, ok := c.readBody("")
	if !ok {
		return
	}
	items := min(bytes.Count(body, []byte{'\n'})+1, esbulk.DefaultMaxItems)
	if !c.reserve(2*int64(len(body)) + int64(items)*esItemBytes) {
		return
	}
	cfg := esbulk.Config{OptionsFor: s.esOptionsFor(p.opts.Now), TimeField: esbulk.DefaultTimeField,
		DefaultIndex: r.PathValue("index"), MaxItems: esbulk.DefaultMaxItems}
	if cfg.DefaultIndex == "" {
		cfg.DefaultIndex = p.bucket
	}
	batch, err := esbulk.Decode(body, cfg)
	if err != nil { // esbulk.ErrTooManyItems
		c.refuse("too_many_items", errTooLarge.with(err.Error()+": split the request"))
		return
	}
	s.storeESBatch(r.Context(), p.batchID, batch, len(body))
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(batch.AppendResponse(nil, time.Since(start)))
}

// esOptionsFor returns the decoding options of the records of an index:
// those of the bucket it maps to, adapted to Elasticsearch documents.
func (s *Server) esOptionsFor(now int64) func(index string) ingest.Options {
	return func(index string) ingest.Options {
		return esbulk.Options(s.bucketOptions(bucketNameFrom(index), now))
	}
}

// storeESBatch counts the discards of a decoded batch, appends the
// records of each bucket its indexes map to (the groups of indexes that
// map to one bucket in one append) and sets every group's outcome.
// bodyBytes is shared among the buckets by their records.
func (s *Server) storeESBatch(ctx context.Context, batchID string, batch *esbulk.Batch, bodyBytes int) {
	s.countDiscards("", batch.Unrouted.Discards) // counted under _invalid
	groupsOf := map[string][]int{}
	var buckets []string // in order of first appearance
	total := 0
	for i := range batch.Groups {
		g := &batch.Groups[i]
		b := bucketNameFrom(g.Index)
		if b == "" {
			s.countDiscards("", g.Result.Discards)
			s.discard("", "invalid_index", len(g.Result.Records))
			g.Fail(http.StatusBadRequest, esbulk.TypeInvalidIndexName, fmt.Sprintf(
				"index %q maps to no bucket name (1-63 of a-z, 0-9, '_' and '-', starting with a letter or digit): use an index name with letters or digits", clip(g.Index)))
			continue
		}
		s.countDiscards(b, g.Result.Discards)
		if len(g.Result.Records) == 0 {
			continue
		}
		if _, ok := groupsOf[b]; !ok {
			buckets = append(buckets, b)
		}
		groupsOf[b] = append(groupsOf[b], i)
		total += len(g.Result.Records)
	}
	for _, b := range buckets {
		s.storeESGroups(ctx, b, batchID, batch, groupsOf[b], bodyBytes, total)
	}
}

// storeESGroups appends the records of the groups that map to bucket and
// sets their outcome.
func (s *Server) storeESGroups(ctx context.Context, bucket, batchID string, batch *esbulk.Batch, groups []int, bodyBytes, total int) {
	records := batch.Groups[groups[0]].Result.Records
	if len(groups) > 1 {
		records = nil
		for _, i := range groups {
			records = append(records, batch.Groups[i].Result.Records...)
		}
	}
	share := int(int64(bodyBytes) * int64(len(records)) / int64(total))
	_, e := s.store(ctx, bucket, batchID, records, share)
	for _, i := range groups {
		if e == nil {
			batch.Groups[i].Stored()
		} else {
			batch.Groups[i].Fail(esItemStatus(*e), "", e.Message)
		}
	}
}

// esItemStatus is the item status of a failed append: 429 for an
// overloaded log, which every client retries, else the error's status
// (503 read-only or shutting down: retried; 404 unknown bucket: dropped).
func esItemStatus(e apiError) int {
	if e.Code == errOverloaded.Code {
		return http.StatusTooManyRequests
	}
	return e.status
}

// writeESError answers a refused request with Elasticsearch's error
// document, whose type is the catalogue code.
func writeESError(w http.ResponseWriter, e apiError) {
	h := w.Header()
	h.Set(esbulk.ProductHeader, esbulk.ProductName)
	h.Set("Content-Type", "application/json")
	setErrorHeaders(h, e)
	w.WriteHeader(e.status)
	_, _ = w.Write(esbulk.ErrorBody(e.status, e.Code, e.Message))
}
