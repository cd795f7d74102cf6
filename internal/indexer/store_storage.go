package indexer

import (
	"fmt"
	"path/filepath"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/storage"
	"github.com/logbucket/logbucket/internal/vfs"
)

// StorageStore is the PartStore of internal/storage's columnar parts. A
// part records its bucket: the name of the directory it is written in.
//
// Flushed (level-0) parts live only until merged, so they are written at
// the fastest compression; merges, which write most rows once more,
// compress harder (MergeOpts).
type StorageStore struct {
	FS        vfs.FS
	Opts      storage.WriteOptions // flushes; zero: compression 1
	MergeOpts storage.WriteOptions // merges; zero: compression 3
}

var _ PartStore = StorageStore{}

// Write stores rows of one day as a level-0 part. A row the part format
// would refuse is written as a sanitized copy (storage.Sanitize), so no
// record can stop indexing; rows are never changed in place (queries may
// be reading them).
func (s StorageStore) Write(path string, day int64, rows []Row) (PartStats, error) {
	copied := false
	for i := range rows {
		if storage.Valid(&rows[i]) == nil {
			continue
		}
		if !copied {
			rows, copied = append([]Row(nil), rows...), true
		}
		r := rows[i]
		r.Record.Stream = append([]model.Field(nil), r.Record.Stream...)
		r.Record.Fields = append([]model.Field(nil), r.Record.Fields...)
		storage.Sanitize(&r)
		rows[i] = r
	}
	opts := s.Opts
	if opts.Compression == 0 {
		opts.Compression = 1
	}
	info, err := storage.WritePart(s.FS, path, storage.PartMeta{Bucket: filepath.Base(filepath.Dir(path)), Day: day}, rows, opts)
	if err != nil {
		return PartStats{}, fmt.Errorf("write part %s: %w", path, err)
	}
	return statsOf(info), nil
}

// Open opens a part.
func (s StorageStore) Open(path string) (Part, error) {
	return storage.OpenPart(s.FS, path)
}

// Merge writes the rows of parts into one part.
func (s StorageStore) Merge(path string, day int64, parts []Part) (PartStats, error) {
	in := make([]*storage.Part, len(parts))
	for i, p := range parts {
		sp, ok := p.(*storage.Part)
		if !ok {
			return PartStats{}, fmt.Errorf("merge %s: part %d is not a storage part", path, i)
		}
		in[i] = sp
	}
	opts := s.MergeOpts
	if opts.Compression == 0 {
		opts.Compression = 3
	}
	info, err := storage.MergeParts(s.FS, path, in, opts)
	if err != nil {
		return PartStats{}, fmt.Errorf("merge into %s: %w", path, err)
	}
	return statsOf(info), nil
}

func statsOf(info storage.PartInfo) PartStats {
	return PartStats{Rows: info.Rows, Bytes: info.Bytes, MinTime: info.MinTime, MaxTime: info.MaxTime}
}
