// Package jsonline decodes newline-delimited JSON request bodies, compatible
// with VictoriaLogs' /insert/jsonline: one JSON object per line.
//
// Guarantees:
//
//   - Lines are split on '\n' with a trailing '\r' removed; lines that are
//     empty or hold only ASCII whitespace are skipped. Every other line
//     yields exactly one record or one rejection, whose 1-based line number
//     counts every line, skipped ones included. A bad line never affects
//     the other lines of the body.
//   - Objects are flattened with dots ({"a":{"b":1}} gives a.b=1). Strings
//     are unescaped, numbers keep their original text, true and false are
//     "true" and "false", null is empty (hence absent), arrays are kept as
//     their compact JSON text, and an empty nested object yields nothing.
//     The resulting fields go through ingest.Builder; its rules (time,
//     message, stream, limits, UTF-8, truncation) are in package ingest.
//   - Parsing uses github.com/valyala/fastjson, which is lenient in places
//     (no check of control characters or escapes inside strings, numbers
//     such as NaN, Inf or 1-2 accepted as text) and caps nesting at
//     fastjson.MaxDepth (300): a deeper line is rejected as invalid JSON.
//     The Detail of an invalid_json rejection reads "invalid JSON at byte
//     N: why", N counting from 0 at the start of the line.
//     Decoding never panics and never recurses deeper than that cap.
//
// Memory: the records own their strings (see package ingest) and never
// alias body, which the caller may reuse once Decode returns. A Decoder
// keeps scratch buffers sized to the largest line it has decoded; the parse
// tree of a line takes a few tens of bytes per JSON value, so decoding uses
// memory proportional to the longest line, and a Result holds memory
// proportional to the body.
//
// Concurrency: Decode is safe for concurrent use (it takes a Decoder from a
// pool). A Decoder is not: use one per goroutine.
package jsonline
