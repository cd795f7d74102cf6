package esbulk

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/model"
)

// poolMaxBytes is the scratch size past which a Decoder is not pooled, so
// that one huge request does not pin its buffers.
const poolMaxBytes = 1 << 20

// reserveItemBytes is the body share per item assumed by the first
// reservation of the items: a small real action and document pair. Bodies
// of smaller items grow the slice as they go, so that a body of blank
// lines cannot reserve more than a fraction of its size.
const reserveItemBytes = 128

var decoderPool = sync.Pool{New: func() any { return new(Decoder) }}

// Decode decodes the _bulk body with cfg. It returns an error, wrapping
// ErrTooManyItems, only when the body holds more than cfg.MaxItems items;
// every other problem fails single items. It is safe for concurrent use.
func Decode(body []byte, cfg Config) (*Batch, error) {
	d := decoderPool.Get().(*Decoder)
	b, err := d.Decode(body, cfg)
	if d.longest <= poolMaxBytes && cap(d.arena) <= poolMaxBytes && cap(d.scanned) <= poolMaxBytes/64 {
		decoderPool.Put(d)
	}
	return b, err
}

// Decoder decodes _bulk bodies, reusing its parser and buffers across
// calls. The zero Decoder is ready to use. It is not safe for concurrent
// use.
type Decoder struct {
	p fastjson.Parser
	b ingest.Builder

	// Document flattening (document.go).
	name   []byte // dotted name of the field being flattened
	val    []byte // text of a number or array value
	ts     []byte // text of the document's time field
	tsKind tsKind

	// Per-request state (action.go, this file).
	arena        []byte    // every Index and ID of the request, back to back
	scanned      []scanned // per item, what scan found
	lastIndex    span      // the last index stored in arena
	defaultIndex span      // Config.DefaultIndex in arena, once stored
	groupOf      map[string]int
	counts       []int            // per group, the items that may give a record
	opts         []ingest.Options // per group
	longest      int              // longest line parsed so far

	seed    [11]byte // random part of the generated IDs of this request
	seeded  bool
	newSeed func([]byte) // fills seed; nil means crypto/rand (tests override)
}

// span is a [start, end) range of Decoder.arena or of the body.
type span struct{ start, end int }

var noSpan = span{-1, -1}

// scanned is what scan found of an item.
type scanned struct {
	index, id span   // in arena
	doc       span   // in the body; noSpan if none
	reason    string // discard reason of an item failed by scan
	noGroup   bool   // the index is unusable: no group
}

// Decode decodes the _bulk body with cfg; see the package Decode.
func (d *Decoder) Decode(body []byte, cfg Config) (*Batch, error) {
	defer d.release()
	d.arena, d.scanned = d.arena[:0], d.scanned[:0]
	d.lastIndex, d.defaultIndex, d.seeded = noSpan, noSpan, false

	b := &Batch{}
	n := estimateItems(body, cfg.maxItems())
	b.Items = make([]Item, 0, n)
	d.scanned = growTo(d.scanned, n)
	if err := d.scan(body, &cfg, b); err != nil {
		return nil, err
	}
	d.setStrings(b)
	d.group(b, &cfg)
	d.decodeDocs(body, &cfg, b)
	return b, nil
}

// release drops the references a Decoder holds to the last request.
func (d *Decoder) release() {
	d.b.SetOptions(ingest.Options{})
	clear(d.opts)
	d.opts = d.opts[:0]
	clear(d.groupOf)
}

// estimateItems estimates the items of body for a first reservation: one
// per two lines (a document per action) and per reserveItemBytes, at most
// maxItems.
func estimateItems(body []byte, maxItems int) int {
	n := min(bytes.Count(body, []byte{'\n'})/2+1, len(body)/reserveItemBytes+1)
	if maxItems >= 0 {
		n = min(n, maxItems)
	}
	return n
}

func growTo[S ~[]E, E any](s S, n int) S {
	if cap(s) < n {
		return make(S, 0, n)
	}
	return s
}

