package syslog

// Discard reasons of this package, besides the ingest ones that records
// carry in ingest.Result.Discards (ingest.ReasonTruncated counts messages
// cut by the framing limit as well as by the record size limit). They are
// stable: they are meant as the values of a reason label.
const (
	// ReasonAppendFailed counts records dropped because the appender
	// returned an error that is not ErrTemporary.
	ReasonAppendFailed = "append_failed"
	// ReasonShuttingDown counts records dropped because the listener
	// stopped (Close, or its context ended) before the appender took them.
	ReasonShuttingDown = "shutting_down"
)

// Connection events, for Metrics.Connection.
const (
	// ConnAccepted counts TCP and TLS connections accepted; each one is
	// counted once more as ConnClosed when it ends.
	ConnAccepted = "accepted"
	ConnClosed   = "closed"
	// ConnRefused counts connections closed at once because
	// Config.MaxConnections were open, or the listener was stopping.
	ConnRefused = "refused"
	// ConnIdleTimeout counts connections closed because no complete
	// message arrived for Config.IdleTimeout.
	ConnIdleTimeout = "idle_timeout"
	// ConnError counts connections ended by a read or TLS handshake error,
	// and UDP read errors.
	ConnError = "error"
)

// Metrics receives a listener's counters, so that the caller can export
// them (for example as Prometheus counters labelled with the listener's
// network and bucket). Implementations must be safe for concurrent use.
// They are called once per batch and per connection event, never per
// message.
type Metrics interface {
	// Received counts n messages read off the network and decoded as f.
	Received(f Format, n int)
	// Stored counts n records the appender made durable.
	Stored(n int)
	// Discarded counts n dropped records, dropped fields or cut records by
	// reason: the ingest.Reason constants and this package's.
	Discarded(reason string, n int)
	// Connection counts one connection event (the Conn constants).
	Connection(event string)
}

// NopMetrics counts nothing. Embed it to implement part of Metrics.
type NopMetrics struct{}

// Received does nothing.
func (NopMetrics) Received(Format, int) {}

// Stored does nothing.
func (NopMetrics) Stored(int) {}

// Discarded does nothing.
func (NopMetrics) Discarded(string, int) {}

// Connection does nothing.
func (NopMetrics) Connection(string) {}
