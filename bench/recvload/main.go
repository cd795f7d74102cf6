// Command recvload measures logbucket's receivers with the same data in
// every wire format.
//
// It converts a JSON-lines file (../shared/loggen's) once into request
// bodies of each format, then sends the prepared bodies over N
// connections, checking every answer:
//
//	recvload convert -in logs.jsonl -format ndjson,loki-proto,syslog -out DIR
//	recvload send -dir DIR/loki-proto -url http://127.0.0.1:9790/loki/api/v1/push -c 4
//	recvload send -dir DIR/syslog -syslog-tcp 127.0.0.1:9791 -c 4 \
//	    -wait-url http://127.0.0.1:9790/api/v1/buckets/bench
//
// Formats: ndjson, esbulk, loki-json, loki-proto, otlp-json, otlp-proto and
// syslog (see convert.go for the mapping of the fields). Every format gets
// the same records, split the same way: a request (or, for syslog, a
// block of frames) holds the lines of one -bytes chunk of the input, or
// -lines lines.
//
// send prints one line that the benchmark script parses:
//
//	RESULT format=F lines=N requests=R retries=0 failed=0 body_bytes=B seconds=S lines_per_s=L stored_seconds=T
//
// seconds is the time from the first request until the last answer (for
// syslog: until the server, having read every frame, closed every
// connection); stored_seconds, with -wait-url, the time until the bucket
// holds the records (what counts for syslog, which has no answers).
//
// split divides server CPU profiles (/debug/pprof/profile, with the
// server's --http.pprof) into the receiver path and the rest, see split.go:
//
//	recvload split -top 15 cpu.*.pprof
//	SPLIT total_s=12.3 ingest_s=6.1 indexer_s=4.0 query_s=0.2 gc_s=1.5 other_s=0.5
//	STAGES body_s=0.2 decode_s=1.4 build_s=2.0 commitlog_s=2.5 answer_s=0 glue_s=0
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "convert":
		err = runConvert(os.Args[2:])
	case "send":
		err = runSend(os.Args[2:])
	case "split":
		err = runSplit(os.Args[2:])
	case "-h", "-help", "--help", "help":
		usage()
	default:
		fmt.Fprintf(os.Stderr, "recvload: unknown command %q\n", os.Args[1])
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "recvload:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  recvload convert -in FILE.jsonl -format F[,F...]|all -out DIR [-bytes 4194304 | -lines N]
  recvload send -dir DIR/F (-url URL | -syslog-tcp ADDR) [-c 4] [-header K:V]... [-wait-url URL]
  recvload split [-top N] CPU.pprof...   # server CPU by part: ingest, indexer, query, gc, other

formats: ndjson, esbulk, loki-json, loki-proto, otlp-json, otlp-proto, syslog
`)
	os.Exit(2)
}
