package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/storage"
	"github.com/logbucket/logbucket/internal/vfs"
)

// Group is the consumer group the indexer commits in every bucket.
const Group = "indexer"

// Row is a record with its commit-log position.
type Row = storage.Row

// Part is an open, immutable part as the indexer and queries see it.
type Part interface {
	Close() error
}

// PartStore writes, opens and merges part files (internal/storage).
type PartStore interface {
	// Write stores rows (all of one UTC day) as a new part file at path.
	Write(path string, day int64, rows []Row) (PartStats, error)
	Open(path string) (Part, error)
	// Merge writes the rows of parts (all of one day) into one new part.
	Merge(path string, day int64, parts []Part) (PartStats, error)
}

// PartStats describe a written part.
type PartStats struct {
	Rows, Bytes      int64
	MinTime, MaxTime int64
}

// Options configure an Indexer.
type Options struct {
	Dir           string // parts go to Dir/<bucket>/
	FS            vfs.FS
	Log           commitlog.Log
	Store         PartStore
	FlushInterval time.Duration // default 5s
	FlushRows     int           // default 100,000
	MaxTailBytes  int64         // per bucket, default 64 MiB
	ReadBatch     int           // records per commit-log read, default 5,000
	MergeInterval time.Duration // how often merges are considered, default 1s
	// RetentionAge returns a bucket's retention by record age (0: keep
	// everything); whole UTC days older than it are dropped. Nil: none.
	RetentionAge func(bucket string) time.Duration
	// Now is the clock for retention (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 5 * time.Second
	}
	if o.FlushRows <= 0 {
		o.FlushRows = 100_000
	}
	if o.MaxTailBytes <= 0 {
		o.MaxTailBytes = 64 << 20
	}
	if o.ReadBatch <= 0 {
		o.ReadBatch = 5000
	}
	if o.MergeInterval <= 0 {
		o.MergeInterval = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Indexer indexes every bucket of a commit log.
type Indexer struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex // protects buckets
	buckets map[string]*bucketIndex
}

// Open loads every bucket's manifest, removes leftovers of interrupted
// flushes and merges, and starts indexing.
func Open(opts Options) (*Indexer, error) {
	opts.setDefaults()
	if err := opts.FS.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create index directory %s: %w", opts.Dir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ix := &Indexer{opts: opts, ctx: ctx, cancel: cancel, buckets: map[string]*bucketIndex{}}
	if err := ix.discover(); err != nil {
		cancel()
		ix.closeParts()
		return nil, err
	}
	ix.wg.Add(1)
	go ix.watchBuckets()
	return ix, nil
}

// discover starts indexing buckets that appeared in the commit log.
func (ix *Indexer) discover() error {
	for _, name := range ix.opts.Log.Buckets() {
		ix.mu.Lock()
		_, ok := ix.buckets[name]
		ix.mu.Unlock()
		if ok {
			continue
		}
		b, err := ix.openBucket(name)
		if err != nil {
			return err
		}
		ix.mu.Lock()
		ix.buckets[name] = b
		ix.mu.Unlock()
		b.start()
	}
	return nil
}

// watchBuckets picks up buckets created after start.
func (ix *Indexer) watchBuckets() {
	defer ix.wg.Done()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ix.ctx.Done():
			return
		case <-t.C:
			if err := ix.discover(); err != nil {
				ix.opts.Logger.Error("index new bucket", "err", err)
			}
		}
	}
}

// openBucket loads a bucket's manifest and parts.
func (ix *Indexer) openBucket(name string) (*bucketIndex, error) {
	dir := filepath.Join(ix.opts.Dir, name)
	fsys := ix.opts.FS
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create index directory %s: %w", dir, err)
	}
	m, err := loadManifest(fsys, dir)
	if err != nil {
		return nil, err
	}
	if err := removeLeftovers(fsys, dir, m); err != nil {
		return nil, err
	}
	info, err := ix.opts.Log.Bucket(ix.ctx, name)
	if err != nil {
		return nil, fmt.Errorf("index bucket %s: %w", name, err)
	}
	b := &bucketIndex{ix: ix, name: name, dir: dir, man: m, partitions: len(info.Partitions),
		consumed: map[int]int64{}, flushNow: make(chan struct{}, 1), turns: newConsumerTurns(len(info.Partitions))}
	b.roomCond = sync.NewCond(&b.mu)
	for _, e := range m.Parts {
		p, err := ix.opts.Store.Open(filepath.Join(dir, e.File))
		if err != nil {
			b.closeParts()
			return nil, fmt.Errorf("open part %s of bucket %s: %w", e.File, name, err)
		}
		b.parts = append(b.parts, newPartRef(e, p, filepath.Join(dir, e.File), fsys))
	}
	for p := 0; p < b.partitions; p++ {
		b.consumed[p] = m.next(p)
	}
	return b, nil
}

// removeLeftovers deletes part files the manifest does not list: the
// outputs of flushes and merges that crashed before their manifest swap,
// and inputs of merges whose swap happened but whose deletion did not.
func removeLeftovers(fsys vfs.FS, dir string, m *manifest) error {
	live := map[string]bool{manifestFile: true}
	for _, e := range m.Parts {
		live[e.File] = true
	}
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list index directory %s: %w", dir, err)
	}
	for _, e := range entries {
		if live[e.Name()] || e.IsDir() {
			continue
		}
		if strings.HasSuffix(e.Name(), ".part") || strings.HasSuffix(e.Name(), ".tmp") {
			if err := fsys.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("remove leftover %s: %w", e.Name(), err)
			}
		}
	}
	return nil
}

// Close stops indexing. Records read but not flushed stay in the commit
// log and are indexed again at the next start.
func (ix *Indexer) Close() error {
	ix.cancel()
	ix.wg.Wait()
	ix.closeParts()
	return nil
}

func (ix *Indexer) closeParts() {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, b := range ix.buckets {
		b.closeParts()
	}
}

// Buckets lists the indexed buckets, sorted.
func (ix *Indexer) Buckets() []string {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	names := make([]string, 0, len(ix.buckets))
	for n := range ix.buckets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Flush writes every bucket's unflushed records to parts now (tests and
// shutdown).
func (ix *Indexer) Flush() error {
	ix.mu.Lock()
	bs := make([]*bucketIndex, 0, len(ix.buckets))
	for _, b := range ix.buckets {
		bs = append(bs, b)
	}
	ix.mu.Unlock()
	for _, b := range bs {
		if err := b.flush(); err != nil {
			return err
		}
	}
	return nil
}

func (ix *Indexer) bucket(name string) *bucketIndex {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.buckets[name]
}
