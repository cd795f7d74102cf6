package ship

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

type joined struct {
	text string
	json bool
	end  int64 // the joiner's safe offset right after the record was emitted
}

// joinAll feeds text through a splitter and a joiner and flushes at the end.
func joinAll(t *testing.T, m Multiline, text string) []joined {
	t.Helper()
	var out []joined
	var j *joiner
	j = newJoiner(m, func(b []byte, isJSON bool) {
		out = append(out, joined{text: string(b), json: isJSON})
	})
	j.reset(0)
	spl := splitter{max: 1 << 20}
	// Feed in small pieces, so that lines cross reads.
	data := []byte(text)
	for off := 0; off < len(data); off += 7 {
		end := min(off+7, len(data))
		spl.feed(data[off:end], int64(off), j.add)
	}
	spl.flush(int64(len(data)), j.add)
	j.flush()
	if j.safe != int64(len(data)) {
		t.Errorf("safe offset after the last flush = %d, want %d (the whole input)", j.safe, len(data))
	}
	return out
}

func texts(rs []joined) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.text)
	}
	return out
}

func TestJoinerTable(t *testing.T) {
	auto := DefaultInput().Multiline
	start := auto
	start.Mode, start.Start = "start", `^\d{4}-\d{2}-\d{2} `
	off := auto
	off.Mode = "off"

	javaTrace := "2026-01-02 10:00:00 ERROR [main] c.e.Billing - charge failed\n" +
		"java.lang.IllegalStateException: Duplicate receipt token\n" +
		"\tat com.kgames.billing.ReceiptValidator.validate(ReceiptValidator.java:120)\n" +
		"\tat java.base/java.lang.Thread.run(Thread.java:1583)\n" +
		"Caused by: java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available\n" +
		"\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:181)\n" +
		"\t... 12 more"
	goPanic := "panic: runtime error: index out of range [5] with length 3\n" +
		"\n" +
		"goroutine 1 [running]:\n" +
		"main.lookup(...)\n" +
		"\t/src/app/main.go:12\n" +
		"main.main()\n" +
		"\t/src/app/main.go:8 +0x1d\n" +
		"\n" +
		"goroutine 18 [chan receive]:\n" +
		"net/http.(*conn).serve(0xc000123000, {0x7a1b20, 0xc0000b2000})\n" +
		"\t/usr/local/go/src/net/http/server.go:2009 +0x5f4\n" +
		"created by net/http.(*Server).Serve in goroutine 1\n" +
		"\t/usr/local/go/src/net/http/server.go:3285 +0x4b4"
	python := "2026-01-02 10:00:01,123 ERROR handler failed\n" +
		"Traceback (most recent call last):\n" +
		"  File \"/app/h.py\", line 10, in handle\n" +
		"    parse(body)\n" +
		"  File \"/app/h.py\", line 3, in parse\n" +
		"    raise ValueError(\"bad body\")\n" +
		"ValueError: bad body\n" +
		"\n" +
		"During handling of the above exception, another exception occurred:\n" +
		"\n" +
		"Traceback (most recent call last):\n" +
		"  File \"/app/h.py\", line 12, in handle\n" +
		"    raise RuntimeError(\"giving up\")\n" +
		"RuntimeError: giving up"

	cases := []struct {
		name string
		m    Multiline
		in   string
		want []string
	}{
		{"plain lines", auto, "one\ntwo\n\nthree\n", []string{"one", "two", "three"}},
		{"java", auto, "before\n" + javaTrace + "\nafter\n", []string{"before", javaTrace, "after"}},
		{"java without a message line", auto,
			"java.lang.NullPointerException: x\n\tat a.B.c(B.java:1)\njava.lang.IllegalStateException: y\n\tat a.B.d(B.java:2)\n",
			[]string{"java.lang.NullPointerException: x\n\tat a.B.c(B.java:1)", "java.lang.IllegalStateException: y\n\tat a.B.d(B.java:2)"}},
		{"go panic", auto, "starting\n" + goPanic + "\nexit status 2\nrestarted\n",
			[]string{"starting", goPanic, "exit status 2", "restarted"}},
		{"python traceback", auto, python + "\n2026-01-02 10:00:02,000 INFO next request\n",
			[]string{python, "2026-01-02 10:00:02,000 INFO next request"}},
		{"python traceback alone", auto, "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'a'\nnext\n",
			[]string{"Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\nKeyError: 'a'", "next"}},
		{"trailing blank lines are dropped", auto, "a\n\tb\n\n\nc\n", []string{"a\n\tb", "c"}},
		{"continuation without a record starts one", auto, "\tat x\nnext\n", []string{"\tat x", "next"}},
		{"json lines are records of their own", auto, "ERROR x\n{\"a\":1}\n\tat y\n{not json\n",
			[]string{"ERROR x", `{"a":1}`, "\tat y", "{not json"}},
		{"custom start pattern", start,
			"2026-01-02 10:00:00 first\nsecond line of first\n  third\n2026-01-02 10:00:01 next\nno start\n",
			[]string{"2026-01-02 10:00:00 first\nsecond line of first\n  third", "2026-01-02 10:00:01 next\nno start"}},
		{"custom start pattern: leading lines", start, "orphan\n2026-01-02 10:00:00 x\n",
			[]string{"orphan", "2026-01-02 10:00:00 x"}},
		{"off", off, "a\n\tb\nCaused by: c\n", []string{"a", "\tb", "Caused by: c"}},
		{"crlf", auto, "a\r\n\tb\r\nc\r\n", []string{"a\n\tb", "c"}},
		{"last line without newline", auto, "a\nb", []string{"a", "b"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := texts(joinAll(t, tc.m, tc.in))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("records:\n%s\nwant:\n%s", strings.Join(quoteAll(got), "\n"), strings.Join(quoteAll(tc.want), "\n"))
			}
		})
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "  " + strings.ReplaceAll(s, "\n", "⏎")
	}
	return out
}

