package syslog

import "bytes"

// parse5424 parses the RFC 5424 message data whose PRI ends before
// data[i]: VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID
// SP STRUCTURED-DATA [SP MSG]. It reports false, leaving m partly set, if
// the header is not RFC 5424. It is lenient where real senders are:
//   - the structured data and MSG may be missing after MSGID;
//   - a malformed structured data element ends the parse: the header is
//     kept, and MSG is the rest of the message from the element on;
//   - MSG may follow the structured data without a space, and its leading
//     spaces and byte order mark are stripped (cleanMsg).
func (p Parser) parse5424(data []byte, i int, m *Message) bool {
	sp := bytes.IndexByte(data[i:], ' ') // looksRFC5424 found VERSION SP
	if sp < 0 {
		return false
	}
	i += sp + 1

	// TIMESTAMP
	tok, next, ok := token(data, i)
	if !ok {
		return false
	}
	if !isNil(tok) {
		ns, n, ok := parseISO(tok, nil)
		if !ok || n != len(tok) {
			return false
		}
		m.Time, m.HasTime = ns, true
	}
	i = next

	// HOSTNAME, APP-NAME, PROCID, MSGID
	for _, f := range [...]*[]byte{&m.Hostname, &m.AppName, &m.ProcID, &m.MsgID} {
		if i > len(data) {
			return false
		}
		tok, next, ok := token(data, i)
		if !ok {
			return false
		}
		if !isNil(tok) {
			*f = tok
		}
		i = next
	}
	if i >= len(data) {
		return true // no structured data and no MSG
	}

	// STRUCTURED-DATA
	switch data[i] {
	case '-':
		i++
		if i < len(data) && data[i] != ' ' {
			return false
		}
	case '[':
		end, ok := m.parseSD(data, i)
		if !ok {
			m.SD = m.SD[:0]
			m.Msg = cleanMsg(data[i:])
			return true
		}
		i = end
	default:
		return false
	}
	if i < len(data) {
		m.Msg = cleanMsg(data[i:])
	}
	return true
}

// token returns the header field starting at data[i], ending before the
// next space or at the end of data, and the offset after that space. A
// field must not be empty.
func token(data []byte, i int) (tok []byte, next int, ok bool) {
	if i >= len(data) {
		return nil, i, false
	}
	end := bytes.IndexByte(data[i:], ' ')
	if end < 0 {
		return data[i:], len(data) + 1, true
	}
	if end == 0 {
		return nil, i, false
	}
	return data[i : i+end], i + end + 1, true
}

func isNil(tok []byte) bool { return len(tok) == 1 && tok[0] == '-' }

// parseSD parses one or more SD-ELEMENTs starting at data[i] ('[') and
// appends their parameters to m.SD. It returns the offset after the last
// ']', or false if an element is malformed.
func (m *Message) parseSD(data []byte, i int) (int, bool) {
	for i < len(data) && data[i] == '[' {
		i++
		start := i
		for i < len(data) && isSDName(data[i]) {
			i++
		}
		if i == start || i >= len(data) {
			return 0, false
		}
		id := data[start:i]
		for i < len(data) && data[i] == ' ' {
			i++
			start = i
			for i < len(data) && isSDName(data[i]) {
				i++
			}
			if i == start || i+1 >= len(data) || data[i] != '=' || data[i+1] != '"' {
				return 0, false
			}
			name := data[start:i]
			value, end, ok := m.sdValue(data, i+2)
			if !ok {
				return 0, false
			}
			m.SD = append(m.SD, SDParam{ID: id, Name: name, Value: value})
			i = end
		}
		if i >= len(data) || data[i] != ']' {
			return 0, false
		}
		i++
	}
	return i, true
}

// isSDName reports whether c may appear in an SD-ID or PARAM-NAME: printable
// US-ASCII except '=', ' ', ']' and '"'. Bytes above 126 are accepted too.
func isSDName(c byte) bool {
	return c > ' ' && c != '=' && c != ']' && c != '"' && c != 0x7f
}

// sdValue parses a PARAM-VALUE whose text starts at data[i], after the
// opening quote. It returns the value with the escapes \" \\ \] resolved
// (a backslash before any other byte is kept) and the offset after the
// closing quote. A value without escapes aliases data.
func (m *Message) sdValue(data []byte, i int) ([]byte, int, bool) {
	start := i
	for i < len(data) && data[i] != '"' && data[i] != '\\' {
		i++
	}
	if i >= len(data) {
		return nil, 0, false
	}
	if data[i] == '"' {
		return data[start:i], i + 1, true
	}
	// Escapes: unescape into m.buf, sized up front so that it never
	// reallocates under the values already sliced from it.
	if cap(m.buf)-len(m.buf) < len(data)-start {
		// Values already sliced from the old array keep it.
		m.buf = make([]byte, 0, len(data))
	}
	bufStart := len(m.buf)
	m.buf = append(m.buf, data[start:i]...)
	for i < len(data) {
		switch c := data[i]; c {
		case '"':
			return m.buf[bufStart:len(m.buf):len(m.buf)], i + 1, true
		case '\\':
			if i+1 < len(data) && (data[i+1] == '"' || data[i+1] == '\\' || data[i+1] == ']') {
				i++
				m.buf = append(m.buf, data[i])
			} else {
				m.buf = append(m.buf, c)
			}
		default:
			m.buf = append(m.buf, c)
		}
		i++
	}
	return nil, 0, false
}
