package config

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// writeConfig writes body to a config file in a test directory.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "logbucket.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, args ...string) *Config {
	t.Helper()
	var out bytes.Buffer
	c, err := Load(args, &out)
	if err != nil {
		t.Fatalf("Load(%q): %v", args, err)
	}
	if out.Len() != 0 {
		t.Errorf("Load(%q) wrote %q, want nothing", args, out.String())
	}
	return c
}

func TestLoadDefaults(t *testing.T) {
	for _, args := range [][]string{nil, {}, {"--config", writeConfig(t, "")}, {"--config", writeConfig(t, "# only a comment\n")}, {"--config", writeConfig(t, "---\n")}} {
		if got, want := mustLoad(t, args...), Default(); !reflect.DeepEqual(*got, want) {
			t.Errorf("Load(%q) = %+v, want the defaults %+v", args, *got, want)
		}
	}
}

const fullYAML = `# every setting, none at its default
data: /var/lib/logbucket
listen: 0.0.0.0:9800
log_level: debug
log_format: json
http:
  read_header_timeout: 5s
  read_timeout: 1m
  write_timeout: 3m
  idle_timeout: 90s
  max_poll_wait: 1m
  shutdown_timeout: 45s
ingest:
  max_line_bytes: 512KiB
  max_fields: 200
  max_field_name_bytes: 256
  max_request_bytes: 32MiB
  max_decompressed_bytes: 128MiB
  memory_bytes: 2GiB
  max_concurrent_requests: 16
  auto_create_buckets: false
  default_bucket: main
  time_field: ts
  msg_fields: [message]
commitlog:
  segment_bytes: 64MiB
  segment_age: 30m
  index_interval_bytes: 8KiB
  compression: s2
  max_pending_bytes: 32MiB
  retention_check_interval: 30s
  dedup_window: 1h
  dedup_max_entries: 5000
bucket_defaults:
  partitions: 2
  stream_fields: [service, host]
  retention_age: 30d
  retention_bytes: 10GiB
  required_groups: [indexer]
buckets:
  audit:
    partitions: 8
    retention_age: 365d
    required_groups: [indexer, archiver]
  debug:
    stream_fields: []
    retention_bytes: 0
  plain: {}
syslog:
  listeners:
    - network: tcp
      address: 0.0.0.0:514
    - network: tls
      address: 0.0.0.0:6514
      bucket: secure
      stream_fields: [hostname]
      time_zone: Europe/Berlin
      cert_file: /etc/lb/syslog.crt
      key_file: /etc/lb/syslog.key
      max_message_bytes: 1MiB
      idle_timeout: 1h
      max_connections: 50
    - network: udp
      address: 127.0.0.1:5514
      stream_fields: []
`

// fullYAMLSyslog is the syslog section of fullYAML, decoded.
func fullYAMLSyslog() Syslog {
	tcp := DefaultSyslogListener()
	tcp.Network, tcp.Address = "tcp", "0.0.0.0:514"
	udp := DefaultSyslogListener()
	udp.Network, udp.Address, udp.StreamFields = "udp", "127.0.0.1:5514", []string{}
	return Syslog{Listeners: []SyslogListener{tcp, {
		Network: "tls", Address: "0.0.0.0:6514", Bucket: "secure", StreamFields: []string{"hostname"},
		TimeZone: "Europe/Berlin", CertFile: "/etc/lb/syslog.crt", KeyFile: "/etc/lb/syslog.key",
		MaxMessageBytes: MiB, IdleTimeout: Duration(time.Hour), MaxConnections: 50,
	}, udp}}
}

