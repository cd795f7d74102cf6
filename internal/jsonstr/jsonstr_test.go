package jsonstr

import (
	"encoding/json"
	"testing"
)

func TestAppend(t *testing.T) {
	cases := map[string]string{
		"plain":           `"plain"`,
		"quote\"back\\":   `"quote\"back\\"`,
		"nl\nctl\x01\x1b": `"nl\nctl\u0001\u001b"`,
		"bad\xffutf":      `"bad\ufffdutf"`,
		"한글 결제":           `"한글 결제"`,
		"<script>":        `"<script>"`,
	}
	for in, want := range cases {
		got := string(Append(nil, in))
		if got != want {
			t.Errorf("Append(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%s is not valid JSON: %v", got, err)
		}
	}
}
