// Package client is a Go client of logbucket's HTTP API, used by the
// command-line tools (`logbucket ingest`, `logbucket query`, `logbucket
// ship`).
//
// Ingest is safe to retry: every batch carries an X-Logbucket-Batch-Id,
// so a batch the server stored before a failure is not stored twice. The
// client retries network errors, 429, 5xx and 499 with exponential backoff
// that honours Retry-After, and never retries a 4xx that says the request
// itself is wrong. A Client is safe for concurrent use.
package client
