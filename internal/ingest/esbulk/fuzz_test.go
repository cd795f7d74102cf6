package esbulk

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/logbucket/logbucket/internal/ingest"
)

// fuzzConfigs are the configurations every fuzz input is decoded with:
// the defaults with a URL index, and tight limits with another time field.
func fuzzConfigs() []Config {
	def := testConfig()
	def.DefaultIndex = "default"
	def.Options.StreamFields = []string{"host", "service"}
	tight := testConfig()
	tight.TimeField = "ts"
	tight.Options.MaxLineBytes = 128
	tight.Options.MaxFields = 3
	tight.Options.MaxFieldNameBytes = 6
	return []Config{def, tight}
}

// FuzzDecode checks Decode's invariants on arbitrary bodies. Seeds live in
// testdata/fuzz/FuzzDecode; the fixtures and the bodies below are added
// too so that a plain go test covers the main shapes.
func FuzzDecode(f *testing.F) {
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "*.bulk"))
	for _, name := range fixtures {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		mixedBody,
		"{\"index\":{}}\r\n{\"a\":{\"b\":[1,{\"c\":null}]},\"@timestamp\":1767225600123}\r\n\r\n{\"delete\":{\"_id\":1}}\n",
		"garbage\n{\"create\":{\"_index\":\"x\\u00e9\",\"_id\":\"\xff\"}}\n{\"ts\":\"2026-01-02\",\"message\":\"\xfe\"}\n{\"update\":{}}",
		`{"index":{"_index":"a"}}` + "\n" + `{"a":` + strings.Repeat(`[`, 400) + strings.Repeat(`]`, 400) + `}`,
		`{"index":{"_index":"a","_id":"` + strings.Repeat("i", 600) + `"}}` + "\n{}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var items int
		for i, cfg := range fuzzConfigs() {
			b, err := Decode(body, cfg)
			if err != nil {
				t.Fatalf("config %d: %v", i, err)
			}
			checkBatch(t, b)
			checkPairing(t, body, b, cfg.DefaultIndex)
			checkStrings(t, b)
			checkResponse(t, b)
			if i > 0 && len(b.Items) != items {
				t.Fatalf("%d items with config %d, %d with config 0", len(b.Items), i, items)
			}
			items = len(b.Items)
		}
		cfg := testConfig()
		cfg.MaxItems = max(items-1, 1)
		_, err := Decode(body, cfg)
		if tooMany := items > cfg.MaxItems; errors.Is(err, ErrTooManyItems) != tooMany || (err != nil) != tooMany {
			t.Fatalf("%d items with MaxItems %d: error %v", items, cfg.MaxItems, err)
		}
	})
}

type numberedLine struct {
	no   int
	text []byte
}

// nonBlankLines splits body independently of Decode.
func nonBlankLines(body []byte) []numberedLine {
	var out []numberedLine
	if len(body) == 0 {
		return nil
	}
	for i, l := range bytes.Split(body, []byte("\n")) {
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(bytes.Trim(l, " \t\r\v\f")) > 0 {
			out = append(out, numberedLine{no: i + 1, text: l})
		}
	}
	return out
}

// wellFormed is the reference definition of a well-formed action line.
// It returns the action and whether the line is one.
func wellFormed(line []byte) (string, bool) {
	var p fastjson.Parser
	v, err := p.ParseBytes(line)
	if err != nil || v.Type() != fastjson.TypeObject {
		return "", false
	}
	o := v.GetObject()
	if o.Len() != 1 {
		return "", false
	}
	var action string
	var meta *fastjson.Value
	o.Visit(func(k []byte, v *fastjson.Value) { action, meta = string(k), v })
	if !slices.Contains([]string{"index", "create", "delete", "update"}, action) || meta.Type() != fastjson.TypeObject {
		return "", false
	}
	ok := true
	meta.GetObject().Visit(func(k []byte, v *fastjson.Value) {
		if s := string(k); (s == "_index" || s == "_id") && (v.Type() == fastjson.TypeObject || v.Type() == fastjson.TypeArray) {
			ok = false
		}
	})
	return action, ok
}

