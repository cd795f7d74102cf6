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
// row's text from its template's variables (unless the whole column is
// built already), so a filter that rejects most rows by their template
// never decodes the others; for other encodings it is Value.
func (c *Column) ValueAt(i int) string {
	if c.num != nil || c.hex != nil {
		return c.valueAtNumeric(i)
	}
	if c.pat == nil {
		return c.Value(i)
	}
	pd := c.pat
	pd.prepare()
	c.rows.once.Do(func() {
		rank := make([]int32, len(pd.texts))
		c.rows.ranks = make([]int32, len(pd.ids))
		for r, id := range pd.ids {
			c.rows.ranks[r] = rank[id]
			rank[id]++
		}
	})
	id := int(pd.ids[i])
	v := pd.templateVars(id)
	if v == nil {
		return "" // damaged: Err reports it
	}
	tp := &pd.tpls[id]
	k := int(c.rows.ranks[i])
	ni, ns := k, k
	var buf [24]byte
	out := make([]byte, 0, 64)
	for _, op := range v.ops {
		out = append(out, op.lit...)
		switch {
		case op.code == 0:
		case op.code == codeInt:
			n := putUint(buf[:], v.ints[ni])
			out = append(out, buf[:n]...)
			ni += tp.count
		case op.code == codeStr:
			out = append(out, v.strs[ns]...)
			ns += tp.count
		default:
			out = append(out, pd.partial.refs[op.code-codeRef0].ValueAt(i)...)
		}
	}
	return string(out)
}
