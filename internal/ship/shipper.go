package ship

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logbucket/logbucket/internal/client"
	"github.com/logbucket/logbucket/internal/vfs"
)

// Shipper follows the files of its inputs and ships their lines.
type Shipper struct {
	opts   Options
	log    *slog.Logger
	client *client.Client
	m      *metrics
	budget *budget
	comp   *compressor
	inputs []*input

	store  *store         // set by Run
	events chan event     // streams report to the manager
	wg     sync.WaitGroup // stream goroutines

	linesRead   atomic.Int64
	recordsSent atomic.Int64
	retries     atomic.Int64

	mu      sync.Mutex // protects streams and lastErr
	streams map[*stream]struct{}
	lastErr string
}

// input is the manager's view of one configured input. Only the manager
// goroutine touches tracked and detached.
type input struct {
	cfg      Input
	tracked  map[fileID]*tracked // files with an open stream or an idle checkpoint
	detached []*tracked          // checkpoints whose file is being looked for
	draining map[*tracked]bool   // truncated generations still sending
	warned   map[string]string   // path → the last open error logged for it
}

// tracked is one checkpoint entry as the manager sees it.
type tracked struct {
	e     entry     // for an idle or detached entry; an open stream holds the live copy
	st    *stream   // non-nil while a stream runs
	since time.Time // when it became detached
}

type eventKind int

const (
	evTruncated eventKind = iota // the stream's file was truncated; it drains now
	evDone                       // the stream ended
)

type event struct {
	s    *stream
	kind eventKind
	res  result
	err  error
}

// Stats are a shipper's running totals.
type Stats struct {
	Files       int   // files open (followed)
	LinesRead   int64 // lines read from files
	RecordsSent int64 // records the server acknowledged
	BytesBehind int64 // bytes of open files not yet acknowledged
	Inflight    int64 // NDJSON bytes of batches being built, queued or sent
	Retries     int64 // requests retried
	LastError   string
}

// New returns a shipper for opts (which must be valid). Metrics go to reg
// when it is not nil.
func New(opts Options, log *slog.Logger, reg prometheus.Registerer) (*Shipper, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	comp, err := newCompressor(opts.Compress, runtime.GOMAXPROCS(0))
	if err != nil {
		return nil, err
	}
	sh := &Shipper{opts: opts, log: log, budget: newBudget(opts.MaxInflightBytes), comp: comp,
		events: make(chan event, 16), streams: map[*stream]struct{}{}}
	sh.m = newMetrics(reg, sh)
	c := client.New(opts.Server)
	c.Token = opts.Token
	c.MaxRetries = math.MaxInt32 // a batch is never given up
	c.MinBackoff, c.MaxBackoff = opts.MinBackoff, opts.MaxBackoff
	c.HTTP = &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	c.OnRetry = func(attempt int, wait time.Duration, err error) {
		sh.retries.Add(1)
		sh.m.retries.Inc()
		sh.setLastError(err)
		if attempt == 1 || attempt%10 == 0 {
			sh.log.Warn("server unavailable; retrying", "attempt", attempt, "wait", wait.Round(time.Millisecond), "err", err)
		}
	}
	sh.client = c
	for _, in := range opts.Inputs {
		sh.inputs = append(sh.inputs, &input{cfg: in, tracked: map[fileID]*tracked{}, draining: map[*tracked]bool{},
			warned: map[string]string{}})
	}
	return sh, nil
}

// Stats returns the running totals. Safe for concurrent use.
func (sh *Shipper) Stats() Stats {
	st := Stats{LinesRead: sh.linesRead.Load(), RecordsSent: sh.recordsSent.Load(), Retries: sh.retries.Load(),
		Inflight: sh.budget.inUse()}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	st.Files = len(sh.streams)
	for s := range sh.streams {
		st.BytesBehind += max(0, s.size.Load()-s.ackedAt.Load())
	}
	st.LastError = sh.lastErr
	return st
}

func (sh *Shipper) setLastError(err error) {
	sh.mu.Lock()
	sh.lastErr = err.Error()
	sh.mu.Unlock()
}

// openFiles returns the paths of the files open, sorted (for tests).
func (sh *Shipper) openFiles() []string {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var out []string
	for s := range sh.streams {
		out = append(out, s.e.Name)
	}
	sort.Strings(out)
	return out
}

