package ship

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// benchLines is n loggen-like lines: mostly JSON, some plain, a few traces.
func benchLines(n int) []byte {
	var b strings.Builder
	for i := range n {
		switch i % 50 {
		case 48:
			fmt.Fprintf(&b, "2026-01-01T00:00:00Z WARN slow query took=%dms table=inventory user_id=u%d\n", i%997, i)
		case 49:
			fmt.Fprintf(&b, "ERROR request failed id=%d\njava.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)\n", i)
		default:
			fmt.Fprintf(&b, `{"_time":"2026-01-01T07:08:00.%09dZ","service":"auth-service","host":"auth-service-kr1a-09","level":"info",`+
				`"trace_id":"4e3466d6989d696cbb494a02db99c29d","user_id":"u%d","_msg":"event=login user_id=u%d platform=pc ver=3.12.0 country=TH"}`+"\n", i, i, i)
		}
	}
	return []byte(b.String())
}

// BenchmarkReadPath measures the per-line work of a stream before the
// network: splitting, joining, JSON validation and NDJSON encoding.
func BenchmarkReadPath(b *testing.B) {
	data := benchLines(10000)
	in := DefaultInput()
	in.Fields = map[string]string{"host": "web-1"}
	enc := newRecordEncoder(&in, "/var/log/app/app.log")
	var body []byte
	j := newJoiner(in.Multiline, func(text []byte, isJSON bool) { body = enc.appendRecord(body, text, isJSON) })
	spl := splitter{max: in.MaxLineBytes}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		j.reset(0)
		for off := 0; off < len(data); off += readBufSize {
			spl.feed(data[off:min(off+readBufSize, len(data))], int64(off), j.add)
			if len(body) > 1<<20 {
				body = body[:0]
			}
		}
		j.flush()
		body = body[:0]
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/line")
}

// BenchmarkCompress measures zstd on a batch of encoded records.
func BenchmarkCompress(b *testing.B) {
	data := benchLines(3500)
	c, err := newCompressor("zstd", 1)
	if err != nil {
		b.Fatal(err)
	}
	defer c.close()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c.compress(data)
	}
}

// BenchmarkShipFile ships a whole file to a server that decompresses the
// batches and counts their records, storing nothing: the shipper's own
// ceiling. SHIP_BENCH_FILE ships another file (e.g. 1M loggen lines).
func BenchmarkShipFile(b *testing.B) {
	dir := b.TempDir()
	path := os.Getenv("SHIP_BENCH_FILE")
	if path == "" {
		path = filepath.Join(dir, "app.log")
		if err := os.WriteFile(path, benchLines(100000), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	lines, size := int64(bytes.Count(data, []byte("\n"))), int64(len(data))
	data = nil
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := zstd.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		defer zr.Close()
		body, err := io.ReadAll(zr)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprintf(w, `{"accepted":%d}`, bytes.Count(body, []byte("\n")))
	}))
	defer srv.Close()
	b.SetBytes(size)
	for i := range b.N {
		o := testOptions(&fakeServer{srv: srv}, filepath.Join(dir, fmt.Sprintf("state%d", i)), path)
		o.BatchWait = time.Second
		sh, err := New(o, quietLog(), nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sh.Run(ctx) }()
		for {
			st := sh.Stats()
			if st.LinesRead == lines && st.Inflight == 0 && st.BytesBehind == 0 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*lines), "ns/line")
}
