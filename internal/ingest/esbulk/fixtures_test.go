package esbulk

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFixtures decodes the bodies real clients sent (testdata/README.md).
func TestFixtures(t *testing.T) {
	sng := time.Date(2026, 11, 21, 23, 25, 7, 0, time.UTC).UnixNano()
	tests := []struct {
		file  string
		index string
		want  []string // rendered records
	}{
		{"elasticsearch-js-9.4.3.bulk", "logs-app", []string{
			`time=0 msg="user login" user="bob"`,
			`time=1000000000 msg="user logout" user="bob"`,
		}},
		{"syslog-ng-3.38.bulk", "syslog-ng", []string{
			fmt.Sprintf(`time=%d msg="payment failed for order 17" _SDATA.timeQuality.tzKnown="1" _SDATA.timeQuality.isSynced="0" _SDATA.meta@32473.trace_id="abc123" PROGRAM="checkout" PRIORITY="err" PID="4242" ISODATE="2026-11-21T23:25:07+00:00" HOST="<host>" FACILITY="local0"`, sng),
			fmt.Sprintf(`time=%d msg="order 18 ok" _SDATA.timeQuality.tzKnown="1" _SDATA.timeQuality.isSynced="0" PROGRAM="checkout" PRIORITY="info" ISODATE="2026-11-21T23:25:07+00:00" HOST="<host>" FACILITY="local0"`, sng),
			fmt.Sprintf(`time=%d msg="job nightly finished in 42s" PROGRAM="cron" PRIORITY="notice" LEGACY_MSGHDR="cron: " ISODATE="2026-11-21T23:25:07+00:00" HOST="<host>" FACILITY="cron"`, sng),
		}},
		// rsyslog's default template has no @timestamp: the records get
		// Options.Now, and timereported stays a field.
		{"rsyslog-8.2302.bulk", "rsyslog", []string{
			`msg="payment failed for order 17" fromhost="<host>" facility="local0" priority="err" timereported="2026-11-21T23:26:05.794069+00:00" timegenerated="2026-11-21T23:26:05.794069+00:00"`,
			`msg="order 18 ok" fromhost="<host>" facility="local0" priority="info" timereported="2026-11-21T23:26:05.794069+00:00" timegenerated="2026-11-21T23:26:05.794069+00:00"`,
			`msg=" job nightly finished in 42s" fromhost="<host>" facility="cron" priority="notice" timereported="2026-11-21T23:26:05.794069+00:00" timegenerated="2026-11-21T23:26:05.794069+00:00"`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			b := decodeTest(t, string(body), testConfig())
			if len(b.Groups) != 1 || b.Groups[0].Index != tc.index || len(b.Unrouted.Rejections) != 0 {
				t.Fatalf("groups %+v, unrouted %+v", b.Groups, b.Unrouted)
			}
			g := &b.Groups[0]
			var got []string
			for _, r := range g.Result.Records {
				got = append(got, renderRecord(r))
			}
			if !slices.Equal(got, tc.want) || len(g.Result.Rejections) != 0 || len(b.Items) != len(tc.want) {
				t.Errorf("records:\n%s\nwant:\n%s\nrejections %+v", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), g.Result.Rejections)
			}
			g.Stored()
			var resp struct {
				Errors bool
				Items  []map[string]struct{ Status int }
			}
			if err := json.Unmarshal(b.AppendResponse(nil, time.Millisecond), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Errors || len(resp.Items) != len(tc.want) {
				t.Errorf("response errors=%v with %d items", resp.Errors, len(resp.Items))
			}
			for i, item := range resp.Items {
				if item[b.Items[i].Action].Status != 201 {
					t.Errorf("item %d: %+v", i, item)
				}
			}
		})
	}
}

// TestFixturesConcurrent decodes the fixtures from several goroutines
// through the pooled Decode; run with -race.
func TestFixturesConcurrent(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.bulk"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	var bodies [][]byte
	var want [][]string
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Decode(body, testConfig())
		if err != nil {
			t.Fatal(err)
		}
		bodies, want = append(bodies, body), append(want, renderRecords(b))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (w + i) % len(bodies)
				b, err := Decode(bodies[k], testConfig())
				if err != nil {
					errs <- err.Error()
					return
				}
				if got := renderRecords(b); !slices.Equal(got, want[k]) {
					errs <- fmt.Sprintf("%s: %q, want %q", files[k], got, want[k])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func renderRecords(b *Batch) []string {
	var out []string
	for _, g := range b.Groups {
		for _, r := range g.Result.Records {
			out = append(out, g.Index+": "+renderRecord(r))
		}
	}
	return out
}
