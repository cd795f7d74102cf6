package ship

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/logbucket/logbucket/internal/vfs"
)

// The checkpoint file, DIR/checkpoint.json, is one header line and a JSON
// document:
//
//	logbucket-ship-checkpoint 1 crc32c=<8 hex digits> len=<bytes of the JSON>
//	{"streams":[{"id":...,"input":...,"name":...,"path":...,"dev":...,"ino":...,
//	  "fp_len":...,"fp":...,"offset":...,"pending":[...]}, ...]}
//
// The CRC-32C covers the JSON bytes. It is replaced atomically
// (vfs.WriteFileAtomic): written to checkpoint.json.tmp, fsync'd, renamed
// over checkpoint.json, and the directory fsync'd. A torn temporary file is ignored (and removed) when the
// state is loaded; a damaged checkpoint.json stops the shipper, because
// shipping from a guessed position would lose or repeat lines.
const (
	checkpointName   = "checkpoint.json"
	checkpointMagic  = "logbucket-ship-checkpoint"
	checkpointFormat = 1
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrCheckpointDamaged means the checkpoint file exists but cannot be
// trusted.
var ErrCheckpointDamaged = errors.New("checkpoint damaged")

// entry is the durable state of one stream: one generation of one file.
// Everything before Offset was acknowledged by the server. Pending lists
// the end offsets of the batches cut after Offset, in order; each may have
// been sent, so after a restart exactly these byte ranges are sent again,
// with the same batch ids, before anything else.
type entry struct {
	ID    string `json:"id"`    // random; batch ids derive from it
	Input string `json:"input"` // the input's name
	Name  string `json:"name"`  // the path the file was found under (the filename field)
	Path  string `json:"path"`  // the resolved path it was last seen at
	Dev   uint64 `json:"dev"`
	Ino   uint64 `json:"ino"`
	// FP is the fingerprint of the first FPLen bytes (see fpMax).
	FPLen   int     `json:"fp_len"`
	FP      string  `json:"fp"`
	Offset  int64   `json:"offset"`
	Pending []int64 `json:"pending,omitempty"`
}

func (e *entry) fileID() fileID { return fileID{e.Dev, e.Ino} }

// need is how long the file must be for the entry to resume on it.
func (e *entry) need() int64 {
	if n := len(e.Pending); n > 0 {
		return e.Pending[n-1]
	}
	return e.Offset
}

type checkpointDoc struct {
	Streams []entry `json:"streams"`
}

// store keeps the entries and writes them with group commit: any number of
// updates that arrive while a write is under way share the next write.
// Safe for concurrent use.
type store struct {
	dir  string
	log  *slog.Logger
	lock *os.File
	m    *metrics

	kick chan struct{} // wakes the writer; capacity 1
	stop chan struct{} // closed by close
	done chan struct{} // closed when the writer has exited

	mu      sync.Mutex // protects the fields below
	entries map[string]entry
	gen     uint64        // bumped by every change
	durable uint64        // the gen the last successful write held
	flushed chan struct{} // closed and replaced after each write attempt
	lastErr error         // of the last write attempt
	fsys    vfs.FS        // set before the writer starts; tests inject faults
}

// openStore locks dir, loads its checkpoint and starts the writer, which
// writes through fsys.
func openStore(fsys vfs.FS, dir string, log *slog.Logger, m *metrics) (*store, []entry, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create state directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("lock state directory %s (is another shipper using it?): %w", dir, err)
	}
	entries, err := loadCheckpoint(dir)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	s := &store{dir: dir, log: log, lock: lock, m: m, kick: make(chan struct{}, 1), stop: make(chan struct{}),
		done: make(chan struct{}), entries: map[string]entry{}, flushed: make(chan struct{}), fsys: fsys}
	for _, e := range entries {
		s.entries[e.ID] = e
	}
	go s.run()
	return s, entries, nil
}

// loadCheckpoint reads dir's checkpoint; a missing one is empty.
func loadCheckpoint(dir string) ([]entry, error) {
	path := filepath.Join(dir, checkpointName)
	if err := os.Remove(path + ".tmp"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove torn checkpoint: %w", err)
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	doc, err := decodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v; move it away to start over "+
			"(every matching file is then read again from its start)", path, ErrCheckpointDamaged, err)
	}
	return doc.Streams, nil
}

func encodeCheckpoint(doc checkpointDoc) ([]byte, error) {
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	out := fmt.Appendf(nil, "%s %d crc32c=%08x len=%d\n", checkpointMagic, checkpointFormat, crc32.Checksum(body, crcTable), len(body))
	return append(out, body...), nil
}

