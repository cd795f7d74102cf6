package otlp

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/jsonstr"
)

// gRPC status codes for EncodeStatus (google.rpc.Code).
const (
	CodeInvalidArgument   int32 = 3  // undecodable body (HTTP 400)
	CodeResourceExhausted int32 = 8  // over a limit, retry later (HTTP 429)
	CodeUnavailable       int32 = 14 // temporarily unable to store (HTTP 503)
)

// EncodeResponse returns the body of the HTTP 200 answer to an OTLP/HTTP
// logs export in format f: an ExportLogsServiceResponse, whose
// partial_success holds rejected and message when either is set, and is
// left unset (an empty message: no bytes, or "{}") when neither is, as
// OTLP requires. OTLP reads a message with rejected == 0 as a warning. An
// invalid UTF-8 message is repaired, as protobuf strings must be valid.
func EncodeResponse(f Format, rejected int64, message string) ([]byte, error) {
	if rejected == 0 && message == "" {
		// pdata would always write an empty partial_success.
		if f == JSON {
			return []byte("{}"), nil
		}
		return []byte{}, nil
	}
	resp := plogotlp.NewExportResponse()
	ps := resp.PartialSuccess()
	ps.SetRejectedLogRecords(rejected)
	ps.SetErrorMessage(strings.ToValidUTF8(message, "\uFFFD"))
	var (
		b   []byte
		err error
	)
	if f == JSON {
		b, err = resp.MarshalJSON()
	} else {
		b, err = resp.MarshalProto()
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s ExportLogsServiceResponse: %w", f, err)
	}
	return b, nil
}

// PartialSuccess returns what the answer to a request decoded into res
// reports: the number of rejected log records, and a message naming the
// reasons, the first rejection, and the records kept with losses
// (truncated, fields dropped). Both are zero when nothing was lost.
func PartialSuccess(res *ingest.Result) (rejected int64, message string) {
	rejectedBy := map[string]int{}
	for _, r := range res.Rejections {
		rejectedBy[r.Reason]++
	}
	var b strings.Builder
	if n := len(res.Rejections); n > 0 {
		first := res.Rejections[0]
		fmt.Fprintf(&b, "%d log records rejected (%s); first: log record %d: %s: %s",
			n, countList(rejectedBy), first.Line, first.Reason, first.Detail)
	}
	lossy := map[string]int{}
	for reason, n := range res.Discards {
		if n -= rejectedBy[reason]; n > 0 {
			lossy[reason] = n
		}
	}
	if len(lossy) > 0 {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString("kept with losses: " + countList(lossy))
	}
	return int64(len(res.Rejections)), b.String()
}

// countList formats counts as "a: 1, b: 2", sorted by name.
func countList(counts map[string]int) string {
	names := make([]string, 0, len(counts))
	for name := range counts {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name + ": " + strconv.Itoa(counts[name]))
	}
	return b.String()
}

// EncodeStatus returns the body of an OTLP/HTTP error answer (4xx, 5xx)
// in format f: a google.rpc.Status with code (a gRPC code such as
// CodeInvalidArgument) and message, repaired to valid UTF-8.
func EncodeStatus(f Format, code int32, message string) []byte {
	message = strings.ToValidUTF8(message, "\uFFFD")
	if f == JSON {
		b := []byte(`{"code":`)
		b = strconv.AppendInt(b, int64(code), 10)
		b = append(b, `,"message":`...)
		b = jsonstr.Append(b, message)
		return append(b, '}')
	}
	var b []byte
	if code != 0 {
		b = append(b, 1<<3|wireVarint)
		b = binary.AppendUvarint(b, uint64(int64(code))) // int32: sign-extended
	}
	if message != "" {
		b = append(b, 2<<3|wireBytes)
		b = binary.AppendUvarint(b, uint64(len(message)))
		b = append(b, message...)
	}
	return b
}
