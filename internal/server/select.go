package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/search"
)

// Searcher runs LogsQL queries over stored records (internal/search).
type Searcher interface {
	// Search runs req and calls out with each result row. It must stop
	// when ctx ends.
	Search(ctx context.Context, req SearchRequest, out func(query.Row) error) error
}

// SearchRequest is one query over a set of buckets.
type SearchRequest = search.Request

// selectParams are the common arguments of the /select/logsql endpoints.
type selectParams struct {
	req   SearchRequest
	text  string
	limit int
	now   time.Time
}

// parseSelect reads query, start, end, limit and timeout, and the bucket.
// Arguments come from the URL or a form body (POST).
func (s *Server) parseSelect(r *http.Request, extra string) (selectParams, *apiError) {
	now := time.Now()
	p := selectParams{now: now, text: r.FormValue("query")}
	p.req.Start, p.req.End = math.MinInt64, math.MaxInt64
	if p.text == "" {
		p.text = "*"
	}
	if b := r.FormValue("bucket"); b != "" {
		p.req.Buckets = splitList(b)
	} else if b := r.Header.Get("X-Logbucket-Bucket"); b != "" {
		p.req.Buckets = splitList(b)
	}
	for _, b := range p.req.Buckets {
		if !config.ValidBucketName(b) {
			e := errBadBucket.with(fmt.Sprintf("bucket name %q is invalid", b))
			return p, &e
		}
	}
	for _, arg := range []struct {
		name string
		dst  *int64
	}{{"start", &p.req.Start}, {"end", &p.req.End}} {
		if v := r.FormValue(arg.name); v != "" {
			t, err := parseTimeArg(v, now)
			if err != nil {
				e := errBadRequest.with(fmt.Sprintf("%s: %v", arg.name, err))
				return p, &e
			}
			*arg.dst = t
		}
	}
	if v := r.FormValue("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			e := errBadRequest.with(fmt.Sprintf("limit=%q must be a non-negative number", v))
			return p, &e
		}
		p.limit = n
	}
	p.req.Limits = query.Limits{MaxMemoryBytes: int64(s.cfg.Query.MaxMemoryBytes), Timeout: time.Duration(s.cfg.Query.Timeout)}
	if v := r.FormValue("timeout"); v != "" {
		d, err := config.ParseDuration(v)
		if err != nil || d <= 0 {
			e := errBadRequest.with(fmt.Sprintf("timeout=%q is not a duration such as 10s", v))
			return p, &e
		}
		p.req.Limits.Timeout = min(time.Duration(d), p.req.Limits.Timeout)
	}
	q, err := query.Parse(p.text+extra, now)
	if err != nil {
		e := errBadQuery.with(err.Error())
		return p, &e
	}
	p.req.Query = q
	return p, nil
}

// handleQuery serves /select/logsql/query and /api/v1/query: matching
// rows as NDJSON, streamed as they are found; limit=N returns the N most
// recent.
func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) {
	extra := ""
	if v := r.FormValue("limit"); v != "" && v != "0" {
		if _, err := strconv.Atoi(v); err == nil {
			extra = " | sort by (_time desc) | limit " + v
		}
	}
	p, perr := s.parseSelect(r, extra)
	if perr != nil {
		writeError(w, *perr)
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	sw := newStreamWriter(w)
	err := s.search.Search(r.Context(), p.req, func(row query.Row) error {
		return sw.write(row.AppendJSON(sw.buf()))
	})
	s.finishStream(w, sw, err)
}

// finishStream flushes a streamed answer, or reports an error: as a JSON
// error when nothing was sent yet, else as a last NDJSON line.
func (s *Server) finishStream(w http.ResponseWriter, sw *streamWriter, err error) {
	if err == nil {
		sw.flush()
		return
	}
	if !sw.started {
		writeError(w, s.queryError(err))
		return
	}
	sw.flush()
	e := s.queryError(err)
	b := append([]byte(`{"error":{"code":"`+e.Code+`","message":`), quoteJSON(e.Message)...)
	_ = sw.write(append(b, "}}\n"...))
	sw.flush()
}

// queryError maps a query failure onto the catalogue.
func (s *Server) queryError(err error) apiError {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "query canceled"):
		return errClientGone.with(msg)
	case strings.Contains(msg, "needs more than"), strings.Contains(msg, "time limit"), strings.Contains(msg, "timed out"):
		return errQueryLimit.with(msg)
	}
	s.logger.Error("query", "err", err)
	return errInternal.with(msg)
}
