package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDefaultValidates(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	if c.Listen != "127.0.0.1:9700" {
		t.Errorf("default listen %q is not loopback-only", c.Listen)
	}
}

func TestDefaultReturnsFreshSlices(t *testing.T) {
	a := Default()
	a.Ingest.MsgFields[0] = "changed"
	if b := Default(); b.Ingest.MsgFields[0] != "_msg" {
		t.Fatalf("Default shares MsgFields between calls: got %q", b.Ingest.MsgFields[0])
	}
}

func ptr[T any](v T) *T { return &v }

// problemCount is the number of problems a Validate error lists.
func problemCount(err error) int {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return len(j.Unwrap())
	}
	return 1
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   string // substring of the only problem; "" = valid
	}{
		{"empty data", func(c *Config) { c.Data = " " }, "data must name the data directory"},
		{"listen without port", func(c *Config) { c.Listen = "9700" }, `listen must be HOST:PORT, e.g. 127.0.0.1:9700, or :9700 for all interfaces (got "9700")`},
		{"listen named port", func(c *Config) { c.Listen = "localhost:http" }, `port "http" is not a number`},
		{"listen port too big", func(c *Config) { c.Listen = ":65536" }, `port "65536"`},
		{"listen all interfaces", func(c *Config) { c.Listen = ":9700" }, ""},
		{"listen ipv6", func(c *Config) { c.Listen = "[::1]:0" }, ""},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, `log_level must be one of debug, info, warn, error (got "verbose")`},
		{"log level case", func(c *Config) { c.LogLevel = "INFO" }, "log_level must be one of"},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, `log_format must be one of text, json (got "xml")`},

		{"read header timeout zero", func(c *Config) { c.HTTP.ReadHeaderTimeout = 0 }, "http.read_header_timeout must be a positive duration"},
		{"read timeout negative", func(c *Config) { c.HTTP.ReadTimeout = Duration(-time.Second) }, "http.read_timeout must be a positive duration such as 30s (got -1s)"},
		{"write timeout zero", func(c *Config) { c.HTTP.WriteTimeout = 0 }, "http.write_timeout must be a positive duration"},
		{"idle timeout zero", func(c *Config) { c.HTTP.IdleTimeout = 0 }, "http.idle_timeout must be a positive duration"},
		{"shutdown timeout zero", func(c *Config) { c.HTTP.ShutdownTimeout = 0 }, "http.shutdown_timeout must be a positive duration"},
		{"header timeout over read timeout", func(c *Config) { c.HTTP.ReadHeaderTimeout = Duration(3 * time.Minute) }, "http.read_header_timeout (3m) must not exceed http.read_timeout (2m)"},
		{"poll wait negative", func(c *Config) { c.HTTP.MaxPollWait = Duration(-time.Second) }, "http.max_poll_wait must be 0 or a positive duration"},
		{"poll wait zero", func(c *Config) { c.HTTP.MaxPollWait = 0 }, ""},
		{"poll wait reaches write timeout", func(c *Config) { c.HTTP.MaxPollWait = c.HTTP.WriteTimeout }, "http.max_poll_wait (2m) must be less than http.write_timeout (2m)"},

		{"line bytes too small", func(c *Config) { c.Ingest.MaxLineBytes = 12 }, "ingest.max_line_bytes must be between 1KiB and 64MiB (got 12)"},
		{"line bytes too large", func(c *Config) { c.Ingest.MaxLineBytes = 65 * MiB }, "ingest.max_line_bytes must be between 1KiB and 64MiB (got 65MiB)"},
		{"max fields zero", func(c *Config) { c.Ingest.MaxFields = 0 }, "ingest.max_fields must be between 1 and 100000 (got 0)"},
		{"field name bytes zero", func(c *Config) { c.Ingest.MaxFieldNameBytes = 0 }, "ingest.max_field_name_bytes must be between 1 and 64KiB (got 0)"},
		{"field name over line", func(c *Config) { c.Ingest.MaxLineBytes = 2 * KiB; c.Ingest.MaxFieldNameBytes = 4 * KiB }, "ingest.max_field_name_bytes (4KiB) must not exceed ingest.max_line_bytes (2KiB)"},
		{"request bytes too small", func(c *Config) { c.Ingest.MaxRequestBytes = 100 }, "ingest.max_request_bytes must be at least 1KiB (got 100)"},
		{"decompressed under line", func(c *Config) {
			c.Ingest.MaxLineBytes = 64 * MiB
			c.Ingest.MaxRequestBytes = 16 * MiB
			c.Ingest.MaxDecompressedBytes = 32 * MiB
		}, "ingest.max_decompressed_bytes (32MiB) must be at least ingest.max_line_bytes (64MiB)"},
		{"decompressed under request", func(c *Config) { c.Ingest.MaxDecompressedBytes = 32 * MiB }, "ingest.max_decompressed_bytes (32MiB) must be at least ingest.max_request_bytes (64MiB)"},
		{"memory too small", func(c *Config) {
			c.Ingest.MemoryBytes = 512 * KiB
			c.Ingest.MaxRequestBytes = 256 * KiB
		}, "ingest.memory_bytes must be at least 1MiB (got 512KiB)"},
		{"request over memory", func(c *Config) { c.Ingest.MemoryBytes = 32 * MiB }, "ingest.max_request_bytes (64MiB) must not exceed ingest.memory_bytes (32MiB)"},
		{"concurrency zero", func(c *Config) { c.Ingest.MaxConcurrentRequests = 0 }, "ingest.max_concurrent_requests must be between 1 and 65536 (got 0)"},
		{"auto create off", func(c *Config) { c.Ingest.AutoCreateBuckets = false }, ""},
		{"default bucket invalid", func(c *Config) { c.Ingest.DefaultBucket = "Logs" }, `ingest.default_bucket must be a valid bucket name`},
		{"time field empty", func(c *Config) { c.Ingest.TimeField = "" }, "ingest.time_field must name the timestamp field"},
		{"time field too long", func(c *Config) { c.Ingest.TimeField = strings.Repeat("t", 1025) }, "ingest.time_field is 1025 bytes long, over ingest.max_field_name_bytes (1KiB)"},
		{"msg fields empty", func(c *Config) { c.Ingest.MsgFields = nil }, "ingest.msg_fields must list at least one field name"},
		{"msg field blank", func(c *Config) { c.Ingest.MsgFields = []string{"_msg", ""} }, `ingest.msg_fields[1] must be a field name (got "")`},
		{"msg field duplicate", func(c *Config) { c.Ingest.MsgFields = []string{"msg", "log", "msg"} }, `ingest.msg_fields lists "msg" twice`},
		{"msg field too long", func(c *Config) { c.Ingest.MsgFields = []string{strings.Repeat("m", 2000)} }, "ingest.msg_fields[0] is 2000 bytes long"},

		{"segment bytes too small", func(c *Config) { c.CommitLog.SegmentBytes = 1 * KiB }, "commitlog.segment_bytes must be between 64KiB and 1GiB (got 1KiB)"},
		{"segment bytes too large", func(c *Config) { c.CommitLog.SegmentBytes = 2 * GiB }, "commitlog.segment_bytes must be between 64KiB and 1GiB (got 2GiB)"},
		{"segment age zero", func(c *Config) { c.CommitLog.SegmentAge = 0 }, "commitlog.segment_age must be at least 1s (got 0s)"},
		{"index interval too small", func(c *Config) { c.CommitLog.IndexIntervalBytes = 100 }, "commitlog.index_interval_bytes must be between 256 and 1MiB (got 100)"},
		{"index interval over segment", func(c *Config) {
			c.CommitLog.SegmentBytes = 64 * KiB
			c.CommitLog.IndexIntervalBytes = 128 * KiB
		}, "commitlog.index_interval_bytes (128KiB) must not exceed commitlog.segment_bytes (64KiB)"},
		{"compression", func(c *Config) { c.CommitLog.Compression = "gzip" }, `commitlog.compression must be one of zstd, s2, none (got "gzip")`},
		{"compression s2", func(c *Config) { c.CommitLog.Compression = "s2" }, ""},
		{"compression none", func(c *Config) { c.CommitLog.Compression = "none" }, ""},
		{"pending under line", func(c *Config) { c.CommitLog.MaxPendingBytes = 128 * KiB }, "commitlog.max_pending_bytes (128KiB) must be at least ingest.max_line_bytes (256KiB)"},
		{"retention check too small", func(c *Config) { c.CommitLog.RetentionCheckInterval = Duration(time.Millisecond) }, "commitlog.retention_check_interval must be between 1s and 1d (got 1ms)"},
		{"retention check too large", func(c *Config) { c.CommitLog.RetentionCheckInterval = Duration(48 * time.Hour) }, "commitlog.retention_check_interval must be between 1s and 1d (got 2d)"},
		{"dedup window negative", func(c *Config) { c.CommitLog.DedupWindow = Duration(-time.Minute) }, "commitlog.dedup_window must be 0 (no deduplication) or a positive duration (got -1m)"},
		{"dedup entries negative", func(c *Config) { c.CommitLog.DedupMaxEntries = -1 }, "commitlog.dedup_max_entries must be between 0 and 100000000 (got -1)"},
		{"dedup entries zero while on", func(c *Config) { c.CommitLog.DedupMaxEntries = 0 }, "commitlog.dedup_max_entries must be positive while commitlog.dedup_window is set (10m)"},
		{"dedup off", func(c *Config) { c.CommitLog.DedupWindow = 0; c.CommitLog.DedupMaxEntries = 0 }, ""},

		{"partitions zero", func(c *Config) { c.BucketDefaults.Partitions = 0 }, "bucket_defaults.partitions must be between 1 and 1024 (got 0)"},
		{"partitions too many", func(c *Config) { c.BucketDefaults.Partitions = 1025 }, "bucket_defaults.partitions must be between 1 and 1024 (got 1025)"},
		{"partitions max", func(c *Config) { c.BucketDefaults.Partitions = 1024 }, ""},
		{"stream field duplicate", func(c *Config) { c.BucketDefaults.StreamFields = []string{"host", "host"} }, `bucket_defaults.stream_fields lists "host" twice`},
		{"stream field blank", func(c *Config) { c.BucketDefaults.StreamFields = []string{" "} }, `bucket_defaults.stream_fields[0] must be a field name`},
		{"retention age negative", func(c *Config) { c.BucketDefaults.RetentionAge = Duration(-time.Hour) }, "bucket_defaults.retention_age must be 0 (keep forever) or a positive duration"},
		{"retention bytes negative", func(c *Config) { c.BucketDefaults.RetentionBytes = -1 }, "bucket_defaults.retention_bytes must be 0 (unlimited) or a positive size"},
		{"retention bytes under segments", func(c *Config) { c.BucketDefaults.RetentionBytes = 100 * MiB }, "bucket_defaults.retention_bytes (100MiB) must be 0 or at least partitions × commitlog.segment_bytes (4 × 128MiB = 512MiB)"},
		{"retention bytes enough", func(c *Config) { c.BucketDefaults.RetentionBytes = 512 * MiB }, ""},
		{"required group blank", func(c *Config) { c.BucketDefaults.RequiredGroups = []string{""} }, `bucket_defaults.required_groups[0] must be a consumer group name`},
		{"required group duplicate", func(c *Config) { c.BucketDefaults.RequiredGroups = []string{"a", "a"} }, `bucket_defaults.required_groups lists "a" twice`},

		{"bucket name invalid", func(c *Config) { c.Buckets = map[string]BucketOverride{"Web": {}} }, `buckets: "Web" is not a valid bucket name`},
		{"bucket override partitions", func(c *Config) {
			c.Buckets = map[string]BucketOverride{"web": {Partitions: ptr(0)}}
		}, "buckets.web.partitions must be between 1 and 1024 (got 0)"},
		{"bucket override stream fields", func(c *Config) {
			c.Buckets = map[string]BucketOverride{"web": {StreamFields: &[]string{"a", "a"}}}
		}, `buckets.web.stream_fields lists "a" twice`},
		{"bucket override retention age", func(c *Config) {
			c.Buckets = map[string]BucketOverride{"web": {RetentionAge: ptr(Duration(-1))}}
		}, "buckets.web.retention_age must be 0"},
		{"bucket override retention bytes", func(c *Config) {
			c.Buckets = map[string]BucketOverride{"web": {RetentionBytes: ptr(ByteSize(-1))}}
		}, "buckets.web.retention_bytes must be 0 (unlimited)"},
		{"bucket override groups", func(c *Config) {
			c.Buckets = map[string]BucketOverride{"web": {RequiredGroups: &[]string{""}}}
		}, "buckets.web.required_groups[0] must be a consumer group name"},
		{"bucket inherits retention too small for its partitions", func(c *Config) {
			c.BucketDefaults.RetentionBytes = 512 * MiB
			c.Buckets = map[string]BucketOverride{"web": {Partitions: ptr(8)}}
		}, "buckets.web.retention_bytes (512MiB, from bucket_defaults) must be 0 or at least partitions × commitlog.segment_bytes (8 × 128MiB = 1GiB)"},
		{"bucket default problem reported once", func(c *Config) {
			c.BucketDefaults.Partitions = 0
			c.Buckets = map[string]BucketOverride{"web": {RetentionAge: ptr(Duration(time.Hour))}}
		}, "bucket_defaults.partitions must be between 1 and 1024 (got 0)"},
		{"bucket overrides valid", func(c *Config) {
			c.Buckets = map[string]BucketOverride{
				"web":     {Partitions: ptr(1), StreamFields: &[]string{}},
				"audit-1": {RetentionAge: ptr(Duration(365 * 24 * time.Hour)), RequiredGroups: &[]string{"archiver"}},
			}
		}, ""},

		{"syslog tcp listener", func(c *Config) { c.Syslog.Listeners = []SyslogListener{syslogListener("tcp", ":514")} }, ""},
		{"syslog zero values take defaults", func(c *Config) {
			c.Syslog.Listeners = []SyslogListener{{Network: "udp", Address: "[::1]:514"}}
		}, ""},
		{"syslog every network", func(c *Config) {
			tls := syslogListener("tls", ":6514")
			tls.CertFile, tls.KeyFile = "c.pem", "k.pem"
			c.Syslog.Listeners = []SyslogListener{syslogListener("tcp", ":514"), syslogListener("udp", ":514"), tls}
		}, ""},
		{"syslog network", func(c *Config) { c.Syslog.Listeners = []SyslogListener{syslogListener("tcp6", ":514")} },
			`syslog.listeners[0].network must be one of tcp, tls, udp (got "tcp6")`},
		{"syslog network missing", func(c *Config) { c.Syslog.Listeners = []SyslogListener{syslogListener("", ":514")} },
			`syslog.listeners[0].network must be one of tcp, tls, udp (got "")`},
		{"syslog address missing", func(c *Config) { c.Syslog.Listeners = []SyslogListener{syslogListener("udp", "")} },
			`syslog.listeners[0].address must be the HOST:PORT to listen on, e.g. 0.0.0.0:514 (got "")`},
		{"syslog address without port", func(c *Config) { c.Syslog.Listeners = []SyslogListener{syslogListener("udp", "0.0.0.0")} },
			`syslog.listeners[0].address must be HOST:PORT, e.g. 0.0.0.0:514, or :514 for all interfaces (got "0.0.0.0"): missing port in address`},
		{"syslog address bad port", func(c *Config) { c.Syslog.Listeners = []SyslogListener{syslogListener("tcp", ":syslog")} },
			`syslog.listeners[0].address must be HOST:PORT`},
		{"syslog bucket", func(c *Config) {
			l := syslogListener("tcp", ":514")
			l.Bucket = "Net"
			c.Syslog.Listeners = []SyslogListener{l}
		}, `syslog.listeners[0].bucket must be a valid bucket name: 1 to 63 characters from a-z, 0-9, '_' and '-', starting with a letter or digit (got "Net")`},
		{"syslog bucket from an invalid default reported once", func(c *Config) {
			c.Ingest.DefaultBucket = "Logs"
			c.Syslog.Listeners = []SyslogListener{syslogListener("tcp", ":514")}
		}, "ingest.default_bucket must be a valid bucket name"},
		{"syslog stream fields", func(c *Config) {
			l := syslogListener("tcp", ":514")
			l.StreamFields = []string{"hostname", "hostname"}
			c.Syslog.Listeners = []SyslogListener{l}
		}, `syslog.listeners[0].stream_fields lists "hostname" twice`},
		{"syslog no stream fields", func(c *Config) {
			l := syslogListener("tcp", ":514")
			l.StreamFields = []string{}
			c.Syslog.Listeners = []SyslogListener{l}
		}, ""},
		{"syslog time zone", func(c *Config) {
			l := syslogListener("udp", ":514")
			l.TimeZone = "Mars/Olympus"
			c.Syslog.Listeners = []SyslogListener{l}
		}, `syslog.listeners[0].time_zone must be UTC, Local or an IANA time zone name such as Europe/Berlin (got "Mars/Olympus"): unknown time zone Mars/Olympus`},
		{"syslog time zone local", func(c *Config) {
			l := syslogListener("udp", ":514")
			l.TimeZone = "Local"
			c.Syslog.Listeners = []SyslogListener{l}
		}, ""},
		{"syslog tls without key", func(c *Config) {
			l := syslogListener("tls", ":6514")
			l.CertFile = "c.pem"
			c.Syslog.Listeners = []SyslogListener{l}
		}, "syslog.listeners[0].key_file must name a PEM file: a tls listener needs cert_file and key_file"},
		{"syslog cert on tcp", func(c *Config) {
			l := syslogListener("tcp", ":514")
			l.CertFile = "c.pem"
			c.Syslog.Listeners = []SyslogListener{l}
		}, `syslog.listeners[0] has cert_file or key_file but network "tcp": only a tls listener uses them`},
		{"syslog message size", func(c *Config) {
			l := syslogListener("tcp", ":514")
			l.MaxMessageBytes = 100
			c.Syslog.Listeners = []SyslogListener{l}
		}, "syslog.listeners[0].max_message_bytes must be between 1KiB and 64MiB (got 100)"},
		{"syslog idle timeout", func(c *Config) {
			l := syslogListener("tcp", ":514")
			l.IdleTimeout = Duration(-time.Second)
			c.Syslog.Listeners = []SyslogListener{l}
		}, "syslog.listeners[0].idle_timeout must be a positive duration such as 10m (got -1s)"},
		{"syslog max connections", func(c *Config) {
			l := syslogListener("tcp", ":514")
			l.MaxConnections = 70000
			c.Syslog.Listeners = []SyslogListener{l}
		}, "syslog.listeners[0].max_connections must be between 1 and 65536 (got 70000)"},
		{"syslog same address twice", func(c *Config) {
			c.Syslog.Listeners = []SyslogListener{syslogListener("udp", ":514"), syslogListener("tcp", ":514"), syslogListener("udp", ":514")}
		}, "syslog.listeners[2] listens on udp :514 like syslog.listeners[0]; give each listener its own address"},
		{"syslog port 0 twice", func(c *Config) {
			c.Syslog.Listeners = []SyslogListener{syslogListener("tcp", "127.0.0.1:0"), syslogListener("tcp", "127.0.0.1:0")}
		}, ""},
		{"syslog on the HTTP address", func(c *Config) { c.Syslog.Listeners = []SyslogListener{syslogListener("tcp", "127.0.0.1:9700")} },
			"syslog.listeners[0] listens on tcp 127.0.0.1:9700 like listen (the HTTP address)"},
		{"syslog udp on the HTTP port", func(c *Config) { c.Syslog.Listeners = []SyslogListener{syslogListener("udp", "127.0.0.1:9700")} }, ""},
		{"syslog flag listeners", func(c *Config) {
			c.Syslog.TCP, c.Syslog.UDP, c.Syslog.TLS = []string{":514", ":1514"}, []string{":514"}, []string{":6514"}
			c.Syslog.TLSCert, c.Syslog.TLSKey, c.Syslog.Bucket = "c.pem", "k.pem", "net"
		}, ""},
		{"syslog flag address", func(c *Config) { c.Syslog.TCP = []string{"localhost"} },
			`--syslog-tcp must be HOST:PORT, e.g. 0.0.0.0:514, or :514 for all interfaces (got "localhost")`},
		{"syslog flag and file listener on one address", func(c *Config) {
			c.Syslog.Listeners = []SyslogListener{syslogListener("udp", ":514")}
			c.Syslog.UDP = []string{":514"}
		}, "--syslog-udp listens on udp :514 like syslog.listeners[0]"},
		{"syslog tls flag without cert", func(c *Config) { c.Syslog.TLS, c.Syslog.TLSKey = []string{":6514"}, "k.pem" },
			"--syslog-tls needs --syslog-tls-cert FILE and --syslog-tls-key FILE"},
		{"syslog key flag without tls", func(c *Config) { c.Syslog.UDP, c.Syslog.TLSKey = []string{":514"}, "k.pem" },
			`--syslog-tls-key ("k.pem") is set but there is no --syslog-tls listener to use it`},
		{"syslog bucket flag for file listeners", func(c *Config) {
			c.Syslog.Listeners = []SyslogListener{syslogListener("udp", ":514")}
			c.Syslog.Bucket = "net"
		}, "--syslog-bucket (\"net\") is set but no --syslog-tcp, --syslog-udp or --syslog-tls listener uses it; the listeners of syslog.listeners take their own bucket key"},
		{"syslog bucket flag invalid", func(c *Config) { c.Syslog.TCP, c.Syslog.Bucket = []string{":514"}, "-net" },
			`--syslog-bucket must be a valid bucket name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.want)
			}
			if n := problemCount(err); n != 1 {
				t.Errorf("Validate() reported %d problems, want 1:\n%v", n, err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.LogLevel = "loud"
	c.Ingest.MaxFields = 0
	c.CommitLog.Compression = "lz4"
	c.Buckets = map[string]BucketOverride{"b": {Partitions: ptr(-1)}, "a": {Partitions: ptr(2000)}}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	want := []string{"log_level", "ingest.max_fields", "commitlog.compression", "buckets.a.partitions", "buckets.b.partitions"}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("Validate() listed %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w+" ") {
			t.Errorf("problem %d = %q, want it about %s (problems come in a fixed order)", i, lines[i], w)
		}
	}
}

func TestValidBucketName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"default", true},
		{"a", true},
		{"0", true},
		{"web-logs_2", true},
		{"9lives", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-web", false},
		{"_web", false},
		{"Web", false},
		{"web.logs", false},
		{"web logs", false},
		{"web/logs", false},
		{"wéb", false},
	}
	for _, tt := range tests {
		if got := ValidBucketName(tt.name); got != tt.want {
			t.Errorf("ValidBucketName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBucketResolution(t *testing.T) {
	c := Default()
	c.BucketDefaults = Bucket{
		Partitions:     4,
		StreamFields:   []string{"service", "host"},
		RetentionAge:   Duration(30 * 24 * time.Hour),
		RetentionBytes: 100 * GiB,
		RequiredGroups: []string{"indexer"},
	}
	c.Buckets = map[string]BucketOverride{
		"audit": {Partitions: ptr(8), RetentionAge: ptr(Duration(0)), RequiredGroups: &[]string{"indexer", "archiver"}},
		"flat":  {StreamFields: &[]string{}, RetentionBytes: ptr(ByteSize(0))},
		"empty": {},
	}
	tests := []struct {
		name string
		want Bucket
	}{
		{"audit", Bucket{8, []string{"service", "host"}, 0, 100 * GiB, []string{"indexer", "archiver"}}},
		{"flat", Bucket{4, []string{}, Duration(30 * 24 * time.Hour), 0, []string{"indexer"}}},
		{"empty", c.BucketDefaults},
		{"unknown", c.BucketDefaults},
	}
	for _, tt := range tests {
		if got := c.Bucket(tt.name); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Bucket(%q) = %+v, want %+v", tt.name, got, tt.want)
		}
	}

	// The result must not alias the configuration.
	b := c.Bucket("unknown")
	b.StreamFields[0] = "changed"
	b.RequiredGroups[0] = "changed"
	a := c.Bucket("audit")
	a.RequiredGroups[1] = "changed"
	if c.BucketDefaults.StreamFields[0] != "service" || c.BucketDefaults.RequiredGroups[0] != "indexer" ||
		(*c.Buckets["audit"].RequiredGroups)[1] != "archiver" {
		t.Fatal("Bucket returned slices that alias the configuration")
	}
}

func TestValidateErrorIsJoined(t *testing.T) {
	c := Default()
	c.LogFormat = "yaml"
	err := c.Validate()
	var target interface{ Unwrap() []error }
	if !errors.As(err, &target) {
		t.Fatalf("Validate() = %T, want a joined error so callers can list problems", err)
	}
}

// syslogListener returns a listener of the file with the defaults.
func syslogListener(network, addr string) SyslogListener {
	l := DefaultSyslogListener()
	l.Network, l.Address = network, addr
	return l
}

func TestSyslogListeners(t *testing.T) {
	c := Default()
	if got := c.SyslogListeners(); len(got) != 0 {
		t.Fatalf("default SyslogListeners() = %+v, want none", got)
	}
	c.Ingest.DefaultBucket = "main"
	tls := syslogListener("tls", ":6514")
	tls.Bucket, tls.StreamFields, tls.CertFile, tls.KeyFile = "secure", []string{}, "c.pem", "k.pem"
	c.Syslog = Syslog{
		Listeners: []SyslogListener{
			{Network: "udp", Address: ":514"}, // zero values, as built in Go
			tls,
		},
		TCP: []string{":514", ":1514"}, UDP: []string{":1514"}, TLS: []string{":16514"},
		TLSCert: "f.crt", TLSKey: "f.key",
	}
	def := func(network, addr, bucket, origin string) SyslogListener {
		l := syslogListener(network, addr)
		l.Bucket, l.Origin = bucket, origin
		return l
	}
	tls.Origin = "syslog.listeners[1]"
	flagTLS := def("tls", ":16514", "main", "--syslog-tls")
	flagTLS.CertFile, flagTLS.KeyFile = "f.crt", "f.key"
	want := []SyslogListener{
		def("udp", ":514", "main", "syslog.listeners[0]"),
		tls,
		def("tcp", ":514", "main", "--syslog-tcp"),
		def("tcp", ":1514", "main", "--syslog-tcp"),
		def("udp", ":1514", "main", "--syslog-udp"),
		flagTLS,
	}
	got := c.SyslogListeners()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SyslogListeners() =\n%+v\nwant\n%+v", got, want)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}

	c.Syslog.Bucket = "net"
	for _, l := range c.SyslogListeners()[2:] {
		if l.Bucket != "net" {
			t.Errorf("flag listener %s %s: bucket %q, want --syslog-bucket's", l.Origin, l.Address, l.Bucket)
		}
	}
	// The result must not alias the configuration.
	got = c.SyslogListeners()
	got[1].StreamFields = append(got[1].StreamFields, "x")
	got[2].StreamFields[0] = "changed"
	if len(c.Syslog.Listeners[1].StreamFields) != 0 || DefaultSyslogListener().StreamFields[0] != "hostname" {
		t.Fatal("SyslogListeners returned slices that alias the configuration or the defaults")
	}
}
