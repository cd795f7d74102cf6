// Package server is logbucket's HTTP API: ingest (our NDJSON API and
// VictoriaLogs' /insert/jsonline, Loki push, Elasticsearch _bulk with the
// probes its clients send, OTLP/HTTP logs), the Kafka-style pull API
// (buckets, records by offset with long-poll, consumer groups), the
// LogsQL query routes, /metrics, /healthz and /readyz.
//
// Contract: an ingest request is answered 2xx only after the commit log
// reported every accepted record fsync'd. Every receiver goes through the
// same path (receiver.go): an ingest slot, a memory reservation, the body
// limits, one append per bucket. Every request body, decompressed body,
// line, field count and the total ingest memory are bounded by named
// configuration limits; going over a limit answers a documented 4xx, and
// overload answers 503 with Retry-After, never an out-of-memory crash.
// Every error comes from one catalogue (errors.go) with a stable code,
// sent in the X-Logbucket-Error-Code header; the body is our JSON error,
// except on the Elasticsearch and OTLP routes, whose clients expect their
// protocol's error document. Handlers are safe for concurrent use.
//
// The protocols, their field mapping and their answers are documented for
// users in docs/ingest.md.
package server
