package server

import (
	"fmt"
	"io"
	"net/http"

	"github.com/logbucket/logbucket/internal/ingest/esbulk"
	"github.com/logbucket/logbucket/internal/jsonstr"
)

// maxProbeBody bounds the body of a probe (a template, a policy) read and
// thrown away so that the connection can be reused.
const maxProbeBody = 1 << 20

// esRoutes registers the _bulk routes and the answers to the requests
// Elasticsearch clients send before or besides _bulk (see package
// esbulk): enough for each to proceed to writing. Every answer, errors
// included, carries X-Elastic-Product: Elasticsearch. A GET pattern also
// serves HEAD, with no body.
func (s *Server) esRoutes(route func(pattern string, h http.HandlerFunc)) {
	es := func(pattern string, h http.HandlerFunc) {
		route(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(esbulk.ProductHeader, esbulk.ProductName)
			h(w, r)
		})
	}
	es("POST /_bulk", s.handleESBulk)
	es("PUT /_bulk", s.handleESBulk)
	es("POST /{index}/_bulk", s.handleESBulk)
	// PUT /{index}/_bulk would overlap PUT /_template/{name} at
	// /_template/_bulk with neither more specific, which ServeMux refuses.
	es("PUT /{index}/{op}", s.handleESIndexOp)

	es("GET /{$}", esAnswer(http.StatusOK, esbulk.VersionInfo("")))
	es("GET /_license", esAnswer(http.StatusOK, esbulk.License()))
	es("GET /_xpack", esAnswer(http.StatusOK, esbulk.XPack()))
	es("GET /_cluster/health", esAnswer(http.StatusOK, esbulk.ClusterHealth()))
	es("GET /_nodes/http", func(w http.ResponseWriter, r *http.Request) {
		esJSON(w, http.StatusOK, esbulk.NodesHTTP(r.Host))
	})
	// No template or policy exists, so clients install theirs, which is
	// acknowledged and ignored.
	for _, kind := range []string{"_template", "_index_template", "_component_template"} {
		es("GET /"+kind+"/{name}", esNotFound("index template matching [%s] not found"))
		es("PUT /"+kind+"/{name}", esAcknowledge)
	}
	es("GET /_ilm/policy/{name}", esNotFound("Lifecycle policy not found: %s"))
	es("PUT /_ilm/policy/{name}", esAcknowledge)
	es("GET /{index}", s.handleESIndex)
	es("PUT /{index}", s.handleESCreateIndex)
}

// esJSON writes an Elasticsearch answer.
func esJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// esAnswer answers a fixed document.
func esAnswer(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { esJSON(w, status, body) }
}

// esNotFound answers 404 resource_not_found_exception for {name}.
func esNotFound(reason string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		esJSON(w, http.StatusNotFound, esbulk.ErrorBody(http.StatusNotFound, "resource_not_found_exception",
			fmt.Sprintf(reason, clip(r.PathValue("name")))))
	}
}

// esAcknowledge acknowledges a PUT whose body it ignores.
func esAcknowledge(w http.ResponseWriter, r *http.Request) {
	drainBody(r)
	esJSON(w, http.StatusOK, esbulk.Acknowledged())
}

func drainBody(r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxProbeBody))
}

// handleESIndexOp serves PUT /{index}/{op}: _bulk, else 404.
func (s *Server) handleESIndexOp(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("op") == "_bulk" {
		s.handleESBulk(w, r)
		return
	}
	drainBody(r)
	esJSON(w, http.StatusNotFound, esbulk.ErrorBody(http.StatusNotFound, "resource_not_found_exception",
		fmt.Sprintf("no handler found for uri [%s] and method [PUT]", clip(r.URL.Path))))
}

// handleESIndex serves GET and HEAD /{index}: 200 if the bucket the index
// maps to exists, else 404, so that clients create it (PUT /{index}) or
// write to it.
func (s *Server) handleESIndex(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		writeESError(w, errNotReady.with("the server is still recovering its commit log: retry after the Retry-After delay"))
		return
	}
	index := r.PathValue("index")
	if b := bucketNameFrom(index); b != "" {
		if _, err := s.log.Bucket(r.Context(), b); err == nil {
			doc := jsonstr.Append([]byte("{"), index)
			esJSON(w, http.StatusOK, append(doc, `:{"aliases":{},"mappings":{},"settings":{}}}`...))
			return
		}
	}
	esJSON(w, http.StatusNotFound, esbulk.ErrorBody(http.StatusNotFound, esbulk.TypeIndexNotFound,
		fmt.Sprintf("no such index [%s]", clip(index))))
}

// handleESCreateIndex serves PUT /{index}: it creates the bucket the
// index maps to (when ingest.auto_create_buckets allows) and acknowledges.
func (s *Server) handleESCreateIndex(w http.ResponseWriter, r *http.Request) {
	drainBody(r)
	if !s.ready.Load() {
		writeESError(w, errNotReady.with("the server is still recovering its commit log: retry after the Retry-After delay"))
		return
	}
	index := r.PathValue("index")
	b := bucketNameFrom(index)
	if b == "" {
		writeESError(w, errBadBucket.with(fmt.Sprintf("index %q maps to no bucket name: use an index name with letters or digits", clip(index))))
		return
	}
	if _, err := s.log.Bucket(r.Context(), b); err != nil {
		if !s.cfg.Ingest.AutoCreateBuckets {
			writeESError(w, errBucketNotFound.with(fmt.Sprintf("bucket %q does not exist and ingest.auto_create_buckets is off: create it in the configuration", b)))
			return
		}
		if err := s.log.CreateBucket(r.Context(), b); err != nil {
			s.logger.Error("create bucket", "bucket", b, "err", err)
			writeESError(w, errInternal.with(fmt.Sprintf("creating bucket %q failed: %v", b, err)))
			return
		}
	}
	doc := []byte(`{"acknowledged":true,"shards_acknowledged":true,"index":`)
	esJSON(w, http.StatusOK, append(jsonstr.Append(doc, index), '}'))
}
