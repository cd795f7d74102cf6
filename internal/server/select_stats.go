package server

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/query"
)

// maxGroups bounds the groups an aggregating endpoint keeps.
const maxGroups = 100000

// collect runs a search and hands every row to fn.
func (s *Server) collect(w http.ResponseWriter, r *http.Request, p selectParams, fn func(query.Row) error) bool {
	if err := s.search.Search(r.Context(), p.req, fn); err != nil {
		writeError(w, s.queryError(err))
		return false
	}
	return true
}

// handleHits serves /select/logsql/hits: matching rows counted per time
// bucket (step, offset) and per value of the field= arguments. It runs
// as `QUERY | stats by (_time:STEP offset OFFSET, FIELDS) count() hits`,
// so only the named columns are decoded and the query's memory budget
// bounds the groups.
func (s *Server) handleHits(w http.ResponseWriter, r *http.Request) {
	step, offset := r.FormValue("step"), r.FormValue("offset")
	if step == "" {
		step = "1d"
	}
	for name, v := range map[string]string{"step": step, "offset": offset} {
		if v == "" {
			continue
		}
		if d, err := config.ParseDuration(strings.TrimPrefix(v, "-")); err != nil || (name == "step" && d <= 0) {
			writeError(w, errBadRequest.with(fmt.Sprintf("%s=%q is not a duration such as 5m", name, v)))
			return
		}
	}
	fields := r.Form["field"]
	by := "_time:" + step
	if offset != "" {
		by += " offset " + offset
	}
	for _, f := range fields {
		by += ", " + string(quoteJSON(f))
	}
	p, perr := s.parseSelect(r, " | stats by ("+by+") count() hits")
	if perr != nil {
		writeError(w, *perr)
		return
	}
	type series struct {
		labels map[string]string
		ts     []string
		vals   []int64
		total  int64
	}
	groups := map[string]*series{}
	var order []string
	ok := s.collect(w, r, p, func(row query.Row) error {
		var key strings.Builder
		labels := make(map[string]string, len(fields))
		for _, f := range fields {
			labels[f] = row.Get(f)
			key.WriteString(labels[f])
			key.WriteByte(0)
		}
		g := groups[key.String()]
		if g == nil {
			g = &series{labels: labels}
			groups[key.String()] = g
			order = append(order, key.String())
		}
		n, _ := strconv.ParseInt(row.Get("hits"), 10, 64)
		g.ts = append(g.ts, row.Get("_time"))
		g.vals = append(g.vals, n)
		g.total += n
		return nil
	})
	if !ok {
		return
	}
	type hitsSeries struct {
		Fields     map[string]string `json:"fields"`
		Timestamps []string          `json:"timestamps"`
		Values     []int64           `json:"values"`
		Total      int64             `json:"total"`
	}
	out := make([]hitsSeries, 0, len(order))
	for _, k := range order {
		g := groups[k]
		idx := make([]int, len(g.ts))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return g.ts[idx[a]] < g.ts[idx[b]] })
		hs := hitsSeries{Fields: g.labels, Total: g.total}
		for _, i := range idx {
			hs.Timestamps = append(hs.Timestamps, g.ts[i])
			hs.Values = append(hs.Values, g.vals[i])
		}
		out = append(out, hs)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Total > out[j].Total })
	if n, err := strconv.Atoi(r.FormValue("fields_limit")); err == nil && n > 0 && len(out) > n {
		out = out[:n]
	}
	writeJSON(w, map[string]any{"hits": out})
}

// lastStats returns the query's final stats pipe, or nil.
func lastStats(q *query.Query) *query.PipeStats {
	if len(q.Pipes) == 0 {
		return nil
	}
	ps, _ := q.Pipes[len(q.Pipes)-1].(*query.PipeStats)
	return ps
}

// promSample is one series of a Prometheus-style answer.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value,omitempty"`
	Values [][]any           `json:"values,omitempty"`
}

// parseStatsSelect reads the arguments of a stats endpoint, whose query
// must end with a stats pipe; it answers the error itself.
func (s *Server) parseStatsSelect(w http.ResponseWriter, r *http.Request) (selectParams, *query.PipeStats, bool) {
	p, perr := s.parseSelect(r, "")
	if perr != nil {
		writeError(w, *perr)
		return p, nil, false
	}
	ps := lastStats(p.req.Query)
	if ps == nil {
		writeError(w, errBadQuery.with("the query must end with a stats pipe, e.g. * | stats by (level) count()"))
		return p, nil, false
	}
	return p, ps, true
}

