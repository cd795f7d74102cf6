package esbulk

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/valyala/fastjson"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/jsonline"
)

// maxQuotedBytes bounds the client text quoted in an error reason.
const maxQuotedBytes = 64

type actionKind uint8

const (
	kindIndex actionKind = iota
	kindCreate
	kindDelete
	kindUpdate
)

var actionNames = [...]string{ActionIndex, ActionCreate, ActionDelete, ActionUpdate}

func lookupAction(name []byte) (actionKind, bool) {
	for k, n := range actionNames {
		if string(name) == n {
			return actionKind(k), true
		}
	}
	return kindIndex, false
}

// parsedAction is what parseAction understood of an action line. index
// and id alias the parser's memory: use them before the next parse.
type parsedAction struct {
	kind      actionKind
	ok        bool   // a well-formed action line
	malformed string // why it is not, when !ok
	index, id []byte // nil when absent
}

// parseAction parses one non-blank line as an action line. A well-formed
// action line is a JSON object with exactly one key, a known action, whose
// value is an object; in it, _index and _id are scalars or null, and every
// other key is ignored.
func (d *Decoder) parseAction(line []byte, lineNo int) parsedAction {
	var pa parsedAction
	d.longest = max(d.longest, len(line))
	v, err := d.p.ParseBytes(line)
	if err != nil {
		pa.malformed = fmt.Sprintf("Malformed action/metadata line [%d], expected a JSON object: %s", lineNo, syntaxDetail(line))
		return pa
	}
	o, err := v.Object()
	if err != nil {
		pa.malformed = fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT but found a JSON %s", lineNo, typeName(v.Type()))
		return pa
	}
	var name []byte
	var meta *fastjson.Value
	o.Visit(func(k []byte, v *fastjson.Value) {
		if name == nil {
			name, meta = k, v
		}
	})
	kind, known := lookupAction(name)
	pa.kind = kind
	switch {
	case o.Len() == 0:
		pa.malformed = fmt.Sprintf("Malformed action/metadata line [%d], expected an action but found an empty object", lineNo)
	case !known:
		pa.malformed = fmt.Sprintf("Malformed action/metadata line [%d], expected field [create], [delete], [index] or [update] but found [%s]", lineNo, quote(name))
	case o.Len() > 1:
		pa.malformed = fmt.Sprintf("Malformed action/metadata line [%d], expected one action but found %d fields", lineNo, o.Len())
	case meta.Type() != fastjson.TypeObject:
		pa.malformed = fmt.Sprintf("Malformed action/metadata line [%d], expected START_OBJECT after [%s] but found a JSON %s", lineNo, name, typeName(meta.Type()))
	}
	if pa.malformed != "" {
		return pa
	}
	mo, _ := meta.Object() // cannot fail: meta is an object
	mo.Visit(func(k []byte, v *fastjson.Value) {
		var dst *[]byte
		switch string(k) {
		case "_index":
			dst = &pa.index
		case "_id":
			dst = &pa.id
		default:
			return // pipeline, routing, require_alias, _type...: ignored
		}
		switch v.Type() {
		case fastjson.TypeString:
			*dst, _ = v.StringBytes() // cannot fail: v is a string
		case fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
			*dst = v.MarshalTo(nil)
		case fastjson.TypeNull:
			*dst = nil
		default:
			if pa.malformed == "" {
				pa.malformed = fmt.Sprintf("Malformed action/metadata line [%d], expected a simple value for field [%s] but found a JSON %s", lineNo, k, typeName(v.Type()))
			}
		}
	})
	pa.ok = pa.malformed == ""
	return pa
}

// syntaxDetail explains why line is not valid JSON, in jsonline's words
// ("invalid JSON at byte N: why"). Only called on the error path.
func syntaxDetail(line []byte) string {
	var res ingest.Result
	jsonline.Decode(line, ingest.Options{}, &res)
	if len(res.Rejections) == 1 {
		return res.Rejections[0].Detail
	}
	return "invalid JSON"
}

// typeName names a JSON type in an error reason.
func typeName(t fastjson.Type) string {
	switch t {
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "boolean"
	}
	return t.String()
}

