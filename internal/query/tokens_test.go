package query

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/logbucket/logbucket/internal/model"
)

func TestRequiredTokens(t *testing.T) {
	for q, want := range map[string]map[string][]string{
		`error`:                  {"_msg": {"error"}},
		`level:error`:            {"level": {"error"}},
		`"foo bar"`:              {"_msg": {"bar", "foo"}},
		`"foo bar"*`:             {"_msg": {"foo"}},
		`"foo "*`:                {"_msg": {"foo"}},
		`err*`:                   nil,
		`i(error)`:               nil,
		`결제`:                     {"_msg": {"결제"}},
		`결제실패*`:                  {"_msg": {"결제", "실패", "제실"}},
		`"결제 승인 실패"`:             {"_msg": {"승인", "실패", "결제"}},
		`"a결제"`:                  {"_msg": {"결제"}},
		`"ssh: login"`:           {"_msg": {"login", "ssh"}},
		`x:=foo`:                 {"x": {"foo"}},
		`x:="foo bar"*`:          {"x": {"foo"}},
		`x:=foo*`:                nil,
		`x:=""`:                  nil,
		`x:in("a b", "a c")`:     {"x": {"a"}},
		`x:in(a, b)`:             nil,
		`a b`:                    {"_msg": {"a", "b"}},
		`a b OR a c`:             {"_msg": {"a"}},
		`a OR b`:                 nil,
		`x:a OR y:a`:             nil,
		`NOT a`:                  nil,
		`a -b`:                   {"_msg": {"a"}},
		`{a="b"} _time:5m x:>5`:  nil,
		`~"abc" host:h1 host:h2`: {"host": {"h1", "h2"}},
	} {
		got := RequiredTokens(mustParse(t, q).Filter)
		for _, v := range want {
			sortStrings(v)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("RequiredTokens(%s) = %v, want %v", q, got, want)
		}
	}
}

func sortStrings(a []string) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// TestRequiredTokensProperty: over random values and filters, a matching
// row always holds the required terms.
func TestRequiredTokensProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"결제", "결", "제가", "미결제", "승인", "foo", "bar", "fo", "ba", "a", "x1", "결제ok"}
	seps := []string{" ", "-", ": ", ".", "", "가", "\"", "  "}
	gen := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		return b.String()
	}
	checked := 0
	for i := 0; i < 3000; i++ {
		pat := strings.TrimSpace(gen(1 + rng.IntN(3)))
		if pat == "" {
			continue
		}
		filters := []Filter{
			newPhraseFilter("_msg", pat),
			newPrefixFilter("_msg", pat),
			&FilterExact{Field: "_msg", Value: pat},
			&FilterExactPrefix{Field: "_msg", Prefix: pat},
		}
		for j := 0; j < 30; j++ {
			v := gen(rng.IntN(6))
			if rng.IntN(3) == 0 {
				v = v + pat + gen(rng.IntN(3))
			}
			row := Row{Fields: []model.Field{{Name: "_msg", Value: v}}}
			for _, f := range filters {
				if !f.Match(&row) {
					continue
				}
				checked++
				have := indexTerms(v)
				for _, term := range RequiredTokens(f)["_msg"] {
					if !have[term] {
						t.Fatalf("%s matches %q but RequiredTokens claims %q", f, v, term)
					}
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d matches checked", checked)
	}
}

func TestTimeBounds(t *testing.T) {
	now := testNow.UnixNano()
	for q, want := range map[string][2]int64{
		`*`:                                     {math.MinInt64, math.MaxInt64},
		`_time:5m`:                              {now - 300e9 + 1, now},
		`_time:5m _time:1h`:                     {now - 300e9 + 1, now},
		`_time:5m OR _time:1h`:                  {now - 3600e9 + 1, now},
		`_time:5m OR foo`:                       {math.MinInt64, math.MaxInt64},
		`NOT _time:5m`:                          {math.MinInt64, math.MaxInt64},
		`foo (_time:>1h OR _time:5m offset 2h)`: {math.MinInt64, now - 3600e9 - 1},
	} {
		lo, hi := TimeBounds(mustParse(t, q).Filter)
		if lo != want[0] || hi != want[1] {
			t.Errorf("TimeBounds(%s) = %d, %d; want %d, %d", q, lo, hi, want[0], want[1])
		}
	}
}

func TestStreamMatchLabels(t *testing.T) {
	f := mustParse(t, `{service="api", host=~"h[0-9]+" or env!="prod"}`).Filter.(*FilterStream)
	labels := []model.Field{{Name: "host", Value: "h12"}, {Name: "service", Value: "api"}, {Name: "env", Value: "prod"}}
	if !f.MatchLabels(labels) {
		t.Fatal("want match")
	}
	labels[0].Value = "x"
	if f.MatchLabels(labels) {
		t.Fatal("want no match")
	}
	r := Row{Fields: []model.Field{{Name: "_stream", Value: model.StreamString([]model.Field{
		{Name: "env", Value: "dev"}, {Name: "quote", Value: "a\"b,c=d"}})}}}
	if !f.Match(&r) || streamLabel(r.Get("_stream"), "quote") != "a\"b,c=d" {
		t.Fatalf("stream %s", r.Get("_stream"))
	}
}

// TestConcurrentMatch: parsed filters are safe for concurrent use.
func TestConcurrentMatch(t *testing.T) {
	q := mustParse(t, `(결제 OR "foo bar"* OR x:~"a+b" OR i(ERR*)) {app=~"a.*"} x:>5 -y:in(a, b) _time:1h`)
	rows := fuzzRows
	want := make([]bool, len(rows))
	for i := range rows {
		want[i] = q.Filter.Match(&rows[i])
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 2000; n++ {
				i := n % len(rows)
				if q.Filter.Match(&rows[i]) != want[i] {
					errs <- fmt.Sprintf("row %d changed result", i)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
