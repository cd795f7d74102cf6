package storage

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/logbucket/logbucket/internal/index"
	"github.com/logbucket/logbucket/internal/model"
)

// genRows makes n rows of nstreams streams with a mix of field shapes that
// exercises every column encoding.
func genRows(seed uint64, n, nstreams int) []Row {
	r := rand.New(rand.NewPCG(seed, seed+1))
	levels := []string{"info", "warn", "error", "debug"}
	var next [3]int64
	rows := make([]Row, n)
	for i := range rows {
		s := r.IntN(nstreams)
		p := s % 3
		rec := model.Record{
			Time:   1_767_225_600_000_000_000 + int64(i)*int64(r.IntN(100_000_000)+1),
			Stream: []model.Field{{Name: "host", Value: fmt.Sprintf("h%d", s)}, {Name: "service", Value: fmt.Sprintf("svc%d", s%4)}},
		}
		uid := fmt.Sprintf("u%d", 100000+r.IntN(2_000_000))
		switch r.IntN(6) {
		case 0:
			rec.Msg = fmt.Sprintf("event=login user_id=%s platform=pc ver=3.%d.0 took=%dms", uid, r.IntN(20), r.IntN(5000))
		case 1:
			rec.Msg = fmt.Sprintf("결제 승인 실패: 잔액 부족 user=%s order=GPA.33%d-%d amount=%d원", uid, r.IntN(90)+10, r.IntN(9000)+1000, r.IntN(100000))
		case 2:
			rec.Msg = fmt.Sprintf("match found match_id=m%012x wait_ms=%d", r.Uint64()>>16, r.IntN(45000))
		case 3:
			rec.Msg = "" // absent message
		case 4:
			rec.Msg = fmt.Sprintf("panic: runtime error\n\ngoroutine %d [running]:\nmain.f(0x%x)\n\t/app/main.go:%d +0x%x", r.IntN(1e6), r.Uint32(), r.IntN(500), r.IntN(4096))
		default:
			rec.Msg = fmt.Sprintf("%d.%d.%d.%d - - \"GET /api/v1/users/%s HTTP/1.1\" 200 %d", r.IntN(223)+1, r.IntN(256), r.IntN(256), r.IntN(255)+1, uid, r.IntN(48000))
		}
		rec.Fields = append(rec.Fields, model.Field{Name: "level", Value: levels[r.IntN(len(levels))]})
		if r.IntN(50) != 0 {
			rec.Fields = append(rec.Fields, model.Field{Name: "trace_id", Value: fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())})
		}
		if r.IntN(20) != 0 {
			rec.Fields = append(rec.Fields, model.Field{Name: "user_id", Value: uid})
		}
		rec.Fields = append(rec.Fields, model.Field{Name: "const", Value: "same"})
		if r.IntN(3) == 0 {
			rec.Fields = append(rec.Fields, model.Field{Name: "note", Value: randText(r, 5+r.IntN(40))})
		}
		if r.IntN(7) == 0 {
			rec.Fields = append(rec.Fields, model.Field{Name: "SPAN", Value: fmt.Sprintf("%08X", r.Uint32())})
		}
		rows[i] = Row{Partition: p, Offset: next[p], Record: rec}
		next[p]++
	}
	return rows
}

func randText(r *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEF0123456789-_=:/.,가나다라결제\t\n\"\\"
	rs := []rune(alphabet)
	var b strings.Builder
	for range n {
		b.WriteRune(rs[r.IntN(len(rs))])
	}
	return b.String()
}

