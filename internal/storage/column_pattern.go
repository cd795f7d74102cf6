package storage

import (
	"cmp"
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// EncPattern splits each value into a template and variables. A word is a
// maximal run of ASCII letters, digits and '_'; a word holding a digit is a
// variable: the same row's value of a reference column when equal to it,
// else prefix + integer when its digits are a canonical decimal after a
// digit-free prefix (u397178, item_11546, 3306), else a string variable.
// The template keeps everything else, with one code byte per variable:
//
//	0xF8 integer, 0xF9 string, 0xFA+r reference r (r < 4)
//
// so the encoding is only used when no value holds a byte >= 0xF8.
//
// Payload:
//
//	refs       u8 count r (0..4), then r column names (uvarint length + bytes)
//	T          uvarint number of templates, 1..n
//	templates  packed stream of T × (uvarint length + bytes), most used
//	           first (by level first, see appendPattern)
//	ids        ints sequence: each row's template number
//	integers   packed stream; for each template t in order, for each of its
//	           integer slots, the values of t's rows in row order: with
//	           fewer than 16 rows as uvarints, else a width byte w and w
//	           byte planes (little endian) of the rows' values
//	strings    packed stream; for each template, for each string slot, for
//	           each of its rows: uvarint length + bytes
//
// EncPatternGroups (what the writer writes) cuts the variables into
// groups of consecutive templates, each with its own two streams, so
// reading one row's value decompresses only its template's group
// (column_pattern_groups.go):
//
//	refs, T, templates, ids   as above
//	G          uvarint number of groups, 1..T
//	sizes      G × uvarint: templates in each group (each >= 1, sum T)
//	groups     G × packed stream: uvarint length L of the group's
//	           integers, L bytes of them, then its strings (as above,
//	           for the group's templates only)
const (
	patternFirstCode = 0xF8
	codeInt          = 0xF8
	codeStr          = 0xF9
	codeRef0         = 0xFA
	maxRefs          = 4
	patternPlaneRows = 16
	// maxPatternVars bounds the variables of one block's column (the
	// writer falls back to EncStrings beyond it).
	maxPatternVars = 1 << 20
)

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// refColumn is a column a pattern may reference.
type refColumn struct {
	name   string
	values []string
}

// patternScratch holds the pattern encoder's reusable state.
type patternScratch struct {
	ids    map[string]int
	tpls   []string
	counts []int
	first  []int32 // each template's first row
	rowTpl []int32
	ints   []uint64
	rowInt []int32 // row r's integers are ints[rowInt[r]:rowInt[r+1]]
	strs   []string
	rowStr []int32
	order  []int32 // rows grouped by template
	tpl    []byte
	out    []byte
	groups []byte // the packed groups, before their sizes are written
	grp    []byte // one group's raw stream
	sizes  []int
}

// appendPattern appends values as EncPattern; ok is false when the
// values do not suit it (then dst is returned unchanged). The scratch
// keeps the split values until the next call (addPattern reads them).
func (e *colEncoder) appendPattern(dst []byte, values []string, cands []refColumn) (out []byte, refs []string, ok bool) {
	s := &e.pat
	used, ok := s.split(values, cands)
	if !ok {
		return dst, nil, false
	}
	// Compact the used references.
	var refMap [maxRefs]byte
	for c := range cands {
		if used[c] {
			refMap[c] = byte(len(refs))
			refs = append(refs, cands[c].name)
		}
	}
	dst = append(dst, byte(len(refs)))
	for _, r := range refs {
		dst = appendStr(dst, r)
	}
	// Most used templates first; with a cluster column, templates of the
	// same level together (the level with most rows first).
	T := len(s.tpls)
	rank := make([]int32, T)
	for i := range rank {
		rank[i] = int32(i)
	}
	key := func(t int32) string { return "" }
	var keyRows map[string]int
	if e.cluster != nil {
		key = func(t int32) string { return e.cluster[s.first[t]] }
		keyRows = make(map[string]int)
		for t := range s.tpls {
			keyRows[key(int32(t))] += s.counts[t]
		}
	}
	slices.SortStableFunc(rank, func(a, b int32) int {
		if ka, kb := key(a), key(b); ka != kb {
			if c := cmp.Compare(keyRows[kb], keyRows[ka]); c != 0 {
				return c
			}
			return strings.Compare(ka, kb)
		}
		return cmp.Compare(s.counts[b], s.counts[a])
	})
	newID := make([]int32, T)
	for i, t := range rank {
		newID[t] = int32(i)
	}
	dst = binary.AppendUvarint(dst, uint64(T))
	buf := e.buf[:0]
	for _, t := range rank {
		tpl := s.tpls[t]
		buf = binary.AppendUvarint(buf, uint64(len(tpl)))
		for i := 0; i < len(tpl); i++ {
			c := tpl[i]
			if c >= codeRef0 && c < codeRef0+maxRefs {
				c = codeRef0 + refMap[c-codeRef0]
			}
			buf = append(buf, c)
		}
	}
	dst = e.p.pack(dst, buf, hintText)
	ids := e.i64[:0]
	for _, t := range s.rowTpl {
		ids = append(ids, int64(newID[t]))
	}
	e.i64, e.buf = ids, buf
	dst = e.p.appendInts(dst, ids, &e.u64)
	var keys []string // each new template's cluster key
	if e.cluster != nil {
		keys = make([]string, T)
		for i, t := range rank {
			keys[i] = key(t)
		}
	}
	return e.appendVariables(dst, newID, keys), refs, true
}

// split splits every value into s: templates, their use counts, each
// row's template and variables. It reports which candidates were
// referenced, and false when the values do not suit the encoding.
func (s *patternScratch) split(values []string, cands []refColumn) (used [maxRefs]bool, ok bool) {
	n := len(values)
	if s.ids == nil {
		s.ids = make(map[string]int)
	}
	clear(s.ids)
	s.tpls, s.counts, s.first = s.tpls[:0], s.counts[:0], s.first[:0]
	s.rowTpl = resize(s.rowTpl, n)
	s.ints, s.strs = s.ints[:0], s.strs[:0]
	s.rowInt = append(s.rowInt[:0], 0)
	s.rowStr = append(s.rowStr[:0], 0)
	for r, v := range values {
		tpl := s.splitValue(r, v, cands, &used)
		id, found := s.ids[string(tpl)]
		if !found {
			id = len(s.tpls)
			t := string(tpl)
			s.ids[t] = id
			s.tpls = append(s.tpls, t)
			s.counts = append(s.counts, 0)
			s.first = append(s.first, int32(r))
		}
		s.counts[id]++
		s.rowTpl[r] = int32(id)
		s.rowInt = append(s.rowInt, int32(len(s.ints)))
		s.rowStr = append(s.rowStr, int32(len(s.strs)))
		if len(s.ints)+len(s.strs) > maxPatternVars {
			return used, false
		}
	}
	// Nearly all templates unique: plain strings are smaller.
	return used, 10*len(s.tpls) <= 9*n+40
}

// splitValue returns row r's template (in s.tpl) and appends its
// variables to s.ints and s.strs.
func (s *patternScratch) splitValue(r int, v string, cands []refColumn, used *[maxRefs]bool) []byte {
	tpl := s.tpl[:0]
	lit := 0
	for i := 0; i < len(v); {
		if !isWordByte(v[i]) {
			i++
			continue
		}
		j, digit := i, false
		for ; j < len(v) && isWordByte(v[j]); j++ {
			if v[j] >= '0' && v[j] <= '9' {
				digit = true
			}
		}
		if !digit {
			i = j
			continue
		}
		w := v[i:j]
		tpl = append(tpl, v[lit:i]...)
		ref := -1
		for c := range cands {
			if cands[c].values[r] == w {
				ref = c
				break
			}
		}
		if ref >= 0 {
			tpl = append(tpl, byte(codeRef0+ref))
			used[ref] = true
		} else if p := intPrefix(w); canonicalUint(w[len(p):]) {
			tpl = append(tpl, p...)
			tpl = append(tpl, codeInt)
			s.ints = append(s.ints, parseUint(w[len(p):]))
		} else {
			tpl = append(tpl, codeStr)
			s.strs = append(s.strs, w)
		}
		lit, i = j, j
	}
	tpl = append(tpl, v[lit:]...)
	s.tpl = tpl
	return tpl
}

// appendVariables appends the groups of integer and string streams: for
// each template in new order, slot by slot, the rows' values in row
// order; a group closes once its raw streams hold patternGroupBytes, and
// where the cluster key changes (keys, per new template; nil for none),
// so that the variables of a level's templates share no group with
// another level's.
func (e *colEncoder) appendVariables(dst []byte, newID []int32, keys []string) []byte {
	s := &e.pat
	T := len(newID)
	start := make([]int32, T+1)
	for _, t := range s.rowTpl {
		start[newID[t]+1]++
	}
	for i := 1; i <= T; i++ {
		start[i] += start[i-1]
	}
	s.order = resize(s.order, len(s.rowTpl))
	fill := slices.Clone(start[:T])
	for r, t := range s.rowTpl {
		nt := newID[t]
		s.order[fill[nt]] = int32(r)
		fill[nt]++
	}
	buf := e.buf[:0]
	sbuf := s.out[:0]
	packed := s.groups[:0]
	sizes := s.sizes[:0]
	first, intStart, strStart := 0, 0, 0
	for nt := 0; nt < T; nt++ {
		if rows := s.order[start[nt]:start[nt+1]]; len(rows) > 0 {
			r0 := rows[0]
			for j := 0; j < int(s.rowInt[r0+1]-s.rowInt[r0]); j++ {
				buf = appendSlot(buf, s.ints, s.rowInt, rows, j)
			}
			for j := 0; j < int(s.rowStr[r0+1]-s.rowStr[r0]); j++ {
				for _, r := range rows {
					sbuf = appendStr(sbuf, s.strs[s.rowStr[r]+int32(j)])
				}
			}
		}
		if nt == T-1 || len(buf)-intStart+len(sbuf)-strStart >= patternGroupBytes || keys != nil && keys[nt+1] != keys[nt] {
			grp := binary.AppendUvarint(s.grp[:0], uint64(len(buf)-intStart))
			grp = append(append(grp, buf[intStart:]...), sbuf[strStart:]...)
			packed = e.p.pack(packed, grp, hintText)
			s.grp = grp
			sizes = append(sizes, nt+1-first)
			first, intStart, strStart = nt+1, len(buf), len(sbuf)
		}
	}
	dst = binary.AppendUvarint(dst, uint64(len(sizes)))
	for _, k := range sizes {
		dst = binary.AppendUvarint(dst, uint64(k))
	}
	dst = append(dst, packed...)
	e.buf, s.out, s.groups, s.sizes = buf, sbuf, packed, sizes
	return dst
}

// appendSlot appends integer slot j of rows.
func appendSlot(dst []byte, ints []uint64, rowInt []int32, rows []int32, j int) []byte {
	if len(rows) < patternPlaneRows {
		for _, r := range rows {
			dst = binary.AppendUvarint(dst, ints[rowInt[r]+int32(j)])
		}
		return dst
	}
	var hi uint64
	for _, r := range rows {
		hi = max(hi, ints[rowInt[r]+int32(j)])
	}
	w := byteWidth(hi)
	dst = append(dst, byte(w))
	for b := 0; b < w; b++ {
		shift := uint(8 * b)
		for _, r := range rows {
			dst = append(dst, byte(ints[rowInt[r]+int32(j)]>>shift))
		}
	}
	return dst
}

// tplOp is one step of rebuilding a value: literal text, then optionally a
// variable (code 0: none).
type tplOp struct {
	lit  string
	code byte
}

type template struct {
	text       string
	litLen     int
	ints, strs int // slots
	refs       [maxRefs]int
	intBase    int // index of slot 0 of this template in the integer values
	strBase    int
	count      int // rows
}

// patternData is a decoded pattern column. Decoding reads the templates
// and each row's template eagerly (filters on templates need nothing
// else); the variables and the referenced columns' values are read on
// the first use of a value: all of them for every value (load), or one
// group's for a single row (ValueAt, column_pattern_groups.go). A query
// whose filters are decided by the templates never pays for them.
type patternData struct {
	// The templates: T of them, packed until first used (templates).
	nTemplates  int
	packedTexts []byte
	textsOnce   sync.Once
	texts       []string
	tpls        []template // their layout, built by layout
	ids         []uint32
	refCols     []*Column
	groups      []patternGroup // the variables, still packed
	limit       int
	litSize     int // bytes of all rows' literal text
	nInts       int
	nStrs       int
	// corrupt wraps damage found by load with where it is (the part's
	// CorruptionError); nil leaves it as is.
	corrupt func(error) error

	partial    partialState // single-row reads (ValueAt)
	layoutOnce sync.Once
	layoutErr  error
	loadOnce   sync.Once
	ints       []uint64
	strs       []string
	refs       [][]string
	total      int                   // bytes of all values
	err        atomic.Pointer[error] // set by load when the variables are damaged
}

// countCodes scans template t: the number of each kind of variable code
// and the bytes of literal text. Each code is counted with strings.Count,
// which the runtime vectorises: a template is mostly literal text, and
// this runs over every template of a block whenever one of its messages
// is built.
func countCodes(t string, nrefs int, tp *template) error {
	tp.ints = strings.Count(t, codeStrings[0])
	tp.strs = strings.Count(t, codeStrings[1])
	codes := tp.ints + tp.strs
	for r := range codeStrings[2:] {
		k := strings.Count(t, codeStrings[2+r])
		if k == 0 {
			continue
		}
		if r >= nrefs {
			return dataErrorf("template code %#x with %d references", codeRef0+r, nrefs)
		}
		tp.refs[r] = k
		codes += k
	}
	tp.litLen = len(t) - codes
	return nil
}

// codeStrings are the one-byte strings of every byte >= 0xF8: the
// integer and string codes, then references 0..3, then two bytes no
// template may hold.
var codeStrings = [8]string{"\xf8", "\xf9", "\xfa", "\xfb", "\xfc", "\xfd", "\xfe", "\xff"}

// hasCodeByte reports whether any byte of the 8 in x is >= 0xF8.
func hasCodeByte(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	y := (x & (0xF8 * ones)) ^ (0xF8 * ones) // zero bytes where the top 5 bits are set
	return (y-ones)&^y&highs != 0
}

// nextCode returns the index of the first variable code in template t at
// or after i, len(t) if none: eight bytes at a time through literal text.
func nextCode(t string, i int) int {
	for ; i < len(t); i++ {
		for i+8 <= len(t) && !hasCodeByte(le64(t, i)) {
			i += 8
		}
		if i < len(t) && t[i] >= patternFirstCode {
			return i
		}
	}
	return len(t)
}

// templateOps splits template t into its steps, appending them to ops.
func templateOps(t string, ops []tplOp) []tplOp {
	lit := 0
	for i := nextCode(t, 0); i < len(t); i = nextCode(t, i+1) {
		ops = append(ops, tplOp{lit: t[lit:i], code: t[i]})
		lit = i + 1
	}
	return append(ops, tplOp{lit: t[lit:]})
}

// decodePattern decodes an EncPattern or (grouped) EncPatternGroups
// column; cols looks up the referenced columns of the block (already
// decoded). It checks the templates, template ids and group sizes; the
// variables are checked when first used (Column.Err reports damage found
// then).
func decodePattern(d *decoder, n, limit int, cols func(string) *Column, grouped bool) *Column {
	nrefs := int(d.byte())
	if d.err == nil && nrefs > maxRefs {
		d.fail("%d references", nrefs)
	}
	pd := &patternData{refCols: make([]*Column, nrefs), limit: limit}
	for i := range pd.refCols {
		name := d.str(maxNameLen)
		if d.err != nil {
			return nil
		}
		c := cols(name)
		if c == nil || c.enc == EncPattern || c.n != n {
			d.fail("reference to missing column %q", name)
			return nil
		}
		pd.refCols[i] = c
	}
	T := d.uvarintMax(uint64(n), "template count")
	if d.err == nil && T == 0 {
		d.fail("no templates")
	}
	start := d.off
	skipPacked(d)
	if d.err != nil {
		return nil
	}
	pd.nTemplates, pd.packedTexts = T, d.b[start:d.off:d.off]
	ids := readInts(d, n, nil)
	if d.err != nil {
		return nil
	}
	pd.ids = make([]uint32, n)
	for r, id := range ids {
		if id < 0 || id >= int64(T) {
			d.fail("template id %d of %d", id, T)
			return nil
		}
		pd.ids[r] = uint32(id)
	}
	if pd.groups = readGroups(d, T, grouped); d.err != nil {
		return nil
	}
	return &Column{enc: EncPattern, n: n, pat: pd}
}

// skipPacked steps over a packed byte stream without decoding it.
func skipPacked(d *decoder) {
	mode := d.byte()
	rawLen := d.uvarint()
	switch {
	case d.err != nil:
	case mode == packRaw:
		d.bytes(int(min(rawLen, uint64(d.remaining()+1))))
	case mode == packRLE:
		d.byte()
	case mode == packZstd || mode == packHuff:
		d.bytes(d.uvarintMax(uint64(d.remaining()), "encoded stream length"))
	default:
		d.fail("unknown stream mode %d", mode)
	}
}

// load reads the variables and the referenced columns' values, once. On
// damage it sets pd.err and leaves every variable empty.
func (pd *patternData) load() {
	pd.loadOnce.Do(func() {
		if err := pd.ensureLayout(); err != nil {
			pd.fail(err)
			return
		}
		var digits, strBytes int
		pd.ints = make([]uint64, pd.nInts)
		pd.strs = make([]string, pd.nStrs)
		for g := range pd.groups {
			grp := &pd.groups[g]
			tpls := pd.tpls[grp.first:grp.end]
			first, last := &tpls[0], &tpls[len(tpls)-1]
			ints := pd.ints[first.intBase : last.intBase+last.count*last.ints]
			strs := pd.strs[first.strBase : last.strBase+last.count*last.strs]
			rawInts, rawStrs, err := pd.groupStreams(g, len(ints), len(strs))
			var n, m int
			if err == nil {
				n, err = readSlots(rawInts, tpls, ints)
			}
			if err == nil {
				m, err = readStrSlots(rawStrs, strs)
			}
			if err != nil {
				pd.ints, pd.strs = nil, nil
				pd.fail(err)
				return
			}
			digits += n
			strBytes += m
		}
		pd.refs = make([][]string, len(pd.refCols))
		pd.total = pd.litSize + digits + strBytes
		for i, c := range pd.refCols {
			vals, err := c.refValues()
			if err != nil {
				pd.fail(err)
				return
			}
			pd.refs[i] = vals
		}
		for r, id := range pd.ids {
			tp := &pd.tpls[id]
			for ref := range pd.refs {
				pd.total += tp.refs[ref] * len(pd.refs[ref][r])
			}
		}
		if pd.total > pd.limit {
			pd.fail(dataErrorf("pattern column of %d bytes exceeds %d", pd.total, pd.limit))
		}
	})
}

// ensureLayout runs layout once.
func (pd *patternData) ensureLayout() error {
	pd.layoutOnce.Do(func() { pd.layoutErr = pd.layout() })
	return pd.layoutErr
}

// layout counts each template's variables and rows, places its slots in
// the variable streams and splits it into steps.
func (pd *patternData) layout() error {
	nrefs := len(pd.refCols)
	texts := pd.templates()
	if texts == nil {
		return *pd.err.Load()
	}
	pd.tpls = make([]template, len(texts))
	for i := range pd.tpls {
		pd.tpls[i].text = texts[i]
		if err := countCodes(pd.tpls[i].text, nrefs, &pd.tpls[i]); err != nil {
			return err
		}
	}
	for _, id := range pd.ids {
		tp := &pd.tpls[id]
		tp.count++
		pd.litSize += tp.litLen
	}
	if pd.litSize > pd.limit {
		return dataErrorf("pattern column of %d bytes exceeds %d", pd.litSize, pd.limit)
	}
	for i := range pd.tpls {
		tp := &pd.tpls[i]
		tp.intBase, tp.strBase = pd.nInts, pd.nStrs
		pd.nInts += tp.count * tp.ints
		pd.nStrs += tp.count * tp.strs
		if pd.nInts > maxPatternVars || pd.nStrs > maxPatternVars {
			return dataErrorf("more than %d variables", maxPatternVars)
		}
	}
	return nil
}

// allOps splits every template into its steps (for building all values).
func (pd *patternData) allOps() [][]tplOp {
	n := 0
	for i := range pd.tpls {
		n += pd.tpls[i].ints + pd.tpls[i].strs + 1
		for ref := range pd.refCols {
			n += pd.tpls[i].refs[ref]
		}
	}
	all := make([]tplOp, 0, n)
	out := make([][]tplOp, len(pd.tpls))
	for i := range pd.tpls {
		first := len(all)
		all = templateOps(pd.tpls[i].text, all)
		out[i] = all[first:len(all):len(all)]
	}
	return out
}

// fail records damage found while loading: the column's values then all
// read as "" (materialize, ValueAt) and Column.Err reports it.
func (pd *patternData) fail(err error) {
	if pd.corrupt != nil {
		err = pd.corrupt(err)
	}
	pd.err.CompareAndSwap(nil, &err)
}

// templates unpacks and splits the templates once; nil after damage
// (recorded, see fail).
func (pd *patternData) templates() []string {
	pd.textsOnce.Do(func() {
		texts, err := splitTemplates(pd.packedTexts, pd.nTemplates, pd.limit)
		if err != nil {
			pd.fail(err)
			return
		}
		pd.texts = texts
	})
	return pd.texts
}

// splitTemplates unpacks the templates stream of T templates and splits
// it. The template texts alias the unpacked stream; their variable codes
// are checked where they are used (countCodes).
func splitTemplates(packed []byte, T, limit int) ([]string, error) {
	d := &decoder{b: packed}
	raw := unpack(d, -1, limit+T*binary.MaxVarintLen64)
	if err := d.done("templates"); err != nil {
		return nil, err
	}
	arena := unsafeString(raw) // raw is never modified: fresh or a read buffer
	texts := make([]string, T)
	td := decoder{b: raw}
	for i := range texts {
		l := td.uvarintMax(uint64(len(raw)), "template length")
		pos := td.off
		td.bytes(l)
		if td.err != nil {
			return nil, td.err
		}
		texts[i] = arena[pos : pos+l]
	}
	if err := td.done("templates"); err != nil {
		return nil, err
	}
	return texts, nil
}

// readSlots reads the integer variables of tpls from their unpacked
// stream into vals (their number of slots times rows); it returns their
// digits.
func readSlots(raw []byte, tpls []template, vals []uint64) (int, error) {
	sd := decoder{b: raw}
	k := 0
	for i := range tpls {
		tp := &tpls[i]
		for j := 0; j < tp.ints && sd.err == nil; j++ {
			readSlot(&sd, vals[k:k+tp.count])
			k += tp.count
		}
	}
	if err := sd.done("integer variables"); err != nil {
		return 0, err
	}
	digits := 0
	for _, v := range vals {
		digits += decimalLen(v)
	}
	return digits, nil
}

// readSlot reads one integer slot of len(slot) rows.
func readSlot(sd *decoder, slot []uint64) {
	if len(slot) < patternPlaneRows {
		for r := range slot {
			slot[r] = sd.uvarint()
		}
		return
	}
	w := int(sd.byte())
	if w > 8 {
		sd.fail("slot width %d", w)
	}
	for b := 0; b < w && sd.err == nil; b++ {
		plane := sd.bytes(len(slot))
		shift := uint(8 * b)
		for r, c := range plane {
			slot[r] |= uint64(c) << shift
		}
	}
}

// readStrSlots reads len(vals) string variables from their unpacked
// stream into vals; it returns their bytes.
func readStrSlots(raw []byte, vals []string) (int, error) {
	arena := unsafeString(raw)
	sd := decoder{b: raw}
	size := 0
	for i := range vals {
		l := sd.uvarintMax(uint64(len(raw)), "variable length")
		pos := sd.off
		sd.bytes(l)
		if sd.err != nil {
			return 0, sd.err
		}
		vals[i] = arena[pos : pos+l]
		size += l
	}
	return size, sd.done("string variables")
}

// materialize builds the values of a pattern column (its size was checked
// when it was decoded).
func (c *Column) materialize() {
	pd := c.pat
	pd.load()
	if pd.err.Load() != nil {
		c.values = make([]string, c.n)
		return
	}
	ops := pd.allOps()
	rank := make([]int, len(pd.tpls))
	arena := make([]byte, pd.total)
	values := make([]string, len(pd.ids))
	s := unsafeString(arena)
	pos := 0
	for r, id := range pd.ids {
		tp := &pd.tpls[id]
		k := rank[id]
		rank[id]++
		ni, ns := tp.intBase+k, tp.strBase+k
		start := pos
		for _, op := range ops[id] {
			pos += copy(arena[pos:], op.lit)
			switch {
			case op.code == 0:
			case op.code == codeInt:
				pos += putUint(arena[pos:], pd.ints[ni])
				ni += tp.count
			case op.code == codeStr:
				pos += copy(arena[pos:], pd.strs[ns])
				ns += tp.count
			default:
				pos += copy(arena[pos:], pd.refs[op.code-codeRef0][r])
			}
		}
		values[r] = s[start:pos]
	}
	c.values = values
}

// putUint writes v in decimal at the start of dst and returns its length.
func putUint(dst []byte, v uint64) int {
	n := decimalLen(v)
	for i := n - 1; i > 0; i-- {
		q := v / 10
		dst[i] = byte('0' + v - q*10)
		v = q
	}
	dst[0] = byte('0' + v)
	return n
}

// Pattern is the template view of an EncPattern column, for filters that
// need not build the values. Templates[IDs[i]] is row i's template: its
// text with each variable replaced by one byte >= 0xF8. A variable is a
// word of ASCII letters, digits and '_' that holds an ASCII digit, and
// every ASCII digit of a value lies in a variable. Hence a token without
// ASCII digits (index.ForEachToken) occurs in row i exactly when it is a
// token of TemplateText(Templates[IDs[i]]), and text without ASCII
// letters, digits or '_' (a Hangul word, say) occurs in row i exactly
// when it occurs in the template's text between variables.
type Pattern struct {
	Templates []string
	IDs       []uint32
}

// Pattern returns the column's template view; ok is false unless the
// column is EncPattern and its templates are intact (Err reports damage).
// Shared: do not modify.
func (c *Column) Pattern() (p Pattern, ok bool) {
	if c.pat == nil {
		return Pattern{}, false
	}
	texts := c.pat.templates()
	if texts == nil {
		return Pattern{}, false
	}
	return Pattern{Templates: texts, IDs: c.pat.ids}, true
}

// TemplateText returns a template with each variable byte replaced by
// "0", for tokenizing: the tokens holding a "0" are the ones that touch a
// variable.
func TemplateText(t string) string {
	b := []byte(t)
	for i, c := range b {
		if c >= patternFirstCode {
			b[i] = '0'
		}
	}
	return string(b)
}
