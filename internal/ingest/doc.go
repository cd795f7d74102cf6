// Package ingest holds the per-record normalisation shared by every receiver
// (NDJSON today; Loki push, Elasticsearch _bulk, OTLP and syslog later).
//
// A receiver decodes its wire format into flat name/value pairs and feeds
// them, one input record at a time, to a Builder, which turns them into a
// model.Record or a Rejection and accumulates both in a Result. The rules
// the Builder applies are the contract every receiver inherits:
//
//   - The field named Options.TimeField becomes Record.Time through
//     model.ParseTime. A missing, empty or "0" value means Options.Now; an
//     unparsable one rejects the record with ReasonInvalidTime.
//   - The first non-empty field named in Options.MsgFields becomes
//     Record.Msg; the other message candidates stay ordinary fields.
//   - Fields named in Options.StreamFields, and fields added with
//     Builder.AddStream (protocols that name their own stream: Loki labels,
//     OTLP resource attributes), move to Record.Stream, which is sorted by
//     name.
//   - Builder.SetTime (protocols that carry the time outside the fields)
//     takes precedence over the time field, which then stays ordinary.
//   - Duplicate names: the last value wins at the position of the first.
//     Fields with an empty value are absent and dropped silently.
//   - Names and values are valid UTF-8: each run of invalid bytes becomes
//     U+FFFD, exactly as strings.ToValidUTF8 does. NUL bytes are kept.
//   - Names longer than Options.MaxFieldNameBytes, and ordinary fields past
//     the first Options.MaxFields, are dropped and counted in
//     Result.Discards. Stream fields and the message do not count towards
//     MaxFields.
//   - A record whose Record.Size() exceeds Options.MaxLineBytes is kept but
//     cut: the longest values (the message included) are shortened at a
//     rune boundary until the record fits, and the field "_truncated" holds
//     the bytes of message, names and values before the cut (the marker
//     replaces any "_truncated" input field and is exempt from MaxFields
//     and MaxFieldNameBytes). If the names alone do not fit, trailing fields
//     are dropped, ordinary ones first. With MaxLineBytes >= 64 every
//     record has Record.Size() <= MaxLineBytes.
//
// A limit of zero or less in Options disables that limit; the zero Options
// is not the default configuration, DefaultOptions is.
//
// Memory: each record's strings (message, names, values) live in a single
// string allocated for that record, and its Stream and Fields share one
// backing array, so a record costs two allocations and retaining any one of
// its strings retains the whole record. Records never alias the caller's
// buffers: a receiver may reuse its input as soon as Add returns. The
// memory a Result holds is proportional to the input it was given.
//
// Concurrency: a Builder keeps scratch buffers and is not safe for
// concurrent use; use one per goroutine. Options, DefaultOptions and the
// reason constants are plain values safe to share. A Result must not be
// shared between goroutines while it is being filled.
package ingest