// canonical returns rows as a part returns them: sorted in part order,
// stream fields sorted, fields non-empty and sorted by name.
func canonical(rows []Row) []Row {
	out := make([]Row, len(rows))
	for i, r := range rows {
		rec := r.Record
		rec.Stream = sortedStream(rec.Stream)
		var fs []model.Field
		for _, f := range rec.Fields {
			if f.Value != "" {
				fs = append(fs, f)
			}
		}
		slices.SortFunc(fs, func(a, b model.Field) int { return strings.Compare(a.Name, b.Name) })
		rec.Fields = fs
		out[i] = Row{Partition: r.Partition, Offset: r.Offset, Record: rec}
	}
	slices.SortStableFunc(out, func(a, b Row) int {
		sa := Stream{ID: model.StreamHash(a.Record.Stream), Fields: a.Record.Stream}
		sb := Stream{ID: model.StreamHash(b.Record.Stream), Fields: b.Record.Stream}
		if c := compareStreams(&sa, &sb); c != 0 {
			return c
		}
		return compareRows(&a, &b)
	})
	return out
}

// readAll reads every row of a part, checking block invariants.
func readAll(t testing.TB, p *Part) []Row {
	t.Helper()
	var out []Row
	for i, m := range p.Blocks() {
		b, err := p.ReadBlock(i, nil)
		if err != nil {
			t.Fatalf("read block %d: %v", i, err)
		}
		if b.Len() != m.Rows {
			t.Fatalf("block %d: %d rows, meta says %d", i, b.Len(), m.Rows)
		}
		for r := 0; r < b.Len(); r++ {
			row := b.Row(r)
			if len(row.Record.Fields) == 0 {
				row.Record.Fields = nil
			}
			out = append(out, row)
		}
	}
	return out
}

