package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/model"
)

// FuzzOpenPart opens arbitrary bytes as a part, with and without checksum
// verification, and reads everything it can: no panic, no unbounded
// allocation, and every error on a readable file wraps ErrCorrupt.
func FuzzOpenPart(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, verify := range []bool{true, false} {
			if err := readEverything(data, verify); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("verify=%v: error %v does not wrap ErrCorrupt", verify, err)
			}
		}
	})
}

// FuzzDecodeColumn decodes arbitrary column payloads of every encoding.
// Rows read one at a time (ValueAt, which decodes only what the row
// needs) must equal the whole column's values whenever the whole column
// decodes without damage.
func FuzzDecodeColumn(f *testing.F) {
	f.Fuzz(func(t *testing.T, enc byte, rows uint16, payload []byte) {
		n := int(rows)%1024 + 1
		ref := &Column{name: "r", enc: EncStrings, n: n, values: make([]string, n)}
		lookup := func(name string) *Column {
			if name == "r" {
				return ref
			}
			return nil
		}
		d := &decoder{b: payload}
		col := decodeValues(d, Encoding(enc), n, 1<<20, lookup)
		if d.done("column") != nil {
			return
		}
		if col.Len() != n || len(col.Values()) != n {
			t.Fatalf("%d values, want %d", len(col.Values()), n)
		}
		if col.Err() != nil {
			return
		}
		one := decodeValues(&decoder{b: payload}, Encoding(enc), n, 1<<20, lookup)
		for i := n - 1; i >= 0; i-- {
			if got, want := one.ValueAt(i), col.Values()[i]; got != want {
				t.Fatalf("ValueAt(%d) = %q, Values()[%d] = %q (err %v)", i, got, i, want, one.Err())
			}
		}
		if err := one.Err(); err != nil {
			t.Fatalf("rows read one at a time: %v; the whole column decodes", err)
		}
	})
}

// TestWriteFuzzSeeds regenerates testdata/fuzz seeds when
// LOGBUCKET_UPDATE_SEEDS is set.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("LOGBUCKET_UPDATE_SEEDS") == "" {
		t.Skip("set LOGBUCKET_UPDATE_SEEDS=1 to regenerate testdata/fuzz")
	}
	write := func(target, name string, args ...string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := "go test fuzz v1\n"
		for _, a := range args {
			body += a + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bytesArg := func(b []byte) string { return "[]byte(" + strconv.Quote(string(b)) + ")" }
	parts := map[string][]Row{
		"single-row": rowsOf(rec("hello 결제 world 42", "level", "info")),
		"generated":  genRows(21, 24, 2),
		"pattern": repeatRows(20, func(i int) model.Record {
			u := fmt.Sprint("u", 1000+i)
			return rec(fmt.Sprintf("login user_id=%s took=%d", u, i), "user_id", u, "trace_id", fmt.Sprintf("%032x", i*977))
		}),
	}
	for name, rows := range parts {
		fsys := newMemFS()
		if _, err := WritePart(fsys, "/p", PartMeta{Bucket: "b"}, rows, WriteOptions{BlockRows: 16}); err != nil {
			t.Fatal(err)
		}
		data := fsys.bytes("/p")
		write("FuzzOpenPart", name, bytesArg(data))
		write("FuzzOpenPart", name+"-truncated", bytesArg(data[:len(data)/2]))
	}
	write("FuzzOpenPart", "empty", bytesArg(nil))
	// One payload per encoding.
	e := newColEncoder(2)
	cols := map[string][]string{}
	for i := 0; i < 40; i++ {
		cols["const"] = append(cols["const"], "same")
		cols["dict"] = append(cols["dict"], []string{"a", "b", ""}[i%3])
		cols["strings"] = append(cols["strings"], fmt.Sprintf("free text %c", 'a'+i))
		cols["int"] = append(cols["int"], []string{fmt.Sprint("u", i*7919), ""}[i%5/4])
		cols["hex"] = append(cols["hex"], fmt.Sprintf("%08x", uint32(i*2654435761)))
		cols["pattern"] = append(cols["pattern"], fmt.Sprintf("took %d ms for id=%x", i*3, i*999))
	}
	// Enough distinct templates and variables for several groups.
	for i := 0; i < 1000; i++ {
		cols["pattern-groups"] = append(cols["pattern-groups"], patternGroupsValue(i))
	}
	for name, values := range cols {
		out, enc, _, _ := e.appendColumn(nil, values, strings.HasPrefix(name, "pattern"), nil)
		write("FuzzDecodeColumn", name, fmt.Sprintf("byte(%d)", enc), fmt.Sprintf("uint16(%d)", len(values)-1), bytesArg(out))
	}
}
