package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// canned answers NDJSON rows and records the request it got.
func canned(t *testing.T, body string, status int) (*httptest.Server, *http.Request) {
	t.Helper()
	got := &http.Request{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		*got = *r
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts, got
}

func TestQueryOutputs(t *testing.T) {
	rows := `{"_time":"2026-01-01T00:00:00Z","_msg":"evil \u001b[31mred\u001b[0m\r\nnext","_stream":"{}","_stream_id":"00000000000000000000000000000000cbf29ce484222325","level":"error"}` + "\n"
	ts, req := canned(t, rows, 200)
	for _, c := range []struct {
		output string
		want   []string
		not    []string
	}{
		{"json", []string{`"level":"error"`, `\u001b[31m`}, nil},
		{"raw", []string{`evil \x1b[31mred\x1b[0m\r\nnext`}, []string{"\x1b"}},
		{"table", []string{"level=error", `evil \x1b[31mred`}, []string{"\x1b", "\r", "_stream"}},
	} {
		var out, errOut bytes.Buffer
		code := RunQuery(context.Background(), []string{"--server", ts.URL, "--bucket", "b", "--since", "1h", "-o", c.output, "error"}, &out, &errOut)
		if code != 0 {
			t.Fatalf("-o %s: exit %d: %s", c.output, code, errOut.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("-o %s: output %q lacks %q", c.output, out.String(), w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(out.String(), n) {
				t.Errorf("-o %s: output %q contains a raw %q", c.output, out.String(), n)
			}
		}
	}
	if req.URL.Path != "/select/logsql/query" || req.Form.Get("query") != "error" || req.Form.Get("start") != "1h" || req.Form.Get("bucket") != "b" {
		t.Fatalf("request %s %v", req.URL.Path, req.Form)
	}
}

func TestQueryFollowUsesTail(t *testing.T) {
	ts, req := canned(t, `{"_msg":"x"}`+"\n", 200)
	var out, errOut bytes.Buffer
	if code := RunQuery(context.Background(), []string{"--server", ts.URL, "--follow", "--since", "5m", "*"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if req.URL.Path != "/select/logsql/tail" || req.Form.Get("start_offset") != "5m" {
		t.Fatalf("request %s %v", req.URL.Path, req.Form)
	}
}

func TestQueryErrors(t *testing.T) {
	ts, _ := canned(t, `{"error":{"code":"invalid_query","message":"unexpected end at position 3"}}`, 400)
	var out, errOut bytes.Buffer
	if code := RunQuery(context.Background(), []string{"--server", ts.URL, `"abc`}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "position 3") {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, args := range [][]string{{}, {"a", "b"}, {"--since", "1h", "--from", "x", "q"}, {"-o", "xml", "q"}} {
		if code := RunQuery(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("RunQuery(%q) = %d, want 2", args, code)
		}
	}
}
