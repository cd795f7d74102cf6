package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/logbucket/logbucket/internal/query"
)

// valueHits is one entry of a values answer.
type valueHits struct {
	Value string `json:"value"`
	Hits  int64  `json:"hits"`
}

// countValues runs a search and counts, per row, the keys keysOf yields;
// it answers {"values":[...]} sorted by hits, cut to limit=.
func (s *Server) countValues(w http.ResponseWriter, r *http.Request, keysOf func(row *query.Row, add func(string))) {
	p, perr := s.parseSelect(r, "")
	if perr != nil {
		writeError(w, *perr)
		return
	}
	counts := map[string]int64{}
	ok := s.collect(w, r, p, func(row query.Row) error {
		var err error
		keysOf(&row, func(k string) {
			if _, seen := counts[k]; !seen && len(counts) >= maxGroups {
				err = fmt.Errorf("more than %d distinct values: narrow the query", maxGroups)
				return
			}
			counts[k]++
		})
		return err
	})
	if !ok {
		return
	}
	out := make([]valueHits, 0, len(counts))
	for v, n := range counts {
		out = append(out, valueHits{v, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Hits != out[j].Hits {
			return out[i].Hits > out[j].Hits
		}
		return out[i].Value < out[j].Value
	})
	if n, err := strconv.Atoi(r.FormValue("limit")); err == nil && n > 0 && len(out) > n {
		out = out[:n]
	}
	writeJSON(w, map[string]any{"values": out})
}

// handleFieldNames serves /select/logsql/field_names.
func (s *Server) handleFieldNames(w http.ResponseWriter, r *http.Request) {
	s.countValues(w, r, func(row *query.Row, add func(string)) {
		add("_time")
		for _, f := range row.Fields {
			if f.Value != "" {
				add(f.Name)
			}
		}
	})
}

// handleFieldValues serves /select/logsql/field_values?field=F.
func (s *Server) handleFieldValues(w http.ResponseWriter, r *http.Request) {
	field := r.FormValue("field")
	if field == "" {
		writeError(w, errBadRequest.with("field= is required: name the field whose values you want"))
		return
	}
	s.countValues(w, r, func(row *query.Row, add func(string)) { add(row.Get(field)) })
}

// handleStreams serves /select/logsql/streams.
func (s *Server) handleStreams(w http.ResponseWriter, r *http.Request) {
	s.countValues(w, r, func(row *query.Row, add func(string)) { add(row.Get("_stream")) })
}

// handleStreamFieldNames serves /select/logsql/stream_field_names.
func (s *Server) handleStreamFieldNames(w http.ResponseWriter, r *http.Request) {
	s.countValues(w, r, func(row *query.Row, add func(string)) {
		for _, name := range streamFieldNames(row.Get("_stream")) {
			add(name)
		}
	})
}

// handleStreamFieldValues serves /select/logsql/stream_field_values?field=F.
func (s *Server) handleStreamFieldValues(w http.ResponseWriter, r *http.Request) {
	field := r.FormValue("field")
	if field == "" {
		writeError(w, errBadRequest.with("field= is required: name the stream field whose values you want"))
		return
	}
	s.countValues(w, r, func(row *query.Row, add func(string)) {
		for _, name := range streamFieldNames(row.Get("_stream")) {
			if name == field {
				add(row.Get(field))
			}
		}
	})
}

// streamFieldNames returns the label names of a `{a="x",b="y"}` stream.
func streamFieldNames(stream string) []string {
	var names []string
	inQuote, start := false, 1
	for i := 1; i < len(stream); i++ {
		switch c := stream[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == '=' && !inQuote:
			names = append(names, stream[start:i])
		case c == ',' && !inQuote:
			start = i + 1
		}
	}
	return names
}

// handleTail serves /select/logsql/tail and /api/v1/tail: rows matching
// the query as they arrive (checked every refresh_interval, default 1s),
// after the rows of the last start_offset (default none).
func (s *Server) handleTail(w http.ResponseWriter, r *http.Request) {
	p, perr := s.parseSelect(r, "")
	if perr != nil {
		writeError(w, *perr)
		return
	}
	for _, pipe := range p.req.Query.Pipes {
		switch pipe.(type) {
		case *query.PipeStats, *query.PipeSort, *query.PipeLimit, *query.PipeOffset, *query.PipeUniq, *query.PipeTop:
			writeError(w, errBadQuery.with("live tail cannot use stats, sort, limit, offset, uniq or top pipes"))
			return
		}
	}
	refresh := time.Second
	if v := r.FormValue("refresh_interval"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d >= 100*time.Millisecond {
			refresh = d
		}
	}
	from := p.now.UnixNano()
	if v := r.FormValue("start_offset"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			from -= int64(d)
		}
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/x-ndjson")
	sw := newStreamWriter(w)
	sw.started = true
	w.WriteHeader(http.StatusOK)
	sw.flush()
	tailer, ok := s.search.(Tailer)
	if !ok {
		return
	}
	err := tailer.Tail(r.Context(), p.req, from, refresh, func(row query.Row) error {
		if err := sw.write(row.AppendJSON(sw.buf())); err != nil {
			return err
		}
		return nil
	}, sw.flush)
	if err != nil && r.Context().Err() == nil {
		s.finishStream(w, sw, err)
	}
}

// Tailer is a Searcher that can follow new rows.
type Tailer interface {
	// Tail calls out with every row matching req whose record arrives
	// after from, until ctx ends; flush after each batch.
	Tail(ctx context.Context, req SearchRequest, from int64, refresh time.Duration, out func(query.Row) error, flush func()) error
}
