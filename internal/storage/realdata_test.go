package storage

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/index"
	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/jsonline"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

// The real-data test reads the file named by LOGBUCKET_PART_DATA (for
// example /work/peer/data/logs-1m.jsonl, made by ../shared/loggen) and is
// skipped without it:
//
//	LOGBUCKET_PART_DATA=/work/peer/data/logs-1m.jsonl go test -run TestBytesPerLine -v ./internal/storage
const realDataEnv = "LOGBUCKET_PART_DATA"

// loadRealRows decodes up to max lines of the real dataset into rows, with
// commit-log positions as an embedded log would give them: partition
// StreamHash mod 4, offsets in arrival order.
func loadRealRows(tb testing.TB, max int) []Row {
	tb.Helper()
	path := os.Getenv(realDataEnv)
	if path == "" {
		tb.Skipf("set %s to a loggen JSON-lines file", realDataEnv)
	}
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("%s: %v", realDataEnv, err)
	}
	defer f.Close()
	opts := ingest.DefaultOptions()
	opts.StreamFields = []string{"service", "host"}
	var res ingest.Result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 4<<20), 4<<20)
	var body []byte
	lines := 0
	flush := func() {
		jsonline.Decode(body, opts, &res)
		body = body[:0]
	}
	for sc.Scan() && (max <= 0 || lines < max) {
		body = append(body, sc.Bytes()...)
		body = append(body, '\n')
		if lines++; lines%10000 == 0 {
			flush()
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	const partitions = 4
	var next [partitions]int64
	rows := make([]Row, len(res.Records))
	for i, r := range res.Records {
		p := int(model.StreamHash(r.Stream) % partitions)
		rows[i] = Row{Partition: p, Offset: next[p], Record: r}
		next[p]++
	}
	return rows
}

// TestBytesPerLine writes the dataset as 100k-row parts, as an indexer
// would, merges them into one part and reports bytes per line, total and
// per column, and the write, merge and read throughput.
func TestBytesPerLine(t *testing.T) {
	rows := loadRealRows(t, 0)
	dir := t.TempDir()
	fsys := vfs.OS{}
	var inBytes int64
	for i := range rows {
		inBytes += int64(rows[i].Record.Size())
	}
	level := envInt("LOGBUCKET_PART_LEVEL", 2)
	mergeLevel := envInt("LOGBUCKET_MERGE_LEVEL", 4)
	const perPart = 100_000
	var parts []*Part
	var l0Bytes int64
	start := time.Now()
	for off, k := 0, 0; off < len(rows); off, k = off+perPart, k+1 {
		end := min(off+perPart, len(rows))
		info, err := WritePart(fsys, filepath.Join(dir, fmt.Sprintf("l0-%03d.part", k)), PartMeta{Bucket: "b", Day: 20454}, rows[off:end], WriteOptions{Compression: level})
		if err != nil {
			t.Fatal(err)
		}
		l0Bytes += info.Bytes
	}
	writeDur := time.Since(start)
	for k := 0; k*perPart < len(rows); k++ {
		p, err := OpenPart(fsys, filepath.Join(dir, fmt.Sprintf("l0-%03d.part", k)))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		parts = append(parts, p)
	}
	start = time.Now()
	info, err := MergeParts(fsys, filepath.Join(dir, "merged.part"), parts, WriteOptions{Compression: mergeLevel})
	if err != nil {
		t.Fatal(err)
	}
	mergeDur := time.Since(start)
	if info.Rows != int64(len(rows)) {
		t.Fatalf("merged %d rows, want %d", info.Rows, len(rows))
	}
	merged, err := OpenPart(fsys, filepath.Join(dir, "merged.part"))
	if err != nil {
		t.Fatal(err)
	}
	defer merged.Close()
	start = time.Now()
	var readRows int
	for i := range merged.Blocks() {
		b, err := merged.ReadBlock(i, nil)
		if err != nil {
			t.Fatal(err)
		}
		readRows += b.Len()
	}
	readDur := time.Since(start)
	n := float64(len(rows))
	mb := float64(inBytes) / 1e6
	t.Logf("%d lines, %.1f MB of records (%.1f B/line raw)", len(rows), mb, float64(inBytes)/n)
	t.Logf("level-0 parts (compression %d, %d rows each): %.2f B/line; write %.0f lines/s (%.1f MB/s)",
		level, perPart, float64(l0Bytes)/n, n/writeDur.Seconds(), mb/writeDur.Seconds())
	t.Logf("merged part (compression %d): %.2f B/line; merge %.0f lines/s; read all columns %.0f lines/s (%.1f MB/s)",
		mergeLevel, float64(info.Bytes)/n, n/mergeDur.Seconds(), float64(readRows)/readDur.Seconds(), mb/readDur.Seconds())
	st, err := merged.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(formatStats(&st, n))
	reportNeedles(t, merged)
	reportScans(t, merged)
}

// reportNeedles counts, for the dataset's needles, the blocks whose filter
// lets them through and the blocks that really hold them.
func reportNeedles(t *testing.T, p *Part) {
	filters, err := p.ReadFilters()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		field string
		value string
		exact bool
	}{
		{MsgField, "LBX-NEEDLE-7Q4Z", false},
		{MsgField, "ZQX-ONCE-93KF1", false},
		{"trace_id", "0badc0de0badc0de0badc0de0badc0de", true},
		{MsgField, "환불 이중처리 감지", false},
		{"level", "error", true},
	} {
		var toks []string
		index.ForEachToken(q.value, func(tok string) {
			if index.ContainsHangul(tok) {
				toks = append(toks, index.QueryGrams(tok)...)
			} else {
				toks = append(toks, tok)
			}
		})
		pass, real, rows := 0, 0, 0
		for i, f := range filters {
			if !f.MayContainTokens(q.field, toks) {
				continue
			}
			pass++
			b, err := p.ReadBlock(i, []string{q.field})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for r := 0; r < b.Len(); r++ {
				v := b.Value(q.field, r)
				if q.exact && v == q.value || !q.exact && strings.Contains(v, q.value) {
					rows++
					found = true
				}
			}
			if found {
				real++
			}
		}
		t.Logf("needle %s:%q: %d of %d blocks pass the filters, %d hold it (%d rows)", q.field, q.value, pass, len(filters), real, rows)
	}
}

