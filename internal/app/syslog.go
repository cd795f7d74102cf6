package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/syslog"
)

// syslogServer runs the configured syslog listeners (package
// ingest/syslog). newSyslogServer builds them before the commit log is
// recovered, so that a bad certificate fails start-up at once; start binds
// them once the log can take appends; stop ends them before the log
// closes.
type syslogServer struct {
	logger    *slog.Logger
	appender  *syslogAppender
	listeners []*syslogListener
	// ctx is the context of every append; cancelling it aborts appends in
	// progress (stop does, when the shutdown budget is spent).
	ctx    context.Context
	cancel context.CancelFunc
}

type syslogListener struct {
	cfg config.SyslogListener
	l   *syslog.Listener
}

// name identifies a listener in errors: where it was configured, its
// network and its address.
func (sl *syslogListener) name() string {
	return fmt.Sprintf("%s (%s %s)", sl.cfg.Origin, sl.cfg.Network, sl.cfg.Address)
}

// newSyslogServer validates every listener of cfg and loads the TLS key
// pairs; nothing listens yet. With no listener configured it returns a
// server that does nothing.
func newSyslogServer(cfg *config.Config, logger *slog.Logger, reg prometheus.Registerer) (*syslogServer, error) {
	s := &syslogServer{logger: logger, appender: &syslogAppender{autoCreate: cfg.Ingest.AutoCreateBuckets}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	lcfgs := cfg.SyslogListeners()
	if len(lcfgs) == 0 {
		return s, nil
	}
	m := newSyslogMetrics()
	if reg != nil {
		if err := m.register(reg); err != nil {
			s.cancel()
			return nil, err
		}
	}
	opts := ingest.DefaultOptions()
	opts.MsgFields = slices.Clone(cfg.Ingest.MsgFields)
	opts.MaxLineBytes = int(cfg.Ingest.MaxLineBytes)
	opts.MaxFields = cfg.Ingest.MaxFields
	opts.MaxFieldNameBytes = int(cfg.Ingest.MaxFieldNameBytes)
	for _, lc := range lcfgs {
		sl := &syslogListener{cfg: lc}
		label := syslogLabel(lc)
		l, err := syslog.New(syslog.Config{
			Network:         lc.Network,
			Address:         lc.Address,
			Bucket:          lc.Bucket,
			StreamFields:    lc.StreamFields,
			TimeZone:        lc.TimeZone,
			CertFile:        lc.CertFile,
			KeyFile:         lc.KeyFile,
			Ingest:          &opts,
			MaxMessageBytes: int(lc.MaxMessageBytes),
			IdleTimeout:     time.Duration(lc.IdleTimeout),
			MaxConnections:  lc.MaxConnections,
			Metrics:         m.forListener(label, lc.Bucket),
			Logger:          logger.With("component", "syslog", "listener", label),
		}, s.appender)
		if err != nil {
			s.cancel()
			return nil, fmt.Errorf("syslog listener %s: %w", sl.name(), err)
		}
		sl.l = l
		s.listeners = append(s.listeners, sl)
	}
	return s, nil
}

// syslogLabel is the listener label of the syslog metrics and logs:
// network://address as configured, e.g. "udp://0.0.0.0:514".
func syslogLabel(lc config.SyslogListener) string { return lc.Network + "://" + lc.Address }

// start makes the listeners append to log and binds them. If one cannot
// bind (or its bucket cannot exist), the ones started are stopped and the
// error names the listener.
func (s *syslogServer) start(log commitlog.Log) error {
	s.appender.log = log
	for _, sl := range s.listeners {
		if !s.appender.autoCreate && !slices.Contains(log.Buckets(), sl.cfg.Bucket) {
			s.stop(0)
			return fmt.Errorf("syslog listener %s: bucket %q does not exist and ingest.auto_create_buckets is off; "+
				"name an existing bucket or turn auto_create_buckets on", sl.name(), sl.cfg.Bucket)
		}
		if err := sl.l.Start(s.ctx); err != nil {
			s.stop(0)
			hint := "choose a free address"
			if errors.Is(err, os.ErrPermission) {
				hint = "ports below 1024 need root or CAP_NET_BIND_SERVICE"
			}
			return fmt.Errorf("start syslog listener %s: %w (%s)", sl.name(), err, hint)
		}
		s.logger.Info("syslog listening", "listener", syslogLabel(sl.cfg), "addr", sl.l.Addr().String(),
			"bucket", sl.cfg.Bucket, "origin", sl.cfg.Origin)
	}
	return nil
}

// stop stops every listener at once and waits for their goroutines: they
// stop reading and append what they read. When that takes longer than
// budget, appends in progress are cancelled (their records are counted as
// discarded, reason shutting_down). A budget of 0 cancels at once.
func (s *syslogServer) stop(budget time.Duration) {
	defer s.cancel()
	if len(s.listeners) == 0 {
		return
	}
	if budget <= 0 {
		s.cancel()
	}
	var wg sync.WaitGroup
	for _, sl := range s.listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sl.l.Close()
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	t := time.NewTimer(max(budget, 0))
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	if budget > 0 {
		s.logger.Warn("syslog shutdown: appends still running after the shutdown budget; cancelling them",
			"budget", budget)
	}
	s.cancel()
	<-done
}

// syslogAppender appends the listeners' batches to the commit log the way
// the HTTP ingest path does: it creates a missing bucket when
// ingest.auto_create_buckets is on. An overloaded or read-only commit log
// is reported as syslog.ErrTemporary, so that the listener retries the
// batch and stops reading meanwhile: TCP senders are held back by flow
// control and keep their messages instead of losing them. A read-only log
// lasts until a restart; holding senders back until then (they queue, and
// /healthz reports the state) loses less than dropping batch after batch.
type syslogAppender struct {
	log        commitlog.Log // set by syslogServer.start, before any append
	autoCreate bool
}

// Append implements syslog.Appender.
func (a *syslogAppender) Append(ctx context.Context, bucket string, res *ingest.Result) error {
	req := commitlog.AppendRequest{Bucket: bucket, Records: res.Records}
	_, err := a.log.Append(ctx, req)
	if errors.Is(err, commitlog.ErrBucketNotFound) && a.autoCreate {
		if err = a.log.CreateBucket(ctx, bucket); err == nil {
			_, err = a.log.Append(ctx, req)
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, commitlog.ErrOverloaded), errors.Is(err, commitlog.ErrReadOnly):
		return fmt.Errorf("%w: %w", syslog.ErrTemporary, err)
	case errors.Is(err, commitlog.ErrBucketNotFound):
		return fmt.Errorf("bucket %q does not exist and ingest.auto_create_buckets is off: %w", bucket, err)
	}
	return err
}

// syslogMetrics are the Prometheus metrics of the syslog listeners, one
// series per listener (label listener="network://address").
type syslogMetrics struct {
	messages  *prometheus.CounterVec
	records   *prometheus.CounterVec
	discarded *prometheus.CounterVec
	events    *prometheus.CounterVec
	open      *prometheus.GaugeVec
}

func newSyslogMetrics() *syslogMetrics {
	return &syslogMetrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbucket_syslog_messages_total",
			Help: "Syslog messages received, by listener and format (rfc5424, rfc3164, unparsed)."},
			[]string{"listener", "format"}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbucket_syslog_records_total",
			Help: "Syslog records made durable in the commit log, by listener and bucket."},
			[]string{"listener", "bucket"}),
		discarded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbucket_syslog_discarded_total",
			Help: "Syslog records dropped, fields dropped and records cut, by listener, bucket and reason."},
			[]string{"listener", "bucket", "reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbucket_syslog_connection_events_total",
			Help: "Syslog TCP and TLS connections accepted, closed, refused, idle_timeout and error (error also counts UDP read errors), by listener."},
			[]string{"listener", "event"}),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logbucket_syslog_open_connections",
			Help: "Syslog TCP and TLS connections open, by listener."},
			[]string{"listener"}),
	}
}

