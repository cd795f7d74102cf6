package config

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// option describes one command-line flag and the setting it is bound to.
type option struct {
	section string
	yaml    string // YAML path of the setting; "" for --config
	name    string // flag name: yaml with '_' → '-'
	arg     string // placeholder in the usage text
	usage   string
	def     string // value when the flag set was built, i.e. the default
	value   flag.Value
	// note replaces "(default …) [yaml: …]" in the usage of a flag that
	// has no YAML key of its own (the --syslog-* flags).
	note string
}

// options lists every flag, bound to the fields of c, in usage order.
func options(c *Config, configPath *string) []option {
	opts := []option{
		{section: "General", name: "config", arg: "FILE", value: (*stringValue)(configPath),
			usage: "YAML configuration file; command-line flags override its settings"},
		{section: "General", yaml: "data", arg: "DIR", value: (*stringValue)(&c.Data),
			usage: "data directory (commit logs, indexes, consumer offsets)"},
		{section: "General", yaml: "listen", arg: "HOST:PORT", value: (*stringValue)(&c.Listen),
			usage: "HTTP listen address; loopback only by default, use :9700 to accept remote clients"},
		{section: "General", yaml: "log_level", arg: "LEVEL", value: (*stringValue)(&c.LogLevel),
			usage: "log level: debug, info, warn or error"},
		{section: "General", yaml: "log_format", arg: "FORMAT", value: (*stringValue)(&c.LogFormat),
			usage: "log format: text or json"},

		{section: "HTTP", yaml: "http.read_header_timeout", arg: "DURATION", value: &c.HTTP.ReadHeaderTimeout,
			usage: "time allowed to read request headers (slowloris protection)"},
		{section: "HTTP", yaml: "http.read_timeout", arg: "DURATION", value: &c.HTTP.ReadTimeout,
			usage: "time allowed to read a whole request, body included"},
		{section: "HTTP", yaml: "http.write_timeout", arg: "DURATION", value: &c.HTTP.WriteTimeout,
			usage: "time allowed to write a response; must exceed http.max_poll_wait"},
		{section: "HTTP", yaml: "http.idle_timeout", arg: "DURATION", value: &c.HTTP.IdleTimeout,
			usage: "how long an idle keep-alive connection stays open"},
		{section: "HTTP", yaml: "http.max_poll_wait", arg: "DURATION", value: &c.HTTP.MaxPollWait,
			usage: "cap on the ?wait= of record long-polls (0 = never wait)"},
		{section: "HTTP", yaml: "http.shutdown_timeout", arg: "DURATION", value: &c.HTTP.ShutdownTimeout,
			usage: "how long shutdown waits for in-flight requests"},
		{section: "HTTP", yaml: "http.pprof", arg: "BOOL", value: (*boolValue)(&c.HTTP.Pprof),
			usage: "serve Go's CPU, heap and goroutine profiler on /debug/pprof/ (for diagnosing the server; off by default)"},

		{section: "Ingest", yaml: "ingest.max_line_bytes", arg: "SIZE", value: &c.Ingest.MaxLineBytes,
			usage: fmt.Sprintf("longest accepted log line (%v to %v)", minMaxLineBytes, maxMaxLineBytes)},
		{section: "Ingest", yaml: "ingest.max_fields", arg: "N", value: (*intValue)(&c.Ingest.MaxFields),
			usage: fmt.Sprintf("most fields in one log record (1 to %d)", maxMaxFields)},
		{section: "Ingest", yaml: "ingest.max_field_name_bytes", arg: "SIZE", value: &c.Ingest.MaxFieldNameBytes,
			usage: fmt.Sprintf("longest accepted field name (at most %v)", maxMaxFieldName)},
		{section: "Ingest", yaml: "ingest.max_request_bytes", arg: "SIZE", value: &c.Ingest.MaxRequestBytes,
			usage: "largest request body as received, before decompression (at most ingest.memory_bytes)"},
		{section: "Ingest", yaml: "ingest.max_decompressed_bytes", arg: "SIZE", value: &c.Ingest.MaxDecompressedBytes,
			usage: "largest request body after decompression"},
		{section: "Ingest", yaml: "ingest.memory_bytes", arg: "SIZE", value: &c.Ingest.MemoryBytes,
			usage: "memory budget for requests being ingested; over it, writes get 503 with Retry-After"},
		{section: "Ingest", yaml: "ingest.max_concurrent_requests", arg: "N", value: (*intValue)(&c.Ingest.MaxConcurrentRequests),
			usage: "most ingest requests processed at once"},
		{section: "Ingest", yaml: "ingest.auto_create_buckets", arg: "BOOL", value: (*boolValue)(&c.Ingest.AutoCreateBuckets),
			usage: "create a bucket on its first write instead of rejecting the write"},
		{section: "Ingest", yaml: "ingest.default_bucket", arg: "NAME", value: (*stringValue)(&c.Ingest.DefaultBucket),
			usage: "bucket for writes that name none"},
		{section: "Ingest", yaml: "ingest.time_field", arg: "FIELD", value: (*stringValue)(&c.Ingest.TimeField),
			usage: "field holding the record timestamp"},
		{section: "Ingest", yaml: "ingest.msg_fields", arg: "LIST", value: (*listValue)(&c.Ingest.MsgFields),
			usage: "comma-separated fields tried in order for the log message"},

		{section: "Commit log", yaml: "commitlog.segment_bytes", arg: "SIZE", value: &c.CommitLog.SegmentBytes,
			usage: fmt.Sprintf("roll the active segment when it reaches this size (%v to %v)", minSegmentBytes, maxSegmentBytes)},
		{section: "Commit log", yaml: "commitlog.segment_age", arg: "DURATION", value: &c.CommitLog.SegmentAge,
			usage: "roll the active segment when it is older than this"},
		{section: "Commit log", yaml: "commitlog.index_interval_bytes", arg: "SIZE", value: &c.CommitLog.IndexIntervalBytes,
			usage: fmt.Sprintf("bytes between entries of the sparse offset index (%v to %v)", ByteSize(minIndexInterval), maxIndexInterval)},
		{section: "Commit log", yaml: "commitlog.compression", arg: "CODEC", value: (*stringValue)(&c.CommitLog.Compression),
			usage: "segment compression: zstd, s2 or none"},
		{section: "Commit log", yaml: "commitlog.max_pending_bytes", arg: "SIZE", value: &c.CommitLog.MaxPendingBytes,
			usage: "write queue limit per partition; over it, writes get 503"},
		{section: "Commit log", yaml: "commitlog.retention_check_interval", arg: "DURATION", value: &c.CommitLog.RetentionCheckInterval,
			usage: fmt.Sprintf("how often retention limits are enforced (%v to %v)", minRetentionCheck, maxRetentionCheck)},
		{section: "Commit log", yaml: "commitlog.dedup_window", arg: "DURATION", value: &c.CommitLog.DedupWindow,
			usage: "how long X-Logbucket-Batch-Id values are remembered to drop retried batches (0 = no deduplication)"},
		{section: "Commit log", yaml: "commitlog.dedup_max_entries", arg: "N", value: (*intValue)(&c.CommitLog.DedupMaxEntries),
			usage: "most batch ids remembered"},

		{section: "Indexer", yaml: "indexer.flush_interval", arg: "DURATION", value: &c.Indexer.FlushInterval,
			usage: "write records that are not in a part yet at least this often (they are searchable before)"},
		{section: "Indexer", yaml: "indexer.flush_rows", arg: "N", value: (*intValue)(&c.Indexer.FlushRows),
			usage: "also write them when this many are waiting"},
		{section: "Indexer", yaml: "indexer.max_tail_bytes", arg: "SIZE", value: &c.Indexer.MaxTailBytes,
			usage: "memory for records not in a part yet, per bucket; when full, indexing waits for a flush"},

		{section: "Query", yaml: "query.max_memory_bytes", arg: "SIZE", value: &c.Query.MaxMemoryBytes,
			usage: "memory budget of one query; a query that needs more stops with an error naming this limit"},
		{section: "Query", yaml: "query.timeout", arg: "DURATION", value: &c.Query.Timeout,
			usage: "time limit of one query"},
		{section: "Query", yaml: "query.max_concurrent", arg: "N", value: (*intValue)(&c.Query.MaxConcurrent),
			usage: "queries running at once; more get 503 with Retry-After"},
		{section: "Query", yaml: "query.filter_cache_bytes", arg: "SIZE", value: &c.Query.FilterCacheBytes,
			usage: "memory for the bloom filters queries keep (shared; least recently used parts are evicted)"},

		{section: "Bucket defaults", yaml: "bucket_defaults.partitions", arg: "N", value: (*intValue)(&c.BucketDefaults.Partitions),
			usage: fmt.Sprintf("partitions of a new bucket (1 to %d)", maxPartitions)},
		{section: "Bucket defaults", yaml: "bucket_defaults.stream_fields", arg: "LIST", value: (*listValue)(&c.BucketDefaults.StreamFields),
			usage: "comma-separated fields that identify a log stream"},
		{section: "Bucket defaults", yaml: "bucket_defaults.retention_age", arg: "DURATION", value: &c.BucketDefaults.RetentionAge,
			usage: "delete data older than this (0 = keep forever)"},
		{section: "Bucket defaults", yaml: "bucket_defaults.retention_bytes", arg: "SIZE", value: &c.BucketDefaults.RetentionBytes,
			usage: "keep at most this much per bucket, split evenly over its partitions (0 = unlimited)"},
		{section: "Bucket defaults", yaml: "bucket_defaults.required_groups", arg: "LIST", value: (*listValue)(&c.BucketDefaults.RequiredGroups),
			usage: "comma-separated consumer groups whose uncommitted data retention never deletes"},

		{section: "Syslog", name: "syslog-tcp", arg: "HOST:PORT", value: (*addrsValue)(&c.Syslog.TCP),
			usage: "add a syslog listener on TCP (RFC 5424 or 3164, octet-counted or newline-framed); repeatable",
			note:  "(none by default; more settings in the file: syslog.listeners)"},
		{section: "Syslog", name: "syslog-udp", arg: "HOST:PORT", value: (*addrsValue)(&c.Syslog.UDP),
			usage: "add a syslog listener on UDP (one message per datagram); repeatable",
			note:  "(none by default)"},
		{section: "Syslog", name: "syslog-tls", arg: "HOST:PORT", value: (*addrsValue)(&c.Syslog.TLS),
			usage: "add a syslog listener on TLS (RFC 5425); needs --syslog-tls-cert and --syslog-tls-key; repeatable",
			note:  "(none by default)"},
		{section: "Syslog", name: "syslog-tls-cert", arg: "FILE", value: (*stringValue)(&c.Syslog.TLSCert),
			usage: "PEM certificate chain of the --syslog-tls listeners",
			note:  "(default none)"},
		{section: "Syslog", name: "syslog-tls-key", arg: "FILE", value: (*stringValue)(&c.Syslog.TLSKey),
			usage: "PEM private key of the --syslog-tls listeners",
			note:  "(default none)"},
		{section: "Syslog", name: "syslog-bucket", arg: "NAME", value: (*stringValue)(&c.Syslog.Bucket),
			usage: "bucket of the listeners added by --syslog-tcp, --syslog-udp and --syslog-tls",
			note:  "(default: ingest.default_bucket)"},
	}
	for i := range opts {
		op := &opts[i]
		if op.name == "" {
			op.name = strings.ReplaceAll(op.yaml, "_", "-")
		}
		op.def = op.value.String()
	}
	return opts
}

