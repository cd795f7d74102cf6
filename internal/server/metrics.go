package server

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the HTTP layer's Prometheus metrics.
type metrics struct {
	records   *prometheus.CounterVec
	bytes     *prometheus.CounterVec
	discarded *prometheus.CounterVec
	requests  *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	memory    prometheus.GaugeFunc
}

func newMetrics(budget *memoryBudget) *metrics {
	return &metrics{
		records: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbucket_ingest_records_total",
			Help: "Records accepted and made durable, by bucket."}, []string{"bucket"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbucket_ingest_bytes_total",
			Help: "Decompressed request bytes of accepted ingest requests, by bucket."}, []string{"bucket"}),
		discarded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbucket_ingest_discarded_total",
			Help: "Rejected lines, dropped fields, truncations and refused requests, by bucket and reason."},
			[]string{"bucket", "reason"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "logbucket_http_request_duration_seconds",
			Help:    "HTTP request latency by route and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)}, []string{"route", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "logbucket_http_requests_in_flight",
			Help: "HTTP requests being served."}),
		memory: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logbucket_ingest_memory_bytes",
			Help: "Bytes of the ingest memory budget (ingest.memory_bytes) held by requests."},
			func() float64 { return float64(budget.inUse()) }),
	}
}

func (m *metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.records, m.bytes, m.discarded, m.requests, m.inFlight, m.memory} {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("register http metrics: %w", err)
		}
	}
	return nil
}
