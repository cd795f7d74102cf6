package commitlog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

// faultOptions make a two-partition log that rolls a segment every few
// appends and splits appends into several frames.
func faultOptions(dir string, fsys vfs.FS) Options {
	o := testOptions(dir, fsys)
	o.SegmentBytes = 2048
	o.MaxBatchBytes = 400
	o.IndexIntervalBytes = 256
	return o
}

// faultRecords are the records of append j of worker w: one or two
// streams, 1 to 13 records, every record with a unique id.
func faultRecords(w, j int) []model.Record {
	n := 1 + (j*7+w)%13
	out := make([]model.Record, n)
	for k := range out {
		stream := fmt.Sprintf("w%d-a", w)
		if j%2 == 1 && k >= n/2 {
			stream = fmt.Sprintf("w%d-b", w)
		}
		id := fmt.Sprintf("%d.%d.%d", w, j, k)
		out[k] = model.Record{Time: 1_700_000_000_000_000_000 + int64(w)<<32 + int64(j)<<8 + int64(k),
			Msg:    "fault test record " + id,
			Stream: []model.Field{{Name: "service", Value: stream}},
			Fields: []model.Field{{Name: "id", Value: id}}}
	}
	return out
}

func recordID(r model.Record) string {
	for _, f := range r.Fields {
		if f.Name == "id" {
			return f.Value
		}
	}
	return ""
}

// faultAppend is one append of a fault workload and its outcome.
type faultAppend struct {
	recs []model.Record
	res  AppendResult
	err  error
}

// faultWorkload runs workers appenders (and, in worker 0, consumer-group
// commits) until each has seen a few failures or made appends appends. It
// checks what must hold while the log runs: every error is ErrReadOnly,
// the log reports itself unhealthy, and nothing is acknowledged after the
// fail-stop.
type faultWorkload struct {
	workers, appends int

	mu         sync.Mutex // protects everything below
	done       []*faultAppend
	commitOK   int64 // last acknowledged commit of group g, partition 0 (-1: none)
	commitMax  int64 // highest commit attempted
	bucketMade bool
}

