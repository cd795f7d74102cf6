package storage

import (
	"fmt"
	"sort"
)

// ColumnStats sums one column's stored bytes over a part's blocks.
type ColumnStats struct {
	Name      string // TimeField, "_pos", MsgField or a field name
	Bytes     int64  // payload bytes
	Blocks    int    // blocks holding the column
	Encodings map[Encoding]int
}

// PartStats breaks a part's bytes down by section and column.
type PartStats struct {
	FileBytes         int64
	HeaderFooterBytes int64
	IndexBytes        int64 // stored (compressed) index section
	FilterBytes       int64
	BlockHeaderBytes  int64
	Columns           []ColumnStats // largest first
}

// Stats reads every block header (one read per block) and sums the sizes.
func (p *Part) Stats() (PartStats, error) {
	st := PartStats{FileBytes: p.info.Bytes, HeaderFooterBytes: headerSize + footerSize}
	cols := map[string]*ColumnStats{}
	for i := range p.blocks {
		e := &p.blocks[i]
		st.FilterBytes += int64(e.filterLen)
		st.BlockHeaderBytes += int64(e.hdrLen)
		hdr, err := p.readAt(fmt.Sprintf("block %d", i), e.off, e.hdrLen)
		if err != nil {
			return st, err
		}
		bc, err := parseBlockHeader(hdr, e.off+int64(e.hdrLen), e.dataLen-e.hdrLen, p.verify)
		if err != nil {
			return st, p.corrupt(fmt.Sprintf("block %d", i), e.off, err)
		}
		for k := range bc {
			c := &bc[k]
			name := colName(c)
			if c.role == roleField {
				name = c.name
			}
			cs := cols[name]
			if cs == nil {
				cs = &ColumnStats{Name: name, Encodings: map[Encoding]int{}}
				cols[name] = cs
			}
			cs.Bytes += int64(c.len)
			cs.Blocks++
			if c.role == roleMsg || c.role == roleField {
				cs.Encodings[c.enc]++
			}
		}
	}
	var data int64
	for _, cs := range cols {
		st.Columns = append(st.Columns, *cs)
		data += cs.Bytes
	}
	sort.Slice(st.Columns, func(i, j int) bool { return st.Columns[i].Bytes > st.Columns[j].Bytes })
	st.IndexBytes = st.FileBytes - st.HeaderFooterBytes - st.FilterBytes - st.BlockHeaderBytes - data
	return st, nil
}
