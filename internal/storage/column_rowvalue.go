package storage

import "sync"

// rowRanks counts the present rows before each presence byte of an int
// or hex column, so one row's value is found without building the
// others. Built once per column on the first ValueAt.
type rowRanks struct {
	once  sync.Once
	ranks []int32
}

// ValueAt returns row i's value. For a pattern column it builds only that
// row's text from its template's variables (decompressing only the
// template's group), so a filter that rejects most rows by their template
// never decodes the others; int and hex columns decode the one row; for
// other encodings it is Value.
func (c *Column) ValueAt(i int) string {
	if c.num != nil || c.hex != nil {
		return c.valueAtNumeric(i)
	}
	if c.pat == nil {
		return c.Value(i)
	}
	pd := c.pat
	pd.prepare()
	v := pd.templateVars(int(pd.ids[i]))
	if v == nil {
		return "" // damaged: Err reports it
	}
	return pd.valueAt(i, v)
}
