package commitlog

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

// noSyncFS is vfs.OS without fsync. The tests that reopen a log thousands
// of times check recovery logic, not the disk, and must stay fast.
type noSyncFS struct{ vfs.OS }

func (noSyncFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := vfs.OS{}.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return noSyncFile{f}, nil
}

func (noSyncFS) SyncDir(string) error { return nil }

type noSyncFile struct{ vfs.File }

func (noSyncFile) Sync() error { return nil }

const (
	metricDamagedSegments = "logbucket_commitlog_recovery_damaged_segments_total"
	metricDamagedBytes    = "logbucket_commitlog_recovery_damaged_bytes_total"
	metricRetention       = "logbucket_commitlog_retention_deleted_segments_total"
)

// metricValue returns the sum of the samples of a counter or gauge.
func metricValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var v float64
		for _, m := range mf.GetMetric() {
			if c := m.GetCounter(); c != nil {
				v += c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				v += g.GetValue()
			}
		}
		return v
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// onePartOptions are testOptions for buckets of one partition.
func onePartOptions(dir string, fsys vfs.FS, reg prometheus.Registerer) Options {
	o := testOptions(dir, fsys)
	o.Bucket = func(string) BucketSettings { return BucketSettings{Partitions: 1} }
	o.Registerer = reg
	return o
}

func segPath(dir, bucket string, part int, base int64) string {
	return filepath.Join(partitionDir(bucketDir(dir, bucket), part), segmentName(base)+segmentSuffix)
}

// frameAt is one frame found in a segment file.
type frameAt struct {
	pos int64
	h   batchHeader
}

// walkFrames parses every frame of a healthy segment file.
func walkFrames(t testing.TB, data []byte) []frameAt {
	t.Helper()
	var out []frameAt
	pos := int64(segmentHeaderSize)
	for pos < int64(len(data)) {
		h, err := parseHeader(data[pos:])
		if err != nil {
			t.Fatalf("frame at %d: %v", pos, err)
		}
		if pos+h.frameLen() > int64(len(data)) {
			t.Fatalf("frame at %d runs past the end", pos)
		}
		if _, err := checkFrame(data[pos : pos+h.frameLen()]); err != nil {
			t.Fatalf("frame at %d: %v", pos, err)
		}
		out = append(out, frameAt{pos, h})
		pos += h.frameLen()
	}
	return out
}

// groupBounds returns the byte range [start, end) of each group (append) of
// frames, in order.
func groupBounds(t testing.TB, frames []frameAt) (starts, ends []int64) {
	t.Helper()
	for _, f := range frames {
		if f.h.Part == 0 {
			starts = append(starts, f.pos)
		}
		if f.h.groupDone() {
			ends = append(ends, f.pos+f.h.frameLen())
		}
	}
	if len(starts) != len(ends) {
		t.Fatalf("%d groups start but %d end", len(starts), len(ends))
	}
	return starts, ends
}

// copyDir copies the regular files of a directory tree.
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}

// readPartition reads every record of one partition without failing the
// test, so that fuzz targets and loops can report the context.
func readPartition(l *Embedded, bucket string, part int) ([]Stored, error) {
	var out []Stored
	off := OffsetEarliest
	for {
		res, err := l.Read(context.Background(), bucket, part, off, 333, 0)
		if err != nil {
			return out, err
		}
		out = append(out, res.Records...)
		if res.Next >= res.End {
			return out, nil
		}
		if res.Next == off && len(res.Records) == 0 {
			return out, errors.New("read made no progress")
		}
		off = res.Next
	}
}

// sameRecords fails unless got holds exactly want at offsets from first on.
func sameRecords(t testing.TB, ctx string, got []Stored, first int64, want []model.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: read %d records, want %d (ids %v)", ctx, len(got), len(want), ids(got))
	}
	for i := range got {
		if got[i].Offset != first+int64(i) {
			t.Fatalf("%s: record %d has offset %d, want %d", ctx, i, got[i].Offset, first+int64(i))
		}
		if !reflect.DeepEqual(got[i].Record, want[i]) {
			t.Fatalf("%s: record at offset %d is %+v, want %+v", ctx, got[i].Offset, got[i].Record, want[i])
		}
	}
}

func flatten(appends [][]model.Record) []model.Record {
	var out []model.Record
	for _, a := range appends {
		out = append(out, a...)
	}
	return out
}

