package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration of `logbucket server`. The zero value
// is not usable; start from Default or Load.
type Config struct {
	Data           string                    `yaml:"data"`       // data directory
	Listen         string                    `yaml:"listen"`     // HTTP listen address, host:port
	LogLevel       string                    `yaml:"log_level"`  // debug|info|warn|error
	LogFormat      string                    `yaml:"log_format"` // text|json
	HTTP           HTTP                      `yaml:"http"`
	Ingest         Ingest                    `yaml:"ingest"`
	CommitLog      CommitLog                 `yaml:"commitlog"`
	Indexer        Indexer                   `yaml:"indexer"`
	Query          Query                     `yaml:"query"`
	BucketDefaults Bucket                    `yaml:"bucket_defaults"`
	Buckets        map[string]BucketOverride `yaml:"buckets,omitempty"` // per-bucket settings (YAML only); see Config.Bucket
	Syslog         Syslog                    `yaml:"syslog,omitempty"`  // syslog listeners; none by default
}

// Syslog holds the syslog listeners. There are none by default: a
// listener exists only when the file lists it or a --syslog-* flag adds it.
// Config.SyslogListeners returns both kinds with the defaults applied.
type Syslog struct {
	Listeners []SyslogListener `yaml:"listeners,omitempty"`

	// The fields below are set by the --syslog-* flags and have no YAML
	// key: each address adds a listener on top of Listeners.
	TCP     []string `yaml:"-"` // --syslog-tcp HOST:PORT, repeatable
	UDP     []string `yaml:"-"` // --syslog-udp HOST:PORT, repeatable
	TLS     []string `yaml:"-"` // --syslog-tls HOST:PORT, repeatable
	TLSCert string   `yaml:"-"` // --syslog-tls-cert FILE, for the --syslog-tls listeners
	TLSKey  string   `yaml:"-"` // --syslog-tls-key FILE, for the --syslog-tls listeners
	Bucket  string   `yaml:"-"` // --syslog-bucket NAME, for the flag listeners; "" = ingest.default_bucket
}

// SyslogListener configures one syslog listener: one socket whose messages
// all go to one bucket. A listener read from the file starts from
// DefaultSyslogListener; in a SyslogListener built in Go, zero values take
// the same defaults (a nil StreamFields too; an empty one means none).
type SyslogListener struct {
	Network         string   `yaml:"network"`             // tcp, tls or udp (required)
	Address         string   `yaml:"address"`             // HOST:PORT to listen on (required)
	Bucket          string   `yaml:"bucket,omitempty"`    // bucket of every record; "" = ingest.default_bucket
	StreamFields    []string `yaml:"stream_fields"`       // fields that identify a stream; [] = none
	TimeZone        string   `yaml:"time_zone"`           // of timestamps without an offset (RFC 3164): UTC, Local or an IANA name
	CertFile        string   `yaml:"cert_file,omitempty"` // PEM certificate chain (tls only, required there)
	KeyFile         string   `yaml:"key_file,omitempty"`  // PEM private key (tls only, required there)
	MaxMessageBytes ByteSize `yaml:"max_message_bytes"`   // longer messages are cut (and marked _truncated)
	IdleTimeout     Duration `yaml:"idle_timeout"`        // close a connection silent for this long (tcp, tls)
	MaxConnections  int      `yaml:"max_connections"`     // open connections at most; more are closed at once (tcp, tls)

	// Origin names where the listener was configured, for messages and
	// logs: "syslog.listeners[2]" or "--syslog-tcp". Config.SyslogListeners
	// sets it; it is not read from the file.
	Origin string `yaml:"-"`
}

// Syslog listener networks.
const (
	SyslogTCP = "tcp"
	SyslogTLS = "tls"
	SyslogUDP = "udp"
)

