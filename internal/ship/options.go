package ship

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Options configure a Shipper. Build them with DefaultOptions (or
// LoadConfig) and adjust; Validate fills nothing in, it only checks.
type Options struct {
	// Server is the logbucket base URL, e.g. http://127.0.0.1:9700.
	Server string `yaml:"server"`
	// Token, when set, is sent as a bearer token. Never logged.
	Token string `yaml:"token"`
	// StateDir holds the checkpoint file and its lock.
	StateDir string `yaml:"state"`
	// MetricsListen, when set, serves Prometheus /metrics on this address.
	MetricsListen string `yaml:"metrics_listen"`
	// Compress is the request encoding: zstd, gzip or none.
	Compress string `yaml:"compress"`

	// BatchBytes, BatchLines and BatchWait end a batch: whichever comes
	// first (bytes of NDJSON before compression).
	BatchBytes int           `yaml:"batch_bytes"`
	BatchLines int           `yaml:"batch_lines"`
	BatchWait  time.Duration `yaml:"batch_wait"`
	// MaxInflightBytes bounds the NDJSON bytes of all batches being built,
	// queued or sent; readers wait when it is spent.
	MaxInflightBytes int64 `yaml:"max_inflight_bytes"`

	// PollInterval is how often the globs are expanded.
	PollInterval time.Duration `yaml:"poll_interval"`
	// ReadInterval is how often a file at its end is checked for growth.
	ReadInterval time.Duration `yaml:"read_interval"`
	// RotateWait is how long a file that no longer matches any glob
	// (renamed away or deleted) is still read after it last grew.
	RotateWait time.Duration `yaml:"rotate_wait"`
	// CloseInactive closes a matched file that has not grown for this long;
	// it is opened again when it grows.
	CloseInactive time.Duration `yaml:"close_inactive"`
	// DetachedTimeout is how long a checkpointed file that cannot be found
	// (neither at its path nor renamed or copied in its directory) is
	// looked for before its checkpoint is dropped.
	DetachedTimeout time.Duration `yaml:"detached_timeout"`
	// ShutdownGrace is how long a stop waits for batches already sent.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// MinBackoff and MaxBackoff bound the wait between retries of a batch.
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`

	// Inputs are read from the YAML key inputs: (see LoadConfig).
	Inputs []Input `yaml:"-"`
}

// Input is one set of files shipped to one bucket.
type Input struct {
	// Name identifies the input in checkpoints, metrics and logs.
	Name string `yaml:"name"`
	// Paths are filepath.Glob patterns; Exclude patterns are matched
	// against the whole path and against the base name.
	Paths   []string `yaml:"paths"`
	Exclude []string `yaml:"exclude"`

	Bucket       string            `yaml:"bucket"`
	StreamFields []string          `yaml:"stream_fields"`
	TimeField    string            `yaml:"time_field"`
	MsgField     string            `yaml:"msg_field"`
	Fields       map[string]string `yaml:"fields"`
	// FilenameField names the field that carries the path the file was
	// found under; "" sends no such field.
	FilenameField *string `yaml:"filename_field"`

	// MaxLineBytes cuts longer lines (the rest is dropped, a marker added).
	MaxLineBytes int       `yaml:"max_line_bytes"`
	Multiline    Multiline `yaml:"multiline"`
}

// Multiline says how lines join into records.
type Multiline struct {
	// Mode is auto (built-in stack trace rules), start (Start is the
	// pattern of a first line; set implicitly by Start) or off.
	Mode string `yaml:"mode"`
	// Start is a regular expression: a line it matches starts a record,
	// every other line continues the record before it.
	Start string `yaml:"start"`
	// MaxLines and MaxBytes bound one record; a longer one is split (a
	// single line is kept whole up to the input's MaxLineBytes).
	MaxLines int `yaml:"max_lines"`
	MaxBytes int `yaml:"max_bytes"`
	// Timeout completes a record when no line arrived for this long.
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultFilenameField is the field that carries a record's file path
// (the name Promtail and vlagent use).
const DefaultFilenameField = "filename"

// DefaultOptions returns the defaults of every setting, without inputs.
func DefaultOptions() Options {
	return Options{
		Server:           "http://127.0.0.1:9700",
		Compress:         "zstd",
		BatchBytes:       4 << 20,
		BatchLines:       20000,
		BatchWait:        time.Second,
		MaxInflightBytes: 64 << 20,
		PollInterval:     time.Second,
		ReadInterval:     250 * time.Millisecond,
		RotateWait:       5 * time.Second,
		CloseInactive:    5 * time.Minute,
		DetachedTimeout:  time.Minute,
		ShutdownGrace:    5 * time.Second,
		MinBackoff:       100 * time.Millisecond,
		MaxBackoff:       10 * time.Second,
	}
}

// DefaultInput returns an input with the default limits and no paths.
func DefaultInput() Input {
	fn := DefaultFilenameField
	return Input{
		FilenameField: &fn,
		MaxLineBytes:  256 << 10,
		Multiline:     Multiline{Mode: "auto", MaxLines: 1000, MaxBytes: 256 << 10, Timeout: time.Second},
	}
}

// LoadConfig reads a YAML configuration over the defaults. Settings an
// input leaves out take DefaultInput's values. Unknown keys are errors.
func LoadConfig(path string) (Options, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Options{}, fmt.Errorf("read config %s: %w", path, err)
	}
	o, err := parseConfig(data)
	if err != nil {
		return Options{}, fmt.Errorf("parse config %s: %w", path, err)
	}
	return o, nil
}

func parseConfig(data []byte) (Options, error) {
	// First pass, strict: every key must be known (errors name the line).
	var strict struct {
		Options `yaml:",inline"`
		Inputs  []Input `yaml:"inputs"`
	}
	strict.Options = DefaultOptions()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&strict); err != nil && !errors.Is(err, io.EOF) {
		return Options{}, err
	}
	o := strict.Options
	// Second pass: each input over DefaultInput, so that what it leaves
	// out keeps its default.
	var raw struct {
		Inputs []yaml.Node `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return Options{}, err
	}
	for _, n := range raw.Inputs {
		in := DefaultInput()
		if err := n.Decode(&in); err != nil {
			return Options{}, err
		}
		o.Inputs = append(o.Inputs, in)
	}
	return o, nil
}