func rowsEqual(t testing.TB, got, want []Row) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Partition != w.Partition || g.Offset != w.Offset || g.Record.Time != w.Record.Time || g.Record.Msg != w.Record.Msg ||
			!fieldsEqual(g.Record.Stream, w.Record.Stream) || !fieldsEqual(g.Record.Fields, w.Record.Fields) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func writeAndOpen(t testing.TB, fsys *memFS, name string, rows []Row, opts WriteOptions) (*Part, PartInfo) {
	t.Helper()
	info, err := WritePart(fsys, name, PartMeta{Bucket: "b", Day: 20454}, rows, opts)
	if err != nil {
		t.Fatalf("write part: %v", err)
	}
	p, err := OpenPart(fsys, name)
	if err != nil {
		t.Fatalf("open part: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p, info
}

func rec(msg string, fields ...string) model.Record {
	r := model.Record{Time: 1e18, Msg: msg, Stream: []model.Field{{Name: "app", Value: "x"}}}
	for i := 0; i+1 < len(fields); i += 2 {
		r.Fields = append(r.Fields, model.Field{Name: fields[i], Value: fields[i+1]})
	}
	return r
}

func rowsOf(recs ...model.Record) []Row {
	rows := make([]Row, len(recs))
	for i, r := range recs {
		r.Time += int64(i)
		rows[i] = Row{Partition: 0, Offset: int64(i), Record: r}
	}
	return rows
}

func repeatRows(n int, f func(i int) model.Record) []Row {
	recs := make([]model.Record, n)
	for i := range recs {
		recs[i] = f(i)
	}
	return rowsOf(recs...)
}

func TestRoundTrip(t *testing.T) {
	huge := strings.Repeat("huge value 12345 ", 70_000) // ~1.2 MB
	manyFields := func(i int) model.Record {
		r := rec(fmt.Sprint("row ", i))
		for k := 0; k < 300; k++ {
			if (i+k)%7 == 0 {
				r.Fields = append(r.Fields, model.Field{Name: fmt.Sprintf("f%03d", k), Value: fmt.Sprint(i * k)})
			}
		}
		return r
	}
	cases := []struct {
		name string
		rows []Row
		opts WriteOptions
		enc  map[string]Encoding // expected encoding of some columns in block 0
	}{
		{name: "single row", rows: rowsOf(rec("hello world", "level", "info"))},
		{name: "generated", rows: genRows(1, 5000, 7)},
		{name: "generated small blocks", rows: genRows(2, 3000, 3), opts: WriteOptions{BlockRows: 100, BlockBytes: 4096}},
		{name: "many streams", rows: genRows(3, 4000, 700)},
		{name: "const and dict", rows: repeatRows(600, func(i int) model.Record {
			return rec("same message", "c", "k", "d", fmt.Sprint("v", i%200), "e", []string{"", "x"}[i%2])
		}), enc: map[string]Encoding{MsgField: EncConst, "c": EncConst, "d": EncDict, "e": EncDict}},
		{name: "int", rows: repeatRows(2000, func(i int) model.Record {
			v := []string{"u0", "u9999999999999999999", "u" + fmt.Sprint(i*7919), ""}[i%4]
			return rec(fmt.Sprint("n ", i*1000003), "n", v, "plain", fmt.Sprint(i*i*i))
		}), enc: map[string]Encoding{"n": EncInt, "plain": EncInt}},
		{name: "not int", rows: repeatRows(600, func(i int) model.Record {
			return rec("x", "a", []string{"u01", fmt.Sprint("u", i)}[i%2], "b", []string{"-5", fmt.Sprint(i)}[i%2],
				"c", []string{"12345678901234567890", fmt.Sprint(i)}[i%2])
		}), enc: map[string]Encoding{"a": EncStrings, "b": EncStrings, "c": EncStrings}},
		{name: "hex", rows: repeatRows(600, func(i int) model.Record {
			return rec("x", "lo", fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15), "up", []string{fmt.Sprintf("%08X", uint32(i*2654435761)), ""}[i%3/2],
				"mixed", []string{fmt.Sprintf("%04x", i+40000), "ABCD"}[i%2], "odd", fmt.Sprintf("%05x", i+70000))
		}), enc: map[string]Encoding{"lo": EncHex, "up": EncHex, "mixed": EncStrings, "odd": EncStrings}},
		{name: "pattern with refs", rows: repeatRows(600, func(i int) model.Record {
			u := fmt.Sprint("u", 100000+i*37)
			return rec(fmt.Sprintf("event=login user_id=%s ip=10.0.%d.%d took_ms=%d", u, i%256, i*7%256, i*13), "user_id", u)
		}), enc: map[string]Encoding{MsgField: EncPattern, "user_id": EncInt}},
		{name: "high bytes fall back", rows: repeatRows(600, func(i int) model.Record {
			return rec(fmt.Sprintf("bad \xff\xfe%d byte", i))
		}), enc: map[string]Encoding{MsgField: EncStrings}},
		{name: "empty messages", rows: repeatRows(50, func(i int) model.Record { return rec("", "k", fmt.Sprint(i)) })},
		{name: "empty everything", rows: repeatRows(20, func(i int) model.Record { return rec("", "k", "") })},
		{name: "huge value", rows: rowsOf(rec(huge, "big", huge[:300000]), rec("small"), rec(huge[1:]))},
		{name: "korean", rows: repeatRows(300, func(i int) model.Record {
			return rec(fmt.Sprintf("결제 승인 완료 order=%d 상품=젬팩 금액=%d원", i, i*100), "사유", "출석보상")
		})},
		{name: "many fields", rows: repeatRows(500, manyFields)},
		{name: "unsorted stream and equal times", rows: func() []Row {
			rows := repeatRows(100, func(i int) model.Record {
				r := rec(fmt.Sprint(i))
				r.Time = int64(i / 10)
				r.Stream = []model.Field{{Name: "z", Value: "1"}, {Name: "a", Value: fmt.Sprint(i % 2)}}
				return r
			})
			slices.Reverse(rows)
			return rows
		}()},
		{name: "extreme times", rows: rowsOf(
			model.Record{Time: math.MinInt64, Msg: "a"}, model.Record{Time: math.MaxInt64 - 10, Msg: "b"}, model.Record{Time: 0, Msg: "c"})},
		{name: "tiny blocks", rows: genRows(4, 200, 2), opts: WriteOptions{BlockRows: 1}},
		{name: "best compression", rows: genRows(5, 2000, 4), opts: WriteOptions{Compression: 4, BloomBitsPerToken: 10}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := newMemFS()
			p, info := writeAndOpen(t, fsys, "/p/x.part", tc.rows, tc.opts)
			want := canonical(tc.rows)
			rowsEqual(t, readAll(t, p), want)
			checkInfo(t, p, info, want)
			if tc.enc != nil {
				b, err := p.ReadBlock(0, nil)
				if err != nil {
					t.Fatal(err)
				}
				for name, e := range tc.enc {
					c := b.Column(name)
					if c == nil || c.Encoding() != e {
						var got any = c
						if c != nil {
							got = c.Encoding()
						}
						t.Errorf("column %s: %v, want %v", name, got, e)
					}
				}
			}
			checkFilters(t, p)
			if names := fsys.names(); len(names) != 1 {
				t.Errorf("files left: %v", names)
			}
		})
	}
}

