// Package ship is `logbucket ship`, the file shipper: it follows log files
// like `tail -F` and sends their lines to a logbucket server's
// POST /api/v1/ingest, exactly once across restarts of either side.
//
// # Following files
//
// Every poll_interval (1 s) each input's globs are expanded (filepath.Glob:
// no "**"; exclude patterns match the path or its base name). A file is
// known by its identity, device + inode plus a fingerprint of its first
// bytes (up to 1 KiB, as far as they were read), so a reused inode or a
// file rewritten from its start is told apart from the file that was
// there. A file at its end is checked for growth every read_interval
// (250 ms; no inotify).
//
//   - Rotation by rename: the renamed file stays open and is read to its
//     end; once no glob matches it and it has not grown for rotate_wait
//     (5 s), its last line (even without "\n") is sent and it is closed.
//     The new file at the path is a new identity and is read from its start.
//   - copytruncate: a file shorter than the offset read, or whose first
//     bytes changed, was truncated: it is read again from offset 0 as a new
//     generation. What the old generation had not read yet is in the copy:
//     the directory is searched for a file with the old fingerprint and at
//     least the old offset's bytes, and that copy is read from the old
//     offset. Lines written between logrotate's copy and its truncate are
//     lost for every tailer (that is copytruncate's own race).
//   - A deleted file is read to its end and closed (nlink 0 is "no longer
//     matched").
//   - A matched file idle for close_inactive (5 min) is closed and reopened
//     when it grows.
//   - After a restart each checkpoint is looked for at its path, then by
//     inode in its directory (renamed meanwhile), then as a copy (truncated
//     meanwhile); one not found within detached_timeout (1 min) is dropped.
//     A file rotated away twice while the shipper was down, under a name no
//     glob matches, is not found: let the glob match rotated names (in
//     rename mode this is safe, identities prevent reading a file twice).
//     In copytruncate mode keep the copies out of the globs: a copy taken
//     while the shipper was down would be read as a new file.
//
// # Records
//
// A line that starts with "{" and is a valid JSON object is sent as that
// object. Any other line becomes {"_msg": line} (or the first msg_field).
// Lines end at "\n"; a trailing "\r" is dropped; blank lines are dropped;
// a line longer than max_line_bytes (256 KiB) keeps its first bytes and
// gets the marker " …[line cut: N bytes, first M kept]" (lines_cut_total);
// a cut JSON line is no longer valid JSON and goes as _msg.
//
// Every record starts with the field "filename" (filename_field; "" for
// none): the path the file was first found under, kept when it is read
// after a rename, so a rotated file's last lines stay in the same stream.
// Then the static fields (fields:, --field k=v). A JSON line's own fields
// come after them, so a name the line has itself keeps the line's value.
// Plain lines carry no _time: the server stamps the time of receipt, as it
// does for any record without one.
//
// Multi-line records (multiline.mode auto, the default) join a line to the
// record before it when it starts with a space or a tab, "at ",
// "Caused by:", "...", "goroutine ", "created by ", "[signal ",
// "Suppressed:", "Traceback (most recent call last):" or Python's chained
// exception lines; after a "goroutine N [...]:" line, Go function lines
// ("main.main()") too; after a Traceback, the exception line that ends it;
// and a Java exception header ("java.lang.X: msg") right after a one-line
// message. Blank lines inside a record (a Go panic's) are kept. With
// multiline.start (--multiline-start REGEX) a matching line starts a record
// and every other line continues one; mode off sends every line alone. A
// JSON line is always a record of its own. A record is complete when the
// next record starts, after multiline.timeout (1 s) without a new line, or
// when it reaches max_lines (1000) or max_bytes (256 KiB) — then the next
// line starts a new record.
//
// # Batches, retries and exactly-once
//
// Each file's records go in batches of at most batch_lines (20000) records
// and batch_bytes (4 MiB) of NDJSON, as with `logbucket ingest`, sent at
// the latest batch_wait (1 s) after their first record, compressed with
// zstd. A batch is one byte range [start, end) of one file generation, and
// its X-Logbucket-Batch-Id is "ship-<generation id>-<start>-<end>", where
// the generation id is random, made when the file is first seen and kept
// in the checkpoint. Requests are retried with backoff (up to max_backoff,
// 10 s) without end while the server is unreachable or answers 429 or 5xx;
// an answer that a retry cannot fix (4xx) is logged and retried every
// max_backoff, never dropped. Batches of one file are sent one at a time,
// in order; files are sent in parallel.
//
// The checkpoint holds, per generation, the offset acknowledged by the
// server and the end offsets of the batches cut after it ("pending"). A
// batch is sent only after its range is in a durable checkpoint, and the
// checkpoint advances right after the acknowledgement (one write serves
// both: the acknowledged offset and the next batch's range). After a crash
// the pending ranges are read again and sent with the same batch ids
// before anything else, so a batch the server had already stored is
// answered as a duplicate and stored once.
//
// The limit: the server remembers batch ids for commitlog.dedup_window
// (10 minutes by default, counted from when it stored the batch, also
// across its restarts; at most commitlog.dedup_max_entries ids). A batch
// goes out a second time only when its answer was lost: the shipper
// crashed (or was stopped past shutdown_grace, 5 s) after sending it and
// before the next checkpoint write, or the server crashed after storing it
// and before answering. The second copy is dropped if it arrives within
// the window and stored again if it arrives later: a shipper that stays
// down longer than the window with such a batch, or a server that stays
// down that long after such a crash, duplicates that one batch. The
// checkpoint is written right after each acknowledgement, so a running
// shipper never re-sends an acknowledged batch, and a clean stop (SIGTERM,
// SIGINT) waits up to shutdown_grace for the answers of batches already
// sent. Re-sent batches are read again from the file, so a multi-line
// record that the timeout completed may join differently the second time;
// the batch id, not the content, decides what the server keeps.
//
// # Checkpoint file
//
// STATE/checkpoint.json is a header line "logbucket-ship-checkpoint 1
// crc32c=XXXXXXXX len=N" and N bytes of JSON ({"streams":[{"id", "input",
// "name", "path", "dev", "ino", "fp_len", "fp", "offset", "pending"}]}),
// replaced atomically (temporary file, fsync, rename, directory fsync)
// with group commit: updates of many files that arrive during one write
// share the next. A torn temporary file is removed at start; a damaged
// checkpoint.json (bad header, length or checksum) stops the shipper
// rather than guess, with a message to move it away. STATE/lock is held
// with flock so that two shippers never share a state directory.
//
// # Bounds
//
// Per open file: a 64 KiB read buffer, one unfinished line (at most
// max_line_bytes) and one unfinished record (at most multiline.max_bytes).
// All batches being built, queued (two per file at most) or sent count
// against max_inflight_bytes (64 MiB); when it is spent, files stop being
// read (the data waits on disk) until the server acknowledges batches.
//
// # Observability
//
// On a terminal, a status line (files followed, lines/s read, records/s
// stored, bytes behind, retries, last error) is redrawn every second.
// --metrics-listen serves logbucket_ship_* series on /metrics, on the
// shipper's own registry, with Go and process metrics.
//
// # Configuration file
//
//	server: http://logs.example:9700
//	token: secret               # optional
//	state: /var/lib/logbucket-ship
//	metrics_listen: 127.0.0.1:9701
//	batch_bytes: 4194304        # also batch_lines, batch_wait, compress, max_inflight_bytes,
//	                            # poll_interval, read_interval, rotate_wait, close_inactive,
//	                            # detached_timeout, shutdown_grace, min_backoff, max_backoff
//	inputs:
//	  - name: app               # identifies the input in checkpoints and metrics
//	    paths: [/var/log/app/*.log]
//	    exclude: ["*.gz"]
//	    bucket: app
//	    stream_fields: [service, host]
//	    fields: {service: api, host: web-1}
//	    filename_field: filename
//	    time_field: ts          # for JSON lines that name their time otherwise
//	    msg_field: message
//	    max_line_bytes: 262144
//	    multiline: {mode: start, start: '^\d{4}-', max_lines: 1000, max_bytes: 262144, timeout: 1s}
//
// Command-line options that apply to the whole shipper (--server, --state,
// --token, --metrics-listen, batching and timing) override the file.
//
// Shipper is safe for concurrent use only through Run and Stats.
package ship
