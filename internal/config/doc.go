// Package config holds every setting of `logbucket server` in one struct
// tree, Config, together with its defaults, its validation, its YAML file
// format and its command-line flags.
//
// The contract:
//
//   - Default returns the built-in settings; they pass Validate. The HTTP
//     listener binds loopback only unless told otherwise.
//   - Load applies, in order, Default, the YAML file named by --config and
//     the command-line flags, so flags win over the file, which wins over
//     the defaults. It returns only validated configurations.
//   - The YAML file is strict: every key is optional, but an unknown key is
//     an error naming the key, its line and the keys allowed there. Keys are
//     the yaml struct tags; per-bucket overrides under "buckets" exist only
//     in the file.
//   - Each scalar setting has exactly one flag, named after its YAML path
//     with '_' replaced by '-' (commitlog.segment_bytes is
//     --commitlog.segment-bytes); lists are comma-separated. --help prints
//     every flag with its default and YAML key.
//   - The exception is the syslog listeners, a list in the file
//     (syslog.listeners). The --syslog-tcp, --syslog-udp and --syslog-tls
//     flags (repeatable) add listeners with the default settings on top of
//     that list, for --syslog-bucket (default ingest.default_bucket) and,
//     for TLS, --syslog-tls-cert and --syslog-tls-key; Syslog holds them
//     apart from the file's list, and Config.SyslogListeners returns all
//     of them with their defaults applied. There are no listeners by
//     default.
//   - Sizes are ByteSize ("256KiB", "1.5GB") and durations are Duration
//     (Go syntax plus a day unit, "30d") everywhere: in the file, in flags
//     and in the usage text.
//   - Validate checks every field and reports all problems at once, each
//     naming the YAML key, the value found and what to change.
//   - Config.Bucket resolves the settings of a bucket: its override fields
//     over BucketDefaults. ValidBucketName is the one bucket-name rule,
//     shared with the HTTP layer.
//
// The package has no global state; a Config is a plain value, safe for
// concurrent reads once loaded.
package config
