package esbulk

import (
	"errors"
	"slices"

	"github.com/logbucket/logbucket/internal/ingest"
)

// DefaultTimeField is the document field Elasticsearch clients put the
// event time in.
const DefaultTimeField = "@timestamp"

// The document fields Elasticsearch clients put the log line in:
// MessageField for Beats, Logstash, Fluent Bit, rsyslog and the ES JS
// client, SyslogNGMessageField for syslog-ng's elasticsearch-http()
// (captured: it sends the name-value pair MESSAGE as is).
const (
	MessageField         = "message"
	SyslogNGMessageField = "MESSAGE"
)

// DefaultMaxItems is the default bound on the items of one request. Vector
// sends up to 10 MB per request, which is about 100,000 small documents;
// an item costs about 100 bytes besides its record.
const DefaultMaxItems = 100_000

// Limits of Elasticsearch that the decoder enforces per item.
const (
	// MaxIDBytes is the longest _id Elasticsearch accepts.
	MaxIDBytes = 512
	// MaxIndexBytes is the longest index name Elasticsearch accepts.
	MaxIndexBytes = 255
)

// Discard reasons added by this package to those of package ingest. They
// are stable: they are values of the reason label of
// logbucket_ingest_discarded_total.
const (
	// ReasonInvalidAction: a malformed action line, an action naming no
	// index, a too long _id or index name, or an index or create action
	// without its document line. The item is rejected, and so is its
	// document line if it has one.
	ReasonInvalidAction = "invalid_action"
	// ReasonUnsupportedAction: a delete or update action. logbucket is
	// append-only.
	ReasonUnsupportedAction = "unsupported_action"
)

// ErrTooManyItems is returned (wrapped) by Decode when a request holds
// more than Config.MaxItems items. Nothing is decoded then. A handler
// should answer 413 with ErrorBody: Beats 8 split a batch answered 413 and
// retry the halves (from their source, not verified here).
var ErrTooManyItems = errors.New("too many bulk items")

// Config holds the settings of one _bulk request.
type Config struct {
	// Options are the ingest rules of the records. Build them with
	// Options(base) so that "message" becomes the message. Ignored for the
	// indexes for which OptionsFor is set.
	Options ingest.Options
	// OptionsFor, when set, returns the ingest rules of the records of one
	// index (for instance that bucket's stream fields). It is called once
	// per distinct index of a request, in order of first appearance; it
	// should also go through Options(base).
	OptionsFor func(index string) ingest.Options
	// TimeField is the document field holding the event time; empty means
	// DefaultTimeField. A document without it falls back to the field named
	// by the ingest Options.TimeField, then to Options.Now.
	TimeField string
	// DefaultIndex is the index of actions that name none: the {index} of
	// POST /{index}/_bulk. Empty means such actions fail.
	DefaultIndex string
	// MaxItems bounds the items (action lines) of a request; 0 means
	// DefaultMaxItems, a negative value disables the bound.
	MaxItems int
}

// DefaultConfig returns the configuration for a request without
// per-bucket settings: ingest.DefaultOptions adapted by Options, the
// @timestamp time field and DefaultMaxItems. Refresh Options.Now for each
// request.
func DefaultConfig() Config {
	return Config{
		Options:   Options(ingest.DefaultOptions()),
		TimeField: DefaultTimeField,
		MaxItems:  DefaultMaxItems,
	}
}

// Options returns base adapted to Elasticsearch documents: MessageField
// and SyslogNGMessageField are appended to MsgFields when missing, so that
// "message" (else "MESSAGE") becomes the record's message unless a field
// named earlier in MsgFields is present. base.TimeField is kept: it is the
// fallback time field of documents without Config.TimeField. base is not
// modified.
func Options(base ingest.Options) ingest.Options {
	for _, f := range [...]string{MessageField, SyslogNGMessageField} {
		if !slices.Contains(base.MsgFields, f) {
			base.MsgFields = append(slices.Clip(base.MsgFields), f)
		}
	}
	return base
}

func (c *Config) timeField() string {
	if c.TimeField == "" {
		return DefaultTimeField
	}
	return c.TimeField
}

func (c *Config) maxItems() int {
	switch {
	case c.MaxItems == 0:
		return DefaultMaxItems
	case c.MaxItems < 0:
		return -1
	}
	return c.MaxItems
}

func (c *Config) optionsFor(index string) ingest.Options {
	if c.OptionsFor != nil {
		return c.OptionsFor(index)
	}
	return c.Options
}