// Run ships until ctx ends, then lets batches already sent finish for
// opts.ShutdownGrace and writes the checkpoint.
func (sh *Shipper) Run(ctx context.Context) error {
	defer sh.comp.close()
	defer sh.client.HTTP.Transport.(*http.Transport).CloseIdleConnections()
	st, entries, err := openStore(vfs.OS{}, sh.opts.StateDir, sh.log, sh.m)
	if err != nil {
		return err
	}
	sh.store = st
	now := time.Now()
	for _, e := range entries {
		in := sh.input(e.Input)
		if in == nil {
			sh.log.Warn("checkpoint of an input no longer configured; dropped", "input", e.Input, "file", e.Name)
			st.remove(e.ID)
			continue
		}
		in.detached = append(in.detached, &tracked{e: e, since: now})
	}
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	stopGrace := context.AfterFunc(ctx, func() {
		time.AfterFunc(sh.opts.ShutdownGrace, cancelSend)
	})
	defer stopGrace()

	tick := time.NewTicker(sh.opts.PollInterval)
	defer tick.Stop()
	sh.poll(ctx, sendCtx)
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case ev := <-sh.events:
			sh.handle(ctx, ev)
		case <-tick.C:
			sh.poll(ctx, sendCtx)
		}
	}
	// Stop: streams stop reading, send what they cut within the grace
	// period and report.
	done := make(chan struct{})
	go func() { sh.wg.Wait(); close(done) }()
	for waiting := true; waiting; {
		select {
		case ev := <-sh.events:
			sh.handle(ctx, ev)
		case <-done:
			waiting = false
		}
	}
	for len(sh.events) > 0 {
		sh.handle(ctx, <-sh.events)
	}
	return st.close()
}

func (sh *Shipper) input(name string) *input {
	for _, in := range sh.inputs {
		if in.cfg.Name == name {
			return in
		}
	}
	return nil
}

// handle applies a stream's report.
func (sh *Shipper) handle(ctx context.Context, ev event) {
	s, in, t := ev.s, ev.s.in, ev.s.t
	if ev.kind == evTruncated {
		// The file itself belongs to a new generation from now on; the old
		// one finishes on its own and then looks for the copy.
		if in.tracked[s.fid] == t {
			delete(in.tracked, s.fid)
		}
		in.draining[t] = true
		sh.log.Info("file truncated; reading it again from its start", "input", in.cfg.Name, "file", s.e.Name)
		return
	}
	delete(in.draining, t)
	sh.mu.Lock()
	delete(sh.streams, s)
	sh.mu.Unlock()
	e, drained := s.snapshot()
	t.e, t.st = e, nil
	switch {
	case ev.res == resShutdown:
	case ev.res == resReleased && drained:
		sh.m.released.WithLabelValues(in.cfg.Name).Inc()
		sh.log.Info("file finished and closed", "input", in.cfg.Name, "file", e.Name, "path", e.Path, "bytes", e.Offset)
		if in.tracked[s.fid] == t {
			delete(in.tracked, s.fid)
		}
		sh.store.remove(e.ID)
	case ev.res == resIdle:
		// stays tracked, closed until it grows
	default: // truncated, an error, or released while stopping
		if ev.err != nil {
			sh.log.Error("follow file", "input", in.cfg.Name, "file", e.Name, "err", ev.err)
		}
		if in.tracked[s.fid] == t {
			delete(in.tracked, s.fid)
		}
		if ctx.Err() == nil {
			t.since = time.Now()
			in.detached = append(in.detached, t)
		}
	}
}

// found is a file a glob matched.
type found struct {
	path string
	st   fileStat
}

