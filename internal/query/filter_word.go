package query

import (
	"strings"
	"unicode/utf8"

	"github.com/logbucket/logbucket/internal/index"
)

// FilterWord is a word filter, `word` or `field:word`: Word is exactly one
// token (index.ForEachToken). A Latin word matches a whole token of the
// value, case-sensitively. A word containing Hangul (index.ContainsHangul)
// matches when it occurs inside any token, so `결제` finds `결제가` and
// `미결제` (a deliberate difference from VictoriaLogs; see docs/query.md).
type FilterWord struct {
	Field string
	Word  string
}

func (f *FilterWord) Match(r *Row) bool { return matchWord(r.Get(f.Field), f.Word) }

func (f *FilterWord) String() string { return fieldPrefix(f.Field) + quoteIfNeeded(f.Word) }

// FilterPhrase is a phrase filter, `"some phrase"`: the value contains
// Phrase, and the phrase's first and last tokens are not parts of longer
// tokens of the value (VictoriaLogs semantics). An edge token containing
// Hangul may be part of a longer token, as for words. The empty phrase
// (`field:""`) matches an empty or missing value.
type FilterPhrase struct {
	Field  string
	Phrase string
}

func (f *FilterPhrase) Match(r *Row) bool { return matchPhrase(r.Get(f.Field), f.Phrase) }

func (f *FilterPhrase) String() string { return fieldPrefix(f.Field) + quoteIfNeeded(f.Phrase) }

// FilterPrefix is a prefix filter, `prefix*` or `"phrase prefix"*`: like a
// phrase filter whose last token may continue in the value. Prefix is
// never empty (`field:*` is FilterExists).
type FilterPrefix struct {
	Field  string
	Prefix string
}

func (f *FilterPrefix) Match(r *Row) bool { return matchPrefix(r.Get(f.Field), f.Prefix) }

func (f *FilterPrefix) String() string {
	return fieldPrefix(f.Field) + quoteIfNeeded(f.Prefix) + "*"
}

// matchWord reports whether v contains word as a token (Latin) or inside a
// token (Hangul).
func matchWord(v, word string) bool {
	if !strings.Contains(v, word) {
		return false
	}
	if index.ContainsHangul(word) {
		// word consists of token runes only, so every occurrence lies
		// inside a single token of v.
		return true
	}
	found := false
	index.ForEachToken(v, func(tok string) {
		if tok == word {
			found = true
		}
	})
	return found
}

// edges reports whether p starts and ends with a token rune, and whether
// its first and last tokens contain Hangul (those edges are relaxed).
type edges struct {
	startsTok, endsTok   bool
	relaxStart, relaxEnd bool
}

func phraseEdges(p string) edges {
	var e edges
	first, last := "", ""
	index.ForEachToken(p, func(tok string) {
		if first == "" {
			first = tok
		}
		last = tok
	})
	if first == "" {
		return e
	}
	e.startsTok = strings.HasPrefix(p, first)
	e.endsTok = strings.HasSuffix(p, last)
	e.relaxStart = e.startsTok && index.ContainsHangul(first)
	e.relaxEnd = e.endsTok && index.ContainsHangul(last)
	return e
}

// tokenRuneBefore reports whether the rune ending at v[:at] is a token rune.
func tokenRuneBefore(v string, at int) bool {
	if at == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(v[:at])
	return r != utf8.RuneError && index.IsTokenRune(r)
}

// tokenRuneAt reports whether the rune starting at v[at:] is a token rune.
func tokenRuneAt(v string, at int) bool {
	if at >= len(v) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(v[at:])
	return r != utf8.RuneError && index.IsTokenRune(r)
}

// findPhrase finds p in v with the token-boundary rules; checkEnd is false
// for prefixes.
func findPhrase(v, p string, checkEnd bool) bool {
	e := phraseEdges(p)
	for pos := 0; pos <= len(v); {
		n := strings.Index(v[pos:], p)
		if n < 0 {
			return false
		}
		at := pos + n
		okStart := !e.startsTok || e.relaxStart || !tokenRuneBefore(v, at)
		okEnd := !checkEnd || !e.endsTok || e.relaxEnd || !tokenRuneAt(v, at+len(p))
		if okStart && okEnd {
			return true
		}
		pos = at + 1
	}
	return false
}

func matchPhrase(v, p string) bool {
	if p == "" {
		return v == ""
	}
	if isSingleToken(p) {
		return matchWord(v, p)
	}
	return findPhrase(v, p, true)
}

func matchPrefix(v, p string) bool {
	if p == "" {
		return v != ""
	}
	return findPhrase(v, p, false)
}

// FilterAnyCasePhrase is `i(word)` or `i("phrase")`: a word or phrase
// filter that ignores case (both sides are lower-cased).
type FilterAnyCasePhrase struct {
	Field  string
	Phrase string
}

func (f *FilterAnyCasePhrase) Match(r *Row) bool {
	return matchPhrase(strings.ToLower(r.Get(f.Field)), strings.ToLower(f.Phrase))
}

func (f *FilterAnyCasePhrase) String() string {
	return fieldPrefix(f.Field) + "i(" + quoteIfNeeded(f.Phrase) + ")"
}

// FilterAnyCasePrefix is `i(prefix*)`: a prefix filter that ignores case.
type FilterAnyCasePrefix struct {
	Field  string
	Prefix string
}

func (f *FilterAnyCasePrefix) Match(r *Row) bool {
	return matchPrefix(strings.ToLower(r.Get(f.Field)), strings.ToLower(f.Prefix))
}

func (f *FilterAnyCasePrefix) String() string {
	return fieldPrefix(f.Field) + "i(" + quoteIfNeeded(f.Prefix) + "*)"
}
