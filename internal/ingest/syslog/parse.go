package syslog

import (
	"bytes"
	"time"
)

// Format is the syslog format a message was parsed as.
type Format uint8

// Formats, in the order Message.Format reports them.
const (
	// FormatUnparsed: the message has no valid PRI; it is kept whole as
	// the message text.
	FormatUnparsed Format = iota
	// FormatRFC3164: BSD syslog, including everything after a valid PRI
	// that is not RFC 5424.
	FormatRFC3164
	// FormatRFC5424: the IETF syslog protocol.
	FormatRFC5424
	numFormats
)

// String returns "unparsed", "rfc3164" or "rfc5424".
func (f Format) String() string {
	switch f {
	case FormatRFC3164:
		return "rfc3164"
	case FormatRFC5424:
		return "rfc5424"
	}
	return "unparsed"
}

// SDParam is one RFC 5424 structured data parameter, its value unescaped.
type SDParam struct {
	ID, Name, Value []byte
}

// Message is one parsed syslog message. Its byte slices alias the parsed
// input, or the Message's own buffer for unescaped structured data
// values: they stay valid until the input is reused or the Message is
// parsed into again. A nil slice means the field is absent (or NILVALUE).
type Message struct {
	Format Format
	// Priority is the PRI value, 0 to 191, or -1 when the message has none.
	Priority int
	// Time is the message's own timestamp in unix nanoseconds; HasTime
	// reports whether it had a valid one.
	Time    int64
	HasTime bool

	Hostname, AppName, ProcID, MsgID []byte
	SD                               []SDParam
	// Msg is the message text (MSG, or the whole input when unparsed).
	Msg []byte

	buf []byte // unescaped SD values
}

// Facility returns the facility code (0-23), or -1 without a PRI.
func (m *Message) Facility() int {
	if m.Priority < 0 {
		return -1
	}
	return m.Priority >> 3
}

// Severity returns the severity code (0-7), or -1 without a PRI.
func (m *Message) Severity() int {
	if m.Priority < 0 {
		return -1
	}
	return m.Priority & 7
}

func (m *Message) reset() {
	*m = Message{Priority: -1, SD: m.SD[:0], buf: m.buf[:0]}
}

// Parser parses RFC 5424 and RFC 3164 messages, detecting the format of
// each message. The zero Parser reads timestamps without an offset as UTC.
// A Parser holds no state; it is safe for concurrent use.
type Parser struct {
	// Location is the time zone of timestamps that carry no offset (RFC
	// 3164 ones). Nil means UTC.
	Location *time.Location
}

// Parse parses data into m, reusing m's buffers. now is the receipt time;
// it decides the year of RFC 3164 timestamps, which have none. Parse never
// fails and never panics: see the package documentation for what it does
// with input that is neither format.
func (p Parser) Parse(data []byte, now time.Time, m *Message) {
	m.reset()
	data = trimTrailer(data)
	pri, i := parsePRI(data)
	if pri < 0 {
		if len(data) > 0 {
			m.Msg = data
		}
		return
	}
	m.Priority = pri
	if looksRFC5424(data, i) && p.parse5424(data, i, m) {
		m.Format = FormatRFC5424
		return
	}
	// A message with a version but a broken header is kept whole as an
	// RFC 3164 one: its text after the PRI becomes the message.
	m.reset()
	m.Priority = pri
	m.Format = FormatRFC3164
	p.parse3164(data, i, now, m)
}

// parsePRI parses "<PRI>" at the start of data. It returns the value and
// the offset after '>', or -1 if data does not start with a valid PRI.
func parsePRI(data []byte) (pri, next int) {
	if len(data) < 3 || data[0] != '<' {
		return -1, 0
	}
	v, i := 0, 1
	for ; i < len(data) && i <= 3 && isDigit(data[i]); i++ {
		v = v*10 + int(data[i]-'0')
	}
	if i == 1 || i >= len(data) || data[i] != '>' || v > 191 {
		return -1, 0
	}
	return v, i + 1
}

// looksRFC5424 reports whether data[i:] starts with an RFC 5424 VERSION
// (a non-zero number of at most three digits) and a space.
func looksRFC5424(data []byte, i int) bool {
	if i >= len(data) || data[i] < '1' || data[i] > '9' {
		return false
	}
	for j := i + 1; j < len(data) && j <= i+3; j++ {
		if data[j] == ' ' {
			return true
		}
		if !isDigit(data[j]) {
			return false
		}
	}
	return false
}

// trimTrailer removes the line terminators framing may leave at the end
// of a message: LF, CR and NUL.
func trimTrailer(b []byte) []byte {
	for n := len(b); n > 0; n-- {
		if c := b[n-1]; c != '\n' && c != '\r' && c != 0 {
			return b[:n]
		}
	}
	return b[:0]
}

var bom = []byte("\xEF\xBB\xBF")

// cleanMsg strips the leading spaces and UTF-8 byte order mark of MSG.
// rsyslog forwards legacy messages with the space that followed their tag,
// and loggen (like RFC 5424 allows) starts MSG with a BOM.
func cleanMsg(b []byte) []byte {
	b = trimSpaces(b)
	if bytes.HasPrefix(b, bom) {
		b = trimSpaces(b[len(bom):])
	}
	if len(b) == 0 {
		return nil
	}
	return b
}

func trimSpaces(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// facilityNames are the facility names syslog-ng and rsyslog print.
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

// levelNames are the severity names, spelled out.
var levelNames = [8]string{
	"emergency", "alert", "critical", "error", "warning", "notice", "info", "debug",
}

// FacilityName returns the name of facility code f ("local0", "daemon"…),
// or "" if f is out of range.
func FacilityName(f int) string {
	if f < 0 || f >= len(facilityNames) {
		return ""
	}
	return facilityNames[f]
}

// LevelName returns the name of severity code s ("error", "info"…), or ""
// if s is out of range.
func LevelName(s int) string {
	if s < 0 || s >= len(levelNames) {
		return ""
	}
	return levelNames[s]
}
