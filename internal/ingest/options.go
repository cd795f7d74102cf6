package ingest

import (
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// Options are the per-request settings of a receiver. Zero values are not
// defaults: start from DefaultOptions. A limit of zero or less disables it.
type Options struct {
	// TimeField names the field holding the timestamp ("_time"). Empty
	// means the records carry no timestamp and all get Now.
	TimeField string
	// MsgFields lists the message field candidates in priority order; the
	// first one with a non-empty value becomes Record.Msg.
	MsgFields []string
	// StreamFields names the fields moved from Fields to Record.Stream.
	StreamFields []string
	// MaxLineBytes bounds Record.Size(); bigger records are kept, cut.
	MaxLineBytes int
	// MaxFields bounds the number of ordinary fields of a record; the
	// fields past it are dropped and counted under ReasonTooManyFields.
	MaxFields int
	// MaxFieldNameBytes bounds a field name's length; a field with a longer
	// name is dropped and counted under ReasonFieldNameTooLong.
	MaxFieldNameBytes int
	// Now is the receipt time in unix nanoseconds, the time of records
	// whose time field is missing, empty or "0".
	Now int64
}

// Default limits.
const (
	DefaultMaxLineBytes      = 256 << 10
	DefaultMaxFields         = 1000
	DefaultMaxFieldNameBytes = 1024
)

// DefaultOptions returns the default settings with Now set to the current
// time; a receiver refreshes Now for each request.
func DefaultOptions() Options {
	return Options{
		TimeField:         "_time",
		MsgFields:         []string{"_msg", "message", "msg", "log"},
		MaxLineBytes:      DefaultMaxLineBytes,
		MaxFields:         DefaultMaxFields,
		MaxFieldNameBytes: DefaultMaxFieldNameBytes,
		Now:               time.Now().UnixNano(),
	}
}

// Discard reasons. They are stable: they are the values of the reason label
// of logbucket_ingest_discarded_total.
const (
	// ReasonInvalidJSON: the line is not valid JSON (line rejected).
	ReasonInvalidJSON = "invalid_json"
	// ReasonNotObject: valid JSON but not an object (line rejected).
	ReasonNotObject = "not_object"
	// ReasonInvalidTime: the time field is present but unparsable (line
	// rejected).
	ReasonInvalidTime = "invalid_time"
	// ReasonTooManyFields counts fields dropped past MaxFields (record kept).
	ReasonTooManyFields = "too_many_fields"
	// ReasonFieldNameTooLong counts fields dropped for a name longer than
	// MaxFieldNameBytes (record kept).
	ReasonFieldNameTooLong = "field_name_too_long"
	// ReasonTruncated counts records cut to MaxLineBytes (record kept).
	ReasonTruncated = "truncated"
)

// TruncatedField is the field a cut record gets; its value is the number of
// bytes of the record's message, names and values before the cut, in
// decimal.
const TruncatedField = "_truncated"

// Rejection describes one input record that produced no model.Record.
type Rejection struct {
	// Line is the 1-based line number in the request body (for formats
	// that are not line based: the 1-based position of the item).
	Line int
	// Reason is one of the Reason constants.
	Reason string
	// Detail is a human-readable explanation, valid UTF-8, at most a few
	// hundred bytes.
	Detail string
}

// Result accumulates what a decoder produced for one request.
type Result struct {
	Records []model.Record
	// Rejections lists every rejected input record in input order.
	Rejections []Rejection
	// Discards counts by reason: rejections, dropped fields and truncated
	// records. Nil until something is counted.
	Discards map[string]int
}

// Reject records that the input record at line produced no record, and
// counts it under reason.
func (r *Result) Reject(line int, reason, detail string) {
	r.Rejections = append(r.Rejections, Rejection{Line: line, Reason: reason, Detail: detail})
	r.AddDiscards(reason, 1)
}

// AddDiscards adds n to the count of reason; n <= 0 is a no-op.
func (r *Result) AddDiscards(reason string, n int) {
	if n <= 0 {
		return
	}
	if r.Discards == nil {
		r.Discards = make(map[string]int, 4)
	}
	r.Discards[reason] += n
}
