package server

import (
	"strconv"
	"time"

	"github.com/logbucket/logbucket/internal/commitlog"
	"github.com/logbucket/logbucket/internal/jsonstr"
	"github.com/logbucket/logbucket/internal/model"
)

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
	dst = jsonstr.Append(dst, r.Msg)
	dst = append(dst, `,"_stream":`...)
	dst = jsonstr.Append(dst, model.StreamString(r.Stream))
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
	dst = jsonstr.Append(dst, f.Name)
	dst = append(dst, ':')
	return jsonstr.Append(dst, f.Value)
}