// poll expands the globs, resumes checkpointed files, notices files that
// went away and starts new ones.
func (sh *Shipper) poll(ctx, sendCtx context.Context) {
	for _, in := range sh.inputs {
		files := sh.glob(in)
		sh.resumeDetached(ctx, sendCtx, in, files)
		for id, t := range in.tracked {
			f, ok := files[id]
			if t.st != nil {
				t.st.matched.Store(ok)
				continue
			}
			if !ok { // an idle file went away: find it again if it grew
				delete(in.tracked, id)
				t.since = time.Now()
				in.detached = append(in.detached, t)
				continue
			}
			if f.st.size != t.e.Offset {
				if sh.attach(ctx, sendCtx, in, t, f, true) == mismatch {
					delete(in.tracked, id) // rewritten: look for the copy, start anew
					t.since = time.Now()
					in.detached = append(in.detached, t)
				}
			}
		}
		for id, f := range files {
			if _, ok := in.tracked[id]; ok || sh.looksLikeCopy(in, f) {
				continue
			}
			t := &tracked{e: entry{ID: newStreamID(), Input: in.cfg.Name, Name: f.path, Path: f.path,
				Dev: id.dev, Ino: id.ino}}
			if sh.attach(ctx, sendCtx, in, t, f, true) == attached {
				sh.log.Info("following file", "input", in.cfg.Name, "file", f.path, "bytes", f.st.size)
			}
		}
	}
}

// glob returns the regular files the input's globs match, by identity.
func (sh *Shipper) glob(in *input) map[fileID]found {
	out := map[fileID]found{}
	for _, pattern := range in.cfg.Paths {
		paths, _ := filepath.Glob(pattern) // the syntax was checked
	next:
		for _, p := range paths {
			for _, ex := range in.cfg.Exclude {
				if ok, _ := pathMatch(ex, p); ok {
					continue next
				}
			}
			st, regular, err := statFile(p)
			if err != nil || !regular {
				continue
			}
			if _, dup := out[st.id]; !dup {
				out[st.id] = found{path: p, st: st}
			}
		}
	}
	return out
}

// attachResult is the outcome of attach.
type attachResult int

const (
	attached attachResult = iota // the stream runs
	mismatch                     // the file does not hold t's bytes (any more)
	retry                        // the file could not be opened now
)

// attach opens f for t and starts its stream if the file is the one t
// describes: same leading bytes as t's fingerprint and at least t.e.need()
// bytes long (a new entry has neither and takes the file as it is).
func (sh *Shipper) attach(ctx, sendCtx context.Context, in *input, t *tracked, f found, matched bool) attachResult {
	file, err := os.Open(f.path)
	if err != nil {
		if msg := err.Error(); !errors.Is(err, os.ErrNotExist) && in.warned[f.path] != msg {
			in.warned[f.path] = msg // once per path and error, not every poll
			sh.log.Warn("open file", "input", in.cfg.Name, "file", f.path, "err", err)
		}
		return retry
	}
	delete(in.warned, f.path)
	res, st, err := checkFile(file, f.st.id, t.e)
	if err != nil {
		sh.log.Warn("check file", "input", in.cfg.Name, "file", f.path, "err", err)
	}
	if res != attached {
		file.Close()
		return res
	}
	if real, err := filepath.EvalSymlinks(f.path); err == nil {
		f.path = real
	}
	if abs, err := filepath.Abs(f.path); err == nil {
		f.path = abs
	}
	t.e.Path, t.e.Dev, t.e.Ino = f.path, st.id.dev, st.id.ino
	in.tracked[st.id] = t
	s := newStream(sh, in, t, file, st, matched)
	t.st = s
	sh.mu.Lock()
	sh.streams[s] = struct{}{}
	sh.mu.Unlock()
	sh.wg.Add(1)
	go s.run(ctx, sendCtx)
	return attached
}

// checkFile checks that file is the file with identity want (not replaced
// since the stat that found it) and holds e's bytes.
func checkFile(file *os.File, want fileID, e entry) (attachResult, fileStat, error) {
	st, err := statOpen(file)
	if err != nil {
		return retry, st, err
	}
	if st.id != want {
		return retry, st, nil // replaced between stat and open
	}
	if e.FPLen == 0 && st.id != e.fileID() || st.size < e.need() {
		return mismatch, st, nil
	}
	if e.FPLen > 0 {
		same, err := matchesFP(file, e.FPLen, e.FP)
		if err != nil {
			return retry, st, err
		}
		if !same {
			return mismatch, st, nil
		}
	}
	return attached, st, nil
}

