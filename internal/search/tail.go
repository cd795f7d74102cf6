package search

import (
	"context"
	"errors"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/query"
)

// Tail sends the rows of req that arrive after the call (and, when from is
// before now, the stored rows with _time at or after from first), checking
// for new records every refresh, until ctx ends. It follows the commit log
// directly, so a record shows up as soon as it is durable. The query's
// pipes run on each batch of new rows, so only row-by-row pipes make sense
// (the server refuses stats, sort, limit and the like).
func (e *Engine) Tail(ctx context.Context, req Request, from int64, refresh time.Duration, out func(query.Row) error, flush func()) error {
	buckets := req.Buckets
	if len(buckets) == 0 {
		buckets = e.log.Buckets()
	}
	next := map[string]map[int]int64{}
	for _, b := range buckets {
		next[b] = e.endOffsets(ctx, b)
	}
	if from < time.Now().UnixNano() {
		hist := req
		hist.Start = max(req.Start, from)
		if err := e.Search(ctx, hist, out); err != nil {
			return err
		}
		flush()
	}
	q := withTimeRange(req.Query, req.Start, req.End)
	t := time.NewTicker(refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if len(req.Buckets) == 0 {
			for _, b := range e.log.Buckets() {
				if next[b] == nil {
					next[b] = map[int]int64{} // new bucket: from its start
				}
			}
		}
		rows, err := e.newRows(ctx, next)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			continue
		}
		if err := query.RunNaive(ctx, q, rows, req.Limits, out); err != nil {
			return err
		}
		flush()
	}
}

// endOffsets returns the current end offset of each partition of a bucket.
func (e *Engine) endOffsets(ctx context.Context, bucket string) map[int]int64 {
	ends := map[int]int64{}
	info, err := e.log.Bucket(ctx, bucket)
	if err != nil {
		return ends
	}
	for _, p := range info.Partitions {
		ends[p.Partition] = p.End
	}
	return ends
}

// maxTailBatch bounds the records one refresh reads per partition.
const maxTailBatch = 10000

// newRows reads what arrived since next and advances it.
func (e *Engine) newRows(ctx context.Context, next map[string]map[int]int64) ([]query.Row, error) {
	var rows []query.Row
	for bucket, offs := range next {
		info, err := e.log.Bucket(ctx, bucket)
		if err != nil {
			continue
		}
		for _, p := range info.Partitions {
			off := offs[p.Partition]
			if off >= p.End {
				continue
			}
			res, err := e.log.Read(ctx, bucket, p.Partition, off, maxTailBatch, 0)
			var oor *commitlog.OffsetOutOfRangeError
			if errors.As(err, &oor) {
				offs[p.Partition] = oor.Earliest
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, st := range res.Records {
				row := query.RowFromRecord(&st.Record)
				rows = append(rows, row)
			}
			offs[p.Partition] = res.Next
		}
	}
	return rows, nil
}
