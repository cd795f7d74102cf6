package syslog

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/ingest"
)

// Networks a listener serves.
const (
	NetworkTCP = "tcp"
	NetworkTLS = "tls"
	NetworkUDP = "udp"
)

// Defaults of Config's limits.
const (
	// DefaultMaxMessageBytes is rsyslog's default maxMessageSize.
	DefaultMaxMessageBytes = 64 << 10
	// DefaultIdleTimeout is long: a sender that writes to a connection the
	// server closed loses what it writes before it notices.
	DefaultIdleTimeout    = 10 * time.Minute
	DefaultMaxConnections = 1000
	DefaultBatchMessages  = 1000
	DefaultBatchBytes     = 256 << 10
	DefaultBatchDelay     = 100 * time.Millisecond
)

// Config configures one listener. Zero limits take the defaults; negative
// ones are an error.
type Config struct {
	// Network is NetworkTCP, NetworkTLS or NetworkUDP.
	Network string
	// Address is the host:port to listen on (":514", "127.0.0.1:0").
	Address string
	// Bucket receives every record of the listener.
	Bucket string
	// StreamFields names the fields that become stream fields. Nil means
	// DefaultStreamFields (hostname, app_name); an empty, non-nil slice
	// means none.
	StreamFields []string
	// TimeZone is the zone of timestamps without an offset (RFC 3164):
	// "" or "UTC", "Local", or an IANA name such as "Europe/Berlin".
	TimeZone string
	// CertFile and KeyFile hold the PEM certificate chain and key of a
	// TLS listener, read by New.
	CertFile, KeyFile string
	// TLSConfig, if set, is used for a TLS listener instead of CertFile
	// and KeyFile (client certificates, certificate reloading).
	TLSConfig *tls.Config
	// Ingest holds the shared ingest rules (message field names and
	// limits). Nil means ingest.DefaultOptions(). Its TimeField, Now and
	// StreamFields are not used: syslog carries its own time, and
	// StreamFields above names the stream fields.
	Ingest *ingest.Options

	// MaxMessageBytes cuts longer messages (see Framer); the default is
	// DefaultMaxMessageBytes.
	MaxMessageBytes int
	// IdleTimeout closes a TCP or TLS connection on which no complete
	// message arrived for that long.
	IdleTimeout time.Duration
	// MaxConnections bounds the open TCP or TLS connections; extra ones
	// are closed at once.
	MaxConnections int
	// A batch is appended when it holds BatchMessages messages or
	// BatchBytes bytes of messages, or BatchDelay after its first message.
	BatchMessages int
	BatchBytes    int
	BatchDelay    time.Duration
	// UDPReadBuffer sets the UDP socket's receive buffer (SO_RCVBUF) when
	// positive; 0 keeps the system's default.
	UDPReadBuffer int

	// Metrics receives the counters; nil counts nothing.
	Metrics Metrics
	// Logger receives append and connection errors; nil logs nothing.
	Logger *slog.Logger
}

// settings are a validated Config with the defaults applied.
type settings struct {
	Config
	loc  *time.Location
	tls  *tls.Config
	opts ingest.Options
}

func (c Config) settings() (*settings, error) {
	s := &settings{Config: c}
	switch c.Network {
	case NetworkTCP, NetworkTLS, NetworkUDP:
	default:
		return nil, fmt.Errorf("syslog listener network %q: use %q, %q or %q", c.Network, NetworkTCP, NetworkTLS, NetworkUDP)
	}
	if c.Address == "" {
		return nil, fmt.Errorf("syslog %s listener: no address", c.Network)
	}
	if !config.ValidBucketName(c.Bucket) {
		return nil, fmt.Errorf("syslog %s listener %s: bucket name %q is invalid", c.Network, c.Address, c.Bucket)
	}
	for _, l := range []struct {
		name string
		v    int64
	}{
		{"max message bytes", int64(c.MaxMessageBytes)}, {"idle timeout", int64(c.IdleTimeout)},
		{"max connections", int64(c.MaxConnections)}, {"batch messages", int64(c.BatchMessages)},
		{"batch bytes", int64(c.BatchBytes)}, {"batch delay", int64(c.BatchDelay)},
		{"UDP read buffer", int64(c.UDPReadBuffer)},
	} {
		if l.v < 0 {
			return nil, fmt.Errorf("syslog %s listener %s: negative %s", c.Network, c.Address, l.name)
		}
	}
	s.MaxMessageBytes = orDefault(c.MaxMessageBytes, DefaultMaxMessageBytes)
	s.IdleTimeout = orDefault(c.IdleTimeout, DefaultIdleTimeout)
	s.MaxConnections = orDefault(c.MaxConnections, DefaultMaxConnections)
	s.BatchMessages = orDefault(c.BatchMessages, DefaultBatchMessages)
	s.BatchBytes = orDefault(c.BatchBytes, DefaultBatchBytes)
	s.BatchDelay = orDefault(c.BatchDelay, DefaultBatchDelay)
	if c.StreamFields == nil {
		s.StreamFields = DefaultStreamFields()
	} else {
		s.StreamFields = slices.Clone(c.StreamFields)
	}
	var err error
	if s.loc, err = time.LoadLocation(c.TimeZone); err != nil {
		return nil, fmt.Errorf("syslog %s listener %s: time zone: %w", c.Network, c.Address, err)
	}
	s.opts = ingest.DefaultOptions()
	if c.Ingest != nil {
		s.opts = *c.Ingest
	}
	s.opts.StreamFields = nil
	if s.Metrics == nil {
		s.Metrics = NopMetrics{}
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Network == NetworkTLS {
		if s.tls, err = c.tlsConfig(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (c Config) tlsConfig() (*tls.Config, error) {
	if c.TLSConfig != nil {
		return c.TLSConfig.Clone(), nil
	}
	if c.CertFile == "" || c.KeyFile == "" {
		return nil, fmt.Errorf("syslog tls listener %s: needs CertFile and KeyFile, or TLSConfig", c.Address)
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("syslog tls listener %s: load key pair: %w", c.Address, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
