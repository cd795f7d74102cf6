package search

import (
	"github.com/logbucket/logbucket/internal/index"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// plan is what a query lets the engine skip without decoding.
type plan struct {
	minT, maxT int64
	streams    []*query.FilterStream // every one must match a block's stream
	tokens     map[string][]string   // field → terms every matching row holds
}

func newPlan(f query.Filter, start, end int64) *plan {
	p := &plan{tokens: query.RequiredTokens(f)}
	p.minT, p.maxT = query.TimeBounds(f)
	p.minT, p.maxT = max(p.minT, start), min(p.maxT, end)
	collectStreams(f, &p.streams)
	return p
}

// collectStreams gathers the stream filters that are conjuncts of f.
func collectStreams(f query.Filter, out *[]*query.FilterStream) {
	switch t := f.(type) {
	case *query.FilterStream:
		*out = append(*out, t)
	case *query.FilterAnd:
		for _, c := range t.Filters {
			collectStreams(c, out)
		}
	}
}

func (p *plan) timeOverlaps(minT, maxT int64) bool { return minT <= p.maxT && maxT >= p.minT }

// streamMatches checks the stream filters against a stream's `_stream`
// value.
func (p *plan) streamMatches(stream string) bool {
	if len(p.streams) == 0 {
		return true
	}
	row := query.Row{Fields: []model.Field{{Name: "_stream", Value: stream}}}
	for _, f := range p.streams {
		if !f.Match(&row) {
			return false
		}
	}
	return true
}

// blockMayMatch checks a block's time range, fields and, when the query
// needs tokens, its bloom filter (loaded through filter only then). The
// stream filters are the caller's to check (once per stream).
func (p *plan) blockMayMatch(m *storage.BlockMeta, filter func() (*storage.Filter, error)) (bool, error) {
	if !p.timeOverlaps(m.MinTime, m.MaxTime) {
		return false, nil
	}
	var bloomFields []string
	for field, terms := range p.tokens {
		if v, ok := streamValue(m, field); ok {
			if !valueHasTerms(v, terms) {
				return false, nil
			}
			continue
		}
		if !m.HasField(field) {
			return false, nil
		}
		bloomFields = append(bloomFields, field)
	}
	if len(bloomFields) == 0 {
		return true, nil
	}
	bf, err := filter()
	if err != nil {
		return false, err
	}
	for _, field := range bloomFields {
		if !bf.MayContainTokens(field, p.tokens[field]) {
			return false, nil
		}
	}
	return true, nil
}

// streamValue returns a block's value of a field that only depends on its
// stream: `_stream_id` or a stream field.
func streamValue(m *storage.BlockMeta, name string) (string, bool) {
	if name == "_stream_id" {
		return m.StreamIDStr, true
	}
	for _, f := range m.StreamFields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// valueHasTerms reports whether v holds every term as a token or a
// Hangul gram, the same terms the bloom filters index.
func valueHasTerms(v string, terms []string) bool {
	have := map[string]bool{}
	index.ForEachToken(v, func(tok string) {
		have[tok] = true
		index.ForEachHangulGram(tok, func(g string) { have[g] = true })
	})
	for _, t := range terms {
		if !have[t] {
			return false
		}
	}
	return true
}
