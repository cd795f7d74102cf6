package storage

import (
	"errors"
	"fmt"
	"testing"
)

// smallPart returns the bytes of a part with several blocks and streams.
func smallPart(t testing.TB) []byte {
	t.Helper()
	fsys := newMemFS()
	if _, err := WritePart(fsys, "/s.part", PartMeta{Bucket: "b", Day: 1, Level: 2}, genRows(9, 120, 3), WriteOptions{BlockRows: 32}); err != nil {
		t.Fatal(err)
	}
	return fsys.bytes("/s.part")
}

// readEverything opens data as a part and reads all it holds, returning
// the first error.
func readEverything(data []byte, verify bool) error {
	fsys := newMemFS()
	fsys.put("/f.part", data)
	p, err := openPart(fsys, "/f.part", verify)
	if err != nil {
		return err
	}
	defer p.Close()
	var first error
	keep := func(err error) {
		if first == nil {
			first = err
		}
	}
	for i := range p.Blocks() {
		b, err := p.ReadBlock(i, nil)
		if err != nil {
			keep(err)
			continue
		}
		for r := 0; r < b.Len(); r++ {
			b.Row(r)
		}
		if err := b.Err(); err != nil {
			keep(err)
		}
		if _, err := p.ReadBlock(i, []string{MsgField}); err != nil {
			keep(err)
		}
		f, err := p.ReadFilter(i)
		if err != nil {
			keep(err)
			continue
		}
		f.MayContainTokens(MsgField, []string{"error", "결제"})
	}
	if _, err := p.ReadFilters(); err != nil {
		keep(err)
	}
	if _, err := p.Stats(); err != nil {
		keep(err)
	}
	return first
}

func assertCorrupt(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error", what)
	}
	var ce *CorruptionError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) {
		t.Fatalf("%s: error %v does not wrap ErrCorrupt/CorruptionError", what, err)
	}
}

func TestCorruptionTruncate(t *testing.T) {
	data := smallPart(t)
	if err := readEverything(data, true); err != nil {
		t.Fatal(err)
	}
	t.Logf("part of %d bytes", len(data))
	for cut := 0; cut < len(data); cut++ {
		err := readEverything(data[:cut], true)
		assertCorrupt(t, fmt.Sprintf("truncated at %d of %d", cut, len(data)), err)
	}
}

func TestCorruptionBitFlips(t *testing.T) {
	data := smallPart(t)
	for pos := 0; pos < len(data); pos++ {
		if pos > 100 && pos < len(data)-400 && pos%3 != 0 {
			continue // every byte of the header, index and footer; a third of the rest
		}
		bit := byte(1) << (pos % 8)
		bad := append([]byte(nil), data...)
		bad[pos] ^= bit
		assertCorrupt(t, fmt.Sprintf("bit flip at %d", pos), readEverything(bad, true))
		// Without checksums the decoders see the damage: no panic.
		_ = readEverything(bad, false)
	}
}

// TestCorruptionNoCRC damages the file in larger ways and reads it with
// the checksums off, so that the structural checks are what stands
// between the damage and a panic.
func TestCorruptionNoCRC(t *testing.T) {
	data := smallPart(t)
	step := 2
	if testing.Short() {
		step = 11
	}
	for pos := 0; pos < len(data); pos += step {
		for _, v := range []byte{0, 0xff, 0x80} {
			bad := append([]byte(nil), data...)
			bad[pos] = v
			_ = readEverything(bad, false)
		}
	}
}

func TestOpenMissingFile(t *testing.T) {
	_, err := OpenPart(newMemFS(), "/nope")
	if err == nil || errors.Is(err, ErrCorrupt) {
		t.Fatalf("open missing file: %v", err)
	}
}
