package search

import (
	"strings"

	"github.com/logbucket/logbucket/internal/index"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// msgWord is a word every matching row's _msg must hold, checkable on a
// message template without building the message (see storage.Pattern).
type msgWord struct {
	word   string
	substr bool // Hangul-like text: a substring of the template text
}

// templateWords returns the positive _msg word conjuncts of f that a
// template decides exactly: Latin words without ASCII digits (whole
// tokens), and words without ASCII letters, digits or '_' that contain
// Hangul (substrings, as LogsQL-for-Korean matches inside words).
func templateWords(f query.Filter) []msgWord {
	switch t := f.(type) {
	case *query.FilterAnd:
		var out []msgWord
		for _, c := range t.Filters {
			out = append(out, templateWords(c)...)
		}
		return out
	case *query.FilterWord:
		if t.Field != storage.MsgField || t.Word == "" || strings.ContainsAny(t.Word, "0123456789") {
			return nil
		}
		if !index.ContainsHangul(t.Word) {
			return []msgWord{{word: t.Word}}
		}
		for i := 0; i < len(t.Word); i++ {
			if c := t.Word[i]; c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				return nil // mixed Hangul and ASCII letters: no exact template rule
			}
		}
		return []msgWord{{word: t.Word, substr: true}}
	}
	return nil
}

// templateMatches evaluates the words on each template of a block's
// message column; nil when the column is not template-encoded.
func templateMatches(blk *storage.Block, words []msgWord) (ok []bool, ids []uint32) {
	col := blk.Column(storage.MsgField)
	if col == nil {
		return nil, nil
	}
	pat, isPattern := col.Pattern()
	if !isPattern {
		return nil, nil
	}
	ok = make([]bool, len(pat.Templates))
	for i, tpl := range pat.Templates {
		text := storage.TemplateText(tpl)
		ok[i] = true
		for _, w := range words {
			if !templateHas(text, w) {
				ok[i] = false
				break
			}
		}
	}
	return ok, pat.IDs
}

func templateHas(text string, w msgWord) bool {
	if w.substr {
		return strings.Contains(text, w.word)
	}
	if !strings.Contains(text, w.word) {
		return false
	}
	found := false
	index.ForEachToken(text, func(tok string) {
		if tok == w.word {
			found = true
		}
	})
	return found
}
