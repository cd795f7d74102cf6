package commitlog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

// fakeClock is a controllable Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// retentionEnv is a one-partition log with a fake clock and retention
// settings the test changes between passes.
type retentionEnv struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	opts  Options
	reg   *prometheus.Registry

	mu  sync.Mutex // protects set
	set BucketSettings

	all []model.Record // every record appended, by offset
}

func newRetentionEnv(t *testing.T, segmentAge time.Duration) *retentionEnv {
	e := &retentionEnv{t: t, dir: t.TempDir(), clock: newFakeClock(), set: BucketSettings{Partitions: 1}}
	e.opts = Options{Dir: e.dir, FS: noSyncFS{}, SegmentBytes: 2048, SegmentAge: segmentAge,
		IndexIntervalBytes: 512, Codec: CodecZstd, RetentionCheckInterval: time.Hour, Now: e.clock.Now,
		Bucket: func(string) BucketSettings {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.set
		}}
	return e
}

func (e *retentionEnv) settings(fn func(*BucketSettings)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn(&e.set)
}

func (e *retentionEnv) open() *Embedded {
	e.t.Helper()
	e.reg = prometheus.NewRegistry()
	o := e.opts
	o.Registerer = e.reg
	l := openT(e.t, o)
	if err := l.CreateBucket(context.Background(), "b"); err != nil {
		e.t.Fatal(err)
	}
	return l
}

// fill appends n appends of 5 records.
func (e *retentionEnv) fill(l *Embedded, n int) {
	e.t.Helper()
	for i := 0; i < n; i++ {
		rs := recs("svc", len(e.all), 5)
		res := mustAppend(e.t, l, "b", "", rs)
		if res.Partitions[0].First != int64(len(e.all)) {
			e.t.Fatalf("append at %d, want %d", res.Partitions[0].First, len(e.all))
		}
		e.all = append(e.all, rs...)
	}
}

