// Package search answers LogsQL queries over the indexed buckets: the
// immutable parts of each bucket and its not-yet-flushed tail, read from
// consistent indexer snapshots, so every indexed record is seen exactly
// once. Parts and blocks are skipped without decoding when their time
// range, stream fields or token bloom filters show they cannot match;
// surviving rows are checked with the exact filter and fed to the shared
// pipe executor of internal/query, whose memory budget and time limit
// bound every query. Safe for concurrent use.
package search
