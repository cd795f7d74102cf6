package indexer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/storage"
	"github.com/logbucket/logbucket/internal/vfs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fileStore is a test PartStore: a part is its rows as JSON in one file,
// written through the vfs so faults can be injected.
type fileStore struct{ fs vfs.FS }

type filePart struct{ rows []Row }

func (filePart) Close() error { return nil }

func (s fileStore) Write(path string, day int64, rows []Row) (PartStats, error) {
	b, err := json.Marshal(rows)
	if err != nil {
		return PartStats{}, err
	}
	dir, name := filepath.Split(path)
	if err := vfs.WriteFileAtomic(s.fs, filepath.Clean(dir), name, b); err != nil {
		return PartStats{}, err
	}
	st := PartStats{Rows: int64(len(rows)), Bytes: int64(len(b))}
	for i, r := range rows {
		if storage.DayOf(r.Record.Time) != day {
			return PartStats{}, fmt.Errorf("row of day %d in part of day %d", storage.DayOf(r.Record.Time), day)
		}
		if i == 0 || r.Record.Time < st.MinTime {
			st.MinTime = r.Record.Time
		}
		st.MaxTime = max(st.MaxTime, r.Record.Time)
	}
	return st, nil
}

func (s fileStore) Open(path string) (Part, error) {
	f, err := s.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	var p filePart
	return p, json.Unmarshal(b, &p.rows)
}

func (s fileStore) Merge(path string, day int64, parts []Part) (PartStats, error) {
	var rows []Row
	for _, p := range parts {
		rows = append(rows, p.(filePart).rows...)
	}
	return s.Write(path, day, rows)
}

type env struct {
	dir string
	fs  vfs.FS
	log *commitlog.Embedded
}

