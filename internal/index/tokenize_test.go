package index

import (
	"reflect"
	"testing"
)

func TestTokens(t *testing.T) {
	cases := map[string][]string{
		"":                           nil,
		"error: cannot open file":    {"error", "cannot", "open", "file"},
		"user_id=u101826 ver=3.12.0": {"user_id", "u101826", "ver", "3", "12", "0"},
		"결제 승인 실패: 잔액 부족":            {"결제", "승인", "실패", "잔액", "부족"},
		"결제가 완료됨(code=KRW-DUP)":      {"결제가", "완료됨", "code", "KRW", "DUP"},
		"trace=0badc0de0badc0de":     {"trace", "0badc0de0badc0de"},
		"  leading and trailing  ":   {"leading", "and", "trailing"},
		"naïve café ümlaut":          {"naïve", "café", "ümlaut"},
		"a\tb\nc":                    {"a", "b", "c"},
		"\xff\xfe invalid":           {"invalid"},
		"LBX-NEEDLE-7Q4Z":            {"LBX", "NEEDLE", "7Q4Z"},
	}
	for in, want := range cases {
		if got := Tokens(in); !reflect.DeepEqual(got, want) {
			t.Errorf("Tokens(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHangulGrams(t *testing.T) {
	var got []string
	ForEachHangulGram("결제가x결제", func(g string) { got = append(got, g) })
	want := []string{"결", "제", "결제", "가", "제가", "결", "제", "결제"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("grams %q, want %q", got, want)
	}
	for w, want := range map[string][]string{
		"결제":   {"결제"},
		"결":    {"결"},
		"결제실패": {"결제", "제실", "실패"},
		"abc":  nil,
		"a결b":  {"결"},
	} {
		if got := QueryGrams(w); !reflect.DeepEqual(got, want) {
			t.Errorf("QueryGrams(%q) = %q, want %q", w, got, want)
		}
	}
}

// TestQueryGramsAreIndexed: every token containing a Hangul word holds all
// the word's query grams, so a gram index never misses a match.
func TestQueryGramsAreIndexed(t *testing.T) {
	for _, tc := range []struct{ word, tok string }{
		{"결제", "결제가"}, {"결제", "미결제"}, {"제가", "결제가"}, {"결", "결제"}, {"결제실패", "결제실패함"},
	} {
		have := map[string]bool{}
		ForEachHangulGram(tc.tok, func(g string) { have[g] = true })
		for _, g := range QueryGrams(tc.word) {
			if !have[g] {
				t.Errorf("token %q lacks gram %q of word %q", tc.tok, g, tc.word)
			}
		}
	}
}
