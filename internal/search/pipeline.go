package search

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/indexer"
	"github.com/logbucket/logbucket/internal/query"
	"github.com/logbucket/logbucket/internal/storage"
)

// blockTask is one candidate block of a snapshot: a worker checks it
// against the plan, reads it and evaluates it (blockWork); the consumer
// takes tasks back in snapshot order.
type blockTask struct {
	part *storage.Part
	idx  int
	// pend, when set, makes the task a chunk of records not indexed yet,
	// read from the commit log instead of a block.
	pend *indexer.PendingRange
	done chan struct{}
	seq  int64 // the block's number in the query's order (countSource)
	// Results, written by the worker before done is closed.
	rows []query.Row // matching rows (row mode, or count mode's fallback)
	err  error
}

// blockWork evaluates one task on a worker. It must be safe for
// concurrent use.
type blockWork func(ctx context.Context, t *blockTask)

// blockPipeline evaluates the blocks of one snapshot on up to workers
// goroutines while the consumer takes the results in order. At most
// 2×workers tasks are in flight, so memory stays bounded by a few blocks
// per worker. Close stops and waits for the workers; it must be called.
type blockPipeline struct {
	ctx     context.Context
	cancel  context.CancelFunc
	work    blockWork
	tasks   chan *blockTask
	wg      sync.WaitGroup
	pending []*blockTask // in flight, in snapshot order

	// The generator walks the snapshot's parts and blocks in order,
	// skipping the blocks the plan rules out (prune) without a task.
	snap    *indexer.Snapshot
	plan    *plan
	filters *storage.FilterCache
	pi      int    // next part
	bl      int    // next block of that part
	ri      int    // next pending range, once the parts are done
	ro      int64  // next offset in it, -1 before its start
	seq     *int64 // the query's block counter
	// The current part's streams that the plan's stream filters accept
	// (nil: every stream), and its bloom filters once needed.
	streamOK    []bool
	partFilters []*storage.Filter
}

// pendingChunk is how many records of the commit log one task reads for
// the part of a snapshot the indexer has not read yet.
const pendingChunk = 4096

// pipelineWorkers is the number of goroutines one query reads blocks
// with: every core.
func pipelineWorkers() int { return max(runtime.GOMAXPROCS(0), 1) }

func newBlockPipeline(ctx context.Context, snap *indexer.Snapshot, p *plan, filters *storage.FilterCache, work blockWork, seq *int64) *blockPipeline {
	ctx, cancel := context.WithCancel(ctx)
	w := pipelineWorkers()
	bp := &blockPipeline{ctx: ctx, cancel: cancel, work: work, tasks: make(chan *blockTask, 2*w), snap: snap, plan: p,
		filters: filters, seq: seq, ro: -1}
	for range w {
		bp.wg.Add(1)
		go bp.worker()
	}
	return bp
}

func (bp *blockPipeline) worker() {
	defer bp.wg.Done()
	for t := range bp.tasks {
		switch {
		case t.err != nil: // failed in prune
		case bp.ctx.Err() != nil:
			t.err = bp.ctx.Err()
		default:
			bp.work(bp.ctx, t)
		}
		close(t.done)
	}
}

// close cancels the tasks in flight and waits for the workers.
func (bp *blockPipeline) close() {
	bp.cancel()
	close(bp.tasks)
	bp.wg.Wait()
}

// nextTask returns the next candidate block of the snapshot in order, nil
// after the last. Parts outside the query's time range are skipped whole,
// blocks the plan rules out one by one (a task costs more than checking
// a block's metadata and bloom filter).
func (bp *blockPipeline) nextTask() *blockTask {
	for bp.pi < len(bp.snap.Parts) {
		sp := bp.snap.Parts[bp.pi]
		part := sp.Part.(*storage.Part)
		if bp.bl == 0 {
			if !bp.plan.timeOverlaps(sp.MinTime, sp.MaxTime) {
				bp.pi++
				continue
			}
			bp.enterPart(part)
		}
		if bp.bl >= len(part.Blocks()) {
			bp.pi, bp.bl = bp.pi+1, 0
			continue
		}
		i := bp.bl
		bp.bl++
		ok, err := bp.prune(part, i)
		if err == nil && !ok {
			continue
		}
		*bp.seq++
		return &blockTask{part: part, idx: i, seq: *bp.seq, done: make(chan struct{}), err: err}
	}
	// Then the records the indexer has not read yet, in chunks.
	for bp.ri < len(bp.snap.Pending) {
		pr := bp.snap.Pending[bp.ri]
		if bp.ro < pr.From {
			bp.ro = pr.From
		}
		if bp.ro >= pr.To {
			bp.ri, bp.ro = bp.ri+1, -1
			continue
		}
		chunk := &indexer.PendingRange{Partition: pr.Partition, From: bp.ro, To: min(pr.To, bp.ro+pendingChunk)}
		bp.ro = chunk.To
		*bp.seq++
		return &blockTask{pend: chunk, seq: *bp.seq, done: make(chan struct{})}
	}
	return nil
}

