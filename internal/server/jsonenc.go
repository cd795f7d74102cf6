package server

import (
	"encoding/json"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/model"
)

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD; control characters are escaped, so a log line can never break
// the NDJSON framing.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendStoredRecord appends one record as a JSON object line of the pull
// API: _offset, _partition, _time, _msg, _stream, stream fields, fields.
func appendStoredRecord(dst []byte, st *commitlog.Stored) []byte {
	r := &st.Record
	dst = append(dst, `{"_offset":`...)
	dst = strconv.AppendInt(dst, st.Offset, 10)
	dst = append(dst, `,"_partition":`...)
	dst = strconv.AppendInt(dst, int64(st.Partition), 10)
	dst = append(dst, `,"_time":"`...)
	dst = time.Unix(0, r.Time).UTC().AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `","_msg":`...)
	dst = appendJSONString(dst, r.Msg)
	dst = append(dst, `,"_stream":`...)
	dst = appendJSONString(dst, model.StreamString(r.Stream))
	for _, f := range r.Stream {
		dst = appendField(dst, f)
	}
	for _, f := range r.Fields {
		dst = appendField(dst, f)
	}
	return append(dst, '}', '\n')
}

func appendField(dst []byte, f model.Field) []byte {
	dst = append(dst, ',')
	dst = appendJSONString(dst, f.Name)
	dst = append(dst, ':')
	return appendJSONString(dst, f.Value)
}

// writeJSONBody encodes v after the status line was written.
func writeJSONBody(w io.Writer, v any) {
	_ = json.NewEncoder(w).Encode(v)
}