// resumeDetached looks for the files of detached checkpoints: at their
// path, renamed within their directory (same inode) or copied there by
// copytruncate (another inode with the same leading bytes). A checkpoint
// not found within DetachedTimeout is dropped.
func (sh *Shipper) resumeDetached(ctx, sendCtx context.Context, in *input, files map[fileID]found) {
	if len(in.detached) == 0 {
		return
	}
	dirs := map[string][]found{} // directory listings, read once per poll
	list := func(dir string) []found {
		if l, ok := dirs[dir]; ok {
			return l
		}
		var l []found
		ents, _ := os.ReadDir(dir)
		for _, de := range ents {
			p := filepath.Join(dir, de.Name())
			if st, regular, err := statFile(p); err == nil && regular {
				l = append(l, found{path: p, st: st})
			}
		}
		dirs[dir] = l
		return l
	}
	now := time.Now()
	keep := in.detached[:0]
	for _, t := range in.detached {
		if how := sh.resumeOne(ctx, sendCtx, in, t, files, list); how != "" {
			sh.m.adopted.WithLabelValues(in.cfg.Name, how).Inc()
			if how != "path" {
				sh.log.Info("resumed file", "input", in.cfg.Name, "file", t.e.Name, "found_as", how, "path", t.e.Path, "offset", t.e.Offset)
			}
			continue
		}
		if now.Sub(t.since) < sh.opts.DetachedTimeout {
			keep = append(keep, t)
			continue
		}
		sh.m.dropped.WithLabelValues(in.cfg.Name).Inc()
		level := slog.LevelInfo
		if len(t.e.Pending) > 0 {
			level = slog.LevelWarn
		}
		sh.log.Log(ctx, level, "file not found again; checkpoint dropped", "input", in.cfg.Name, "file", t.e.Name,
			"path", t.e.Path, "offset", t.e.Offset, "unacknowledged_batches", len(t.e.Pending))
		sh.store.remove(t.e.ID)
	}
	clear(in.detached[len(keep):])
	in.detached = keep
}

// resumeOne tries to resume t; it returns how the file was found, or "".
func (sh *Shipper) resumeOne(ctx, sendCtx context.Context, in *input, t *tracked, files map[fileID]found, list func(string) []found) string {
	id := t.e.fileID()
	dir := filepath.Dir(t.e.Path)
	if _, taken := in.tracked[id]; !taken {
		// Where is the inode now: matched by a glob, at its path, or
		// renamed within its directory?
		var where *found
		how := "path"
		if f, ok := files[id]; ok {
			where = &f
		} else if st, regular, err := statFile(t.e.Path); err == nil && regular && st.id == id {
			where = &found{path: t.e.Path, st: st}
		} else {
			for _, f := range list(dir) {
				if f.st.id == id {
					where, how = &f, "inode"
					break
				}
			}
		}
		if where != nil {
			_, matched := files[id]
			switch sh.attach(ctx, sendCtx, in, t, *where, matched) {
			case attached:
				return how
			case retry:
				return ""
			}
			// mismatch: the inode holds other bytes now; look for a copy
		}
	}
	if t.e.FPLen < minCopyFP || t.e.need() == 0 {
		return ""
	}
	for _, f := range list(dir) {
		if _, taken := in.tracked[f.st.id]; taken || f.st.id == id || f.st.size < t.e.need() {
			continue
		}
		_, matched := files[f.st.id]
		if sh.attach(ctx, sendCtx, in, t, f, matched) == attached {
			return "copy"
		}
	}
	return ""
}

// looksLikeCopy reports whether f starts like a file of the input that is
// open or still sending after its truncation, with another inode: a copy
// being made by copytruncate, which is resumed from the original's
// checkpoint once the original's old generation has finished.
func (sh *Shipper) looksLikeCopy(in *input, f found) bool {
	var file *os.File
	defer func() {
		if file != nil {
			file.Close()
		}
	}()
	like := func(t *tracked) bool {
		if t.st == nil || t.st.fid == f.st.id {
			return false
		}
		t.st.mu.Lock()
		n, fp := t.st.e.FPLen, t.st.e.FP
		t.st.mu.Unlock()
		if n < minCopyFP || f.st.size < int64(n) {
			return false
		}
		if file == nil {
			var err error
			if file, err = os.Open(f.path); err != nil {
				return false
			}
		}
		same, _ := matchesFP(file, n, fp)
		return same
	}
	for _, t := range in.tracked {
		if like(t) {
			return true
		}
	}
	for t := range in.draining {
		if like(t) {
			return true
		}
	}
	return false
}

func newStreamID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// String describes the options for the start-up log line.
func (in *Input) String() string {
	return fmt.Sprintf("%s: %v -> bucket %s", in.Name, in.Paths, in.Bucket)
}
