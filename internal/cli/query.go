package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const queryUsage = `Usage: logbucket query [options] 'QUERY'

Runs a LogsQL query against a logbucket server and prints the matching rows:
a readable table on a terminal (control characters in log lines escaped),
NDJSON when the output is piped. --follow prints new matching rows as they
arrive (live tail).

Options:
`

// queryFlags are the options of `logbucket query`.
type queryFlags struct {
	server, bucket, since, from, to, output, token string
	limit                                          int
	follow                                         bool
}

// RunQuery runs `logbucket query` and returns its exit code.
func RunQuery(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f queryFlags
	fs := flag.NewFlagSet("logbucket query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.server, "server", "http://127.0.0.1:9700", "server URL")
	fs.StringVar(&f.bucket, "bucket", "", "bucket(s) to search, comma-separated (default: every bucket)")
	fs.StringVar(&f.since, "since", "", "only rows of the last DURATION (e.g. 15m, 1h, 7d)")
	fs.StringVar(&f.from, "from", "", "only rows at or after this time (RFC 3339 or unix seconds)")
	fs.StringVar(&f.to, "to", "", "only rows at or before this time")
	fs.StringVar(&f.output, "o", "", "output: table, json or raw (_msg only); default table on a terminal, json otherwise")
	fs.IntVar(&f.limit, "limit", 0, "return only the N most recent rows (0: all)")
	fs.BoolVar(&f.follow, "follow", false, "keep printing new matching rows (live tail)")
	fs.StringVar(&f.token, "token", "", "bearer token, when the server requires one")
	fs.Usage = func() { fmt.Fprint(stderr, queryUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "logbucket query: give exactly one QUERY argument (quote it)")
		fs.Usage()
		return 2
	}
	if f.since != "" && (f.from != "" || f.to != "") {
		fmt.Fprintln(stderr, "logbucket query: use --since or --from/--to, not both")
		return 2
	}
	if f.output == "" {
		f.output = "json"
		if isTerminal(stdout) {
			f.output = "table"
		}
	}
	if f.output != "table" && f.output != "json" && f.output != "raw" {
		fmt.Fprintf(stderr, "logbucket query: -o must be table, json or raw, not %q\n", f.output)
		return 2
	}
	if err := runQuery(ctx, f, fs.Arg(0), stdout); err != nil {
		if ctx.Err() != nil {
			return 0 // interrupted (^C during --follow)
		}
		fmt.Fprintf(stderr, "logbucket query: %v\n", err)
		return 1
	}
	return 0
}

func runQuery(ctx context.Context, f queryFlags, q string, stdout io.Writer) error {
	args := url.Values{"query": {q}}
	if f.bucket != "" {
		args.Set("bucket", f.bucket)
	}
	switch {
	case f.since != "":
		args.Set("start", f.since)
	case f.from != "":
		args.Set("start", f.from)
	}
	if f.to != "" {
		args.Set("end", f.to)
	}
	path := "/select/logsql/query"
	if f.limit > 0 {
		args.Set("limit", strconv.Itoa(f.limit))
	}
	if f.follow {
		path = "/select/logsql/tail"
		if f.since != "" {
			args.Set("start_offset", f.since)
			args.Del("start")
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(f.server, "/")+path, strings.NewReader(args.Encode()))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error.Message != "" {
			return fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
		}
		return fmt.Errorf("server answered %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return printRows(resp.Body, f.output, stdout)
}

// printRows copies NDJSON rows to w in the chosen output form.
func printRows(r io.Reader, output string, w io.Writer) error {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		if output == "json" {
			bw.Write(line)
			bw.WriteByte('\n')
			bw.Flush()
			continue
		}
		var row map[string]any
		dec := json.NewDecoder(strings.NewReader(string(line)))
		dec.UseNumber()
		if err := dec.Decode(&row); err != nil {
			return fmt.Errorf("server sent a line that is not JSON: %v", err)
		}
		if e, ok := row["error"].(map[string]any); ok && len(row) == 1 {
			return fmt.Errorf("query stopped: %v", e["message"])
		}
		if output == "raw" {
			bw.WriteString(escapeTerminal(fmt.Sprint(row["_msg"])))
		} else {
			bw.WriteString(tableLine(row))
		}
		bw.WriteByte('\n')
		bw.Flush()
	}
	return sc.Err()
}

// tableLine renders a row as `TIME  k=v ...  MESSAGE`, escaped; the
// stream's own fields stand for `_stream` and `_stream_id`.
func tableLine(row map[string]any) string {
	var b strings.Builder
	if t, ok := row["_time"].(string); ok {
		if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
			t = ts.Local().Format("2006-01-02 15:04:05.000")
		}
		b.WriteString(t)
		b.WriteString("  ")
	}
	keys := make([]string, 0, len(row))
	for k := range row {
		if k != "_time" && k != "_msg" && k != "_stream" && k != "_stream_id" {
			keys = append(keys, k)
		}
	}
	sortStrings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s ", escapeTerminal(k), escapeTerminal(fmt.Sprint(row[k])))
	}
	if m, ok := row["_msg"]; ok {
		b.WriteString(" ")
		b.WriteString(escapeTerminal(fmt.Sprint(m)))
	}
	return b.String()
}

// escapeTerminal makes log content inert on a terminal: control
// characters (escape sequences, carriage returns, ...) and invalid UTF-8
// are shown as Go escapes; newlines inside a message become \n.
func escapeTerminal(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