// Defaults of a syslog listener. They equal those of package ingest/syslog
// (which imports this package, so they cannot be taken from it; a test in
// internal/app checks that they agree).
const (
	DefaultSyslogMaxMessageBytes = 64 * KiB // rsyslog's default maxMessageSize
	DefaultSyslogIdleTimeout     = Duration(10 * time.Minute)
	DefaultSyslogMaxConnections  = 1000
	DefaultSyslogTimeZone        = "UTC"
)

// DefaultSyslogListener returns a listener with every default set and no
// network, address or bucket.
func DefaultSyslogListener() SyslogListener {
	return SyslogListener{
		StreamFields:    []string{"hostname", "app_name"},
		TimeZone:        DefaultSyslogTimeZone,
		MaxMessageBytes: DefaultSyslogMaxMessageBytes,
		IdleTimeout:     DefaultSyslogIdleTimeout,
		MaxConnections:  DefaultSyslogMaxConnections,
	}
}

// UnmarshalYAML decodes a listener over DefaultSyslogListener, so that the
// keys the file leaves out keep their defaults.
func (l *SyslogListener) UnmarshalYAML(n *yaml.Node) error {
	type plain SyslogListener // without this method
	p := plain(DefaultSyslogListener())
	if err := n.Decode(&p); err != nil {
		return err
	}
	*l = SyslogListener(p)
	return nil
}

// SyslogListeners returns every syslog listener, those of the file
// (Syslog.Listeners) first, then those the flags add (--syslog-tcp, then
// --syslog-udp, then --syslog-tls), with every default applied: the bucket,
// the stream fields, the time zone and the limits. Origin names each one.
// The result shares no memory with c.
func (c *Config) SyslogListeners() []SyslogListener {
	var out []SyslogListener
	for i, l := range c.Syslog.Listeners {
		l.Origin = fmt.Sprintf("syslog.listeners[%d]", i)
		out = append(out, l)
	}
	for _, f := range []struct {
		network string
		addrs   []string
	}{{SyslogTCP, c.Syslog.TCP}, {SyslogUDP, c.Syslog.UDP}, {SyslogTLS, c.Syslog.TLS}} {
		for _, a := range f.addrs {
			l := DefaultSyslogListener()
			l.Network, l.Address, l.Bucket, l.Origin = f.network, a, c.Syslog.Bucket, "--syslog-"+f.network
			if f.network == SyslogTLS {
				l.CertFile, l.KeyFile = c.Syslog.TLSCert, c.Syslog.TLSKey
			}
			out = append(out, l)
		}
	}
	for i := range out {
		l := &out[i]
		if l.Bucket == "" {
			l.Bucket = c.Ingest.DefaultBucket
		}
		d := DefaultSyslogListener()
		if l.StreamFields == nil {
			l.StreamFields = d.StreamFields
		} else {
			l.StreamFields = cloneStrings(l.StreamFields)
		}
		if l.TimeZone == "" {
			l.TimeZone = d.TimeZone
		}
		if l.MaxMessageBytes == 0 {
			l.MaxMessageBytes = d.MaxMessageBytes
		}
		if l.IdleTimeout == 0 {
			l.IdleTimeout = d.IdleTimeout
		}
		if l.MaxConnections == 0 {
			l.MaxConnections = d.MaxConnections
		}
	}
	return out
}

// Indexer holds the settings of the indexer that turns each bucket's
// commit log into searchable parts.
type Indexer struct {
	FlushInterval Duration `yaml:"flush_interval"` // write unflushed records to a part at least this often
	FlushRows     int      `yaml:"flush_rows"`     // ... or when this many are waiting
	MaxTailBytes  ByteSize `yaml:"max_tail_bytes"` // memory for unflushed records per bucket
}

