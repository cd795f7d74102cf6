package commitlog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// partition is one ordered, durable sequence of records: a list of segment
// files, the last of which (active) takes appends. One writer goroutine
// owns appends (group commit); readers run concurrently.
type partition struct {
	id     int
	dir    string
	bucket string
	log    *Embedded

	queue   chan *appendOp
	stop    chan struct{}
	stopped chan struct{}
	pending atomic.Int64 // bytes queued but not yet written
	running atomic.Bool  // the writer goroutine was started

	// next is the offset the next appended record gets. Writer only.
	next int64
	// wbuf is the writer's reusable group buffer. Writer only.
	wbuf []byte

	mu       sync.Mutex // protects everything below and the fields of segments
	segments []*segment // sorted by base; the last one is active
	hw       int64      // high watermark: end offset of fsync'd records
	notify   chan struct{}
}

// appendOp is one append's frames for one partition.
type appendOp struct {
	frames  [][]byte
	records int64
	bytes   int64
	roll    bool // control op: roll an aged active segment, no frames
	done    chan opResult
}

type opResult struct {
	first, last int64
	err         error
}

func partitionDir(bucketDir string, id int) string {
	return filepath.Join(bucketDir, fmt.Sprintf("p%04d", id))
}

// openPartition opens (or creates) a partition directory and recovers it.
func openPartition(l *Embedded, bucket, bucketDir string, id int, onHeader func(part int, h batchHeader)) (*partition, error) {
	p := &partition{id: id, dir: partitionDir(bucketDir, id), bucket: bucket, log: l,
		queue: make(chan *appendOp, 256), stop: make(chan struct{}), stopped: make(chan struct{}),
		notify: make(chan struct{})}
	if err := mkdirDurable(l.fs, p.dir); err != nil {
		return nil, fmt.Errorf("create partition directory %s: %w", p.dir, err)
	}
	entries, err := l.fs.ReadDir(p.dir)
	if err != nil {
		return nil, fmt.Errorf("list partition directory %s: %w", p.dir, err)
	}
	var bases []int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			if err := l.fs.Remove(filepath.Join(p.dir, e.Name())); err != nil {
				return nil, fmt.Errorf("remove leftover %s: %w", e.Name(), err)
			}
			continue
		}
		if base, ok := parseSegmentName(e.Name()); ok {
			bases = append(bases, base)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	cutoff := l.now().Add(-l.opts.DedupWindow).UnixNano()
	for i, base := range bases {
		seg, err := p.openSegment(base, i == len(bases)-1, cutoff, onHeader)
		if err != nil {
			p.closeSegments()
			return nil, err
		}
		if seg != nil {
			p.segments = append(p.segments, seg)
		}
	}
	if len(p.segments) == 0 {
		seg, err := createSegment(l.fs, p.dir, 0)
		if err != nil {
			return nil, err
		}
		p.segments = append(p.segments, seg)
	}
	act := p.active()
	p.next, p.hw = act.end, act.end
	return p, nil
}

