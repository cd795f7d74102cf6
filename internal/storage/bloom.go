package storage

import (
	"encoding/binary"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/logbucket/logbucket/internal/index"
)

// MsgField is the name under which the message's tokens are keyed in a
// block's token filter and the name Block.Column accepts for the message.
const MsgField = "_msg"

// TimeField is the name Block.Column accepts for the time column.
const TimeField = "_time"

// PosField names the commit-log position column in ReadBlock's columns.
const PosField = "_pos"

// A Filter is one block's token bloom filter. It holds the keys of every
// token (index.ForEachToken) of every non-empty value of the block — the
// message, every field and every stream field — and of every Hangul gram
// (index.ForEachHangulGram) of those tokens. A key is XXH64(token, seed)
// with seed = XXH64(field name, 0), so that level:error and an "error" in
// the message are different keys.
//
// Aliases: a message token equal to the same row's value of an alias field
// is not inserted under _msg (it is already there under the alias field);
// MayContain for _msg therefore also tries each alias field. The answer
// stays a superset: a false positive costs a scan, never a miss.
//
// A Filter is immutable and safe for concurrent use.
type Filter struct {
	k       int      // probes per key
	m       uint64   // bits, a multiple of 64
	words   []uint64 // the bit array
	aliases []string // fields also tried for _msg lookups
}

// FieldSeed returns the hash seed of a field's keys.
func FieldSeed(field string) uint64 { return xxh64(field, 0) }

// TokenHash returns the filter key of token in the field whose seed is
// seed (see FieldSeed).
func TokenHash(seed uint64, token string) uint64 { return xxh64(token, seed) }

// MayContain reports whether the block may hold token in field: false means
// it certainly does not.
func (f *Filter) MayContain(field, token string) bool {
	if f.hasHash(TokenHash(FieldSeed(field), token)) {
		return true
	}
	if field == MsgField {
		for _, a := range f.aliases {
			if f.hasHash(TokenHash(FieldSeed(a), token)) {
				return true
			}
		}
	}
	return false
}

// MayContainTokens reports whether the block may hold every one of tokens
// in field (all of them, not necessarily in one row). For a Hangul word,
// pass index.QueryGrams(word). No tokens: true.
func (f *Filter) MayContainTokens(field string, tokens []string) bool {
	seed := FieldSeed(field)
	for _, tok := range tokens {
		if f.hasHash(TokenHash(seed, tok)) {
			continue
		}
		if field != MsgField || !f.aliasHas(tok) {
			return false
		}
	}
	return true
}

func (f *Filter) aliasHas(tok string) bool {
	for _, a := range f.aliases {
		if f.hasHash(TokenHash(FieldSeed(a), tok)) {
			return true
		}
	}
	return false
}

// Aliases returns the fields whose keys also answer _msg lookups.
func (f *Filter) Aliases() []string { return f.aliases }

// Bits returns the filter's size in bits and its number of probes.
func (f *Filter) Bits() (m uint64, k int) { return f.m, f.k }

