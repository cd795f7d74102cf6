package syslog

import (
	"bytes"
	"time"
)

// Bounds of a TAG and of the PID in "TAG[PID]:"; longer words are not
// taken for a tag.
const (
	maxTagBytes = 128
	maxPIDBytes = 128
)

// parse3164 parses the RFC 3164 message data whose PRI ends before
// data[i]: [TIMESTAMP SP [HOSTNAME SP]] [TAG["["PID"]"][":"] SP] MSG. It
// always succeeds; what it does not recognise stays in the message:
//   - TIMESTAMP is "Mmm dd hh:mm:ss" (see parseStamp) or RFC 3339 (the
//     offset may be missing); p.Location applies when there is no offset.
//   - HOSTNAME is the word after the timestamp, unless that word is a tag
//     (it ends with ':' or has a "[PID]"): senders writing to a local
//     socket, and some relays, leave the hostname out.
//   - TAG is recognised only with a marker: a colon followed by a space
//     ("su: ..."), or a "[PID]" with or without the colon ("cron[12]: ..."
//     and rsyslog's forward format "checkout[4242] ..."). It becomes
//     AppName, PID becomes ProcID.
//   - MSG is the rest, without its leading spaces and byte order mark.
func (p Parser) parse3164(data []byte, i int, now time.Time, m *Message) {
	i = skipSpaces(data, i)
	hasTime := false
	if ns, n, ok := p.stamp3164(data[i:], now); ok {
		m.Time, m.HasTime = ns, true
		i = skipSpaces(data, i+n)
		hasTime = true
	}
	if hasTime {
		if _, _, _, isTag := scanTag(data, i); !isTag {
			if sp := bytes.IndexByte(data[i:], ' '); sp > 0 {
				m.Hostname = data[i : i+sp]
				i = skipSpaces(data, i+sp)
			}
		}
	}
	if tag, pid, next, ok := scanTag(data, i); ok {
		m.AppName, m.ProcID = tag, pid
		i = next
	}
	m.Msg = cleanMsg(data[i:])
}

// stamp3164 parses the timestamp at the start of b, which must be followed
// by a space or the end of b, and returns unix nanoseconds and its length.
func (p Parser) stamp3164(b []byte, now time.Time) (int64, int, bool) {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	var (
		ns int64
		n  int
		ok bool
	)
	if len(b) > 0 && isDigit(b[0]) {
		ns, n, ok = parseISO(b, loc)
	} else {
		ns, n, ok = parseStamp(b, now, loc)
	}
	if !ok || (n < len(b) && b[n] != ' ') {
		return 0, 0, false
	}
	return ns, n, true
}

// scanTag recognises "TAG:", "TAG[PID]" and "TAG[PID]:" at data[i],
// followed by a space or the end of data. It returns the tag, the PID (nil
// if none) and the offset after the marker.
func scanTag(data []byte, i int) (tag, pid []byte, next int, ok bool) {
	j := i
	for j < len(data) && j-i < maxTagBytes && isTagChar(data[j]) {
		j++
	}
	if j == i || j >= len(data) {
		return nil, nil, 0, false
	}
	tag = data[i:j]
	switch data[j] {
	case '[':
		k := j + 1
		for k < len(data) && k-j <= maxPIDBytes && data[k] != ']' && data[k] > ' ' {
			k++
		}
		if k == j+1 || k >= len(data) || data[k] != ']' {
			return nil, nil, 0, false
		}
		pid = data[j+1 : k]
		k++
		if k < len(data) && data[k] == ':' {
			k++
		}
		if k < len(data) && data[k] != ' ' {
			return nil, nil, 0, false
		}
		return tag, pid, k, true
	case ':':
		if j+1 < len(data) && data[j+1] != ' ' {
			return nil, nil, 0, false // "12:30", "http://…": not a tag
		}
		return tag, nil, j + 1, true
	}
	return nil, nil, 0, false
}

// isTagChar reports whether c may appear in a TAG: a printable byte other
// than ':', '[' and ']'. Bytes above 126 are accepted too.
func isTagChar(c byte) bool {
	return c > ' ' && c != ':' && c != '[' && c != ']' && c != 0x7f
}

func skipSpaces(data []byte, i int) int {
	for i < len(data) && data[i] == ' ' {
		i++
	}
	return i
}