// tailTemplate is a closed one-partition log in memory whose active
// segment holds appends of 1 to 3 frames each.
type tailTemplate struct {
	fs      *memFS
	opts    Options
	seg     string // path of the active segment
	appends [][]model.Record
	data    []byte // the active segment
	starts  []int64
	ends    []int64
	frames  []frameAt
}

func buildTailTemplate(t *testing.T) *tailTemplate {
	t.Helper()
	tt := &tailTemplate{fs: newMemFS()}
	tt.opts = onePartOptions("/data", tt.fs, nil)
	tt.opts.SegmentBytes = 1 << 20
	tt.opts.MaxBatchBytes = 400 // about 5 test records per frame
	tt.seg = segPath("/data", "b", 0, 0)
	l := openT(t, tt.opts)
	if err := l.CreateBucket(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	id := 0
	// The last three appends have 1, 3 and 2 frames.
	for _, n := range []int{3, 9, 1, 14, 6, 2, 12, 7} {
		rs := recs("svc", id, n)
		id += n
		mustAppend(t, l, "b", "", rs)
		tt.appends = append(tt.appends, rs)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	tt.data, _ = tt.fs.read(tt.seg)
	tt.frames = walkFrames(t, tt.data)
	tt.starts, tt.ends = groupBounds(t, tt.frames)
	if len(tt.starts) != len(tt.appends) {
		t.Fatalf("segment holds %d groups for %d appends", len(tt.starts), len(tt.appends))
	}
	multi := 0
	for _, f := range tt.frames {
		if f.pos >= tt.starts[len(tt.starts)-3] && f.h.Parts > 1 {
			multi++
		}
	}
	if multi < 3 {
		t.Fatalf("the last appends should have multi-frame groups, found %d such frames", multi)
	}
	return tt
}

// with returns a copy of the template whose active segment is data.
func (tt *tailTemplate) with(data []byte) *memFS {
	fsys := tt.fs.clone()
	fsys.write(tt.seg, data)
	return fsys
}

func (tt *tailTemplate) open(t *testing.T, fsys *memFS) (*Embedded, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	o := tt.opts
	o.FS, o.Registerer = fsys, reg
	return openT(t, o), reg
}

func (tt *tailTemplate) segSize(fsys *memFS) int64 {
	b, _ := fsys.read(tt.seg)
	return int64(len(b))
}

// TestTornTailSweep cuts the active segment at every byte of its last
// three appends and checks that recovery keeps exactly the appends that
// are complete before the cut (a group of frames is all or nothing), cuts
// the file there, reports the damage, and appends on at the right offset.
func TestTornTailSweep(t *testing.T) {
	tt := buildTailTemplate(t)
	n := len(tt.appends)
	for cut := tt.starts[n-3]; cut <= int64(len(tt.data)); cut++ {
		complete := 0
		for complete < n && tt.ends[complete] <= cut {
			complete++
		}
		validEnd := tt.ends[complete-1]
		want := flatten(tt.appends[:complete])
		work := tt.with(tt.data[:cut])

		l, reg := tt.open(t, work)
		st, err := readPartition(l, "b", 0)
		if err != nil {
			t.Fatalf("cut at %d: read: %v", cut, err)
		}
		sameRecords(t, "cut at "+itoa(cut), st, 0, want)
		if got := tt.segSize(work); got != validEnd {
			t.Fatalf("cut at %d: segment is %d bytes after recovery, want %d", cut, got, validEnd)
		}
		wantDamaged := 0.0
		if cut != validEnd {
			wantDamaged = 1
		}
		if got := metricValue(t, reg, metricDamagedSegments); got != wantDamaged {
			t.Fatalf("cut at %d (valid end %d): %s = %v, want %v", cut, validEnd, metricDamagedSegments, got, wantDamaged)
		}
		if got := metricValue(t, reg, metricDamagedBytes); got != float64(cut-validEnd) {
			t.Fatalf("cut at %d: %s = %v, want %d", cut, metricDamagedBytes, got, cut-validEnd)
		}
		extra := recs("svc", 100000, 7) // two frames
		res := mustAppend(t, l, "b", "", extra)
		if got := res.Partitions[0]; got.First != int64(len(want)) || got.Last != int64(len(want)+len(extra)-1) {
			t.Fatalf("cut at %d: append after recovery got %+v, want first %d", cut, got, len(want))
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}

		l, reg = tt.open(t, work)
		st, err = readPartition(l, "b", 0)
		if err != nil {
			t.Fatalf("cut at %d: read after second reopen: %v", cut, err)
		}
		sameRecords(t, "cut at "+itoa(cut)+", reopened", st, 0, append(want, extra...))
		if got := metricValue(t, reg, metricDamagedSegments); got != 0 {
			t.Fatalf("cut at %d: second recovery reported damage (%v)", cut, got)
		}
		l.Close()
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestBitFlipInLastBatch flips one bit in every byte of the last append's
// frames (header, CRC, batch id, payload): recovery must drop that append,
// keep every earlier one intact, and never return a wrong record.
func TestBitFlipInLastBatch(t *testing.T) {
	tt := buildTailTemplate(t)
	n := len(tt.appends)
	last := tt.starts[n-1]
	want := flatten(tt.appends[:n-1])
	flip := func(pos int64, bit uint) {
		t.Helper()
		data := append([]byte(nil), tt.data...)
		data[pos] ^= 1 << bit
		work := tt.with(data)
		l, reg := tt.open(t, work)
		defer l.Close()
		ctx := "bit " + itoa(int64(bit)) + " of byte " + itoa(pos)
		st, err := readPartition(l, "b", 0)
		if err != nil {
			t.Fatalf("%s: read: %v", ctx, err)
		}
		sameRecords(t, ctx, st, 0, want)
		if got := metricValue(t, reg, metricDamagedSegments); got != 1 {
			t.Fatalf("%s: %s = %v, want 1", ctx, metricDamagedSegments, got)
		}
		if got := tt.segSize(work); got != last {
			t.Fatalf("%s: segment is %d bytes after recovery, want %d", ctx, got, last)
		}
	}
	for pos := last; pos < int64(len(tt.data)); pos++ {
		flip(pos, uint(pos%8))
	}
	// The base offset is outside the CRC: every one of its bits, in the
	// first and the last frame of the group, must be caught by the
	// offset-continuity check.
	lastFrame := tt.frames[len(tt.frames)-1].pos
	for _, pos := range []int64{last, lastFrame} {
		for bit := uint(0); bit < 64; bit++ {
			flip(pos+int64(bit/8), bit%8)
		}
	}
}

// damageKind corrupts the frame at pos of a segment file.
type damageKind struct {
	name string
	fn   func(data []byte, pos int64)
}

var damageKinds = []damageKind{
	{"payload", func(d []byte, pos int64) {
		h, _ := parseHeader(d[pos:])
		d[pos+h.frameLen()-3] ^= 0x20
	}},
	{"crc", func(d []byte, pos int64) { d[pos+13] ^= 0x01 }},
	{"base-offset", func(d []byte, pos int64) { d[pos+1] ^= 0x04 }},
	{"base-offset-low", func(d []byte, pos int64) {
		// Points the frame back at offsets the segment already holds.
		v := binary.LittleEndian.Uint64(d[pos:])
		binary.LittleEndian.PutUint64(d[pos:], v-1)
	}},
	{"length-huge", func(d []byte, pos int64) { binary.LittleEndian.PutUint32(d[pos+8:], 1<<30) }},
	{"length-short", func(d []byte, pos int64) {
		v := binary.LittleEndian.Uint32(d[pos+8:])
		binary.LittleEndian.PutUint32(d[pos+8:], v-5)
	}},
	{"zeroed", func(d []byte, pos int64) {
		h, _ := parseHeader(d[pos:])
		clear(d[pos : pos+h.frameLen()])
	}},
}

// TestSealedSegmentDamageIsAGap corrupts a frame in the middle of a sealed
// segment, with and without its index file: the damage is reported, the
// rest of that segment is a gap, and every later record stays readable
// through Read, with the right content at the right offset.
func TestSealedSegmentDamageIsAGap(t *testing.T) {
	tmpl := t.TempDir()
	opts := onePartOptions(tmpl, noSyncFS{}, nil)
	opts.SegmentBytes = 2048
	opts.MaxBatchBytes = 400
	l := openT(t, opts)
	if err := l.CreateBucket(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	var all []model.Record
	for i := 0; i < 60; i++ {
		rs := recs("svc", len(all), 1+i%8)
		mustAppend(t, l, "b", "", rs)
		all = append(all, rs...)
	}
	l.Close()
	p := l.lookup("b").partitions[0]
	if len(p.segments) < 5 {
		t.Fatalf("want at least 5 segments, have %d", len(p.segments))
	}
	victim := p.segments[2] // sealed, in the middle
	next := p.segments[3]
	data, err := os.ReadFile(victim.path)
	if err != nil {
		t.Fatal(err)
	}
	frames := walkFrames(t, data)
	if len(frames) < 3 {
		t.Fatalf("victim segment has %d frames", len(frames))
	}
	bad := frames[len(frames)/2]
	// The gap may start at the damaged frame's group: recovery never keeps
	// part of a group.
	gapFrom := bad.h.BaseOffset
	for _, f := range frames {
		if f.pos <= bad.pos && f.h.Part == 0 {
			gapFrom = f.h.BaseOffset
		}
	}

	for _, dk := range damageKinds {
		for _, keepIndex := range []bool{true, false} {
			name := dk.name + "/index-deleted"
			if keepIndex {
				name = dk.name + "/index-kept"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				copyDir(t, tmpl, dir)
				path := filepath.Join(dir, strings.TrimPrefix(victim.path, tmpl))
				d := append([]byte(nil), data...)
				dk.fn(d, bad.pos)
				if err := os.WriteFile(path, d, 0o644); err != nil {
					t.Fatal(err)
				}
				if !keepIndex {
					if err := os.Remove(indexPath(path)); err != nil {
						t.Fatal(err)
					}
				}
				base := int64(len(all))
				var extras []model.Record
				wantAt := func(off int64) model.Record {
					if off < base {
						return all[off]
					}
					return extras[off-base]
				}
				for round := 0; round < 2; round++ {
					reg := prometheus.NewRegistry()
					o := opts
					o.Dir, o.Registerer = dir, reg
					l := openT(t, o)
					st, err := readPartition(l, "b", 0)
					if err != nil {
						l.Close()
						t.Fatalf("round %d: read across the damage: %v", round, err)
					}
					seen := map[int64]bool{}
					prev := int64(-1)
					for _, s := range st {
						if s.Offset <= prev {
							t.Fatalf("round %d: offset %d after %d", round, s.Offset, prev)
						}
						prev = s.Offset
						if s.Offset >= base+int64(len(extras)) || !reflect.DeepEqual(s.Record, wantAt(s.Offset)) {
							t.Fatalf("round %d: offset %d holds %+v", round, s.Offset, s.Record)
						}
						seen[s.Offset] = true
					}
					for off := int64(0); off < base+int64(len(extras)); off++ {
						inGap := off >= gapFrom && off < next.base
						inBad := off >= bad.h.BaseOffset && off <= bad.h.lastOffset()
						if inBad && seen[off] {
							t.Fatalf("round %d: record %d of the damaged frame was returned", round, off)
						}
						if !inGap && !seen[off] {
							t.Fatalf("round %d: record %d (outside the damaged range %d..%d) is missing", round, off, gapFrom, next.base-1)
						}
					}
					if got := metricValue(t, reg, metricDamagedSegments); got < 1 {
						t.Fatalf("round %d: the damage was not reported (%s = %v)", round, metricDamagedSegments, got)
					}
					// A read starting inside the gap continues at the next
					// segment.
					res, err := l.Read(context.Background(), "b", 0, bad.h.BaseOffset, 5, 0)
					if err != nil {
						t.Fatalf("round %d: read inside the gap: %v", round, err)
					}
					if len(res.Records) == 0 || res.Records[0].Offset < bad.h.lastOffset()+1 || res.Records[0].Offset > next.base {
						t.Fatalf("round %d: read at %d returned %d records from %v", round, bad.h.BaseOffset, len(res.Records), offsetsOf(res.Records))
					}
					for _, s := range res.Records {
						if !reflect.DeepEqual(s.Record, wantAt(s.Offset)) {
							t.Fatalf("round %d: offset %d holds the wrong record", round, s.Offset)
						}
					}
					end := base + int64(len(extras))
					more := recs("svc", 9000+10*round, 2)
					if r := mustAppend(t, l, "b", "", more); r.Partitions[0].First != end {
						t.Fatalf("round %d: append after recovery at %d, want %d", round, r.Partitions[0].First, end)
					}
					extras = append(extras, more...)
					if err := l.Close(); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

func offsetsOf(st []Stored) []int64 {
	out := make([]int64, len(st))
	for i, s := range st {
		out[i] = s.Offset
	}
	return out
}

// TestShortActiveSegmentAlone covers a crash right after the first segment
// of a partition was created, before its header was written: the next
// start recreates it instead of refusing to open.
func TestShortActiveSegmentAlone(t *testing.T) {
	for _, size := range []int{0, 7, segmentHeaderSize - 1} {
		dir := t.TempDir()
		opts := onePartOptions(dir, noSyncFS{}, nil)
		l := openT(t, opts)
		if err := l.CreateBucket(context.Background(), "b"); err != nil {
			t.Fatal(err)
		}
		l.Close()
		path := segPath(dir, "b", 0, 0)
		if err := os.Truncate(path, int64(size)); err != nil {
			t.Fatal(err)
		}
		l, err := Open(opts)
		if err != nil {
			t.Fatalf("open with a %d-byte first segment: %v", size, err)
		}
		res := mustAppend(t, l, "b", "", recs("svc", 0, 3))
		if res.Partitions[0].First != 0 {
			t.Fatalf("first append at %d", res.Partitions[0].First)
		}
		l.Close()
		l = openT(t, opts)
		sameRecords(t, "reopened", readAll(t, l, "b")[0], 0, recs("svc", 0, 3))
		l.Close()
	}
}

// TestBucketWithoutMetadata covers a crash inside CreateBucket before
// bucket.json was renamed into place: the log opens without that bucket
// and the bucket can be created again.
func TestBucketWithoutMetadata(t *testing.T) {
	dir := t.TempDir()
	opts := onePartOptions(dir, noSyncFS{}, nil)
	l := openT(t, opts)
	if err := l.CreateBucket(context.Background(), "good"); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, "good", "", recs("svc", 0, 2))
	l.Close()
	half := bucketDir(dir, "half")
	if err := os.MkdirAll(half, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(half, bucketMetaFile+".tmp"), []byte(`{"vers`), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("open with a half-created bucket: %v", err)
	}
	defer l.Close()
	if got := l.Buckets(); !reflect.DeepEqual(got, []string{"good"}) {
		t.Fatalf("buckets %v", got)
	}
	if err := l.CreateBucket(context.Background(), "half"); err != nil {
		t.Fatalf("create the half-created bucket again: %v", err)
	}
	mustAppend(t, l, "half", "", recs("svc", 0, 2))
}

// TestAppendLimits: an append of more frames than a group can number
// (parts is 16 bits) and a record too big for a frame must not be
// acknowledged and then lost: the first is stored readably, the second
// refused without harming the log.
func TestAppendLimits(t *testing.T) {
	fsys := newMemFS()
	opts := onePartOptions("/data", fsys, nil)
	opts.Codec, opts.MaxBatchBytes, opts.SegmentBytes = CodecNone, 1, 1<<30
	opts.MaxPendingBytes = 1 << 30
	l := openT(t, opts)
	ctx := context.Background()
	if err := l.CreateBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	many := recs("svc", 0, 70_000) // one frame each at MaxBatchBytes 1
	mustAppend(t, l, "b", "", many)
	check := func(l *Embedded, what string) {
		t.Helper()
		st, err := readPartition(l, "b", 0)
		if err != nil {
			t.Fatalf("%s: read: %v", what, err)
		}
		if len(st) != len(many) {
			t.Fatalf("%s: read %d records, appended %d", what, len(st), len(many))
		}
	}
	check(l, "before reopen")

	huge := recs("svc", 1, 1)
	huge[0].Msg = strings.Repeat("x", maxPayloadLength)
	if _, err := l.Append(ctx, AppendRequest{Bucket: "b", Records: huge}); err == nil {
		t.Fatal("a record bigger than a frame may hold was acknowledged")
	}
	if l.Health() != nil {
		t.Fatalf("a refused append made the log unhealthy: %v", l.Health())
	}
	l.Close()
	l = openT(t, opts)
	defer l.Close()
	check(l, "after reopen")
}

// TestSealedDamageConcurrentReaders: readers that meet the same damaged
// frame at once (index kept, so only readers see it) all skip the gap, the
// damage is reported once, and retention may run meanwhile.
func TestSealedDamageConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	opts := onePartOptions(dir, noSyncFS{}, nil)
	opts.SegmentBytes = 2048
	var mu sync.Mutex
	settings := BucketSettings{Partitions: 1}
	opts.Bucket = func(string) BucketSettings { mu.Lock(); defer mu.Unlock(); return settings }
	l := openT(t, opts)
	if err := l.CreateBucket(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 60; i++ {
		mustAppend(t, l, "b", "", recs("svc", i*5, 5))
	}
	l.Close()
	p := l.lookup("b").partitions[0]
	victim := p.segments[0] // the oldest: retention looks at it too
	data, err := os.ReadFile(victim.path)
	if err != nil {
		t.Fatal(err)
	}
	frames := walkFrames(t, data)
	bad := frames[len(frames)/2]
	data[bad.pos+bad.h.frameLen()-2] ^= 0x40
	if err := os.WriteFile(victim.path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Registerer = reg
	l = openT(t, opts)
	defer l.Close()
	var wg sync.WaitGroup
	counts := make([]int, 6)
	for r := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := readPartition(l, "b", 0)
			if err != nil {
				t.Errorf("reader %d: %v", r, err)
			}
			counts[r] = len(st)
		}()
	}
	mu.Lock()
	settings.RetentionBytes = 1 // everything may go, but group g holds it
	settings.RequiredGroups = []string{"g"}
	mu.Unlock()
	l.RunRetention()
	wg.Wait()
	for r := range counts {
		if counts[r] != counts[0] {
			t.Fatalf("readers saw %v records", counts)
		}
	}
	if want := 300 - int(p.segments[1].base-bad.h.BaseOffset); counts[0] != want {
		t.Fatalf("read %d records, want %d (all but the gap)", counts[0], want)
	}
	if got := metricValue(t, reg, metricDamagedSegments); got != 1 {
		t.Fatalf("%s = %v, want 1", metricDamagedSegments, got)
	}
}

// TestShortActiveAfterDamagedSegment: a crash right after a roll leaves an
// active segment shorter than its header, and the segment before it is
// damaged (reported as a gap). Recovery must not reuse the gap's offsets
// (consumers may have read them) nor append behind the damage: new records
// go at the short segment's base and survive a restart.
func TestShortActiveAfterDamagedSegment(t *testing.T) {
	dir := t.TempDir()
	opts := onePartOptions(dir, noSyncFS{}, nil)
	opts.SegmentBytes = 2048
	l := openT(t, opts)
	if err := l.CreateBucket(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	var all []model.Record
	for i := 0; i < 30; i++ {
		rs := recs("svc", len(all), 5)
		mustAppend(t, l, "b", "", rs)
		all = append(all, rs...)
	}
	l.Close()
	p := l.lookup("b").partitions[0]
	n := len(p.segments)
	active, prev := p.segments[n-1], p.segments[n-2]
	// The crash: the active segment lost its header, and the segment
	// before it has a damaged frame and no index.
	if err := os.Truncate(active.path, 5); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(prev.path)
	frames := walkFrames(t, data)
	bad := frames[len(frames)/2]
	data[bad.pos+bad.h.frameLen()-2] ^= 0x40
	data[bad.pos+1] ^= 0x01 // and its base offset, so the header rescan sees it
	os.WriteFile(prev.path, data, 0o644)
	os.Remove(indexPath(prev.path))
	// Records of the lost active segment are gone; the ones after the
	// damage in prev are a gap.
	all = all[:active.base]

	for round := 0; round < 2; round++ {
		l = openT(t, opts)
		extra := recs("svc", 1000+round*10, 4)
		res := mustAppend(t, l, "b", "", extra)
		if first := res.Partitions[0].First; first != int64(len(all)) {
			t.Fatalf("round %d: append after recovery at %d, want %d (the lost segment's base)", round, first, len(all))
		}
		all = append(all, extra...)
		l.Close()
		l = openT(t, opts)
		st, err := readPartition(l, "b", 0)
		l.Close()
		if err != nil {
			t.Fatalf("round %d: read: %v", round, err)
		}
		got := map[int64]bool{}
		for _, s := range st {
			if !reflect.DeepEqual(s.Record, all[s.Offset]) {
				t.Fatalf("round %d: offset %d holds %s, want %s", round, s.Offset, recordID(s.Record), recordID(all[s.Offset]))
			}
			got[s.Offset] = true
		}
		for off := active.base; off < int64(len(all)); off++ {
			if !got[off] {
				t.Fatalf("round %d: acknowledged record %d is lost", round, off)
			}
		}
	}
}
