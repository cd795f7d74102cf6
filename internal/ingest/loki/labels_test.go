package loki

import (
	"fmt"
	"strings"
	"testing"
)

// renderLabels gives a label set a comparable form: name=value pairs in
// input order, values quoted.
func renderLabels(ls *labelSet) string {
	var parts []string
	for i := range ls.len() {
		parts = append(parts, fmt.Sprintf("%s=%q", ls.name(i), ls.value(i)))
	}
	return strings.Join(parts, " ")
}

func TestParseLabels(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{job="api"}`, `job="api"`},
		{`{level="info",app="billing",tenant="t1"}`, `level="info" app="billing" tenant="t1"`}, // winston-loki: not sorted
		{` { job = "api" ,	level="warn"	}` + "\n", `job="api" level="warn"`},
		{"{\n  job=\"api\",\r\n  level=\"x\"\n}", `job="api" level="x"`},
		{`{job="api",}`, `job="api"`},
		{`{}`, ``},
		{` {  } `, ``},
		{``, ``},
		{"  \t\n", ``},
		{`{a=""}`, `a=""`},
		{`{_a_1="x",B="y"}`, `_a_1="x" B="y"`},
		{`{a="q\"u\\o\nte"}`, `a="q\"u\\o\nte"`},
		{`{a="\t\r\a\x41\101\u00e9\U0001F600"}`, `a="\t\r\aAAé😀"`},
		{`{a="\xff"}`, `a="\xff"`}, // kept; the Builder repairs UTF-8
		{"{a=\"raw\xffbyte\"}", `a="raw\xffbyte"`},
		{"{a=`raw \\n ` }", `a="raw \\n "`},
		{`{a="한국어 로그",b="✓"}`, `a="한국어 로그" b="✓"`},
		{`{"service.name"="api","x y"="z"}`, `service.name="api" x y="z"`},
		{`{a="1",b="}",c=","}`, `a="1" b="}" c=","`},
		{`{a="=",b="{"}`, `a="=" b="{"`},
	}
	for _, tc := range tests {
		var ls labelSet
		if err := ls.parse(tc.in); err != nil {
			t.Errorf("parse(%q): %v", tc.in, err)
			continue
		}
		if got := renderLabels(&ls); got != tc.want {
			t.Errorf("parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestParseLabelsErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`job="api"`, `expected '{' at byte 0`},
		{`  [job="api"]`, `expected '{' at byte 2`},
		{`{job="api"`, `expected ',' or '}' at byte 10`},
		{`{job="api",`, `expected '}' at byte 11`},
		{`{job="api" level="x"}`, `expected ',' or '}' at byte 11`},
		{`{job=api}`, `expected a quoted label value, found 'a' at byte 5`},
		{`{job}`, `expected '=' after the label name, found '}' at byte 4`},
		{`{job`, `expected '=' after the label name, found the end at byte 4`},
		{`{job!="api"}`, `expected '=' after the label name, found '!' at byte 4`},
		{`{job=~"api"}`, `only '=' is allowed in stream labels, not the matcher '=~' at byte 4`},
		{`{1job="x"}`, `expected a label name, found '1' at byte 1`},
		{`{job.name="x"}`, `expected '=' after the label name, found '.' at byte 4`},
		{`{,}`, `expected a label name, found ',' at byte 1`},
		{`{a="1",,}`, `expected a label name, found ',' at byte 7`},
		{`{a="1"} x`, `unexpected text after '}' at byte 8`},
		{`{a="1"}{b="2"}`, `unexpected text after '}' at byte 7`},
		{`{a="x\qy"}`, `invalid escape sequence at byte 5`},
		{`{a="\ud800"}`, `invalid escape sequence at byte 4`},
		{`{a="\'"}`, `invalid escape sequence at byte 4`},
		{`{a="open}`, `unterminated quoted string at byte 3`},
		{`{a="x\"}`, `unterminated quoted string at byte 3`},
		{"{a=`open}", "unterminated raw string at byte 3"},
		{`{""="x"}`, `empty label name at byte 3`},
		{"{\x00=\"x\"}", `expected a label name, found byte 0x00 at byte 1`},
		{`{a="1",b="2",a="3"}`, `duplicate label name "a"`},
		{`{"a"="1",a="2"}`, `duplicate label name "a"`},
	}
	for _, tc := range tests {
		var ls labelSet
		err := ls.parse(tc.in)
		if err == nil {
			t.Errorf("parse(%q) = %s, want error %q", tc.in, renderLabels(&ls), tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("parse(%q): error %q, want %q", tc.in, err, tc.want)
		}
	}
}

func TestLabelSetDuplicateWide(t *testing.T) {
	var ls labelSet
	for i := range 40 {
		ls.add(fmt.Appendf(nil, "l%02d", i), []byte("v"))
	}
	if name, dup := ls.duplicate(); dup {
		t.Fatalf("unique names: duplicate %q", name)
	}
	ls.add([]byte("l17"), []byte("w"))
	if name, dup := ls.duplicate(); !dup || string(name) != "l17" {
		t.Fatalf("duplicate() = %q, %v, want l17", name, dup)
	}
}

func TestQuoted(t *testing.T) {
	long := strings.Repeat("가", 30) // 90 bytes, cut inside a rune
	tests := []struct{ in, want string }{
		{"a\"b", `"a\"b"`},
		{"\xff", `"\xff"`},
		{long, fmt.Sprintf("%q...", long[:maxQuoted])},
	}
	for _, tc := range tests {
		if got := quoted(tc.in); got != tc.want {
			t.Errorf("quoted(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