// hasHash reports whether every probe bit of key h is set. Probe i of key h
// is bit ((h1 + i*h2) mod 2^32) * m >> 32 with h1 = low 32 bits of h and
// h2 = (high 32 bits of h) | 1.
func (f *Filter) hasHash(h uint64) bool {
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := 0; i < f.k; i++ {
		bit := uint64(h1+uint32(i)*h2) * f.m >> 32
		if f.words[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}

func (f *Filter) setHash(h uint64) {
	h1, h2 := uint32(h), uint32(h>>32)|1
	for i := 0; i < f.k; i++ {
		bit := uint64(h1+uint32(i)*h2) * f.m >> 32
		f.words[bit>>6] |= 1 << (bit & 63)
	}
}

// Filter layout:
//
//	k        u8       probes per key, 1..16
//	aliases  u8       count, then each alias as uvarint length + bytes
//	m        uvarint  bits: a multiple of 64, 64..2^32
//	words    m/64 × u64 little endian
func buildFilter(dst []byte, keys *hashSet, bitsPerKey float64, aliases []string) []byte {
	n := keys.len()
	m := uint64(math.Ceil(float64(n)*bitsPerKey/64)) * 64
	m = min(max(m, 64), uint64(maxFilterBytes-1024)*8)
	k := int(math.Round(bitsPerKey * math.Ln2))
	k = min(max(k, 1), 16)
	f := Filter{k: k, m: m, words: make([]uint64, m/64)}
	keys.each(f.setHash)
	dst = append(dst, byte(k), byte(len(aliases)))
	for _, a := range aliases {
		dst = appendStr(dst, a)
	}
	dst = binary.AppendUvarint(dst, m)
	for _, w := range f.words {
		dst = binary.LittleEndian.AppendUint64(dst, w)
	}
	return dst
}

func decodeFilter(b []byte) (*Filter, error) {
	d := decoder{b: b}
	k := int(d.byte())
	na := int(d.byte())
	if d.err == nil && (k < 1 || k > 16 || na > maxRefs) {
		d.fail("bad filter header (k %d, %d aliases)", k, na)
	}
	var aliases []string
	for i := 0; i < na && d.err == nil; i++ {
		aliases = append(aliases, d.str(maxNameLen))
	}
	m := d.uvarint()
	if d.err == nil && (m == 0 || m%64 != 0 || m > 1<<32 || m/8 != uint64(d.remaining())) {
		d.fail("filter of %d bits in %d bytes", m, d.remaining())
	}
	if d.err != nil {
		return nil, d.err
	}
	words := make([]uint64, m/64)
	for i := range words {
		words[i] = d.u64()
	}
	if err := d.done("filter"); err != nil {
		return nil, err
	}
	return &Filter{k: k, m: m, words: words, aliases: aliases}, nil
}

// hashSet is an open-addressing set of 64-bit keys.
type hashSet struct {
	slots []uint64 // 0 = empty
	n     int
	zero  bool // key 0 is present
}

func (s *hashSet) reset() {
	clear(s.slots)
	s.n, s.zero = 0, false
}

func (s *hashSet) len() int {
	if s.zero {
		return s.n + 1
	}
	return s.n
}

func (s *hashSet) add(h uint64) {
	if h == 0 {
		s.zero = true
		return
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			s.n++
			return
		case h:
			return
		}
	}
}

func (s *hashSet) grow() {
	old := s.slots
	s.slots = make([]uint64, max(1024, 2*len(old)))
	s.n = 0
	for _, h := range old {
		if h != 0 {
			s.add(h)
		}
	}
}

func (s *hashSet) each(fn func(uint64)) {
	if s.zero {
		fn(0)
	}
	for _, h := range s.slots {
		if h != 0 {
			fn(h)
		}
	}
}

// tokenKeys collects the filter keys of one block's values.
type tokenKeys struct {
	set  hashSet
	seed uint64
	skip []string // tokens not to insert (alias values of the current row)
	gram func(string)
	// tokenHook, when set (tests), sees every token inserted.
	tokenHook func(string)
	// addPattern's scratch.
	parts   []tokPart
	vtoks   []varToken
	tplToks []int
	skipBuf []string
	buf     []byte
}

func newTokenKeys() *tokenKeys {
	t := &tokenKeys{}
	t.gram = t.onGram
	return t
}

// asciiToken marks the ASCII bytes index.IsTokenRune accepts.
var asciiToken = func() (tab [utf8.RuneSelf]bool) {
	for c := range tab {
		tab[c] = index.IsTokenRune(rune(c))
	}
	return tab
}()

// addValue inserts the keys of value's tokens and Hangul grams under seed.
// It splits tokens exactly as index.ForEachToken does (a test checks),
// without a callback per token.
func (t *tokenKeys) addValue(seed uint64, s string) {
	t.seed = seed
	start, wide := -1, false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if asciiToken[c] {
				if start < 0 {
					start, wide = i, false
				}
			} else if start >= 0 {
				t.token(s[start:i], wide)
				start = -1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if index.IsTokenRune(r) {
			if start < 0 {
				start = i
			}
			wide = true
		} else if start >= 0 {
			t.token(s[start:i], wide)
			start = -1
		}
		i += size
	}
	if start >= 0 {
		t.token(s[start:], wide)
	}
}

// token inserts one token (wide: it has non-ASCII runes, so maybe Hangul).
func (t *tokenKeys) token(tok string, wide bool) {
	for _, s := range t.skip {
		if s == tok {
			return
		}
	}
	t.set.add(xxh64(tok, t.seed))
	if t.tokenHook != nil {
		t.tokenHook(tok)
	}
	if wide {
		index.ForEachHangulGram(tok, t.gram)
	}
}

func (t *tokenKeys) onGram(g string) { t.set.add(xxh64(g, t.seed)) }

// tokPart is a piece of a token of a pattern template: literal text, or
// (code != 0) the slot-th variable of its kind.
type tokPart struct {
	lit  string
	code byte
	slot int
}

// varToken is a token of a template that touches a variable: parts
// [first, end) of tokenKeys.parts.
type varToken struct {
	first, end int
	wide       bool
}

// addPattern inserts the keys of a column the pattern encoder has just
// encoded (s holds its templates and variables), without tokenizing each
// value: a template's tokens that touch no variable are the same in all
// its rows and are inserted once; only the others are rebuilt per row.
// Treating each variable code as a token character gives the same tokens
// as the values, because a variable is a non-empty run of ASCII letters,
// digits and '_'.
func (t *tokenKeys) addPattern(seed uint64, s *patternScratch, cands []refColumn, aliasVals [][]string) {
	t.seed = seed
	t.skip = nil
	t.parts, t.vtoks = t.parts[:0], t.vtoks[:0]
	tplToks := resize(t.tplToks, len(s.tpls)+1)
	for id, tpl := range s.tpls {
		tplToks[id] = len(t.vtoks)
		t.templateTokens(tpl)
	}
	tplToks[len(s.tpls)] = len(t.vtoks)
	t.tplToks = tplToks
	skip := resize(t.skipBuf, len(aliasVals))
	t.skipBuf = skip
	for r, id := range s.rowTpl {
		vts := t.vtoks[tplToks[id]:tplToks[id+1]]
		if len(vts) == 0 {
			continue
		}
		for a := range aliasVals {
			skip[a] = aliasVals[a][r]
		}
		ints := s.ints[s.rowInt[r]:s.rowInt[r+1]]
		strs := s.strs[s.rowStr[r]:s.rowStr[r+1]]
		for _, vt := range vts {
			buf := t.buf[:0]
			for _, p := range t.parts[vt.first:vt.end] {
				switch {
				case p.code == 0:
					buf = append(buf, p.lit...)
				case p.code == codeInt:
					buf = strconv.AppendUint(buf, ints[p.slot], 10)
				case p.code == codeStr:
					buf = append(buf, strs[p.slot]...)
				default:
					buf = append(buf, cands[p.code-codeRef0].values[r]...)
				}
			}
			t.buf = buf
			t.skip = skip
			t.token(unsafeString(buf), vt.wide)
			t.skip = nil
		}
	}
}

// templateTokens inserts the tokens of tpl that touch no variable and
// appends the others to t.vtoks.
func (t *tokenKeys) templateTokens(tpl string) {
	start, seg, first, wide, vars := -1, -1, 0, false, false
	intSlot, strSlot := 0, 0
	end := func(i int) {
		if start < 0 {
			return
		}
		if !vars {
			t.token(tpl[start:i], wide)
		} else {
			if seg < i {
				t.parts = append(t.parts, tokPart{lit: tpl[seg:i]})
			}
			t.vtoks = append(t.vtoks, varToken{first: first, end: len(t.parts), wide: wide})
		}
		start, wide, vars = -1, false, false
	}
	for i := 0; i < len(tpl); {
		c := tpl[i]
		switch {
		case c >= patternFirstCode:
			if start < 0 {
				start, first = i, len(t.parts)
			} else if seg < i {
				t.parts = append(t.parts, tokPart{lit: tpl[seg:i]})
			}
			p := tokPart{code: c}
			switch c {
			case codeInt:
				p.slot = intSlot
				intSlot++
			case codeStr:
				p.slot = strSlot
				strSlot++
			}
			t.parts = append(t.parts, p)
			vars, seg = true, i+1
			i++
		case c < utf8.RuneSelf:
			if asciiToken[c] {
				if start < 0 {
					start, seg, first = i, i, len(t.parts)
				}
			} else {
				end(i)
			}
			i++
		default:
			r, size := utf8.DecodeRuneInString(tpl[i:])
			if index.IsTokenRune(r) {
				if start < 0 {
					start, seg, first = i, i, len(t.parts)
				}
				wide = true
			} else {
				end(i)
			}
			i += size
		}
	}
	end(len(tpl))
}
