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
	for _, v := range values {
		buf = append(buf, byte(e.seen[v]))
	}
	e.buf = buf
	return e.p.pack(dst, buf, hintPlane)
}

func decodeDict(d *decoder, n, limit int) *Column {
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
	pos := 0
	for i := range dict {
		l := sd.uvarintMax(uint64(len(raw)), "dictionary value length")
		pos = sd.off
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
	idx := unpack(d, n, n)
	if d.err != nil {
		return nil
	}
	for _, x := range idx {
		if int(x) >= size {
			d.fail("dictionary index %d of %d", x, size)
			return nil
		}
	}
	return &Column{enc: EncDict, n: n, dict: dict, idx: idx}
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
