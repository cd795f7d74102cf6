package config

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits enforced by Validate (the usage text states them too).
const (
	minMaxLineBytes     = 1 * KiB
	maxMaxLineBytes     = 64 * MiB
	maxMaxFields        = 100000
	maxMaxFieldName     = 64 * KiB
	minMaxRequestBytes  = 1 * KiB
	minMemoryBytes      = 1 * MiB
	maxConcurrency      = 65536
	minSegmentBytes     = 64 * KiB
	maxSegmentBytes     = 1 * GiB
	minIndexInterval    = 256
	maxIndexInterval    = 1 * MiB
	maxDedupEntries     = 100000000
	maxPartitions       = 1024
	minRetentionCheck   = Duration(time.Second)
	maxRetentionCheck   = Duration(24 * time.Hour)
	minSegmentAge       = Duration(time.Second)
	maxBucketNameLength = 63
	minSyslogMessage    = 1 * KiB
	maxSyslogMessage    = 64 * MiB
)

// problems collects every validation failure so the user sees them all at
// once.
type problems []error

func (p *problems) addf(format string, args ...any) {
	*p = append(*p, fmt.Errorf(format, args...))
}

func (p *problems) oneOf(path, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		p.addf("%s must be one of %s (got %q)", path, strings.Join(allowed, ", "), got)
	}
}

func (p *problems) sizeRange(path string, got, lo, hi ByteSize) {
	if got < lo || got > hi {
		p.addf("%s must be between %v and %v (got %v)", path, lo, hi, got)
	}
}

func (p *problems) intRange(path string, got, lo, hi int) {
	if got < lo || got > hi {
		p.addf("%s must be between %d and %d (got %d)", path, lo, hi, got)
	}
}

func (p *problems) positive(path string, got Duration) {
	if got <= 0 {
		p.addf("%s must be a positive duration such as 30s (got %v)", path, got)
	}
}

// fieldNames checks a list of log field names: non-empty, unique and no
// longer than maxLen (when maxLen itself is valid).
func (p *problems) fieldNames(path string, names []string, maxLen ByteSize) {
	for i, n := range names {
		switch {
		case strings.TrimSpace(n) == "":
			p.addf("%s[%d] must be a field name (got %q)", path, i, n)
		case maxLen >= 1 && maxLen <= maxMaxFieldName && ByteSize(len(n)) > maxLen:
			p.addf("%s[%d] is %d bytes long, over ingest.max_field_name_bytes (%v); shorten it or raise the limit",
				path, i, len(n), maxLen)
		case slices.Index(names, n) < i:
			p.addf("%s lists %q twice; remove the duplicate", path, n)
		}
	}
}

// Validate checks every setting and returns nil or an error listing every
// problem, one per line, each naming the YAML key, what is wrong, the value
// found and, where it is not obvious, what to change.
func (c *Config) Validate() error {
	var p problems
	c.validateGeneral(&p)
	c.validateHTTP(&p)
	c.validateIngest(&p)
	c.validateCommitLog(&p)
	c.validateSearch(&p)
	c.validateBucket(&p, "bucket_defaults", c.BucketDefaults, nil)
	c.validateSyslog(&p)
	names := make([]string, 0, len(c.Buckets))
	for name := range c.Buckets {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !ValidBucketName(name) {
			p.addf("buckets: %q is not a valid bucket name; use 1 to %d characters from a-z, 0-9, '_' and '-', "+
				"starting with a letter or digit", name, maxBucketNameLength)
			continue
		}
		o := c.Buckets[name]
		c.validateBucket(&p, "buckets."+name, c.Bucket(name), &o)
	}
	return errors.Join(p...)
}

func (c *Config) validateGeneral(p *problems) {
	if strings.TrimSpace(c.Data) == "" {
		p.addf("data must name the data directory (got %q)", c.Data)
	}
	if err := checkHostPort(c.Listen); err != nil {
		p.addf("listen must be HOST:PORT, e.g. 127.0.0.1:9700, or :9700 for all interfaces (got %q): %v", c.Listen, err)
	}
	p.oneOf("log_level", c.LogLevel, "debug", "info", "warn", "error")
	p.oneOf("log_format", c.LogFormat, "text", "json")
}

