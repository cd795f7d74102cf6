package ship

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const usage = `Usage: logbucket ship --server URL --bucket B --state DIR [options] 'GLOB'...
       logbucket ship --config ship.yaml [--state DIR] [--server URL] [--token T]

Follows log files like tail -F and ships their lines to a logbucket server:
rotation by rename and by copytruncate, files that appear later, files that
are deleted (read to their end, then closed). Stack traces are joined into
one record; a line that is a JSON object is sent as that object, any other
line as {"_msg": line}; every record also gets the field "filename" (the
path the file was found under) and the --field values.

A checkpoint in --state advances only after the server acknowledged a batch,
and every batch carries an idempotency key made of the file's identity and
its byte range, so neither a restart of the shipper nor one of the server
loses or repeats a line (within the server's commitlog.dedup_window, 10
minutes by default; the details and limits: go doc ./internal/ship).

Quote the globs so that the shell does not expand them.

Options:
`

// RunCommand runs `logbucket ship` and returns its exit code: 0 after a
// stop by signal, 1 on an error, 2 for a usage error.
func RunCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("logbucket ship", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o, in := DefaultOptions(), DefaultInput()
	var configPath, streamFields, progress, logLevel string
	var fields, excludes listFlag
	fs.StringVar(&configPath, "config", "", "YAML file with many inputs (its keys: go doc ./internal/ship)")
	fs.StringVar(&o.Server, "server", o.Server, "server URL")
	fs.StringVar(&o.Token, "token", "", "bearer token, when the server requires one")
	fs.StringVar(&o.StateDir, "state", "", "directory for checkpoints (required)")
	fs.StringVar(&o.MetricsListen, "metrics-listen", "", "serve Prometheus /metrics on this HOST:PORT")
	fs.StringVar(&o.Compress, "compress", o.Compress, "request compression: zstd, gzip or none")
	fs.IntVar(&o.BatchBytes, "batch-bytes", o.BatchBytes, "largest batch in NDJSON bytes")
	fs.IntVar(&o.BatchLines, "batch-lines", o.BatchLines, "most records in a batch")
	fs.DurationVar(&o.BatchWait, "batch-wait", o.BatchWait, "longest a record waits for its batch to fill")
	fs.Int64Var(&o.MaxInflightBytes, "max-inflight-bytes", o.MaxInflightBytes, "bound on the bytes of all batches being built, queued or sent")
	fs.DurationVar(&o.PollInterval, "poll-interval", o.PollInterval, "how often the globs are expanded")
	fs.DurationVar(&o.ReadInterval, "read-interval", o.ReadInterval, "how often a file at its end is checked for growth")
	fs.DurationVar(&o.RotateWait, "rotate-wait", o.RotateWait, "how long a renamed-away or deleted file is read after it last grew")
	fs.DurationVar(&o.CloseInactive, "close-inactive", o.CloseInactive, "close a file that did not grow for this long (reopened when it grows)")
	fs.DurationVar(&o.DetachedTimeout, "detached-timeout", o.DetachedTimeout, "how long a checkpointed file that went missing is looked for")
	fs.DurationVar(&o.ShutdownGrace, "shutdown-grace", o.ShutdownGrace, "how long a stop waits for batches already sent")
	fs.DurationVar(&o.MaxBackoff, "max-backoff", o.MaxBackoff, "longest wait between retries")
	fs.StringVar(&in.Bucket, "bucket", "", "bucket to write to (required without --config)")
	fs.StringVar(&streamFields, "stream-fields", "", "comma-separated stream fields (default: the bucket's)")
	fs.Var(&fields, "field", "static field NAME=VALUE added to every record (repeatable), e.g. --field host=$(hostname)")
	fs.StringVar(in.FilenameField, "filename-field", *in.FilenameField, "field that carries the file's path (\"\" for none)")
	fs.StringVar(&in.TimeField, "time-field", "", "field of JSON lines holding the timestamp (default _time)")
	fs.StringVar(&in.MsgField, "msg-field", "", "field(s) holding the message (default _msg,message,msg,log)")
	fs.Var(&excludes, "exclude", "glob of paths or base names to skip (repeatable)")
	fs.IntVar(&in.MaxLineBytes, "max-line-bytes", in.MaxLineBytes, "longer lines are cut, with a marker")
	fs.StringVar(&in.Multiline.Mode, "multiline", in.Multiline.Mode, "auto (join stack traces), off, or start (set by --multiline-start)")
	fs.StringVar(&in.Multiline.Start, "multiline-start", "", "regular expression of a record's first line; other lines continue it")
	fs.IntVar(&in.Multiline.MaxLines, "multiline-max-lines", in.Multiline.MaxLines, "most lines in one record")
	fs.IntVar(&in.Multiline.MaxBytes, "multiline-max-bytes", in.Multiline.MaxBytes, "most bytes in one joined record")
	fs.DurationVar(&in.Multiline.Timeout, "multiline-timeout", in.Multiline.Timeout, "a record is complete after this long without a new line")
	fs.StringVar(&progress, "progress", "auto", "status line on stderr: auto (when it is a terminal), always or never")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if configPath != "" {
		for _, name := range []string{"bucket", "stream-fields", "field", "filename-field", "time-field", "msg-field",
			"exclude", "max-line-bytes", "multiline", "multiline-start", "multiline-max-lines", "multiline-max-bytes", "multiline-timeout"} {
			if set[name] {
				fmt.Fprintf(stderr, "logbucket ship: --%s describes an input; with --config put it under inputs: in %s\n", name, configPath)
				return 2
			}
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "logbucket ship: with --config the globs go under inputs: paths: in %s, not on the command line\n", configPath)
			return 2
		}
		fileOpts, err := LoadConfig(configPath)
		if err != nil {
			fmt.Fprintf(stderr, "logbucket ship: %v\n", err)
			return 2
		}
		// Command-line flags override the file.
		fs.Visit(func(f *flag.Flag) { _ = fileOpts.overrideFrom(f.Name, &o) })
		o = fileOpts
	} else {
		if fs.NArg() == 0 {
			fmt.Fprintln(stderr, "logbucket ship: no files to follow: give GLOBs after the options, or --config FILE")
			fs.Usage()
			return 2
		}
		in.Name = "default"
		in.Paths = fs.Args()
		in.Exclude = excludes
		if streamFields != "" {
			in.StreamFields = strings.Split(streamFields, ",")
		}
		if len(fields) > 0 {
			in.Fields = map[string]string{}
			for _, kv := range fields {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					fmt.Fprintf(stderr, "logbucket ship: --field %q: want NAME=VALUE\n", kv)
					return 2
				}
				in.Fields[k] = v
			}
		}
		o.Inputs = []Input{in}
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintf(stderr, "logbucket ship: invalid configuration:\n  %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		fmt.Fprintf(stderr, "logbucket ship: --log-level: %v\n", err)
		return 2
	}
	showStatus := progress == "always" || progress == "auto" && isTerminal(stderr)
	sw := &statusWriter{w: stderr}
	log := slog.New(slog.NewTextHandler(sw, &slog.HandlerOptions{Level: level}))
	if err := run(ctx, o, log, sw, showStatus); err != nil {
		log.Error("ship stopped", "err", err)
		return 1
	}
	return 0
}

