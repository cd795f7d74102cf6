package storage

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"strconv"
	"strings"
)

// EncInt payload (every non-empty value is prefix + canonical decimal):
//
//	prefix    uvarint length + bytes
//	flags     u8: bit 0 set when some rows are empty
//	presence  packed stream of ceil(n/8) bytes, bit i%8 of byte i/8 set
//	          when row i has a value (only with flag bit 0)
//	numbers   ints sequence of the present rows' integers
//
// EncHex payload (every non-empty value is length hex digits of one case):
//
//	length    uvarint: hex digits per value, even, 2..256
//	upper     u8: 1 when the letters are upper case
//	flags     u8, presence: as for EncInt
//	data      packed stream of length/2 bytes per present row
const flagHasEmpty = 1

func (e *colEncoder) appendPresence(dst []byte, values []string, nonEmpty int) []byte {
	if nonEmpty == len(values) {
		return append(dst, 0)
	}
	dst = append(dst, flagHasEmpty)
	bm := make([]byte, (len(values)+7)/8)
	for i, v := range values {
		if v != "" {
			bm[i/8] |= 1 << (i % 8)
		}
	}
	return e.p.pack(dst, bm, hintPlane)
}

// readPresence returns the presence bitmap (nil when every row is present)
// and the number of present rows.
func readPresence(d *decoder, n int) ([]byte, int) {
	flags := d.byte()
	if d.err != nil {
		return nil, 0
	}
	if flags&^flagHasEmpty != 0 {
		d.fail("unknown flags %#x", flags)
		return nil, 0
	}
	if flags == 0 {
		return nil, n
	}
	nb := (n + 7) / 8
	bm := unpack(d, nb, nb)
	count := 0
	for i := 0; i < n && d.err == nil; i++ {
		if bm[i/8]&(1<<(i%8)) != 0 {
			count++
		}
	}
	return bm, count
}

func present(bm []byte, i int) bool { return bm == nil || bm[i/8]&(1<<(i%8)) != 0 }

func (e *colEncoder) appendInt(dst []byte, values []string, st *columnStats) []byte {
	dst = appendStr(dst, st.prefix)
	dst = e.appendPresence(dst, values, st.nonEmpty)
	nums := e.i64[:0]
	for _, v := range values {
		if v != "" {
			nums = append(nums, int64(parseUint(v[len(st.prefix):])))
		}
	}
	e.i64 = nums
	return e.p.appendInts(dst, nums, &e.u64)
}

func decodeInt(d *decoder, n, limit int) *Column {
	prefix := d.str(maxNameLen)
	bm, count := readPresence(d, n)
	nums := readInts(d, count, nil)
	if d.err != nil {
		return nil
	}
	total := 0
	for _, x := range nums {
		u := uint64(x)
		if u >= 1e19 {
			d.fail("integer %d out of range", u)
			return nil
		}
		total += len(prefix) + decimalLen(u)
	}
	if total > limit {
		d.fail("integer column of %d bytes exceeds %d", total, limit)
		return nil
	}
	return &Column{enc: EncInt, n: n, num: &intData{prefix: prefix, nums: nums, bm: bm, total: total}}
}

// intData is a decoded EncInt column before its values are built: each
// present row's value is prefix + nums[k] in decimal, k counting present
// rows.
type intData struct {
	prefix string
	nums   []int64
	bm     []byte // presence bitmap; nil when every row is present
	total  int    // bytes of all values
}

// expandInts builds the values of an integer column.
func (c *Column) expandInts() {
	d := c.num
	arena := make([]byte, 0, d.total)
	values := make([]string, c.n)
	ends := make([]int, 0, len(d.nums))
	for _, x := range d.nums {
		arena = append(arena, d.prefix...)
		arena = strconv.AppendUint(arena, uint64(x), 10)
		ends = append(ends, len(arena))
	}
	s := unsafeString(arena)
	k, pos := 0, 0
	for i := range values {
		if present(d.bm, i) {
			values[i] = s[pos:ends[k]]
			pos = ends[k]
			k++
		}
	}
	c.values = values
}