func TestJoinerLimitsSplitRecords(t *testing.T) {
	m := DefaultInput().Multiline
	m.MaxLines = 3
	got := texts(joinAll(t, m, "a\n\t1\n\t2\n\t3\n\t4\nb\n"))
	want := []string{"a\n\t1\n\t2", "\t3\n\t4", "b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("max_lines 3: got %q, want %q", got, want)
	}
	m = DefaultInput().Multiline
	m.MaxBytes = 256
	long := strings.Repeat("x", 200)
	got = texts(joinAll(t, m, "a\n\t"+long+"\n\t"+long+"\nb\n"))
	want = []string{"a\n\t" + long, "\t" + long, "b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("max_bytes 256: got %d records %q, want %q", len(got), got, want)
	}
}

// TestJoinerSafeOffsets checks the offsets a batch may end at: never inside
// a pending record, and past everything emitted.
func TestJoinerSafeOffsets(t *testing.T) {
	var emitted []int64
	var j *joiner
	j = newJoiner(DefaultInput().Multiline, func([]byte, bool) { emitted = append(emitted, j.lastEnd) })
	j.reset(100)
	lines := []string{"a", "\tcont", "", "b", "{\"x\":1}", "c"}
	off := int64(100)
	var safeAfter []int64
	for _, l := range lines {
		end := off + int64(len(l)) + 1
		j.add([]byte(l), off, end)
		safeAfter = append(safeAfter, j.safe)
		off = end
	}
	// a@100 \tcont@102 ""@108 b@109 {"x":1}@111 c@119, end 121
	want := []int64{100, 100, 100, 109, 119, 119}
	if !reflect.DeepEqual(safeAfter, want) {
		t.Errorf("safe offsets after each line = %v, want %v", safeAfter, want)
	}
	if !j.pending() {
		t.Fatal("c should be pending")
	}
	j.flush()
	if j.safe != 121 || j.pending() {
		t.Errorf("after flush: safe %d pending %v, want 121 false", j.safe, j.pending())
	}
}

func TestSplitterCutsLongLines(t *testing.T) {
	var cuts int
	s := splitter{max: 10, onCut: func() { cuts++ }}
	type line struct {
		text       string
		start, end int64
	}
	var got []line
	fn := func(b []byte, start, end int64) { got = append(got, line{string(b), start, end}) }
	in := "short\n" + strings.Repeat("y", 25) + "\n" + "0123456789\n" + "tail"
	for i := 0; i < len(in); i += 4 {
		s.feed([]byte(in[i:min(i+4, len(in))]), int64(i), fn)
	}
	if !s.pending() {
		t.Fatal("the unfinished last line should be pending")
	}
	s.flush(int64(len(in)), fn)
	want := []line{
		{"short", 0, 6},
		{"yyyyyyyyyy" + string(appendCutMarker(nil, 25, 10)), 6, 32},
		{"0123456789", 32, 43},
		{"tail", 43, 47},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lines:\n%+v\nwant\n%+v", got, want)
	}
	if cuts != 1 {
		t.Errorf("cuts = %d, want 1", cuts)
	}
}

func TestRecordEncoder(t *testing.T) {
	in := DefaultInput()
	in.Fields = map[string]string{"host": "web-1", "env": "prod"}
	e := newRecordEncoder(&in, "/var/log/a \"b\".log")
	var b []byte
	b = e.appendRecord(b, []byte("plain \"quoted\"\ttab"), false)
	b = e.appendRecord(b, []byte(`{"a":1}`), true)
	b = e.appendRecord(b, []byte(`{ }`), true)
	b = e.appendRecord(b, nil, false)
	want := `{"filename":"/var/log/a \"b\".log","env":"prod","host":"web-1","_msg":"plain \"quoted\"\ttab"}
{"filename":"/var/log/a \"b\".log","env":"prod","host":"web-1","a":1}
{"filename":"/var/log/a \"b\".log","env":"prod","host":"web-1" }
{"filename":"/var/log/a \"b\".log","env":"prod","host":"web-1","_msg":""}
`
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}
	none := ""
	in = DefaultInput()
	in.FilenameField, in.MsgField = &none, "message,msg"
	e = newRecordEncoder(&in, "x")
	b = e.appendRecord(nil, []byte(`{"a":1}`), true)
	b = e.appendRecord(b, []byte("m"), false)
	if want := "{\"a\":1}\n{\"message\":\"m\"}\n"; string(b) != want {
		t.Errorf("without fields: got %q, want %q", b, want)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		t.Error("no newline")
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	o := DefaultOptions()
	in := DefaultInput()
	in.Bucket = "Bad Bucket"
	in.Multiline.Start = "("
	o.Inputs = []Input{in}
	o.BatchWait = 0 * time.Second
	err := o.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"state", "bucket", "multiline.start", "paths", "batch_wait"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}