// readPending returns the records of a pending chunk that may match the
// plan's time range, as stored rows, reading the commit log.
func readPending(ctx context.Context, log commitlog.Log, bucket string, pr *indexer.PendingRange, p *plan) ([]storage.Row, error) {
	var out []storage.Row
	for off := pr.From; off < pr.To; {
		res, err := log.Read(ctx, bucket, pr.Partition, off, int(pr.To-off), 0)
		if err != nil {
			return nil, fmt.Errorf("read records not indexed yet of bucket %s partition %d at %d: %w", bucket, pr.Partition, off, err)
		}
		if res.Next <= off {
			return nil, fmt.Errorf("read records not indexed yet of bucket %s partition %d: no progress at offset %d", bucket, pr.Partition, off)
		}
		for i := range res.Records {
			st := &res.Records[i]
			if st.Offset < pr.To && p.timeOverlaps(st.Record.Time, st.Record.Time) {
				out = append(out, storage.Row{Partition: pr.Partition, Offset: st.Offset, Record: st.Record})
			}
		}
		off = res.Next
	}
	return out, nil
}

// next returns the next evaluated task in snapshot order, nil when every
// block is done.
func (bp *blockPipeline) next() (*blockTask, error) {
	for len(bp.pending) < cap(bp.tasks) {
		t := bp.nextTask()
		if t == nil {
			break
		}
		bp.pending = append(bp.pending, t)
		bp.tasks <- t // never blocks: at most cap(tasks) are pending
	}
	if len(bp.pending) == 0 {
		return nil, nil
	}
	t := bp.pending[0]
	select {
	case <-t.done:
	case <-bp.ctx.Done():
		return nil, bp.ctx.Err()
	}
	bp.pending[0] = nil
	bp.pending = bp.pending[1:]
	return t, t.err
}

// enterPart prepares the checks of a part's blocks: which of its streams
// the plan's stream filters accept (once per stream, not per block).
func (bp *blockPipeline) enterPart(part *storage.Part) {
	bp.partFilters, bp.streamOK = nil, nil
	if len(bp.plan.streams) == 0 {
		return
	}
	streams := part.Streams()
	bp.streamOK = make([]bool, len(streams))
	for i := range streams {
		bp.streamOK[i] = bp.plan.streamMatches(streams[i].String)
	}
}

// prune reports whether block i of part may hold matching rows: its
// time range, stream and, when the query needs tokens, bloom filter.
func (bp *blockPipeline) prune(part *storage.Part, i int) (bool, error) {
	m := &part.Blocks()[i]
	if bp.streamOK != nil && !bp.streamOK[m.Stream] {
		return false, nil
	}
	ok, err := bp.plan.blockMayMatch(m, func() (*storage.Filter, error) {
		if bp.partFilters == nil {
			fs, err := bp.filters.Filters(part)
			if err != nil {
				return nil, err
			}
			bp.partFilters = fs
		}
		return bp.partFilters[i], nil
	})
	if err != nil {
		return false, fmt.Errorf("read filter of block %d of %s: %w", i, part.Path(), err)
	}
	return ok, nil
}

// readCandidate reads a task's block (one prune let through) with
// columns.
func readCandidate(t *blockTask, columns []string) (*storage.Block, error) {
	blk, err := t.part.ReadBlock(t.idx, columns)
	if err != nil {
		return nil, fmt.Errorf("read block %d of %s: %w", t.idx, t.part.Path(), err)
	}
	return blk, nil
}
