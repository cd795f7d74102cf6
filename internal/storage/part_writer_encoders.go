package storage

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/logbucket/logbucket/internal/model"
)

// encoders encode a part's blocks on up to GOMAXPROCS goroutines while
// the part writer appends the results in submission order. At most
// 2×workers blocks are in flight, so memory stays bounded by a few
// blocks per core. The zero value starts its workers on first use.
type encoders struct {
	jobs    chan *encodeJob
	pending []*encodeJob // submitted, in order
	free    []*blockBuilder
	wg      sync.WaitGroup
	started bool
}

// encodeJob is one block: the builder (owned by the job until written)
// and, once done is closed, its encoding; or a block copied from another
// part (b nil, copied its entry there).
type encodeJob struct {
	b      *blockBuilder
	copied *BlockMeta
	stream int
	fields []model.Field // the stream's fields, for the filter
	done   chan struct{}
	data   []byte
	hdrLen int
	filter []byte
	names  []string
}

func (pw *partWriter) startEncoders() {
	w := max(runtime.GOMAXPROCS(0), 1)
	pw.jobs = make(chan *encodeJob, 2*w)
	pw.started = true
	for range w {
		pw.wg.Add(1)
		go func() {
			defer pw.wg.Done()
			enc := newBlockEncoder(&pw.opts)
			for j := range pw.jobs {
				data, hdrLen, filter, names := enc.encode(j.b, j.fields)
				// The encoder reuses its buffers: keep copies.
				j.data = append([]byte(nil), data...)
				j.filter = append([]byte(nil), filter...)
				j.hdrLen, j.names = hdrLen, names
				close(j.done)
			}
		}()
	}
}

// stopEncoders ends the workers (after the jobs submitted so far).
func (pw *partWriter) stopEncoders() {
	if pw.started {
		close(pw.jobs)
		pw.wg.Wait()
		pw.started = false
	}
}

// writeBlock hands b (rows sorted by the caller) to an encoder and
// returns an empty builder to go on with: b belongs to the writer now.
// Finished blocks are written in order; an error is a write error of an
// earlier block.
func (pw *partWriter) writeBlock(b *blockBuilder, stream int) (*blockBuilder, error) {
	if b.rows() == 0 {
		return b, nil
	}
	if !pw.started {
		pw.startEncoders()
	}
	// Keep at most cap(jobs) blocks in flight.
	if err := pw.drain(cap(pw.jobs) - 1); err != nil {
		return b, err
	}
	j := &encodeJob{b: b, stream: stream, fields: pw.ix.streams[stream].Fields, done: make(chan struct{})}
	pw.pending = append(pw.pending, j)
	pw.jobs <- j
	if err := pw.writeDone(); err != nil {
		return nil, err
	}
	if n := len(pw.free); n > 0 {
		nb := pw.free[n-1]
		pw.free = pw.free[:n-1]
		return nb, nil
	}
	return newBlockBuilder(), nil
}

// drain writes pending blocks, waiting for them, until at most keep are
// left.
func (pw *partWriter) drain(keep int) error {
	for len(pw.pending) > keep {
		j := pw.pending[0]
		<-j.done
		if err := pw.writeHead(); err != nil {
			return err
		}
	}
	return nil
}

// writeDone writes the pending blocks that are already encoded, in order.
func (pw *partWriter) writeDone() error {
	for len(pw.pending) > 0 {
		select {
		case <-pw.pending[0].done:
		default:
			return nil
		}
		if err := pw.writeHead(); err != nil {
			return err
		}
	}
	return nil
}

// writeHead writes the oldest pending block and recycles its builder.
func (pw *partWriter) writeHead() error {
	j := pw.pending[0]
	pw.pending[0] = nil
	pw.pending = pw.pending[1:]
	err := pw.writeEncoded(j)
	if j.b != nil {
		j.b.reset()
		pw.free = append(pw.free, j.b)
	}
	return err
}

// copyBlock queues block i of part p, unchanged, as the next block of
// stream: its bytes and filter are read and checked against their
// checksums (damage is reported, never copied).
func (pw *partWriter) copyBlock(p *Part, i, stream int) error {
	e := &p.blocks[i]
	section := fmt.Sprintf("block %d", i)
	data, err := p.readAt(section, e.off, e.dataLen)
	if err != nil {
		return fmt.Errorf("copy block %d of %s: %w", i, p.path, err)
	}
	cols, err := parseBlockHeader(data[:e.hdrLen], e.off+int64(e.hdrLen), e.dataLen-e.hdrLen, true)
	if err != nil {
		return p.corrupt(section, e.off, err)
	}
	for k := range cols {
		c := &cols[k]
		from := c.start - e.off
		if crc(data[from:from+int64(c.len)]) != c.crc {
			return p.corrupt(fmt.Sprintf("%s column %s", section, colName(c)), c.start, dataErrorf("crc mismatch"))
		}
	}
	filter, err := p.readAt(fmt.Sprintf("filter %d", i), p.filtersOff+e.filterOff, e.filterLen)
	if err != nil {
		return fmt.Errorf("copy filter %d of %s: %w", i, p.path, err)
	}
	if crc(filter) != e.filterCRC {
		return p.corrupt(fmt.Sprintf("filter %d", i), p.filtersOff+e.filterOff, dataErrorf("crc mismatch"))
	}
	// Keep at most cap(jobs) blocks in flight, as writeBlock does.
	if pw.started {
		if err := pw.drain(cap(pw.jobs) - 1); err != nil {
			return err
		}
	}
	j := &encodeJob{copied: &e.BlockMeta, stream: stream, data: data, hdrLen: e.hdrLen, filter: filter,
		names: e.Fields, done: make(chan struct{})}
	close(j.done)
	pw.pending = append(pw.pending, j)
	return pw.writeDone()
}