// handleStatsQuery serves /select/logsql/stats_query: the rows of a query
// ending in `stats` as a Prometheus instant vector at time=.
func (s *Server) handleStatsQuery(w http.ResponseWriter, r *http.Request) {
	p, ps, ok := s.parseStatsSelect(w, r)
	if !ok {
		return
	}
	at := p.now.Unix()
	if v := r.FormValue("time"); v != "" {
		t, err := parseTimeArg(v, p.now)
		if err != nil {
			writeError(w, errBadRequest.with("time: "+err.Error()))
			return
		}
		at = t / 1e9
		if p.req.End == math.MaxInt64 {
			p.req.End = t
		}
	}
	var result []promSample
	ok = s.collect(w, r, p, func(row query.Row) error {
		for _, sm := range statsSamples(ps, row) {
			result = append(result, promSample{Metric: sm.labels, Value: []any{at, sm.value}})
		}
		return nil
	})
	if ok {
		writeJSON(w, promAnswer("vector", result))
	}
}

// handleStatsQueryRange serves /select/logsql/stats_query_range: the
// stats pipe grouped additionally by _time:step, as a Prometheus matrix.
func (s *Server) handleStatsQueryRange(w http.ResponseWriter, r *http.Request) {
	p, ps, ok := s.parseStatsSelect(w, r)
	if !ok {
		return
	}
	step := r.FormValue("step")
	if step == "" {
		step = "1d"
	}
	if d, err := config.ParseDuration(step); err != nil || d <= 0 {
		writeError(w, errBadRequest.with(fmt.Sprintf("step=%q is not a duration such as 5m", step)))
		return
	}
	// Re-parse with _time:step prepended to the stats grouping.
	text := p.req.Query.String()
	statsText := ps.String()
	var grouped string
	if strings.HasPrefix(statsText, "stats by (") {
		grouped = "stats by (_time:" + step + ", " + strings.TrimPrefix(statsText, "stats by (")
	} else {
		grouped = "stats by (_time:" + step + ")" + strings.TrimPrefix(statsText, "stats")
	}
	q2, err := query.Parse(strings.TrimSuffix(text, statsText)+grouped, p.now)
	if err != nil {
		writeError(w, errBadQuery.with(err.Error()))
		return
	}
	p.req.Query = q2
	ps2 := lastStats(q2)
	series := map[string]*promSample{}
	var order []string
	ok = s.collect(w, r, p, func(row query.Row) error {
		t, _ := parseTimeArg(row.Get("_time"), p.now)
		for _, sm := range statsSamples(ps2, row) {
			delete(sm.labels, "_time")
			key := labelsKey(sm.labels)
			ser := series[key]
			if ser == nil {
				if len(series) >= maxGroups {
					return fmt.Errorf("stats_query_range has more than %d series: group by fewer fields", maxGroups)
				}
				ser = &promSample{Metric: sm.labels}
				series[key] = ser
				order = append(order, key)
			}
			ser.Values = append(ser.Values, []any{t / 1e9, sm.value})
		}
		return nil
	})
	if !ok {
		return
	}
	result := make([]promSample, 0, len(order))
	for _, k := range order {
		ser := series[k]
		sort.Slice(ser.Values, func(i, j int) bool { return ser.Values[i][0].(int64) < ser.Values[j][0].(int64) })
		result = append(result, *ser)
	}
	writeJSON(w, promAnswer("matrix", result))
}

type statsSample struct {
	labels map[string]string
	value  string
}

// statsSamples turns one stats output row into one sample per function.
func statsSamples(ps *query.PipeStats, row query.Row) []statsSample {
	labels := map[string]string{}
	for _, b := range ps.By {
		labels[b.Field] = row.Get(b.Field)
	}
	out := make([]statsSample, 0, len(ps.Funcs))
	for _, f := range ps.Funcs {
		l := make(map[string]string, len(labels)+1)
		for k, v := range labels {
			l[k] = v
		}
		l["__name__"] = f.Name
		out = append(out, statsSample{labels: l, value: row.Get(f.Name)})
	}
	return out
}

func labelsKey(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(l[k])
		b.WriteByte(0)
	}
	return b.String()
}

func promAnswer(kind string, result []promSample) map[string]any {
	if result == nil {
		result = []promSample{}
	}
	return map[string]any{"status": "success", "data": map[string]any{"resultType": kind, "result": result}}
}
