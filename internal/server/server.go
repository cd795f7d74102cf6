package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/config"
)

// Options configure a Server.
type Options struct {
	Config   *config.Config
	Logger   *slog.Logger
	Registry *prometheus.Registry // metrics are registered here and served on /metrics
}

// Server is the HTTP API. It serves /healthz at once; every data route
// answers 503 not_ready until SetLog hands it a recovered commit log.
type Server struct {
	cfg         *config.Config
	logger      *slog.Logger
	registry    *prometheus.Registry
	metrics     *metrics
	budget      *memoryBudget
	bodyLimits  bodyLimits
	ingestSlots chan struct{}

	log         commitlog.Log
	health      func() error
	search      Searcher
	querySlots  chan struct{}
	ready       atomic.Bool // set once log and health are
	searchReady atomic.Bool // set once search is
}

// New builds a Server and registers its metrics.
func New(opts Options) (*Server, error) {
	cfg := opts.Config
	s := &Server{cfg: cfg, logger: opts.Logger, registry: opts.Registry,
		budget:      newMemoryBudget(int64(cfg.Ingest.MemoryBytes)),
		bodyLimits:  bodyLimits{maxRequest: int64(cfg.Ingest.MaxRequestBytes), maxDecompressed: int64(cfg.Ingest.MaxDecompressedBytes)},
		ingestSlots: make(chan struct{}, cfg.Ingest.MaxConcurrentRequests),
		querySlots:  make(chan struct{}, max(cfg.Query.MaxConcurrent, 1))}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.metrics = newMetrics(s.budget)
	if s.registry != nil {
		if err := s.metrics.register(s.registry); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// SetLog makes the server ready: data routes start answering. health
// reports whether the log can still take writes (nil when it can).
func (s *Server) SetLog(l commitlog.Log, health func() error) {
	s.log, s.health = l, health
	s.ready.Store(true)
}

// SetSearch makes the query routes answer, with srch running the queries.
func (s *Server) SetSearch(srch Searcher) {
	s.search = srch
	s.searchReady.Store(true)
}

// requireSearch answers 503 until SetSearch and, with slot, bounds
// concurrent queries (live tails are long-lived and take no slot).
func (s *Server) requireSearch(h http.HandlerFunc, slot bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.searchReady.Load() {
			writeError(w, errNotReady.with("the server is still opening its index: retry after the Retry-After delay"))
			return
		}
		if !slot {
			h(w, r)
			return
		}
		select {
		case s.querySlots <- struct{}{}:
			defer func() { <-s.querySlots }()
		default:
			writeError(w, errQueryBusy.with(fmt.Sprintf("%d queries are running (query.max_concurrent): retry after the Retry-After delay", cap(s.querySlots))))
			return
		}
		h(w, r)
	}
}

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, h http.HandlerFunc, needsLog bool) {
		if needsLog {
			h = s.requireReady(h)
		}
		mux.Handle(pattern, s.instrument(pattern, h))
	}
	route("POST /api/v1/ingest", s.handleIngest, true)
	route("POST /insert/jsonline", s.handleIngest, true)
	route("GET /api/v1/buckets", s.handleBuckets, true)
	route("GET /api/v1/buckets/{bucket}", s.handleBucket, true)
	route("GET /api/v1/buckets/{bucket}/partitions/{partition}/records", s.handleRecords, true)
	route("PUT /api/v1/buckets/{bucket}/groups/{group}/partitions/{partition}", s.handleCommit, true)
	route("GET /api/v1/buckets/{bucket}/groups/{group}", s.handleGroup, true)
	for _, prefix := range []string{"/select/logsql", "/api/v1"} {
		for _, q := range []struct {
			path string
			h    http.HandlerFunc
		}{{"/query", s.handleQuery}, {"/tail", s.handleTail}, {"/hits", s.handleHits},
			{"/stats_query", s.handleStatsQuery}, {"/stats_query_range", s.handleStatsQueryRange},
			{"/field_names", s.handleFieldNames}, {"/field_values", s.handleFieldValues},
			{"/streams", s.handleStreams}, {"/stream_field_names", s.handleStreamFieldNames},
			{"/stream_field_values", s.handleStreamFieldValues}} {
			if prefix == "/api/v1" && q.path != "/query" && q.path != "/tail" {
				continue
			}
			h := s.requireSearch(q.h, q.path != "/tail")
			route("GET "+prefix+q.path, h, false)
			route("POST "+prefix+q.path, h, false)
		}
	}
	s.receiverRoutes(func(pattern string, h http.HandlerFunc) { route(pattern, h, false) })
	route("GET /healthz", s.handleHealthz, false)
	route("GET /readyz", s.handleReadyz, false)
	if s.cfg.HTTP.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	if s.registry != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)}))
	}
	return mux
}

// requireReady answers 503 until the commit log is recovered.
func (s *Server) requireReady(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			writeError(w, errNotReady.with("the server is still recovering its commit log: retry after the Retry-After delay"))
			return
		}
		h(w, r)
	}
}

// statusRecorder remembers the status code a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument records latency and status per route.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inFlight.Inc()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			s.metrics.inFlight.Dec()
			if rec.status == 0 {
				rec.status = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Observe(time.Since(start).Seconds())
		}()
		h.ServeHTTP(rec, r)
	})
}

// handleHealthz answers 200 while the process serves HTTP.
func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 once recovery finished and the log takes writes.
func (s *Server) handleReadyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		writeError(w, errNotReady.with("recovering the commit log"))
		return
	}
	if err := s.health(); err != nil {
		writeError(w, errReadOnly.with(err.Error()))
		return
	}
	writeJSON(w, map[string]string{"status": "ready"})
}