// openSegment opens one segment file at recovery. The active (last) one is
// verified frame by frame and a damaged tail is cut off the file; sealed
// ones load their index (or are rescanned). An active segment too short to
// hold its header is replaced by a new empty one at the same base.
func (p *partition) openSegment(base int64, active bool, dedupCutoff int64, onHeader func(int, batchHeader)) (*segment, error) {
	fsys, path := p.log.fs, filepath.Join(p.dir, segmentName(base)+segmentSuffix)
	flag := os.O_RDONLY
	if active {
		flag = os.O_RDWR | os.O_APPEND
	}
	f, err := fsys.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat segment %s: %w", path, err)
	}
	size := fi.Size()
	s := &segment{path: path, base: base, file: f, sealed: !active, lastIndexed: -1,
		closeErrHook: func(err error) { p.log.logger.Warn("close segment", "path", path, "err", err) }}
	if active && size < segmentHeaderSize {
		// Crash right after creating the file: create it again. Its base is
		// where the previous segment ended when it was written; appending
		// to the previous segment instead would reuse the offsets of a gap
		// (and append behind its damage) if that segment was damaged.
		f.Close()
		p.log.logger.Warn("recreated empty segment left by a crash", "path", path, "bytes", size)
		if err := fsys.Remove(path); err != nil {
			return nil, fmt.Errorf("remove short segment %s: %w", path, err)
		}
		return createSegment(fsys, p.dir, base)
	}
	if !active {
		if err := readIndex(fsys, s, size); err == nil {
			if s.lastAppend >= dedupCutoff && onHeader != nil {
				scanSegment(f, base, size, p.log.opts.IndexIntervalBytes, false, func(h batchHeader) {
					if h.AppendTime >= dedupCutoff {
						onHeader(p.id, h)
					}
				})
			}
			return s, nil
		}
	}
	var hook func(batchHeader)
	if onHeader != nil {
		hook = func(h batchHeader) {
			if h.AppendTime >= dedupCutoff {
				onHeader(p.id, h)
			}
		}
	}
	res := scanSegment(f, base, size, p.log.opts.IndexIntervalBytes, active, hook)
	s.end, s.index, s.lastIndexed = res.end, res.index, res.lastIndexed
	s.firstAppend, s.lastAppend = res.firstAppend, res.lastAppend
	s.size, s.durableSize = res.validEnd, res.validEnd
	if res.damage == nil {
		if !active {
			if err := writeIndex(fsys, s); err != nil {
				p.log.logger.Warn("rewrite segment index", "err", err)
			}
		}
		return s, nil
	}
	if !active {
		// Damage inside a sealed segment: keep what precedes it, report the
		// rest as a gap; later segments stay readable.
		p.log.reportDamage(p, s, size, res, false)
		if s.lastAppend == 0 {
			// Nothing of it was kept: age it by its file time, or age-based
			// retention would wait for it forever.
			s.lastAppend = 1
			if mt := fi.ModTime(); mt.Year() > 1970 && mt.Year() < 2262 {
				s.lastAppend = mt.UnixNano()
			}
		}
		return s, nil
	}
	if res.validEnd < segmentHeaderSize {
		f.Close()
		return nil, fmt.Errorf("segment %s has a damaged header (%v): move it away to start without it", path, res.damage)
	}
	p.log.reportDamage(p, s, size, res, true)
	if err := f.Truncate(res.validEnd); err != nil {
		f.Close()
		return nil, fmt.Errorf("cut damaged tail of %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync %s after cutting its tail: %w", path, err)
	}
	return s, nil
}

func (p *partition) active() *segment { return p.segments[len(p.segments)-1] }

func (p *partition) closeSegments() {
	for _, s := range p.segments {
		s.closeFile()
	}
}

// start runs the writer goroutine.
func (p *partition) start() {
	p.running.Store(true)
	go p.run()
}

func (p *partition) run() {
	defer close(p.stopped)
	const maxGroupBytes = 16 << 20
	var ops []*appendOp
	for {
		var op *appendOp
		select {
		case op = <-p.queue:
		case <-p.stop:
			return
		}
		ops = append(ops[:0], op)
		size := op.bytes
	drain:
		for size < maxGroupBytes {
			select {
			case op = <-p.queue:
				ops = append(ops, op)
				size += op.bytes
			default:
				break drain
			}
		}
		p.writeGroup(ops)
	}
}

// enqueue hands an op to the writer, refusing it when the queue holds more
// than the configured bytes.
func (p *partition) enqueue(ctx context.Context, op *appendOp) error {
	// An op larger than the limit still goes through an empty queue.
	if after := p.pending.Add(op.bytes); after > p.log.opts.MaxPendingBytes && after > op.bytes {
		p.pending.Add(-op.bytes)
		return fmt.Errorf("partition %s/%d has %d bytes waiting to be written: %w", p.bucket, p.id, p.pending.Load(), ErrOverloaded)
	}
	select {
	case p.queue <- op:
		return nil
	case <-ctx.Done():
		p.pending.Add(-op.bytes)
		return ctx.Err()
	}
}

