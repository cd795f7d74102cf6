package commitlog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logbucket/logbucket/internal/model"
	"github.com/logbucket/logbucket/internal/vfs"
)

// BucketSettings are the commit-log settings of one bucket.
type BucketSettings struct {
	Partitions     int
	RetentionAge   time.Duration // 0: keep forever
	RetentionBytes int64         // 0: unlimited; split evenly over partitions
	RequiredGroups []string
}

// Options configure an Embedded log.
type Options struct {
	Dir                    string
	FS                     vfs.FS // default vfs.OS
	SegmentBytes           int64
	SegmentAge             time.Duration
	IndexIntervalBytes     int64
	Codec                  Codec
	MaxPendingBytes        int64 // per partition
	MaxBatchBytes          int   // uncompressed payload per frame
	RetentionCheckInterval time.Duration
	DedupWindow            time.Duration // 0: 10 minutes; negative: batch ids are ignored
	DedupMaxEntries        int
	// Bucket resolves a bucket's settings. Partitions is read only when the
	// bucket is created; the rest on every retention pass.
	Bucket     func(name string) BucketSettings
	Logger     *slog.Logger
	Registerer prometheus.Registerer // nil: metrics are not registered
	Now        func() time.Time      // default time.Now
}

func (o *Options) setDefaults() {
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 128 << 20
	}
	if o.SegmentAge <= 0 {
		o.SegmentAge = time.Hour
	}
	if o.IndexIntervalBytes <= 0 {
		o.IndexIntervalBytes = 4 << 10
	}
	if o.MaxPendingBytes <= 0 {
		o.MaxPendingBytes = 64 << 20
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 1 << 20
	}
	if o.RetentionCheckInterval <= 0 {
		o.RetentionCheckInterval = time.Minute
	}
	if o.DedupWindow == 0 {
		o.DedupWindow = 10 * time.Minute
	}
	if o.DedupMaxEntries <= 0 {
		o.DedupMaxEntries = 1_000_000
	}
	if o.Bucket == nil {
		o.Bucket = func(string) BucketSettings { return BucketSettings{Partitions: 4} }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Embedded is the commit log on local segment files.
type Embedded struct {
	opts    Options
	fs      vfs.FS
	logger  *slog.Logger
	metrics *metrics
	dedup   *dedupTable
	now     func() time.Time

	mu      sync.RWMutex // protects buckets
	buckets map[string]*bucket

	createMu sync.Mutex // serialises bucket creation

	inflight sync.WaitGroup // appends in progress
	closed   atomic.Bool
	readOnly atomic.Pointer[error]
	stop     chan struct{}
	bgDone   chan struct{}
}

var _ Log = (*Embedded)(nil)

// Open opens or creates the log in opts.Dir and recovers every partition.
func Open(opts Options) (*Embedded, error) {
	opts.setDefaults()
	l := &Embedded{opts: opts, fs: opts.FS, logger: opts.Logger, now: opts.Now,
		dedup:   newDedupTable(opts.DedupWindow, opts.DedupMaxEntries),
		buckets: map[string]*bucket{}, stop: make(chan struct{}), bgDone: make(chan struct{})}
	l.metrics = newMetrics(l)
	if opts.Registerer != nil {
		if err := l.metrics.register(opts.Registerer); err != nil {
			return nil, err
		}
	}
	root := filepath.Join(opts.Dir, "buckets")
	if err := l.fs.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", root, err)
	}
	entries, err := l.fs.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list buckets in %s: %w", root, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		meta := filepath.Join(bucketDir(opts.Dir, e.Name()), bucketMetaFile)
		if _, err := l.fs.Stat(meta); errors.Is(err, fs.ErrNotExist) {
			// A crash inside CreateBucket before bucket.json was in place:
			// the bucket does not exist yet (CreateBucket can finish it).
			l.logger.Warn("skipped a bucket directory without bucket.json", "dir", filepath.Dir(meta))
			continue
		}
		b, err := l.openBucket(e.Name())
		if err != nil {
			l.closeAll()
			return nil, err
		}
		l.buckets[b.name] = b
	}
	for _, b := range l.buckets {
		for _, p := range b.partitions {
			p.start()
		}
	}
	go l.background()
	return l, nil
}

// openBucket recovers a bucket's partitions and consumer groups.
func (l *Embedded) openBucket(name string) (*bucket, error) {
	dir := bucketDir(l.opts.Dir, name)
	meta, err := readBucketMeta(l.fs, dir)
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", name, err)
	}
	b := &bucket{name: name, dir: dir, meta: meta}
	if b.groups, err = loadGroups(l.fs, filepath.Join(dir, "groups")); err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", name, err)
	}
	onHeader := func(part int, h batchHeader) {
		if h.BatchID == "" {
			return
		}
		l.dedup.extend(dedupKey{name, h.BatchID, part}, OffsetRange{First: h.BaseOffset, Last: h.lastOffset()}, h.AppendTime)
	}
	for i := 0; i < meta.Partitions; i++ {
		p, err := openPartition(l, name, dir, i, onHeader)
		if err != nil {
			for _, q := range b.partitions {
				q.closeSegments()
			}
			return nil, fmt.Errorf("open bucket %s: %w", name, err)
		}
		b.partitions = append(b.partitions, p)
		b.lastWrite.Store(max(b.lastWrite.Load(), p.lastAppend()))
	}
	b.lastRead.Store(readActivity(l.fs, dir))
	return b, nil
}