func decodeCheckpoint(data []byte) (checkpointDoc, error) {
	var doc checkpointDoc
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 {
		return doc, errors.New("no header line")
	}
	var magic string
	var format int
	var sum uint32
	var n int
	if _, err := fmt.Sscanf(string(data[:nl]), "%s %d crc32c=%x len=%d", &magic, &format, &sum, &n); err != nil || magic != checkpointMagic {
		return doc, fmt.Errorf("bad header %q", truncateBytes(data[:nl], 80))
	}
	if format != checkpointFormat {
		return doc, fmt.Errorf("format %d, this shipper reads format %d", format, checkpointFormat)
	}
	body := data[nl+1:]
	if len(body) != n {
		return doc, fmt.Errorf("%d bytes of JSON, the header says %d (torn write)", len(body), n)
	}
	if got := crc32.Checksum(body, crcTable); got != sum {
		return doc, fmt.Errorf("checksum %08x, the header says %08x", got, sum)
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return doc, err
	}
	ids := map[string]bool{}
	for _, e := range doc.Streams {
		if e.ID == "" || ids[e.ID] || e.Offset < 0 || e.FPLen < 0 || e.FPLen > fpMax {
			return doc, fmt.Errorf("bad stream entry %+v", e)
		}
		ids[e.ID] = true
	}
	return doc, nil
}

func truncateBytes(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// put records e and returns the generation to wait for.
func (s *store) put(e entry) uint64 {
	e.Pending = slices.Clone(e.Pending)
	s.mu.Lock()
	s.entries[e.ID] = e
	s.gen++
	g := s.gen
	s.mu.Unlock()
	s.wake()
	return g
}

// remove forgets the entry id.
func (s *store) remove(id string) uint64 {
	s.mu.Lock()
	delete(s.entries, id)
	s.gen++
	g := s.gen
	s.mu.Unlock()
	s.wake()
	return g
}

func (s *store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// wait blocks until generation g is on disk or ctx ends. Write errors are
// retried by the writer, so wait only returns ctx's error.
func (s *store) wait(ctx context.Context, g uint64) error {
	for {
		s.mu.Lock()
		if s.durable >= g {
			s.mu.Unlock()
			return nil
		}
		ch := s.flushed
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// run is the writer: it writes whenever the entries changed, until close.
func (s *store) run() {
	defer close(s.done)
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-s.kick:
		case <-s.stop:
			if err := s.flush(); err != nil {
				s.log.Error("write checkpoint at exit", "dir", s.dir, "err", err)
			}
			return
		}
		if err := s.flush(); err != nil {
			s.log.Error("write checkpoint; retrying", "dir", s.dir, "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.stop:
			}
			backoff = min(backoff*2, 5*time.Second)
			s.wake()
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

// flush writes the entries if they changed since the last write.
func (s *store) flush() error {
	s.mu.Lock()
	g := s.gen
	if g == s.durable {
		s.mu.Unlock()
		return nil
	}
	doc := checkpointDoc{Streams: make([]entry, 0, len(s.entries))}
	for _, e := range s.entries {
		doc.Streams = append(doc.Streams, e)
	}
	s.mu.Unlock()
	slices.SortFunc(doc.Streams, func(a, b entry) int {
		if a.Input != b.Input {
			return cmp.Compare(a.Input, b.Input)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	start := time.Now()
	data, err := encodeCheckpoint(doc)
	if err == nil {
		err = vfs.WriteFileAtomic(s.fsys, s.dir, checkpointName, data)
	}
	if s.m != nil {
		s.m.checkpointWrites.Inc()
		s.m.checkpointSeconds.Observe(time.Since(start).Seconds())
		if err != nil {
			s.m.checkpointErrors.Inc()
		}
	}
	s.mu.Lock()
	if err == nil {
		s.durable = g
	}
	s.lastErr = err
	close(s.flushed)
	s.flushed = make(chan struct{})
	s.mu.Unlock()
	return err
}

// close writes what is left and releases the lock.
func (s *store) close() error {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	err := s.lastErr
	if s.durable != s.gen && err == nil {
		err = errors.New("checkpoint not written at exit")
	}
	s.mu.Unlock()
	if cerr := s.lock.Close(); err == nil {
		err = cerr
	}
	return err
}

// batchID is the idempotency key of the byte range [start, end) of the
// stream id: the same range of the same stream always gets the same key.
func batchID(id string, start, end int64) string {
	return "ship-" + id + "-" + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(end, 10)
}
