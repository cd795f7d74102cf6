package esbulk

import (
	"slices"
	"strconv"
	"time"

	"github.com/logbucket/logbucket/internal/jsonstr"
)

// itemResponseBytes is the typical size of one encoded item, for the
// first reservation of a response.
const itemResponseBytes = 200

// AppendResponse appends to dst the bulk response Elasticsearch 8 gives,
// compact, with its key order:
//
//	{"errors":false,"took":3,"items":[
//	 {"create":{"_index":"logs","_id":"x","_version":1,"result":"created",
//	  "_shards":{"total":1,"successful":1,"failed":0},"_seq_no":0,"_primary_term":1,"status":201}},
//	 {"index":{"_index":"logs","_id":"y","status":400,
//	  "error":{"type":"document_parsing_exception","reason":"..."}}}]}
//
// Items come in request order, keyed by their action, each answered by
// Batch.Outcome; "errors" is true when any item failed. took is rounded
// down to milliseconds. Key order follows Elasticsearch's serializer
// (status after _primary_term on success, before error on failure).
// _shards describes one copy; _seq_no is the record's position in its
// group (Elasticsearch's is per shard; no known client reads either). The
// response
// is sent with HTTP status 200 whatever the items say, as Elasticsearch
// does, and with the header ProductHeader: ProductName.
func (b *Batch) AppendResponse(dst []byte, took time.Duration) []byte {
	dst = slices.Grow(dst, 64+len(b.Items)*itemResponseBytes)
	dst = append(dst, `{"errors":`...)
	dst = strconv.AppendBool(dst, b.Errors())
	dst = append(dst, `,"took":`...)
	dst = strconv.AppendInt(dst, max(took.Milliseconds(), 0), 10)
	dst = append(dst, `,"items":[`...)
	for i := range b.Items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = b.appendItem(dst, i)
	}
	return append(dst, "]}"...)
}

func (b *Batch) appendItem(dst []byte, i int) []byte {
	it := &b.Items[i]
	status, err := b.Outcome(i)
	dst = append(dst, '{')
	dst = jsonstr.Append(dst, it.Action)
	dst = append(dst, `:{"_index":`...)
	dst = jsonstr.Append(dst, it.Index)
	dst = append(dst, `,"_id":`...)
	dst = jsonstr.Append(dst, it.ID)
	if err != nil {
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(status), 10)
		dst = append(dst, `,"error":{"type":`...)
		dst = jsonstr.Append(dst, err.Type)
		dst = append(dst, `,"reason":`...)
		dst = jsonstr.Append(dst, err.Reason)
		return append(dst, "}}}"...)
	}
	dst = append(dst, `,"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":`...)
	dst = strconv.AppendInt(dst, int64(it.Record), 10)
	dst = append(dst, `,"_primary_term":1,"status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	return append(dst, "}}"...)
}

// ErrorBody returns Elasticsearch's error document for a whole request:
// {"error":{"root_cause":[{"type":T,"reason":R}],"type":T,"reason":R},"status":S}.
// Use it for a request refused before any item is answered (413 for
// ErrTooManyItems, 400 for an unreadable body) and for probes answered
// 404 with a body (GET /_ilm/policy/{name}: resource_not_found_exception).
func ErrorBody(status int, errType, reason string) []byte {
	if errType == "" {
		errType = defaultErrorType(status)
	}
	var cause []byte
	cause = append(cause, `{"type":`...)
	cause = jsonstr.Append(cause, errType)
	cause = append(cause, `,"reason":`...)
	cause = jsonstr.Append(cause, reason)
	cause = append(cause, '}')

	dst := make([]byte, 0, 2*len(cause)+64)
	dst = append(dst, `{"error":{"root_cause":[`...)
	dst = append(dst, cause...)
	dst = append(dst, `],`...)
	dst = append(dst, cause[1:len(cause)-1]...)
	dst = append(dst, `},"status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	return append(dst, '}')
}