func (fw *faultWorkload) run(t *testing.T, l *Embedded) {
	t.Helper()
	ctx := context.Background()
	fw.commitOK, fw.commitMax = -1, -1
	err := l.CreateBucket(ctx, "b")
	if err != nil {
		err = l.CreateBucket(ctx, "b") // a fault that fires once is gone now
	}
	if err != nil {
		if l.Health() != nil {
			t.Errorf("CreateBucket failed (%v) and made the log read-only", err)
		}
		return
	}
	fw.bucketMade = true
	var wg sync.WaitGroup
	for w := 0; w < fw.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			failures := 0
			for j := 0; j < fw.appends && failures < 3; j++ {
				a := &faultAppend{recs: faultRecords(w, j)}
				req := AppendRequest{Bucket: "b", Records: a.recs}
				if j%3 == 0 {
					req.BatchID = fmt.Sprintf("batch-%d-%d", w, j)
				}
				before := l.Health()
				a.res, a.err = l.Append(ctx, req)
				fw.mu.Lock()
				fw.done = append(fw.done, a)
				fw.mu.Unlock()
				if a.err == nil && before != nil {
					t.Errorf("append acknowledged after the log went read-only (%v)", before)
				}
				if a.err != nil {
					failures++
					if !errors.Is(a.err, ErrReadOnly) {
						t.Errorf("append failed with %v, want ErrReadOnly", a.err)
					}
					if l.Health() == nil {
						t.Errorf("append failed (%v) but Health() is nil", a.err)
					}
				}
				if w == 0 && j%4 == 3 {
					info, err := l.Bucket(ctx, "b")
					if err != nil {
						t.Errorf("bucket info: %v", err)
						continue
					}
					end := info.Partitions[0].End
					fw.mu.Lock()
					fw.commitMax = max(fw.commitMax, end)
					fw.mu.Unlock()
					if err := l.Commit(ctx, "b", "g", 0, end); err == nil {
						fw.mu.Lock()
						fw.commitOK = end
						fw.mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
}

// check verifies a reopened log against the workload: offsets are gap-free,
// every acknowledged append is stored at the offsets it was given, a failed
// append is all there or absent in each partition, nothing is stored twice
// or out of nowhere, and the group offset is one that was committed.
func (fw *faultWorkload) check(t *testing.T, l *Embedded) {
	t.Helper()
	ctx := context.Background()
	if l.lookup("b") == nil {
		if fw.bucketMade {
			t.Fatal("the bucket is gone after reopen")
		}
		if err := l.CreateBucket(ctx, "b"); err != nil {
			t.Fatalf("create the bucket after reopen: %v", err)
		}
	}
	parts, _ := l.Partitions("b")
	type loc struct {
		part int
		off  int64
	}
	where := map[string]loc{}
	stored := make([][]Stored, parts)
	for p := 0; p < parts; p++ {
		st, err := readPartition(l, "b", p)
		if err != nil {
			t.Fatalf("read partition %d after reopen: %v", p, err)
		}
		for i, s := range st {
			if s.Offset != int64(i) {
				t.Fatalf("partition %d: record %d has offset %d (gap)", p, i, s.Offset)
			}
			id := recordID(s.Record)
			if prev, dup := where[id]; dup {
				t.Fatalf("record %s stored twice: %v and %d/%d", id, prev, p, s.Offset)
			}
			where[id] = loc{p, s.Offset}
		}
		stored[p] = st
	}
	known := map[string]bool{}
	acked := 0
	for _, a := range fw.done {
		if a.err == nil {
			acked++
		}
		for p, rs := range assign(a.recs, parts) {
			if len(rs) == 0 {
				continue
			}
			present := 0
			for _, r := range rs {
				id := recordID(r)
				known[id] = true
				if lc, ok := where[id]; ok {
					if lc.part != p {
						t.Fatalf("record %s is in partition %d, want %d", id, lc.part, p)
					}
					present++
				}
			}
			if a.err == nil {
				rng, ok := a.res.Partitions[p]
				if !ok || rng.Last-rng.First+1 != int64(len(rs)) {
					t.Fatalf("acknowledged append has range %+v in partition %d for %d records", rng, p, len(rs))
				}
				if present != len(rs) {
					t.Fatalf("acknowledged append lost %d of its %d records in partition %d (first %s, err %v)", len(rs)-present, len(rs), p, recordID(rs[0]), a.err)
				}
				if got := where[recordID(rs[0])].off; got != rng.First {
					t.Fatalf("acknowledged append is at offset %d, was told %d", got, rng.First)
				}
			} else if present != 0 && present != len(rs) {
				t.Fatalf("failed append is partly stored in partition %d: %d of %d records (err %v)", p, present, len(rs), a.err)
			}
			if present == len(rs) {
				first := where[recordID(rs[0])].off
				for i, r := range rs {
					if got := stored[p][first+int64(i)].Record; !reflect.DeepEqual(got, r) {
						t.Fatalf("partition %d offset %d holds %+v, want %+v", p, first+int64(i), got, r)
					}
				}
			}
		}
	}
	for id := range where {
		if !known[id] {
			t.Fatalf("record %s was never appended", id)
		}
	}
	offs, _ := l.Committed(ctx, "b", "g")
	if got, ok := offs[0]; fw.commitOK >= 0 && (!ok || got < fw.commitOK || got > fw.commitMax) {
		t.Fatalf("group offset after reopen is %d (present %v), acknowledged %d, highest attempted %d", got, ok, fw.commitOK, fw.commitMax)
	} else if ok && got > int64(len(stored[0])) {
		t.Fatalf("group offset %d is past the end %d", got, len(stored[0]))
	}
	if l.Health() != nil {
		t.Fatalf("reopened log is unhealthy: %v", l.Health())
	}
	// The reopened log appends on at the end.
	extra := faultRecords(99, 0)
	res := mustAppend(t, l, "b", "", extra)
	for p, rng := range res.Partitions {
		if rng.First != int64(len(stored[p])) {
			t.Fatalf("append after reopen went to %d/%d, end was %d", p, rng.First, len(stored[p]))
		}
	}
	_ = acked
}

// runFault runs one fault scenario: the log's FS fails the nth call of op
// (and every later one if persistent), the workload runs, the log closes,
// optionally loses power, and reopens on the healthy FS.
func runFault(t *testing.T, inner vfs.FS, dir string, op vfs.Op, nth int, persistent bool, workers, appends int, beforeReopen func()) {
	t.Helper()
	faulty := vfs.NewFaulty(inner)
	faulty.FailAt(op, nth, persistent)
	var fsys vfs.FS = faulty
	if mem, ok := inner.(*memFS); ok {
		fsys = syncFailFS{faulty, mem}
	}
	l, err := Open(faultOptions(dir, fsys))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	fw := &faultWorkload{workers: workers, appends: appends}
	fw.run(t, l)
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if t.Failed() {
		t.FailNow()
	}
	if beforeReopen != nil {
		beforeReopen()
	}
	l, err = Open(faultOptions(dir, inner))
	if err != nil {
		t.Fatalf("reopen on a healthy filesystem: %v", err)
	}
	defer l.Close()
	fw.check(t, l)
}

// faultCounts runs the workload once on a healthy FS and returns how many
// times it calls each op, so the sweeps cover all of them.
func faultCounts(t *testing.T, workers, appends int) map[vfs.Op]int {
	t.Helper()
	faulty := vfs.NewFaulty(newMemFS())
	l, err := Open(faultOptions("/data", faulty))
	if err != nil {
		t.Fatal(err)
	}
	fw := &faultWorkload{workers: workers, appends: appends}
	fw.run(t, l)
	l.Close()
	out := map[vfs.Op]int{}
	for _, op := range []vfs.Op{vfs.OpWrite, vfs.OpSync, vfs.OpCreate, vfs.OpRename} {
		out[op] = faulty.Count(op)
	}
	return out
}

var faultOps = []vfs.Op{vfs.OpWrite, vfs.OpSync, vfs.OpCreate, vfs.OpRename}

// TestFaultInjectionSweep fails the Nth write, fsync, create and rename
// (once and from then on) for every N the workload reaches, with one
// appender, so each run is deterministic.
func TestFaultInjectionSweep(t *testing.T) {
	const appends = 40
	counts := faultCounts(t, 1, appends)
	for _, op := range faultOps {
		for _, persistent := range []bool{false, true} {
			for nth := 1; nth <= counts[op]+1; nth++ {
				name := fmt.Sprintf("%s/%d", op, nth)
				if persistent {
					name += "+"
				}
				t.Run(name, func(t *testing.T) {
					runFault(t, newMemFS(), "/data", op, nth, persistent, 1, appends, nil)
				})
			}
		}
	}
}

// TestFaultInjectionConcurrent is the sweep with four concurrent
// appenders, for every few N.
func TestFaultInjectionConcurrent(t *testing.T) {
	const workers, appends = 4, 15
	counts := faultCounts(t, workers, appends)
	for _, op := range faultOps {
		for _, persistent := range []bool{false, true} {
			for nth := 1; nth <= counts[op]+1; nth += max(1, counts[op]/12) {
				name := fmt.Sprintf("%s/%d", op, nth)
				if persistent {
					name += "+"
				}
				t.Run(name, func(t *testing.T) {
					runFault(t, newMemFS(), "/data", op, nth, persistent, workers, appends, nil)
				})
			}
		}
	}
}

// TestFaultInjectionRealFS runs a sample of the concurrent sweep on the
// real filesystem with real fsyncs (vfs.OS under vfs.Faulty).
func TestFaultInjectionRealFS(t *testing.T) {
	const workers, appends = 4, 8
	counts := faultCounts(t, workers, appends)
	for _, op := range faultOps {
		for _, persistent := range []bool{false, true} {
			for _, nth := range []int{2, counts[op]/2 + 1} {
				name := fmt.Sprintf("%s/%d", op, nth)
				if persistent {
					name += "+"
				}
				t.Run(name, func(t *testing.T) {
					runFault(t, vfs.OS{}, t.TempDir(), op, nth, persistent, workers, appends, nil)
				})
			}
		}
	}
}

// TestPowerLoss fails an fsync, then drops a random part of every file's
// unsynced tail (what a power loss does to the page cache) before the
// reopen: acknowledged appends survive, nothing is partial. Data whose
// fsync failed counts as unsynced even if a later fsync succeeded, so an
// fsync error that is retried and then acknowledged fails the test.
func TestPowerLoss(t *testing.T) {
	const appends = 40
	counts := faultCounts(t, 1, appends)
	rng := rand.New(rand.NewPCG(1, 2))
	for nth := 1; nth <= counts[vfs.OpSync]; nth++ {
		for round := 0; round < 3; round++ {
			t.Run(fmt.Sprintf("sync-%d/%d", nth, round), func(t *testing.T) {
				inner := newMemFS()
				runFault(t, inner, "/data", vfs.OpSync, nth, false, 1, appends, func() { inner.powerLoss(rng) })
			})
		}
	}
}

// memFS is an in-memory vfs.FS for the tests that open a log thousands of
// times (sweeps, fuzzing): the recovery logic is the same, only faster and
// without touching the disk. Sync is a no-op.
type memFS struct {
	mu    sync.Mutex // protects files and dirs
	files map[string]*memData
	dirs  map[string]bool
}

type memData struct {
	mu     sync.RWMutex // protects b and synced
	b      []byte
	synced int64 // length at the last Sync (what survives a power loss)
	// lostFrom is where the data a failed Sync did not make durable starts
	// (-1: no failure). As on Linux, a later Sync that succeeds does not
	// bring it back: the kernel dropped those pages or marked them clean.
	lostFrom int64
}

var _ vfs.FS = (*memFS)(nil)

func newMemFS() *memFS {
	return &memFS{files: map[string]*memData{}, dirs: map[string]bool{"/": true}}
}

// clone returns an independent copy.
func (m *memFS) clone() *memFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := newMemFS()
	for p, d := range m.files {
		d.mu.RLock()
		c.files[p] = &memData{b: append([]byte(nil), d.b...), synced: d.synced, lostFrom: d.lostFrom}
		d.mu.RUnlock()
	}
	for p := range m.dirs {
		c.dirs[p] = true
	}
	return c
}

// read returns a copy of a file's contents.
func (m *memFS) read(name string) ([]byte, bool) {
	m.mu.Lock()
	d, ok := m.files[filepath.Clean(name)]
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	return append([]byte(nil), d.b...), true
}

// write replaces (or creates) a file's contents.
func (m *memFS) write(name string, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[filepath.Clean(name)] = &memData{b: append([]byte(nil), b...), lostFrom: -1}
}

func (m *memFS) OpenFile(name string, flag int, _ fs.FileMode) (vfs.File, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.files[name]
	switch {
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case !ok && flag&os.O_CREATE == 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case !ok:
		if !m.dirs[filepath.Dir(name)] {
			return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		d = &memData{lostFrom: -1}
		m.files[name] = d
	}
	if flag&os.O_TRUNC != 0 {
		d.mu.Lock()
		d.b, d.synced, d.lostFrom = d.b[:0], 0, -1
		d.mu.Unlock()
	}
	return &memFile{name: name, d: d, appendOnly: flag&os.O_APPEND != 0}, nil
}

func (m *memFS) Remove(name string) error {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; ok {
		delete(m.files, name)
		return nil
	}
	if m.dirs[name] {
		for p := range m.files {
			if filepath.Dir(p) == name {
				return &os.PathError{Op: "remove", Path: name, Err: fs.ErrExist}
			}
		}
		delete(m.dirs, name)
		return nil
	}
	return &os.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
}

func (m *memFS) Rename(oldname, newname string) error {
	oldname, newname = filepath.Clean(oldname), filepath.Clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.files[oldname]
	if !ok {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrNotExist}
	}
	delete(m.files, oldname)
	m.files[newname] = d
	return nil
}

func (m *memFS) MkdirAll(name string, _ fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := filepath.Clean(name); !m.dirs[p]; p = filepath.Dir(p) {
		if _, ok := m.files[p]; ok {
			return &os.PathError{Op: "mkdir", Path: p, Err: fs.ErrExist}
		}
		m.dirs[p] = true
	}
	return nil
}

func (m *memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[name] {
		return nil, &os.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	var out []fs.DirEntry
	for p, d := range m.files {
		if filepath.Dir(p) == name {
			d.mu.RLock()
			out = append(out, fs.FileInfoToDirEntry(memInfo{name: filepath.Base(p), size: int64(len(d.b))}))
			d.mu.RUnlock()
		}
	}
	for p := range m.dirs {
		if p != name && filepath.Dir(p) == name {
			out = append(out, fs.FileInfoToDirEntry(memInfo{name: filepath.Base(p), dir: true}))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (m *memFS) Stat(name string) (fs.FileInfo, error) {
	name = filepath.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.files[name]; ok {
		d.mu.RLock()
		defer d.mu.RUnlock()
		return memInfo{name: filepath.Base(name), size: int64(len(d.b))}, nil
	}
	if m.dirs[name] {
		return memInfo{name: filepath.Base(name), dir: true}, nil
	}
	return nil, &os.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

func (m *memFS) SyncDir(name string) error {
	if _, err := m.Stat(name); err != nil {
		return err
	}
	return nil
}

// powerLoss simulates losing the page cache: every file keeps what its
// last Sync covered plus a random part of what was written after it.
func (m *memFS) powerLoss(rng *rand.Rand) (lost int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.sortedLocked() {
		d := m.files[p]
		d.mu.Lock()
		floor := d.synced
		if d.lostFrom >= 0 {
			floor = min(floor, d.lostFrom)
		}
		if n := int64(len(d.b)); n > floor {
			keep := floor + rng.Int64N(n-floor+1)
			lost += n - keep
			d.b = d.b[:keep]
		}
		d.mu.Unlock()
	}
	return lost
}

func (m *memFS) sortedLocked() []string {
	out := make([]string, 0, len(m.files))
	for p := range m.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// syncFailed records that a Sync of name failed.
func (m *memFS) syncFailed(name string) {
	m.mu.Lock()
	d, ok := m.files[filepath.Clean(name)]
	m.mu.Unlock()
	if !ok {
		return
	}
	d.mu.Lock()
	if d.lostFrom < 0 {
		d.lostFrom = d.synced
	}
	d.mu.Unlock()
}

// syncFailFS tells mem about every failed file Sync of the FS it wraps
// (a vfs.Faulty over mem), so a power loss can drop what such a Sync did
// not make durable even if a retry later succeeded.
type syncFailFS struct {
	vfs.FS
	mem *memFS
}

func (s syncFailFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := s.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return syncFailFile{f, s.mem}, nil
}

type syncFailFile struct {
	vfs.File
	mem *memFS
}

func (f syncFailFile) Sync() error {
	err := f.File.Sync()
	if err != nil {
		f.mem.syncFailed(f.Name())
	}
	return err
}

type memFile struct {
	name       string
	d          *memData
	appendOnly bool
	pos        int64 // for Read and non-append Write
}

func (f *memFile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.d.mu.RLock()
	defer f.d.mu.RUnlock()
	if off >= int64(len(f.d.b)) {
		return 0, io.EOF
	}
	n := copy(p, f.d.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	if f.appendOnly {
		f.d.b = append(f.d.b, p...)
		return len(p), nil
	}
	if end := f.pos + int64(len(p)); end > int64(len(f.d.b)) {
		f.d.b = append(f.d.b, make([]byte, end-int64(len(f.d.b)))...)
	}
	copy(f.d.b[f.pos:], p)
	f.pos += int64(len(p))
	return len(p), nil
}

func (f *memFile) Truncate(size int64) error {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	if size <= int64(len(f.d.b)) {
		f.d.b = f.d.b[:size]
		f.d.synced = min(f.d.synced, size)
		if f.d.lostFrom > size {
			f.d.lostFrom = -1
		}
	} else {
		f.d.b = append(f.d.b, make([]byte, size-int64(len(f.d.b)))...)
	}
	return nil
}

func (f *memFile) Stat() (fs.FileInfo, error) {
	f.d.mu.RLock()
	defer f.d.mu.RUnlock()
	return memInfo{name: filepath.Base(f.name), size: int64(len(f.d.b))}, nil
}

func (f *memFile) Close() error { return nil }
func (f *memFile) Sync() error {
	f.d.mu.Lock()
	defer f.d.mu.Unlock()
	f.d.synced = int64(len(f.d.b))
	return nil
}
func (f *memFile) Name() string { return f.name }

type memInfo struct {
	name string
	size int64
	dir  bool
}

func (i memInfo) Name() string { return i.name }
func (i memInfo) Size() int64  { return i.size }
func (i memInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.dir }
func (i memInfo) Sys() any           { return nil }

// TestConcurrentAppendsShareFsync runs 16 appenders on the real filesystem
// and counts fsyncs: group commit must make them fewer than the appends,
// and every record must be stored exactly once, in stream order, at the
// offsets its append was given.
func TestConcurrentAppendsShareFsync(t *testing.T) {
	const workers, appends = 16, 60
	// A disk whose fsync takes at least a millisecond, as most do: appends
	// that arrive meanwhile must share the next one, however fast the
	// test machine's disk is.
	faulty := vfs.NewFaulty(slowSyncFS{})
	opts := testOptions(t.TempDir(), faulty)
	opts.SegmentBytes = 64 << 20 // no rolls: every fsync is a group commit
	l := openT(t, opts)
	defer l.Close()
	ctx := context.Background()
	if err := l.CreateBucket(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	syncsBefore := faulty.Count(vfs.OpSync)
	results := make([][]faultAppend, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < appends; j++ {
				rs := faultRecords(w, j)
				a := faultAppend{recs: rs[:min(len(rs), 1+j%3)]}
				a.res, a.err = l.Append(ctx, AppendRequest{Bucket: "b", Records: a.recs})
				if a.err != nil {
					t.Errorf("worker %d append %d: %v", w, j, a.err)
					return
				}
				results[w] = append(results[w], a)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	syncs := faulty.Count(vfs.OpSync) - syncsBefore
	t.Logf("%d appends, %d fsyncs", workers*appends, syncs)
	if syncs >= workers*appends/2 {
		t.Fatalf("%d fsyncs for %d appends: no group commit", syncs, workers*appends)
	}

	all := readAll(t, l, "b")
	checkOffsets(t, all)
	seen := map[string]bool{}
	for p, st := range all {
		last := map[string][2]int{} // stream -> last (append, record) seen
		for _, s := range st {
			id := recordID(s.Record)
			if seen[id] {
				t.Fatalf("record %s stored twice", id)
			}
			seen[id] = true
			var w, j, k int
			fmt.Sscanf(id, "%d.%d.%d", &w, &j, &k)
			stream := s.Record.Stream[0].Value
			if prev, ok := last[stream]; ok && (j < prev[0] || j == prev[0] && k <= prev[1]) {
				t.Fatalf("partition %d: stream %s has %d.%d after %d.%d", p, stream, j, k, prev[0], prev[1])
			}
			last[stream] = [2]int{j, k}
		}
	}
	n := 0
	for w := range results {
		for _, a := range results[w] {
			for p, rs := range assign(a.recs, 2) {
				if len(rs) == 0 {
					continue
				}
				rng := a.res.Partitions[p]
				for i, r := range rs {
					if got := all[p][rng.First+int64(i)].Record; !reflect.DeepEqual(got, r) {
						t.Fatalf("partition %d offset %d holds %s, want %s", p, rng.First+int64(i), recordID(got), recordID(r))
					}
				}
			}
			n += len(a.recs)
		}
	}
	if len(seen) != n {
		t.Fatalf("stored %d records, appended %d", len(seen), n)
	}
}

// slowSyncFS is vfs.OS whose file fsyncs take at least a millisecond.
type slowSyncFS struct{ vfs.OS }

func (slowSyncFS) OpenFile(name string, flag int, perm fs.FileMode) (vfs.File, error) {
	f, err := vfs.OS{}.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return slowSyncFile{f}, nil
}

type slowSyncFile struct{ vfs.File }

func (f slowSyncFile) Sync() error {
	time.Sleep(time.Millisecond)
	return f.File.Sync()
}