// onDisk returns the base offsets of the segment files and their sizes.
func (e *retentionEnv) onDisk() (bases []int64, sizes []int64) {
	e.t.Helper()
	dir := partitionDir(bucketDir(e.dir, "b"), 0)
	entries, err := os.ReadDir(dir)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, en := range entries {
		if base, ok := parseSegmentName(en.Name()); ok {
			fi, _ := en.Info()
			bases = append(bases, base)
			sizes = append(sizes, fi.Size())
		} else if filepath.Ext(en.Name()) == indexSuffix {
			if _, err := os.Stat(filepath.Join(dir, en.Name()[:20]+segmentSuffix)); err != nil {
				e.t.Fatalf("index %s outlived its segment", en.Name())
			}
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, sizes
}

// lastAppends returns the newest frame append time of each segment file.
func (e *retentionEnv) lastAppends(bases []int64) []int64 {
	e.t.Helper()
	out := make([]int64, len(bases))
	for i, b := range bases {
		data, err := os.ReadFile(segPath(e.dir, "b", 0, b))
		if err != nil {
			e.t.Fatal(err)
		}
		for _, f := range walkFrames(e.t, data) {
			out[i] = max(out[i], f.h.AppendTime)
		}
	}
	return out
}

// checkReadable checks that the log starts at start, that a read below it
// fails with OffsetOutOfRangeError, and that every record from start to the
// end reads back.
func (e *retentionEnv) checkReadable(l *Embedded, start int64) {
	e.t.Helper()
	ctx := context.Background()
	info, err := l.Bucket(ctx, "b")
	if err != nil {
		e.t.Fatal(err)
	}
	if p := info.Partitions[0]; p.Start != start || p.End != int64(len(e.all)) {
		e.t.Fatalf("partition spans %d..%d, want %d..%d", p.Start, p.End, start, len(e.all))
	}
	if start > 0 {
		_, err := l.Read(ctx, "b", 0, start-1, 10, 0)
		var oor *OffsetOutOfRangeError
		if !errors.As(err, &oor) || oor.Earliest != start || oor.Offset != start-1 {
			e.t.Fatalf("read below the start: %v, want OffsetOutOfRangeError with Earliest %d", err, start)
		}
		if _, err := l.Read(ctx, "b", 0, 0, 10, 0); !errors.As(err, &oor) {
			e.t.Fatalf("read at 0: %v", err)
		}
	}
	st, err := readPartition(l, "b", 0)
	if err != nil {
		e.t.Fatal(err)
	}
	sameRecords(e.t, "after retention", st, start, e.all[start:])
}

// TestRetentionBySize deletes the oldest sealed segments while the
// partition is over its size, never the active one, and keeps the start
// offset across a restart.
func TestRetentionBySize(t *testing.T) {
	e := newRetentionEnv(t, 24*time.Hour)
	l := e.open()
	e.fill(l, 60)
	bases, sizes := e.onDisk()
	if len(bases) < 5 {
		t.Fatalf("want at least 5 segments, have %d", len(bases))
	}
	l.RunRetention() // no retention configured: nothing happens
	if got, _ := e.onDisk(); !reflect.DeepEqual(got, bases) {
		t.Fatalf("retention without settings deleted segments: %v -> %v", bases, got)
	}

	limit := sizes[len(sizes)-1] + sizes[len(sizes)-2] + sizes[len(sizes)-3] + 100
	e.settings(func(s *BucketSettings) { s.RetentionBytes = limit })
	keep := 0
	var total int64
	for i := len(sizes) - 1; i >= 0; i-- {
		if total+sizes[i] > limit && keep > 0 {
			break
		}
		total += sizes[i]
		keep++
	}
	l.RunRetention()
	got, _ := e.onDisk()
	if want := bases[len(bases)-keep:]; !reflect.DeepEqual(got, want) {
		t.Fatalf("after size retention (limit %d, sizes %v) segments %v remain, want %v", limit, sizes, got, want)
	}
	if n := metricValue(t, e.reg, metricRetention); n != float64(len(bases)-keep) {
		t.Fatalf("%s = %v, want %d", metricRetention, n, len(bases)-keep)
	}
	e.checkReadable(l, got[0])

	// A limit below the active segment's size deletes every sealed segment
	// and keeps the active one.
	e.settings(func(s *BucketSettings) { s.RetentionBytes = 1 })
	l.RunRetention()
	active := bases[len(bases)-1]
	if got, _ := e.onDisk(); !reflect.DeepEqual(got, []int64{active}) {
		t.Fatalf("segments %v remain, want only the active %d", got, active)
	}
	e.checkReadable(l, active)
	l.Close()

	l = e.open()
	defer l.Close()
	e.checkReadable(l, active)
	e.fill(l, 1)
	e.checkReadable(l, active)
}

// TestRetentionByAge deletes sealed segments whose newest record is older
// than RetentionAge, by the injected clock.
func TestRetentionByAge(t *testing.T) {
	e := newRetentionEnv(t, 24*time.Hour)
	e.settings(func(s *BucketSettings) { s.RetentionAge = time.Hour })
	l := e.open()
	defer l.Close()
	e.fill(l, 30)
	e.clock.Add(30 * time.Minute)
	e.fill(l, 30)
	bases, _ := e.onDisk()
	l.RunRetention() // nothing is an hour old yet
	if got, _ := e.onDisk(); !reflect.DeepEqual(got, bases) {
		t.Fatalf("young segments deleted: %v -> %v", bases, got)
	}
	e.clock.Add(31 * time.Minute)
	cutoff := e.clock.Now().Add(-time.Hour).UnixNano()
	last := e.lastAppends(bases)
	keep := 0
	for keep < len(bases)-1 && last[keep] < cutoff {
		keep++
	}
	if keep == 0 || keep == len(bases)-1 {
		t.Fatalf("the test wants old and young sealed segments: last appends %v, cutoff %d", last, cutoff)
	}
	l.RunRetention()
	got, _ := e.onDisk()
	if !reflect.DeepEqual(got, bases[keep:]) {
		t.Fatalf("after age retention %v remain, want %v", got, bases[keep:])
	}
	e.checkReadable(l, got[0])

	// An hour later every sealed segment is old; the active one stays (it
	// is younger than SegmentAge, so it is not rolled).
	e.clock.Add(time.Hour)
	l.RunRetention()
	active := bases[len(bases)-1]
	if got, _ := e.onDisk(); !reflect.DeepEqual(got, []int64{active}) {
		t.Fatalf("segments %v remain, want only the active %d", got, active)
	}
	e.checkReadable(l, active)
}

// TestRetentionRollsIdleActiveSegment: an idle partition's active segment
// older than SegmentAge is rolled by RunRetention, so its data can expire.
func TestRetentionRollsIdleActiveSegment(t *testing.T) {
	e := newRetentionEnv(t, time.Hour)
	e.settings(func(s *BucketSettings) { s.RetentionAge = 2 * time.Hour })
	l := e.open()
	e.fill(l, 2)
	e.clock.Add(90 * time.Minute) // aged, not expired
	l.RunRetention()
	bases, _ := e.onDisk()
	if !reflect.DeepEqual(bases, []int64{0, 10}) {
		t.Fatalf("segments %v, want the aged one rolled: [0 10]", bases)
	}
	e.checkReadable(l, 0)
	e.clock.Add(time.Hour)
	l.RunRetention()
	if bases, _ := e.onDisk(); !reflect.DeepEqual(bases, []int64{10}) {
		t.Fatalf("segments %v, want only the empty active one [10]", bases)
	}
	e.checkReadable(l, 10)
	res, err := l.Read(context.Background(), "b", 0, OffsetEarliest, 10, 0)
	if err != nil || len(res.Records) != 0 || res.Next != 10 || res.Start != 10 || res.End != 10 {
		t.Fatalf("read earliest of an empty partition: %+v, %v", res, err)
	}
	l.Close()
	l = e.open()
	defer l.Close()
	e.checkReadable(l, 10)
	e.fill(l, 1)
	e.checkReadable(l, 10)
}

// TestRetentionRequiredGroup: a segment that a required consumer group has
// not committed past is kept however old or large; committing releases it.
func TestRetentionRequiredGroup(t *testing.T) {
	e := newRetentionEnv(t, 24*time.Hour)
	e.settings(func(s *BucketSettings) {
		s.RetentionBytes = 1
		s.RequiredGroups = []string{"indexer"}
	})
	l := e.open()
	ctx := context.Background()
	e.fill(l, 60)
	bases, _ := e.onDisk()
	if len(bases) < 5 {
		t.Fatalf("want at least 5 segments, have %d", len(bases))
	}
	// Another group committing everything does not matter.
	if err := l.Commit(ctx, "b", "other", 0, int64(len(e.all))); err != nil {
		t.Fatal(err)
	}
	l.RunRetention()
	if got, _ := e.onDisk(); !reflect.DeepEqual(got, bases) {
		t.Fatalf("retention deleted %v -> %v before the required group committed", bases, got)
	}
	commitAndRetain := func(offset int64, want []int64) {
		t.Helper()
		if err := l.Commit(ctx, "b", "indexer", 0, offset); err != nil {
			t.Fatal(err)
		}
		l.RunRetention()
		if got, _ := e.onDisk(); !reflect.DeepEqual(got, want) {
			t.Fatalf("after committing %d: segments %v, want %v", offset, got, want)
		}
		e.checkReadable(l, want[0])
	}
	commitAndRetain(bases[1]-1, bases)     // one record short of the first segment's end
	commitAndRetain(bases[1], bases[1:])   // exactly its end
	commitAndRetain(bases[3]+1, bases[3:]) // inside the fourth
	l.Close()

	l = e.open()
	e.checkReadable(l, bases[3])
	if offs, _ := l.Committed(ctx, "b", "indexer"); offs[0] != bases[3]+1 {
		t.Fatalf("committed offsets after reopen: %v", offs)
	}
	commitAndRetain(int64(len(e.all)), bases[len(bases)-1:])
	l.Close()
}

// TestRetentionDeletesDamagedSealedSegment: a sealed segment whose first
// frame is damaged (so recovery keeps nothing of it and knows no append
// time) still ages out instead of blocking age retention for good.
func TestRetentionDeletesDamagedSealedSegment(t *testing.T) {
	e := newRetentionEnv(t, 24*time.Hour)
	e.clock.t = time.Now() // the damaged segment's age comes from its file time
	e.settings(func(s *BucketSettings) { s.RetentionAge = time.Hour })
	l := e.open()
	e.fill(l, 40)
	l.Close()
	bases, _ := e.onDisk()
	if len(bases) < 4 {
		t.Fatalf("want at least 4 segments, have %d", len(bases))
	}
	path := segPath(e.dir, "b", 0, bases[0])
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	clear(data[segmentHeaderSize : segmentHeaderSize+batchFixedHeader])
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(indexPath(path)); err != nil {
		t.Fatal(err)
	}
	l = e.open()
	defer l.Close()
	if got := metricValue(t, e.reg, metricDamagedSegments); got != 1 {
		t.Fatalf("%s = %v, want 1", metricDamagedSegments, got)
	}
	e.clock.Add(2 * time.Hour)
	l.RunRetention()
	if got, _ := e.onDisk(); !reflect.DeepEqual(got, bases[len(bases)-1:]) {
		t.Fatalf("after age retention %v remain, want only the active %v", got, bases[len(bases)-1:])
	}
	e.checkReadable(l, bases[len(bases)-1])
}

var _ vfs.FS = noSyncFS{}
