// Package esbulk decodes the body of Elasticsearch's _bulk API into
// records for the shared ingest rules, encodes Elasticsearch's bulk
// response, and provides the fixed answers to the probes Elasticsearch
// clients send (GET /, /_license, ...). The HTTP wiring is the caller's.
//
// # Use
//
// A handler reads the body (bounded, gunzipped), then:
//
//	cfg := esbulk.DefaultConfig()           // or Options: esbulk.Options(base), OptionsFor per bucket
//	cfg.Options.Now = time.Now().UnixNano()
//	cfg.DefaultIndex = pathIndex            // "{index}" of POST /{index}/_bulk, or ""
//	batch, err := esbulk.Decode(body, cfg)
//	if errors.Is(err, esbulk.ErrTooManyItems) { answer 413 with esbulk.ErrorBody(413, "", err.Error()) }
//	for i := range batch.Groups {
//		g := &batch.Groups[i]               // g.Index: the bucket candidate
//		count g.Result.Discards under g.Index's bucket
//		if len(g.Result.Records) == 0 { continue }
//		if err := appendToBucket(g.Index, g.Result.Records); err != nil {
//			g.Fail(503, "", "...")          // or 429; see Group.Fail
//		} else {
//			g.Stored()
//		}
//	}
//	count batch.Unrouted.Discards; set header esbulk.ProductHeader: esbulk.ProductName
//	answer 200 with batch.AppendResponse(nil, time.Since(start))
//
// # Body
//
// The body is NDJSON: lines split on '\n', a trailing '\r' removed, blank
// lines (empty or ASCII whitespace only) skipped wherever they are (rsyslog
// sends some). Each action line makes one Item, in order; Item.Line and
// DocLine are 1-based line numbers counting every line.
//
//   - index and create take the next non-blank line as their document and
//     give a record.
//   - delete has no document line; update has one, which is skipped. Both
//     fail with status 400 (illegal_argument_exception, discard reason
//     unsupported_action): logbucket is append-only. 400 is what lets
//     clients proceed: Beats drop items answered 4xx other than 429, and
//     Logstash sends 400 and 404 to its dead letter queue but retries every
//     other status forever (a 405 or 501 would block it).
//   - Action metadata: _index is the index (the bucket candidate), else
//     Config.DefaultIndex, else the item fails (400); at most
//     MaxIndexBytes. _id is echoed in the response, else a 20-character
//     one is generated; at most MaxIDBytes. Both may be strings, numbers or
//     booleans (their text); null or "" means absent. Other metadata
//     (pipeline, routing, require_alias, the _type sent by rsyslog and
//     Fluent Bit, ...) is ignored.
//   - A malformed action line (not JSON, not an object, not exactly one
//     key, an unknown action, metadata that is not an object, an object
//     or array for _index or _id) fails its item with 400
//     illegal_argument_exception (discard reason invalid_action), where
//     Elasticsearch fails the whole request. Resynchronisation: the next
//     non-blank line is taken as the broken action's document and skipped,
//     unless it is itself a well-formed action line, which then starts the
//     next item. A broken action line thus costs its own item and at most
//     one more line, and never shifts the pairing of the lines after it.
//   - An index or create action ending the body without its document
//     fails with 400 action_request_validation_exception (invalid_action).
//
// Items failed while reading actions are rejected with Line = their action
// line; items whose document fails, with Line = their document line.
//
// # Documents
//
// A document line is decoded like a jsonline line (package jsonline):
// nested objects flattened into dotted names, arrays kept as compact JSON
// text, numbers as their text, null absent; then the ingest.Builder rules
// of package ingest apply (message, stream fields, limits, UTF-8,
// truncation). With Options(base), "message", then syslog-ng's "MESSAGE",
// are message candidates. A document that is not valid JSON, or not an
// object, fails its item with 400 document_parsing_exception (discard
// reasons invalid_json and not_object, detail as jsonline's); the other
// items are unaffected. Like Elasticsearch, the line after a well-formed
// index, create or update action is its document whatever it looks like.
//
// The time field Config.TimeField ("@timestamp") becomes Record.Time and is
// not kept as a field. It may be a JSON string or number, read by
// model.ParseTime (RFC 3339 with or without a fraction and any offset, a
// space for the 'T', unix times whose unit follows from their magnitude),
// and, failing that, for strings, in the forms of Elasticsearch's default
// date format that ParseTime refuses, in UTC: no offset
// ("2026-01-02T03:04:05.123"), an offset without a colon ("+0900"), no
// seconds ("2026-01-02T03:04"), a date alone ("2026-01-02"). Missing, null
// or "" falls back to the field the ingest Options.TimeField names (for
// instance _time), then to Options.Now; "0" means Options.Now as in package
// ingest. A boolean, an array or an unparsable value fails the item with
// 400 document_parsing_exception (discard reason invalid_time).
//
// Known differences with Elasticsearch's strict_date_optional_time ||
// epoch_millis: Elasticsearch reads every number, and every all-digit
// string, as epoch milliseconds, where ParseTime decides the unit by
// magnitude; they agree on milliseconds between 1973 and 5138 (every
// real-world epoch_millis), but a value in seconds is read as seconds here
// and as January 1970 by Elasticsearch, and 0 is Now here and 1970 there.
// Decimal and exponent numbers go through float64 (exact to the
// microsecond only). A year alone ("2026") is read as unix seconds; a
// year-month ("2026-01"), an hour without minutes ("2026-01-02T03") and
// dates outside 1678-2262 (the int64 nanosecond range) are not read.
//
// # Output
//
// Decode returns a Batch: Items in request order, and Groups, one per
// distinct usable index, each with its own ingest.Result holding the
// records of its items in request order (Item.Record indexes
// Group.Result.Records), the rejections of its failed items and its
// discard counts, so that a handler appends each group to its bucket and
// counts discards per bucket. Items that name no usable index (no
// _index and no Config.DefaultIndex, a too long one) have Group -1; their
// rejections are in Batch.Unrouted. For every call,
// len(Items) equals the number of lines read as action lines, and each
// Result has one record or one rejection per item of its group.
//
// After appending, the handler calls Group.Stored or Group.Fail for each
// group with records; Batch.AppendResponse then encodes the response as
// Elasticsearch 8 does (see its documentation). An item whose group was
// neither stored nor failed answers 500, never a success.
//
// # Bounds and memory
//
// Config.MaxItems bounds the items: a body with more fails as a whole with
// ErrTooManyItems before any document is decoded. Actions are read first,
// so records are reserved exactly per group; an Item costs about 100 bytes
// and all IDs and indexes share one string per request; the first
// reservation of items is a fraction of the body size. The Decoder keeps
// scratch buffers sized to the longest line it has parsed. Records
// never alias the body, which the caller may reuse once Decode returns.
// Decoding never panics and never recurses deeper than fastjson.MaxDepth.
//
// # Concurrency
//
// Decode is safe for concurrent use (it takes a Decoder from a pool); a
// Decoder is not. Stored and Fail on different Groups of one Batch may run
// concurrently; Outcome, Errors and AppendResponse must run after them.
//
// # Probes
//
// Every answer of the handler, _bulk and errors included, must carry the
// header ProductHeader: ProductName: the official clients (ES JS 8/9, Go,
// Java, Beats and Logstash against 7.14+) refuse a server without it ("The
// client noticed that the server is not Elasticsearch", captured with
// @elastic/elasticsearch 9.4.3). Content-Type application/json is accepted
// by all, even by the ES JS 9 client, which asks for
// application/vnd.elasticsearch+json. The _bulk Content-Types seen are
// application/x-ndjson, application/json; charset=utf-8 and
// application/vnd.elasticsearch+x-ndjson; compatible-with=9: accept all.
//
// What each client asks before or besides POST /_bulk, and the answer
// that lets it proceed. Captured means seen on the wire here (see
// /work/shared/ecosystem.md); the rest comes from reading the clients'
// sources and is to be confirmed when they can be run.
//
//	client                         request                              answer
//	syslog-ng elasticsearch-http() nothing (captured)                   -
//	rsyslog omelasticsearch        nothing (captured)                   -
//	ES JS client (helpers.bulk)    nothing but the header (captured)    -
//	Fluent Bit es output           nothing                              -
//	makelogs (source read)         HEAD /                               200 (no body)
//	                               HEAD /_template/makelogs_index_...   404: a 200 on either HEAD makes
//	                               HEAD /{prefix}*                      404  it prompt to reset, interactively
//	                               PUT /_template/{name}                200 Acknowledged()
//	Beats 8 (Filebeat...)          GET /                                200 VersionInfo(""): the version must
//	                                                                    not be older than the Beat's
//	                               GET|HEAD /_index_template/{name}     404, then PUT → 200 Acknowledged()
//	                               GET /_ilm/policy/{name}              404 ErrorBody(404,
//	                                                                    "resource_not_found_exception", ...),
//	                                                                    then PUT → 200 Acknowledged()
//	Beats 7                        GET /_xpack                          200 XPack()
//	Logstash ES output             HEAD / and GET /                     200 VersionInfo("") (build_flavor
//	                                                                    "default", else it assumes OSS)
//	                               GET /_license                        200 License() (basic, active)
//	                               GET /_xpack                          200 XPack() (ILM unavailable, so it
//	                                                                    writes to plain indexes or data
//	                                                                    streams, not rollover aliases)
//	                               GET|HEAD /_index_template/{name}     404, then PUT → 200 Acknowledged()
//	                               GET /_nodes/http (sniffing only)     200 NodesHTTP(addr)
//	Vector elasticsearch sink      GET / (api_version auto)             200 VersionInfo("")
//	                               GET /_cluster/health (healthcheck)   200 ClusterHealth()
//	ES clients with sniffing       GET /_nodes/http                     200 NodesHTTP(addr)
//
// A HEAD is answered with the status and headers of the GET, no body.
package esbulk