// newFlagSet returns a flag set bound to c (and configPath for --config)
// and the options it holds. It prints nothing; Load writes the usage.
func newFlagSet(c *Config, configPath *string) (*flag.FlagSet, []option) {
	fs := flag.NewFlagSet("logbucket server", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	opts := options(c, configPath)
	for _, op := range opts {
		fs.Var(op.value, op.name, op.usage)
	}
	return fs, opts
}

const usageHeader = `logbucket server runs the log platform: it ingests logs over HTTP, keeps them
in partitioned, replayable commit logs, and serves queries and consumer reads.

Usage: logbucket server [options]

Every option is written --name VALUE or --name=VALUE (booleans only as
--name or --name=false). Sizes accept 4096, 256KiB, 64MiB, 1.5GB (KB = 1000,
KiB = 1024); durations accept 500ms, 30s, 10m, 1h30m, 720h and 30d.
`

const usageFooter = `
Configuration file: --config names a YAML file with the same settings nested
by section, under the keys shown as [yaml: ...]. Every key is optional, unknown
keys are an error, and command-line flags override the file. Per-bucket
settings exist only in the file: each entry under "buckets" overrides the
bucket_defaults keys it sets, and takes the defaults for the rest. Example:

  listen: 0.0.0.0:9700
  bucket_defaults:
    retention_age: 30d
  buckets:
    audit:
      partitions: 8
      retention_age: 365d
      required_groups: [archiver]

Syslog listeners: the --syslog-* flags add listeners with the default settings
on top of the file's list, syslog.listeners, whose entries take these keys
(the comments give the defaults):

  syslog:
    listeners:
      - network: tls             # tcp, tls or udp (required)
        address: 0.0.0.0:6514    # HOST:PORT (required)
        bucket: syslog           # default: ingest.default_bucket
        stream_fields: [hostname, app_name]
        time_zone: UTC           # of RFC 3164 timestamps: UTC, Local, Europe/Berlin...
        cert_file: /etc/logbucket/syslog.crt   # PEM; tls only, required there
        key_file: /etc/logbucket/syslog.key
        max_message_bytes: 64KiB # longer messages are cut
        idle_timeout: 10m        # tcp and tls
        max_connections: 1000    # tcp and tls
`

// writeUsage writes the --help text for opts.
func writeUsage(w io.Writer, opts []option) {
	left := make([]string, len(opts))
	width := 0
	for i, op := range opts {
		if _, ok := op.value.(*boolValue); ok {
			left[i] = "--" + op.name + "=" + op.arg
		} else {
			left[i] = "--" + op.name + " " + op.arg
		}
		width = max(width, len(left[i]))
	}
	var b strings.Builder
	b.WriteString(usageHeader)
	section := ""
	for i, op := range opts {
		if op.section != section {
			section = op.section
			fmt.Fprintf(&b, "\n%s:\n", section)
		}
		fmt.Fprintf(&b, "  %-*s  %s", width, left[i], op.usage)
		if op.yaml != "" {
			def := op.def
			if def == "" {
				def = "none"
			}
			fmt.Fprintf(&b, " (default %s) [yaml: %s]", def, op.yaml)
		} else if op.note != "" {
			fmt.Fprintf(&b, " %s", op.note)
		}
		b.WriteByte('\n')
	}
	b.WriteString(usageFooter)
	io.WriteString(w, b.String())
}

// Flag values for the plain types; ByteSize and Duration are their own.

type stringValue string

func (s *stringValue) String() string     { return string(*s) }
func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }

