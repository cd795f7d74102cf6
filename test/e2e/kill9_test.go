package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// sentRecord is one record a writer put into a batch.
type sentRecord struct {
	W       int    `json:"w"`
	Seq     int    `json:"seq"`
	Service string `json:"service"`
	Host    string `json:"host"`
	Msg     string `json:"_msg"`
	Batch   string `json:"batch"`
}

func (r sentRecord) stream() string { return r.Service + "/" + r.Host }

type recKey struct{ w, seq int }

// killBatch is one request body with its batch id.
type killBatch struct {
	id      string
	writer  int
	recs    []sentRecord
	body    []byte
	gzip    bool
	tries   int
	acked   bool
	ackNote string // when and how the ack arrived, for failure messages
	res     *ingestResult
}

type killState struct {
	t      *testing.T
	bucket string
	runID  string

	mu      sync.Mutex
	batches []*killBatch // every batch ever sent, in creation order
	acks    int
	retried int
	// iterations that stopped with SIGTERM instead of SIGKILL
	graceful int
	// retried batches that turned out to be stored before the kill
	storedBeforeKill int
	resent           int
}

type killWriter struct {
	id      int
	rng     *rand.Rand
	nextSeq int
	nBatch  int
	pending *killBatch // sent but not acknowledged
}

// TestKill9Loop writes from 4 concurrent producers, kills the server with
// SIGKILL at a random moment, restarts it, retries every unacknowledged batch
// with the same batch id and finally checks the whole bucket: every
// acknowledged record exactly once, nothing else, gap-free offsets, per-stream
// order, and ack offsets that point at the right records.
func TestKill9Loop(t *testing.T) {
	iterations := 3
	if os.Getenv("LOGBUCKET_LONG") == "1" {
		iterations = 200
	}
	const nWriters = 4
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("LOGBUCKET_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("LOGBUCKET_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (set LOGBUCKET_SEED to repeat), %d iterations", seed, iterations)
	rng := rand.New(rand.NewPCG(seed, 1))

	st := &killState{t: t, bucket: "kill9", runID: strconv.FormatUint(seed%1e6, 36)}
	writers := make([]*killWriter, nWriters)
	for i := range writers {
		writers[i] = &killWriter{id: i, rng: rand.New(rand.NewPCG(seed, uint64(100+i)))}
	}

	s := startServer(t, t.TempDir())
	for it := 0; it < iterations; it++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st.write(ctx, s, w)
			}()
		}
		// The random kill moment is the point of this test; nothing to poll.
		time.Sleep(time.Duration(50+rng.IntN(351)) * time.Millisecond)
		if it%4 == 3 {
			// Every fourth iteration (only with LOGBUCKET_LONG=1) stops
			// gracefully under load instead: same promises.
			s.stop(t)
			st.graceful++
		} else {
			s.kill(t)
		}
		waitGroupOrFail(t, &wg, 90*time.Second, "writers did not stop after the server stopped")
		cancel()
		if t.Failed() {
			t.FailNow()
		}

		if it%3 == 2 {
			// Now and then also kill a process that may still be
			// recovering: right after it starts listening.
			s.startProcess(t)
			s.kill(t)
		}
		s.start(t)
		endsAtRestart := s.endOffsets(t, st.bucket)

		// Every batch that was in flight or failed must now be acknowledged
		// under the same batch id, before the writer sends anything newer.
		for _, w := range writers {
			if b := w.pending; b != nil {
				if !st.send(context.Background(), s, b, fmt.Sprintf("retry after kill %d", it+1)) {
					t.Fatalf("retry of batch %s (writer %d, %d records) after restart %d was not acknowledged", b.id, b.writer, len(b.recs), it+1)
				}
				w.pending = nil
				st.mu.Lock()
				st.retried++
				for ps, r := range b.res.Partitions {
					if p, err := strconv.Atoi(ps); err == nil && r.FirstOffset < endsAtRestart[p] {
						st.storedBeforeKill++ // the retry was answered from the batch-id table
						break
					}
				}
				st.mu.Unlock()
			}
		}
		// A batch acknowledged before the kill, sent again with its id, must
		// be acknowledged with the same offsets and not stored again.
		st.resendAcked(t, s, rng, 2)
		if t.Failed() {
			t.FailNow()
		}
	}

	st.verify(t, s)
}

func waitGroupOrFail(t *testing.T, wg *sync.WaitGroup, timeout time.Duration, msg string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("%s within %v", msg, timeout)
	}
}