// checkInfo compares a part's info and block metadata with its rows.
func checkInfo(t testing.TB, p *Part, info PartInfo, want []Row) {
	t.Helper()
	got := p.Info()
	if got.Rows != int64(len(want)) || info.Rows != got.Rows || info.Bytes != got.Bytes || got.Blocks != len(p.Blocks()) {
		t.Fatalf("info %+v / written %+v for %d rows", got, info, len(want))
	}
	minT, maxT := want[0].Record.Time, want[0].Record.Time
	var pos []Position
	for _, r := range want {
		minT, maxT = min(minT, r.Record.Time), max(maxT, r.Record.Time)
		pos = append(pos, Position{r.Partition, r.Offset})
	}
	ranges, _ := coalesce(pos)
	if got.MinTime != minT || got.MaxTime != maxT || !slices.Equal(got.Ranges, ranges) {
		t.Fatalf("time [%d,%d] ranges %v, want [%d,%d] %v", got.MinTime, got.MaxTime, got.Ranges, minT, maxT, ranges)
	}
	for _, r := range want {
		if !got.Contains(Position{r.Partition, r.Offset}) {
			t.Fatalf("Contains(%d,%d) false", r.Partition, r.Offset)
		}
	}
	if got.Contains(Position{99, 0}) {
		t.Fatal("Contains of a foreign partition")
	}
	k := 0
	for i, m := range p.Blocks() {
		rows := want[k : k+m.Rows]
		k += m.Rows
		if !fieldsEqual(m.StreamFields, rows[0].Record.Stream) || m.StreamID != model.StreamHash(m.StreamFields) {
			t.Fatalf("block %d stream %v, want %v", i, m.StreamFields, rows[0].Record.Stream)
		}
		if m.MinTime != rows[0].Record.Time || m.MaxTime != rows[len(rows)-1].Record.Time {
			t.Fatalf("block %d time range", i)
		}
		for _, r := range rows {
			for _, f := range r.Record.Fields {
				if !m.HasField(f.Name) {
					t.Fatalf("block %d lacks field %s", i, f.Name)
				}
			}
			if r.Record.Msg != "" && !m.HasField(MsgField) {
				t.Fatalf("block %d lacks _msg", i)
			}
			p := Position{r.Partition, r.Offset}
			if p.Compare(m.MinPos) < 0 || p.Compare(m.MaxPos) > 0 {
				t.Fatalf("block %d position range %v..%v misses %v", i, m.MinPos, m.MaxPos, p)
			}
		}
	}
}

// checkFilters checks that no token of any row is missing from its
// block's filter (the filter's one guarantee).
func checkFilters(t testing.TB, p *Part) {
	t.Helper()
	filters, err := p.ReadFilters()
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Blocks() {
		f, err := p.ReadFilter(i)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.words, filters[i].words) {
			t.Fatalf("ReadFilter(%d) differs from ReadFilters", i)
		}
		b, err := p.ReadBlock(i, nil)
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < b.Len(); r++ {
			rec := b.Record(r)
			check := func(field, value string) {
				index.ForEachToken(value, func(tok string) {
					if !f.MayContain(field, tok) || !f.MayContainTokens(field, []string{tok}) {
						t.Fatalf("block %d: filter misses %s:%q", i, field, tok)
					}
					index.ForEachHangulGram(tok, func(g string) {
						if !f.MayContain(field, g) {
							t.Fatalf("block %d: filter misses gram %s:%q", i, field, g)
						}
					})
					if index.ContainsHangul(tok) && !f.MayContainTokens(field, index.QueryGrams(tok)) {
						t.Fatalf("block %d: filter misses query grams of %q", i, tok)
					}
				})
			}
			check(MsgField, rec.Msg)
			for _, fl := range rec.Stream {
				check(fl.Name, fl.Value)
			}
			for _, fl := range rec.Fields {
				check(fl.Name, fl.Value)
			}
		}
	}
}