type intValue int

func (n *intValue) String() string { return strconv.Itoa(int(*n)) }
func (n *intValue) Set(v string) error {
	i, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	*n = intValue(i)
	return nil
}

type boolValue bool

func (b *boolValue) String() string { return strconv.FormatBool(bool(*b)) }
func (b *boolValue) Set(v string) error {
	x, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("%q is not true or false", v)
	}
	*b = boolValue(x)
	return nil
}
func (b *boolValue) IsBoolFlag() bool { return true }

// addrsValue is a repeatable list flag: each use adds its comma-separated
// items, none of which may be empty.
type addrsValue []string

func (l *addrsValue) String() string { return strings.Join(*l, ",") }
func (l *addrsValue) Set(v string) error {
	for _, it := range strings.Split(v, ",") {
		if it = strings.TrimSpace(it); it == "" {
			return fmt.Errorf("%q: give HOST:PORT, e.g. 0.0.0.0:514", v)
		}
		*l = append(*l, it)
	}
	return nil
}

// listValue is a comma-separated list. Set replaces the whole list; items
// are trimmed and empty items dropped, so "" sets an empty list.
type listValue []string

func (l *listValue) String() string { return strings.Join(*l, ",") }
func (l *listValue) Set(v string) error {
	items := []string{}
	for _, it := range strings.Split(v, ",") {
		if it = strings.TrimSpace(it); it != "" {
			items = append(items, it)
		}
	}
	*l = items
	return nil
}