func checkHostPort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return errors.New(ae.Err)
		}
		return err
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return nil
}

func (c *Config) validateHTTP(p *problems) {
	h := c.HTTP
	p.positive("http.read_header_timeout", h.ReadHeaderTimeout)
	p.positive("http.read_timeout", h.ReadTimeout)
	p.positive("http.write_timeout", h.WriteTimeout)
	p.positive("http.idle_timeout", h.IdleTimeout)
	p.positive("http.shutdown_timeout", h.ShutdownTimeout)
	if h.ReadHeaderTimeout > 0 && h.ReadTimeout > 0 && h.ReadHeaderTimeout > h.ReadTimeout {
		p.addf("http.read_header_timeout (%v) must not exceed http.read_timeout (%v), which covers the headers too",
			h.ReadHeaderTimeout, h.ReadTimeout)
	}
	switch {
	case h.MaxPollWait < 0:
		p.addf("http.max_poll_wait must be 0 or a positive duration (got %v)", h.MaxPollWait)
	case h.WriteTimeout > 0 && h.MaxPollWait >= h.WriteTimeout:
		p.addf("http.max_poll_wait (%v) must be less than http.write_timeout (%v), or long-polls are cut off "+
			"before they answer; lower max_poll_wait or raise write_timeout", h.MaxPollWait, h.WriteTimeout)
	}
}

func (c *Config) validateIngest(p *problems) {
	in := c.Ingest
	// Rules that relate two settings run only when both are valid on their
	// own, so one mistake is reported once.
	lineOK := in.MaxLineBytes >= minMaxLineBytes && in.MaxLineBytes <= maxMaxLineBytes
	nameOK := in.MaxFieldNameBytes >= 1 && in.MaxFieldNameBytes <= maxMaxFieldName
	requestOK := in.MaxRequestBytes >= minMaxRequestBytes
	memoryOK := in.MemoryBytes >= minMemoryBytes
	p.sizeRange("ingest.max_line_bytes", in.MaxLineBytes, minMaxLineBytes, maxMaxLineBytes)
	p.intRange("ingest.max_fields", in.MaxFields, 1, maxMaxFields)
	p.sizeRange("ingest.max_field_name_bytes", in.MaxFieldNameBytes, 1, maxMaxFieldName)
	if lineOK && nameOK && in.MaxFieldNameBytes > in.MaxLineBytes {
		p.addf("ingest.max_field_name_bytes (%v) must not exceed ingest.max_line_bytes (%v)",
			in.MaxFieldNameBytes, in.MaxLineBytes)
	}
	if in.MaxRequestBytes < minMaxRequestBytes {
		p.addf("ingest.max_request_bytes must be at least %v (got %v)", minMaxRequestBytes, in.MaxRequestBytes)
	}
	if lineOK && in.MaxDecompressedBytes < in.MaxLineBytes {
		p.addf("ingest.max_decompressed_bytes (%v) must be at least ingest.max_line_bytes (%v), or no line "+
			"of the maximum length fits in a request; raise max_decompressed_bytes or lower max_line_bytes",
			in.MaxDecompressedBytes, in.MaxLineBytes)
	}
	if requestOK && in.MaxDecompressedBytes < in.MaxRequestBytes {
		p.addf("ingest.max_decompressed_bytes (%v) must be at least ingest.max_request_bytes (%v), since an "+
			"uncompressed body counts against both; raise max_decompressed_bytes or lower max_request_bytes",
			in.MaxDecompressedBytes, in.MaxRequestBytes)
	}
	if in.MemoryBytes < minMemoryBytes {
		p.addf("ingest.memory_bytes must be at least %v (got %v)", minMemoryBytes, in.MemoryBytes)
	}
	if requestOK && memoryOK && in.MaxRequestBytes > in.MemoryBytes {
		p.addf("ingest.max_request_bytes (%v) must not exceed ingest.memory_bytes (%v), or a request of the "+
			"maximum size could never be admitted; raise memory_bytes or lower max_request_bytes",
			in.MaxRequestBytes, in.MemoryBytes)
	}
	p.intRange("ingest.max_concurrent_requests", in.MaxConcurrentRequests, 1, maxConcurrency)
	if !ValidBucketName(in.DefaultBucket) {
		p.addf("ingest.default_bucket must be a valid bucket name: 1 to %d characters from a-z, 0-9, '_' and '-', "+
			"starting with a letter or digit (got %q)", maxBucketNameLength, in.DefaultBucket)
	}
	switch {
	case strings.TrimSpace(in.TimeField) == "":
		p.addf("ingest.time_field must name the timestamp field, e.g. _time (got %q)", in.TimeField)
	case nameOK && ByteSize(len(in.TimeField)) > in.MaxFieldNameBytes:
		p.addf("ingest.time_field is %d bytes long, over ingest.max_field_name_bytes (%v); shorten it or raise the limit",
			len(in.TimeField), in.MaxFieldNameBytes)
	}
	if len(in.MsgFields) == 0 {
		p.addf("ingest.msg_fields must list at least one field name, e.g. [_msg, message]")
	}
	p.fieldNames("ingest.msg_fields", in.MsgFields, in.MaxFieldNameBytes)
}