func TestReadBlockColumns(t *testing.T) {
	fsys := newMemFS()
	rows := repeatRows(500, func(i int) model.Record {
		u := fmt.Sprint("u", 100000+i*37)
		return rec(fmt.Sprintf("login user_id=%s took=%d", u, i), "user_id", u, "level", []string{"info", "warn"}[i%2], "other", fmt.Sprint(i))
	})
	p, _ := writeAndOpen(t, fsys, "/x.part", rows, WriteOptions{})
	want := canonical(rows)
	// Times and positions are read with the block when named, else on
	// first use: both must give the same answers.
	for _, cols := range [][]string{{MsgField}, {"level"}, {}, {"nope"}, {"app", MsgField, "other"}, {TimeField, PosField, "level"}, {PosField}} {
		b, err := p.ReadBlock(0, cols)
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < b.Len(); r++ {
			w := want[r].Record
			for _, c := range cols {
				var exp string
				switch c {
				case MsgField:
					exp = w.Msg
				case "app":
					exp = "x"
				case "nope", TimeField, PosField:
				default:
					for _, f := range w.Fields {
						if f.Name == c {
							exp = f.Value
						}
					}
				}
				if got := b.Value(c, r); got != exp {
					t.Fatalf("cols %v row %d %s = %q, want %q", cols, r, c, got, exp)
				}
				if col := b.Column(c); exp != "" && (col == nil || col.Value(r) != exp) {
					t.Fatalf("cols %v row %d: Column(%s) wrong", cols, r, c)
				}
			}
			if b.Time(r) != w.Time || b.Position(r) != (Position{want[r].Partition, want[r].Offset}) {
				t.Fatalf("row %d time/position wrong", r)
			}
		}
		if !slices.Contains(cols, "level") && b.Column("level") != nil {
			t.Fatalf("cols %v: level decoded", cols)
		}
	}
	b, _ := p.ReadBlock(0, []string{"level"})
	vals, idx, ok := b.Column("level").Dict()
	if !ok || len(vals) != 2 || len(idx) != 500 {
		t.Fatalf("Dict() = %v, %d, %v", vals, len(idx), ok)
	}
	if _, err := p.ReadBlock(1, nil); err == nil {
		t.Fatal("ReadBlock past the end succeeded")
	}
}

