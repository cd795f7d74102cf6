package server

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// apiError is one entry of the error catalogue: a stable code clients can
// act on, its HTTP status, and a message saying what was wrong and what to
// do.
type apiError struct {
	Code       string `json:"code"`
	Message    string `json:"message"`
	status     int
	retryAfter int // seconds; 0: no Retry-After header
	// Extra fields for specific errors.
	Earliest *int64 `json:"earliest_offset,omitempty"`
	Latest   *int64 `json:"latest_offset,omitempty"`
}

// The catalogue. Codes are stable; messages may improve.
var (
	errBadBucket      = apiError{Code: "invalid_bucket", status: http.StatusBadRequest}
	errBucketNotFound = apiError{Code: "bucket_not_found", status: http.StatusNotFound}
	errBadRequest     = apiError{Code: "bad_request", status: http.StatusBadRequest}
	errStrictRejected = apiError{Code: "invalid_lines", status: http.StatusBadRequest}
	errTooLarge       = apiError{Code: "payload_too_large", status: http.StatusRequestEntityTooLarge}
	errBadEncoding    = apiError{Code: "unsupported_encoding", status: http.StatusUnsupportedMediaType}
	errOverloaded     = apiError{Code: "overloaded", status: http.StatusServiceUnavailable, retryAfter: 1}
	errReadOnly       = apiError{Code: "read_only", status: http.StatusServiceUnavailable, retryAfter: 30}
	errNotReady       = apiError{Code: "not_ready", status: http.StatusServiceUnavailable, retryAfter: 1}
	errNoPartition    = apiError{Code: "partition_not_found", status: http.StatusNotFound}
	errOutOfRange     = apiError{Code: "offset_out_of_range", status: http.StatusRequestedRangeNotSatisfiable}
	errBadGroup       = apiError{Code: "invalid_group", status: http.StatusBadRequest}
	errBadOffset      = apiError{Code: "invalid_offset", status: http.StatusBadRequest}
	errClientGone     = apiError{Code: "client_closed_request", status: 499}
	errInternal       = apiError{Code: "internal", status: http.StatusInternalServerError}
	errShuttingDown   = apiError{Code: "shutting_down", status: http.StatusServiceUnavailable, retryAfter: 1}
	errBadQuery       = apiError{Code: "invalid_query", status: http.StatusBadRequest}
	errQueryLimit     = apiError{Code: "query_limit", status: http.StatusUnprocessableEntity}
	errQueryBusy      = apiError{Code: "too_many_queries", status: http.StatusServiceUnavailable, retryAfter: 1}
	// Receivers of other protocols (Loki, Elasticsearch _bulk, OTLP).
	errBadBody         = apiError{Code: "invalid_body", status: http.StatusBadRequest}
	errMediaType       = apiError{Code: "unsupported_media_type", status: http.StatusUnsupportedMediaType}
	errRejectedEntries = apiError{Code: "rejected_entries", status: http.StatusBadRequest}
)

// ErrorCodeHeader carries the catalogue code of every error answer, also
// those whose body follows another protocol (Elasticsearch, OTLP).
const ErrorCodeHeader = "X-Logbucket-Error-Code"

// with returns a copy of e carrying msg.
func (e apiError) with(msg string) apiError {
	e.Message = msg
	return e
}

// setErrorHeaders sets the headers every error answer carries: the
// catalogue code and, for errors that pass, Retry-After.
func setErrorHeaders(h http.Header, e apiError) {
	h.Set(ErrorCodeHeader, e.Code)
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
}

// writeError sends e as `{"error":{...}}`.
func writeError(w http.ResponseWriter, e apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	setErrorHeaders(h, e)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(struct {
		Error apiError `json:"error"`
	}{e})
}

// writeErrorBody sends e's status and headers with body, a JSON document
// that holds e and more.
func writeErrorBody(w http.ResponseWriter, e apiError, body any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	setErrorHeaders(h, e)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(body)
}

// writeJSON sends v with status 200.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
