package ship

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/vfs"
)

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, es, err := openStore(vfs.OS{}, dir, quietLog(), nil)
	if err != nil || len(es) != 0 {
		t.Fatalf("open empty: %v %v", es, err)
	}
	a := entry{ID: "a1", Input: "in", Name: "/l/a.log", Path: "/l/a.log", Dev: 1, Ino: 2, FPLen: 10, FP: "ff", Offset: 100, Pending: []int64{150, 200}}
	b := entry{ID: "b1", Input: "in", Name: "/l/b.log", Path: "/l/b.log.1", Dev: 1, Ino: 3, Offset: 7}
	s.put(a)
	g := s.put(b)
	if err := s.wait(context.Background(), g); err != nil {
		t.Fatal(err)
	}
	// Durable before close: a crash now (no close) keeps both.
	if got := readCheckpoint(t, dir); !reflect.DeepEqual(got, []entry{a, b}) {
		t.Errorf("on disk after wait: %+v", got)
	}
	s.remove("b1")
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s, es, err = openStore(vfs.OS{}, dir, quietLog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if !reflect.DeepEqual(es, []entry{a}) {
		t.Errorf("reopened: %+v, want %+v", es, a)
	}
}

// TestCheckpointTornWrites: a crash while the temporary file was written
// leaves the last checkpoint in force; damage to the checkpoint itself is
// reported, never guessed around.
func TestCheckpointTornWrites(t *testing.T) {
	good := entry{ID: "a1", Input: "in", Name: "/l/a.log", Path: "/l/a.log", Dev: 1, Ino: 2, Offset: 100}
	data, err := encodeCheckpoint(checkpointDoc{Streams: []entry{good}})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("torn temporary file", func(t *testing.T) {
		dir := t.TempDir()
		writeCheckpoint(t, dir, good)
		tmp := filepath.Join(dir, checkpointName+".tmp")
		if err := os.WriteFile(tmp, data[:len(data)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		s, es, err := openStore(vfs.OS{}, dir, quietLog(), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.close()
		if !reflect.DeepEqual(es, []entry{good}) {
			t.Errorf("loaded %+v, want the last complete checkpoint", es)
		}
		if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("torn temporary file not removed: %v", err)
		}
	})

	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 0x20
		return c
	}
	header := strings.IndexByte(string(data), '\n')
	for name, bad := range map[string][]byte{
		"torn at half":       data[:len(data)/2],
		"torn in the header": data[:10],
		"last byte missing":  data[:len(data)-1],
		"flipped body byte":  flip(data, header+5),
		"flipped crc digit":  flip(data, strings.Index(string(data), "crc32c=")+8),
		"other format":       []byte(strings.Replace(string(data), checkpointMagic+" 1", checkpointMagic+" 9", 1)),
		"not a checkpoint":   []byte("{}\n"),
		"empty":              {},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, checkpointName), bad, 0o644); err != nil {
				t.Fatal(err)
			}
			s, _, err := openStore(vfs.OS{}, dir, quietLog(), nil)
			if err == nil {
				s.close()
				t.Fatal("a damaged checkpoint was accepted")
			}
			if !errors.Is(err, ErrCheckpointDamaged) || !strings.Contains(err.Error(), "move it away") {
				t.Errorf("error %v: want ErrCheckpointDamaged with advice", err)
			}
		})
	}
}

// TestCheckpointWriteErrorsAreRetried: failing writes (here: fsync, then
// rename) are retried; waiters are released only once a write succeeded,
// and the checkpoint on disk is never a mix.
func TestCheckpointWriteErrorsAreRetried(t *testing.T) {
	dir := t.TempDir()
	faulty := vfs.NewFaulty(vfs.OS{})
	s, _, err := openStore(faulty, dir, quietLog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	first := entry{ID: "x", Input: "in", Offset: 5}
	if err := s.wait(ctx, s.put(first)); err != nil {
		t.Fatal(err)
	}
	faulty.FailAt(vfs.OpSync, 1, false)
	faulty.FailAt(vfs.OpRename, 1, false)
	second := entry{ID: "x", Input: "in", Offset: 9}
	g := s.put(second)
	if err := s.wait(ctx, g); err != nil {
		t.Fatal(err)
	}
	if faulty.Count(vfs.OpSync) < 2 || faulty.Count(vfs.OpRename) < 2 {
		t.Errorf("wait returned after %d syncs and %d renames; the injected failures were not retried",
			faulty.Count(vfs.OpSync), faulty.Count(vfs.OpRename))
	}
	if got := readCheckpoint(t, dir); !reflect.DeepEqual(got, []entry{second}) {
		t.Errorf("on disk: %+v, want %+v", got, second)
	}
}

func TestCheckpointLock(t *testing.T) {
	dir := t.TempDir()
	s, _, err := openStore(vfs.OS{}, dir, quietLog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s2, _, err := openStore(vfs.OS{}, dir, quietLog(), nil); err == nil {
		s2.close()
		t.Error("a second store opened a locked state directory")
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	s, _, err = openStore(vfs.OS{}, dir, quietLog(), nil)
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	s.close()
}

// TestCheckpointRecordsPendingBeforeSend: a batch is sent only after its
// range is in the checkpoint, so a crash during the request re-sends it.
func TestCheckpointRecordsPendingBeforeSend(t *testing.T) {
	dir := t.TempDir()
	fs := newFakeServer(t)
	path := filepath.Join(dir, "app.log")
	state := filepath.Join(dir, "state")
	w := openWriter(t, path)
	w.jsonLines(0, 10)
	var seen []entry
	var seenErr error
	fs.onStored = func(id string, n int) bool {
		seen, seenErr = loadCheckpoint(state)
		return true
	}
	r := startShipper(t, testOptions(fs, state, path))
	fs.waitExactly(t, seqNames(0, 10))
	r.stop(t)
	if seenErr != nil || len(seen) != 1 || len(seen[0].Pending) != 1 || seen[0].Pending[0] != 80 || seen[0].Offset != 0 {
		t.Errorf("checkpoint while the first batch was at the server: %+v (%v), want offset 0, pending [80]", seen, seenErr)
	}
	if got := readCheckpoint(t, state); len(got) != 1 || got[0].Offset != 80 || len(got[0].Pending) != 0 {
		t.Errorf("checkpoint after the answer: %+v, want offset 80, nothing pending", got)
	}
}
