package ship

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/vfs"
)

// TestFollowRenameRotation: the file is renamed and a new one created at
// its path; the writer keeps writing to the old file for a while. Every line
// of both arrives once, and the old file is closed once it stops growing.
func TestFollowRenameRotation(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	w := openWriter(t, path)
	want := w.jsonLines(0, 100)
	r := startShipper(t, testOptions(fs, filepath.Join(dir, "state"), path))
	fs.waitExactly(t, want)

	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	want = append(want, w.jsonLines(100, 150)...) // still to the old file
	w2 := openWriter(t, path)
	want = append(want, w2.jsonLines(150, 200)...)
	want = append(want, w.jsonLines(200, 210)...) // a late line to the old one
	w.f.Close()
	fs.waitExactly(t, want)

	eventually(t, "the renamed file is released", func() bool { return len(r.sh.openFiles()) == 1 })
	if fds := fdsTo(path + ".1"); len(fds) != 0 {
		t.Errorf("descriptors still open on the rotated file: %v", fds)
	}
	for _, rec := range fs.snapshot() {
		if rec["filename"] != path {
			t.Errorf("record %v: filename %v, want %s (the path the file was found under)", rec, rec["filename"], path)
			break
		}
	}
}

// TestFollowCopyTruncate: logrotate's copytruncate while the shipper runs.
func TestFollowCopyTruncate(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	w := openWriter(t, path)
	want := w.jsonLines(0, 100)
	startShipper(t, testOptions(fs, filepath.Join(dir, "state"), path))
	fs.waitExactly(t, want)

	copyTruncate(t, path, path+".1")
	want = append(want, w.jsonLines(100, 130)...)
	fs.waitExactly(t, want)
	// Truncated again, this time to content longer than the old offset.
	copyTruncate(t, path, path+".2")
	want = append(want, w.jsonLines(1000, 1200)...)
	fs.waitExactly(t, want)
}

// TestCopyTruncateWhileStopped: the file is copied and truncated while the
// shipper is down; the lines it had not read are in the copy and are read
// from there, from the checkpointed offset.
func TestCopyTruncateWhileStopped(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	state := filepath.Join(dir, "state")
	w := openWriter(t, path)
	want := w.jsonLines(0, 100)
	r := startShipper(t, testOptions(fs, state, path))
	fs.waitExactly(t, want)
	r.stop(t)

	want = append(want, w.jsonLines(100, 200)...)
	copyTruncate(t, path, path+".1")
	want = append(want, w.jsonLines(200, 250)...)
	r = startShipper(t, testOptions(fs, state, path))
	fs.waitExactly(t, want)
	eventually(t, "the copy is released", func() bool { return len(r.sh.openFiles()) == 1 })
}

// TestCopyTruncateGlobMatchesCopies: the glob also matches the copies; a
// copy is resumed from the original's checkpoint, not read as a new file,
// even while the truncated generation still waits for the server.
func TestCopyTruncateGlobMatchesCopies(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	w := openWriter(t, path)
	want := w.jsonLines(0, 100)
	r := startShipper(t, testOptions(fs, filepath.Join(dir, "state"), path+"*"))
	fs.waitExactly(t, want)

	fs.setDown(true)
	want = append(want, w.jsonLines(100, 200)...)
	eventually(t, "the shipper retries", func() bool { return r.sh.Stats().Retries > 0 })
	copyTruncate(t, path, path+".1")
	want = append(want, w.jsonLines(200, 250)...)
	time.Sleep(300 * time.Millisecond) // polls see the copy while the old generation waits
	fs.setDown(false)
	fs.waitExactly(t, want)
	copyTruncate(t, path, path+".2")
	want = append(want, w.jsonLines(250, 300)...)
	fs.waitExactly(t, want)
	time.Sleep(300 * time.Millisecond) // a copy read as a new file would show up now
	checkSameSet(t, msgs(fs.snapshot()), want)
}

// TestRenameWhileStopped: the file is renamed while the shipper is down; its
// unread tail is found by inode in the directory.
func TestRenameWhileStopped(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	state := filepath.Join(dir, "state")
	w := openWriter(t, path)
	want := w.jsonLines(0, 100)
	r := startShipper(t, testOptions(fs, state, path))
	fs.waitExactly(t, want)
	r.stop(t)

	want = append(want, w.jsonLines(100, 200)...)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	want = append(want, openWriter(t, path).jsonLines(200, 250)...)
	startShipper(t, testOptions(fs, state, path))
	fs.waitExactly(t, want)
}