// setStrings turns the arena into one string and slices every item's
// index and ID out of it: one allocation for all of them.
func (d *Decoder) setStrings(b *Batch) {
	s := string(d.arena)
	for i := range b.Items {
		sc := &d.scanned[i]
		if sc.index.start >= 0 {
			b.Items[i].Index = s[sc.index.start:sc.index.end]
		}
		b.Items[i].ID = s[sc.id.start:sc.id.end]
	}
}

// store copies v into the arena as valid UTF-8.
func (d *Decoder) store(v []byte) span {
	start := len(d.arena)
	if utf8.Valid(v) {
		d.arena = append(d.arena, v...)
	} else {
		d.arena = append(d.arena, bytes.ToValidUTF8(v, []byte("\uFFFD"))...)
	}
	return span{start, len(d.arena)}
}

// storeString is store for a string.
func (d *Decoder) storeString(v string) span {
	start := len(d.arena)
	if utf8.ValidString(v) {
		d.arena = append(d.arena, v...)
	} else {
		d.arena = append(d.arena, strings.ToValidUTF8(v, "\uFFFD")...)
	}
	return span{start, len(d.arena)}
}

// internIndex stores an index name, reusing the previous one when equal:
// most requests name one index throughout.
func (d *Decoder) internIndex(v []byte) span {
	if l := d.lastIndex; l.start >= 0 && bytes.Equal(d.arena[l.start:l.end], v) {
		return l
	}
	d.lastIndex = d.store(v)
	return d.lastIndex
}

// generateID stores a 20-character URL-safe ID, the length of
// Elasticsearch's own: 11 random bytes drawn once per request and the
// item's position.
func (d *Decoder) generateID(item int) span {
	if !d.seeded {
		if d.newSeed != nil {
			d.newSeed(d.seed[:])
		} else {
			_, _ = rand.Read(d.seed[:]) // crypto/rand.Read never fails
		}
		d.seeded = true
	}
	var raw [15]byte
	copy(raw[:], d.seed[:])
	binary.BigEndian.PutUint32(raw[11:], uint32(item))
	start := len(d.arena)
	d.arena = base64.RawURLEncoding.AppendEncode(d.arena, raw[:])
	return span{start, len(d.arena)}
}

// group assigns the items to one Group per distinct index and reserves
// each group's records.
func (d *Decoder) group(b *Batch, cfg *Config) {
	if d.groupOf == nil {
		d.groupOf = make(map[string]int)
	}
	d.counts = d.counts[:0]
	last := -1
	for i := range b.Items {
		it := &b.Items[i]
		if it.Index == "" || d.scanned[i].noGroup {
			continue
		}
		g := last
		if g < 0 || b.Groups[g].Index != it.Index {
			var ok bool
			if g, ok = d.groupOf[it.Index]; !ok {
				g = len(b.Groups)
				b.Groups = append(b.Groups, Group{Index: it.Index})
				d.groupOf[it.Index] = g
				d.counts = append(d.counts, 0)
				d.opts = append(d.opts, cfg.optionsFor(it.Index))
			}
		}
		it.Group, last = g, g
		if it.Err == nil {
			d.counts[g]++
		}
	}
	for g, n := range d.counts {
		if n > 0 {
			b.Groups[g].Result.Records = make([]model.Record, 0, n)
		}
	}
}

// decodeDocs is the second phase: it decodes the documents of the items
// scan accepted, and records a rejection for every failed item, in item
// order, in its group's Result or in Batch.Unrouted.
func (d *Decoder) decodeDocs(body []byte, cfg *Config, b *Batch) {
	tf := cfg.timeField()
	cur := -1
	for i := range b.Items {
		it := &b.Items[i]
		res := &b.Unrouted
		if it.Group >= 0 {
			res = &b.Groups[it.Group].Result
		}
		if it.Err != nil {
			res.Reject(it.Line, d.scanned[i].reason, it.Err.Reason)
			continue
		}
		// scan failed every item lacking a usable index or a document, so
		// this one has a group and a document.
		if it.Group != cur {
			cur = it.Group
			d.b.SetOptions(d.opts[cur])
		}
		doc := d.scanned[i].doc
		d.decodeDoc(body[doc.start:doc.end], it, res, tf, d.opts[cur].Now)
	}
}
