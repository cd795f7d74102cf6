package search

import (
	"context"

	"github.com/logbucket/logbucket/internal/query"
)

// Neighbours returns up to before rows of the same stream just before pos
// and up to after rows just after it, in offset order, read from the
// commit log (a stream lives in one partition, so offsets order it).
func (s *source) Neighbours(ctx context.Context, stream string, pos query.Pos, before, after int) (prev, next []query.Row, err error) {
	bi, part := int(pos.Partition>>16), int(pos.Partition&0xffff)
	if bi >= len(s.buckets) {
		return nil, nil, nil
	}
	bucket := s.buckets[bi]
	if before > 0 {
		window := int64(before*4 + 64)
		for {
			from := max(pos.Offset-window, 0)
			res, err := s.e.log.Read(ctx, bucket, part, from, int(pos.Offset-from), 0)
			if err != nil {
				return nil, nil, err
			}
			prev = prev[:0]
			for _, st := range res.Records {
				if st.Offset >= pos.Offset {
					break
				}
				if row := query.RowFromRecord(&st.Record); row.Get("_stream") == stream {
					row.Pos = query.Pos{Partition: pos.Partition, Offset: st.Offset}
					prev = append(prev, row)
				}
			}
			if len(prev) >= before || from == 0 || from <= res.Start {
				break
			}
			window *= 4
		}
		if len(prev) > before {
			prev = prev[len(prev)-before:]
		}
	}
	off := pos.Offset + 1
	for len(next) < after {
		res, err := s.e.log.Read(ctx, bucket, part, off, 1000, 0)
		if err != nil {
			return nil, nil, err
		}
		if len(res.Records) == 0 {
			break
		}
		for _, st := range res.Records {
			if row := query.RowFromRecord(&st.Record); row.Get("_stream") == stream && len(next) < after {
				row.Pos = query.Pos{Partition: pos.Partition, Offset: st.Offset}
				next = append(next, row)
			}
		}
		off = res.Next
	}
	return prev, next, nil
}
