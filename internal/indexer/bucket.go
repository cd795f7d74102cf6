package indexer

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/storage"
	"github.com/logbucket/logbucket/internal/vfs"
)

// bucketIndex is one bucket's index: parts, the unflushed tail, and the
// goroutines that fill and flush it.
type bucketIndex struct {
	ix         *Indexer
	name       string
	dir        string
	partitions int
	flushNow   chan struct{}

	flushMu sync.Mutex // serialises flushes and merges (manifest swaps)

	mu        sync.Mutex // protects everything below
	roomCond  *sync.Cond // signalled when a flush frees tail memory or a consumer moves on
	man       *manifest  // the saved manifest
	parts     []*partRef // live parts, as in man.Parts
	tail      []Row      // read, not yet flushed; never modified in place
	tailBytes int64
	consumed  map[int]int64 // partition → next offset to read
	turns     consumerTurns // keeps the partitions' consumers level in time
	readErr   error         // last consumer error, for diagnostics
}

// partRef is a live part with a reference count: the indexer holds one,
// every snapshot holds one, and the file is closed (and, once replaced by
// a merge, deleted) when the last is released.
type partRef struct {
	entry   partEntry
	part    Part
	path    string
	fs      vfs.FS
	refs    atomic.Int32
	deleted atomic.Bool // replaced by a merge: delete the file after close
}

func newPartRef(e partEntry, p Part, path string, fsys vfs.FS) *partRef {
	r := &partRef{entry: e, part: p, path: path, fs: fsys}
	r.refs.Store(1)
	return r
}

func (r *partRef) acquire() { r.refs.Add(1) }

func (r *partRef) release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	_ = r.part.Close()
	if r.deleted.Load() {
		_ = r.fs.Remove(r.path)
	}
}

func (b *bucketIndex) start() {
	for p := 0; p < b.partitions; p++ {
		b.ix.wg.Add(1)
		go b.consume(p)
	}
	b.ix.wg.Add(2)
	go b.flushLoop()
	go b.mergeLoop()
}

// consume reads partition p of the commit log into the tail.
func (b *bucketIndex) consume(p int) {
	defer b.ix.wg.Done()
	ctx := b.ix.ctx
	for ctx.Err() == nil {
		b.mu.Lock()
		for b.tailBytes >= b.ix.opts.MaxTailBytes && ctx.Err() == nil {
			b.requestFlush()
			b.roomCond.Wait()
		}
		next := b.consumed[p]
		b.mu.Unlock()
		res, err := b.ix.opts.Log.Read(ctx, b.name, p, next, b.ix.opts.ReadBatch, time.Second)
		var oor *commitlog.OffsetOutOfRangeError
		if errors.As(err, &oor) {
			b.ix.opts.Logger.Warn("index skipped records deleted by retention before indexing",
				"bucket", b.name, "partition", p, "from", next, "to", oor.Earliest)
			b.mu.Lock()
			b.consumed[p] = oor.Earliest
			b.mu.Unlock()
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			b.mu.Lock()
			b.readErr = err
			b.turns.idle(p)
			b.roomCond.Broadcast()
			b.mu.Unlock()
			b.ix.opts.Logger.Error("index read", "bucket", b.name, "partition", p, "err", err)
			sleep(ctx.Done(), time.Second)
			continue
		}
		if len(res.Records) == 0 {
			b.mu.Lock()
			b.turns.idle(p)
			b.roomCond.Broadcast()
			b.mu.Unlock()
			continue
		}
		rows := make([]Row, len(res.Records))
		var size int64
		for i, st := range res.Records {
			rows[i] = Row{Partition: p, Offset: st.Offset, Record: st.Record}
			size += rowMemory(&st.Record)
		}
		lag := res.End - res.Next
		b.mu.Lock()
		b.turns.read(p, res.Records[len(res.Records)/2].Record.Time, lag >= int64(b.ix.opts.ReadBatch))
		b.roomCond.Broadcast()
		for b.turns.ahead(p) && ctx.Err() == nil {
			b.roomCond.Wait()
		}
		b.tail = append(b.tail, rows...)
		b.tailBytes += size
		b.consumed[p] = res.Next
		if lag == 0 {
			b.turns.idle(p)
		}
		b.roomCond.Broadcast()
		// Flush at half the memory budget, so reading goes on during it.
		full := len(b.tail) >= b.ix.opts.FlushRows || b.tailBytes >= b.ix.opts.MaxTailBytes/2
		b.mu.Unlock()
		if full {
			b.requestFlush()
		}
	}
}

