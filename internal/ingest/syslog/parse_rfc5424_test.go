package syslog

import (
	"testing"
)

type parseCase struct {
	name, in, want string
}

func runParseCases(t *testing.T, p Parser, cases []parseCase) {
	t.Helper()
	var m Message
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p.Parse([]byte(tc.in), testNow, &m)
			if got := renderMessage(&m); got != tc.want {
				t.Errorf("Parse(%q)\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseRFC5424(t *testing.T) {
	const bomText = "\xEF\xBB\xBF"
	runParseCases(t, Parser{}, []parseCase{
		// The examples of RFC 5424 section 6.5.
		{"rfc example 1", "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " + bomText + "'su root' failed for lonvick on /dev/pts/8",
			`rfc5424 pri=34 time=2003-10-11T22:14:15.003Z host=mymachine.example.com app=su msgid=ID47 msg="'su root' failed for lonvick on /dev/pts/8"`},
		{"rfc example 2", `<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.`,
			`rfc5424 pri=165 time=2003-08-24T12:14:15.000003Z host=192.0.2.1 app=myproc pid=8710 msg="%% It's time to make the do-nuts."`},
		{"rfc example 3", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ` + bomText + `An application event log entry...`,
			`rfc5424 pri=165 time=2003-10-11T22:14:15.003Z host=mymachine.example.com app=evntslog msgid=ID47 [exampleSDID@32473 iut="3"] [exampleSDID@32473 eventSource="Application"] [exampleSDID@32473 eventID="1011"] msg="An application event log entry..."`},
		{"rfc example 4 no msg", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`,
			`rfc5424 pri=165 time=2003-10-11T22:14:15.003Z host=mymachine.example.com app=evntslog msgid=ID47 [exampleSDID@32473 iut="3"] [exampleSDID@32473 eventSource="Application"] [exampleSDID@32473 eventID="1011"] [examplePriority@32473 class="high"]`},

		// The captures of ecosystem.md B.1-B.3.
		{"syslog-ng", `<131>1 2026-11-21T23:25:07+00:00 h1 checkout 4242 - [timeQuality tzKnown="1" isSynced="0"][meta@32473 trace_id="abc123"] payment failed for order 17` + "\n",
			`rfc5424 pri=131 time=2026-11-21T23:25:07Z host=h1 app=checkout pid=4242 [timeQuality tzKnown="1"] [timeQuality isSynced="0"] [meta@32473 trace_id="abc123"] msg="payment failed for order 17"`},
		{"rsyslog legacy leading space", "<77>1 2026-11-21T23:26:05.794069+00:00 h1 cron - - -  job nightly finished in 42s\n",
			`rfc5424 pri=77 time=2026-11-21T23:26:05.794069Z host=h1 app=cron msg="job nightly finished in 42s"`},
		{"loggen bom", "<38>1 2026-11-21T23:27:00+00:00 localhost prg00000 1234 - - " + bomText + "seq: 0000000000, thread: 0000",
			`rfc5424 pri=38 time=2026-11-21T23:27:00Z host=localhost app=prg00000 pid=1234 msg="seq: 0000000000, thread: 0000"`},

		// Structured data.
		{"escapes", `<13>1 - - - - - [x@1 a="q\"u\\o\]t" b="back\slash" c="" d="a]b"] m`,
			`rfc5424 pri=13 [x@1 a="q\"u\\o]t"] [x@1 b="back\\slash"] [x@1 c=""] [x@1 d="a]b"] msg="m"`},
		{"escapes in two elements", `<13>1 - - - - - [a b="\\"][c d="x\"y" e="plain"]`,
			`rfc5424 pri=13 [a b="\\"] [c d="x\"y"] [c e="plain"]`},
		{"element without params", `<13>1 - - - - - [origin][x y="1"] m`, `rfc5424 pri=13 [x y="1"] msg="m"`},
		{"msg right after sd", `<13>1 - - - - - [x y="1"]m`, `rfc5424 pri=13 [x y="1"] msg="m"`},
		{"unterminated value", `<13>1 - h a - - [x@1 a="unterminated] rest`,
			`rfc5424 pri=13 host=h app=a msg="[x@1 a=\"unterminated] rest"`},
		{"sd missing bracket", `<13>1 - h a - - [x@1 a="1" m`, `rfc5424 pri=13 host=h app=a msg="[x@1 a=\"1\" m"`},
		{"sd param without quotes", `<13>1 - h a - - [x a=1] m`, `rfc5424 pri=13 host=h app=a msg="[x a=1] m"`},
		{"empty sd id", `<13>1 - h a - - [ a="1"] m`, `rfc5424 pri=13 host=h app=a msg="[ a=\"1\"] m"`},

		// NILVALUE and missing parts.
		{"all nil", `<13>1 - - - - - -`, `rfc5424 pri=13`},
		{"all nil with msg", `<13>1 - - - - - - hello`, `rfc5424 pri=13 msg="hello"`},
		{"no sd no msg", `<13>1 - host app 12 id`, `rfc5424 pri=13 host=host app=app pid=12 msgid=id`},
		{"crlf trimmed", "<13>1 - - - - - - hello\r\n", `rfc5424 pri=13 msg="hello"`},
		{"version 2", `<13>2 - - - - - - x`, `rfc5424 pri=13 msg="x"`},
		{"pri 0", `<0>1 - - - - - - x`, `rfc5424 pri=0 msg="x"`},
		{"pri 191", `<191>1 - - - - - - x`, `rfc5424 pri=191 msg="x"`},

		// Timestamps.
		{"nanoseconds lower case", `<13>1 2026-11-21t23:25:07.123456789z - - - - -`, `rfc5424 pri=13 time=2026-11-21T23:25:07.123456789Z`},
		{"offset without colon", `<13>1 2026-11-21T23:25:07+0900 - - - - -`, `rfc5424 pri=13 time=2026-11-21T14:25:07Z`},
		{"more than 9 fraction digits", `<13>1 2026-11-21T23:25:07.1234567891234Z - - - - -`, `rfc5424 pri=13 time=2026-11-21T23:25:07.123456789Z`},
		{"leap day", `<13>1 2024-02-29T00:00:00Z - - - - -`, `rfc5424 pri=13 time=2024-02-29T00:00:00Z`},

		// Not RFC 5424 after all: kept whole as RFC 3164 text.
		{"bad month", `<13>1 2026-13-01T00:00:00Z h a - - - msg`, `rfc3164 pri=13 msg="1 2026-13-01T00:00:00Z h a - - - msg"`},
		{"feb 29 of a common year", `<13>1 2026-02-29T00:00:00Z h a - - - msg`, `rfc3164 pri=13 msg="1 2026-02-29T00:00:00Z h a - - - msg"`},
		{"no offset", `<13>1 2026-11-21T23:25:07 h a - - - msg`, `rfc3164 pri=13 msg="1 2026-11-21T23:25:07 h a - - - msg"`},
		{"year out of range", `<13>1 0001-01-01T00:00:00Z h a - - - msg`, `rfc3164 pri=13 msg="1 0001-01-01T00:00:00Z h a - - - msg"`},
		{"double space", `<13>1  - - - - - x`, `rfc3164 pri=13 msg="1  - - - - - x"`},
		{"missing fields", `<13>1 - host`, `rfc3164 pri=13 msg="1 - host"`},
		{"sd neither nil nor element", `<13>1 - h a - - hello`, `rfc3164 pri=13 msg="1 - h a - - hello"`},
		{"dash glued to msg", `<13>1 - h a - - -hello`, `rfc3164 pri=13 msg="1 - h a - - -hello"`},
	})
}

func TestParseUnparsed(t *testing.T) {
	runParseCases(t, Parser{}, []parseCase{
		{"empty", "", `unparsed`},
		{"only newline", "\n", `unparsed`},
		{"plain text", "hello world\n", `unparsed msg="hello world"`},
		{"pri too big", "<192>1 - - - - - - x", `unparsed msg="<192>1 - - - - - - x"`},
		{"pri four digits", "<0013>x", `unparsed msg="<0013>x"`},
		{"pri empty", "<>x", `unparsed msg="<>x"`},
		{"pri unterminated", "<13", `unparsed msg="<13"`},
		{"pri letters", "<1a>x", `unparsed msg="<1a>x"`},
		{"leading space kept", "  hello", `unparsed msg="  hello"`},
	})
}
