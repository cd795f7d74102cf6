package storage

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

// TestValueAtEqualsValue: building single rows of a pattern column gives
// exactly the values the whole-column build gives, in any order.
func TestValueAtEqualsValue(t *testing.T) {
	var rows []Row
	for i := 0; i < 3000; i++ {
		msg := fmt.Sprintf("user u%d login from 10.0.%d.%d took %dms", i*7, i%256, i%13, i%997)
		if i%3 == 0 {
			msg = fmt.Sprintf("order_id=%d item=item_%d amount=%d KRW", 100000+i, i%50, i*1000)
		}
		rows = append(rows, Row{Offset: int64(i), Record: model.Record{Time: int64(i), Msg: msg,
			Stream: []model.Field{{Name: "service", Value: "s"}},
			Fields: []model.Field{{Name: "user_id", Value: fmt.Sprintf("u%d", i*7)}}}})
	}
	path := filepath.Join(t.TempDir(), "p.part")
	if _, err := WritePart(vfs.OS{}, path, PartMeta{Bucket: "b"}, rows, DefaultWriteOptions()); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPart(vfs.OS{}, path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	patterns := 0
	for b := range p.Blocks() {
		whole, err := p.ReadBlock(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		single, err := p.ReadBlock(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		cols := append([]*Column{single.Column(MsgField)}, single.Columns()...)
		wholeCols := append([]*Column{whole.Column(MsgField)}, whole.Columns()...)
		for ci, c := range cols {
			if c.Encoding() == EncPattern {
				patterns++
			}
			wc := wholeCols[ci]
			for i := c.Len() - 1; i >= 0; i -= 3 { // backwards, sparse: no reliance on order
				if got, want := c.ValueAt(i), wc.Value(i); got != want {
					t.Fatalf("block %d column %s row %d: ValueAt %q, Value %q", b, c.Name(), i, got, want)
				}
			}
		}
	}
	if patterns == 0 {
		t.Fatal("no pattern-encoded column: the test does not exercise ValueAt's template path")
	}
}

// TestValueAtEqualsValues reads every row of every column one at a time
// (ValueAt on a fresh block, before anything built the column) and
// compares with the whole column built at once, for every encoding.
func TestValueAtEqualsValues(t *testing.T) {
	fsys := newMemFS()
	rows := genRows(7, 3000, 3)
	extra := repeatRows(900, func(i int) model.Record {
		r := rec(fmt.Sprintf("login user_id=u%d took=%d", 1000+i, i), "user_id", fmt.Sprint("u", 1000+i),
			"trace", fmt.Sprintf("%016X", uint64(i)*0x9E3779B97F4A7C15), "level", []string{"info", "warn"}[i%2],
			"note", fmt.Sprintf("free %d text", i))
		if i%3 == 0 {
			r.Fields = r.Fields[:1] // absent hex and dict values
		}
		return r
	})
	for i := range extra {
		extra[i].Offset += 1 << 20 // after genRows' offsets
	}
	rows = append(rows, extra...)
	p, _ := writeAndOpen(t, fsys, "/v.part", rows, WriteOptions{BlockRows: 500})
	encs := map[Encoding]bool{}
	for b := range p.Blocks() {
		lazy, err := p.ReadBlock(b, nil)
		if err != nil {
			t.Fatal(err)
		}
		full, _ := p.ReadBlock(b, nil)
		cols := append([]*Column{lazy.Column(MsgField)}, lazy.Columns()...)
		for _, c := range cols {
			if c == nil {
				continue
			}
			encs[c.Encoding()] = true
			want := full.Column(c.Name()).Values()
			for i := 0; i < c.Len(); i++ {
				if got := c.ValueAt(i); got != want[i] {
					t.Fatalf("block %d column %s (%v) row %d: ValueAt %q, Values %q", b, c.Name(), c.Encoding(), i, got, want[i])
				}
			}
		}
	}
	for _, e := range []Encoding{EncDict, EncStrings, EncInt, EncHex, EncPattern} {
		if !encs[e] {
			t.Errorf("no %v column in the test data (have %v)", e, encs)
		}
	}
}
