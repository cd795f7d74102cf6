// Package indexer turns each bucket's commit log into immutable columnar
// parts (internal/storage), exactly once, and keeps the records it has
// read but not yet flushed in memory so that queries see a record within
// a second of its acknowledgement.
//
// Exactly once: a bucket's manifest (one small file, replaced atomically)
// lists its live parts and, per commit-log partition, the next offset to
// index. A flush writes its part files first and then swaps the manifest,
// so after a crash at any moment the manifest names either the old parts
// and old offsets or the new ones; part files it does not name are
// leftovers and are deleted at start. Merges swap inputs for outputs the
// same way. The "indexer" consumer group is committed after each swap, so
// commit-log retention keeps everything not yet in a part; the manifest,
// not the group, is the truth of what was indexed.
//
// Memory: the unflushed tail of a bucket is bounded (MaxTailBytes); when
// it is full the indexer stops reading until a flush frees it — ingest
// is not slowed, the commit log holds the backlog.
//
// An Indexer is safe for concurrent use. Snapshots hold references to
// parts, so a merge never deletes a file a query is reading.
package indexer