func TestLoadYAML(t *testing.T) {
	got := mustLoad(t, "--config", writeConfig(t, fullYAML))
	want := Config{
		Data: "/var/lib/logbucket", Listen: "0.0.0.0:9800", LogLevel: "debug", LogFormat: "json",
		HTTP: HTTP{
			ReadHeaderTimeout: Duration(5 * time.Second), ReadTimeout: Duration(time.Minute),
			WriteTimeout: Duration(3 * time.Minute), IdleTimeout: Duration(90 * time.Second),
			MaxPollWait: Duration(time.Minute), ShutdownTimeout: Duration(45 * time.Second),
		},
		Ingest: Ingest{
			MaxLineBytes: 512 * KiB, MaxFields: 200, MaxFieldNameBytes: 256, MaxRequestBytes: 32 * MiB,
			MaxDecompressedBytes: 128 * MiB, MemoryBytes: 2 * GiB, MaxConcurrentRequests: 16,
			AutoCreateBuckets: false, DefaultBucket: "main", TimeField: "ts", MsgFields: []string{"message"},
		},
		CommitLog: CommitLog{
			SegmentBytes: 64 * MiB, SegmentAge: Duration(30 * time.Minute), IndexIntervalBytes: 8 * KiB,
			Compression: "s2", MaxPendingBytes: 32 * MiB, RetentionCheckInterval: Duration(30 * time.Second),
			DedupWindow: Duration(time.Hour), DedupMaxEntries: 5000,
		},
		Indexer: Default().Indexer,
		Query:   Default().Query,
		BucketDefaults: Bucket{
			Partitions: 2, StreamFields: []string{"service", "host"}, RetentionAge: Duration(30 * 24 * time.Hour),
			RetentionBytes: 10 * GiB, RequiredGroups: []string{"indexer"},
		},
		Buckets: map[string]BucketOverride{
			"audit": {Partitions: ptr(8), RetentionAge: ptr(Duration(365 * 24 * time.Hour)), RequiredGroups: &[]string{"indexer", "archiver"}},
			"debug": {StreamFields: &[]string{}, RetentionBytes: ptr(ByteSize(0))},
			"plain": {},
		},
		Syslog: fullYAMLSyslog(),
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("Load = %+v\nwant %+v", *got, want)
	}

	buckets := []struct {
		name string
		want Bucket
	}{
		{"audit", Bucket{8, []string{"service", "host"}, Duration(365 * 24 * time.Hour), 10 * GiB, []string{"indexer", "archiver"}}},
		{"debug", Bucket{2, []string{}, Duration(30 * 24 * time.Hour), 0, []string{"indexer"}}},
		{"plain", want.BucketDefaults},
		{"other", want.BucketDefaults},
	}
	for _, b := range buckets {
		if g := got.Bucket(b.name); !reflect.DeepEqual(g, b.want) {
			t.Errorf("Bucket(%q) = %+v, want %+v", b.name, g, b.want)
		}
	}
}

func TestLoadYAMLKeepsUnsetDefaults(t *testing.T) {
	c := mustLoad(t, "--config", writeConfig(t, "http:\n  read_timeout: 1m\ningest:\n  msg_fields: [m]\n"))
	want := Default()
	want.HTTP.ReadTimeout = Duration(time.Minute)
	want.Ingest.MsgFields = []string{"m"} // a list replaces the default, it is not merged
	if !reflect.DeepEqual(*c, want) {
		t.Fatalf("Load = %+v, want %+v", *c, want)
	}
}

func TestLoadYAMLAnchorsAndMerge(t *testing.T) {
	c := mustLoad(t, "--config", writeConfig(t, `
buckets:
  web: &small
    partitions: 1
    stream_fields: [host]
  api: *small
  batch:
    <<: *small
    retention_age: 7d
`))
	for name, want := range map[string]Bucket{
		"web":   {Partitions: 1, StreamFields: []string{"host"}},
		"api":   {Partitions: 1, StreamFields: []string{"host"}},
		"batch": {Partitions: 1, StreamFields: []string{"host"}, RetentionAge: Duration(7 * 24 * time.Hour)},
	} {
		if got := c.Bucket(name); !reflect.DeepEqual(got, want) {
			t.Errorf("Bucket(%q) = %+v, want %+v", name, got, want)
		}
	}
}

func TestLoadYAMLRoundTrip(t *testing.T) {
	in := Default()
	in.Buckets = map[string]BucketOverride{"audit": {Partitions: ptr(8), RetentionAge: ptr(Duration(48 * time.Hour))}}
	in.Syslog = fullYAMLSyslog() // default, explicit and empty stream fields
	data, err := yaml.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, "--config", writeConfig(t, string(data)))
	again, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Fatalf("marshal → load → marshal changed the config:\n%s\nbecame\n%s", data, again)
	}
	if !strings.Contains(string(data), "segment_bytes: 128MiB") || !strings.Contains(string(data), "retention_age: 2d") {
		t.Fatalf("sizes and durations should marshal in their own syntax:\n%s", data)
	}
}

