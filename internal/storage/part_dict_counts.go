package storage

import "fmt"

// DictCounts returns, when block i stores field (an ordinary field, not
// the message) as EncDictCounts, its distinct values and how many rows
// hold each, reading only that column's payload and never decoding the
// rows' indexes: a count filtered on the field needs nothing else. ok is
// false when the block has no such column or stores it otherwise. Errors
// from damaged data wrap ErrCorrupt.
func (p *Part) DictCounts(i int, field string) (values []string, counts []uint64, ok bool, err error) {
	if i < 0 || i >= len(p.blocks) {
		return nil, nil, false, fmt.Errorf("read block %d of %s: no such block", i, p.path)
	}
	section := fmt.Sprintf("block %d", i)
	cols, err := p.blockHeader(i, section)
	if err != nil {
		return nil, nil, false, err
	}
	for k := range cols {
		c := &cols[k]
		if c.role != roleField || c.name != field {
			continue
		}
		if c.enc != EncDictCounts {
			return nil, nil, false, nil
		}
		payload, err := p.columnPayload(i, c)
		if err != nil {
			return nil, nil, false, err
		}
		e := &p.blocks[i]
		d := &decoder{b: payload}
		values = readDictValues(d, int(min(e.RawBytes, maxBlockRaw)))
		if d.err == nil {
			counts = readDictCounts(d, len(values), e.Rows)
		}
		if d.err != nil {
			return nil, nil, false, p.columnCorrupt(i, c, d.err)
		}
		return values, counts, true, nil
	}
	return nil, nil, false, nil
}
