package commitlog

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

func TestAppendReadReopen(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, testOptions(dir, vfs.OS{}))
	ctx := context.Background()
	if err := l.CreateBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 0; i < 200; i++ {
		rs := recs("svc", i*50, 50)
		mustAppend(t, l, "b", "", rs)
		for _, r := range rs {
			want = append(want, r.Fields[0].Value)
		}
	}
	check := func(l *Embedded) {
		all := readAll(t, l, "b")
		checkOffsets(t, all)
		// one stream: all records in one partition, in order
		var got []string
		for _, st := range all {
			got = append(got, ids(st)...)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("read back %d ids, want %d (first diff around %v)", len(got), len(want), firstDiff(got, want))
		}
		st := all[int(streamPart("svc", 2))]
		r := st[123].Record
		if r.Msg != "message 123 결제 완료" || r.Time != 1_700_000_000_000_000_123 || r.Stream[0].Value != "svc" {
			t.Fatalf("record 123 decoded as %+v", r)
		}
	}
	check(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	p := l.lookup("b").partitions[streamPart("svc", 2)]
	if len(p.segments) < 3 {
		t.Fatalf("expected several segments with 8 KiB segments, have %d", len(p.segments))
	}
	l2 := openT(t, testOptions(dir, vfs.OS{}))
	defer l2.Close()
	check(l2)
	res := mustAppend(t, l2, "b", "", recs("svc", 10000, 1))
	if res.Partitions[streamPart("svc", 2)].First != int64(len(want)) {
		t.Fatalf("append after reopen got offsets %+v, want first %d", res.Partitions, len(want))
	}
}

func streamPart(svc string, parts int) int {
	r := recs(svc, 0, 1)
	return int(model.StreamHash(r[0].Stream) % uint64(parts))
}

func firstDiff(a, b []string) int {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return len(a)
}

func TestIdempotentAppendAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, testOptions(dir, vfs.OS{}))
	ctx := context.Background()
	l.CreateBucket(ctx, "b")
	batch := append(recs("a", 0, 10), recs("b", 10, 10)...)
	first := mustAppend(t, l, "b", "batch-1", batch)
	again := mustAppend(t, l, "b", "batch-1", batch)
	if !again.Duplicate || !reflect.DeepEqual(first.Partitions, again.Partitions) {
		t.Fatalf("retry: got %+v, want duplicate of %+v", again, first)
	}
	l.Close()
	l = openT(t, testOptions(dir, vfs.OS{}))
	defer l.Close()
	third := mustAppend(t, l, "b", "batch-1", batch)
	if !third.Duplicate || !reflect.DeepEqual(first.Partitions, third.Partitions) {
		t.Fatalf("retry after restart: got %+v, want duplicate of %+v", third, first)
	}
	if n := total(readAll(t, l, "b")); n != 20 {
		t.Fatalf("stored %d records, want 20", n)
	}
	other := mustAppend(t, l, "b", "batch-2", batch)
	if other.Duplicate {
		t.Fatal("a new batch id was treated as a duplicate")
	}
}

func TestConsumerGroupCommit(t *testing.T) {
	dir := t.TempDir()
	l := openT(t, testOptions(dir, vfs.OS{}))
	ctx := context.Background()
	l.CreateBucket(ctx, "b")
	mustAppend(t, l, "b", "", recs("a", 0, 10))
	p := streamPart("a", 2)
	if err := l.Commit(ctx, "b", "g1", p, 4); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, "b", "g1", p, 11); !errors.Is(err, ErrBadOffset) {
		t.Fatalf("commit past the end: %v", err)
	}
	if err := l.Commit(ctx, "b", "bad group!", p, 1); !errors.Is(err, ErrBadGroup) {
		t.Fatalf("bad group name: %v", err)
	}
	l.Close()
	l = openT(t, testOptions(dir, vfs.OS{}))
	defer l.Close()
	offs, _ := l.Committed(ctx, "b", "g1")
	if offs[p] != 4 {
		t.Fatalf("committed offsets after restart: %v", offs)
	}
	info, _ := l.Bucket(ctx, "b")
	if len(info.Groups) != 1 || info.Groups[0].Lag != 6 {
		t.Fatalf("groups: %+v", info.Groups)
	}
	if info.Records != 10 || info.LastWrite.IsZero() {
		t.Fatalf("bucket info: %+v", info)
	}
	_ = strconv.Itoa
}
