package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

// splitByOffset cuts rows (in offset order per partition) into k parts the
// way an indexer would: consecutive batches of the log.
func splitByOffset(rows []Row, k int) [][]Row {
	out := make([][]Row, k)
	per := (len(rows) + k - 1) / k
	for i := 0; i < len(rows); i += per {
		out[i/per] = rows[i:min(i+per, len(rows))]
	}
	return out
}

func openParts(t testing.TB, fsys *memFS, batches [][]Row, meta PartMeta, opts WriteOptions) []*Part {
	t.Helper()
	var parts []*Part
	for i, b := range batches {
		name := fmt.Sprintf("/in-%d.part", i)
		if _, err := WritePart(fsys, name, meta, b, opts); err != nil {
			t.Fatal(err)
		}
		p, err := OpenPart(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		parts = append(parts, p)
	}
	return parts
}

// checkMerged opens the part a merge wrote at /merged.part and checks that
// it holds exactly the rows all, with matching info and filters.
func checkMerged(t *testing.T, fsys *memFS, info PartInfo, all []Row) *Part {
	t.Helper()
	m, err := OpenPart(fsys, "/merged.part")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	want := canonical(all)
	rowsEqual(t, readAll(t, m), want)
	checkInfo(t, m, info, want)
	checkFilters(t, m)
	return m
}

func TestMerge(t *testing.T) {
	all := genRows(11, 6000, 9)
	// Streams that appear in one input only, and fields that differ.
	for i := 0; i < 300; i++ {
		all = append(all, Row{Partition: 7, Offset: int64(i), Record: model.Record{
			Time: int64(i), Msg: fmt.Sprint("only here ", i), Stream: []model.Field{{Name: "host", Value: "lonely"}},
			Fields: []model.Field{{Name: fmt.Sprint("f", i%5), Value: "v"}},
		}})
	}
	for _, tc := range []struct {
		name string
		k    int
		opts WriteOptions
	}{
		{"two", 2, WriteOptions{}},
		{"ten small blocks", 10, WriteOptions{BlockRows: 50}},
		{"one", 1, WriteOptions{Compression: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := newMemFS()
			parts := openParts(t, fsys, splitByOffset(all, tc.k), PartMeta{Bucket: "b", Day: 3, Level: 1}, tc.opts)
			info, err := MergeParts(fsys, "/merged.part", parts, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if info.Level != 2 || info.Bucket != "b" || info.Day != 3 {
				t.Fatalf("merged meta %+v", info.PartMeta)
			}
			m := checkMerged(t, fsys, info, all)
			var lists [][]OffsetRange
			for _, p := range parts {
				lists = append(lists, p.Info().Ranges)
			}
			union, _ := unionRanges(lists...)
			if !slices.Equal(info.Ranges, union) {
				t.Fatalf("ranges %v, want %v", info.Ranges, union)
			}
			// Merging merged parts again.
			info2, err := MergeParts(fsys, "/merged2.part", []*Part{m}, tc.opts)
			if err != nil || info2.Level != 3 || info2.Rows != info.Rows {
				t.Fatalf("re-merge: %+v, %v", info2, err)
			}
		})
	}
}

func TestMergeRefuses(t *testing.T) {
	fsys := newMemFS()
	rows := genRows(12, 200, 2)
	a := openParts(t, fsys, [][]Row{rows[:120]}, PartMeta{Bucket: "b", Day: 1}, WriteOptions{})[0]
	b, err := WritePart(fsys, "/b.part", PartMeta{Bucket: "b", Day: 1}, rows[100:], WriteOptions{})
	_ = b
	if err != nil {
		t.Fatal(err)
	}
	overlap, _ := OpenPart(fsys, "/b.part")
	defer overlap.Close()
	if _, err := MergeParts(fsys, "/m1", []*Part{a, overlap}, WriteOptions{}); err == nil {
		t.Error("merged overlapping ranges")
	}
	if _, err := WritePart(fsys, "/c.part", PartMeta{Bucket: "b", Day: 2}, rows[120:], WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	otherDay, _ := OpenPart(fsys, "/c.part")
	defer otherDay.Close()
	if _, err := MergeParts(fsys, "/m2", []*Part{a, otherDay}, WriteOptions{}); err == nil {
		t.Error("merged parts of different days")
	}
	if _, err := MergeParts(fsys, "/m3", nil, WriteOptions{}); err == nil {
		t.Error("merged nothing")
	}
	for _, n := range []string{"/m1", "/m2", "/m3", "/m1.tmp", "/m1.filters.tmp"} {
		if _, err := fsys.Stat(n); err == nil {
			t.Errorf("%s left behind", n)
		}
	}
}

// TestMergeMemoryBounded shows that a merge's memory does not grow with
// the size of its inputs: it streams blocks, it does not load parts.
func TestMergeMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	small, smallRaw := mergeHeapGrowth(t, 10000)
	big, bigRaw := mergeHeapGrowth(t, 80000)
	t.Logf("merging 4 parts: %.1f MB raw -> heap +%.1f MB; %.1f MB raw -> heap +%.1f MB",
		float64(smallRaw)/1e6, float64(small)/1e6, float64(bigRaw)/1e6, float64(big)/1e6)
	if big > small*3/2+4<<20 {
		t.Fatalf("merge memory grows with the input: %d -> %d bytes", small, big)
	}
}

// mergeHeapGrowth merges 4 parts of rowsPerPart rows each and returns the
// peak growth of the live heap (besides the output file) and the input's
// raw size.
func mergeHeapGrowth(t *testing.T, rowsPerPart int) (int64, int64) {
	fsys, dir := vfs.OS{}, t.TempDir()
	const k = 4
	var inputRaw int64
	var parts []*Part
	for i := 0; i < k; i++ {
		rows := genRows(uint64(100+i), rowsPerPart, 40)
		for j := range rows {
			rows[j].Offset += int64(i) * 1e7
			inputRaw += int64(rows[j].Record.Size())
		}
		name := filepath.Join(dir, fmt.Sprintf("big-%d.part", i))
		if _, err := WritePart(fsys, name, PartMeta{}, rows, WriteOptions{BlockRows: 1024}); err != nil {
			t.Fatal(err)
		}
		p, err := OpenPart(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		parts = append(parts, p)
	}
	// A low GC target keeps HeapAlloc close to the live heap.
	defer debug.SetGCPercent(debug.SetGCPercent(5))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	}()
	_, err := MergeParts(fsys, filepath.Join(dir, "out.part"), parts, WriteOptions{BlockRows: 1024})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return int64(peak) - int64(base.HeapAlloc), inputRaw
}

// TestMergeRefusesLazilyFoundDamage: damage that only shows when a
// message's values are built (here the integers' length of its variable
// group, past a checksum that no longer guards it) fails the merge
// instead of writing the rows with empty messages.
func TestMergeRefusesLazilyFoundDamage(t *testing.T) {
	fsys := newMemFS()
	rows := repeatRows(40, func(i int) model.Record {
		return rec(fmt.Sprintf("v=%d ok", uint64(i+1)*0x9E3779B97F4A7C15>>4)) // incompressible integers
	})
	if _, err := WritePart(fsys, "/a.part", PartMeta{Bucket: "b", Day: 1}, rows, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPart(fsys, "/a.part")
	if err != nil {
		t.Fatal(err)
	}
	blk, err := p.ReadBlock(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	grp := blk.Column(MsgField).pat.groups[0].vars
	if len(grp) < 3 || grp[0] != packRaw {
		t.Fatalf("want one raw variable group, got % x", grp[:min(len(grp), 8)])
	}
	file := slices.Clone(fsys.bytes("/a.part"))
	at := bytes.Index(file, grp)
	if at < 0 || bytes.Index(file[at+1:], grp) >= 0 {
		t.Fatal("variable group not found once in the file")
	}
	// mode, raw length, then the integers' length: make it run past the end.
	_, n := binary.Uvarint(grp[1:])
	file[at+1+n] = 0x7f
	p.Close()
	fsys.put("/a.part", file)
	damaged, err := openPart(fsys, "/a.part", false) // checksums would catch it first
	if err != nil {
		t.Fatal(err)
	}
	defer damaged.Close()
	_, err = MergeParts(fsys, "/m.part", []*Part{damaged}, WriteOptions{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("merge of a damaged message column: %v, want ErrCorrupt", err)
	}
}
