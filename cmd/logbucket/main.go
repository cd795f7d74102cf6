// Command logbucket is the log platform in one binary. It only parses the
// command line and delegates: `logbucket server` runs the server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/logbucket/logbucket/internal/app"
	"github.com/logbucket/logbucket/internal/cli"
	"github.com/logbucket/logbucket/internal/config"
	"github.com/logbucket/logbucket/internal/ship"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `logbucket collects, keeps and finds logs, in one binary.

Usage:
  logbucket server [options]   run the server (logbucket server --help lists every option)
  logbucket ingest --bucket B FILE... | -
                               send NDJSON or plain-text lines to a server
  logbucket query [--since 1h] [--follow] 'QUERY'
                               search with LogsQL (table on a terminal, NDJSON when piped)
  logbucket ship --server URL --bucket B --state DIR 'GLOB'... | --config ship.yaml
                               follow log files (rotation, stack traces) and ship them exactly once
  logbucket version            print the version

Data goes to ./logbucket-data and HTTP listens on 127.0.0.1:9700 by default.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "server":
		return runServer(args[1:], stdout, stderr)
	case "ingest":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return cli.RunIngest(ctx, args[1:], os.Stdin, stdout, stderr)
	case "query":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return cli.RunQuery(ctx, args[1:], stdout, stderr)
	case "ship":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return ship.RunCommand(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "logbucket", version)
		return 0
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "logbucket: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func runServer(args []string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "logbucket server: %v\n", err)
		return 2
	}
	logger := app.NewLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.RunServer(ctx, cfg, logger); err != nil {
		logger.Error("server failed", "err", err)
		return 1
	}
	return 0
}
