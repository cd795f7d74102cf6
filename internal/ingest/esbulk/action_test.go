package esbulk

import (
	"slices"
	"strings"
	"testing"

	"github.com/logbucket/logbucket/internal/ingest"
)

func TestMalformedActions(t *testing.T) {
	tests := []struct{ line, action, reason string }{
		{`{"index":{"_index":"logs"}`, "index", "Malformed action/metadata line [1], expected a JSON object: invalid JSON at byte 26: unexpected end of input"},
		{`[{"index":{}}]`, "index", "Malformed action/metadata line [1], expected START_OBJECT but found a JSON array"},
		{`{}`, "index", "Malformed action/metadata line [1], expected an action but found an empty object"},
		{`{"upsert":{}}`, "index", "Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] but found [upsert]"},
		{`{"` + strings.Repeat("k", 100) + `":{}}`, "index", "Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] but found [" + strings.Repeat("k", 64) + "...]"},
		{`{"create":{},"index":{}}`, "create", "Malformed action/metadata line [1], expected one action but found 2 fields"},
		{`{"delete":"x"}`, "delete", "Malformed action/metadata line [1], expected START_OBJECT after [delete] but found a JSON string"},
		{`{"index":{"_index":["a"]}}`, "index", "Malformed action/metadata line [1], expected a simple value for field [_index] but found a JSON array"},
		{`{"create":{"_id":{"a":1}}}`, "create", "Malformed action/metadata line [1], expected a simple value for field [_id] but found a JSON object"},
	}
	for _, tc := range tests {
		body := tc.line + "\n{\"index\":{\"_index\":\"logs\"}}\n{\"message\":\"kept\"}\n"
		b := decodeTest(t, body, testConfig())
		if len(b.Items) != 2 {
			t.Errorf("%s: %d items", tc.line, len(b.Items))
			continue
		}
		it := b.Items[0]
		if it.Action != tc.action || it.Err == nil || it.Err.Type != TypeIllegalArgument || it.Err.Reason != tc.reason || it.DocLine != 0 {
			t.Errorf("%s: item %+v, error %+v; want action %s, reason %q", tc.line, it, it.Err, tc.action, tc.reason)
		}
		if got := renderItem(b, 1); got != `index logs id=gen L2/D3 → msg="kept"` {
			t.Errorf("%s: next item %s", tc.line, got)
		}
	}
}

func TestDecodeRejections(t *testing.T) {
	body := `{"index":{"_index":"logs"}}
{"message":"a",}
{"delete":{"_index":"logs"}}
{"update":{"_index":"logs"}}
{"doc":{}}
{}
not json
{"index":{"_index":"logs"}}
{"@timestamp":"yesterday"}
{"create":{}}
{"message":"no index"}
{"create":{"_index":"logs"}}
`
	b := decodeTest(t, body, testConfig())
	if len(b.Groups) != 1 {
		t.Fatalf("%d groups", len(b.Groups))
	}
	got := b.Groups[0].Result.Rejections
	want := []ingest.Rejection{
		{Line: 2, Reason: ingest.ReasonInvalidJSON, Detail: "invalid JSON at byte 15: expected '\"' to start an object key"},
		{Line: 3, Reason: ReasonUnsupportedAction, Detail: "logbucket does not support the delete action: logs are append-only"},
		{Line: 4, Reason: ReasonUnsupportedAction, Detail: "logbucket does not support the update action: logs are append-only; use index or create"},
		{Line: 9, Reason: ingest.ReasonInvalidTime, Detail: `field "@timestamp": timestamp "yesterday" is neither RFC 3339 nor a unix time`},
		{Line: 12, Reason: ReasonInvalidAction, Detail: "Validation Failed: 1: source is missing: the create action on line 12 has no document line;"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("logs rejections:\n%+v\nwant:\n%+v", got, want)
	}
	wantUnrouted := []ingest.Rejection{
		{Line: 6, Reason: ReasonInvalidAction, Detail: "Malformed action/metadata line [6], expected an action but found an empty object"},
		{Line: 10, Reason: ReasonInvalidAction, Detail: "Validation Failed: 1: index is missing;"},
	}
	if !slices.Equal(b.Unrouted.Rejections, wantUnrouted) {
		t.Errorf("unrouted rejections:\n%+v\nwant:\n%+v", b.Unrouted.Rejections, wantUnrouted)
	}
	// Line 7 ("not json") was taken as the document of the empty action.
	if b.Items[3].DocLine != 7 {
		t.Errorf("item 3 consumed line %d, want 7", b.Items[3].DocLine)
	}
	if want := "failed to parse field [@timestamp] of type [date] in document with id '" + generatedID(4) +
		`': timestamp "yesterday" is neither RFC 3339 nor a unix time`; b.Items[4].Err.Reason != want {
		t.Errorf("time error reason %q, want %q", b.Items[4].Err.Reason, want)
	}
}
