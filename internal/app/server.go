package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/indexer"
	"github.com/logbucket/logbucket/internal/search"
	"github.com/logbucket/logbucket/internal/server"
	"github.com/logbucket/logbucket/internal/storage"
	"github.com/logbucket/logbucket/internal/vfs"
)

// NewLogger builds the process logger from the configuration.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	hopts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

// commitLogOptions maps the configuration onto the commit log's options.
func commitLogOptions(cfg *config.Config) (commitlog.Options, error) {
	codec, err := commitlog.ParseCodec(cfg.CommitLog.Compression)
	if err != nil {
		return commitlog.Options{}, err
	}
	return commitlog.Options{
		Dir:                    cfg.Data,
		SegmentBytes:           int64(cfg.CommitLog.SegmentBytes),
		SegmentAge:             time.Duration(cfg.CommitLog.SegmentAge),
		IndexIntervalBytes:     int64(cfg.CommitLog.IndexIntervalBytes),
		Codec:                  codec,
		MaxPendingBytes:        int64(cfg.CommitLog.MaxPendingBytes),
		RetentionCheckInterval: time.Duration(cfg.CommitLog.RetentionCheckInterval),
		DedupWindow:            dedupWindow(cfg.CommitLog.DedupWindow),
		DedupMaxEntries:        cfg.CommitLog.DedupMaxEntries,
		Bucket: func(name string) commitlog.BucketSettings {
			b := cfg.Bucket(name)
			// The indexer is always required: retention never drops what
			// is not in a part yet.
			groups := append([]string{indexer.Group}, b.RequiredGroups...)
			return commitlog.BucketSettings{Partitions: b.Partitions, RetentionAge: time.Duration(b.RetentionAge),
				RetentionBytes: int64(b.RetentionBytes), RequiredGroups: groups}
		},
	}, nil
}

// dedupWindow maps the configured window (0 = off) onto the log's option
// (negative = off).
func dedupWindow(d config.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return time.Duration(d)
}

// RunServer runs `logbucket server` until ctx is cancelled: it locks the
// data directory, starts HTTP at once (so /healthz answers during
// recovery), recovers the commit log, then serves until shutdown.
func RunServer(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set --listen to a free address)", cfg.Listen, err)
	}
	return Serve(ctx, cfg, logger, ln)
}

// Serve is RunServer on a listener the caller opened; it closes ln.
func Serve(ctx context.Context, cfg *config.Config, logger *slog.Logger, ln net.Listener) error {
	lock, err := lockDataDir(cfg.Data)
	if err != nil {
		ln.Close()
		return err
	}
	defer lock.unlock()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv, err := server.New(server.Options{Config: cfg, Logger: logger, Registry: reg})
	if err != nil {
		ln.Close()
		return err
	}
	// The syslog listeners are checked now (TLS key pairs included) and
	// bound once the commit log is recovered.
	sys, err := newSyslogServer(cfg, logger, reg)
	if err != nil {
		ln.Close()
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: time.Duration(cfg.HTTP.ReadHeaderTimeout),
		ReadTimeout:       time.Duration(cfg.HTTP.ReadTimeout),
		WriteTimeout:      time.Duration(cfg.HTTP.WriteTimeout),
		IdleTimeout:       time.Duration(cfg.HTTP.IdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	logger.Info("http server listening", "addr", ln.Addr().String(), "data", cfg.Data)

	opts, err := commitLogOptions(cfg)
	if err != nil {
		shutdownHTTP(hs, cfg, logger)
		sys.stop(0)
		return err
	}
	opts.Logger, opts.Registerer = logger.With("component", "commitlog"), reg
	start := time.Now()
	log, err := commitlog.Open(opts)
	if err != nil {
		shutdownHTTP(hs, cfg, logger)
		sys.stop(0)
		return fmt.Errorf("recover commit log in %s: %w", cfg.Data, err)
	}
	srv.SetLog(log, log.Health)
	ix, err := indexer.Open(indexer.Options{
		Dir: filepath.Join(cfg.Data, "index"), Log: log, Store: indexer.StorageStore{FS: vfs.OS{}},
		FlushInterval: time.Duration(cfg.Indexer.FlushInterval), FlushRows: cfg.Indexer.FlushRows,
		MaxTailBytes: int64(cfg.Indexer.MaxTailBytes), Logger: logger.With("component", "indexer"),
		RetentionAge: func(b string) time.Duration { return time.Duration(cfg.Bucket(b).RetentionAge) },
	})
	if err != nil {
		shutdownHTTP(hs, cfg, logger)
		sys.stop(0)
		log.Close()
		return fmt.Errorf("open index in %s: %w", cfg.Data, err)
	}
	srv.SetSearch(search.NewWithCache(ix, log, storage.NewFilterCache(int64(cfg.Query.FilterCacheBytes))))
	if err := sys.start(log); err != nil {
		shutdownHTTP(hs, cfg, logger)
		ix.Close()
		log.Close()
		return err
	}
	logger.Info("ready", "buckets", len(log.Buckets()), "recovery", time.Since(start).Round(time.Millisecond))

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err = <-serveErr:
		logger.Error("http server stopped", "err", err)
	}
	// HTTP and syslog stop together, each within the shutdown budget; both
	// finish their appends before the commit log closes.
	syslogStopped := make(chan struct{})
	go func() {
		defer close(syslogStopped)
		sys.stop(time.Duration(cfg.HTTP.ShutdownTimeout))
	}()
	shutdownHTTP(hs, cfg, logger)
	<-syslogStopped
	if cerr := ix.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close index: %w", cerr)
	}
	if cerr := log.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close commit log: %w", cerr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	logger.Info("stopped")
	return err
}

// shutdownHTTP stops accepting requests and waits for in-flight ones.
func shutdownHTTP(hs *http.Server, cfg *config.Config, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(cfg.HTTP.ShutdownTimeout))
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		logger.Warn("http shutdown", "err", err)
		_ = hs.Close()
	}
}

// dataLock is an exclusive lock on the data directory.
type dataLock struct{ unlock func() }

func lockDataDir(dir string) (*dataLock, error) {
	path := filepath.Join(dir, "LOCK")
	unlock, err := flock(dir, path)
	if err != nil {
		return nil, err
	}
	return &dataLock{unlock: unlock}, nil
}
