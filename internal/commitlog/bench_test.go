package commitlog

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

const benchBatch = 1000

var benchServices = []string{"checkout", "payments", "search", "auth", "catalog", "cart", "shipping", "gateway"}

// benchRecords returns a batch of realistic access-log records of about
// 300 bytes each, spread over eight streams.
func benchRecords(batch int) []model.Record {
	out := make([]model.Record, benchBatch)
	for i := range out {
		id := batch*benchBatch + i
		trace := fmt.Sprintf("%016x%016x", uint64(id)*0x9e3779b97f4a7c15, uint64(id)*0xc2b2ae3d27d4eb4f)
		out[i] = model.Record{
			Time: 1_700_000_000_000_000_000 + int64(id)*1_000_000,
			Msg: fmt.Sprintf("GET /api/v1/orders/%d/items?page=%d returned 200 in %dms for user u-%06d",
				id, id%17, id%250, id%100000),
			Stream: []model.Field{{Name: "host", Value: "web-03.eu-west-1"}, {Name: "service", Value: benchServices[id%len(benchServices)]}},
			Fields: []model.Field{
				{Name: "level", Value: "info"},
				{Name: "trace_id", Value: trace},
				{Name: "span_id", Value: trace[:16]},
				{Name: "http.method", Value: "GET"},
				{Name: "http.status", Value: "200"},
				{Name: "duration_ms", Value: strconv.Itoa(id % 250)},
				{Name: "user_agent", Value: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"},
			},
		}
	}
	return out
}

func batchBytes(rs []model.Record) int64 {
	var n int64
	for i := range rs {
		n += int64(rs[i].Size())
	}
	return n
}

// benchBatches pre-builds batches so that the benchmarks measure the log.
func benchBatches(n int) [][]model.Record {
	out := make([][]model.Record, n)
	for i := range out {
		out[i] = benchRecords(i)
	}
	return out
}

func openBench(b *testing.B, codec Codec) *Embedded {
	b.Helper()
	l, err := Open(Options{Dir: b.TempDir(), FS: vfs.OS{}, Codec: codec, RetentionCheckInterval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.CreateBucket(context.Background(), "b"); err != nil {
		b.Fatal(err)
	}
	return l
}

func reportPerRecord(b *testing.B, records int64) {
	if records > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
	}
}

// BenchmarkAppend appends batches of 1000 records (4 partitions, real
// files, one fdatasync per partition per append).
func BenchmarkAppend(b *testing.B) {
	batches := benchBatches(16)
	for _, codec := range []Codec{CodecZstd, CodecS2, CodecNone} {
		b.Run(map[Codec]string{CodecZstd: "zstd", CodecS2: "s2", CodecNone: "none"}[codec], func(b *testing.B) {
			l := openBench(b, codec)
			defer l.Close()
			ctx := context.Background()
			b.SetBytes(batchBytes(batches[0]))
			b.ReportAllocs()
			var records int64
			i := 0
			for b.Loop() {
				if _, err := l.Append(ctx, AppendRequest{Bucket: "b", Records: batches[i%len(batches)]}); err != nil {
					b.Fatal(err)
				}
				i++
				records += benchBatch
			}
			reportPerRecord(b, records)
		})
	}
}

// BenchmarkAppendParallel is BenchmarkAppend with concurrent appenders
// (GOMAXPROCS × -cpu goroutines), which share writes and fsyncs.
func BenchmarkAppendParallel(b *testing.B) {
	batches := benchBatches(16)
	l := openBench(b, CodecZstd)
	defer l.Close()
	ctx := context.Background()
	b.SetBytes(batchBytes(batches[0]))
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := l.Append(ctx, AppendRequest{Bucket: "b", Records: batches[i%len(batches)]}); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	reportPerRecord(b, int64(b.N)*benchBatch)
}

// BenchmarkRead reads 1000 records per op from one partition holding
// 100,000.
func BenchmarkRead(b *testing.B) {
	l, err := Open(Options{Dir: b.TempDir(), FS: vfs.OS{}, Codec: CodecZstd, RetentionCheckInterval: time.Hour,
		Bucket: func(string) BucketSettings { return BucketSettings{Partitions: 1} }})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if err := l.CreateBucket(ctx, "b"); err != nil {
		b.Fatal(err)
	}
	const batches = 100
	for i := 0; i < batches; i++ {
		if _, err := l.Append(ctx, AppendRequest{Bucket: "b", Records: benchRecords(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(batchBytes(benchRecords(0)))
	b.ReportAllocs()
	var records int64
	off := int64(0)
	for b.Loop() {
		res, err := l.Read(ctx, "b", 0, off, benchBatch, 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Records) != benchBatch {
			b.Fatalf("read %d records at %d", len(res.Records), off)
		}
		records += int64(len(res.Records))
		off = res.Next % (batches * benchBatch)
	}
	reportPerRecord(b, records)
}
