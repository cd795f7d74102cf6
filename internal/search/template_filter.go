package search

import (
	"strings"
	"unicode/utf8"

	"github.com/logbucket/logbucket/internal/index"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// Filters on a template-encoded (storage.Pattern) message are evaluated
// per template where the template alone decides, so that neither the
// variables nor the rows' messages are built:
//
//   - A word without ASCII digits is decided exactly by each template: a
//     Latin word must be a whole token of the template text, a word
//     without ASCII letters, digits or '_' (Hangul) must occur in it.
//   - Any other filter is first narrowed by the terms it requires
//     (query.RequiredTokens) that hold no ASCII digit: a row whose
//     template lacks one cannot match. The rows left are checked one by
//     one on their built message.
//
// Both rest on storage.Pattern's invariant: every ASCII digit of a value
// lies in a variable, and a variable is a whole ASCII word, so tokens
// without digits, and text without ASCII word bytes, are the same in a
// value and in its template. In the template text a variable is one byte
// >= 0xF8, treated here as a token rune.

// templateTerm is one term a row's template must hold.
type templateTerm struct {
	text   string
	substr bool // Hangul: a substring of the template text; else a whole token
}

// exactTemplateWord returns the term of a word filter that templates
// decide exactly; ok is false for other filters.
func exactTemplateWord(f query.Filter) (templateTerm, bool) {
	w, isWord := f.(*query.FilterWord)
	if !isWord || w.Word == "" || strings.ContainsAny(w.Word, "0123456789") {
		return templateTerm{}, false
	}
	if !index.ContainsHangul(w.Word) {
		return templateTerm{text: w.Word}, true
	}
	for i := 0; i < len(w.Word); i++ {
		if c := w.Word[i]; c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return templateTerm{}, false // Hangul mixed with ASCII letters: no exact template rule
		}
	}
	return templateTerm{text: w.Word, substr: true}, true
}

// requiredTemplateTerms returns the terms every row matching the leaf
// filter f holds in the template of its field's value (nil when none is
// known).
func requiredTemplateTerms(f query.Filter, field string) []templateTerm {
	var out []templateTerm
	for _, t := range query.RequiredTokens(f)[field] {
		if strings.ContainsAny(t, "0123456789") {
			continue
		}
		out = append(out, templateTerm{text: t, substr: allHangul(t)})
	}
	return out
}

func allHangul(s string) bool {
	for _, r := range s {
		if !index.IsHangul(r) {
			return false
		}
	}
	return s != ""
}

// clearByTemplate clears in mask the rows whose template lacks a term.
// Each template is checked once, and only if a row still set uses it.
func clearByTemplate(pat storage.Pattern, terms []templateTerm, mask []bool) {
	verdict := make([]int8, len(pat.Templates)) // 0 unknown, 1 holds all, -1 not
	for i := range mask {
		if !mask[i] {
			continue
		}
		id := pat.IDs[i]
		if verdict[id] == 0 {
			verdict[id] = 1
			for _, t := range terms {
				if !templateHas(pat.Templates[id], t) {
					verdict[id] = -1
					break
				}
			}
		}
		mask[i] = verdict[id] == 1
	}
}

// templateHas reports whether a template text holds the term.
func templateHas(text string, t templateTerm) bool {
	if t.substr {
		return strings.Contains(text, t.text)
	}
	for pos := 0; pos <= len(text); {
		n := strings.Index(text[pos:], t.text)
		if n < 0 {
			return false
		}
		at := pos + n
		if !templateRuneBefore(text, at) && !templateRuneAt(text, at+len(t.text)) {
			return true
		}
		pos = at + 1
	}
	return false
}

// templateRuneBefore reports whether the rune ending at text[:at] belongs
// to a token (a variable byte does).
func templateRuneBefore(text string, at int) bool {
	if at == 0 {
		return false
	}
	if text[at-1] >= 0xF8 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(text[:at])
	return r != utf8.RuneError && index.IsTokenRune(r)
}

// templateRuneAt reports whether the rune starting at text[at:] belongs to
// a token (a variable byte does).
func templateRuneAt(text string, at int) bool {
	if at >= len(text) {
		return false
	}
	if text[at] >= 0xF8 {
		return true
	}
	r, _ := utf8.DecodeRuneInString(text[at:])
	return r != utf8.RuneError && index.IsTokenRune(r)
}
