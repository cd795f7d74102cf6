package storage

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// patternColumn encodes values as EncPatternGroups and decodes them again.
func patternColumn(t *testing.T, values []string) *Column {
	t.Helper()
	out, enc, _, _ := newColEncoder(2).appendColumn(nil, values, true, nil)
	if enc != EncPatternGroups {
		t.Fatalf("encoding %v, want pattern+groups", enc)
	}
	d := &decoder{b: out}
	col := decodeValues(d, enc, len(values), 1<<20, func(string) *Column { return nil })
	if err := d.done("column"); err != nil {
		t.Fatal(err)
	}
	return col
}

func TestPatternVariablesDecodedOnFirstUse(t *testing.T) {
	var values []string
	for i := range 40 {
		values = append(values, fmt.Sprintf("took %d ms for id=x%dy", i*3, i*999))
	}
	col := patternColumn(t, values)
	if col.pat.ints != nil || col.pat.strs != nil || col.pat.texts != nil {
		t.Fatal("templates or variables decoded before any value was used")
	}
	p, _ := col.Pattern()
	if len(p.Templates) == 0 || len(p.IDs) != len(values) {
		t.Fatalf("pattern view: %d templates, %d ids", len(p.Templates), len(p.IDs))
	}
	if got := col.ValueAt(7); got != values[7] {
		t.Fatalf("ValueAt(7) = %q, want %q", got, values[7])
	}
	for i, v := range col.Values() {
		if v != values[i] {
			t.Fatalf("row %d = %q, want %q", i, v, values[i])
		}
	}
	if err := col.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestPatternDamagedVariablesReportedLazily(t *testing.T) {
	var values []string
	for i := range 40 {
		values = append(values, fmt.Sprintf("took %d ms for id=x%dy", i*3, i*999))
	}
	col := patternColumn(t, values)
	// Two well-formed but empty packed streams where the variables should
	// be: decoding succeeded, using a value finds the damage.
	col.pat.groups = []patternGroup{{end: col.pat.nTemplates, vars: []byte{packRaw, 0, packRaw, 0}}}
	col.pat.corrupt = func(err error) error {
		return &CorruptionError{Path: "p", Section: "block 0 column _msg", Err: err}
	}
	if err := col.Err(); err != nil {
		t.Fatalf("Err before use = %v", err)
	}
	for i := range values {
		if v := col.ValueAt(i); v != "" {
			t.Fatalf("damaged row %d reads %q, want empty", i, v)
		}
	}
	if v := col.Values(); len(v) != len(values) || v[0] != "" {
		t.Fatalf("Values = %q", v[:1])
	}
	err := col.Err()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Err = %v, want ErrCorrupt", err)
	}
	blk := &Block{msg: col}
	if !errors.Is(blk.Err(), ErrCorrupt) {
		t.Fatalf("Block.Err = %v", blk.Err())
	}
}

func TestHasCodeByte(t *testing.T) {
	for i := 0; i < 8; i++ {
		for _, c := range []byte{0x00, 0x7F, 0x80, 0xED, 0xF7, 0xF8, 0xFA, 0xFF} {
			var b [8]byte
			for k := range b {
				b[k] = 'a'
			}
			b[i] = c
			if got, want := hasCodeByte(le64(string(b[:]), 0)), c >= 0xF8; got != want {
				t.Errorf("byte %#x at %d: hasCodeByte = %v, want %v", c, i, got, want)
			}
		}
	}
}

// TestReadPlanesNeverReusesThePayload: a plane stored raw is the payload
// itself; keeping it as a decode buffer for later planes would overwrite
// the payload of a block still in use (templates and dictionary values
// alias it).
func TestReadPlanesNeverReusesThePayload(t *testing.T) {
	p := newPacker(1)
	rnd := uint64(1)
	raw := make([]int64, 1000)
	for i := range raw {
		rnd = rnd*6364136223846793005 + 1442695040888963407
		raw[i] = int64(rnd >> 56) // random bytes: a raw plane
	}
	var scratch []uint64
	first := p.appendInts(nil, raw, &scratch)
	kept := append([]byte(nil), first...)
	if got := readInts(&decoder{b: first}, len(raw), nil); len(got) != len(raw) || got[7] != raw[7] {
		t.Fatal("first sequence decoded wrong")
	}
	// A second, smaller sequence whose planes are decoded (RLE, Huffman)
	// into the pooled buffers.
	second := make([]int64, 800)
	for i := range second {
		second[i] = 256
	}
	second[0] = 0
	if got := readInts(&decoder{b: p.appendInts(nil, second, &scratch)}, len(second), nil); got[1] != 256 {
		t.Fatal("second sequence decoded wrong")
	}
	if !bytes.Equal(first, kept) {
		t.Fatal("decoding the second sequence overwrote the first one's payload")
	}
}

// countCodes agrees with a byte-by-byte count on random templates, and
// refuses a reference code beyond the column's references.
func TestCountCodesMatchesByteScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 2000 {
		b := make([]byte, r.IntN(300))
		for i := range b {
			switch r.IntN(10) {
			case 0:
				b[i] = byte(0xF8 + r.IntN(8)) // a code, or 0xFE/0xFF
			case 1:
				b[i] = byte(0x80 + r.IntN(0x78)) // UTF-8 continuation and lead bytes
			default:
				b[i] = byte(' ' + r.IntN(95))
			}
		}
		nrefs := r.IntN(maxRefs + 1)
		var want template
		wantErr := false
		for _, c := range b {
			switch {
			case c < patternFirstCode:
				want.litLen++
			case c == codeInt:
				want.ints++
			case c == codeStr:
				want.strs++
			case int(c-codeRef0) < nrefs:
				want.refs[c-codeRef0]++
			default:
				wantErr = true
			}
		}
		var got template
		err := countCodes(string(b), nrefs, &got)
		if (err != nil) != wantErr {
			t.Fatalf("%q with %d refs: error %v, want error %v", b, nrefs, err, wantErr)
		}
		if !wantErr && got != want {
			t.Fatalf("%q with %d refs: %+v, want %+v", b, nrefs, got, want)
		}
	}
}