// Query holds the limits every query runs under.
type Query struct {
	MaxMemoryBytes ByteSize `yaml:"max_memory_bytes"` // memory budget of one query (sort, stats, uniq...)
	Timeout        Duration `yaml:"timeout"`          // time limit of one query
	MaxConcurrent  int      `yaml:"max_concurrent"`   // queries running at once; more get 503
	// FilterCacheBytes bounds the parsed bloom filters kept for queries
	// (shared by all; least recently used parts are evicted).
	FilterCacheBytes ByteSize `yaml:"filter_cache_bytes"`
}

// HTTP holds the HTTP server limits. All timeouts are positive.
type HTTP struct {
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"` // time to read request headers (slowloris)
	ReadTimeout       Duration `yaml:"read_timeout"`        // time to read a whole request, body included
	WriteTimeout      Duration `yaml:"write_timeout"`       // time to write a response; > MaxPollWait
	IdleTimeout       Duration `yaml:"idle_timeout"`        // keep-alive idle time
	MaxPollWait       Duration `yaml:"max_poll_wait"`       // cap of ?wait= on record long-polls; 0 = no waiting
	ShutdownTimeout   Duration `yaml:"shutdown_timeout"`    // graceful shutdown budget
	Pprof             bool     `yaml:"pprof"`               // serve Go's profiler on /debug/pprof/
}

// Ingest holds the limits applied to incoming log data.
type Ingest struct {
	MaxLineBytes          ByteSize `yaml:"max_line_bytes"`          // longest accepted log line
	MaxFields             int      `yaml:"max_fields"`              // most fields in one record
	MaxFieldNameBytes     ByteSize `yaml:"max_field_name_bytes"`    // longest field name
	MaxRequestBytes       ByteSize `yaml:"max_request_bytes"`       // request body as received (maybe compressed)
	MaxDecompressedBytes  ByteSize `yaml:"max_decompressed_bytes"`  // request body after decompression
	MemoryBytes           ByteSize `yaml:"memory_bytes"`            // ingest memory budget; over it → 503 Retry-After
	MaxConcurrentRequests int      `yaml:"max_concurrent_requests"` // ingest requests processed at once
	AutoCreateBuckets     bool     `yaml:"auto_create_buckets"`     // create a bucket on first write
	DefaultBucket         string   `yaml:"default_bucket"`          // bucket for writes that name none
	TimeField             string   `yaml:"time_field"`              // field holding the timestamp
	MsgFields             []string `yaml:"msg_fields"`              // fields tried in order for the message
}

// CommitLog holds the settings of the partitioned commit logs.
type CommitLog struct {
	SegmentBytes           ByteSize `yaml:"segment_bytes"`            // roll a segment when it reaches this size
	SegmentAge             Duration `yaml:"segment_age"`              // roll an active segment older than this
	IndexIntervalBytes     ByteSize `yaml:"index_interval_bytes"`     // sparse offset index granularity
	Compression            string   `yaml:"compression"`              // zstd|s2|none
	MaxPendingBytes        ByteSize `yaml:"max_pending_bytes"`        // per-partition write queue; over → 503
	RetentionCheckInterval Duration `yaml:"retention_check_interval"` // how often retention runs
	DedupWindow            Duration `yaml:"dedup_window"`             // X-Logbucket-Batch-Id memory; 0 = no dedup
	DedupMaxEntries        int      `yaml:"dedup_max_entries"`        // most batch ids remembered
}

// Bucket holds the settings of one bucket.
type Bucket struct {
	Partitions     int      `yaml:"partitions"`      // 1..1024
	StreamFields   []string `yaml:"stream_fields"`   // fields identifying a stream; empty = none
	RetentionAge   Duration `yaml:"retention_age"`   // 0 = keep forever
	RetentionBytes ByteSize `yaml:"retention_bytes"` // 0 = unlimited; per bucket, split evenly over partitions
	RequiredGroups []string `yaml:"required_groups"` // consumer groups whose uncommitted data retention never deletes
}