func (c *Config) validateCommitLog(p *problems) {
	cl := c.CommitLog
	p.sizeRange("commitlog.segment_bytes", cl.SegmentBytes, minSegmentBytes, maxSegmentBytes)
	if cl.SegmentAge < minSegmentAge {
		p.addf("commitlog.segment_age must be at least %v (got %v)", minSegmentAge, cl.SegmentAge)
	}
	p.sizeRange("commitlog.index_interval_bytes", cl.IndexIntervalBytes, minIndexInterval, maxIndexInterval)
	segmentOK := cl.SegmentBytes >= minSegmentBytes && cl.SegmentBytes <= maxSegmentBytes
	if segmentOK && cl.IndexIntervalBytes > cl.SegmentBytes {
		p.addf("commitlog.index_interval_bytes (%v) must not exceed commitlog.segment_bytes (%v)",
			cl.IndexIntervalBytes, cl.SegmentBytes)
	}
	p.oneOf("commitlog.compression", cl.Compression, "zstd", "s2", "none")
	lineOK := c.Ingest.MaxLineBytes >= minMaxLineBytes && c.Ingest.MaxLineBytes <= maxMaxLineBytes
	if lineOK && cl.MaxPendingBytes < c.Ingest.MaxLineBytes {
		p.addf("commitlog.max_pending_bytes (%v) must be at least ingest.max_line_bytes (%v), or a record of "+
			"the maximum size could never be queued; raise max_pending_bytes or lower max_line_bytes",
			cl.MaxPendingBytes, c.Ingest.MaxLineBytes)
	}
	if cl.RetentionCheckInterval < minRetentionCheck || cl.RetentionCheckInterval > maxRetentionCheck {
		p.addf("commitlog.retention_check_interval must be between %v and %v (got %v)",
			minRetentionCheck, maxRetentionCheck, cl.RetentionCheckInterval)
	}
	if cl.DedupWindow < 0 {
		p.addf("commitlog.dedup_window must be 0 (no deduplication) or a positive duration (got %v)", cl.DedupWindow)
	}
	p.intRange("commitlog.dedup_max_entries", cl.DedupMaxEntries, 0, maxDedupEntries)
	if cl.DedupWindow > 0 && cl.DedupMaxEntries == 0 {
		p.addf("commitlog.dedup_max_entries must be positive while commitlog.dedup_window is set (%v); "+
			"set dedup_window to 0 to turn deduplication off", cl.DedupWindow)
	}
}

