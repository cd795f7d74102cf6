package storage

import (
	"fmt"
	"math/bits"
	"sync"
)

// Encoding is how a column is stored in one block.
type Encoding uint8

// The column encodings (the kind byte of a column in a block header).
const (
	// EncConst: one value for every row.
	EncConst Encoding = 1
	// EncDict: at most 256 distinct values and one index byte per row.
	EncDict Encoding = 2
	// EncStrings: lengths and concatenated bytes, compressed.
	EncStrings Encoding = 3
	// EncInt: a common prefix and a canonical decimal integer per value.
	EncInt Encoding = 4
	// EncHex: fixed-length hexadecimal values stored as binary.
	EncHex Encoding = 5
	// EncPattern: message templates plus typed variables.
	EncPattern Encoding = 6
	// EncDictCounts: EncDict plus each value's row count, so a count
	// filtered on the column needs no row (Part.DictCounts). It decodes
	// to a dictionary column (Column.Encoding reports EncDict).
	EncDictCounts Encoding = 7
	// EncPatternGroups: EncPattern with the variables packed in groups of
	// templates, so one row's value decompresses only its group's. It
	// decodes to a pattern column (Column.Encoding reports EncPattern).
	EncPatternGroups Encoding = 8
)

func (e Encoding) String() string {
	switch e {
	case EncConst:
		return "const"
	case EncDict:
		return "dict"
	case EncStrings:
		return "strings"
	case EncInt:
		return "int"
	case EncHex:
		return "hex"
	case EncPattern:
		return "pattern"
	case EncDictCounts:
		return "dict+counts"
	case EncPatternGroups:
		return "pattern+groups"
	}
	return fmt.Sprintf("encoding(%d)", uint8(e))
}

// Column is one decoded column of a block: a value per row, "" where the
// row has no such field. It is immutable and safe for concurrent use.
type Column struct {
	name   string
	enc    Encoding
	n      int
	values []string
	dict   []string // EncConst (one entry) and EncDict
	idx    []byte   // EncDict: index into dict per row
	// EncPattern: values are built from pat on first use.
	pat  *patternData
	once sync.Once
	rows rowRanks // ValueAt's per-row view of pat
	hex  *hexData // EncHex: values are built from it on first use
	num  *intData // EncInt: likewise
	// raw is the undecoded payload of a column only a pattern message
	// references (rawLimit bounds its values' bytes); refValues decodes it.
	raw      []byte
	rawLimit int
}

// refValues returns the values of a column a pattern references,
// decoding a raw one.
func (c *Column) refValues() ([]string, error) {
	col, err := c.refColumn()
	if err != nil {
		return nil, err
	}
	return col.Values(), nil
}

// refColumn returns a column a pattern references, decoding a raw one
// (its values are built on use).
func (c *Column) refColumn() (*Column, error) {
	if c.raw == nil {
		return c, nil
	}
	d := &decoder{b: c.raw}
	col := decodeValues(d, c.enc, c.n, c.rawLimit, func(string) *Column { return nil })
	if err := d.done("column " + c.name); err != nil {
		return nil, err
	}
	return col, nil
}

// Err reports damage found after decoding: a pattern column reads its
// variables on first use, and if they turn out damaged every value of the
// column reads as "" and Err returns an error wrapping ErrCorrupt. Nil
// until then, and always nil for other encodings.
func (c *Column) Err() error {
	if c.pat == nil {
		return nil
	}
	if e := c.pat.err.Load(); e != nil {
		return *e
	}
	return nil
}

// Name returns the field name (MsgField for the message).
func (c *Column) Name() string { return c.name }

// Encoding returns how the column was stored.
func (c *Column) Encoding() Encoding { return c.enc }

// Len returns the number of rows.
func (c *Column) Len() int { return c.n }

// Value returns row i's value ("" when absent).
func (c *Column) Value(i int) string {
	switch {
	case c.enc == EncConst && len(c.dict) == 1:
		return c.dict[0]
	case c.enc == EncDict && c.idx != nil:
		return c.dict[c.idx[i]]
	}
	return c.Values()[i]
}

// Values returns every row's value. The slice is shared: do not modify it.
// Pattern, dictionary and constant columns build it on the first call
// (filters read Pattern or Dict instead).
func (c *Column) Values() []string {
	switch {
	case c.pat != nil:
		c.once.Do(c.materialize)
	case c.enc == EncConst || c.enc == EncDict:
		c.once.Do(c.expandDict)
	case c.hex != nil:
		c.once.Do(c.expandHex)
	case c.num != nil:
		c.once.Do(c.expandInts)
	}
	return c.values
}

