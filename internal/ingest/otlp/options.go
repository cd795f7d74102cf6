package otlp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/logbucket/logbucket/internal/ingest"
)

// Options are the per-request settings of the OTLP decoder: the shared
// ingest options plus the resource attributes that name a record's stream.
// Zero values are not defaults: start from DefaultOptions.
//
// Of the embedded ingest.Options, the limits and Now apply as for every
// receiver. TimeField and StreamFields are not used (an OTLP record carries
// its time and its resource outside its attributes), and MsgFields only
// chooses the message of a record whose body is a map.
type Options struct {
	ingest.Options
	// StreamAttributes lists the resource attribute keys whose values
	// become stream fields; the other resource attributes become ordinary
	// fields. Nil means no stream fields.
	StreamAttributes []string
}

// DefaultOptions returns ingest.DefaultOptions with DefaultStreamAttributes.
func DefaultOptions() Options {
	return Options{Options: ingest.DefaultOptions(), StreamAttributes: DefaultStreamAttributes()}
}

// DefaultStreamAttributes returns (a fresh copy of) the default list of
// resource attribute keys that become stream fields: the semantic
// conventions that name where a log comes from and change only when the
// deployment does. Per-process identifiers (service.instance.id, often a
// random UUID per start, process.pid, host.id) and descriptive attributes
// (telemetry.sdk.*, os.*, service.version) are left out, so that a restart
// does not open a new stream; they stay ordinary fields.
func DefaultStreamAttributes() []string {
	return []string{
		"service.name",
		"service.namespace",
		"deployment.environment",
		"deployment.environment.name",
		"host.name",
		"k8s.namespace.name",
		"k8s.pod.name",
		"k8s.container.name",
	}
}

// Format is the encoding of an OTLP/HTTP body.
type Format uint8

// The two OTLP/HTTP encodings.
const (
	// Protobuf is a binary ExportLogsServiceRequest
	// (Content-Type: application/x-protobuf).
	Protobuf Format = iota + 1
	// JSON is the OTLP/JSON mapping of ExportLogsServiceRequest
	// (Content-Type: application/json).
	JSON
)

// ContentType returns the media type of f, the Content-Type of a response
// in that format.
func (f Format) ContentType() string {
	switch f {
	case Protobuf:
		return "application/x-protobuf"
	case JSON:
		return "application/json"
	}
	return "application/octet-stream"
}

func (f Format) String() string {
	switch f {
	case Protobuf:
		return "protobuf"
	case JSON:
		return "JSON"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// ErrUnsupportedContentType is wrapped by the error of a Content-Type that
// is neither OTLP/HTTP encoding (HTTP 415).
var ErrUnsupportedContentType = errors.New("unsupported content type")

// ErrInvalidBody is wrapped by the error of a body that is not an OTLP
// logs export request in the declared encoding (HTTP 400).
var ErrInvalidBody = errors.New("invalid OTLP logs request body")

// ParseContentType returns the Format a Content-Type header value names.
// Parameters (charset) and case are ignored; application/protobuf is
// accepted as a synonym of application/x-protobuf.
func ParseContentType(contentType string) (Format, error) {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(mt)
	switch {
	case strings.EqualFold(mt, "application/x-protobuf"), strings.EqualFold(mt, "application/protobuf"):
		return Protobuf, nil
	case strings.EqualFold(mt, "application/json"):
		return JSON, nil
	}
	if len(contentType) > 100 {
		contentType = contentType[:100] + "..."
	}
	return 0, fmt.Errorf("%w %q: send application/x-protobuf or application/json", ErrUnsupportedContentType, contentType)
}