// validateBucket checks resolved bucket settings b at path. For a named
// bucket, o is its override: fields it leaves nil came from
// bucket_defaults and were checked there, so only the rules that combine
// fields are checked again.
func (c *Config) validateBucket(p *problems, path string, b Bucket, o *BucketOverride) {
	all := o == nil
	if all || o.Partitions != nil {
		p.intRange(path+".partitions", b.Partitions, 1, maxPartitions)
	}
	if all || o.StreamFields != nil {
		p.fieldNames(path+".stream_fields", b.StreamFields, c.Ingest.MaxFieldNameBytes)
	}
	if (all || o.RetentionAge != nil) && b.RetentionAge < 0 {
		p.addf("%s.retention_age must be 0 (keep forever) or a positive duration such as 30d (got %v)",
			path, b.RetentionAge)
	}
	if all || o.RetentionBytes != nil {
		if b.RetentionBytes < 0 {
			p.addf("%s.retention_bytes must be 0 (unlimited) or a positive size such as 100GiB (got %v)",
				path, b.RetentionBytes)
		}
	}
	if all || o.RequiredGroups != nil {
		for i, g := range b.RequiredGroups {
			switch {
			case strings.TrimSpace(g) == "":
				p.addf("%s.required_groups[%d] must be a consumer group name (got %q)", path, i, g)
			case slices.Index(b.RequiredGroups, g) < i:
				p.addf("%s.required_groups lists %q twice; remove the duplicate", path, g)
			}
		}
	}
	// Retention deletes whole segments, at least one of which stays in
	// every partition, so a smaller budget could never be honored.
	partitionsOK := b.Partitions >= 1 && b.Partitions <= maxPartitions
	segmentOK := c.CommitLog.SegmentBytes >= minSegmentBytes && c.CommitLog.SegmentBytes <= maxSegmentBytes
	if partitionsOK && segmentOK && b.RetentionBytes > 0 {
		floor := ByteSize(b.Partitions) * c.CommitLog.SegmentBytes
		if b.RetentionBytes < floor {
			from := ""
			if !all && o.RetentionBytes == nil {
				from = ", from bucket_defaults"
			}
			p.addf("%s.retention_bytes (%v%s) must be 0 or at least partitions × commitlog.segment_bytes "+
				"(%d × %v = %v), since retention deletes whole segments per partition; raise retention_bytes "+
				"or lower partitions or commitlog.segment_bytes",
				path, b.RetentionBytes, from, b.Partitions, c.CommitLog.SegmentBytes, floor)
		}
	}
}

func (c *Config) validateSearch(p *problems) {
	if c.Indexer.FlushInterval < Duration(100*time.Millisecond) || c.Indexer.FlushInterval > Duration(time.Hour) {
		p.addf("indexer.flush_interval must be between 100ms and 1h (got %v)", c.Indexer.FlushInterval)
	}
	if c.Indexer.FlushRows < 1000 || c.Indexer.FlushRows > 100000000 {
		p.addf("indexer.flush_rows must be between 1000 and 100000000 (got %d)", c.Indexer.FlushRows)
	}
	if c.Indexer.MaxTailBytes < MiB {
		p.addf("indexer.max_tail_bytes must be at least 1MiB (got %v)", c.Indexer.MaxTailBytes)
	}
	if c.Query.MaxMemoryBytes < MiB {
		p.addf("query.max_memory_bytes must be at least 1MiB (got %v)", c.Query.MaxMemoryBytes)
	}
	if c.Query.Timeout < Duration(time.Second) {
		p.addf("query.timeout must be at least 1s (got %v)", c.Query.Timeout)
	}
	if c.Query.FilterCacheBytes < 0 {
		p.addf("query.filter_cache_bytes must not be negative (got %d)", c.Query.FilterCacheBytes)
	}
	if c.Query.MaxConcurrent < 1 || c.Query.MaxConcurrent > 4096 {
		p.addf("query.max_concurrent must be between 1 and 4096 (got %d)", c.Query.MaxConcurrent)
	}
}

