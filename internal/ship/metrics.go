package ship

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the shipper's Prometheus series, on the registry it is given.
type metrics struct {
	readBytes   *prometheus.CounterVec // {input}
	lines       *prometheus.CounterVec // {input}
	records     *prometheus.CounterVec // {input}: acknowledged by the server
	rejected    *prometheus.CounterVec // {input}
	batches     *prometheus.CounterVec // {input,result}
	linesCut    *prometheus.CounterVec // {input}
	truncations *prometheus.CounterVec // {input}
	released    *prometheus.CounterVec // {input}
	adopted     *prometheus.CounterVec // {input,how}
	dropped     *prometheus.CounterVec // {input}
	retries     prometheus.Counter
	sendErrors  prometheus.Counter

	checkpointWrites  prometheus.Counter
	checkpointErrors  prometheus.Counter
	checkpointSeconds prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, sh *Shipper) *metrics {
	vec := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logbucket_ship_" + name, Help: help}, labels)
	}
	m := &metrics{
		readBytes:   vec("read_bytes_total", "Bytes read from files.", "input"),
		lines:       vec("lines_total", "Lines read from files.", "input"),
		records:     vec("records_total", "Records the server acknowledged (multi-line records count once).", "input"),
		rejected:    vec("rejected_records_total", "Records the server rejected (answered with a reason).", "input"),
		batches:     vec("batches_total", "Batches acknowledged; result is stored or duplicate (a re-sent batch the server had).", "input", "result"),
		linesCut:    vec("lines_cut_total", "Lines longer than max_line_bytes, cut with a marker.", "input"),
		truncations: vec("truncations_total", "Files found truncated (copytruncate) or rewritten.", "input"),
		released:    vec("files_released_total", "Files read to their end after they were renamed away or deleted, then closed.", "input"),
		adopted:     vec("files_resumed_total", "Checkpointed files found again: how=path, inode (renamed) or copy (copytruncate).", "input", "how"),
		dropped:     vec("checkpoints_dropped_total", "Checkpoints dropped because their file was not found within detached_timeout.", "input"),
		retries: prometheus.NewCounter(prometheus.CounterOpts{Name: "logbucket_ship_retries_total",
			Help: "Requests retried (server unreachable, 429, 5xx)."}),
		sendErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "logbucket_ship_send_errors_total",
			Help: "Answers that retrying cannot fix (4xx); the batch is retried every max_backoff until the cause is fixed."}),
		checkpointWrites: prometheus.NewCounter(prometheus.CounterOpts{Name: "logbucket_ship_checkpoint_writes_total",
			Help: "Checkpoint file writes (each fsync'd and renamed)."}),
		checkpointErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "logbucket_ship_checkpoint_errors_total",
			Help: "Checkpoint writes that failed (retried; sending waits)."}),
		checkpointSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "logbucket_ship_checkpoint_write_seconds",
			Help: "Time to write and fsync the checkpoint.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.readBytes, m.lines, m.records, m.rejected, m.batches, m.linesCut, m.truncations,
		m.released, m.adopted, m.dropped, m.retries, m.sendErrors, m.checkpointWrites, m.checkpointErrors, m.checkpointSeconds,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logbucket_ship_files_open", Help: "Files being followed (open)."},
			func() float64 { return float64(sh.Stats().Files) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logbucket_ship_bytes_behind",
			Help: "Bytes of open files not yet acknowledged by the server."},
			func() float64 { return float64(sh.Stats().BytesBehind) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "logbucket_ship_inflight_bytes",
			Help: "NDJSON bytes of batches being built, queued or sent (bounded by max_inflight_bytes)."},
			func() float64 { return float64(sh.budget.inUse()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}
