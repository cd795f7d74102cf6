// Package query implements logbucket's query language, LogsQL as defined by
// VictoriaLogs: the parser, the AST, the row-level semantics of every
// filter, the pipes, and a naive reference evaluator.
//
// # Contract
//
// Parse turns query text into a *Query (a Filter and Pipes); relative
// times such as `_time:5m` are resolved against the given now. Errors are
// *ParseError values with the byte offset of the problem. Query.String is
// canonical: Parse(q.String(), q.Now) yields an equal query.
//
// Filters are exported types (FilterWord, FilterPhrase, FilterTime,
// FilterStream, FilterAnd, ...) with exported fields: a storage engine
// type-switches on them to prune by time (TimeBounds), stream
// (FilterStream.MatchLabels) and index terms (RequiredTokens), then calls
// Filter.Match on the rows it could not rule out. Text semantics come from
// package index: tokens are index.ForEachToken's; Latin words match whole
// tokens case-sensitively as in VictoriaLogs, while words containing
// Hangul match inside tokens (결제 finds 결제가, 미결제) — the one
// deliberate difference in matching, see docs/query.md.
//
// Run executes a query over a RowSource, streaming: only sort, stats,
// uniq, top, first/last and stream_context hold state, within
// Limits.MaxMemoryBytes (approximate accounting, an ErrLimit error naming
// the pipe when exceeded, never an unbounded allocation). Run checks its
// context regularly and honours Limits.Timeout and Limits.MaxRows. Rows
// flow in source order; sort, first, last and top impose their own.
//
// RunNaive is the reference evaluator for differential tests: it scans
// every row of a slice with Filter.Match and runs the very same pipe code,
// so the filter side is the only thing a storage engine replaces.
//
// Rows (Row) carry `_time` in Row.Time and every other field, `_msg` and
// `_stream` included, in Row.Fields; an empty value is an absent field.
// Results are rows too; Row.AppendJSON renders the VictoriaLogs JSON
// lines format.
//
// # Concurrency
//
// Parsed queries, filters and pipes are immutable and safe for concurrent
// use; each Run call executes on the calling goroutine and starts none.
package query