// validateSyslog checks the syslog listeners of the file and of the flags.
// A listener of the file is named by its path (syslog.listeners[1].address);
// one added by a flag, by the flag that set the value.
func (c *Config) validateSyslog(p *problems) {
	s := c.Syslog
	nflag := len(s.TCP) + len(s.UDP) + len(s.TLS)
	if s.Bucket != "" {
		switch {
		case nflag == 0:
			p.addf("--syslog-bucket (%q) is set but no --syslog-tcp, --syslog-udp or --syslog-tls listener uses it; "+
				"the listeners of syslog.listeners take their own bucket key", s.Bucket)
		case !ValidBucketName(s.Bucket):
			p.addf("--syslog-bucket must be a valid bucket name: 1 to %d characters from a-z, 0-9, '_' and '-', "+
				"starting with a letter or digit (got %q)", maxBucketNameLength, s.Bucket)
		}
	}
	if len(s.TLS) == 0 {
		for _, f := range []struct{ flag, v string }{{"--syslog-tls-cert", s.TLSCert}, {"--syslog-tls-key", s.TLSKey}} {
			if f.v != "" {
				p.addf("%s (%q) is set but there is no --syslog-tls listener to use it; add --syslog-tls HOST:PORT", f.flag, f.v)
			}
		}
	} else if s.TLSCert == "" || s.TLSKey == "" {
		p.addf("--syslog-tls needs --syslog-tls-cert FILE and --syslog-tls-key FILE (PEM certificate chain and private key)")
	}

	// socket is what a listener binds: TLS listens on TCP.
	type socket struct{ transport, addr string }
	bound := map[socket]string{{"tcp", c.Listen}: "listen (the HTTP address)"}
	for i, l := range c.SyslogListeners() {
		fromFile := i < len(s.Listeners)
		key := func(k string) string { return l.Origin + "." + k }
		if !fromFile {
			key = func(string) string { return l.Origin }
		}
		if fromFile {
			p.oneOf(key("network"), l.Network, SyslogTCP, SyslogTLS, SyslogUDP)
		}
		addrOK := false
		if l.Address == "" {
			p.addf("%s must be the HOST:PORT to listen on, e.g. 0.0.0.0:514 (got %q)", key("address"), l.Address)
		} else if err := checkHostPort(l.Address); err != nil {
			p.addf("%s must be HOST:PORT, e.g. 0.0.0.0:514, or :514 for all interfaces (got %q): %v", key("address"), l.Address, err)
		} else {
			addrOK = true
		}
		if addrOK && slices.Contains([]string{SyslogTCP, SyslogTLS, SyslogUDP}, l.Network) {
			sock := socket{"tcp", l.Address}
			if l.Network == SyslogUDP {
				sock.transport = "udp"
			}
			if _, port, _ := net.SplitHostPort(l.Address); port != "0" {
				if other, ok := bound[sock]; ok {
					p.addf("%s listens on %s %s like %s; give each listener its own address", l.Origin, sock.transport, l.Address, other)
				} else {
					bound[sock] = l.Origin
				}
			}
		}
		if !fromFile {
			continue // the other settings come from the flags checked above, or are defaults
		}
		// A bucket left out is ingest.default_bucket, checked there.
		if l.Bucket != c.Ingest.DefaultBucket && !ValidBucketName(l.Bucket) {
			p.addf("%s must be a valid bucket name: 1 to %d characters from a-z, 0-9, '_' and '-', "+
				"starting with a letter or digit (got %q)", key("bucket"), maxBucketNameLength, l.Bucket)
		}
		p.fieldNames(key("stream_fields"), l.StreamFields, c.Ingest.MaxFieldNameBytes)
		if _, err := time.LoadLocation(l.TimeZone); err != nil {
			p.addf("%s must be UTC, Local or an IANA time zone name such as Europe/Berlin (got %q): %v",
				key("time_zone"), l.TimeZone, err)
		}
		if l.Network == SyslogTLS {
			for _, f := range []struct{ key, v string }{{"cert_file", l.CertFile}, {"key_file", l.KeyFile}} {
				if f.v == "" {
					p.addf("%s must name a PEM file: a tls listener needs cert_file and key_file", key(f.key))
				}
			}
		} else if l.CertFile != "" || l.KeyFile != "" {
			p.addf("%s has cert_file or key_file but network %q: only a tls listener uses them; "+
				"set network: tls or remove them", l.Origin, l.Network)
		}
		p.sizeRange(key("max_message_bytes"), l.MaxMessageBytes, minSyslogMessage, maxSyslogMessage)
		if l.IdleTimeout < 0 {
			p.addf("%s must be a positive duration such as 10m (got %v)", key("idle_timeout"), l.IdleTimeout)
		}
		p.intRange(key("max_connections"), l.MaxConnections, 1, maxConcurrency)
	}
}
