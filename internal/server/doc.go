// Package server is logbucket's HTTP API: ingest (our NDJSON API and
// VictoriaLogs' /insert/jsonline), the Kafka-style pull API (buckets,
// records by offset with long-poll, consumer groups), /metrics, /healthz
// and /readyz.
//
// Contract: an ingest request is answered 2xx only after the commit log
// reported every accepted record fsync'd. Every request body, decompressed
// body, line, field count and the total ingest memory are bounded by named
// configuration limits; going over a limit answers a documented 4xx, and
// overload answers 503 with Retry-After, never an out-of-memory crash.
// Every error response is JSON from one catalogue (errors.go) with a stable
// code. Handlers are safe for concurrent use.
package server