// BucketOverride holds the settings of one named bucket that differ from
// Config.BucketDefaults. A nil field takes the default; a non-nil pointer
// to an empty list explicitly sets the list to empty (YAML `[]`).
type BucketOverride struct {
	Partitions     *int      `yaml:"partitions,omitempty"`
	StreamFields   *[]string `yaml:"stream_fields,omitempty"`
	RetentionAge   *Duration `yaml:"retention_age,omitempty"`
	RetentionBytes *ByteSize `yaml:"retention_bytes,omitempty"`
	RequiredGroups *[]string `yaml:"required_groups,omitempty"`
}

// Default returns the built-in defaults. Every call returns fresh slices.
func Default() Config {
	return Config{
		Data:      "./logbucket-data",
		Listen:    "127.0.0.1:9700",
		LogLevel:  "info",
		LogFormat: "text",
		HTTP: HTTP{
			ReadHeaderTimeout: Duration(10 * time.Second),
			ReadTimeout:       Duration(2 * time.Minute),
			WriteTimeout:      Duration(2 * time.Minute),
			IdleTimeout:       Duration(2 * time.Minute),
			MaxPollWait:       Duration(30 * time.Second),
			ShutdownTimeout:   Duration(30 * time.Second),
		},
		Ingest: Ingest{
			MaxLineBytes:          256 * KiB,
			MaxFields:             1000,
			MaxFieldNameBytes:     1 * KiB,
			MaxRequestBytes:       64 * MiB,
			MaxDecompressedBytes:  256 * MiB,
			MemoryBytes:           1 * GiB,
			MaxConcurrentRequests: 64,
			AutoCreateBuckets:     true,
			DefaultBucket:         "default",
			TimeField:             "_time",
			MsgFields:             []string{"_msg", "message", "msg", "log"},
		},
		CommitLog: CommitLog{
			SegmentBytes:           128 * MiB,
			SegmentAge:             Duration(time.Hour),
			IndexIntervalBytes:     4 * KiB,
			Compression:            "zstd",
			MaxPendingBytes:        64 * MiB,
			RetentionCheckInterval: Duration(time.Minute),
			DedupWindow:            Duration(10 * time.Minute),
			DedupMaxEntries:        1000000,
		},
		Indexer: Indexer{
			FlushInterval: Duration(5 * time.Second),
			FlushRows:     100000,
			MaxTailBytes:  64 * MiB,
		},
		Query: Query{
			MaxMemoryBytes: 256 * MiB,
			Timeout:        Duration(time.Minute),
			MaxConcurrent:  8,
			// About 3.5 bytes per stored line: 75M lines' filters.
			FilterCacheBytes: 256 * MiB,
		},
		BucketDefaults: Bucket{
			Partitions: 4,
		},
	}
}

// Bucket returns the resolved settings of the named bucket: its override
// fields from c.Buckets over c.BucketDefaults. A bucket without an entry in
// c.Buckets gets the defaults. The result shares no memory with c.
func (c *Config) Bucket(name string) Bucket {
	b := c.BucketDefaults
	if o, ok := c.Buckets[name]; ok {
		if o.Partitions != nil {
			b.Partitions = *o.Partitions
		}
		if o.StreamFields != nil {
			b.StreamFields = *o.StreamFields
		}
		if o.RetentionAge != nil {
			b.RetentionAge = *o.RetentionAge
		}
		if o.RetentionBytes != nil {
			b.RetentionBytes = *o.RetentionBytes
		}
		if o.RequiredGroups != nil {
			b.RequiredGroups = *o.RequiredGroups
		}
	}
	b.StreamFields = cloneStrings(b.StreamFields)
	b.RequiredGroups = cloneStrings(b.RequiredGroups)
	return b
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string{}, s...)
}

// ValidBucketName reports whether name is a valid bucket name: 1 to 63
// characters from a-z, 0-9, '_' and '-', starting with a letter or digit
// (^[a-z0-9][a-z0-9_-]{0,62}$).
func ValidBucketName(name string) bool {
	if len(name) == 0 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}