// writeGroup writes the frames of ops with one write and one fsync per
// segment touched, then publishes the new high watermark and answers ops.
func (p *partition) writeGroup(ops []*appendOp) {
	res := make([]opResult, len(ops))
	defer func() {
		for i, op := range ops {
			p.pending.Add(-op.bytes)
			op.done <- res[i]
		}
	}()
	if err := p.log.failed(); err != nil {
		for i := range res {
			res[i].err = err
		}
		return
	}
	buf := p.wbuf[:0]
	var idx []indexEntry
	act := p.active()
	pos := act.size
	interval := p.log.opts.IndexIntervalBytes
	lastIdx := act.lastIndexed
	now := p.log.now().UnixNano()
	var records int64
	fail := func(err error) {
		p.log.failStop(err)
		for i := range res {
			res[i].err = p.log.failed()
		}
	}
	for i, op := range ops {
		nonEmpty := act.end > act.base || len(buf) > 0
		full := pos >= p.log.opts.SegmentBytes || p.aged(act, now)
		if nonEmpty && full {
			if err := p.flush(act, buf, idx, pos); err != nil {
				fail(err)
				return
			}
			buf, idx = buf[:0], idx[:0]
			if err := p.roll(); err != nil {
				fail(err)
				return
			}
			act = p.active()
			pos, lastIdx = act.size, act.lastIndexed
		}
		if op.roll {
			continue
		}
		res[i].first = p.next
		for _, fr := range op.frames {
			h, _ := parseHeader(fr)
			setBaseOffset(fr, p.next)
			if lastIdx < 0 || pos-lastIdx >= interval {
				idx = append(idx, indexEntry{Offset: p.next, Pos: pos})
				lastIdx = pos
			}
			buf = append(buf, fr...)
			pos += int64(len(fr))
			p.next += int64(h.Count)
		}
		res[i].last = p.next - 1
		records += op.records
	}
	if len(buf) > 0 {
		if err := p.flush(act, buf, idx, pos); err != nil {
			fail(err)
			return
		}
		p.log.metrics.observeGroup(len(ops), len(buf))
	}
	if cap(buf) <= 32<<20 {
		p.wbuf = buf[:0]
	} else {
		p.wbuf = nil
	}
}

// aged reports whether the active segment is older than SegmentAge.
func (p *partition) aged(s *segment, now int64) bool {
	return s.firstAppend != 0 && now-s.firstAppend >= int64(p.log.opts.SegmentAge)
}

// flush writes buf at the end of s, fsyncs, and publishes it to readers.
func (p *partition) flush(s *segment, buf []byte, idx []indexEntry, newSize int64) error {
	if len(buf) == 0 {
		return nil
	}
	if _, err := s.file.Write(buf); err != nil {
		return fmt.Errorf("write %d bytes to segment %s: %w", len(buf), s.path, err)
	}
	t := time.Now()
	if err := s.file.Sync(); err != nil {
		return fmt.Errorf("fsync segment %s: %w", s.path, err)
	}
	p.log.metrics.fsyncSeconds.Observe(time.Since(t).Seconds())
	now := p.log.now().UnixNano()
	p.mu.Lock()
	s.size, s.durableSize, s.end = newSize, newSize, p.next
	s.index = append(s.index, idx...)
	if len(idx) > 0 {
		s.lastIndexed = idx[len(idx)-1].Pos
	}
	if s.firstAppend == 0 {
		s.firstAppend = now
	}
	s.lastAppend = now
	p.hw = p.next
	close(p.notify)
	p.notify = make(chan struct{})
	p.mu.Unlock()
	return nil
}

// roll seals the active segment and starts a new one at p.next.
func (p *partition) roll() error {
	old := p.active()
	if err := writeIndex(p.log.fs, old); err != nil {
		// The index is an accelerator: recovery rebuilds it. Keep going.
		p.log.logger.Warn("write segment index", "err", err)
	}
	seg, err := createSegment(p.log.fs, p.dir, p.next)
	if err != nil {
		return err
	}
	seg.closeErrHook = old.closeErrHook
	p.mu.Lock()
	old.sealed = true
	p.segments = append(p.segments, seg)
	p.mu.Unlock()
	return nil
}

// bounds returns the first available offset and the high watermark.
func (p *partition) bounds() (start, end int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.segments[0].base, p.hw
}

// bytes returns the partition's size on disk.
func (p *partition) bytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n int64
	for _, s := range p.segments {
		n += s.durableSize
	}
	return n
}

// lastAppend returns the append time of the newest durable frame.
func (p *partition) lastAppend() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.active().lastAppend
}

// waitFor blocks until the high watermark passes offset, ctx ends, or the
// log closes. It reports whether data is available.
func (p *partition) waitFor(ctx context.Context, offset int64) bool {
	for {
		p.mu.Lock()
		hw, ch := p.hw, p.notify
		p.mu.Unlock()
		if hw > offset {
			return true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		case <-p.stop:
			return false
		}
	}
}

// errSegmentGone tells read to look the segment up again.
var errSegmentGone = errors.New("segment deleted while reading")
