package commitlog

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// Append stores req.Records durably; see Log.
func (l *Embedded) Append(ctx context.Context, req AppendRequest) (AppendResult, error) {
	l.inflight.Add(1)
	defer l.inflight.Done()
	if l.closed.Load() {
		return AppendResult{}, ErrClosed
	}
	if err := l.failed(); err != nil {
		return AppendResult{}, err
	}
	if len(req.BatchID) > maxBatchIDLen {
		return AppendResult{}, fmt.Errorf("batch id is %d bytes, the limit is %d", len(req.BatchID), maxBatchIDLen)
	}
	b := l.lookup(req.Bucket)
	if b == nil {
		return AppendResult{}, errBucket(req.Bucket)
	}
	res := AppendResult{Partitions: map[int]OffsetRange{}}
	if len(req.Records) == 0 {
		return res, nil
	}
	if l.opts.DedupWindow < 0 {
		req.BatchID = "" // deduplication is off
	}
	if req.BatchID != "" {
		defer l.dedup.begin(req.Bucket, req.BatchID)()
	}
	now := l.now().UnixNano()
	type pending struct {
		part int
		op   *appendOp
	}
	var ops []pending
	dups := 0
	var scratch []byte
	for part, recs := range assign(req.Records, len(b.partitions)) {
		if len(recs) == 0 {
			continue
		}
		if req.BatchID != "" {
			if rng, ok := l.dedup.lookup(dedupKey{req.Bucket, req.BatchID, part}, now); ok {
				res.Partitions[part] = rng
				dups++
				continue
			}
		}
		var op *appendOp
		var err error
		if op, scratch, err = l.buildOp(recs, req.BatchID, now, scratch); err != nil {
			return AppendResult{}, err
		}
		ops = append(ops, pending{part, op})
	}
	res.Duplicate = len(ops) == 0
	var firstErr error
	for i, po := range ops {
		if err := b.partitions[po.part].enqueue(ctx, po.op); err != nil {
			firstErr = err
			ops = ops[:i]
			break
		}
	}
	for _, po := range ops {
		r := <-po.op.done
		if r.err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("append to %s/%d: %w", req.Bucket, po.part, r.err)
			}
			continue
		}
		rng := OffsetRange{First: r.first, Last: r.last}
		res.Partitions[po.part] = rng
		if req.BatchID != "" {
			l.dedup.add(dedupKey{req.Bucket, req.BatchID, po.part}, rng, now)
		}
		l.metrics.appended(req.Bucket, po.op.records, po.op.bytes)
	}
	if firstErr != nil {
		return AppendResult{}, firstErr
	}
	if len(ops) > 0 {
		b.lastWrite.Store(l.now().UnixNano())
	}
	return res, nil
}

// buildOp encodes one partition's records into frames of at most
// MaxBatchBytes of payload each; together they form one group. A group
// has at most 65535 frames (its parts field is 16 bits), so a huge append
// gets bigger frames; a frame whose payload readers would refuse (a
// record over maxPayloadLength) is an error, never stored.
func (l *Embedded) buildOp(recs []model.Record, batchID string, now int64, scratch []byte) (*appendOp, []byte, error) {
	limit := l.opts.MaxBatchBytes
	total := 0
	for i := range recs {
		total += recs[i].Size() + 16
	}
	// Greedy chunks: two neighbours always hold more than limit together.
	limit = max(limit, 2*total/(math.MaxUint16-1)+1)
	var chunks [][]model.Record
	start, size := 0, 0
	for i := range recs {
		sz := recs[i].Size() + 16
		if size > 0 && size+sz > limit {
			chunks = append(chunks, recs[start:i])
			start, size = i, 0
		}
		size += sz
	}
	chunks = append(chunks, recs[start:])
	op := &appendOp{records: int64(len(recs)), done: make(chan opResult, 1)}
	for i, c := range chunks {
		var fr []byte
		fr, scratch = encodeFrame(c, l.opts.Codec, batchID, i, len(chunks), now, scratch)
		if len(scratch) > maxPayloadLength {
			return nil, scratch, fmt.Errorf("records of %d bytes exceed the commit log's %d-byte batch limit", len(scratch), maxPayloadLength)
		}
		op.frames = append(op.frames, fr)
		op.bytes += int64(len(fr))
	}
	return op, scratch, nil
}

