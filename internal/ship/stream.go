package ship

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logbucket/logbucket/internal/client"
)

const (
	readBufSize = 64 << 10 // bytes read from a file at a time
	budgetChunk = 64 << 10 // the in-flight budget is taken in these steps
)

// result is why a stream ended.
type result int

const (
	resShutdown  result = iota // the shipper stops
	resReleased                // renamed away or deleted: read to its end and closed
	resIdle                    // still matched but idle for close_inactive: closed until it grows
	resTruncated               // truncated or rewritten: this generation of the file ends
	resError                   // reading failed
)

func (r result) String() string {
	return [...]string{"shutdown", "released", "idle", "truncated", "error"}[r]
}

// batch is one byte range [start, end) of a stream as NDJSON records.
type batch struct {
	start, end int64
	body       []byte // NDJSON while being built
	payload    []byte // the compressed body, once cut
	records    int
	first      time.Time // when the first record was added
	reserved   int64     // bytes taken from the budget
	id         string
}

// stream follows one generation of one file: a reader goroutine turns its
// bytes into batches, a sender goroutine sends them in order and advances
// the checkpoint. The manager starts it and learns of its end through
// Shipper.events.
type stream struct {
	sh  *Shipper
	in  *input
	t   *tracked
	f   *os.File
	fid fileID
	enc *recordEncoder

	matched atomic.Bool  // a glob matches the file (set by the manager)
	size    atomic.Int64 // the file's size when last looked at
	ackedAt atomic.Int64 // copy of acked for Stats

	q chan *batch // batches cut by the reader, in order; closed by the reader

	mu          sync.Mutex // protects e, acked, cutEnds and durableUpTo
	e           entry      // the durable state; FP by the reader, the rest by the sender
	acked       int64      // everything before was acknowledged
	cutEnds     []int64    // ends of the batches cut and not yet acknowledged
	durableUpTo int64      // batches ending at or before this are in a durable checkpoint

	// Reader state: the reader goroutine's alone.
	pos      int64 // next byte to read
	spl      splitter
	j        *joiner
	cur      *batch
	replay   []int64 // ends of batches to cut exactly as before a restart
	lastGrow time.Time
	nlines   int
	cLines   prometheus.Counter
	cBytes   prometheus.Counter
}

func newStream(sh *Shipper, in *input, t *tracked, f *os.File, st fileStat, matched bool) *stream {
	e := t.e
	s := &stream{sh: sh, in: in, t: t, f: f, fid: st.id, enc: newRecordEncoder(&in.cfg, e.Name),
		q: make(chan *batch, 2), e: e, acked: e.Offset, cutEnds: slices.Clone(e.Pending), durableUpTo: e.need(),
		pos: e.Offset, replay: slices.Clone(e.Pending),
		cLines: sh.m.lines.WithLabelValues(in.cfg.Name), cBytes: sh.m.readBytes.WithLabelValues(in.cfg.Name)}
	cut := sh.m.linesCut.WithLabelValues(in.cfg.Name)
	s.spl = splitter{max: in.cfg.MaxLineBytes, onCut: cut.Inc}
	s.j = newJoiner(in.cfg.Multiline, s.emit)
	s.j.reset(s.pos)
	s.cur = &batch{start: s.pos}
	s.matched.Store(matched)
	s.size.Store(st.size)
	s.ackedAt.Store(e.Offset)
	return s
}

// run reads until the stream ends, lets the sender finish and reports.
func (s *stream) run(ctx, sendCtx context.Context) {
	defer s.sh.wg.Done()
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		s.sendLoop(sendCtx)
	}()
	res, err := s.readLoop(ctx)
	if res == resTruncated {
		s.sh.m.truncations.WithLabelValues(s.in.cfg.Name).Inc()
		s.sh.events <- event{s: s, kind: evTruncated}
	}
	s.sh.budget.give(s.cur.reserved)
	s.cur = nil
	close(s.q)
	<-senderDone
	if res == resIdle {
		// Trailing blank lines are in no batch: count them as done, or the
		// file would look grown and be opened again at once.
		s.mu.Lock()
		skip := len(s.cutEnds) == 0 && s.j.safe > s.acked
		if skip {
			s.acked = s.j.safe
		}
		s.mu.Unlock()
		if skip {
			_ = s.persist(sendCtx) // only fails when stopping
		}
	}
	if cerr := s.f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	s.sh.events <- event{s: s, kind: evDone, res: res, err: err}
}

// snapshot returns the stream's durable state and whether every batch cut
// was acknowledged.
func (s *stream) snapshot() (entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.e
	e.Offset, e.Pending = s.acked, slices.Clone(s.cutEnds)
	return e, len(s.cutEnds) == 0
}

// ---------------------------------------------------------------------------
// Reader