// TestFollowDeletedFile: a deleted file is read to its end (a writer that
// holds it open may still append) and then closed.
func TestFollowDeletedFile(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "gone.log")
	w := openWriter(t, path)
	want := w.jsonLines(0, 50)
	r := startShipper(t, testOptions(fs, filepath.Join(dir, "state"), filepath.Join(dir, "*.log")))
	fs.waitExactly(t, want)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	want = append(want, w.jsonLines(50, 60)...)
	w.write("last line without a newline")
	w.f.Close()
	want = append(want, "last line without a newline")
	fs.waitExactly(t, want)
	eventually(t, "the deleted file is closed", func() bool { return len(r.sh.openFiles()) == 0 })
	if fds := fdsTo(path); len(fds) != 0 {
		t.Errorf("descriptors still open on the deleted file: %v", fds)
	}
}

// TestFollowNewFiles: files that appear later are followed from their start.
func TestFollowNewFiles(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	want := openWriter(t, filepath.Join(dir, "a.log")).jsonLines(0, 10)
	o := testOptions(fs, filepath.Join(dir, "state"), filepath.Join(dir, "*.log"))
	o.Inputs[0].Exclude = []string{"*.skip.log"}
	r := startShipper(t, o)
	fs.waitExactly(t, want)
	want = append(want, openWriter(t, filepath.Join(dir, "b.log")).jsonLines(10, 20)...)
	openWriter(t, filepath.Join(dir, "c.skip.log")).jsonLines(1000, 1010)
	fs.waitExactly(t, want)
	want = append(want, openWriter(t, filepath.Join(dir, "c.log")).jsonLines(20, 30)...)
	recs := fs.waitExactly(t, want)
	names := map[string]bool{}
	for _, rec := range recs {
		names[filepath.Base(fmt.Sprint(rec["filename"]))] = true
	}
	if len(names) != 3 || !names["a.log"] || !names["b.log"] || !names["c.log"] {
		t.Errorf("filename values %v, want a.log, b.log and c.log", names)
	}
	if got := r.sh.openFiles(); len(got) != 3 {
		t.Errorf("open files %v, want 3", got)
	}
}

// TestCloseInactive: a matched file that stops growing is closed and
// opened again when it grows; trailing blank lines do not keep it open.
func TestCloseInactive(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	w := openWriter(t, path)
	want := w.jsonLines(0, 10)
	w.write("\n\n")
	o := testOptions(fs, filepath.Join(dir, "state"), path)
	o.CloseInactive = 100 * time.Millisecond
	r := startShipper(t, o)
	fs.waitExactly(t, want)
	eventually(t, "the idle file is closed", func() bool { return len(r.sh.openFiles()) == 0 })
	time.Sleep(200 * time.Millisecond) // it must stay closed: the blank lines are done
	if got := r.sh.openFiles(); len(got) != 0 {
		t.Errorf("an idle file ending in blank lines was opened again: %v", got)
	}
	want = append(want, w.jsonLines(10, 20)...)
	fs.waitExactly(t, want)
	if d := fs.dupCount(); d != 0 {
		t.Errorf("%d batches sent twice", d)
	}
}

// TestInodeReuse: a checkpoint names the inode of the file now at the path
// but other leading bytes (the inode was freed and reused): the file is
// read from its start, not from the checkpoint's offset.
func TestInodeReuse(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	state := filepath.Join(dir, "state")
	want := openWriter(t, path).jsonLines(0, 100)
	st, _, err := statFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old := entry{ID: "0123456789abcdef", Input: "test", Name: path, Path: path, Dev: st.id.dev, Ino: st.id.ino,
		FPLen: 64, FP: hashPrefix([]byte(strings.Repeat("o", 64))), Offset: 500}
	writeCheckpoint(t, state, old)
	startShipper(t, testOptions(fs, state, path))
	fs.waitExactly(t, want)
}

// TestRestartResumes: a stopped shipper resumes where its checkpoint says,
// without sending anything twice.
func TestRestartResumes(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	state := filepath.Join(dir, "state")
	w := openWriter(t, path)
	want := w.jsonLines(0, 100)
	r := startShipper(t, testOptions(fs, state, path))
	fs.waitExactly(t, want)
	r.stop(t)
	want = append(want, w.jsonLines(100, 200)...)
	startShipper(t, testOptions(fs, state, path))
	fs.waitExactly(t, want)
	if d := fs.dupCount(); d != 0 {
		t.Errorf("%d batches sent twice after a clean stop, want 0", d)
	}
}

