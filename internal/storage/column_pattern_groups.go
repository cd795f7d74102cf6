package storage

import (
	"encoding/binary"
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"
)

// patternGroupBytes is the raw size at which the writer closes a group of
// a pattern column's variables. Smaller groups make a single row cheaper
// to read (only its group is decompressed: a query that shows the 60
// error lines of a 4,000-row block skips the busy info templates'
// variables) and compress worse: on loggen data 8 KiB groups make a part
// 2 % larger than one group per block.
const patternGroupBytes = 8 << 10

// patternGroup is a run of consecutive templates [first, end) whose
// variables are packed together.
type patternGroup struct {
	first, end int
	// vars is the group's packed stream (EncPatternGroups) or the
	// column's two packed streams (EncPattern, one group).
	vars    []byte
	grouped bool
}

// readGroups reads the group directory of an EncPatternGroups column (or,
// for EncPattern, takes its two streams as one group) and steps over the
// packed streams without decoding them.
func readGroups(d *decoder, T int, grouped bool) []patternGroup {
	var groups []patternGroup
	if !grouped {
		groups = []patternGroup{{end: T}}
	} else {
		G := d.uvarintMax(uint64(T), "group count")
		if d.err == nil && G == 0 {
			d.fail("no variable groups")
		}
		groups = make([]patternGroup, 0, min(G, 1<<10))
		first := 0
		for g := 0; g < G && d.err == nil; g++ {
			k := d.uvarintMax(uint64(T-first), "templates in group")
			if d.err == nil && k == 0 {
				d.fail("empty variable group %d", g)
			}
			groups = append(groups, patternGroup{first: first, end: first + k})
			first += k
		}
		if d.err == nil && first != T {
			d.fail("variable groups hold %d of %d templates", first, T)
		}
	}
	for g := range groups {
		if d.err != nil {
			return nil
		}
		start := d.off
		skipPacked(d)
		if !grouped {
			skipPacked(d)
		}
		groups[g].vars = d.b[start:d.off:d.off]
		groups[g].grouped = grouped
	}
	if d.err != nil {
		return nil
	}
	return groups
}

// groupStreams unpacks group g's integer and string streams, which hold
// nInts and nStrs variables.
func (pd *patternData) groupStreams(g, nInts, nStrs int) (ints, strs []byte, err error) {
	grp := &pd.groups[g]
	// At most a 10-byte uvarint or 8 plane bytes per integer, plus a
	// width byte per slot; a length and the bytes per string.
	maxInts := 11*nInts + 16
	maxStrs := pd.limit + nStrs*binary.MaxVarintLen64
	d := &decoder{b: grp.vars}
	if !grp.grouped {
		ints = unpack(d, -1, maxInts)
		strs = unpack(d, -1, maxStrs)
		return ints, strs, d.done("pattern variables")
	}
	raw := unpack(d, -1, binary.MaxVarintLen64+maxInts+maxStrs)
	if err := d.done("pattern variables"); err != nil {
		return nil, nil, err
	}
	rd := &decoder{b: raw}
	n := rd.uvarintMax(uint64(maxInts), "integer variables length")
	if rd.err == nil && n > rd.remaining() {
		rd.fail("integer variables length %d exceeds the %d bytes left", n, rd.remaining())
	}
	if rd.err != nil {
		return nil, nil, rd.err
	}
	return raw[rd.off : rd.off+n : rd.off+n], raw[rd.off+n:], nil
}

// Reading one row's value (Column.ValueAt) decodes only its template's
// group: prepare counts each template's rows and resolves the references;
// groupVars unpacks a group and finds where each of its templates' slots
// start; templateVars decodes one template's variables.

// tplVars holds one template's variables: integer slot j of the
// template's k-th row is ints[j*count+k], string slots likewise.
type tplVars struct {
	count int
	ints  []uint64
	strs  []string
}

