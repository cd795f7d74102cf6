package storage

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/model"
)

// patternGroupsValue is row i of a column whose pattern encoding needs
// several variable groups: 400 templates, 1,000 rows of about 40
// variable bytes.
func patternGroupsValue(i int) string {
	x := uint64(i+1) * 0x9E3779B97F4A7C15
	return fmt.Sprintf("op%c%c done key=%016x%016x n=%d", 'a'+i%20, 'a'+i/20%20, x, x>>7, i*37)
}

func TestPatternGroupsRoundTrip(t *testing.T) {
	var values []string
	for i := range 1000 {
		values = append(values, patternGroupsValue(i))
	}
	col := patternColumn(t, values)
	if g := len(col.pat.groups); g < 3 {
		t.Fatalf("%d variable groups, want several", g)
	}
	// Single rows, last first, before anything else is built.
	for i := len(values) - 1; i >= 0; i -= 7 {
		if got := col.ValueAt(i); got != values[i] {
			t.Fatalf("ValueAt(%d) = %q, want %q", i, got, values[i])
		}
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

// TestPatternValueAtUnpacksOnlyItsGroup: reading one row decompresses
// the variables of its template's group and no other.
func TestPatternValueAtUnpacksOnlyItsGroup(t *testing.T) {
	var values []string
	for i := range 1000 {
		values = append(values, patternGroupsValue(i))
	}
	col := patternColumn(t, values)
	pd := col.pat
	row := len(values) - 1
	if got := col.ValueAt(row); got != values[row] {
		t.Fatalf("ValueAt = %q, want %q", got, values[row])
	}
	want := pd.groupOf(int(pd.ids[row]))
	for g := range pd.partial.groups {
		if unpacked := pd.partial.groups[g].ints != nil; unpacked != (g == want) {
			t.Errorf("group %d unpacked = %v (the row's group is %d)", g, unpacked, want)
		}
	}
	if pd.ints != nil || pd.strs != nil {
		t.Error("every variable decoded for one row")
	}
}

// TestPatternUngroupedStillRead decodes an EncPattern payload written
// before groups existed (the FuzzDecodeColumn seed kept for it).
func TestPatternUngroupedStillRead(t *testing.T) {
	raw, err := os.ReadFile("testdata/fuzz/FuzzDecodeColumn/pattern-enc6")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 4 || lines[1] != "byte(6)" {
		t.Fatalf("unexpected seed file:\n%s", raw)
	}
	payload, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[3], "[]byte("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	d := &decoder{b: []byte(payload)}
	col := decodeValues(d, EncPattern, 40, 1<<20, func(string) *Column { return nil })
	if err := d.done("column"); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		want := fmt.Sprintf("took %d ms for id=%x", i*3, i*999)
		if got := col.ValueAt(i); got != want {
			t.Fatalf("ValueAt(%d) = %q, want %q", i, got, want)
		}
		if got := col.Values()[i]; got != want {
			t.Fatalf("row %d = %q, want %q", i, got, want)
		}
	}
}

// TestPatternGroupDirectoryChecked: group sizes that do not add up to
// the templates, or an empty group, are damage found at decoding.
func TestPatternGroupDirectoryChecked(t *testing.T) {
	var values []string
	for i := range 1000 {
		values = append(values, patternGroupsValue(i))
	}
	out, enc, _, _ := newColEncoder(2).appendColumn(nil, values, true, nil)
	d := &decoder{b: out}
	col := decodeValues(d, enc, len(values), 1<<20, func(string) *Column { return nil })
	if err := d.done("column"); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	groupsOff := len(out)
	for _, g := range col.pat.groups {
		sizes = append(sizes, g.end-g.first)
		groupsOff -= len(g.vars)
	}
	dirOff := groupsOff - len(directory(sizes))
	if got := directory(sizes); string(out[dirOff:groupsOff]) != string(got) {
		t.Fatalf("directory not where expected: % x, want % x", out[dirOff:groupsOff], got)
	}
	for _, bad := range [][]int{
		append([]int{sizes[0] - 1}, sizes[1:]...),
		append([]int{sizes[0] + 1}, sizes[1:]...),
		append([]int{0}, sizes...),
		{col.pat.nTemplates}, // one group, but several groups of streams follow
	} {
		payload := append(append(slices.Clone(out[:dirOff]), directory(bad)...), out[groupsOff:]...)
		d := &decoder{b: payload}
		decodeValues(d, enc, len(values), 1<<20, func(string) *Column { return nil })
		if d.done("column") == nil {
			t.Errorf("group sizes %v of %d templates accepted", bad, col.pat.nTemplates)
		}
	}
}

// directory encodes a group directory: G, then the sizes.
func directory(sizes []int) []byte {
	b := binary.AppendUvarint(nil, uint64(len(sizes)))
	for _, k := range sizes {
		b = binary.AppendUvarint(b, uint64(k))
	}
	return b
}

func TestSkipUvarints(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := 0; round < 200; round++ {
		var b []byte
		var ends []int // ends[k] = offset after k+1 varints
		for range r.IntN(40) {
			b = binary.AppendUvarint(b, r.Uint64()>>(r.IntN(64)))
			ends = append(ends, len(b))
		}
		for k := 0; k <= len(ends)+1; k++ {
			want := -1
			switch {
			case k == 0:
				want = 0
			case k <= len(ends):
				want = ends[k-1]
			}
			if got := skipUvarints(b, 0, k); got != want {
				t.Fatalf("round %d: skipUvarints(%x, 0, %d) = %d, want %d", round, b, k, got, want)
			}
		}
	}
}

func TestSkipStrings(t *testing.T) {
	var b []byte
	var ends []int
	for i := range 30 {
		b = binary.AppendUvarint(b, uint64(i*i))
		b = append(b, strings.Repeat("x", i*i)...)
		ends = append(ends, len(b))
	}
	for k := 0; k <= len(ends); k++ {
		want := 0
		if k > 0 {
			want = ends[k-1]
		}
		if got := skipStrings(b, 0, k); got != want {
			t.Fatalf("skipStrings(.., %d) = %d, want %d", k, got, want)
		}
	}
	if got := skipStrings(b, 0, len(ends)+1); got != -1 {
		t.Fatalf("past the end: %d, want -1", got)
	}
	if got := skipStrings(b[:len(b)-1], 0, len(ends)); got != -1 {
		t.Fatalf("truncated last string: %d, want -1", got)
	}
	if got := skipStrings([]byte{0x80, 0x80}, 0, 1); got != -1 {
		t.Fatalf("unterminated length: %d, want -1", got)
	}
}

// TestPatternGroupIntegersLengthChecked: a group whose integers' length
// runs past its stream is damage, not a panic (a bit flip found this).
func TestPatternGroupIntegersLengthChecked(t *testing.T) {
	pd := &patternData{limit: 1 << 20, groups: []patternGroup{{end: 1, grouped: true,
		vars: []byte{packRaw, 2, 0x02, 0xAA}}}} // L = 2, one byte follows
	if _, _, err := pd.groupStreams(0, 1, 0); err == nil {
		t.Fatal("integers longer than the group stream accepted")
	}
	pd.groups[0].vars = []byte{packRaw, 2, 0x01, 0xAA} // L = 1: fits
	ints, strs, err := pd.groupStreams(0, 1, 0)
	if err != nil || string(ints) != "\xaa" || len(strs) != 0 {
		t.Fatalf("ints %x strs %x err %v", ints, strs, err)
	}
}

// TestPatternTemplatesClusteredByLevel: with a level column, templates
// are ordered by level (the level with most rows first) and no variable
// group mixes levels, so reading the error rows unpacks only groups of
// error templates.
func TestPatternTemplatesClusteredByLevel(t *testing.T) {
	var values, levels []string
	for i := range 3000 {
		lvl := []string{"info", "info", "info", "warn", "error"}[i%5]
		levels = append(levels, lvl)
		values = append(values, fmt.Sprintf("%s event%c%c key=%016x n=%d", lvl, 'a'+i%7, 'a'+i/7%9, uint64(i)*0x9E3779B97F4A7C15, i))
	}
	e := newColEncoder(2)
	e.cluster = levels
	out, enc, _, _ := e.appendColumn(nil, values, true, nil)
	d := &decoder{b: out}
	col := decodeValues(d, enc, len(values), 1<<20, func(string) *Column { return nil })
	if err := d.done("column"); err != nil {
		t.Fatal(err)
	}
	pd := col.pat
	level := func(tpl int) string { return strings.Fields(pd.templates()[tpl])[0] }
	if l := level(0); l != "info" {
		t.Errorf("first template is %s, want info (most rows)", l)
	}
	for _, g := range pd.groups {
		for tpl := g.first; tpl < g.end; tpl++ {
			if level(tpl) != level(g.first) {
				t.Fatalf("group [%d,%d) mixes %s and %s templates", g.first, g.end, level(g.first), level(tpl))
			}
		}
	}
	for i := range values {
		if got := col.ValueAt(i); got != values[i] {
			t.Fatalf("ValueAt(%d) = %q, want %q", i, got, values[i])
		}
	}
	// The same values without the level column: most used first only,
	// and groups mix levels.
	out, enc, _, _ = newColEncoder(2).appendColumn(nil, values, true, nil)
	d = &decoder{b: out}
	plain := decodeValues(d, enc, len(values), 1<<20, func(string) *Column { return nil }).pat
	mixed := false
	for _, g := range plain.groups {
		for tpl := g.first; tpl < g.end; tpl++ {
			mixed = mixed || strings.Fields(plain.templates()[tpl])[0] != strings.Fields(plain.templates()[g.first])[0]
		}
	}
	if !mixed {
		t.Fatal("without a level column the groups are already by level: the test shows nothing")
	}
}

// TestWrittenBlocksClusterByLevel: the part writer orders a block's
// message templates by its level column.
func TestWrittenBlocksClusterByLevel(t *testing.T) {
	rows := repeatRows(3000, func(i int) model.Record {
		lvl := []string{"info", "info", "info", "warn", "error"}[i%5]
		return rec(fmt.Sprintf("%s event%c%c key=%016x n=%d", lvl, 'a'+i%7, 'a'+i/7%9, uint64(i)*0x9E3779B97F4A7C15, i), "level", lvl)
	})
	p, _ := writeAndOpen(t, newMemFS(), "/p", rows, DefaultWriteOptions())
	b, err := p.ReadBlock(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	pd := b.Column(MsgField).pat
	if len(pd.groups) < 3 {
		t.Fatalf("%d groups", len(pd.groups))
	}
	for _, g := range pd.groups {
		first := strings.Fields(pd.templates()[g.first])[0]
		for tpl := g.first; tpl < g.end; tpl++ {
			if l := strings.Fields(pd.templates()[tpl])[0]; l != first {
				t.Fatalf("group [%d,%d) mixes %s and %s templates", g.first, g.end, first, l)
			}
		}
	}
}

func TestNextCode(t *testing.T) {
	tpl := "took \xf8 ms for a very long literal stretch id=\xf9 then \xfa, done"
	var got []int
	for i := nextCode(tpl, 0); i < len(tpl); i = nextCode(tpl, i+1) {
		got = append(got, i)
	}
	var want []int
	for i := 0; i < len(tpl); i++ {
		if tpl[i] >= patternFirstCode {
			want = append(want, i)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("codes at %v, want %v", got, want)
	}
	if nextCode("no codes at all in here", 0) != len("no codes at all in here") {
		t.Fatal("a template without codes has one")
	}
}