// newBatch builds the writer's next batch: 1–50 records on 4×3 streams.
func (st *killState) newBatch(w *killWriter) *killBatch {
	w.nBatch++
	b := &killBatch{
		id:     fmt.Sprintf("k9-%s-w%d-b%d", st.runID, w.id, w.nBatch),
		writer: w.id,
		gzip:   w.rng.IntN(2) == 0,
	}
	n := 1 + w.rng.IntN(50)
	var buf bytes.Buffer
	for range n {
		r := sentRecord{
			W:       w.id,
			Seq:     w.nextSeq,
			Service: fmt.Sprintf("svc%d", w.rng.IntN(4)),
			Host:    fmt.Sprintf("h%d", w.rng.IntN(3)),
			Batch:   b.id,
		}
		r.Msg = fmt.Sprintf("writer %d seq %d %s", w.id, r.Seq, strings.Repeat("x", w.rng.IntN(200)))
		w.nextSeq++
		j, _ := json.Marshal(r)
		buf.Write(j)
		buf.WriteByte('\n')
		b.recs = append(b.recs, r)
	}
	b.body = buf.Bytes()
	st.mu.Lock()
	st.batches = append(st.batches, b)
	st.mu.Unlock()
	return b
}

// write sends batches until a request fails (the server was killed).
func (st *killState) write(ctx context.Context, s *server, w *killWriter) {
	for ctx.Err() == nil {
		b := st.newBatch(w)
		w.pending = b
		if !st.send(ctx, s, b, "first try") {
			return
		}
		w.pending = nil
	}
}

// send posts b until it is acknowledged (true) or a request fails at the
// transport level or with an unexpected status (false). 429/503 are retried
// after Retry-After.
func (st *killState) send(ctx context.Context, s *server, b *killBatch, note string) bool {
	t := st.t
	enc := ""
	if b.gzip {
		enc = "gzip"
	}
	req := ingestReq{bucket: st.bucket, streamFields: "service,host", batchID: b.id, encoding: enc, body: b.body}
	for attempt := 0; ; attempt++ {
		b.tries++
		resp, res, err := s.ingest(ctx, req)
		if err != nil || resp == nil {
			return false // connection refused/reset: the server is gone
		}
		switch {
		case res != nil:
			st.ack(b, res, note)
			return true
		case resp.status == http.StatusTooManyRequests || resp.status == http.StatusServiceUnavailable:
			if resp.header.Get("Retry-After") == "" {
				t.Errorf("batch %s: %d without Retry-After header", b.id, resp.status)
			}
			if attempt > 200 {
				t.Errorf("batch %s: still %d after %d attempts", b.id, resp.status, attempt)
				return false
			}
			select {
			case <-ctx.Done():
				return false
			case <-time.After(retryAfter(resp.header.Get("Retry-After"))):
			}
		default:
			t.Errorf("%s (%s): want 200, got %s", req.describe(), note, resp)
			return false
		}
	}
}

func retryAfter(v string) time.Duration {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, 500*time.Millisecond)
	}
	return 100 * time.Millisecond
}

