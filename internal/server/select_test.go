package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/query"
)

// naiveSearcher answers with the reference evaluator over fixed rows.
type naiveSearcher struct{ rows []query.Row }

func (n naiveSearcher) Search(ctx context.Context, req SearchRequest, out func(query.Row) error) error {
	q := req.Query
	if req.Start != -1<<63 || req.End != 1<<63-1 {
		c := *q
		c.Filter = &query.FilterAnd{Filters: []query.Filter{query.NewFilterTime(req.Start, req.End), q.Filter}}
		q = &c
	}
	return query.RunNaive(ctx, q, n.rows, req.Limits, out)
}

var day0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func selectServer(t *testing.T) *httptest.Server {
	t.Helper()
	cfg := config.Default()
	s, err := New(Options{Config: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	var rows []query.Row
	for i := 0; i < 12; i++ {
		level := []string{"info", "error", "warn"}[i%3]
		rec := model.Record{Time: day0.Add(time.Duration(i) * 10 * time.Minute).UnixNano(),
			Msg:    []string{"결제가 완료", "payment timeout", "user login"}[i%3],
			Stream: []model.Field{{Name: "service", Value: []string{"pay", "game"}[i%2]}},
			Fields: []model.Field{{Name: "level", Value: level}}}
		rows = append(rows, query.RowFromRecord(&rec))
	}
	s.SetSearch(naiveSearcher{rows})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, ts *httptest.Server, path string, args url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(ts.URL+path, args)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSelectQueryStreamsNDJSON(t *testing.T) {
	ts := selectServer(t)
	code, body := get(t, ts, "/select/logsql/query", url.Values{"query": {"결제"}})
	lines := strings.Split(strings.TrimSpace(body), "\n")
	if code != 200 || len(lines) != 4 || !strings.Contains(lines[0], `"_msg":"결제가 완료"`) {
		t.Fatalf("%d %s", code, body)
	}
	// limit=N: the N most recent rows, newest first.
	_, body = get(t, ts, "/select/logsql/query", url.Values{"query": {"*"}, "limit": {"2"}})
	lines = strings.Split(strings.TrimSpace(body), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "01:50:00Z") || !strings.Contains(lines[1], "01:40:00Z") {
		t.Fatalf("limit=2 gave %s", body)
	}
	// start/end bound _time.
	_, body = get(t, ts, "/select/logsql/query", url.Values{"query": {"*"}, "start": {"2026-01-01T01:00:00Z"}, "end": {"2026-01-01T01:15:00Z"}})
	if n := len(strings.Split(strings.TrimSpace(body), "\n")); n != 2 {
		t.Fatalf("start/end gave %d rows: %s", n, body)
	}
	code, body = get(t, ts, "/api/v1/query", url.Values{"query": {`"unbalanced`}})
	if code != 400 || !strings.Contains(body, "invalid_query") {
		t.Fatalf("bad query: %d %s", code, body)
	}
}

func TestSelectHits(t *testing.T) {
	ts := selectServer(t)
	_, body := get(t, ts, "/select/logsql/hits", url.Values{"query": {"*"}, "step": {"1h"}, "field": {"level"}})
	var ans struct {
		Hits []struct {
			Fields     map[string]string
			Timestamps []string
			Values     []int64
			Total      int64
		}
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil || len(ans.Hits) != 3 {
		t.Fatalf("%v %s", err, body)
	}
	for _, h := range ans.Hits {
		if h.Total != 4 || len(h.Timestamps) != 2 || h.Timestamps[0] != "2026-01-01T00:00:00Z" || h.Values[0]+h.Values[1] != 4 {
			t.Fatalf("series %+v", h)
		}
	}
}

func TestSelectStatsQueries(t *testing.T) {
	ts := selectServer(t)
	_, body := get(t, ts, "/select/logsql/stats_query", url.Values{"query": {"* | stats by (level) count() n"}, "time": {"2026-01-02T00:00:00Z"}})
	if !strings.Contains(body, `"resultType":"vector"`) || !strings.Contains(body, `"__name__":"n"`) || !strings.Contains(body, `"level":"error"`) || !strings.Contains(body, `[1767312000,"4"]`) {
		t.Fatalf("stats_query: %s", body)
	}
	_, body = get(t, ts, "/select/logsql/stats_query_range", url.Values{"query": {"* | stats by (level) count() n"}, "step": {"1h"}})
	var ans struct {
		Data struct {
			ResultType string
			Result     []struct {
				Metric map[string]string
				Values [][]any
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil || ans.Data.ResultType != "matrix" || len(ans.Data.Result) != 3 {
		t.Fatalf("%v %s", err, body)
	}
	for _, r := range ans.Data.Result {
		if len(r.Values) != 2 || r.Metric["__name__"] != "n" || r.Values[0][0].(float64) != float64(day0.Unix()) {
			t.Fatalf("series %+v", r)
		}
	}
	code, body := get(t, ts, "/select/logsql/stats_query", url.Values{"query": {"*"}})
	if code != 400 {
		t.Fatalf("stats_query without stats: %d %s", code, body)
	}
}

func TestSelectValues(t *testing.T) {
	ts := selectServer(t)
	for _, c := range []struct{ path, field, want string }{
		{"/select/logsql/field_names", "", `{"value":"_msg","hits":12}`},
		{"/select/logsql/field_values", "level", `{"value":"error","hits":4}`},
		{"/select/logsql/streams", "", `{"value":"{service=\"game\"}","hits":6}`},
		{"/select/logsql/stream_field_names", "", `{"value":"service","hits":12}`},
		{"/select/logsql/stream_field_values", "service", `{"value":"pay","hits":6}`},
	} {
		_, body := get(t, ts, c.path, url.Values{"query": {"*"}, "field": {c.field}})
		if !strings.Contains(body, c.want) {
			t.Errorf("%s: %s lacks %s", c.path, body, c.want)
		}
	}
}

func TestParseTimeArg(t *testing.T) {
	now := day0.Add(48 * time.Hour)
	for in, want := range map[string]time.Time{
		"2026-01-02T03:04:05Z": day0.Add(27*time.Hour + 4*time.Minute + 5*time.Second),
		"2026-01-02Z":          day0.Add(24 * time.Hour),
		"2026-01-02":           day0.Add(24 * time.Hour),
		"1767225600":           day0,
		"1h":                   now.Add(-time.Hour),
		"now":                  now,
	} {
		got, err := parseTimeArg(in, now)
		if err != nil || got != want.UnixNano() {
			t.Errorf("parseTimeArg(%q) = %v, %v; want %v", in, time.Unix(0, got).UTC(), err, want)
		}
	}
	if _, err := parseTimeArg("yesterday", now); err == nil {
		t.Error("parseTimeArg accepted yesterday")
	}
}
