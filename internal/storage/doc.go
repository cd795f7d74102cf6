// Package storage is logbucket's part format: immutable, compressed,
// columnar files holding the rows of one bucket, written by the indexer
// from the commit log and searched by the query engine. The byte layout is
// specified in docs/format/part.md.
//
// A part holds rows (a model.Record plus its commit-log partition and
// offset), grouped into blocks of one stream each (at most BlockRows rows
// or about BlockBytes of raw data), sorted by stream (model.StreamHash of
// the sorted stream fields, then the fields), then by time, partition and
// offset. Each block stores one column per field with the encoding that
// suits it (constant, dictionary, integer, hexadecimal, message template,
// or compressed strings) and a token bloom filter. The part records the
// exact set of commit-log offsets it holds (per partition, as ranges), its
// time range, row count, UTC day, merge level and stream table.
//
// Guarantees:
//   - WritePart and MergeParts write atomically: a temporary file, fsync,
//     rename, directory fsync. A crash leaves either no part or a whole
//     one (plus temporary files to delete); an error leaves nothing.
//   - A part's offset ranges are exactly the positions of its rows, so
//     after a crash the parts are the truth of what was indexed. Merging
//     refuses inputs whose ranges overlap; its output's ranges are the
//     union of the inputs'.
//   - OpenPart checks the header, footer and index with their CRC-32C;
//     ReadBlock and the filter reads check the CRC of each block header,
//     column and filter they read. Damage is reported as an error wrapping
//     ErrCorrupt (a *CorruptionError says where), never as a panic or
//     an unbounded allocation.
//   - A Filter never answers "no" for a token a block holds (no false
//     negatives); about 2% false positives per token at the default size.
//   - Values round-trip byte for byte, including empty, huge, invalid
//     UTF-8 and Korean ones. An empty value is an absent field, and a
//     record's field order is not kept (Block.Record sorts by name).
//
// Memory: WritePart needs the caller's rows plus about 32 bytes per row
// and one block being encoded. MergeParts streams: one decoded block per
// input plus the block being built. An open Part keeps its index in memory
// (a few hundred bytes per block); ReadBlock allocates the block it
// returns and nothing else that outlives the call.
//
// Concurrency: a Part, Block, Column and Filter are safe for concurrent
// use. WritePart and MergeParts may run concurrently on different
// destinations. Nothing here starts goroutines.
package storage
