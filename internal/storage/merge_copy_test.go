package storage

import (
	"cmp"
	"errors"
	"slices"
	"testing"
)

// blockBytes returns every block of p as its stored bytes.
func blockBytes(t *testing.T, p *Part) []string {
	t.Helper()
	var out []string
	for i := range p.blocks {
		e := &p.blocks[i]
		b, err := p.readAt("block", e.off, e.dataLen)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// copiedBlocks counts the output blocks stored byte for byte as some
// input block.
func copiedBlocks(t *testing.T, out *Part, in []*Part) int {
	t.Helper()
	have := map[string]bool{}
	for _, p := range in {
		for _, b := range blockBytes(t, p) {
			have[b] = true
		}
	}
	n := 0
	for _, b := range blockBytes(t, out) {
		if have[b] {
			n++
		}
	}
	return n
}

func TestMergeCopiesBlocksOfPartsAdjacentInTime(t *testing.T) {
	all := inTimeOrder(genRows(21, 8000, 5))
	opts := WriteOptions{BlockRows: 100}
	for _, tc := range []struct {
		name    string
		batches [][]Row
		copies  bool
	}{
		// Consecutive batches of the log: each input's blocks of a stream
		// come before the next input's, so full blocks are copied.
		{"adjacent", splitByOffset(all, 4), true},
		// Every fourth row: the inputs interleave in time, nothing can be
		// copied, every row is merged.
		{"interleaved", interleave(all, 4), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := newMemFS()
			parts := openParts(t, fsys, tc.batches, PartMeta{Bucket: "b", Day: 3, Level: 1}, opts)
			info, err := MergeParts(fsys, "/merged.part", parts, opts)
			if err != nil {
				t.Fatal(err)
			}
			m := checkMerged(t, fsys, info, all)
			copied := copiedBlocks(t, m, parts)
			switch {
			case tc.copies && copied < len(m.blocks)/2:
				t.Fatalf("%d of %d blocks copied, want most", copied, len(m.blocks))
			case !tc.copies && copied != 0:
				t.Fatalf("%d blocks copied from interleaved inputs", copied)
			}
			for i := range m.blocks {
				if e := &m.blocks[i]; e.Rows > opts.BlockRows {
					t.Fatalf("block %d has %d rows, more than %d", i, e.Rows, opts.BlockRows)
				}
			}
		})
	}
}

// inTimeOrder sorts rows by time and renumbers each partition's offsets
// in that order: a log whose records arrive in time order.
func inTimeOrder(rows []Row) []Row {
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b Row) int { return cmp.Compare(a.Record.Time, b.Record.Time) })
	next := map[int]int64{}
	for i := range rows {
		p := rows[i].Partition
		rows[i].Offset = next[p]
		next[p]++
	}
	return rows
}

func interleave(rows []Row, k int) [][]Row {
	out := make([][]Row, k)
	for i, r := range rows {
		out[i%k] = append(out[i%k], r)
	}
	return out
}

// A damaged block is reported, never copied into the merged part.
func TestMergeRefusesToCopyDamagedBlock(t *testing.T) {
	all := inTimeOrder(genRows(22, 4000, 2))
	opts := WriteOptions{BlockRows: 100}
	fsys := newMemFS()
	parts := openParts(t, fsys, splitByOffset(all, 2), PartMeta{Bucket: "b", Day: 3}, opts)
	// Flip a byte in the last payload byte of the first input's second
	// block (a full block, so a copy candidate).
	e := &parts[0].blocks[1]
	raw := fsys.bytes("/in-0.part")
	raw[e.off+int64(e.dataLen)-1] ^= 0x40
	fsys.put("/in-0.part", raw)
	damaged, err := OpenPart(fsys, "/in-0.part")
	if err != nil {
		t.Fatal(err)
	}
	defer damaged.Close()
	_, err = MergeParts(fsys, "/merged.part", []*Part{damaged, parts[1]}, opts)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("merge over a damaged block: %v, want ErrCorrupt", err)
	}
	if _, err := fsys.Stat("/merged.part"); err == nil {
		t.Fatal("merged part written despite the damage")
	}
}
