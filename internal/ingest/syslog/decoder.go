package syslog

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/logbucket/logbucket/internal/ingest"
)

// Names of the fields a message becomes; see the package documentation.
const (
	FieldFacility = "facility"
	FieldLevel    = "level"
	FieldHostname = "hostname"
	FieldAppName  = "app_name"
	FieldProcID   = "proc_id"
	FieldMsgID    = "msg_id"
	// FieldUnparsed is "true" on the records of messages without a valid
	// PRI, which are kept whole as the message.
	FieldUnparsed = "unparsed"
	// defaultMsgField names the message when Options.MsgFields is empty.
	defaultMsgField = "_msg"
)

// DefaultStreamFields returns the stream fields a listener uses when its
// configuration names none: hostname and app_name.
func DefaultStreamFields() []string { return []string{FieldHostname, FieldAppName} }

// header fields, in the order they are added to a record.
const (
	hdrFacility = iota
	hdrLevel
	hdrHostname
	hdrAppName
	hdrProcID
	hdrMsgID
	numHdr
)

var hdrNames = [numHdr]string{FieldFacility, FieldLevel, FieldHostname, FieldAppName, FieldProcID, FieldMsgID}

// Decoder turns syslog messages into records through an ingest.Builder, so
// that they follow the shared ingest rules (UTF-8 repair, limits,
// truncation). Create it with NewDecoder. It is not safe for concurrent
// use; use one per goroutine.
type Decoder struct {
	parser       Parser
	streamFields []string
	hdrStream    [numHdr]bool // which header fields are stream fields
	sdStream     bool         // whether a stream field may name an SD param
	msgField     string
	b            ingest.Builder
	m            Message
	name         []byte // scratch for "SDID.param"
}

// NewDecoder returns a Decoder that reads timestamps without an offset in
// loc (nil: UTC) and adds the fields named in streamFields as stream
// fields (Builder.AddStream); any field name may be used, "SDID.param"
// ones included. Its ingest options are ingest.DefaultOptions() until
// SetOptions.
func NewDecoder(loc *time.Location, streamFields []string) *Decoder {
	d := &Decoder{parser: Parser{Location: loc}, streamFields: slices.Clone(streamFields)}
	for i, n := range hdrNames {
		d.hdrStream[i] = slices.Contains(d.streamFields, n)
	}
	for _, n := range d.streamFields {
		if strings.Contains(n, ".") {
			d.sdStream = true
		}
	}
	d.SetOptions(ingest.DefaultOptions())
	return d
}

// SetOptions sets the ingest options of the following messages.
// Options.Now is not used: Decode takes the receipt time. Options.TimeField
// is not used either: the time is set with Builder.SetTime. The message is
// added under Options.MsgFields[0] ("_msg" if there is none), and the
// Builder applies Options.StreamFields besides the Decoder's own.
func (d *Decoder) SetOptions(opts ingest.Options) {
	d.msgField = defaultMsgField
	if len(opts.MsgFields) > 0 {
		d.msgField = opts.MsgFields[0]
	}
	d.b.SetOptions(opts)
}

// Decode parses msg, received at now, and appends its record to res.
// It never rejects a message.
func (d *Decoder) Decode(msg []byte, now time.Time, res *ingest.Result) {
	d.decode(msg, 0, now, len(res.Records)+len(res.Rejections)+1, res)
}

// decode is Decode for a message the framing cut: wireSize is the size it
// had on the wire, 0 if it was not cut. The record then gets the
// ingest.TruncatedField with the wire size, and counts as truncated.
func (d *Decoder) decode(msg []byte, wireSize int, now time.Time, line int, res *ingest.Result) Format {
	m := &d.m
	d.parser.Parse(msg, now, m)
	b := &d.b
	if m.Priority >= 0 {
		d.add(hdrFacility, facilityNames[m.Facility()])
		d.add(hdrLevel, levelNames[m.Severity()])
	}
	d.addBytes(hdrHostname, m.Hostname)
	d.addBytes(hdrAppName, m.AppName)
	d.addBytes(hdrProcID, m.ProcID)
	d.addBytes(hdrMsgID, m.MsgID)
	for _, p := range m.SD {
		d.name = append(append(append(d.name[:0], p.ID...), '.'), p.Name...)
		if d.sdStream && slices.Contains(d.streamFields, string(d.name)) {
			b.AddStream(d.name, p.Value)
		} else {
			b.Add(d.name, p.Value)
		}
	}
	if m.Format == FormatUnparsed {
		b.AddString(FieldUnparsed, "true")
	}
	b.Add(unsafeBytes(d.msgField), m.Msg)
	if m.HasTime {
		b.SetTime(m.Time)
	} else {
		b.SetTime(now.UnixNano())
	}
	inputBytes := len(msg)
	if wireSize > 0 {
		inputBytes = wireSize
		b.AddString(ingest.TruncatedField, strconv.Itoa(wireSize))
	}
	before := res.Discards[ingest.ReasonTruncated]
	b.FinishInput(line, inputBytes, res)
	if wireSize > 0 && res.Discards[ingest.ReasonTruncated] == before {
		res.AddDiscards(ingest.ReasonTruncated, 1) // cut by framing only
	}
	return m.Format
}

func (d *Decoder) add(h int, v string) {
	if d.hdrStream[h] {
		d.b.AddStreamString(hdrNames[h], v)
	} else {
		d.b.AddString(hdrNames[h], v)
	}
}

func (d *Decoder) addBytes(h int, v []byte) {
	if len(v) == 0 {
		return
	}
	if d.hdrStream[h] {
		d.b.AddStream(unsafeBytes(hdrNames[h]), v)
	} else {
		d.b.Add(unsafeBytes(hdrNames[h]), v)
	}
}

// unsafeBytes returns the bytes of s without a copy, for the names passed
// to Builder.Add, which copies them and does not retain its arguments.
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
