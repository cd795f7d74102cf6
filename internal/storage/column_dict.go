package storage

import (
	"encoding/binary"
	"unsafe"
)

// EncConst payload: the value as one packed byte stream.
//
// EncDict payload:
//
//	d        uvarint  number of values, 1..256
//	values   packed stream of d × (uvarint length + bytes)
//	indexes  packed stream of n bytes, each < d
//
// EncDictCounts payload: the same with, between values and indexes,
//
//	counts   d × uvarint: the rows holding each value (they add up to n)

func (e *colEncoder) appendConst(dst []byte, v string) []byte {
	return e.p.pack(dst, unsafeBytes(v), hintText)
}

func decodeConst(d *decoder, n, limit int) *Column {
	v := string(unpack(d, -1, limit))
	if d.err != nil {
		return nil
	}
	return &Column{enc: EncConst, n: n, dict: []string{v}}
}

func (e *colEncoder) appendDict(dst []byte, values []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(e.dict)))
	buf := e.buf[:0]
	for _, v := range e.dict {
		buf = appendStr(buf, v)
	}
	dst = e.p.pack(dst, buf, hintText)
	buf = buf[:0]
	var counts [maxDictSize]uint64
	for _, v := range values {
		k := e.seen[v]
		buf = append(buf, byte(k))
		counts[k]++
	}
	for _, c := range counts[:len(e.dict)] {
		dst = binary.AppendUvarint(dst, c)
	}
	e.buf = buf
	return e.p.pack(dst, buf, hintPlane)
}

func decodeDict(d *decoder, n, limit int, withCounts bool) *Column {
	dict := readDictValues(d, limit)
	if d.err != nil {
		return nil
	}
	var counts []uint64
	if withCounts {
		if counts = readDictCounts(d, len(dict), n); d.err != nil {
			return nil
		}
	}
	idx := unpack(d, n, n)
	if d.err != nil {
		return nil
	}
	var seen [maxDictSize]uint64
	for _, x := range idx {
		if int(x) >= len(dict) {
			d.fail("dictionary index %d of %d", x, len(dict))
			return nil
		}
		seen[x]++
	}
	for k, c := range counts {
		if seen[k] != c {
			d.fail("dictionary value %d counted %d times, held by %d rows", k, c, seen[k])
			return nil
		}
	}
	return &Column{enc: EncDict, n: n, dict: dict, idx: idx}
}

// readDictValues reads a dictionary's size and values.
func readDictValues(d *decoder, limit int) []string {
	size := d.uvarintMax(maxDictSize, "dictionary size")
	if d.err == nil && size == 0 {
		d.fail("empty dictionary")
	}
	raw := unpack(d, -1, limit+size*binary.MaxVarintLen64)
	if d.err != nil {
		return nil
	}
	arena := string(raw)
	dict := make([]string, size)
	sd := decoder{b: raw}
	for i := range dict {
		l := sd.uvarintMax(uint64(len(raw)), "dictionary value length")
		pos := sd.off
		sd.bytes(l)
		if sd.err != nil {
			d.err = sd.err
			return nil
		}
		dict[i] = arena[pos : pos+l]
	}
	if err := sd.done("dictionary"); err != nil {
		d.err = err
		return nil
	}
	return dict
}

// readDictCounts reads the row count of each of size values; they must
// add up to n.
func readDictCounts(d *decoder, size, n int) []uint64 {
	counts := make([]uint64, size)
	total := uint64(0)
	for k := range counts {
		counts[k] = uint64(d.uvarintMax(uint64(n), "dictionary value count"))
		total += counts[k]
	}
	if d.err == nil && total != uint64(n) {
		d.fail("dictionary counts add up to %d rows of %d", total, n)
	}
	return counts
}

// unsafeBytes returns the bytes of s without copying; they must not be
// modified.
func unsafeBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// unsafeString returns b as a string without copying; b must never be
// modified afterwards.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