func (m *syslogMetrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.messages, m.records, m.discarded, m.events, m.open} {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("register syslog metrics: %w", err)
		}
	}
	return nil
}

// forListener returns the syslog.Metrics of one listener. Its series that
// always matter start at 0, so that they exist before the first message.
func (m *syslogMetrics) forListener(listener, bucket string) syslog.Metrics {
	lm := &listenerMetrics{m: m, listener: listener, bucket: bucket,
		records: m.records.WithLabelValues(listener, bucket), open: m.open.WithLabelValues(listener)}
	for _, f := range []syslog.Format{syslog.FormatRFC5424, syslog.FormatRFC3164, syslog.FormatUnparsed} {
		m.messages.WithLabelValues(listener, f.String())
	}
	return lm
}

// listenerMetrics implements syslog.Metrics for one listener. It is called
// once per batch or connection event, so looking up labels is cheap enough.
type listenerMetrics struct {
	m                *syslogMetrics
	listener, bucket string
	records          prometheus.Counter
	open             prometheus.Gauge
}

func (lm *listenerMetrics) Received(f syslog.Format, n int) {
	lm.m.messages.WithLabelValues(lm.listener, f.String()).Add(float64(n))
}

func (lm *listenerMetrics) Stored(n int) { lm.records.Add(float64(n)) }

func (lm *listenerMetrics) Discarded(reason string, n int) {
	lm.m.discarded.WithLabelValues(lm.listener, lm.bucket, reason).Add(float64(n))
}

func (lm *listenerMetrics) Connection(event string) {
	lm.m.events.WithLabelValues(lm.listener, event).Inc()
	switch event {
	case syslog.ConnAccepted:
		lm.open.Inc()
	case syslog.ConnClosed:
		lm.open.Dec()
	}
}
