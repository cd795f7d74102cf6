package storage

// EncStrings payload:
//
//	lengths  ints sequence of n lengths
//	data     packed stream of the concatenated values

func (e *colEncoder) appendStrings(dst []byte, values []string) []byte {
	lens := e.i64[:0]
	buf := e.buf[:0]
	for _, v := range values {
		lens = append(lens, int64(len(v)))
		buf = append(buf, v...)
	}
	e.i64, e.buf = lens, buf
	dst = e.p.appendInts(dst, lens, &e.u64)
	return e.p.pack(dst, buf, hintText)
}

func decodeStrings(d *decoder, n, limit int) *Column {
	lens := readInts(d, n, nil)
	if d.err != nil {
		return nil
	}
	total := 0
	for _, l := range lens {
		if l < 0 || l > int64(limit-total) {
			d.fail("string lengths exceed %d bytes", limit)
			return nil
		}
		total += int(l)
	}
	raw := unpack(d, total, limit)
	if d.err != nil {
		return nil
	}
	arena := string(raw)
	values := make([]string, n)
	pos := 0
	for i, l := range lens {
		values[i] = arena[pos : pos+int(l)]
		pos += int(l)
	}
	return &Column{enc: EncStrings, n: n, values: values}
}