// expandDict builds the values of a dictionary or constant column.
func (c *Column) expandDict() {
	if c.values != nil {
		return
	}
	values := make([]string, c.n)
	for i := range values {
		if c.idx != nil {
			values[i] = c.dict[c.idx[i]]
		} else {
			values[i] = c.dict[0]
		}
	}
	c.values = values
}

// Dict returns, for a dictionary or constant column, the distinct values
// and each row's index into them (nil for a constant column, whose every
// row holds values[0]). ok is false for other encodings. Filters can test
// each distinct value once instead of each row. Shared: do not modify.
func (c *Column) Dict() (values []string, idx []byte, ok bool) {
	switch c.enc {
	case EncConst, EncDict:
		return c.dict, c.idx, true
	}
	return nil, nil, false
}

// columnStats is what one pass over a column's values learns, to choose
// its encoding.
type columnStats struct {
	n, nonEmpty int
	bytes       int
	distinct    int  // up to maxDictSize+1
	isInt       bool // every non-empty value is prefix + canonical uint
	prefix      string
	isHex       bool // every non-empty value is hexLen hex digits of one case
	hexLen      int
	hexUpper    bool
	highBytes   bool // some value has a byte >= 0xF8 (no pattern)
}

const (
	maxDictSize = 256
	maxHexLen   = 256
	maxIntLen   = 19 // decimal digits of the integer part of EncInt values
)

// analyze computes columnStats; dict receives the distinct values (first
// occurrence order) when there are at most maxDictSize of them.
func analyze(values []string, seen map[string]int, dict *[]string) columnStats {
	st := columnStats{n: len(values), isInt: true, isHex: true}
	clear(seen)
	*dict = (*dict)[:0]
	first := true
	lower, upper := false, false
	for _, v := range values {
		if st.distinct <= maxDictSize {
			if _, ok := seen[v]; !ok {
				st.distinct++
				if st.distinct <= maxDictSize {
					seen[v] = len(*dict)
					*dict = append(*dict, v)
				}
			}
		}
		if v == "" {
			continue
		}
		st.nonEmpty++
		st.bytes += len(v)
		if !st.highBytes {
			for i := 0; i < len(v); i++ {
				if v[i] >= patternFirstCode {
					st.highBytes = true
					break
				}
			}
		}
		if first {
			first = false
			st.prefix = intPrefix(v)
			st.hexLen = len(v)
		}
		if st.isInt {
			st.isInt = len(v) > len(st.prefix) && v[:len(st.prefix)] == st.prefix && canonicalUint(v[len(st.prefix):])
		}
		if st.isHex {
			if len(v) != st.hexLen || len(v)%2 != 0 || len(v) > maxHexLen {
				st.isHex = false
			} else {
				for i := 0; i < len(v); i++ {
					c := v[i]
					switch {
					case c >= '0' && c <= '9':
					case c >= 'a' && c <= 'f':
						lower = true
					case c >= 'A' && c <= 'F':
						upper = true
					default:
						st.isHex = false
					}
				}
				if lower && upper {
					st.isHex = false
				}
			}
		}
	}
	if st.nonEmpty == 0 {
		st.isInt, st.isHex = false, false
	}
	st.hexUpper = upper
	return st
}

// intPrefix returns v up to its first ASCII digit.
func intPrefix(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] >= '0' && v[i] <= '9' {
			return v[:i]
		}
	}
	return v
}

// canonicalUint reports whether s is a decimal integer of 1..maxIntLen
// digits without a leading zero (except "0" itself), so that formatting
// the parsed value gives s back.
func canonicalUint(s string) bool {
	if len(s) == 0 || len(s) > maxIntLen || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseUint(s string) uint64 {
	var v uint64
	for i := 0; i < len(s); i++ {
		v = v*10 + uint64(s[i]-'0')
	}
	return v
}

var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// decimalLen returns the number of decimal digits of v.
func decimalLen(v uint64) int {
	// log10(2) ~ 1233/4096: a guess that is exact or one too small.
	n := (bits.Len64(v) * 1233) >> 12
	if n < len(pow10) && v >= pow10[n] {
		n++
	}
	return max(n, 1)
}