func sleep(done <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

func (b *bucketIndex) requestFlush() {
	select {
	case b.flushNow <- struct{}{}:
	default:
	}
}

// flushLoop flushes every FlushInterval or when asked.
func (b *bucketIndex) flushLoop() {
	defer b.ix.wg.Done()
	t := time.NewTicker(b.ix.opts.FlushInterval)
	defer t.Stop()
	done := b.ix.ctx.Done()
	for {
		select {
		case <-done:
			b.mu.Lock()
			b.roomCond.Broadcast()
			b.mu.Unlock()
			return
		case <-t.C:
		case <-b.flushNow:
		}
		if err := b.flush(); err != nil {
			b.ix.opts.Logger.Error("index flush", "bucket", b.name, "err", err)
		}
	}
}

// flush writes the tail as parts (one per UTC day) and swaps the manifest.
func (b *bucketIndex) flush() error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	rows := b.tail
	next := make(map[int]int64, len(b.consumed))
	for p, o := range b.consumed {
		next[p] = o
	}
	unchanged := len(rows) == 0
	for p, o := range next {
		unchanged = unchanged && b.man.next(p) == o
	}
	b.mu.Unlock()
	if unchanged {
		return nil
	}
	m := b.man.clone()
	var added []*partRef
	for _, day := range splitByDay(rows) {
		m.Seq++
		file := fmt.Sprintf("%08d-%012d.part", day.day, m.Seq)
		path := filepath.Join(b.dir, file)
		st, err := b.ix.opts.Store.Write(path, day.day, day.rows)
		if err != nil {
			releaseAll(added, true)
			return fmt.Errorf("flush bucket %s: %w", b.name, err)
		}
		e := partEntry{File: file, Day: day.day, Rows: st.Rows, Bytes: st.Bytes, MinTime: st.MinTime, MaxTime: st.MaxTime}
		p, err := b.ix.opts.Store.Open(path)
		if err != nil {
			releaseAll(added, true)
			return fmt.Errorf("open flushed part %s: %w", path, err)
		}
		m.Parts = append(m.Parts, e)
		added = append(added, newPartRef(e, p, path, b.ix.opts.FS))
	}
	for p, o := range next {
		m.setNext(p, o)
	}
	if err := m.save(b.ix.opts.FS, b.dir); err != nil {
		releaseAll(added, true)
		return err
	}
	b.mu.Lock()
	b.man = m
	b.parts = append(b.parts, added...)
	rest := make([]Row, len(b.tail)-len(rows))
	copy(rest, b.tail[len(rows):])
	b.tail = rest
	var size int64
	for i := range rest {
		size += rowMemory(&rest[i].Record)
	}
	b.tailBytes = size
	b.roomCond.Broadcast()
	b.mu.Unlock()
	b.commitGroup(next)
	return nil
}

// releaseAll drops the indexer's reference of parts; with remove their
// files go too (a failed flush or merge).
func releaseAll(refs []*partRef, remove bool) {
	for _, r := range refs {
		if remove {
			r.deleted.Store(true) // never cleared: another holder may have set it
		}
		r.release()
	}
}

// commitGroup records progress in the commit log's indexer group so its
// retention can free what is indexed. Failure only delays retention.
func (b *bucketIndex) commitGroup(next map[int]int64) {
	for p, o := range next {
		if err := b.ix.opts.Log.Commit(b.ix.ctx, b.name, Group, p, o); err != nil && b.ix.ctx.Err() == nil {
			b.ix.opts.Logger.Warn("commit indexer group", "bucket", b.name, "partition", p, "err", err)
		}
	}
}

// dayRows are the rows of one UTC day.
type dayRows struct {
	day  int64
	rows []Row
}

const nsPerDay = int64(24 * time.Hour)

// rowMemory estimates the memory a tail row holds: its strings (decoded
// batch payloads are shared, but a batch stays alive while any of its rows
// is in the tail), its field slices and the row itself.
func rowMemory(r *model.Record) int64 {
	return int64(2*r.Size() + 32*(len(r.Stream)+len(r.Fields)) + 96)
}

func splitByDay(rows []Row) []dayRows {
	if len(rows) > 0 {
		first, same := storage.DayOf(rows[0].Record.Time), true
		for i := range rows {
			if storage.DayOf(rows[i].Record.Time) != first {
				same = false
				break
			}
		}
		if same { // the common case: no copy
			return []dayRows{{first, rows}}
		}
	}
	by := map[int64][]Row{}
	for _, r := range rows {
		d := storage.DayOf(r.Record.Time)
		by[d] = append(by[d], r)
	}
	out := make([]dayRows, 0, len(by))
	for d, rs := range by {
		out = append(out, dayRows{d, rs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].day < out[j].day })
	return out
}

func (b *bucketIndex) closeParts() {
	b.mu.Lock()
	parts := b.parts
	b.parts = nil
	b.mu.Unlock()
	releaseAll(parts, false)
}