func TestWritePartRejects(t *testing.T) {
	ok := rec("m", "a", "1")
	for name, rows := range map[string][]Row{
		"reserved":         rowsOf(rec("m", "_msg", "x")),
		"reserved time":    rowsOf(rec("m", "_time", "x")),
		"duplicate field":  rowsOf(rec("m", "a", "1", "a", "2")),
		"stream clash":     rowsOf(rec("m", "app", "y")),
		"duplicate offset": {{Offset: 3, Record: ok}, {Offset: 3, Record: ok}},
		"negative offset":  {{Offset: -1, Record: ok}},
	} {
		_, err := WritePart(newMemFS(), "/x", PartMeta{}, rows, WriteOptions{})
		if err == nil || !strings.Contains(err.Error(), "invalid row") {
			t.Errorf("%s: err %v, want invalid row", name, err)
		}
	}
	if _, err := WritePart(newMemFS(), "/x", PartMeta{}, nil, WriteOptions{}); err == nil {
		t.Error("no rows: no error")
	}
	if _, err := WritePart(newMemFS(), "/x", PartMeta{}, rowsOf(ok), WriteOptions{BlockRows: -1}); err == nil {
		t.Error("bad options: no error")
	}
	fsys := newMemFS()
	if _, err := WritePart(fsys, "/x", PartMeta{}, rowsOf(ok), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := WritePart(fsys, "/x", PartMeta{}, rowsOf(ok), WriteOptions{}); err == nil {
		t.Error("overwrote an existing part")
	}
	_ = cmp.Compare(1, 2)
}

// checkPatternView checks the contract of Column.Pattern on every pattern
// column of a part: digit-free tokens and Hangul substrings of a row are
// exactly those of its template.
func checkPatternView(t testing.TB, p *Part) int {
	t.Helper()
	checked := 0
	for i := range p.Blocks() {
		b, err := p.ReadBlock(i, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range append([]*Column{b.Column(MsgField)}, b.Columns()...) {
			if c == nil {
				continue
			}
			pv, ok := c.Pattern()
			if !ok {
				continue
			}
			digitFree := func(s string, zeroIsDigit bool) string {
				var out []string
				index.ForEachToken(s, func(tok string) {
					if !strings.ContainsAny(tok, "0123456789") {
						out = append(out, tok)
					}
				})
				return strings.Join(out, "|")
			}
			for r, v := range c.Values() {
				tpl := pv.Templates[pv.IDs[r]]
				if got, want := digitFree(TemplateText(tpl), true), digitFree(v, false); got != want {
					t.Fatalf("row %q template %q: tokens %q, want %q", v, tpl, got, want)
				}
				for _, w := range []string{"결제", "승인 실패", "잔액", "error"} {
					if strings.Contains(tpl, w) != strings.Contains(v, w) {
						t.Fatalf("row %q template %q: substring %q", v, tpl, w)
					}
				}
				checked++
			}
		}
	}
	return checked
}

func TestPatternView(t *testing.T) {
	fsys := newMemFS()
	p, _ := writeAndOpen(t, fsys, "/p.part", genRows(44, 3000, 3), WriteOptions{})
	if n := checkPatternView(t, p); n < 1000 {
		t.Fatalf("only %d pattern rows checked", n)
	}
}

// TestConcurrentReads reads the same blocks and values from several
// goroutines (run with -race).
func TestConcurrentReads(t *testing.T) {
	fsys := newMemFS()
	rows := genRows(61, 2000, 3)
	p, _ := writeAndOpen(t, fsys, "/c.part", rows, WriteOptions{BlockRows: 300})
	want := canonical(rows)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := 0
			for i := range p.Blocks() {
				b, err := p.ReadBlock(i, nil)
				if err != nil {
					errs <- err
					return
				}
				msg := b.Column(MsgField)
				for r := 0; r < b.Len(); r++ {
					if msg != nil && msg.Value(r) != want[k].Record.Msg {
						errs <- fmt.Errorf("block %d row %d: message differs", i, r)
						return
					}
					k++
				}
				if _, err := p.ReadFilter(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Values of one block shared by goroutines: built once.
	b, err := p.ReadBlock(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c := b.Column(MsgField); c != nil {
				_ = c.Values()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestStreamStringsKept: an opened part carries each stream's `_stream`
// value, on the stream and on its blocks' metadata.
func TestStreamStringsKept(t *testing.T) {
	rows := repeatRows(50, func(i int) model.Record {
		r := rec(fmt.Sprint("row ", i))
		r.Stream = []model.Field{{Name: "host", Value: fmt.Sprintf("h\"%d", i%3)}, {Name: "service", Value: "결제"}}
		return r
	})
	p, _ := writeAndOpen(t, newMemFS(), "/p", rows, WriteOptions{BlockRows: 8})
	if len(p.Streams()) != 3 {
		t.Fatalf("%d streams", len(p.Streams()))
	}
	for _, s := range p.Streams() {
		if want := model.StreamString(s.Fields); s.String != want {
			t.Fatalf("stream %v: String %q, want %q", s.Fields, s.String, want)
		}
	}
	for _, m := range p.Blocks() {
		if want := model.StreamString(m.StreamFields); m.StreamString != want {
			t.Fatalf("block of %v: StreamString %q, want %q", m.StreamFields, m.StreamString, want)
		}
	}
}