// CreateBucket creates a bucket with the configured settings.
func (l *Embedded) CreateBucket(_ context.Context, name string) error {
	if l.closed.Load() {
		return ErrClosed
	}
	if err := l.failed(); err != nil {
		return err
	}
	l.createMu.Lock()
	defer l.createMu.Unlock()
	if l.lookup(name) != nil {
		return nil
	}
	parts := l.opts.Bucket(name).Partitions
	if parts < 1 {
		parts = 1
	}
	if err := createBucketFiles(l.fs, l.opts.Dir, name, parts, l.now()); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	b, err := l.openBucket(name)
	if err != nil {
		return err
	}
	for _, p := range b.partitions {
		p.start()
	}
	l.mu.Lock()
	l.buckets[name] = b
	l.mu.Unlock()
	l.logger.Info("bucket created", "bucket", name, "partitions", parts)
	return nil
}

func (l *Embedded) lookup(name string) *bucket {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.buckets[name]
}

// Buckets lists bucket names, sorted.
func (l *Embedded) Buckets() []string {
	l.mu.RLock()
	names := make([]string, 0, len(l.buckets))
	for n := range l.buckets {
		names = append(names, n)
	}
	l.mu.RUnlock()
	sort.Strings(names)
	return names
}

// Partitions returns the number of partitions of a bucket.
func (l *Embedded) Partitions(name string) (int, error) {
	b := l.lookup(name)
	if b == nil {
		return 0, fmt.Errorf("bucket %q: %w", name, ErrBucketNotFound)
	}
	return len(b.partitions), nil
}

// failStop makes the log read-only after an I/O error.
func (l *Embedded) failStop(err error) {
	wrapped := fmt.Errorf("%w: %v: restart logbucket after checking the disk", ErrReadOnly, err)
	if l.readOnly.CompareAndSwap(nil, &wrapped) {
		l.logger.Error("commit log is read-only after an I/O error", "err", err)
	}
}

// failed returns the fail-stop error, if any.
func (l *Embedded) failed() error {
	if p := l.readOnly.Load(); p != nil {
		return *p
	}
	return nil
}

// Health reports why the log cannot take appends, or nil.
func (l *Embedded) Health() error { return l.failed() }

// reportDamage logs and counts what recovery found damaged.
func (l *Embedded) reportDamage(p *partition, s *segment, size int64, res scanResult, cut bool) {
	lost := size - res.validEnd
	l.metrics.recoveryCuts.Inc()
	l.metrics.recoveryBytes.Add(float64(lost))
	msg := "recovery cut a damaged tail"
	if !cut {
		msg = "recovery found damage inside a sealed segment; the rest of it is a gap"
	}
	l.logger.Warn(msg, "bucket", p.bucket, "partition", p.id, "segment", s.path,
		"kept_through_offset", res.end-1, "next_offset", res.end, "valid_bytes", res.validEnd,
		"damaged_bytes", lost, "reason", res.damage.Error())
}

// Close waits for in-flight appends, stops the writers and closes files.
func (l *Embedded) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return nil
	}
	l.inflight.Wait()
	close(l.stop)
	<-l.bgDone
	l.saveActivity()
	l.closeAll()
	return nil
}

func (l *Embedded) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.buckets {
		for _, p := range b.partitions {
			select {
			case <-p.stop:
			default:
				close(p.stop)
			}
			if p.running.Load() {
				<-p.stopped
			}
			p.closeSegments()
		}
	}
}

// errBucket wraps ErrBucketNotFound with the name.
func errBucket(name string) error { return fmt.Errorf("bucket %q: %w", name, ErrBucketNotFound) }

// partitionOf returns the partition of a bucket.
func (l *Embedded) partitionOf(name string, part int) (*bucket, *partition, error) {
	b := l.lookup(name)
	if b == nil {
		return nil, nil, errBucket(name)
	}
	if part < 0 || part >= len(b.partitions) {
		return nil, nil, fmt.Errorf("bucket %q has partitions 0..%d, not %d: %w", name, len(b.partitions)-1, part, ErrNoPartition)
	}
	return b, b.partitions[part], nil
}

// assign groups records by partition, keeping their order.
func assign(recs []model.Record, parts int) [][]model.Record {
	out := make([][]model.Record, parts)
	for i := range recs {
		p := int(model.StreamHash(recs[i].Stream) % uint64(parts))
		out[p] = append(out[p], recs[i])
	}
	return out
}
