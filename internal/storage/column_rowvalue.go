package storage

import "sync"

// rowRanks numbers each row among the rows of its template, so one row's
// variables can be found without building the others. Built once per
// column on the first ValueAt.
type rowRanks struct {
	once  sync.Once
	ranks []int32
}

// ValueAt returns row i's value. For a pattern column it builds only that
// row's text (unless the whole column is built already), so a filter that
// rejects most rows by their template never builds the column; for other
// encodings it is Value.
func (c *Column) ValueAt(i int) string {
	if c.pat == nil || c.values != nil {
		return c.Value(i)
	}
	c.rows.once.Do(func() {
		pd := c.pat
		pd.load()
		rank := make([]int32, len(pd.tpls))
		c.rows.ranks = make([]int32, len(pd.ids))
		for r, id := range pd.ids {
			c.rows.ranks[r] = rank[id]
			rank[id]++
		}
	})
	pd := c.pat
	id := pd.ids[i]
	tp := &pd.tpls[id]
	k := int(c.rows.ranks[i])
	ni, ns := tp.intBase+k, tp.strBase+k
	var buf [24]byte
	out := make([]byte, 0, 64)
	for _, op := range tp.ops {
		out = append(out, op.lit...)
		switch {
		case op.code == 0:
		case op.code == codeInt:
			n := putUint(buf[:], pd.ints[ni])
			out = append(out, buf[:n]...)
			ni += tp.count
		case op.code == codeStr:
			out = append(out, pd.strs[ns]...)
			ns += tp.count
		default:
			out = append(out, pd.refs[op.code-codeRef0][i]...)
		}
	}
	return string(out)
}
