package esbulk

import (
	"net/http"

	"github.com/logbucket/logbucket/internal/ingest"
)

// The bulk actions. Item.Action is always one of them.
const (
	ActionIndex  = "index"
	ActionCreate = "create"
	ActionDelete = "delete"
	ActionUpdate = "update"
)

// Elasticsearch error types used in item errors. Clients log them; none
// acts on the type, only on the status.
const (
	TypeDocumentParsing   = "document_parsing_exception"
	TypeIllegalArgument   = "illegal_argument_exception"
	TypeValidation        = "action_request_validation_exception"
	TypeInvalidIndexName  = "invalid_index_name_exception"
	TypeIndexNotFound     = "index_not_found_exception"
	TypeRejectedExecution = "es_rejected_execution_exception"
	TypeUnavailableShards = "unavailable_shards_exception"
	TypeException         = "exception"
)

// ItemError is the error of a failed item, as Elasticsearch reports it.
type ItemError struct {
	Type   string // an Elasticsearch exception name, e.g. TypeDocumentParsing
	Reason string // human-readable, valid UTF-8
}

// Item is one action of the request, in request order: the i-th Item is
// answered by the i-th entry of the response's items.
type Item struct {
	// Action is the action name (ActionIndex, ...), the key of the item in
	// the response. A malformed action line counts as ActionIndex unless
	// its first key names another action.
	Action string
	// Index is the action's _index, or Config.DefaultIndex (also for a
	// malformed action line); it may be empty for a failed item.
	Index string
	// ID is the action's _id, or a generated 20-character one.
	ID string
	// Line is the 1-based line number of the action line in the body;
	// DocLine that of the document line it consumed, 0 if none.
	Line, DocLine int
	// Group is the index of the item's Group in Batch.Groups, -1 when the
	// item names no usable index (its rejection is in Batch.Unrouted).
	Group int
	// Record is the index of the item's record in
	// Batch.Groups[Group].Result.Records, -1 if the item produced none.
	Record int
	// Status and Err are set when decoding failed the item (Status 400,
	// Err non-nil). An item with a record has Status 0 and Err nil: its
	// answer is its group's, see Batch.Outcome.
	Status int
	Err    *ItemError
}

// Group gathers the items that name one index.
type Group struct {
	// Index is the index name as the actions spell it: the bucket
	// candidate, not validated here.
	Index string
	// Result holds the records of the group's items in request order, the
	// rejections of its failed items, and the discard counts, exactly as
	// a jsonline request to that bucket would. Records may be empty.
	Result ingest.Result

	status int // 0 while neither Stored nor Fail was called
	err    ItemError
}

// Stored records that the group's records are durably stored: their items
// answer 201 created.
func (g *Group) Stored() {
	g.status, g.err = http.StatusCreated, ItemError{}
}

// Fail records that the group's records were not stored: their items
// answer status (400-599; another value becomes 500) with an error of
// errType (empty means the usual type for status: 429
// es_rejected_execution_exception, 503 unavailable_shards_exception, ...)
// and reason. Use 429 or 503 for a failure that can pass (overload, disk
// full, read-only, shutdown): Beats and Logstash retry those items, and
// drop or dead-letter items answered 400 or 404.
func (g *Group) Fail(status int, errType, reason string) {
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	if errType == "" {
		errType = defaultErrorType(status)
	}
	g.status, g.err = status, ItemError{Type: errType, Reason: reason}
}

// defaultErrorType is the error type Elasticsearch reports with status.
func defaultErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return TypeIllegalArgument
	case http.StatusNotFound:
		return TypeIndexNotFound
	case http.StatusTooManyRequests:
		return TypeRejectedExecution
	case http.StatusServiceUnavailable:
		return TypeUnavailableShards
	}
	return TypeException
}

// notStored answers items whose group was neither Stored nor Failed: a
// handler bug must not claim durability.
var notStored = ItemError{Type: TypeException, Reason: "the record was not stored: retry"}

// Batch is the decoded request.
type Batch struct {
	// Items lists every action in request order.
	Items []Item
	// Groups lists the distinct indexes of the items in order of first
	// appearance.
	Groups []Group
	// Unrouted holds the rejections and discard counts of the items whose
	// Group is -1 (actions naming no index or a too long one, malformed
	// action lines when Config.DefaultIndex is empty); it never holds
	// records.
	Unrouted ingest.Result
}

// Outcome returns the answer of item i: its status, and its error (nil on
// success). An item failed by decoding keeps its own error; an item with a
// record gets its group's outcome, 201 after Group.Stored, the Fail status
// and error after Group.Fail, and 500 if neither was called.
func (b *Batch) Outcome(i int) (status int, err *ItemError) {
	it := &b.Items[i]
	if it.Err != nil || it.Record < 0 || it.Group < 0 || it.Group >= len(b.Groups) {
		if it.Err == nil { // not produced by Decode; answer safely
			return http.StatusInternalServerError, &notStored
		}
		return it.Status, it.Err
	}
	g := &b.Groups[it.Group]
	switch {
	case g.status == 0:
		return http.StatusInternalServerError, &notStored
	case g.status < 300:
		return g.status, nil
	}
	return g.status, &g.err
}

// Errors reports whether any item fails: the "errors" of the response.
func (b *Batch) Errors() bool {
	for i := range b.Items {
		if _, err := b.Outcome(i); err != nil {
			return true
		}
	}
	return false
}