func (s *stream) readLoop(ctx context.Context) (result, error) {
	buf := make([]byte, readBufSize)
	s.lastGrow = time.Now()
	for {
		if ctx.Err() != nil {
			return resShutdown, nil
		}
		want := int64(len(buf))
		if len(s.replay) > 0 {
			want = min(want, s.replay[0]-s.pos)
		}
		n, err := s.f.ReadAt(buf[:max(want, 0)], s.pos)
		if err != nil && err != io.EOF {
			return resError, fmt.Errorf("read %s at offset %d: %w", s.e.Path, s.pos, err)
		}
		if n > 0 || want <= 0 {
			if int64(n) < want { // at the end: are these still the bytes of our file?
				if same, err := s.checkSame(); err != nil || !same {
					return s.truncatedOr(err)
				}
			}
			s.consume(buf[:n])
			if err := s.afterRead(ctx); err != nil {
				return resShutdown, nil
			}
			continue
		}
		if res, done, err := s.atEnd(ctx); done {
			return res, err
		}
	}
}

func (s *stream) truncatedOr(err error) (result, error) {
	if err != nil {
		return resError, err
	}
	return resTruncated, nil
}

// consume turns freshly read bytes into records.
func (s *stream) consume(data []byte) {
	if len(data) == 0 {
		return
	}
	s.spl.feed(data, s.pos, s.addLine)
	s.pos += int64(len(data))
	s.lastGrow = time.Now()
	s.cBytes.Add(float64(len(data)))
	s.cLines.Add(float64(s.nlines))
	s.sh.linesRead.Add(int64(s.nlines))
	s.nlines = 0
	if s.e.FPLen < fpMax && s.pos > int64(s.e.FPLen) {
		s.growFP()
	}
}

func (s *stream) addLine(line []byte, start, end int64) {
	s.nlines++
	s.j.add(line, start, end)
}

// emit adds one record to the batch being built.
func (s *stream) emit(text []byte, isJSON bool) {
	b := s.cur
	if b.records == 0 {
		b.first = time.Now()
	}
	b.body = s.enc.appendRecord(b.body, text, isJSON)
	b.records++
	if over := int64(len(b.body)) - b.reserved; over > 0 {
		n := (over + budgetChunk - 1) / budgetChunk * budgetChunk
		s.sh.budget.take(n)
		b.reserved += n
	}
}

// afterRead cuts a batch when it is full, old, or (after a restart) ends
// where a batch ended before; and waits while the budget is spent.
func (s *stream) afterRead(ctx context.Context) error {
	if len(s.replay) > 0 {
		if s.pos < s.replay[0] {
			return nil // a re-sent batch is cut only where it was cut before
		}
		s.spl.flush(s.pos, s.addLine)
		s.j.flush()
		s.replay = s.replay[1:]
		return s.cut(ctx, true)
	}
	b := s.cur
	if b.records >= s.sh.opts.BatchLines || len(b.body) >= s.sh.opts.BatchBytes ||
		b.records > 0 && time.Since(b.first) >= s.sh.opts.BatchWait {
		if err := s.cut(ctx, false); err != nil {
			return err
		}
	}
	if s.sh.budget.over() {
		if err := s.cut(ctx, false); err != nil {
			return err
		}
		return s.sh.budget.waitUnder(ctx)
	}
	return nil
}

// atEnd handles the end of the file: truncation, flush timeouts, rotation
// and idleness. done reports that the stream ends with res.
func (s *stream) atEnd(ctx context.Context) (res result, done bool, err error) {
	st, err := statOpen(s.f)
	if err != nil {
		return resError, true, err
	}
	s.size.Store(st.size)
	if st.size < s.pos || len(s.replay) > 0 {
		return resTruncated, true, nil // shorter than what we read, or than a batch to re-send
	}
	if same, err := s.checkSame(); err != nil || !same {
		r, err := s.truncatedOr(err)
		return r, true, err
	}
	o := &s.sh.opts
	now := time.Now()
	idle := now.Sub(s.lastGrow)
	if s.j.pending() && idle >= s.in.cfg.Multiline.Timeout {
		s.j.flush()
	}
	gone := st.nlink == 0 || !s.matched.Load()
	if gone && idle >= o.RotateWait {
		// Renamed away or deleted, and done growing: the last line may
		// lack its "\n"; send it too, then close.
		s.spl.flush(s.pos, s.addLine)
		s.j.flush()
		if err := s.cut(ctx, false); err != nil {
			return resShutdown, true, nil
		}
		return resReleased, true, nil
	}
	if s.cur.records > 0 && now.Sub(s.cur.first) >= o.BatchWait {
		if err := s.cut(ctx, false); err != nil {
			return resShutdown, true, nil
		}
	}
	if !gone && idle >= o.CloseInactive && s.cur.records == 0 && !s.j.pending() && !s.spl.pending() {
		return resIdle, true, nil
	}
	t := time.NewTimer(o.ReadInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return resShutdown, true, nil
	case <-t.C:
	}
	return 0, false, nil
}

// checkSame reports whether the file still starts with the bytes it
// started with when we read them (a truncated and rewritten file does not).
func (s *stream) checkSame() (bool, error) {
	s.mu.Lock()
	n, fp := s.e.FPLen, s.e.FP
	s.mu.Unlock()
	if n == 0 {
		return true, nil
	}
	return matchesFP(s.f, n, fp)
}