// checkPairing replays the documented line pairing on the non-blank
// lines and compares every item with it.
func checkPairing(t *testing.T, body []byte, b *Batch, defaultIndex string) {
	t.Helper()
	lines := nonBlankLines(body)
	k := 0
	for i := 0; i < len(lines); k++ {
		if k >= len(b.Items) {
			t.Fatalf("line %d is not read: only %d items", lines[i].no, len(b.Items))
		}
		it := &b.Items[k]
		if it.Line != lines[i].no {
			t.Fatalf("item %d on line %d, want line %d", k, it.Line, lines[i].no)
		}
		action, ok := wellFormed(lines[i].text)
		i++
		malformed := it.Err != nil && it.Err.Type == TypeIllegalArgument && strings.HasPrefix(it.Err.Reason, "Malformed action/metadata line [")
		if ok == malformed || (ok && it.Action != action) {
			t.Fatalf("item %d (%q): well-formed %v as %q, answered %s %+v", k, lines[i-1].text, ok, action, it.Action, it.Err)
		}
		takesDoc := ok && action != ActionDelete
		if !ok && i < len(lines) {
			_, next := wellFormed(lines[i].text)
			takesDoc = !next
		}
		wantDoc := 0
		if takesDoc && i < len(lines) {
			wantDoc = lines[i].no
			i++
		}
		if it.DocLine != wantDoc {
			t.Fatalf("item %d (line %d): document line %d, want %d", k, it.Line, it.DocLine, wantDoc)
		}
		if it.Record >= 0 && (!ok || wantDoc == 0 || it.Index == "") {
			t.Fatalf("item %d has a record without a document", k)
		}
		if !ok && it.Index != defaultIndex {
			t.Fatalf("malformed item %d has index %q", k, it.Index)
		}
	}
	if k != len(b.Items) {
		t.Fatalf("%d items for %d action lines", len(b.Items), k)
	}
}

func checkStrings(t *testing.T, b *Batch) {
	t.Helper()
	for i, it := range b.Items {
		if !utf8.ValidString(it.Index) || !utf8.ValidString(it.ID) || it.ID == "" {
			t.Fatalf("item %d: index %q id %q", i, it.Index, it.ID)
		}
		if it.Err != nil && (!utf8.ValidString(it.Err.Reason) || len(it.Err.Reason) > 600) {
			t.Fatalf("item %d: reason %q", i, it.Err.Reason)
		}
	}
	all := append([]ingest.Result{b.Unrouted}, make([]ingest.Result, 0, len(b.Groups))...)
	for _, g := range b.Groups {
		all = append(all, g.Result)
	}
	for _, res := range all {
		for _, r := range res.Records {
			if !utf8.ValidString(r.Msg) {
				t.Fatalf("msg %q is not valid UTF-8", r.Msg)
			}
			for _, f := range slices.Concat(r.Stream, r.Fields) {
				if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
					t.Fatalf("field %q=%q is not valid UTF-8", f.Name, f.Value)
				}
			}
		}
		for _, rj := range res.Rejections {
			if !utf8.ValidString(rj.Detail) || len(rj.Detail) > 600 {
				t.Fatalf("rejection detail %q", rj.Detail)
			}
		}
	}
}

// checkResponse stores every other group and checks the response.
func checkResponse(t *testing.T, b *Batch) {
	t.Helper()
	for i := range b.Groups {
		if i%2 == 0 {
			b.Groups[i].Stored()
		} else {
			b.Groups[i].Fail(429, "", "busy")
		}
	}
	out := b.AppendResponse(nil, time.Millisecond)
	var resp struct {
		Errors bool
		Items  []map[string]struct{ Status int }
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("invalid response %s: %v", out, err)
	}
	if len(resp.Items) != len(b.Items) || resp.Errors != b.Errors() {
		t.Fatalf("response with %d items, errors %v for %d items", len(resp.Items), resp.Errors, len(b.Items))
	}
	for i, m := range resp.Items {
		status, _ := b.Outcome(i)
		if len(m) != 1 || m[b.Items[i].Action].Status != status {
			t.Fatalf("item %d answered %v, want %s with %d", i, m, b.Items[i].Action, status)
		}
	}
}