// partialState is what prepare builds, once per column.
type partialState struct {
	once   sync.Once
	counts []int32   // rows per template
	ranks  []int32   // row r is the ranks[r]-th row of its template
	refs   []*Column // the referenced columns, decoded
	groups []groupState
	vars   []atomic.Pointer[tplVars]
}

// groupState is one group unpacked, once.
type groupState struct {
	once           sync.Once
	ok             bool
	ints, strs     []byte // unpacked streams
	intOff, strOff []int  // per template of the group: offset of its first slot
	slots          []slotCounts
}

type slotCounts struct{ ints, strs int }

// prepare readies single-row reads; on damage it records the error (see
// fail) and later reads see empty values.
func (pd *patternData) prepare() {
	ps := &pd.partial
	ps.once.Do(func() {
		ps.counts = make([]int32, pd.nTemplates)
		ps.ranks = make([]int32, len(pd.ids))
		for r, id := range pd.ids {
			ps.ranks[r] = ps.counts[id]
			ps.counts[id]++
		}
		refs := make([]*Column, len(pd.refCols))
		for i, c := range pd.refCols {
			col, err := c.refColumn()
			if err != nil {
				pd.fail(err)
				return
			}
			refs[i] = col
		}
		ps.refs = refs
		ps.groups = make([]groupState, len(pd.groups))
		if pd.templates() == nil {
			return // damaged templates: reads see empty values
		}
		ps.vars = make([]atomic.Pointer[tplVars], pd.nTemplates)
	})
}

// groupOf returns the group holding template t.
func (pd *patternData) groupOf(t int) int {
	return sort.Search(len(pd.groups), func(g int) bool { return pd.groups[g].end > t })
}

// groupVars unpacks group g once; nil after damage.
func (pd *patternData) groupVars(g int) *groupState {
	gs := &pd.partial.groups[g]
	gs.once.Do(func() {
		if err := pd.unpackGroup(g, gs); err != nil {
			pd.fail(err)
			return
		}
		gs.ok = true
	})
	if !gs.ok {
		return nil
	}
	return gs
}

func (pd *patternData) unpackGroup(g int, gs *groupState) error {
	grp := &pd.groups[g]
	counts := pd.partial.counts
	nrefs := len(pd.refCols)
	gs.slots = make([]slotCounts, grp.end-grp.first)
	var nInts, nStrs int
	for k := range gs.slots {
		var tp template
		if err := countCodes(pd.texts[grp.first+k], nrefs, &tp); err != nil {
			return err
		}
		gs.slots[k] = slotCounts{ints: tp.ints, strs: tp.strs}
		count := int(counts[grp.first+k])
		nInts += count * tp.ints
		nStrs += count * tp.strs
		if nInts > maxPatternVars || nStrs > maxPatternVars {
			return dataErrorf("more than %d variables", maxPatternVars)
		}
	}
	var err error
	if gs.ints, gs.strs, err = pd.groupStreams(g, nInts, nStrs); err != nil {
		return err
	}
	gs.intOff = make([]int, len(gs.slots))
	gs.strOff = make([]int, len(gs.slots))
	intOff, strOff := 0, 0
	for k, sc := range gs.slots {
		count := int(counts[grp.first+k])
		gs.intOff[k], gs.strOff[k] = intOff, strOff
		if count < patternPlaneRows {
			intOff = skipUvarints(gs.ints, intOff, sc.ints*count)
		} else {
			for j := 0; j < sc.ints && intOff >= 0; j++ {
				if intOff >= len(gs.ints) || gs.ints[intOff] > 8 {
					return dataErrorf("integer variables: bad slot width at byte %d", intOff)
				}
				intOff += 1 + int(gs.ints[intOff])*count
			}
		}
		if intOff < 0 || intOff > len(gs.ints) {
			return dataErrorf("integer variables: unexpected end")
		}
		if strOff = skipStrings(gs.strs, strOff, sc.strs*count); strOff < 0 {
			return dataErrorf("string variables: unexpected end")
		}
	}
	if intOff != len(gs.ints) || strOff != len(gs.strs) {
		return dataErrorf("pattern variables: %d of %d integer bytes and %d of %d string bytes used",
			intOff, len(gs.ints), strOff, len(gs.strs))
	}
	return nil
}