// Read returns records of a partition from offset on; see Log. An offset of
// -1 means the earliest available, -2 the latest (the high watermark).
func (l *Embedded) Read(ctx context.Context, bucket string, part int, offset int64, maxRecords int, wait time.Duration) (ReadResult, error) {
	b, p, err := l.partitionOf(bucket, part)
	if err != nil {
		return ReadResult{}, err
	}
	start, end := p.bounds()
	switch offset {
	case OffsetEarliest:
		offset = start
	case OffsetLatest:
		offset = end
	}
	if offset < 0 {
		return ReadResult{}, fmt.Errorf("%w: %d", ErrBadOffset, offset)
	}
	if offset >= end && wait > 0 {
		wctx, cancel := context.WithTimeout(ctx, wait)
		p.waitFor(wctx, offset)
		cancel()
	}
	out := ReadResult{Next: offset}
	next, err := p.read(offset, readLimits{maxRecords: maxRecords, maxBytes: 16 << 20}, func(off int64, r model.Record) bool {
		out.Records = append(out.Records, Stored{Offset: off, Partition: part, Record: r})
		return true
	})
	out.Next = next
	out.Start, out.End = p.bounds()
	if err != nil {
		return out, err
	}
	b.lastRead.Store(l.now().UnixNano())
	return out, nil
}

// Special offsets for Read.
const (
	OffsetEarliest int64 = -1
	OffsetLatest   int64 = -2
)

// Commit stores a consumer group's offset durably; see Log.
func (l *Embedded) Commit(_ context.Context, bucket, group string, part int, offset int64) error {
	if !ValidGroupName(group) {
		return fmt.Errorf("%w %q: use 1-128 characters of letters, digits, '.', '_' and '-'", ErrBadGroup, group)
	}
	b, p, err := l.partitionOf(bucket, part)
	if err != nil {
		return err
	}
	_, end := p.bounds()
	if offset < 0 || offset > end {
		return fmt.Errorf("%w: %d is outside 0..%d (the partition's end offset)", ErrBadOffset, offset, end)
	}
	if err := b.commitGroup(l.fs, group, part, offset, l.now().UnixNano()); err != nil {
		return err
	}
	b.lastRead.Store(l.now().UnixNano())
	return nil
}

// Committed returns a group's committed offsets; see Log.
func (l *Embedded) Committed(_ context.Context, bucket, group string) (map[int]int64, error) {
	b := l.lookup(bucket)
	if b == nil {
		return nil, errBucket(bucket)
	}
	offs, _ := b.committed(group)
	return offs, nil
}

// Bucket describes a bucket; see Log.
func (l *Embedded) Bucket(_ context.Context, name string) (BucketInfo, error) {
	b := l.lookup(name)
	if b == nil {
		return BucketInfo{}, errBucket(name)
	}
	info := BucketInfo{Name: name}
	ends := make([]int64, len(b.partitions))
	for i, p := range b.partitions {
		start, end := p.bounds()
		bytes := p.bytes()
		ends[i] = end
		info.Partitions = append(info.Partitions, PartitionInfo{Partition: i, Start: start, End: end, Bytes: bytes})
		info.Records += end - start
		info.Bytes += bytes
	}
	if t := b.lastWrite.Load(); t > 0 {
		info.LastWrite = time.Unix(0, t).UTC()
	}
	if t := b.lastRead.Load(); t > 0 {
		info.LastRead = time.Unix(0, t).UTC()
	}
	names := b.groupNames()
	sort.Strings(names)
	for _, g := range names {
		offs, _ := b.committed(g)
		gi := GroupInfo{Group: g, Offsets: offs}
		for i, end := range ends {
			gi.Lag += end - offs[i] // a partition never committed lags by all of it
		}
		info.Groups = append(info.Groups, gi)
	}
	return info, nil
}