// presentRank returns how many rows before row i are present, building
// the per-byte prefix counts of bm once.
func (c *Column) presentRank(bm []byte, i int) int {
	if bm == nil {
		return i
	}
	c.rows.once.Do(func() {
		c.rows.ranks = make([]int32, len(bm)+1)
		for b, x := range bm {
			c.rows.ranks[b+1] = c.rows.ranks[b] + int32(bits.OnesCount8(x))
		}
	})
	return int(c.rows.ranks[i/8]) + bits.OnesCount8(bm[i/8]&(1<<(i%8)-1))
}

func (e *colEncoder) appendHex(dst []byte, values []string, st *columnStats) []byte {
	dst = binary.AppendUvarint(dst, uint64(st.hexLen))
	upper := byte(0)
	if st.hexUpper {
		upper = 1
	}
	dst = append(dst, upper)
	dst = e.appendPresence(dst, values, st.nonEmpty)
	buf := e.buf[:0]
	for _, v := range values {
		for i := 0; i+1 < len(v); i += 2 {
			buf = append(buf, unhex(v[i])<<4|unhex(v[i+1]))
		}
	}
	e.buf = buf
	return e.p.pack(dst, buf, hintRandom)
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

func decodeHex(d *decoder, n, limit int) *Column {
	length := d.uvarintMax(maxHexLen, "hex length")
	upper := d.byte()
	if d.err == nil && (length == 0 || length%2 != 0 || upper > 1) {
		d.fail("bad hex header (length %d, upper %d)", length, upper)
	}
	bm, count := readPresence(d, n)
	if d.err == nil && count*length > limit {
		d.fail("hex column of %d bytes exceeds %d", count*length, limit)
	}
	if d.err != nil {
		return nil
	}
	raw := unpack(d, count*length/2, count*length/2)
	if d.err != nil {
		return nil
	}
	return &Column{enc: EncHex, n: n, hex: &hexData{raw: raw, length: length, upper: upper == 1, bm: bm}}
}

// valueAtNumeric builds row i's value of an integer or hex column alone.
func (c *Column) valueAtNumeric(i int) string {
	if d := c.num; d != nil {
		if !present(d.bm, i) {
			return ""
		}
		x := d.nums[c.presentRank(d.bm, i)]
		return string(strconv.AppendUint(append(make([]byte, 0, len(d.prefix)+20), d.prefix...), uint64(x), 10))
	}
	h := c.hex
	if !present(h.bm, i) {
		return ""
	}
	w := h.length / 2
	k := c.presentRank(h.bm, i)
	s := hex.EncodeToString(h.raw[k*w : (k+1)*w])
	if h.upper {
		s = strings.ToUpper(s)
	}
	return s
}

// hexData is a decoded EncHex column before its values are built: each
// present row's value is length/2 bytes of raw, in row order.
type hexData struct {
	raw    []byte
	length int // hex digits per value
	upper  bool
	bm     []byte // presence bitmap; nil when every row is present
}

// expandHex builds the values of a hex column.
func (c *Column) expandHex() {
	h := c.hex
	digits := "0123456789abcdef"
	if h.upper {
		digits = "0123456789ABCDEF"
	}
	arena := make([]byte, 2*len(h.raw))
	for i, b := range h.raw {
		arena[2*i] = digits[b>>4]
		arena[2*i+1] = digits[b&15]
	}
	s := unsafeString(arena)
	values := make([]string, c.n)
	pos := 0
	for i := range values {
		if present(h.bm, i) {
			values[i] = s[pos : pos+h.length]
			pos += h.length
		}
	}
	c.values = values
}

// HexView is the binary view of an EncHex column, for filters that
// compare values without building them: row i is absent when Bitmap is
// non-nil and bit i%8 of Bitmap[i/8] is clear; the present rows' values
// are Width bytes each, in row order, in Raw. A value's text is its bytes
// in hexadecimal, upper case when Upper.
type HexView struct {
	Raw    []byte
	Width  int
	Upper  bool
	Bitmap []byte
}

// Hex returns the column's binary view; ok is false unless it is EncHex.
// Shared: do not modify.
func (c *Column) Hex() (HexView, bool) {
	if c.hex == nil {
		return HexView{}, false
	}
	return HexView{Raw: c.hex.raw, Width: c.hex.length / 2, Upper: c.hex.upper, Bitmap: c.hex.bm}, true
}
