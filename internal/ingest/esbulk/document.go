package esbulk

import (
	"fmt"

	"github.com/valyala/fastjson"

	"github.com/logbucket/logbucket/internal/ingest"
)

var (
	trueText  = []byte("true")
	falseText = []byte("false")
)

// tsKind is the JSON type of the document's time field.
type tsKind uint8

const (
	tsAbsent tsKind = iota // missing or null
	tsString
	tsNumber
	tsOther // boolean or array: not a date
)

// decodeDoc decodes the document line of item it into res: a record, or a
// rejection and an item error.
func (d *Decoder) decodeDoc(doc []byte, it *Item, res *ingest.Result, tf string, now int64) {
	d.longest = max(d.longest, len(doc))
	v, err := d.p.ParseBytes(doc)
	if err != nil {
		detail := syntaxDetail(doc)
		d.reject(it, res, ingest.ReasonInvalidJSON, detail, "failed to parse: "+detail)
		return
	}
	obj, err := v.Object()
	if err != nil {
		t := typeName(v.Type())
		d.reject(it, res, ingest.ReasonNotObject, "JSON "+t+" is not an object",
			"failed to parse: the document is a JSON "+t+", not an object")
		return
	}
	d.name = d.name[:0]
	d.tsKind = tsAbsent
	d.flatten(obj, 0, tf)
	ns, set, err := d.docTime(now)
	if err != nil {
		d.b.Reset()
		d.reject(it, res, ingest.ReasonInvalidTime, fmt.Sprintf("field %q: %v", tf, err),
			fmt.Sprintf("failed to parse field [%s] of type [date] in document with id '%s': %v", tf, it.ID, err))
		return
	}
	if set {
		d.b.SetTime(ns)
	}
	if d.b.FinishInput(it.DocLine, len(doc), res) {
		it.Record = len(res.Records) - 1
		return
	}
	// The Builder rejected the record: its fallback time field (the ingest
	// Options.TimeField) is unparsable.
	detail := res.Rejections[len(res.Rejections)-1].Detail
	it.Status, it.Err = 400, &ItemError{Type: TypeDocumentParsing, Reason: "failed to parse document: " + detail}
}

// reject records that item it's document produced no record.
func (d *Decoder) reject(it *Item, res *ingest.Result, reason, detail, esReason string) {
	res.Reject(it.DocLine, reason, detail)
	it.Status, it.Err = 400, &ItemError{Type: TypeDocumentParsing, Reason: esReason}
}

// flatten adds the fields of o to the builder like jsonline does, except
// the time field tf, which it keeps in d.ts; d.name[:prefix] is the dotted
// name of o, with its trailing dot. The recursion is bounded by
// fastjson.MaxDepth.
func (d *Decoder) flatten(o *fastjson.Object, prefix int, tf string) {
	o.Visit(func(key []byte, v *fastjson.Value) {
		d.name = append(d.name[:prefix], key...)
		t := v.Type()
		if t != fastjson.TypeObject && string(d.name) == tf {
			d.keepTime(v, t)
			return
		}
		switch t {
		case fastjson.TypeObject:
			d.name = append(d.name, '.')
			inner, _ := v.Object() // cannot fail: v is an object
			d.flatten(inner, len(d.name), tf)
		case fastjson.TypeString:
			s, _ := v.StringBytes() // cannot fail: v is a string
			d.b.Add(d.name, s)
		case fastjson.TypeNumber, fastjson.TypeArray:
			d.val = v.MarshalTo(d.val[:0])
			d.b.Add(d.name, d.val)
		case fastjson.TypeTrue:
			d.b.Add(d.name, trueText)
		case fastjson.TypeFalse:
			d.b.Add(d.name, falseText)
		case fastjson.TypeNull:
			d.b.Add(d.name, nil)
		}
	})
}

// keepTime keeps the time field's value; a later one replaces it.
func (d *Decoder) keepTime(v *fastjson.Value, t fastjson.Type) {
	switch t {
	case fastjson.TypeString:
		s, _ := v.StringBytes() // cannot fail: v is a string
		d.ts, d.tsKind = append(d.ts[:0], s...), tsString
	case fastjson.TypeNumber:
		d.ts, d.tsKind = v.MarshalTo(d.ts[:0]), tsNumber
	case fastjson.TypeNull:
		d.tsKind = tsAbsent
	default:
		d.ts, d.tsKind = v.MarshalTo(d.ts[:0]), tsOther
	}
}

// docTime returns the time the document's time field gives, and whether it
// gives one: a missing, null or empty field gives none (the Builder then
// uses the ingest Options.TimeField, or Options.Now), "0" gives now.
func (d *Decoder) docTime(now int64) (ns int64, set bool, err error) {
	switch {
	case d.tsKind == tsAbsent || len(d.ts) == 0:
		return 0, false, nil
	case d.tsKind == tsOther:
		return 0, false, fmt.Errorf("a JSON %s is not a date: %s", otherKind(d.ts), quote(d.ts))
	case string(d.ts) == "0":
		return now, true, nil
	}
	ns, err = parseTimestamp(d.ts, d.tsKind == tsNumber)
	return ns, err == nil, err
}

func otherKind(text []byte) string {
	if len(text) > 0 && text[0] == '[' {
		return "array"
	}
	return "boolean"
}
