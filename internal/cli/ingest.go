package cli

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/logbucket/logbucket/internal/client"
)

const ingestUsage = `Usage: logbucket ingest --bucket B [options] FILE... | -

Sends log lines to a logbucket server. A line that is a JSON object is sent
as a record; any other line becomes a record with that line as _msg. Files
ending in .gz or .zst are decompressed; - reads standard input. Lines go in
batches, each with an idempotency key, retried with backoff while the server
is unreachable or overloaded, so a retry never stores a line twice.
Exit status: 0 all lines stored, 1 some lines rejected or a batch failed,
2 usage error.

Options:
`

// ingestFlags are the options of `logbucket ingest`.
type ingestFlags struct {
	server, bucket, streamFields, timeField, msgField, token, compress string
	batchBytes, batchLines, maxRetries                                 int
	progress                                                           string
}

// RunIngest runs `logbucket ingest` and returns its exit code.
func RunIngest(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var f ingestFlags
	fs := flag.NewFlagSet("logbucket ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.server, "server", "http://127.0.0.1:9700", "server URL")
	fs.StringVar(&f.bucket, "bucket", "", "bucket to write to (required)")
	fs.StringVar(&f.streamFields, "stream-fields", "", "comma-separated stream fields (default: the bucket's)")
	fs.StringVar(&f.timeField, "time-field", "", "field holding the timestamp (default _time)")
	fs.StringVar(&f.msgField, "msg-field", "", "field(s) holding the message (default _msg,message,msg,log)")
	fs.StringVar(&f.token, "token", "", "bearer token, when the server requires one")
	fs.StringVar(&f.compress, "compress", "zstd", "request compression: zstd, gzip or none")
	fs.IntVar(&f.batchBytes, "batch-bytes", 4<<20, "largest batch in bytes")
	fs.IntVar(&f.batchLines, "batch-lines", 20000, "most lines in a batch")
	fs.IntVar(&f.maxRetries, "max-retries", 10, "retries of one batch before giving up")
	fs.StringVar(&f.progress, "progress", "auto", "progress display on stderr: auto (when it is a terminal), always or never")
	fs.Usage = func() { fmt.Fprint(stderr, ingestUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	files := fs.Args()
	if f.bucket == "" || len(files) == 0 {
		fmt.Fprintln(stderr, "logbucket ingest: --bucket and at least one FILE (or -) are required")
		fs.Usage()
		return 2
	}
	if f.compress != "zstd" && f.compress != "gzip" && f.compress != "none" {
		fmt.Fprintf(stderr, "logbucket ingest: --compress must be zstd, gzip or none, not %q\n", f.compress)
		return 2
	}
	in := newIngester(f, stderr)
	code := in.run(ctx, files, stdin)
	in.summary(stdout)
	return code
}

// ingester sends batches and keeps the counts.
type ingester struct {
	f      ingestFlags
	c      *client.Client
	runID  string
	seq    int
	stderr io.Writer

	read              atomic.Int64 // input bytes consumed
	total             int64        // input bytes known (0: unknown)
	lines, sent       atomic.Int64
	accepted, rejectd atomic.Int64
	errs              []string // first rejections, "file:line: reason"
	start             time.Time
	showProgress      bool
}

func newIngester(f ingestFlags, stderr io.Writer) *ingester {
	c := client.New(f.server)
	c.Token, c.MaxRetries = f.token, f.maxRetries
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	in := &ingester{f: f, c: c, runID: hex.EncodeToString(id), stderr: stderr, start: time.Now()}
	in.showProgress = f.progress == "always" || f.progress == "auto" && isTerminal(stderr)
	c.OnRetry = func(attempt int, wait time.Duration, err error) {
		fmt.Fprintf(stderr, "\rretry %d in %v: %v\n", attempt, wait.Round(time.Millisecond), err)
	}
	return in
}

// run sends every file; it stops at the first batch that fails for good.
func (in *ingester) run(ctx context.Context, files []string, stdin io.Reader) int {
	stop := in.startProgress()
	defer stop()
	code := 0
	for _, name := range files {
		if err := in.sendFile(ctx, name, stdin); err != nil {
			fmt.Fprintf(in.stderr, "\rlogbucket ingest: %v\n", err)
			return 1
		}
	}
	if in.rejectd.Load() > 0 {
		code = 1
	}
	return code
}

// batch is the lines being collected for one request.
type batch struct {
	body      []byte
	firstLine int // input line number of the batch's first line
	lines     int
}

func (in *ingester) sendFile(ctx context.Context, name string, stdin io.Reader) error {
	r, size, closeFn, err := openInput(name, stdin, &in.read)
	if err != nil {
		return err
	}
	defer closeFn()
	in.total += size
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	b := batch{firstLine: 1}
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			if b.lines == 0 {
				b.firstLine = lineNo + 1
			}
			continue
		}
		b.body = appendLine(b.body, line)
		b.lines++
		in.lines.Add(1)
		if len(b.body) >= in.f.batchBytes || b.lines >= in.f.batchLines {
			if err := in.send(ctx, name, &b); err != nil {
				return err
			}
			b = batch{firstLine: lineNo + 1}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s at line %d: %w", name, lineNo+1, err)
	}
	if b.lines > 0 {
		return in.send(ctx, name, &b)
	}
	return nil
}

// send posts one batch with a fresh batch id and records its outcome.
func (in *ingester) send(ctx context.Context, name string, b *batch) error {
	in.seq++
	body, enc, err := in.encode(b.body)
	if err != nil {
		return err
	}
	opts := client.IngestOptions{Bucket: in.f.bucket, TimeField: in.f.timeField, MsgField: in.f.msgField,
		Encoding: enc, BatchID: fmt.Sprintf("ingest-%s-%d", in.runID, in.seq)}
	if in.f.streamFields != "" {
		opts.StreamFields = strings.Split(in.f.streamFields, ",")
	}
	res, err := in.c.Ingest(ctx, body, opts)
	if err != nil {
		return fmt.Errorf("send lines %d-%d of %s: %w", b.firstLine, b.firstLine+b.lines-1, name, err)
	}
	in.sent.Add(int64(b.lines))
	in.accepted.Add(int64(res.Accepted))
	in.rejectd.Add(int64(res.Rejected))
	for _, e := range res.Errors {
		if len(in.errs) < 20 {
			in.errs = append(in.errs, fmt.Sprintf("%s:%d: %s", name, inputLine(b, e.Line), e.Reason))
		}
	}
	return nil
}

// inputLine maps a 1-based line of a batch body back to the input file;
// blank input lines are not in the body, so this is exact only for
// batches without blank lines (the common case) and close otherwise.
func inputLine(b *batch, bodyLine int) int { return b.firstLine + bodyLine - 1 }

func (in *ingester) encode(body []byte) ([]byte, string, error) {
	switch in.f.compress {
	case "zstd":
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, "", fmt.Errorf("start zstd: %w", err)
		}
		defer enc.Close()
		return enc.EncodeAll(body, nil), "zstd", nil
	case "gzip":
		return gzipBytes(body), "gzip", nil
	}
	return body, "", nil
}

// summary prints the totals.
func (in *ingester) summary(w io.Writer) {
	secs := time.Since(in.start).Seconds()
	fmt.Fprintf(w, "read %d lines (%s) in %.1fs: %d stored, %d rejected, %.0f lines/s\n",
		in.lines.Load(), humanBytes(in.read.Load()), secs, in.accepted.Load(), in.rejectd.Load(),
		float64(in.accepted.Load())/max(secs, 1e-9))
	for _, e := range in.errs {
		fmt.Fprintln(w, "rejected", e)
	}
	if n := in.rejectd.Load(); n > int64(len(in.errs)) && len(in.errs) > 0 {
		fmt.Fprintf(w, "... and %d more rejected lines\n", n-int64(len(in.errs)))
	}
}