// TestCrashAfterServerStored: the shipper dies after the server stored a
// batch and before the answer arrived; after a restart the batch is sent
// again with the same batch id, and the server keeps it once.
func TestCrashAfterServerStored(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	state := filepath.Join(dir, "state")
	w := openWriter(t, path)
	want := w.jsonLines(0, 50)
	o := testOptions(fs, state, path)
	o.ShutdownGrace = 0
	r := startShipper(t, o)
	fs.waitExactly(t, want)

	var crashedID atomic.Value
	fs.mu.Lock()
	fs.onStored = func(id string, n int) bool {
		if crashedID.Load() != nil {
			return true
		}
		crashedID.Store(id)
		r.cancel() // the shipper "dies" while the answer is on its way
		return false
	}
	fs.mu.Unlock()
	want = append(want, w.jsonLines(50, 100)...)
	select {
	case <-r.done:
		r.cancel = nil
	case <-time.After(waitTimeout):
		t.Fatal("the shipper did not stop")
	}
	fs.mu.Lock()
	fs.onStored = nil
	fs.mu.Unlock()
	id, _ := crashedID.Load().(string)
	if id == "" {
		t.Fatal("no batch was stored before the crash")
	}
	startShipper(t, o)
	fs.waitExactly(t, want)
	eventually(t, "the batch is sent again", func() bool { return fs.dupCount() > 0 })
	if d := fs.dupCount(); d != 1 {
		t.Errorf("%d duplicate batches, want 1 (batch %s)", d, id)
	}
}

// TestServerDownThenUp: while the server answers 503 the shipper retries;
// nothing is lost or repeated.
func TestServerDownThenUp(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	fs.setDown(true)
	path := filepath.Join(dir, "app.log")
	w := openWriter(t, path)
	want := w.jsonLines(0, 100)
	r := startShipper(t, testOptions(fs, filepath.Join(dir, "state"), path))
	eventually(t, "retries", func() bool { return r.sh.Stats().Retries >= 3 })
	want = append(want, w.jsonLines(100, 200)...)
	fs.setDown(false)
	fs.waitExactly(t, want)
	if st := r.sh.Stats(); st.RecordsSent != 200 || st.LastError == "" {
		t.Errorf("stats %+v, want 200 records sent and the last error", st)
	}
}

// TestMultilineAcrossReads: a stack trace written in pieces is one record;
// a long line is cut with a marker.
func TestMultilineAcrossReads(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	w := openWriter(t, path)
	o := testOptions(fs, filepath.Join(dir, "state"), path)
	o.Inputs[0].MaxLineBytes = 1000
	o.Inputs[0].Multiline.Timeout = time.Hour // complete only by the next start line
	startShipper(t, o)
	w.write("ERROR failed\njava.lang.IllegalStateException: x\n")
	time.Sleep(50 * time.Millisecond) // let the shipper read a part
	w.write("\tat a.B.c(B.java:1)\nCaused by: y\n\t... 2 more\n")
	w.write(strings.Repeat("z", 5000) + "\nnext\n")
	w.write("{\"n\":1}\n")
	cut := strings.Repeat("z", 1000) + string(appendCutMarker(nil, 5000, 1000))
	fs.waitExactly(t, []string{"ERROR failed\njava.lang.IllegalStateException: x\n\tat a.B.c(B.java:1)\nCaused by: y\n\t... 2 more",
		cut, "next", "1"})
}

// TestManyFilesSmallBudget: many files share a small in-flight budget.
func TestManyFilesSmallBudget(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	o := testOptions(fs, filepath.Join(dir, "state"), filepath.Join(dir, "*.log"))
	o.BatchBytes = 4 << 10
	o.Inputs[0].MaxLineBytes = 1 << 10
	o.Inputs[0].Multiline.MaxBytes = 4 << 10
	o.MaxInflightBytes = 2 * (4<<10 + 4<<10)
	var want []string
	for f := range 8 {
		want = append(want, openWriter(t, filepath.Join(dir, fmt.Sprintf("f%d.log", f))).jsonLines(f*1000, f*1000+500)...)
	}
	startShipper(t, o)
	fs.waitExactly(t, want)
}

func writeCheckpoint(t *testing.T, dir string, es ...entry) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := encodeCheckpoint(checkpointDoc{Streams: es})
	if err != nil {
		t.Fatal(err)
	}
	if err := vfs.WriteFileAtomic(vfs.OS{}, dir, checkpointName, data); err != nil {
		t.Fatal(err)
	}
}

func readCheckpoint(t *testing.T, dir string) []entry {
	t.Helper()
	es, err := loadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(es, func(a, b entry) int { return strings.Compare(a.Name, b.Name) })
	return es
}