// ack records a 200 for b and checks the response against the batch.
func (st *killState) ack(b *killBatch, res *ingestResult, note string) {
	t := st.t
	if res.Accepted != len(b.recs) || res.Rejected != 0 {
		t.Errorf("batch %s (%s): %d records sent, response accepted=%d rejected=%d errors=%v", b.id, note, len(b.recs), res.Accepted, res.Rejected, res.Errors)
	}
	var n int64
	for p, r := range res.Partitions {
		if r.LastOffset < r.FirstOffset || r.FirstOffset < 0 {
			t.Errorf("batch %s (%s): partition %s has first_offset %d > last_offset %d", b.id, note, p, r.FirstOffset, r.LastOffset)
		}
		n += r.LastOffset - r.FirstOffset + 1
	}
	if n != int64(len(b.recs)) {
		t.Errorf("batch %s (%s): %d records sent, partition ranges %v cover %d offsets", b.id, note, len(b.recs), res.Partitions, n)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	b.acked = true
	b.ackNote = fmt.Sprintf("%s, try %d", note, b.tries)
	b.res = res
	st.acks++
}

// resendAcked posts up to n acknowledged batches again with their batch id
// and requires the original offsets.
func (st *killState) resendAcked(t *testing.T, s *server, rng *rand.Rand, n int) {
	t.Helper()
	st.mu.Lock()
	var acked []*killBatch
	for _, b := range st.batches {
		if b.acked {
			acked = append(acked, b)
		}
	}
	st.mu.Unlock()
	for i := 0; i < n && len(acked) > 0; i++ {
		b := acked[rng.IntN(len(acked))]
		enc := ""
		if b.gzip {
			enc = "gzip"
		}
		req := ingestReq{bucket: st.bucket, streamFields: "service,host", batchID: b.id, encoding: enc, body: b.body}
		resp, res, err := s.ingest(context.Background(), req)
		if err != nil {
			t.Fatalf("re-sending acknowledged batch %s: %v", b.id, err)
		}
		if res == nil {
			t.Errorf("re-sending acknowledged batch %s (acked %s): want 200, got %s", b.id, b.ackNote, resp)
			continue
		}
		if !sameRanges(res.Partitions, b.res.Partitions) || res.Accepted != b.res.Accepted {
			t.Errorf("re-sending acknowledged batch %s after a restart: want the original answer accepted=%d partitions=%v, got accepted=%d partitions=%v",
				b.id, b.res.Accepted, b.res.Partitions, res.Accepted, res.Partitions)
		}
		st.mu.Lock()
		st.resent++
		st.mu.Unlock()
	}
}

func sameRanges(a, b map[string]offsetRange) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// foundRec is a compact form of a record read back.
type foundRec struct {
	p      int
	off    int64
	key    recKey
	ok     bool // w and seq parsed
	rec    sentRecord
	stream string // _stream as returned
}

func (f foundRec) String() string {
	return fmt.Sprintf("partition %d offset %d (w=%d seq=%d batch=%s stream=%s)", f.p, f.off, f.key.w, f.key.seq, f.rec.Batch, f.stream)
}

// verify reads the whole bucket and checks it against what was sent.
func (st *killState) verify(t *testing.T, s *server) {
	st.mu.Lock()
	defer st.mu.Unlock()

	sent := map[recKey]*killBatch{}
	sentRec := map[recKey]sentRecord{}
	total := 0
	for _, b := range st.batches {
		if !b.acked {
			t.Fatalf("internal: batch %s was never acknowledged", b.id)
		}
		for _, r := range b.recs {
			k := recKey{r.W, r.Seq}
			sent[k] = b
			sentRec[k] = r
			total++
		}
	}

	doc := s.bucket(t, st.bucket)
	if len(doc.Partitions) == 0 {
		t.Fatalf("bucket %s has no partitions: %+v", st.bucket, doc)
	}
	byPos := map[int]map[int64]foundRec{} // partition → offset → record
	found := map[recKey][]foundRec{}
	var stored int64
	report := newLimitedReporter(t, 20)
	for _, pd := range doc.Partitions {
		p := pd.Partition
		if pd.StartOffset != 0 {
			report.add("start", "partition %d: start_offset %d, want 0 (no retention configured)", p, pd.StartOffset)
		}
		byPos[p] = map[int64]foundRec{}
		want := pd.StartOffset
		s.readPartitionFunc(t, st.bucket, p, pd.StartOffset, pd.EndOffset, func(r record) {
			f := foundRec{p: p, off: r.offset(), stream: r.get("_stream")}
			if gp := r.int("_partition"); gp != int64(p) {
				report.add("partition", "record at partition %d offset %d has _partition %q: %s", p, f.off, r.get("_partition"), r)
			}
			if f.off != want {
				report.add("gap", "partition %d: want _offset %d next, got %d (offsets must be gap-free and ordered): %s", p, want, f.off, r)
			}
			want = f.off + 1
			w, seq := r.int("w"), r.int("seq")
			f.ok = w >= 0 && seq >= 0
			f.key = recKey{int(w), int(seq)}
			f.rec = sentRecord{W: int(w), Seq: int(seq), Service: r.get("service"), Host: r.get("host"), Msg: r.get("_msg"), Batch: r.get("batch")}
			if _, dup := byPos[p][f.off]; dup {
				report.add("dupoffset", "partition %d offset %d returned twice", p, f.off)
			}
			byPos[p][f.off] = f
			if f.ok {
				found[f.key] = append(found[f.key], f)
			} else {
				report.add("phantom", "phantom record without w/seq at partition %d offset %d: %s", p, f.off, r)
			}
			stored++
		})
		if n := int64(len(byPos[p])); n != pd.EndOffset-pd.StartOffset {
			report.add("count", "partition %d: start_offset %d end_offset %d but %d records read", p, pd.StartOffset, pd.EndOffset, n)
		}
	}

	// Phantoms, corruption and duplicates.
	for k, fs := range found {
		want, ok := sentRec[k]
		if !ok {
			report.add("phantom", "phantom record (never sent): %s", fs[0])
			continue
		}
		if len(fs) > 1 {
			var where []string
			for _, f := range fs {
				where = append(where, fmt.Sprintf("p%d@%d", f.p, f.off))
			}
			report.add("dup", "duplicate: w=%d seq=%d of batch %s (acked %s) stored %d times at %s", k.w, k.seq, want.Batch, sent[k].ackNote, len(fs), strings.Join(where, ","))
		}
		for _, f := range fs {
			if f.rec != want {
				report.add("corrupt", "record differs from what was sent: %s: got %+v, want %+v", f, f.rec, want)
			}
			if wantStream := fmt.Sprintf(`{host=%q,service=%q}`, want.Host, want.Service); f.stream != wantStream {
				report.add("stream", "record %s: _stream %q, want %q", f, f.stream, wantStream)
			}
		}
	}
	// Lost records.
	for _, b := range st.batches {
		for _, r := range b.recs {
			if len(found[recKey{r.W, r.Seq}]) == 0 {
				report.add("lost", "lost: w=%d seq=%d of batch %s (acknowledged %s, response %v)", r.W, r.Seq, b.id, b.ackNote, b.res.Partitions)
			}
		}
	}
	// One stream, one partition; per stream and writer, seq increases with
	// the offset.
	streamPart := map[string]int{}
	for p, m := range byPos {
		offs := make([]int64, 0, len(m))
		for off := range m {
			offs = append(offs, off)
		}
		sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
		lastSeq := map[string]foundRec{}
		for _, off := range offs {
			f := m[off]
			if !f.ok {
				continue
			}
			sk := f.rec.stream()
			if q, seen := streamPart[sk]; seen && q != p {
				report.add("streampart", "stream service=%s host=%s is in partitions %d and %d (record %s)", f.rec.Service, f.rec.Host, q, p, f)
			}
			streamPart[sk] = p
			k := sk + "/" + strconv.Itoa(f.key.w)
			if prev, seen := lastSeq[k]; seen && prev.key.seq >= f.key.seq {
				report.add("order", "stream %s writer %d out of order: seq %d at %s comes after seq %d at offset %d", sk, f.key.w, f.key.seq, f, prev.key.seq, prev.off)
			}
			lastSeq[k] = f
		}
	}
	// Every acknowledgement's offsets hold exactly that batch's records.
	for _, b := range st.batches {
		perPart := map[int]int{}
		for _, r := range b.recs {
			for _, f := range found[recKey{r.W, r.Seq}] {
				perPart[f.p]++
			}
		}
		for ps, rng := range b.res.Partitions {
			p, err := strconv.Atoi(ps)
			if err != nil {
				report.add("ackrange", "batch %s: partition key %q is not a number", b.id, ps)
				continue
			}
			for off := rng.FirstOffset; off <= rng.LastOffset; off++ {
				f, ok := byPos[p][off]
				if !ok {
					report.add("ackrange", "batch %s (acked %s) says partition %d offsets %d..%d, but offset %d holds no record", b.id, b.ackNote, p, rng.FirstOffset, rng.LastOffset, off)
					break
				}
				if f.rec.Batch != b.id {
					report.add("ackrange", "batch %s (acked %s) says partition %d offsets %d..%d, but offset %d holds %s", b.id, b.ackNote, p, rng.FirstOffset, rng.LastOffset, off, f)
					break
				}
			}
			if n := int(rng.LastOffset - rng.FirstOffset + 1); perPart[p] != n {
				report.add("ackrange", "batch %s (acked %s): response range %d..%d on partition %d (%d offsets) but %d of its records are in that partition", b.id, b.ackNote, rng.FirstOffset, rng.LastOffset, p, n, perPart[p])
			}
			delete(perPart, p)
		}
		for p, n := range perPart {
			report.add("ackrange", "batch %s (acked %s): %d records in partition %d, which the response %v does not name", b.id, b.ackNote, n, p, b.res.Partitions)
		}
	}
	if doc.Records != 0 && doc.Records != stored {
		report.add("records", "bucket document says records=%d, read %d", doc.Records, stored)
	}
	report.flush()
	t.Logf("%d batches (%d retried after a kill, of which %d had been stored before it; %d acknowledged batches re-sent; %d graceful stops), %d records sent, %d stored in %d partitions",
		len(st.batches), st.retried, st.storedBeforeKill, st.resent, st.graceful, total, stored, len(doc.Partitions))
	if int64(total) != stored {
		t.Errorf("sent and acknowledged %d records, bucket holds %d", total, stored)
	}
}

// limitedReporter reports the first few problems of each kind and counts the
// rest.
type limitedReporter struct {
	t      *testing.T
	max    int
	counts map[string]int
	order  []string
}

func newLimitedReporter(t *testing.T, max int) *limitedReporter {
	return &limitedReporter{t: t, max: max, counts: map[string]int{}}
}

func (r *limitedReporter) add(kind, format string, args ...any) {
	r.t.Helper()
	if r.counts[kind] == 0 {
		r.order = append(r.order, kind)
	}
	r.counts[kind]++
	if r.counts[kind] <= r.max {
		r.t.Errorf(format, args...)
	}
}

func (r *limitedReporter) flush() {
	r.t.Helper()
	for _, k := range r.order {
		if n := r.counts[k]; n > r.max {
			r.t.Errorf("... %d problems of kind %q in total", n, k)
		}
	}
}