// quote returns client text for an error reason: valid UTF-8, at most
// maxQuotedBytes bytes plus an ellipsis.
func quote(b []byte) string {
	if len(b) > maxQuotedBytes {
		return strings.ToValidUTF8(string(b[:maxQuotedBytes]), "\uFFFD") + "..."
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// isBlank reports whether line holds only ASCII whitespace.
func isBlank(line []byte) bool {
	for _, c := range line {
		switch c {
		case ' ', '\t', '\r', '\v', '\f':
		default:
			return false
		}
	}
	return true
}

// Scanner states.
const (
	wantAction = iota
	wantDoc
	afterMalformed // the last action line was malformed
)

// scan is the first phase of Decode: it splits body into items without
// decoding any document, so that MaxItems is enforced before any record is
// built. Lines are split on '\n', a trailing '\r' is removed, and blank
// lines are skipped wherever they are. See the package documentation for
// how a malformed action line is resynchronised.
func (d *Decoder) scan(body []byte, cfg *Config, b *Batch) error {
	maxItems := cfg.maxItems()
	state := wantAction
	lineNo := 0
	for pos := 0; pos < len(body); {
		lineNo++
		start, end := pos, len(body)
		if i := bytes.IndexByte(body[pos:], '\n'); i >= 0 {
			end = pos + i
		}
		pos = end + 1
		if end > start && body[end-1] == '\r' {
			end--
		}
		line := body[start:end]
		if isBlank(line) {
			continue
		}
		cur := len(b.Items) - 1
		if state == wantDoc {
			d.scanned[cur].doc = span{start, end}
			b.Items[cur].DocLine = lineNo
			state = wantAction
			continue
		}
		pa := d.parseAction(line, lineNo)
		if state == afterMalformed && !pa.ok {
			// Not an action either: take it as the malformed action's
			// document line and skip it.
			b.Items[cur].DocLine = lineNo
			state = wantAction
			continue
		}
		if maxItems >= 0 && len(b.Items) >= maxItems {
			return fmt.Errorf("scan bulk body: %w: more than %d items (line %d): send smaller batches", ErrTooManyItems, maxItems, lineNo)
		}
		state = d.addItem(&pa, lineNo, cfg, b)
	}
	if state == wantDoc {
		if cur := len(b.Items) - 1; b.Items[cur].Err == nil {
			d.fail(cur, b, ReasonInvalidAction, TypeValidation, fmt.Sprintf(
				"Validation Failed: 1: source is missing: the %s action on line %d has no document line;", b.Items[cur].Action, b.Items[cur].Line))
		}
	}
	return nil
}

// addItem appends the item of an action line and returns the next state.
func (d *Decoder) addItem(pa *parsedAction, lineNo int, cfg *Config, b *Batch) int {
	i := len(b.Items)
	b.Items = append(b.Items, Item{Action: actionNames[pa.kind], Line: lineNo, Group: -1, Record: -1})
	d.scanned = append(d.scanned, scanned{index: noSpan, id: noSpan, doc: noSpan})
	sc := &d.scanned[i]
	if len(pa.index) > 0 {
		sc.index = d.internIndex(pa.index)
		sc.noGroup = len(pa.index) > MaxIndexBytes
	} else if cfg.DefaultIndex != "" {
		if d.defaultIndex == noSpan {
			d.defaultIndex = d.storeString(cfg.DefaultIndex)
		}
		sc.index = d.defaultIndex
	}
	if len(pa.id) > 0 {
		sc.id = d.store(pa.id)
	} else {
		sc.id = d.generateID(i)
	}
	next := wantDoc
	switch {
	case !pa.ok:
		d.fail(i, b, ReasonInvalidAction, TypeIllegalArgument, pa.malformed)
		return afterMalformed
	case pa.kind == kindDelete:
		next = wantAction
		d.fail(i, b, ReasonUnsupportedAction, TypeIllegalArgument,
			"logbucket does not support the delete action: logs are append-only")
	case pa.kind == kindUpdate:
		d.fail(i, b, ReasonUnsupportedAction, TypeIllegalArgument,
			"logbucket does not support the update action: logs are append-only; use index or create")
	case sc.noGroup:
		d.fail(i, b, ReasonInvalidAction, TypeInvalidIndexName, fmt.Sprintf(
			"Invalid index name [%s], index name is too long, (%d > %d)", quote(pa.index), len(pa.index), MaxIndexBytes))
	case sc.index == noSpan:
		d.fail(i, b, ReasonInvalidAction, TypeValidation, "Validation Failed: 1: index is missing;")
	case len(pa.id) > MaxIDBytes:
		d.fail(i, b, ReasonInvalidAction, TypeValidation, fmt.Sprintf(
			"Validation Failed: 1: id [%s] is too long, must be no longer than %d bytes but was: %d;", quote(pa.id), MaxIDBytes, len(pa.id)))
	}
	return next
}

// fail marks item i as failed by decoding with status 400.
func (d *Decoder) fail(i int, b *Batch, reason, errType, msg string) {
	b.Items[i].Status = 400
	b.Items[i].Err = &ItemError{Type: errType, Reason: msg}
	d.scanned[i].reason = reason
}
