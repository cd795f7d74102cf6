package storage

import (
	"errors"
	"testing"
)

func TestDictCountsMatchTheRows(t *testing.T) {
	rows := genRows(31, 5000, 3)
	fsys := newMemFS()
	p := openParts(t, fsys, [][]Row{rows}, PartMeta{Bucket: "b", Day: 1}, WriteOptions{BlockRows: 700})[0]
	for i := range p.Blocks() {
		values, counts, ok, err := p.DictCounts(i, "level")
		if err != nil || !ok {
			t.Fatalf("block %d: DictCounts(level) = ok %v, %v", i, ok, err)
		}
		blk, err := p.ReadBlock(i, []string{"level"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]uint64{}
		for r := range blk.Len() {
			want[blk.Value("level", r)]++
		}
		got := map[string]uint64{}
		for k, v := range values {
			got[v] += counts[k]
		}
		if len(got) != len(want) {
			t.Fatalf("block %d: counts %v, rows hold %v", i, got, want)
		}
		for v, n := range want {
			if got[v] != n {
				t.Fatalf("block %d: %q counted %d, held by %d rows", i, v, got[v], n)
			}
		}
		for _, other := range []string{MsgField, "trace_id", "no_such_field"} {
			if _, _, ok, err := p.DictCounts(i, other); ok || err != nil {
				t.Fatalf("block %d: DictCounts(%s) = ok %v, %v; want not a counted dictionary", i, other, ok, err)
			}
		}
	}
}

// Counts that disagree with the indexes are damage, even with valid
// checksums (a writer bug must not turn into wrong answers).
func TestDictCountsMismatchIsCorruption(t *testing.T) {
	e := newColEncoder(1)
	values := []string{"info", "error", "info", "warn", "info"}
	st := analyze(values, e.seen, &e.dict)
	if st.distinct != 3 {
		t.Fatalf("%d distinct values", st.distinct)
	}
	payload := e.appendDict(nil, values)
	d := &decoder{b: payload}
	if c := decodeDict(d, len(values), 1<<20, true); d.err != nil || c == nil {
		t.Fatalf("decode: %v", d.err)
	}
	// Re-encode with the counts of two values swapped.
	d = &decoder{b: payload}
	readDictValues(d, 1<<20)
	countsAt := d.off
	bad := append([]byte(nil), payload...)
	bad[countsAt], bad[countsAt+1] = bad[countsAt+1], bad[countsAt]
	d = &decoder{b: bad}
	decodeDict(d, len(values), 1<<20, true)
	if !errors.Is(d.err, errData) {
		t.Fatalf("swapped counts decoded: %v", d.err)
	}
}