// overrideFrom copies the setting of the command-line flag name from src
// to o (the file's options).
func (o *Options) overrideFrom(name string, src *Options) error {
	switch name {
	case "server":
		o.Server = src.Server
	case "token":
		o.Token = src.Token
	case "state":
		o.StateDir = src.StateDir
	case "metrics-listen":
		o.MetricsListen = src.MetricsListen
	case "compress":
		o.Compress = src.Compress
	case "batch-bytes":
		o.BatchBytes = src.BatchBytes
	case "batch-lines":
		o.BatchLines = src.BatchLines
	case "batch-wait":
		o.BatchWait = src.BatchWait
	case "max-inflight-bytes":
		o.MaxInflightBytes = src.MaxInflightBytes
	case "poll-interval":
		o.PollInterval = src.PollInterval
	case "read-interval":
		o.ReadInterval = src.ReadInterval
	case "rotate-wait":
		o.RotateWait = src.RotateWait
	case "close-inactive":
		o.CloseInactive = src.CloseInactive
	case "detached-timeout":
		o.DetachedTimeout = src.DetachedTimeout
	case "shutdown-grace":
		o.ShutdownGrace = src.ShutdownGrace
	case "max-backoff":
		o.MaxBackoff = src.MaxBackoff
	default:
		return fmt.Errorf("not a shipper-wide flag: %s", name)
	}
	return nil
}

// run ships with o until ctx ends, serving metrics and a status line.
func run(ctx context.Context, o Options, log *slog.Logger, sw *statusWriter, showStatus bool) error {
	reg := prometheus.NewRegistry()
	sh, err := New(o, log, reg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	if o.MetricsListen != "" {
		ln, err := net.Listen("tcp", o.MetricsListen)
		if err != nil {
			return fmt.Errorf("metrics listener: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		log.Info("metrics listening", "addr", ln.Addr().String())
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		}()
		go func() {
			defer wg.Done()
			<-ctx.Done()
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	for _, in := range o.Inputs {
		log.Info("shipping", "input", in.Name, "paths", strings.Join(in.Paths, " "), "bucket", in.Bucket, "server", o.Server, "state", o.StateDir)
	}
	if showStatus {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sw.run(ctx, sh)
		}()
	}
	err = sh.Run(ctx)
	cancel()
	return err
}

// statusWriter is stderr with a status line at its bottom: log lines
// clear the status line before they are written. Safe for concurrent use.
type statusWriter struct {
	mu     sync.Mutex // protects w and shown
	w      io.Writer
	shown  bool
	last   Stats
	lastAt time.Time
}

func (sw *statusWriter) Write(p []byte) (int, error) {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.shown {
		fmt.Fprint(sw.w, "\r\033[K")
		sw.shown = false
	}
	return sw.w.Write(p)
}

// run redraws the status line every second until ctx ends.
func (sw *statusWriter) run(ctx context.Context, sh *Shipper) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	sw.lastAt = time.Now()
	for {
		select {
		case <-ctx.Done():
			sw.mu.Lock()
			if sw.shown {
				fmt.Fprint(sw.w, "\r\033[K")
				sw.shown = false
			}
			sw.mu.Unlock()
			return
		case now := <-t.C:
			st := sh.Stats()
			line := statusLine(st, sw.last, now.Sub(sw.lastAt))
			sw.last, sw.lastAt = st, now
			sw.mu.Lock()
			fmt.Fprint(sw.w, "\r\033[K"+line)
			sw.shown = true
			sw.mu.Unlock()
		}
	}
}

func statusLine(st, prev Stats, d time.Duration) string {
	secs := max(d.Seconds(), 1e-9)
	s := fmt.Sprintf("ship: %d files  %.0f lines/s read  %.0f records/s stored  %s behind  %d retries",
		st.Files, float64(st.LinesRead-prev.LinesRead)/secs, float64(st.RecordsSent-prev.RecordsSent)/secs,
		formatBytes(st.BytesBehind), st.Retries)
	if st.Retries > prev.Retries && st.LastError != "" {
		s += "  last error: " + truncateString(st.LastError, 80)
	}
	return s
}

func truncateString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }
