package index

import (
	"unicode"
	"unicode/utf8"
)

// IsTokenRune reports whether r belongs to a token.
func IsTokenRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// IsHangul reports whether r is a Hangul syllable or jamo.
func IsHangul(r rune) bool {
	return r >= 0xAC00 && r <= 0xD7A3 || r >= 0x1100 && r <= 0x11FF || r >= 0x3130 && r <= 0x318F
}

// ContainsHangul reports whether s has a Hangul rune.
func ContainsHangul(s string) bool {
	for _, r := range s {
		if IsHangul(r) {
			return true
		}
	}
	return false
}

// ForEachToken calls fn with each token of s, in order. The tokens are
// substrings of s (no allocation).
func ForEachToken(s string, fn func(tok string)) {
	start := -1
	for i := 0; i < len(s); {
		c := s[i]
		var r rune
		size := 1
		if c < utf8.RuneSelf {
			r = rune(c)
		} else {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if IsTokenRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			fn(s[start:i])
			start = -1
		}
		i += size
	}
	if start >= 0 {
		fn(s[start:])
	}
}

// Tokens returns the tokens of s.
func Tokens(s string) []string {
	var out []string
	ForEachToken(s, func(t string) { out = append(out, t) })
	return out
}

// ForEachHangulGram calls fn with every Hangul syllable unigram and bigram
// of tok (substrings of tok). A run of Hangul inside a token yields its
// unigrams and its adjacent pairs.
func ForEachHangulGram(tok string, fn func(gram string)) {
	prevStart, prevEnd := -1, -1
	for i, r := range tok {
		size := utf8.RuneLen(r)
		if !IsHangul(r) {
			prevStart = -1
			continue
		}
		fn(tok[i : i+size])
		if prevStart >= 0 && prevEnd == i {
			fn(tok[prevStart : i+size])
		}
		prevStart, prevEnd = i, i+size
	}
}

// QueryGrams returns the grams an index must hold for a token containing
// the Hangul word w: its bigrams, or its unigram when it has one syllable.
// A token with w inside it holds all of them (necessary, not sufficient).
func QueryGrams(w string) []string {
	var runes []int // byte offsets of Hangul runes
	var out []string
	n := 0
	for i, r := range w {
		if IsHangul(r) {
			runes = append(runes, i)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	seen := map[string]bool{}
	add := func(g string) {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	for k, i := range runes {
		_, size := utf8.DecodeRuneInString(w[i:])
		if k+1 < len(runes) && runes[k+1] == i+size {
			_, size2 := utf8.DecodeRuneInString(w[i+size:])
			add(w[i : i+size+size2])
		} else if n == 1 {
			add(w[i : i+size])
		}
	}
	if len(out) == 0 { // isolated syllables: fall back to unigrams
		for _, i := range runes {
			_, size := utf8.DecodeRuneInString(w[i:])
			add(w[i : i+size])
		}
	}
	return out
}
