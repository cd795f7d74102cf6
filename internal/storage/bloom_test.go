package storage

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/index"
	"github.com/logbucket/logbucket/internal/model"
)

func TestXXH64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
	}{
		{"", 0xef46db3751d8e999},
		{"a", 0xd24ec4f1a98c6e5b},
		{"abc", 0x44bc2cf5ad770999},
		{"_msg", 0xa0adb3545c246115},
		{"0123456789abcdef", 0x5c5b90c34e376d0b},
		{"0123456789abcdef0123456789abcdef0123", 0xc4255ba3d1af5461},
		{strings.Repeat("결제", 20), 0x89faa9277b3650f3},
	} {
		if got := xxh64(tc.in, 0); got != tc.want {
			t.Errorf("xxh64(%q) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
	if got := xxh64("hello world", 12345); got != 0xdadff1fd84701c05 {
		t.Errorf("seeded xxh64 = %#x", got)
	}
}

func TestStreamHashMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1000; i++ {
		var fs []model.Field
		for j := r.IntN(4); j > 0; j-- {
			fs = append(fs, model.Field{Name: randText(r, r.IntN(8)), Value: randText(r, r.IntN(20))})
		}
		if streamHash(fs) != model.StreamHash(fs) {
			t.Fatalf("streamHash(%v) differs from model.StreamHash", fs)
		}
	}
}

// buildTestFilter builds a filter holding the given tokens of one field.
func buildTestFilter(field string, tokens []string, bits float64, aliases []string) *Filter {
	k := newTokenKeys()
	seed := FieldSeed(field)
	for _, tok := range tokens {
		k.set.add(TokenHash(seed, tok))
	}
	f, err := decodeFilter(buildFilter(nil, &k.set, bits, aliases))
	if err != nil {
		panic(err)
	}
	return f
}

// TestFilterNoFalseNegatives: whatever is inserted is found, for any
// tokens and sizes.
func TestFilterNoFalseNegatives(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 200; round++ {
		n := r.IntN(3000) + 1
		toks := make([]string, n)
		for i := range toks {
			toks[i] = randText(r, r.IntN(12)+1)
		}
		bits := []float64{1, 4, 8, 10, 16}[round%5]
		f := buildTestFilter("f", toks, bits, nil)
		for _, tok := range toks {
			if !f.MayContain("f", tok) {
				t.Fatalf("round %d: %q missing", round, tok)
			}
		}
		if !f.MayContainTokens("f", toks) || !f.MayContainTokens("f", nil) {
			t.Fatal("MayContainTokens misses")
		}
	}
}

// TestFilterFalsePositiveRate measures the false-positive rate per token
// at the default and a larger size, and checks field keying.
func TestFilterFalsePositiveRate(t *testing.T) {
	const n, probes = 20000, 200000
	toks := make([]string, n)
	for i := range toks {
		toks[i] = fmt.Sprintf("tok%d", i)
	}
	for _, tc := range []struct {
		bits float64
		max  float64
	}{{8, 0.03}, {10, 0.012}} {
		f := buildTestFilter("f", toks, tc.bits, nil)
		fp, other := 0, 0
		for i := 0; i < probes; i++ {
			if f.MayContain("f", fmt.Sprintf("absent%d", i)) {
				fp++
			}
			if f.MayContain("g", toks[i%n]) {
				other++ // same token, other field
			}
		}
		m, k := f.Bits()
		rate := float64(fp) / probes
		t.Logf("%g bits/token (m=%d, k=%d): false positives %.3f%% (other field: %.3f%%)", tc.bits, m, k, 100*rate, 100*float64(other)/probes)
		if rate > tc.max || float64(other)/probes > tc.max {
			t.Errorf("%g bits/token: false-positive rate %.4f above %.4f", tc.bits, rate, tc.max)
		}
	}
}

func TestFilterAliases(t *testing.T) {
	k := newTokenKeys()
	k.addValue(FieldSeed("user_id"), "u123")
	k.skip = []string{"u123"}
	k.addValue(FieldSeed(MsgField), "login u123 ok")
	k.skip = nil
	f, err := decodeFilter(buildFilter(nil, &k.set, 10, []string{"user_id"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"login", "u123", "ok"} {
		if !f.MayContain(MsgField, tok) || !f.MayContainTokens(MsgField, []string{"login", tok}) {
			t.Errorf("_msg:%s missing", tok)
		}
	}
	if !f.MayContain("user_id", "u123") || f.MayContain("user_id", "login") {
		t.Error("user_id keys wrong")
	}
	if len(f.Aliases()) != 1 {
		t.Error("aliases lost")
	}
}

// TestTokenSplitMatchesIndex: the filter's inline tokenizer splits exactly
// like index.ForEachToken, on any bytes.
func TestTokenSplitMatchesIndex(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", "Z", "0", "_", " ", "-", "=", "결", "제", "가", "é", "ß", "\xff", "\xe0\x80", "٣", "\u3000", "ㄱ", "\u1100", "😀", "\t"}
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for j := r.IntN(20); j > 0; j-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := b.String()
		var want []string
		index.ForEachToken(s, func(tok string) {
			want = append(want, tok)
			index.ForEachHangulGram(tok, func(g string) { want = append(want, "gram:"+g) })
		})
		k := newTokenKeys()
		var got []string
		k.addValue(7, s)
		// Rebuild the token list from a recording tokenizer.
		rec := &recordingKeys{}
		rec.split(s)
		got = rec.toks
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("%q: tokens %q, want %q", s, got, want)
		}
		wantKeys := map[uint64]bool{}
		for _, tok := range want {
			wantKeys[xxh64(strings.TrimPrefix(tok, "gram:"), 7)] = true
		}
		if k.set.len() != len(wantKeys) {
			t.Fatalf("%q: %d keys, want %d", s, k.set.len(), len(wantKeys))
		}
		k.set.each(func(h uint64) {
			if !wantKeys[h] {
				t.Fatalf("%q: unexpected key", s)
			}
		})
	}
}

// recordingKeys runs tokenKeys' splitting and records the tokens.
type recordingKeys struct{ toks []string }

func (r *recordingKeys) split(s string) {
	k := newTokenKeys()
	k.gram = func(g string) { r.toks = append(r.toks, "gram:"+g) }
	k.set = hashSet{}
	k.tokenHook = func(tok string) { r.toks = append(r.toks, tok) }
	k.addValue(0, s)
}

func TestDecimalLen(t *testing.T) {
	for _, v := range []uint64{0, 1, 9, 10, 99, 100, 999999, 1000000, 1<<63 - 1, 1 << 63, 1e19 - 1, 1e19, 1<<64 - 1} {
		if got, want := decimalLen(v), len(fmt.Sprint(v)); got != want {
			t.Errorf("decimalLen(%d) = %d, want %d", v, got, want)
		}
	}
	r := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < 100000; i++ {
		v := r.Uint64() >> r.IntN(64)
		if got, want := decimalLen(v), len(fmt.Sprint(v)); got != want {
			t.Fatalf("decimalLen(%d) = %d, want %d", v, got, want)
		}
	}
}

// TestPatternKeysMatchValues: the keys addPattern derives from templates
// are exactly the keys of tokenizing every value.
func TestPatternKeysMatchValues(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	pieces := []string{"a", "b7", "u123", " ", "=", "결제", "x9y", "가", "0", "é", "\xc3", "\xe0\xa0", "_", "-", "٣", "12"}
	tested := 0
	defer func() {
		if tested < 100 {
			t.Errorf("only %d rounds used the pattern encoding", tested)
		}
	}()
	for round := 0; round < 300; round++ {
		n := r.IntN(50) + 1
		if round%2 == 0 {
			n = 1 // a single value always fits a template
		}
		values := make([]string, n)
		ref := make([]string, n)
		for i := range values {
			var b strings.Builder
			for j := r.IntN(12); j > 0; j-- {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
			values[i] = b.String()
			ref[i] = []string{"u123", "b7", "zz"}[r.IntN(3)]
		}
		e := newColEncoder(1)
		cands := []refColumn{{name: "ref", values: ref}}
		if _, _, ok := e.appendPattern(nil, values, cands); !ok {
			continue
		}
		tested++
		fromPattern := newTokenKeys()
		fromPattern.addPattern(3, &e.pat, cands, nil)
		fromValues := newTokenKeys()
		for _, v := range values {
			fromValues.addValue(3, v)
		}
		if fromPattern.set.len() != fromValues.set.len() {
			t.Fatalf("round %d: %d keys from templates, %d from values %q", round, fromPattern.set.len(), fromValues.set.len(), values)
		}
		fromValues.set.each(func(h uint64) {
			found := false
			fromPattern.set.each(func(g uint64) { found = found || g == h })
			if !found {
				t.Fatalf("round %d: key missing from templates (values %q)", round, values)
			}
		})
	}
}