// growFP extends the fingerprint over the bytes read so far (up to fpMax).
func (s *stream) growFP() {
	n := int(min(s.pos, fpMax))
	fp, ok, err := fingerprint(s.f, n)
	if err != nil || !ok {
		return
	}
	s.mu.Lock()
	s.e.FPLen, s.e.FP = n, fp
	s.mu.Unlock()
}

// cut ends the batch being built at the joiner's safe offset and queues
// it. A batch without records is not cut (its range joins the next one)
// unless it re-creates a batch of before a restart.
func (s *stream) cut(ctx context.Context, replayed bool) error {
	b := s.cur
	if b.records == 0 && !replayed {
		return nil
	}
	b.end = s.j.safe
	b.id = batchID(s.e.ID, b.start, b.end)
	b.payload = s.sh.comp.compress(b.body)
	b.body = nil
	if !replayed {
		s.mu.Lock()
		s.cutEnds = append(s.cutEnds, b.end)
		s.mu.Unlock()
	}
	s.cur = &batch{start: b.end}
	select {
	case s.q <- b:
		return nil
	case <-ctx.Done():
		s.sh.budget.give(b.reserved)
		return ctx.Err()
	}
}

// ---------------------------------------------------------------------------
// Sender

// sendLoop sends the batches in order; after ctx ends it only gives their
// budget back.
func (s *stream) sendLoop(ctx context.Context) {
	for b := range s.q {
		if ctx.Err() == nil {
			if err := s.deliver(ctx, b); err == nil {
				continue
			}
		}
		s.sh.budget.give(b.reserved)
	}
}

// deliver makes b's range durable as pending, sends it, and advances the
// checkpoint past it.
func (s *stream) deliver(ctx context.Context, b *batch) error {
	s.mu.Lock()
	durable := b.end <= s.durableUpTo
	s.mu.Unlock()
	if !durable {
		if err := s.persist(ctx); err != nil {
			return err
		}
	}
	if b.records > 0 {
		if err := s.send(ctx, b); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.acked = b.end
	for len(s.cutEnds) > 0 && s.cutEnds[0] <= b.end {
		s.cutEnds = s.cutEnds[1:]
	}
	s.mu.Unlock()
	s.ackedAt.Store(b.end)
	s.sh.budget.give(b.reserved)
	b.reserved = 0
	// Right after the acknowledgement, so that only a crash in between
	// makes a re-send (which the server's batch-id memory absorbs).
	return s.persist(ctx)
}

// persist writes the stream's state (acknowledged offset and the ends of
// the batches cut since) and waits until it is on disk.
func (s *stream) persist(ctx context.Context) error {
	s.mu.Lock()
	s.e.Offset = s.acked
	s.e.Pending = slices.Clone(s.cutEnds)
	e := s.e
	upTo := s.acked
	if n := len(s.cutEnds); n > 0 {
		upTo = s.cutEnds[n-1]
	}
	s.mu.Unlock()
	if err := s.sh.store.wait(ctx, s.sh.store.put(e)); err != nil {
		return err
	}
	s.mu.Lock()
	s.durableUpTo = max(s.durableUpTo, upTo)
	s.mu.Unlock()
	return nil
}

// send posts b until the server acknowledges it. Transient failures are
// retried by the client; an answer that retrying cannot fix (a 4xx) is
// logged and tried again every max_backoff, never dropped.
func (s *stream) send(ctx context.Context, b *batch) error {
	cfg := &s.in.cfg
	opts := client.IngestOptions{Bucket: cfg.Bucket, StreamFields: cfg.StreamFields, TimeField: cfg.TimeField,
		MsgField: cfg.MsgField, Encoding: s.sh.comp.encoding, BatchID: b.id}
	for {
		res, err := s.sh.client.Ingest(ctx, b.payload, opts)
		if err == nil {
			s.acknowledged(b, res)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.sh.setLastError(err)
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && !apiErr.Retryable() {
			s.sh.m.sendErrors.Inc()
			s.sh.log.Error("server refused a batch; retrying until the cause is fixed", "input", cfg.Name,
				"file", s.e.Name, "batch", b.id, "err", err, "retry_in", s.sh.opts.MaxBackoff)
		} else {
			s.sh.log.Warn("send batch; retrying", "input", cfg.Name, "file", s.e.Name, "batch", b.id, "err", err)
		}
		t := time.NewTimer(s.sh.opts.MaxBackoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *stream) acknowledged(b *batch, res *client.IngestResult) {
	name := s.in.cfg.Name
	result := "stored"
	if res.Duplicate {
		result = "duplicate"
	}
	s.sh.m.batches.WithLabelValues(name, result).Inc()
	s.sh.m.records.WithLabelValues(name).Add(float64(res.Accepted))
	s.sh.recordsSent.Add(int64(res.Accepted))
	if res.Rejected > 0 {
		s.sh.m.rejected.WithLabelValues(name).Add(float64(res.Rejected))
		reason := ""
		if len(res.Errors) > 0 {
			reason = res.Errors[0].Reason
		}
		s.sh.log.Warn("server rejected records", "input", name, "file", s.e.Name, "batch", b.id,
			"rejected", res.Rejected, "first_reason", reason)
	}
}
