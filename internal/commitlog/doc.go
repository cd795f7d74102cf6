// Package commitlog is logbucket's durable, Kafka-style log: buckets hold
// partitions, partitions hold records at gap-free offsets starting at 0.
//
// Contract:
//   - Append returns only after every record it stored is fsync'd
//     (group commit: concurrent appends to a partition share one write and
//     one fdatasync). It never acknowledges data whose write or fsync
//     failed: the first failed segment write, fsync or roll makes the whole
//     log read-only (fail-stop) until restart; it is never retried. Errors
//     of other files (bucket creation, consumer offsets, indexes) are
//     returned to their caller and leave appends running.
//   - Records of one stream (equal stream fields) go to one partition
//     (model.StreamHash mod partitions) and keep their order.
//   - A request's records in one partition are all-or-nothing across a
//     crash: recovery cuts a torn or corrupt tail, and also an incomplete
//     multi-batch group at the tail, and reports what it cut.
//   - Readers only ever see fsync'd data (the high watermark).
//   - An append that carries a batch id is stored once: a repeat within the
//     dedup window (also across restarts; rebuilt from the batch headers)
//     returns the offsets of the first.
//   - Retention deletes whole sealed segments, never data that a required
//     consumer group has not committed past.
//
// The byte layout is specified in docs/format/commitlog.md. All I/O goes
// through vfs.FS. Embedded is safe for concurrent use; returned records are
// owned by the caller.
package commitlog