// skipUvarints returns the offset after the k uvarints that start at off
// in b, or -1 when b ends first. It counts their last bytes (high bit
// clear) eight at a time. It does not check the encodings (more than 10
// bytes): reading the values does (readSlot).
func skipUvarints(b []byte, off, k int) int {
	const highs = 0x8080808080808080
	for k > 0 && off+8 <= len(b) {
		ends := ^binary.LittleEndian.Uint64(b[off:]) & highs
		if c := bits.OnesCount64(ends); c < k {
			k -= c
			off += 8
			continue
		}
		for ; k > 1; k-- {
			ends &= ends - 1
		}
		return off + bits.TrailingZeros64(ends)/8 + 1
	}
	for ; k > 0 && off < len(b); off++ {
		if b[off] < 0x80 {
			k--
		}
	}
	if k > 0 {
		return -1
	}
	return off
}

// skipStrings returns the offset after the k length-prefixed strings that
// start at off in b, or -1 when b ends first or a length is malformed.
func skipStrings(b []byte, off, k int) int {
	for ; k > 0; k-- {
		if off < len(b) && b[off] < 0x80 { // most lengths are one byte
			off += 1 + int(b[off])
			continue
		}
		l, n := binary.Uvarint(b[min(off, len(b)):])
		if n <= 0 || l > uint64(len(b)) {
			return -1
		}
		off += n + int(l)
	}
	if off > len(b) {
		return -1
	}
	return off
}

// templateVars decodes template t's variables once (nil after damage).
func (pd *patternData) templateVars(t int) *tplVars {
	ps := &pd.partial
	if ps.vars == nil {
		return nil
	}
	if v := ps.vars[t].Load(); v != nil {
		return v
	}
	g := pd.groupOf(t)
	gs := pd.groupVars(g)
	if gs == nil {
		return nil
	}
	k := t - pd.groups[g].first
	sc := gs.slots[k]
	count := int(ps.counts[t])
	v := &tplVars{count: count, ints: make([]uint64, sc.ints*count), strs: make([]string, sc.strs*count)}
	id := decoder{b: gs.ints, off: gs.intOff[k]}
	for j := 0; j < sc.ints; j++ {
		readSlot(&id, v.ints[j*count:(j+1)*count])
	}
	if id.err != nil {
		pd.fail(id.err) // an encoding the skip in unpackGroup did not check
		return nil
	}
	sd := decoder{b: gs.strs, off: gs.strOff[k]}
	arena := unsafeString(gs.strs)
	for i := range v.strs {
		l := sd.uvarint()
		pos := sd.off
		sd.bytes(int(l))
		v.strs[i] = arena[pos : pos+int(l)]
	}
	ps.vars[t].Store(v) // racing readers store equal values
	return v
}

// valueAt builds row r's value from its template and variables (v is
// templateVars of the row's template).
func (pd *patternData) valueAt(r int, v *tplVars) string {
	t := pd.texts[pd.ids[r]]
	k := int(pd.partial.ranks[r])
	ni, ns := k, k
	var buf [24]byte
	var stack [2048]byte // most values fit: one allocation, the string
	out := stack[:0]
	lit := 0
	for i := nextCode(t, 0); i < len(t); i = nextCode(t, i+1) {
		c := t[i]
		out = append(out, t[lit:i]...)
		lit = i + 1
		switch {
		case c == codeInt:
			n := putUint(buf[:], v.ints[ni])
			out = append(out, buf[:n]...)
			ni += v.count
		case c == codeStr:
			out = append(out, v.strs[ns]...)
			ns += v.count
		default:
			out = append(out, pd.partial.refs[c-codeRef0].ValueAt(r)...)
		}
	}
	out = append(out, t[lit:]...)
	return string(out)
}
