package storage

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

func writeFilterTestPart(t *testing.T, dir, name string, seed int) *Part {
	t.Helper()
	var rows []Row
	for i := 0; i < 20000; i++ {
		rows = append(rows, Row{Offset: int64(i), Record: model.Record{Time: int64(i), Msg: fmt.Sprintf("word%d common 결제가", (i+seed)%977),
			Stream: []model.Field{{Name: "service", Value: fmt.Sprintf("s%d", i%3)}}}})
	}
	path := filepath.Join(dir, name)
	if _, err := WritePart(vfs.OS{}, path, PartMeta{Bucket: "b"}, rows, WriteOptions{BlockRows: 1000}); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPart(vfs.OS{}, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestFilterCacheMatchesReadFilter: cached filters answer exactly as the
// ones read from disk, and repeated calls reuse the cache.
func TestFilterCacheMatchesReadFilter(t *testing.T) {
	p := writeFilterTestPart(t, t.TempDir(), "p.part", 0)
	if len(p.Blocks()) < 3 {
		t.Fatalf("%d blocks; the test needs several", len(p.Blocks()))
	}
	c := NewFilterCache(64 << 20)
	for i := range p.Blocks() {
		fresh, err := p.ReadFilter(i)
		if err != nil {
			t.Fatal(err)
		}
		cached, err := c.Filter(p, i)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := c.Filter(p, i); cached != again {
			t.Fatalf("block %d: a second call read the filter again", i)
		}
		for _, tok := range []string{"common", "word5", "word976", "nothere", "결제", "결"} {
			if fresh.MayContain(MsgField, tok) != cached.MayContain(MsgField, tok) {
				t.Fatalf("block %d token %q: cached and read filters disagree", i, tok)
			}
		}
	}
	if _, err := c.Filter(p, len(p.Blocks())); err == nil {
		t.Fatal("a block index past the end was accepted")
	}
	if c.Used() <= 0 {
		t.Fatalf("Used = %d after loading a part", c.Used())
	}
}

// TestFilterCacheStaysWithinItsBudget: with room for about one part, the
// least recently used part's filters are evicted and read again later,
// and concurrent users of one part share one load.
func TestFilterCacheStaysWithinItsBudget(t *testing.T) {
	dir := t.TempDir()
	parts := []*Part{writeFilterTestPart(t, dir, "a.part", 0), writeFilterTestPart(t, dir, "b.part", 1), writeFilterTestPart(t, dir, "c.part", 2)}
	probe := NewFilterCache(1 << 40)
	if _, err := probe.Filter(parts[0], 0); err != nil {
		t.Fatal(err)
	}
	one := probe.Used()
	c := NewFilterCache(one + one/2) // one part fits, two do not
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range parts {
				for i := range p.Blocks() {
					if _, err := c.Filter(p, i); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if c.Used() > one+one/2 {
		t.Fatalf("cache holds %d bytes, budget %d", c.Used(), one+one/2)
	}
	f1, _ := c.Filter(parts[2], 0)
	f2, _ := c.Filter(parts[2], 0)
	if f1 != f2 {
		t.Fatal("the most recently used part was evicted")
	}
	old, _ := c.Filter(parts[0], 0) // evicted: read again
	if again, _ := c.Filter(parts[0], 0); old != again || c.Used() > one+one/2 {
		t.Fatalf("re-read part not kept (used %d)", c.Used())
	}
}