var (
	bucketRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	inputNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)
)

// Validate checks every setting and names each one that is wrong.
func (o *Options) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !strings.HasPrefix(o.Server, "http://") && !strings.HasPrefix(o.Server, "https://") {
		bad("server must be an http:// or https:// URL, not %q", o.Server)
	}
	if o.StateDir == "" {
		bad("state (--state DIR) is required: it holds the checkpoints that make restarts lose and repeat nothing")
	}
	if o.Compress != "zstd" && o.Compress != "gzip" && o.Compress != "none" {
		bad("compress must be zstd, gzip or none, not %q", o.Compress)
	}
	if o.BatchBytes < 1<<10 || o.BatchBytes > 32<<20 {
		bad("batch_bytes must be between 1 KiB and 32 MiB (the server takes at most 64 MiB a request), not %d", o.BatchBytes)
	}
	if o.BatchLines < 1 {
		bad("batch_lines must be positive, not %d", o.BatchLines)
	}
	for name, d := range map[string]time.Duration{"batch_wait": o.BatchWait, "poll_interval": o.PollInterval,
		"read_interval": o.ReadInterval, "rotate_wait": o.RotateWait, "close_inactive": o.CloseInactive,
		"detached_timeout": o.DetachedTimeout, "min_backoff": o.MinBackoff, "max_backoff": o.MaxBackoff} {
		if d <= 0 {
			bad("%s must be a positive duration, not %v", name, d)
		}
	}
	if o.ShutdownGrace < 0 {
		bad("shutdown_grace must not be negative")
	}
	if len(o.Inputs) == 0 {
		bad("no inputs: give GLOBs on the command line or inputs: in the config file")
	}
	names := map[string]bool{}
	for i := range o.Inputs {
		in := &o.Inputs[i]
		if in.Name == "" {
			in.Name = fmt.Sprintf("input%d", i+1)
		}
		if names[in.Name] {
			bad("input %q: the name is used twice", in.Name)
		}
		names[in.Name] = true
		if err := in.validate(o); err != nil {
			errs = append(errs, fmt.Errorf("input %q: %w", in.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (in *Input) validate(o *Options) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !inputNameRE.MatchString(in.Name) {
		bad("name must match %s", inputNameRE)
	}
	if len(in.Paths) == 0 {
		bad("paths: at least one glob is required")
	}
	for _, p := range slices.Concat(in.Paths, in.Exclude) {
		if _, err := pathMatch(p, ""); err != nil {
			bad("bad glob %q: %v", p, err)
		}
	}
	if !bucketRE.MatchString(in.Bucket) {
		bad("bucket %q must match %s", in.Bucket, bucketRE)
	}
	if in.MaxLineBytes < 256 || in.MaxLineBytes > 64<<20 {
		bad("max_line_bytes must be between 256 and 64 MiB, not %d", in.MaxLineBytes)
	}
	m := &in.Multiline
	if m.Start != "" && m.Mode == "" || m.Mode == "auto" && m.Start != "" {
		m.Mode = "start"
	}
	switch m.Mode {
	case "auto", "off":
	case "start":
		if m.Start == "" {
			bad("multiline.mode start needs multiline.start (a regular expression)")
		} else if _, err := regexp.Compile(m.Start); err != nil {
			bad("multiline.start: %v", err)
		}
	default:
		bad("multiline.mode must be auto, start or off, not %q", m.Mode)
	}
	if m.MaxLines < 1 {
		bad("multiline.max_lines must be positive")
	}
	if m.MaxBytes < 256 {
		bad("multiline.max_bytes must be at least 256, not %d", m.MaxBytes)
	}
	if m.Timeout <= 0 {
		bad("multiline.timeout must be a positive duration")
	}
	if need := 2 * (int64(o.BatchBytes) + int64(max(m.MaxBytes, in.MaxLineBytes+cutMarkerMax))); o.MaxInflightBytes < need {
		bad("max_inflight_bytes (%d) must hold two batches and two records (at least %d)", o.MaxInflightBytes, need)
	}
	for k := range in.Fields {
		if k == "" || k == "_msg" || k == "_time" {
			bad("fields: %q cannot be a static field", k)
		}
	}
	return errors.Join(errs...)
}

// filenameField returns the configured filename field ("" for none).
func (in *Input) filenameField() string {
	if in.FilenameField == nil {
		return DefaultFilenameField
	}
	return *in.FilenameField
}