func newEnv(t *testing.T, fsys vfs.FS) *env {
	t.Helper()
	dir := t.TempDir()
	l, err := commitlog.Open(commitlog.Options{Dir: filepath.Join(dir, "log")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return &env{dir: dir, fs: fsys, log: l}
}

func (e *env) open(t *testing.T, tweak func(*Options)) *Indexer {
	t.Helper()
	o := Options{Dir: filepath.Join(e.dir, "index"), FS: e.fs, Log: e.log, Store: fileStore{e.fs},
		FlushInterval: time.Hour}
	if tweak != nil {
		tweak(&o)
	}
	ix, err := Open(o)
	if err != nil {
		t.Fatalf("open indexer: %v", err)
	}
	return ix
}

// appendN appends n records spread over days and streams; ids from first.
func (e *env) appendN(t *testing.T, bucket string, first, n int) map[int]int64 {
	t.Helper()
	recs := make([]model.Record, n)
	for i := range recs {
		id := first + i
		recs[i] = model.Record{Time: int64(id%3)*nsPerDay + int64(id), Msg: "m" + strconv.Itoa(id),
			Stream: []model.Field{{Name: "s", Value: strconv.Itoa(id % 5)}}}
	}
	if err := e.log.CreateBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	if _, err := e.log.Append(context.Background(), commitlog.AppendRequest{Bucket: bucket, Records: recs}); err != nil {
		t.Fatal(err)
	}
	info, _ := e.log.Bucket(context.Background(), bucket)
	ends := map[int]int64{}
	for _, p := range info.Partitions {
		ends[p.Partition] = p.End
	}
	return ends
}

// seen returns how often each message appears in a snapshot.
func seen(t *testing.T, ix *Indexer, bucket string) (map[string]int, int) {
	t.Helper()
	s, err := ix.Snapshot(bucket)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	got := map[string]int{}
	for _, p := range s.Parts {
		for _, r := range p.Part.(filePart).rows {
			got[r.Record.Msg]++
		}
	}
	for _, r := range s.Tail {
		got[r.Record.Msg]++
	}
	return got, len(s.Parts)
}

func checkOnce(t *testing.T, got map[string]int, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("index holds %d distinct records, want %d", len(got), n)
	}
	for m, c := range got {
		if c != 1 {
			t.Fatalf("record %s indexed %d times", m, c)
		}
	}
}

func waitFor(t *testing.T, ix *Indexer, bucket string, ends map[int]int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ix.WaitIndexed(ctx, bucket, ends); err != nil {
		t.Fatalf("records not indexed: %v", err)
	}
}

func TestIndexesEveryRecordOnceAcrossRestarts(t *testing.T) {
	e := newEnv(t, vfs.OS{})
	ends := e.appendN(t, "b", 0, 300)
	ix := e.open(t, nil)
	waitFor(t, ix, "b", ends)
	got, parts := seen(t, ix, "b")
	checkOnce(t, got, 300)
	if parts != 0 {
		t.Fatalf("%d parts before any flush", parts)
	}
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	got, parts = seen(t, ix, "b")
	checkOnce(t, got, 300)
	if parts != 3 {
		t.Fatalf("%d parts after flushing 3 days of records, want 3", parts)
	}
	ix.Close()
	ends = e.appendN(t, "b", 300, 30)
	ix = e.open(t, nil)
	defer ix.Close()
	waitFor(t, ix, "b", ends)
	got, _ = seen(t, ix, "b")
	checkOnce(t, got, 330)
	offs, _ := e.log.Committed(context.Background(), "b", Group)
	if len(offs) == 0 {
		t.Fatal("the indexer group was never committed")
	}
}

// TestFailedManifestSwapIndexesOnce: a flush whose manifest swap fails
// leaves part files behind; after a restart they are removed and every
// record is indexed exactly once.
func TestFailedManifestSwapIndexesOnce(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	e := newEnv(t, faulty)
	ends := e.appendN(t, "b", 0, 100)
	ix := e.open(t, nil)
	waitFor(t, ix, "b", ends)
	// Part files are written with a rename each (3 days), then the manifest
	// swap renames: fail that fourth rename.
	faulty.FailAt(vfs.OpRename, 4, false)
	if err := ix.Flush(); err == nil {
		t.Fatal("flush succeeded although its manifest swap failed")
	}
	got, parts := seen(t, ix, "b")
	checkOnce(t, got, 100)
	if parts != 0 {
		t.Fatalf("a failed flush published %d parts", parts)
	}
	ix.Close()
	faulty.Heal()
	ix = e.open(t, nil)
	defer ix.Close()
	entries, _ := os.ReadDir(filepath.Join(e.dir, "index", "b"))
	for _, en := range entries {
		if filepath.Ext(en.Name()) == ".part" {
			t.Errorf("leftover part %s survived the restart", en.Name())
		}
	}
	waitFor(t, ix, "b", ends)
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	got, _ = seen(t, ix, "b")
	checkOnce(t, got, 100)
}

// TestTailIsBounded: with a tiny tail budget the indexer flushes instead of
// holding more than the budget, and still indexes everything once.
func TestTailIsBounded(t *testing.T) {
	e := newEnv(t, vfs.OS{})
	ends := e.appendN(t, "b", 0, 2000)
	ix := e.open(t, func(o *Options) { o.MaxTailBytes = 4 << 10; o.ReadBatch = 50 })
	defer ix.Close()
	waitFor(t, ix, "b", ends)
	got, parts := seen(t, ix, "b")
	checkOnce(t, got, 2000)
	if parts < 3 {
		t.Fatalf("only %d parts: the tail budget did not force flushes", parts)
	}
}

// tWriter sends log output to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestDayOf(t *testing.T) {
	for in, want := range map[int64]int64{0: 0, nsPerDay - 1: 0, nsPerDay: 1, -1: -1, -nsPerDay: -1, -nsPerDay - 1: -2} {
		if got := storage.DayOf(in); got != want {
			t.Errorf("DayOf(%d) = %d, want %d", in, got, want)
		}
	}
}

