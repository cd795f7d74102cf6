package storage

import (
	"errors"
	"fmt"
	"testing"

	"github.com/logbucket/logbucket/internal/vfs"
)

// TestWriteFaults fails each create, write, sync and rename of WritePart
// and MergeParts in turn, once and from then on: every failure is
// reported, nothing is left behind, and no part appears at the
// destination.
func TestWriteFaults(t *testing.T) {
	rows := genRows(31, 3000, 5)
	for _, op := range []vfs.Op{vfs.OpCreate, vfs.OpWrite, vfs.OpSync, vfs.OpRename} {
		for _, persistent := range []bool{false, true} {
			for nth := 1; ; nth++ {
				mem := newMemFS()
				fsys := vfs.NewFaulty(mem)
				fsys.FailAt(op, nth, persistent)
				_, err := WritePart(fsys, "/d/p.part", PartMeta{}, rows, WriteOptions{BlockRows: 256})
				if fsys.Count(op) < nth {
					if err != nil {
						t.Fatalf("%s #%d never failed but WritePart: %v", op, nth, err)
					}
					break // the op happens fewer than nth times: done
				}
				name := fmt.Sprintf("%s #%d persistent=%v", op, nth, persistent)
				if err == nil {
					t.Fatalf("%s: WritePart succeeded", name)
				}
				if !errors.Is(err, vfs.ErrInjected) {
					t.Fatalf("%s: error %v does not wrap the injected error", name, err)
				}
				if left := mem.names(); len(left) != 0 {
					t.Fatalf("%s: files left: %v", name, left)
				}
				if nth > 50 {
					break
				}
			}
		}
	}
}

func TestMergeFaults(t *testing.T) {
	mem := newMemFS()
	parts := openParts(t, mem, splitByOffset(genRows(32, 2000, 4), 3), PartMeta{}, WriteOptions{BlockRows: 128})
	before := mem.names()
	for _, op := range []vfs.Op{vfs.OpCreate, vfs.OpWrite, vfs.OpSync, vfs.OpRename} {
		for nth := 1; nth < 40; nth++ {
			fsys := vfs.NewFaulty(mem)
			fsys.FailAt(op, nth, false)
			_, err := MergeParts(fsys, "/m.part", parts, WriteOptions{BlockRows: 128})
			if fsys.Count(op) < nth {
				if err != nil {
					t.Fatal(err)
				}
				if err := mem.Remove("/m.part"); err != nil {
					t.Fatal(err)
				}
				break
			}
			if err == nil || !errors.Is(err, vfs.ErrInjected) {
				t.Fatalf("%s #%d: %v", op, nth, err)
			}
			if got := mem.names(); fmt.Sprint(got) != fmt.Sprint(before) {
				t.Fatalf("%s #%d: files %v, want %v", op, nth, got, before)
			}
		}
	}
}
