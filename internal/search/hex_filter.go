package search

import (
	"bytes"
	"encoding/hex"
	"strings"

	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// exactHex evaluates an exact-value filter (`field:=value`) on a hex
// column by comparing bytes, without building the values: only a value
// of the column's length and letter case can be equal. It reports false
// for other filters.
func exactHex(f query.Filter, hv storage.HexView, mask []bool) bool {
	e, ok := f.(*query.FilterExact)
	if !ok {
		return false
	}
	if e.Value == "" {
		for i := range mask {
			mask[i] = mask[i] && !hexPresent(hv, i)
		}
		return true
	}
	want, ok := hexBytes(e.Value, hv)
	if !ok {
		clear(mask) // no value of this column can equal it
		return true
	}
	pos := 0
	for i := range mask {
		if !hexPresent(hv, i) {
			mask[i] = false
			continue
		}
		mask[i] = mask[i] && bytes.Equal(hv.Raw[pos:pos+hv.Width], want)
		pos += hv.Width
	}
	return true
}

func hexPresent(hv storage.HexView, i int) bool {
	return hv.Bitmap == nil || hv.Bitmap[i/8]&(1<<(i%8)) != 0
}

// hexBytes decodes v when it is a value the column could hold: 2×Width
// hex digits in the column's letter case.
func hexBytes(v string, hv storage.HexView) ([]byte, bool) {
	if len(v) != 2*hv.Width {
		return nil, false
	}
	if hv.Upper && strings.ContainsAny(v, "abcdef") || !hv.Upper && strings.ContainsAny(v, "ABCDEF") {
		return nil, false
	}
	b, err := hex.DecodeString(v)
	return b, err == nil
}
