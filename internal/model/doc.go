// Package model defines the record every receiver produces and every later
// stage (commit log, indexer, query engine) consumes.
//
// A Record is one log line: a timestamp in unix nanoseconds, a message, the
// stream fields that identify where it came from (low-cardinality labels such
// as service and host), and any number of other string fields. Field names
// are case-sensitive. An empty value means "field absent", as in LogsQL, so
// producers drop empty fields instead of storing them.
//
// The package has no I/O and no global state; its functions are safe for
// concurrent use. Records own their strings: nothing here retains or aliases
// the caller's buffers.
package model
