package server

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/zstd"
)

// bodyLimits bound one request body.
type bodyLimits struct {
	maxRequest      int64 // as received
	maxDecompressed int64
}

// bodyError is a body problem with the API error to answer.
type bodyError struct {
	api    apiError
	reason string // discard reason for metrics
}

func (e *bodyError) Error() string { return e.api.Message }

// readBody reads a request body within the limits and the memory budget,
// undoing one Content-Encoding (gzip or zstd). Stacked encodings and
// unknown ones are refused with 415; a body over either limit with 413;
// a body that does not fit the budget with 503. Nothing is written before
// the whole body is read, so a refused request stores nothing.
func readBody(r *http.Request, lim bodyLimits, res *reservation) ([]byte, error) {
	body, _, err := readBodyKeeping(r, lim, res, "")
	return body, err
}

// readBodyKeeping is readBody for a decoder that undoes the
// Content-Encoding keep itself (Loki's "snappy"): a body so encoded is
// returned as received, with enc = keep; gzip and zstd are undone as by
// readBody (enc = ""). keep "" accepts no other encoding.
func readBodyKeeping(r *http.Request, lim bodyLimits, res *reservation, keep string) (body []byte, enc string, err error) {
	enc, err = contentEncoding(r.Header.Values("Content-Encoding"), keep)
	if err != nil {
		return nil, "", err
	}
	body, err = readEncoded(r, lim, res, enc)
	if enc != keep {
		enc = ""
	}
	return body, enc, err
}

// readEncoded reads the body and undoes enc ("", "gzip", "zstd"; any other
// value is left as is).
func readEncoded(r *http.Request, lim bodyLimits, res *reservation, enc string) ([]byte, error) {
	if r.ContentLength > lim.maxRequest {
		return nil, &bodyError{errTooLarge.with(fmt.Sprintf("request body is %d bytes, the limit is %d (ingest.max_request_bytes): split it into smaller requests", r.ContentLength, lim.maxRequest)), "request_too_large"}
	}
	raw, err := readLimited(r.Body, lim.maxRequest, res, r.ContentLength)
	if err != nil {
		var le *limitError
		if errors.As(err, &le) {
			return nil, &bodyError{errTooLarge.with(fmt.Sprintf("request body exceeds %d bytes (ingest.max_request_bytes): split it into smaller requests", lim.maxRequest)), "request_too_large"}
		}
		return nil, err
	}
	var dec io.Reader
	switch enc {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, &bodyError{errBadRequest.with("body is not valid gzip: " + err.Error()), "bad_compression"}
		}
		defer zr.Close()
		dec = zr
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(raw), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(lim.maxDecompressed)))
		if err != nil {
			return nil, &bodyError{errBadRequest.with("body is not valid zstd: " + err.Error()), "bad_compression"}
		}
		defer zr.Close()
		dec = zr
	default: // none, or one the caller's decoder undoes
		return raw, nil
	}
	out, err := readLimited(dec, lim.maxDecompressed, res, 0)
	if err != nil {
		var le *limitError
		if errors.As(err, &le) {
			return nil, &bodyError{errTooLarge.with(fmt.Sprintf("decompressed body exceeds %d bytes (ingest.max_decompressed_bytes): send smaller requests", lim.maxDecompressed)), "decompressed_too_large"}
		}
		var be *bodyError
		if errors.As(err, &be) {
			return nil, err
		}
		return nil, &bodyError{errBadRequest.with(fmt.Sprintf("body is not valid %s: %v", enc, err)), "bad_compression"}
	}
	return out, nil
}

// contentEncoding returns "", "gzip", "zstd" or keep (when not ""),
// refusing anything else.
func contentEncoding(values []string, keep string) (string, error) {
	var parts []string
	for _, v := range values {
		for _, p := range strings.Split(v, ",") {
			if p = strings.ToLower(strings.TrimSpace(p)); p != "" && p != "identity" {
				parts = append(parts, p)
			}
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	if len(parts) > 1 {
		return "", &bodyError{errBadEncoding.with(fmt.Sprintf("stacked Content-Encoding %q is not supported: compress the body once with gzip or zstd", strings.Join(parts, ", "))), "unsupported_encoding"}
	}
	switch parts[0] {
	case "gzip", "x-gzip":
		return "gzip", nil
	case "zstd":
		return "zstd", nil
	case keep: // parts are never "", so keep "" matches nothing
		return keep, nil
	}
	use := "gzip, zstd or none"
	if keep != "" {
		use = "gzip, zstd, " + keep + " or none"
	}
	return "", &bodyError{errBadEncoding.with(fmt.Sprintf("Content-Encoding %q is not supported: use %s", parts[0], use)), "unsupported_encoding"}
}

type limitError struct{ limit int64 }

func (e *limitError) Error() string { return fmt.Sprintf("more than %d bytes", e.limit) }

// readLimited reads all of r up to limit bytes, reserving memory from res
// as the buffer grows. hint, when positive, sizes the first buffer.
func readLimited(r io.Reader, limit int64, res *reservation, hint int64) ([]byte, error) {
	const chunk = 1 << 20
	initial := int64(64 << 10)
	if hint > 0 {
		initial = min(hint+1, limit+1)
	}
	if !res.grow(initial) {
		return nil, overloadedBody()
	}
	buf := make([]byte, 0, initial)
	reserved := initial
	for {
		if int64(len(buf)) > limit {
			return nil, &limitError{limit}
		}
		if len(buf) == cap(buf) {
			grow := max(int64(cap(buf)), chunk)
			grow = min(grow, limit+1-int64(cap(buf)))
			if grow <= 0 {
				grow = 1
			}
			if !res.grow(grow) {
				return nil, overloadedBody()
			}
			reserved += grow
			nb := make([]byte, len(buf), int64(cap(buf))+grow)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			if int64(len(buf)) > limit {
				return nil, &limitError{limit}
			}
			return buf, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
	}
}

func overloadedBody() error {
	return &bodyError{errOverloaded.with("the ingest memory budget (ingest.memory_bytes) is spent: retry after the Retry-After delay"), "overloaded"}
}
