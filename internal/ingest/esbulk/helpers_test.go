package esbulk

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/logbucket/logbucket/internal/ingest"
	"github.com/logbucket/logbucket/internal/ingest/ingesttest"
	"github.com/logbucket/logbucket/internal/model"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testNow = int64(1_767_225_600_000_000_000) // 2026-01-01T00:00:00Z

// testSeed is the random part of the generated IDs in tests.
var testSeed = [11]byte{'l', 'o', 'g', 'b', 'u', 'c', 'k', 'e', 't', '-', 't'}

// testConfig is DefaultConfig with a fixed Now.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Options.Now = testNow
	return cfg
}

// newTestDecoder returns a Decoder whose generated IDs are deterministic.
func newTestDecoder() *Decoder {
	return &Decoder{newSeed: func(b []byte) { copy(b, testSeed[:]) }}
}

// generatedID is the ID newTestDecoder generates for item i.
func generatedID(i int) string {
	var raw [15]byte
	copy(raw[:], testSeed[:])
	binary.BigEndian.PutUint32(raw[11:], uint32(i))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

func decodeTest(t *testing.T, body string, cfg Config) *Batch {
	t.Helper()
	b, err := newTestDecoder().Decode([]byte(body), cfg)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	checkBatch(t, b)
	return b
}

// renderRecord gives a record a compact comparable form.
func renderRecord(r model.Record) string {
	return ingesttest.Render(r, testNow)
}

// renderItem gives item i a compact comparable form:
// "action index id L<line>[/D<docline>] → record" or "→ status type".
// A generated ID shows as "id=gen".
func renderItem(b *Batch, i int) string {
	it := &b.Items[i]
	id := it.ID
	if id == generatedID(i) {
		id = "gen"
	}
	s := fmt.Sprintf("%s %s id=%s L%d", it.Action, it.Index, id, it.Line)
	if it.DocLine > 0 {
		s += fmt.Sprintf("/D%d", it.DocLine)
	}
	if it.Err != nil {
		return fmt.Sprintf("%s → %d %s", s, it.Status, it.Err.Type)
	}
	return s + " → " + renderRecord(b.Groups[it.Group].Result.Records[it.Record])
}

func renderItems(b *Batch) []string {
	out := make([]string, len(b.Items))
	for i := range b.Items {
		out[i] = renderItem(b, i)
	}
	return out
}

// checkBatch checks the consistency of a decoded batch: every item has
// a record or an error, each Result has one record or rejection per
// item of its group, in item order.
func checkBatch(t testing.TB, b *Batch) {
	t.Helper()
	type counts struct{ records, rejections int }
	seen := make([]counts, len(b.Groups)+1) // last: Unrouted
	for i := range b.Items {
		it := &b.Items[i]
		g := len(b.Groups)
		res := &b.Unrouted
		if it.Group >= 0 {
			if it.Group >= len(b.Groups) {
				t.Fatalf("item %d: group %d of %d", i, it.Group, len(b.Groups))
			}
			g, res = it.Group, &b.Groups[it.Group].Result
			if b.Groups[g].Index != it.Index {
				t.Fatalf("item %d: index %q in group %q", i, it.Index, b.Groups[g].Index)
			}
		}
		switch {
		case it.Err == nil && it.Record >= 0:
			if it.Status != 0 || it.Group < 0 || it.Record != seen[g].records {
				t.Fatalf("item %d: status %d group %d record %d, want pending record %d", i, it.Status, it.Group, it.Record, seen[g].records)
			}
			seen[g].records++
		case it.Err != nil && it.Record < 0:
			if it.Status != 400 {
				t.Fatalf("item %d: status %d with error %+v", i, it.Status, it.Err)
			}
			if seen[g].rejections >= len(res.Rejections) {
				t.Fatalf("item %d: no rejection for its error %+v", i, it.Err)
			}
			rj := res.Rejections[seen[g].rejections]
			if rj.Line != it.Line && rj.Line != it.DocLine {
				t.Fatalf("item %d (lines %d/%d): rejection on line %d", i, it.Line, it.DocLine, rj.Line)
			}
			seen[g].rejections++
		default:
			t.Fatalf("item %d: record %d and error %v", i, it.Record, it.Err)
		}
	}
	for g, c := range seen {
		res := &b.Unrouted
		if g < len(b.Groups) {
			res = &b.Groups[g].Result
		}
		if c.records != len(res.Records) || c.rejections != len(res.Rejections) {
			t.Fatalf("group %d: %d records and %d rejections for items giving %d and %d",
				g, len(res.Records), len(res.Rejections), c.records, c.rejections)
		}
		byReason := map[string]int{}
		for _, rj := range res.Rejections {
			byReason[rj.Reason]++
		}
		for reason, n := range byReason {
			if res.Discards[reason] != n {
				t.Fatalf("group %d: Discards[%s] = %d, want %d", g, reason, res.Discards[reason], n)
			}
		}
	}
}

// testOptionsWith is testConfig's ingest options changed by f.
func testOptionsWith(f func(*ingest.Options)) ingest.Options {
	o := testConfig().Options
	f(&o)
	return o
}