func TestLoadYAMLErrors(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string
	}{
		{"unknown top-level key", "listen: :1\nlisten_addr: x\n",
			[]string{`line 2: unknown key "listen_addr" at the top level`, "known keys: data, listen,"}},
		{"unknown nested key", "http:\n  read_timout: 1m\n",
			[]string{`line 2: unknown key "read_timout" in http`, "known keys: read_header_timeout, read_timeout,"}},
		{"unknown bucket key", "buckets:\n  web:\n    partition: 2\n",
			[]string{`line 3: unknown key "partition" in buckets.web`}},
		{"misplaced key", "partitions: 2\n",
			[]string{`line 1: unknown key "partitions" at the top level; did you mean bucket_defaults.partitions or buckets.NAME.partitions?`}},
		{"dashes for underscores", "commitlog:\n  segment-bytes: 1MiB\n",
			[]string{`unknown key "segment-bytes" in commitlog; did you mean segment_bytes?`}},
		{"every unknown key", "a: 1\nhttp:\n  b: 2\n",
			[]string{"(2 problems)", `line 1: unknown key "a"`, `line 3: unknown key "b"`}},
		{"bad size", "ingest:\n  max_line_bytes: 1 MB B\n", []string{`line 2: invalid byte size "1 MB B"`}},
		{"bad duration", "http:\n  idle_timeout: 90\n", []string{`line 2: invalid duration "90": missing unit`}},
		{"wrong type", "ingest:\n  max_fields: many\n", []string{"line 2: cannot unmarshal !!str `many` into int"}},
		{"section not a mapping", "http: fast\n", []string{"line 1: cannot unmarshal !!str `fast`"}},
		{"not a mapping", "- listen\n", []string{"line 1: the file must be a mapping"}},
		{"two documents", "listen: :1\n---\nlisten: :2\n", []string{"a second YAML document"}},
		{"syntax", "http:\n  read_timeout: [1m\n", []string{"yaml:"}},
		{"duplicate key", "listen: :1\nlisten: :2\n", []string{`mapping key "listen" already defined`}},
		{"invalid setting", "commitlog:\n  compression: lz4\n",
			[]string{`invalid configuration: commitlog.compression must be one of zstd, s2, none (got "lz4")`}},
		{"invalid bucket name", "buckets:\n  Web: {}\n", []string{`buckets: "Web" is not a valid bucket name`}},
		{"unknown syslog listener key", "syslog:\n  listeners:\n    - network: tcp\n      adress: :514\n",
			[]string{`line 4: unknown key "adress" in syslog.listeners[0] (known keys: network, address, bucket,`}},
		{"syslog listener key with dashes", "syslog:\n  listeners:\n    - network: tcp\n      address: :514\n    - idle-timeout: 1m\n",
			[]string{`line 5: unknown key "idle-timeout" in syslog.listeners[1]; did you mean idle_timeout?`}},
		{"listener key outside the list", "syslog:\n  network: udp\n",
			[]string{`line 2: unknown key "network" in syslog; did you mean syslog.listeners[N].network? (known keys: listeners)`}},
		{"syslog listeners not a list", "syslog:\n  listeners:\n    network: tcp\n", []string{"line 3: cannot unmarshal !!map into []config.SyslogListener"}},
		{"syslog listener wrong type", "syslog:\n  listeners:\n    - network: tcp\n      address: :514\n      max_connections: many\n",
			[]string{"line 5: cannot unmarshal !!str `many` into int"}},
		{"syslog listener bad size", "syslog:\n  listeners:\n    - network: tcp\n      address: :514\n      max_message_bytes: 1 MB B\n",
			[]string{`line 5: invalid byte size "1 MB B"`}},
		{"invalid syslog listener", "syslog:\n  listeners:\n    - network: tcp\n      address: :514\n    - network: tcp\n      address: :514\n",
			[]string{`invalid configuration: syslog.listeners[1] listens on tcp :514 like syslog.listeners[0]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.body)
			c, err := Load([]string{"--config", path}, io.Discard)
			if err == nil {
				t.Fatalf("Load = %+v, want an error", c)
			}
			if !strings.Contains(err.Error(), path) && !strings.HasPrefix(err.Error(), "invalid configuration") {
				t.Errorf("error %q does not name the file", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yaml")
	_, err := Load([]string{"--config", path}, io.Discard)
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "read config "+path+": ") {
		t.Fatalf("Load = %v, want a wrapped not-exist error naming the file", err)
	}
}

// testFlagValues returns a valid, non-default value for every flag.
func testFlagValues() map[string]string {
	return map[string]string{
		"data":                               "/srv/lb",
		"listen":                             ":9900",
		"log-level":                          "warn",
		"log-format":                         "json",
		"http.read-header-timeout":           "3s",
		"http.read-timeout":                  "4m",
		"http.write-timeout":                 "5m",
		"http.idle-timeout":                  "6m",
		"http.max-poll-wait":                 "7s",
		"http.pprof":                         "true",
		"http.shutdown-timeout":              "8s",
		"ingest.max-line-bytes":              "1MiB",
		"ingest.max-fields":                  "99",
		"ingest.max-field-name-bytes":        "512",
		"ingest.max-request-bytes":           "16MiB",
		"ingest.max-decompressed-bytes":      "100MB",
		"ingest.memory-bytes":                "512MiB",
		"ingest.max-concurrent-requests":     "8",
		"ingest.auto-create-buckets":         "false",
		"ingest.default-bucket":              "misc",
		"ingest.time-field":                  "timestamp",
		"ingest.msg-fields":                  "body, text",
		"commitlog.segment-bytes":            "16MiB",
		"commitlog.segment-age":              "2h",
		"commitlog.index-interval-bytes":     "1KiB",
		"commitlog.compression":              "none",
		"commitlog.max-pending-bytes":        "8MiB",
		"commitlog.retention-check-interval": "5m",
		"commitlog.dedup-window":             "0",
		"commitlog.dedup-max-entries":        "0",
		"bucket-defaults.partitions":         "16",
		"bucket-defaults.stream-fields":      "app,env",
		"bucket-defaults.retention-age":      "14d",
		"bucket-defaults.retention-bytes":    "1TiB",
		"bucket-defaults.required-groups":    "exporter",
		"indexer.flush-interval":             "2s",
		"indexer.flush-rows":                 "20000",
		"indexer.max-tail-bytes":             "64MiB",
		"query.max-memory-bytes":             "128MiB",
		"query.timeout":                      "30s",
		"query.filter-cache-bytes":           "64MiB",
		"query.max-concurrent":               "3",
		"syslog-tcp":                         "127.0.0.1:1514",
		"syslog-udp":                         "127.0.0.1:1514,[::1]:1514",
		"syslog-tls":                         ":6515",
		"syslog-tls-cert":                    "/srv/lb/tls.crt",
		"syslog-tls-key":                     "/srv/lb/tls.key",
		"syslog-bucket":                      "net",
	}
}

// TestEveryFlag sets every flag at once, over a file that sets the same
// settings differently, and checks each flag landed in its field and won.
func TestEveryFlag(t *testing.T) {
	flagValues := testFlagValues()
	scratch := Default()
	fs, _ := newFlagSet(&scratch, new(string))
	path := writeConfig(t, fullYAML)
	args := []string{"--config", path}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "config" {
			return
		}
		v, ok := flagValues[f.Name]
		if !ok {
			t.Errorf("flag --%s has no test value in flagValues", f.Name)
		}
		args = append(args, "--"+f.Name+"="+v)
	})
	if len(args)-2 != len(flagValues) {
		t.Errorf("flagValues has %d entries, but there are %d flags", len(flagValues), len(args)-2)
	}
	got := mustLoad(t, args...)
	want := Config{
		Data: "/srv/lb", Listen: ":9900", LogLevel: "warn", LogFormat: "json",
		HTTP: HTTP{
			ReadHeaderTimeout: Duration(3 * time.Second), ReadTimeout: Duration(4 * time.Minute),
			WriteTimeout: Duration(5 * time.Minute), IdleTimeout: Duration(6 * time.Minute),
			MaxPollWait: Duration(7 * time.Second), ShutdownTimeout: Duration(8 * time.Second), Pprof: true,
		},
		Ingest: Ingest{
			MaxLineBytes: MiB, MaxFields: 99, MaxFieldNameBytes: 512, MaxRequestBytes: 16 * MiB,
			MaxDecompressedBytes: 100000000, MemoryBytes: 512 * MiB, MaxConcurrentRequests: 8,
			AutoCreateBuckets: false, DefaultBucket: "misc", TimeField: "timestamp", MsgFields: []string{"body", "text"},
		},
		CommitLog: CommitLog{
			SegmentBytes: 16 * MiB, SegmentAge: Duration(2 * time.Hour), IndexIntervalBytes: KiB,
			Compression: "none", MaxPendingBytes: 8 * MiB, RetentionCheckInterval: Duration(5 * time.Minute),
		},
		Indexer: Indexer{FlushInterval: Duration(2 * time.Second), FlushRows: 20000, MaxTailBytes: 64 * MiB},
		Query:   Query{MaxMemoryBytes: 128 * MiB, Timeout: Duration(30 * time.Second), MaxConcurrent: 3, FilterCacheBytes: 64 * MiB},
		BucketDefaults: Bucket{
			Partitions: 16, StreamFields: []string{"app", "env"}, RetentionAge: Duration(14 * 24 * time.Hour),
			RetentionBytes: TiB, RequiredGroups: []string{"exporter"},
		},
	}
	// Per-bucket overrides are YAML-only, so they come from the file; the
	// syslog flags add listeners to the file's.
	want.Buckets = mustLoad(t, "--config", path).Buckets
	want.Syslog = fullYAMLSyslog()
	want.Syslog.TCP, want.Syslog.UDP, want.Syslog.TLS = []string{"127.0.0.1:1514"}, []string{"127.0.0.1:1514", "[::1]:1514"}, []string{":6515"}
	want.Syslog.TLSCert, want.Syslog.TLSKey, want.Syslog.Bucket = "/srv/lb/tls.crt", "/srv/lb/tls.key", "net"
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("Load = %+v\nwant %+v", *got, want)
	}
}

func TestFlagsOverrideYAML(t *testing.T) {
	path := writeConfig(t, "listen: 0.0.0.0:1\nlog_level: debug\ningest:\n  auto_create_buckets: false\n  msg_fields: [a, b]\nbucket_defaults:\n  partitions: 2\n")
	tests := []struct {
		name  string
		args  []string
		check func(c *Config) bool
	}{
		{"file alone", []string{"--config", path}, func(c *Config) bool {
			return c.Listen == "0.0.0.0:1" && c.LogLevel == "debug" && !c.Ingest.AutoCreateBuckets && c.BucketDefaults.Partitions == 2
		}},
		{"flag after --config", []string{"--config", path, "--listen", ":2"}, func(c *Config) bool {
			return c.Listen == ":2" && c.LogLevel == "debug"
		}},
		{"flag before --config", []string{"--listen=:3", "--config=" + path}, func(c *Config) bool {
			return c.Listen == ":3" && c.LogLevel == "debug"
		}},
		{"bool flag alone means true", []string{"--config", path, "--ingest.auto-create-buckets"}, func(c *Config) bool {
			return c.Ingest.AutoCreateBuckets
		}},
		{"list flag replaces the list", []string{"--config", path, "--ingest.msg-fields", "z"}, func(c *Config) bool {
			return reflect.DeepEqual(c.Ingest.MsgFields, []string{"z"})
		}},
		{"empty list flag empties the list", []string{"--bucket-defaults.stream-fields="}, func(c *Config) bool {
			return c.BucketDefaults.StreamFields != nil && len(c.BucketDefaults.StreamFields) == 0
		}},
		{"last repeat wins", []string{"--config", path, "--bucket-defaults.partitions", "3", "--bucket-defaults.partitions", "5"}, func(c *Config) bool {
			return c.BucketDefaults.Partitions == 5
		}},
		{"single dash", []string{"-config", path, "-log-level", "error"}, func(c *Config) bool {
			return c.LogLevel == "error" && c.Listen == "0.0.0.0:1"
		}},
		{"syslog flags repeat and add to the file's listeners", []string{"--config", writeConfig(t, "syslog:\n  listeners:\n    - {network: udp, address: ':514'}\n"),
			"--syslog-udp", ":1514", "--syslog-udp", ":2514,:3514", "--syslog-bucket=net"}, func(c *Config) bool {
			ls := c.SyslogListeners()
			return len(ls) == 4 && ls[0].Address == ":514" && ls[0].Bucket == "default" && ls[3].Address == ":3514" && ls[3].Bucket == "net"
		}},
		{"days in flags", []string{"--bucket-defaults.retention-age", "30d"}, func(c *Config) bool {
			return time.Duration(c.BucketDefaults.RetentionAge) == 720*time.Hour
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c := mustLoad(t, tt.args...); !tt.check(c) {
				t.Fatalf("Load(%q) = %+v", tt.args, *c)
			}
		})
	}
}

func TestLoadFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"positional", []string{"serve"}, `unexpected argument "serve"`},
		{"positional after flags", []string{"--data", "/d", "extra", "--listen", ":1"}, `unexpected argument "extra"`},
		{"bool with separate value", []string{"--ingest.auto-create-buckets", "false"}, `unexpected argument "false"`},
		{"unknown flag", []string{"--nope"}, "flag provided but not defined: -nope"},
		{"missing value", []string{"--data"}, "flag needs an argument: -data"},
		{"bad size", []string{"--ingest.max-line-bytes", "3q"}, `invalid value "3q" for flag -ingest.max-line-bytes: invalid byte size "3q"`},
		{"bad duration", []string{"--http.read-timeout=30"}, `invalid duration "30": missing unit`},
		{"bad int", []string{"--ingest.max-fields=lots"}, `"lots" is not a whole number`},
		{"bad bool", []string{"--ingest.auto-create-buckets=maybe"}, `"maybe" is not true or false`},
		{"invalid value", []string{"--bucket-defaults.partitions=0"}, "invalid configuration: bucket_defaults.partitions must be between 1 and 1024 (got 0)"},
		{"flag error before file error", []string{"--config", "/nonexistent/x.yaml", "--nope"}, "flag provided but not defined"},
		{"empty syslog address", []string{"--syslog-tcp="}, `invalid value "" for flag -syslog-tcp: "": give HOST:PORT, e.g. 0.0.0.0:514`},
		{"empty item in syslog addresses", []string{"--syslog-udp", ":514,"}, `invalid value ":514," for flag -syslog-udp`},
		{"bad syslog address", []string{"--syslog-udp", "514"}, `invalid configuration: --syslog-udp must be HOST:PORT, e.g. 0.0.0.0:514, or :514 for all interfaces (got "514"): missing port in address`},
		{"syslog tls without key pair", []string{"--syslog-tls", ":6514", "--syslog-tls-cert", "c.pem"}, "invalid configuration: --syslog-tls needs --syslog-tls-cert FILE and --syslog-tls-key FILE"},
		{"syslog cert without tls", []string{"--syslog-tcp", ":514", "--syslog-tls-cert", "c.pem"}, `--syslog-tls-cert ("c.pem") is set but there is no --syslog-tls listener to use it`},
		{"syslog bucket without listener", []string{"--syslog-bucket", "net"}, `--syslog-bucket ("net") is set but no --syslog-tcp, --syslog-udp or --syslog-tls listener uses it`},
		{"syslog bucket invalid", []string{"--syslog-udp", ":514", "--syslog-bucket", "Net"}, `--syslog-bucket must be a valid bucket name`},
		{"syslog on the HTTP address", []string{"--listen", "127.0.0.1:9701", "--syslog-tcp", "127.0.0.1:9701"}, `--syslog-tcp listens on tcp 127.0.0.1:9701 like listen (the HTTP address)`},
		{"syslog tcp and tls on one port", []string{"--syslog-tcp", ":514", "--syslog-tls", ":514", "--syslog-tls-cert", "c", "--syslog-tls-key", "k"}, `--syslog-tls listens on tcp :514 like --syslog-tcp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c, err := Load(tt.args, &out)
			if err == nil {
				t.Fatalf("Load(%q) = %+v, want an error", tt.args, c)
			}
			if c != nil {
				t.Errorf("Load returned a config along with error %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%q) error %q\nwant it to contain %q", tt.args, err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("Load(%q) wrote %q on error, want nothing", tt.args, out.String())
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "-help", "--h"} {
		var out bytes.Buffer
		c, err := Load([]string{"--data", "/x", arg, "--nope"}, &out)
		if !errors.Is(err, flag.ErrHelp) || c != nil {
			t.Fatalf("Load(%s) = %v, %v; want nil, flag.ErrHelp", arg, c, err)
		}
		usage := out.String()
		for _, want := range []string{
			"Usage: logbucket server [options]\n",
			"\nGeneral:\n", "\nHTTP:\n", "\nIngest:\n", "\nCommit log:\n", "\nBucket defaults:\n",
			"  --config FILE ", "  --data DIR ", "  --listen HOST:PORT ",
			"(default 256KiB) [yaml: ingest.max_line_bytes]\n",
			"(default 127.0.0.1:9700) [yaml: listen]\n",
			"(default none) [yaml: bucket_defaults.stream_fields]\n",
			"--ingest.auto-create-buckets=BOOL ",
			"buckets:\n    audit:\n      partitions: 8\n",
			"30d",
			"\nSyslog:\n",
			"  --syslog-tcp HOST:PORT ", "(none by default; more settings in the file: syslog.listeners)\n",
			"  --syslog-bucket NAME ", "(default: ingest.default_bucket)\n",
			"  syslog:\n    listeners:\n      - network: tls ",
		} {
			if !strings.Contains(usage, want) {
				t.Errorf("usage lacks %q:\n%s", want, usage)
			}
		}
		if strings.Contains(usage, "/x") {
			t.Errorf("usage shows a value from the command line instead of the default:\n%s", usage)
		}
	}
}

// TestHelpExamplesLoad: the YAML examples at the end of --help load.
func TestHelpExamplesLoad(t *testing.T) {
	var out bytes.Buffer
	if _, err := Load([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Load(--help) error %v", err)
	}
	usage := out.String()
	i := strings.Index(usage, "\n  listen: 0.0.0.0:9700\n")
	j := strings.Index(usage, "\n  syslog:\n")
	if i < 0 || j < 0 {
		t.Fatalf("usage lacks the examples:\n%s", usage)
	}
	var examples []string
	for _, part := range []string{usage[i : strings.Index(usage[i:], "\n\n")+i], usage[j:]} {
		var b strings.Builder
		for _, line := range strings.Split(strings.Trim(part, "\n"), "\n") {
			b.WriteString(strings.TrimPrefix(line, "  ") + "\n")
		}
		examples = append(examples, b.String())
	}
	c := mustLoad(t, "--config", writeConfig(t, strings.Join(examples, "")))
	ls := c.SyslogListeners()
	if len(ls) != 1 || ls[0].Network != "tls" || ls[0].Bucket != "syslog" || ls[0].MaxConnections != 1000 || c.Bucket("audit").Partitions != 8 {
		t.Fatalf("the examples loaded as %+v", *c)
	}
}

func TestHelpListsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	if _, err := Load([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("Load(--help) error %v", err)
	}
	lines := strings.Split(out.String(), "\n")
	c := Default()
	fs, opts := newFlagSet(&c, new(string))
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		var line string
		for _, l := range lines {
			if strings.HasPrefix(l, "  --"+f.Name+" ") || strings.HasPrefix(l, "  --"+f.Name+"=") {
				line = l
				break
			}
		}
		if line == "" {
			t.Errorf("usage does not list --%s", f.Name)
			return
		}
		if !strings.Contains(line, f.Usage) {
			t.Errorf("usage line for --%s lacks its description %q: %q", f.Name, f.Usage, line)
		}
		if f.Name == "config" {
			return
		}
		key := strings.ReplaceAll(f.Name, "-", "_")
		if !strings.HasSuffix(line, "(default "+f.DefValue+") [yaml: "+key+"]") && f.DefValue != "" {
			t.Errorf("usage line for --%s should end with its default %q and YAML key %q: %q", f.Name, f.DefValue, key, line)
		}
	})
	if n != len(opts) || n != 49 {
		t.Errorf("flag set has %d flags and %d options, want 49 of each", n, len(opts))
	}
}

// TestFlagNamesMatchYAML checks that every flag names a YAML key that
// exists, so the usage text, the file format and the flags agree.
func TestFlagNamesMatchYAML(t *testing.T) {
	flagValues := testFlagValues()
	c := Default()
	_, opts := newFlagSet(&c, new(string))
	for _, op := range opts {
		if op.yaml == "" {
			continue
		}
		if op.name != strings.ReplaceAll(op.yaml, "_", "-") {
			t.Errorf("flag --%s does not match YAML key %s", op.name, op.yaml)
		}
		body := op.yaml + ": " + flagValues[op.name]
		if section, key, ok := strings.Cut(op.yaml, "."); ok {
			body = section + ":\n  " + key + ": " + flagValues[op.name]
		}
		if _, ok := op.value.(*listValue); ok {
			body = strings.Replace(body, flagValues[op.name], "["+flagValues[op.name]+"]", 1)
		}
		if err := decodeYAML([]byte(body), &c); err != nil {
			t.Errorf("YAML %q for flag --%s: %v", body, op.name, err)
		}
	}
}