// reportScans counts the lines with the word "timeout" and the substring
// "결제" in _msg twice: from the values, and from the pattern templates
// without building the values.
func reportScans(t *testing.T, p *Part) {
	countValues := func(c *Column, word, sub string) (int, int) {
		words, subs := 0, 0
		for _, v := range c.Values() {
			found := false
			index.ForEachToken(v, func(tok string) { found = found || tok == word })
			if found {
				words++
			}
			if strings.Contains(v, sub) {
				subs++
			}
		}
		return words, subs
	}
	countTemplates := func(c *Column, word, sub string) (int, int) {
		pv, ok := c.Pattern()
		if !ok {
			return countValues(c, word, sub)
		}
		hasWord := make([]bool, len(pv.Templates))
		hasSub := make([]bool, len(pv.Templates))
		for i, tpl := range pv.Templates {
			index.ForEachToken(TemplateText(tpl), func(tok string) { hasWord[i] = hasWord[i] || tok == word })
			hasSub[i] = strings.Contains(tpl, sub)
		}
		words, subs := 0, 0
		for _, id := range pv.IDs {
			if hasWord[id] {
				words++
			}
			if hasSub[id] {
				subs++
			}
		}
		return words, subs
	}
	for _, mode := range []struct {
		name  string
		count func(*Column, string, string) (int, int)
	}{{"values", countValues}, {"templates", countTemplates}} {
		start := time.Now()
		words, subs := 0, 0
		for i := range p.Blocks() {
			b, err := p.ReadBlock(i, []string{MsgField})
			if err != nil {
				t.Fatal(err)
			}
			if c := b.Column(MsgField); c != nil {
				w, s := mode.count(c, "timeout", "결제")
				words, subs = words+w, subs+s
			}
		}
		t.Logf("scan _msg by %s: %d lines with word timeout, %d with 결제, in %v", mode.name, words, subs, time.Since(start).Round(time.Millisecond))
	}
}

func formatStats(st *PartStats, n float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "breakdown (B/line):\n")
	for _, c := range st.Columns {
		var encs []string
		for e, k := range c.Encodings {
			encs = append(encs, fmt.Sprintf("%s×%d", e, k))
		}
		sort.Strings(encs)
		fmt.Fprintf(&b, "  %-12s %6.2f  %s\n", c.Name, float64(c.Bytes)/n, strings.Join(encs, " "))
	}
	fmt.Fprintf(&b, "  %-12s %6.2f\n", "blooms", float64(st.FilterBytes)/n)
	meta := st.IndexBytes + st.BlockHeaderBytes + st.HeaderFooterBytes
	fmt.Fprintf(&b, "  %-12s %6.2f  (index %d B, block headers %d B)\n", "metadata", float64(meta)/n, st.IndexBytes, st.BlockHeaderBytes)
	fmt.Fprintf(&b, "  %-12s %6.2f\n", "total", float64(st.FileBytes)/n)
	return b.String()
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err != nil {
		return def
	}
	return v
}
