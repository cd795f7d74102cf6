// Package loki decodes the body of Loki's push API (POST /loki/api/v1/push)
// into records, through the shared rules of package ingest.
//
// Wire formats, chosen by Content-Type as Loki does:
//
//   - application/json: {"streams":[{"stream":{"job":"api"},"values":
//     [["<unix ns>","line"],["<unix ns>","line",{"name":"value"}]]}]}.
//     The timestamp is a string of decimal unix nanoseconds (a JSON number
//     of digits is accepted too). The optional third element is structured
//     metadata: string values are kept, other values as their JSON text,
//     null is absent. Content-Encoding gzip is undone first; snappy is
//     ignored, as Loki ignores it for JSON.
//   - anything else (application/x-protobuf, or no Content-Type): a
//     PushRequest protobuf compressed with snappy's block format, with or
//     without Content-Encoding: snappy, and inside gzip if
//     Content-Encoding is gzip. The labels of a stream are a string such as
//     `{job="api", level="info"}` (any order, Go escapes in values, quoted
//     names allowed, whitespace tolerated). The protobuf is decoded by hand
//     with protowire from the field numbers of Loki's push.proto; no Loki
//     code is used. Unknown fields are skipped.
//
// Each entry becomes one record or one rejection:
//
//   - The stream's labels are stream fields (ingest.Builder.AddStream), the
//     line is the message (`_msg`; a JSON line is not unpacked), the
//     structured metadata are ordinary fields, and the timestamp is the
//     record's time (ingest.Builder.SetTime); a zero timestamp means
//     Options.Now, as in Loki. Decode replaces Options.MsgFields with
//     ["_msg"] and Options.StreamFields with none, so the caller need not
//     configure them. A label wins over structured metadata of the same name
//     (winston-loki repeats labels in its metadata), and the line wins over
//     a label or metadata named _msg. The other ingest rules apply
//     (limits, truncation, UTF-8 repair, empty values absent).
//   - Streams with identical labels are allowed; their records simply share
//     a stream. A stream with no labels gives records with an empty stream.
//   - Rejection.Line is the 1-based position of the entry among all the
//     entries of the request, in body order, rejected ones included. A JSON
//     stream that is not an object, or whose "values" is not an array,
//     counts as one position and one rejection (ReasonInvalidEntry).
//   - Reasons: ReasonInvalidLabels (every entry of a stream whose labels do
//     not parse, hold a duplicate or empty name, or, in JSON, a non-string
//     value), ReasonInvalidEntry (a malformed JSON entry or stream) and
//     ingest.ReasonInvalidTime (a timestamp that is not unix nanoseconds
//     from 1970 to 2262).
//
// Decode returns an error, wrapping ErrMalformed, ErrTooLarge or
// ErrUnsupported, only when the body as a whole cannot be decoded: an
// unsupported or stacked Content-Encoding, bad gzip, bad snappy, any
// protobuf wire error (a protobuf body is checked whole before anything is
// built), invalid JSON, a JSON body that is not an object with a "streams"
// array, or a body over the limits. On error res is unchanged. An empty
// body decodes to nothing.
//
// Limits: Options.MaxDecodedBytes bounds each decompression step; the
// snappy header gives the size before any work, and a header claiming more
// than 22 bytes per body byte (beyond what snappy can encode) is refused as
// malformed. Options.MaxRecordBytes bounds the records a request may
// produce, measured before any is built, because the labels a stream sends
// once are copied into each of its records. A limit of zero or less
// disables it, as in package ingest: start from DefaultOptions.
//
// Memory: records own their strings (see package ingest) and never alias
// body, which the caller may reuse once Decode returns. A Decoder keeps its
// buffers (the decompressed body, fastjson's parse tree of a JSON body,
// which takes a few tens of bytes per JSON value) between calls; the
// package-level Decode does not pool a Decoder that has held more than
// 4 MiB. Decoding uses memory proportional to the decompressed body, and
// recursion bounded by fastjson.MaxDepth and protowire's group limit.
//
// Concurrency: Decode is safe for concurrent use (it takes a Decoder from a
// pool). A Decoder is not: use one per goroutine.
package loki