// TestMergesKeepEveryRecordOnce flushes many small parts, lets the merge
// policy combine them, and checks that records stay exactly once, that a
// snapshot taken before the merges still reads its parts, and that merged
// inputs disappear from disk once released.
func TestMergesKeepEveryRecordOnce(t *testing.T) {
	e := newEnv(t, vfs.OS{})
	ix := e.open(t, func(o *Options) {
		o.MergeInterval = 10 * time.Millisecond
		o.Logger = slog.New(slog.NewTextHandler(tWriter{t}, nil))
	})
	total := 0
	for i := 0; i < 12; i++ {
		ends := e.appendN(t, "b", total, 30)
		total += 30
		waitFor(t, ix, "b", ends)
		if err := ix.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	old, err := ix.Snapshot("b")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// 12 flushes of 3 days make 36 level-0 parts; merging at fan-in 8
		// must cut them to at most 3 merged + 7 leftovers per day.
		_, parts := seen(t, ix, "b")
		if parts <= 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d parts: nothing merged", parts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, _ := seen(t, ix, "b")
	checkOnce(t, got, total)
	n := 0
	for _, p := range old.Parts {
		n += len(p.Part.(filePart).rows)
	}
	if n != total {
		t.Fatalf("the old snapshot reads %d rows, want %d", n, total)
	}
	old.Release()
	ix.Close()
	ix = e.open(t, nil)
	defer ix.Close()
	got, parts := seen(t, ix, "b")
	checkOnce(t, got, total)
	files, _ := filepath.Glob(filepath.Join(e.dir, "index", "b", "*.part"))
	if len(files) != parts {
		t.Fatalf("%d part files on disk for %d live parts", len(files), parts)
	}
}

// TestRetentionDropsWholeOldDays: with a 2-day retention, the day that is
// entirely older than that is dropped; younger days stay whole.
func TestRetentionDropsWholeOldDays(t *testing.T) {
	e := newEnv(t, vfs.OS{})
	ends := e.appendN(t, "b", 0, 90) // days 0, 1 and 2
	now := time.Unix(0, 3*nsPerDay+nsPerDay/2).UTC()
	ix := e.open(t, func(o *Options) {
		o.MergeInterval = 10 * time.Millisecond
		o.RetentionAge = func(string) time.Duration { return 2 * 24 * time.Hour }
		o.Now = func() time.Time { return now }
	})
	defer ix.Close()
	waitFor(t, ix, "b", ends)
	if err := ix.Flush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := seen(t, ix, "b")
		if len(got) == 60 {
			for m := range got {
				id, _ := strconv.Atoi(strings.TrimPrefix(m, "m"))
				if id%3 == 0 {
					t.Fatalf("record %s of day 0 survived retention", m)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records left, want the 60 of days 1 and 2", len(got))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOddRecordsDoNotStopIndexing: records the part format would refuse
// as they are (reserved field names, a field named like a stream field)
// are indexed, sanitized, with the real storage.
func TestOddRecordsDoNotStopIndexing(t *testing.T) {
	e := newEnv(t, vfs.OS{})
	ctx := context.Background()
	e.log.CreateBucket(ctx, "odd")
	recs := []model.Record{
		{Time: 1, Msg: "m", Fields: []model.Field{{Name: "_msg", Value: "inner"}, {Name: "_stream", Value: "x"}}},
		{Time: 2, Msg: "n", Stream: []model.Field{{Name: "host", Value: "h"}}, Fields: []model.Field{{Name: "host", Value: "dup"}}},
	}
	if _, err := e.log.Append(ctx, commitlog.AppendRequest{Bucket: "odd", Records: recs}); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(Options{Dir: filepath.Join(e.dir, "index"), Log: e.log, Store: StorageStore{FS: vfs.OS{}}, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	info, _ := e.log.Bucket(ctx, "odd")
	ends := map[int]int64{}
	for _, p := range info.Partitions {
		ends[p.Partition] = p.End
	}
	waitFor(t, ix, "odd", ends)
	if err := ix.Flush(); err != nil {
		t.Fatalf("flush of odd records: %v", err)
	}
	s, _ := ix.Snapshot("odd")
	defer s.Release()
	rows := int64(0)
	for _, p := range s.Parts {
		rows += p.Rows
	}
	if rows != 2 || len(s.Tail) != 0 {
		t.Fatalf("parts hold %d rows, tail %d; want 2 and 0", rows, len(s.Tail))
	}
}
