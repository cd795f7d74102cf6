package commitlog

import (
	"context"
	"fmt"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the commit log's Prometheus metrics. Sizes and lag are
// computed at scrape time by the collector, so they are never stale.
type metrics struct {
	l                *Embedded
	fsyncSeconds     prometheus.Histogram
	groupAppends     prometheus.Histogram
	groupBytes       prometheus.Histogram
	records          *prometheus.CounterVec
	bytes            *prometheus.CounterVec
	recoveryCuts     prometheus.Counter
	recoveryBytes    prometheus.Counter
	retentionDeleted prometheus.Counter

	logBytes  *prometheus.Desc
	endOffset *prometheus.Desc
	lag       *prometheus.Desc
	readOnly  *prometheus.Desc
	dedupSize *prometheus.Desc
}

func newMetrics(l *Embedded) *metrics {
	const ns, sub = "logbucket", "commitlog"
	return &metrics{
		l: l,
		fsyncSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "fsync_duration_seconds", Help: "Time of one segment fdatasync.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16)}),
		groupAppends: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "group_commit_appends", Help: "Appends that shared one write and fsync (group commit batch size).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}),
		groupBytes: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub,
			Name: "group_commit_bytes", Help: "Bytes written by one group commit.",
			Buckets: prometheus.ExponentialBuckets(1024, 4, 10)}),
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "appended_records_total", Help: "Records made durable, by bucket."}, []string{"bucket"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "appended_bytes_total", Help: "Compressed bytes made durable, by bucket."}, []string{"bucket"}),
		recoveryCuts: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "recovery_damaged_segments_total", Help: "Segments whose damaged tail recovery cut or reported as a gap."}),
		recoveryBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "recovery_damaged_bytes_total", Help: "Bytes recovery found damaged and did not keep."}),
		retentionDeleted: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "retention_deleted_segments_total", Help: "Segments deleted by retention."}),
		logBytes: prometheus.NewDesc(ns+"_"+sub+"_log_bytes", "Bytes of segments on disk, by bucket.", []string{"bucket"}, nil),
		endOffset: prometheus.NewDesc(ns+"_"+sub+"_end_offset", "Offset the next record of a partition gets.",
			[]string{"bucket", "partition"}, nil),
		lag: prometheus.NewDesc(ns+"_"+sub+"_consumer_lag_records", "Records a consumer group has not committed, by bucket and group.",
			[]string{"bucket", "group"}, nil),
		readOnly:  prometheus.NewDesc(ns+"_"+sub+"_read_only", "1 when an I/O error made the log read-only.", nil, nil),
		dedupSize: prometheus.NewDesc(ns+"_"+sub+"_dedup_entries", "Batch ids remembered for idempotent retries.", nil, nil),
	}
}

func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.fsyncSeconds, m.groupAppends, m.groupBytes, m.records,
		m.bytes, m.recoveryCuts, m.recoveryBytes, m.retentionDeleted, m} {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("register commit log metrics: %w", err)
		}
	}
	return nil
}

func (m *metrics) observeGroup(appends, bytes int) {
	m.groupAppends.Observe(float64(appends))
	m.groupBytes.Observe(float64(bytes))
}

func (m *metrics) appended(bucket string, records, bytes int64) {
	m.records.WithLabelValues(bucket).Add(float64(records))
	m.bytes.WithLabelValues(bucket).Add(float64(bytes))
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.logBytes
	ch <- m.endOffset
	ch <- m.lag
	ch <- m.readOnly
	ch <- m.dedupSize
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	ro := 0.0
	if m.l.failed() != nil {
		ro = 1
	}
	ch <- prometheus.MustNewConstMetric(m.readOnly, prometheus.GaugeValue, ro)
	ch <- prometheus.MustNewConstMetric(m.dedupSize, prometheus.GaugeValue, float64(m.l.dedup.len()))
	for _, name := range m.l.Buckets() {
		info, err := m.l.Bucket(context.Background(), name)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(m.logBytes, prometheus.GaugeValue, float64(info.Bytes), name)
		for _, p := range info.Partitions {
			ch <- prometheus.MustNewConstMetric(m.endOffset, prometheus.GaugeValue, float64(p.End), name, strconv.Itoa(p.Partition))
		}
		for _, g := range info.Groups {
			ch <- prometheus.MustNewConstMetric(m.lag, prometheus.GaugeValue, float64(g.Lag), name, g.Group)
		}
	}
}
