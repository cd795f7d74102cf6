// Package cli implements logbucket's client subcommands (`ingest` now;
// `query` next). Each command takes its arguments and its standard
// streams explicitly, so tests run it in-process; cmd/logbucket only
// dispatches. Commands return an exit code: 0 success, 1 the work failed
// or some input was rejected, 2 usage errors.
package cli
