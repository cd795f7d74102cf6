package storage

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

// Benchmarks use the first 100k lines of $LOGBUCKET_PART_DATA when set
// (see realdata_test.go), else generated rows:
//
//	LOGBUCKET_PART_DATA=/work/peer/data/logs-1m.jsonl go test -run XXX -bench . -benchmem ./internal/storage
var benchData struct {
	once sync.Once
	rows []Row
	raw  int64
}

func benchRows(b *testing.B) ([]Row, int64) {
	benchData.once.Do(func() {
		if os.Getenv(realDataEnv) != "" {
			benchData.rows = loadRealRows(b, 100_000)
		} else {
			benchData.rows = genRows(7, 100_000, 200)
		}
		for i := range benchData.rows {
			benchData.raw += int64(benchData.rows[i].Record.Size())
		}
	})
	return benchData.rows, benchData.raw
}

func BenchmarkWritePart(b *testing.B) {
	rows, raw := benchRows(b)
	for _, level := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("compression=%d", level), func(b *testing.B) {
			dir := b.TempDir()
			b.SetBytes(raw)
			b.ReportAllocs()
			var size int64
			i := 0
			for b.Loop() {
				name := filepath.Join(dir, fmt.Sprint(i))
				info, err := WritePart(vfs.OS{}, name, PartMeta{}, rows, WriteOptions{Compression: level})
				if err != nil {
					b.Fatal(err)
				}
				size = info.Bytes
				os.Remove(name)
				i++
			}
			b.ReportMetric(float64(size)/float64(len(rows)), "B/line")
			b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// benchPart writes the benchmark rows as one part. merged: with service
// as the only stream field, so that blocks hold thousands of rows as in a
// merged part; else blocks are as small as in a level-0 part.
func benchPart(b *testing.B, merged bool) *Part {
	rows, _ := benchRows(b)
	if merged {
		rows = slices.Clone(rows)
		for i := range rows {
			rec := &rows[i].Record
			var keep []model.Field
			for _, f := range rec.Stream {
				if f.Name != "host" {
					keep = append(keep, f)
				}
			}
			rec.Stream = keep
		}
	}
	dir := b.TempDir()
	name := filepath.Join(dir, "bench.part")
	if _, err := WritePart(vfs.OS{}, name, PartMeta{}, rows, WriteOptions{Compression: 2}); err != nil {
		b.Fatal(err)
	}
	p, err := OpenPart(vfs.OS{}, name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// BenchmarkReadBlock reads blocks: "+values" also builds the values of
// pattern columns (which ReadBlock leaves to the first Values call).
func BenchmarkReadBlock(b *testing.B) {
	for _, merged := range []bool{false, true} {
		p := benchPart(b, merged)
		layout := "l0"
		if merged {
			layout = "merged"
		}
		for _, tc := range []struct {
			name   string
			cols   []string
			values bool
		}{
			{"all", nil, false}, {"all+values", nil, true}, {"_msg", []string{MsgField}, false},
			{"_msg+values", []string{MsgField}, true}, {"level", []string{"level"}, false}, {"trace_id", []string{"trace_id"}, false},
		} {
			b.Run(layout+"/"+tc.name, func(b *testing.B) { benchReadBlock(b, p, tc.cols, tc.values) })
		}
	}
}

func benchReadBlock(b *testing.B, p *Part, cols []string, values bool) {
	var raw, rows int64
	for _, m := range p.Blocks() {
		raw += m.RawBytes
		rows += int64(m.Rows)
	}
	nb := len(p.Blocks())
	b.SetBytes(raw / int64(nb)) // raw bytes of the average block, all columns
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		blk, err := p.ReadBlock(i%nb, cols)
		if err != nil {
			b.Fatal(err)
		}
		if values {
			if c := blk.Column(MsgField); c != nil {
				c.Values()
			}
			for _, c := range blk.Columns() {
				c.Values()
			}
		}
		i++
	}
	b.ReportMetric(float64(rows)/float64(nb)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkMayContainTokens(b *testing.B) {
	p := benchPart(b, false)
	filters, err := p.ReadFilters()
	if err != nil {
		b.Fatal(err)
	}
	toks := []string{"LBX", "NEEDLE", "7Q4Z"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		filters[i%len(filters)].MayContainTokens(MsgField, toks)
		i++
	}
}

func BenchmarkOpenPart(b *testing.B) {
	p := benchPart(b, false)
	b.ReportAllocs()
	for b.Loop() {
		q, err := OpenPart(vfs.OS{}, p.Path())
		if err != nil {
			b.Fatal(err)
		}
		q.Close()
	}
}
