// Package otlp decodes OTLP/HTTP logs export requests (POST /v1/logs): an
// ExportLogsServiceRequest as protobuf (Content-Type:
// application/x-protobuf) or as OTLP/JSON (application/json), decoded with
// go.opentelemetry.io/collector/pdata, which reads the JSON form right
// (hex trace and span ids; intValue as a string or, as OpenTelemetry JS
// sends it, a number), unlike protojson.
//
// # Contract
//
// Decode either refuses the body as a whole, appending nothing and
// returning an error that wraps ErrUnsupportedContentType (answer HTTP 415)
// or ErrInvalidBody (answer HTTP 400), or turns every log record, in
// request order, into exactly one record or one rejection appended to the
// ingest.Result. A rejection's Line is the 1-based position of the log
// record in the request, counting across all resources and scopes; the
// only per-record rejection is invalid_time, for a time past what an int64
// of nanoseconds holds (2262). The caller undoes Content-Encoding (gzip)
// and bounds the body size. Decoding never panics and never recurses
// deeper than fixed limits: pdata itself has none, so a body whose values
// nest deeper than 64 levels (protobuf) or 272 brackets (JSON, which fits
// 64 levels of maps) is refused before pdata sees it.
//
// # Mapping
//
// Each log record becomes one record built by ingest.Builder, whose rules
// (limits, UTF-8 repair, truncation, discard reasons) apply as for every
// receiver. The mapping is that of VictoriaLogs' OpenTelemetry receiver
// except where noted:
//
//   - _time: time_unix_nano; if zero, observed_time_unix_nano; if zero
//     too, Options.Now.
//   - _msg: a string body as is; an int, double, bool, bytes or array body
//     as its text (below). A map body is flattened into fields like a JSON
//     line, and the first of its top-level keys named in Options.MsgFields
//     (default _msg, message, msg, log) whose value is not a map and has a
//     non-empty text becomes the message instead of a field; without one
//     the record has no message (as in VictoriaLogs, whose _msg_field is
//     the same choice). No other field can become the message.
//   - Stream: the resource attributes whose keys are in
//     Options.StreamAttributes. VictoriaLogs makes every resource attribute
//     a stream field; here the default (DefaultStreamAttributes) is the
//     low-cardinality identity only: service.name, service.namespace,
//     deployment.environment(.name), host.name, k8s.namespace.name,
//     k8s.pod.name, k8s.container.name. SDKs also report a random
//     service.instance.id and a process.pid per process start, which would
//     open a new stream, hence a new partition order, at every restart.
//   - The other resource attributes become fields of the same names.
//   - The instrumentation scope: scope.name, scope.version and
//     scope.attributes.<key> (VictoriaLogs writes "unknown" for a missing
//     name or version; here they are absent).
//   - Log record attributes become fields of the same names.
//   - level: severity_text as sent ("ERROR" stays "ERROR"); if it is
//     empty, from severity_number: 1-4 trace, 5-8 debug, 9-12 info, 13-16
//     warn, 17-20 error, 21-24 fatal, none outside (VictoriaLogs keeps the
//     text as severity_text). severity_number: the number, if not 0.
//   - trace_id, span_id: lowercase hex, if not all zero. flags: decimal,
//     if not 0. event_name: as sent, if not empty (VictoriaLogs makes it a
//     stream field).
//
// Values: a string is stored as is; an int in decimal; a double as in
// JSON (0.25, 1e+21, 1e-7), NaN and infinities as NaN, Infinity,
// -Infinity; a bool as true or false; bytes in standard base64; an array
// as compact JSON (bytes as base64 strings, non-finite doubles as
// strings); a map is flattened, its keys joined to the name with dots
// ({"http":{"method":"GET"}} gives http.method=GET; an empty map gives
// nothing); an empty value or empty string is absent. Keys are not
// escaped: "a.b" and {"a":{"b":…}} give the same name.
//
// Reserved names: _msg, _time and _stream name the record's own message,
// time and stream in queries, so no attribute may take them. A top-level
// key with one of these names is stored with a prefix naming its origin:
// resource._msg, attributes._time, body._stream (a map body's _msg is
// taken as the message when MsgFields lists it, as by default).
//
// Equal names: when two sources give the same name, the later one below
// wins (the builder keeps the last value): resource attributes, scope,
// record attributes, map body keys, the record's own fields (level,
// severity_number, trace_id, span_id, flags, event_name; only those that
// are set), stream fields. So an attribute cannot replace the record's
// trace_id or its stream, and a record attribute replaces a resource
// attribute of the same name.
//
// Options: the limits and Now of the embedded ingest.Options apply;
// TimeField and StreamFields are not used, and MsgFields only serves a map
// body, as above.
//
// # Answers
//
// OTLP/HTTP answers in the request's encoding (Format.ContentType): HTTP
// 200 with EncodeResponse(f, PartialSuccess(res)), which leaves
// partial_success unset when nothing was lost and otherwise reports the
// rejected records and the losses (truncation, dropped fields; a warning
// when no record was rejected); HTTP 400 with EncodeStatus(f,
// CodeInvalidArgument, err.Error()) for ErrInvalidBody; HTTP 415 for
// ErrUnsupportedContentType.
//
// Memory: pdata builds a tree of the whole request (in the benchmark about
// 2x a protobuf body, 1.5x a JSON body), garbage once Decode returns.
// Records own their strings (see package ingest) and never alias the body
// or the tree. A Decoder keeps scratch buffers sized to the largest record
// it has built; the pool drops decoders that built one over 1 MiB.
//
// Concurrency: Decode is safe for concurrent use (it takes a Decoder from
// a pool); a Decoder is not. The encoders are safe for concurrent use.
package otlp
