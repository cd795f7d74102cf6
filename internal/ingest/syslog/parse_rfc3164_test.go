package syslog

import (
	"strings"
	"testing"
	"time"
)

func TestParseRFC3164(t *testing.T) {
	runParseCases(t, Parser{}, []parseCase{
		// The examples of RFC 3164 section 5.4 (received in 2026).
		{"rfc example 1", `<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
			`rfc3164 pri=34 time=2026-10-11T22:14:15Z host=mymachine app=su msg="'su root' failed for lonvick on /dev/pts/8"`},
		{"rfc example 2 no tag", `<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!`,
			`rfc3164 pri=13 time=2026-02-05T17:32:18Z host=10.0.0.99 msg="Use the BFG!"`},
		{"rfc example 3 tag with colon", `<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK #`,
			`rfc3164 pri=165 time=2026-08-24T05:34:00Z host=CST msg="1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK #"`},

		// rsyslog omfwd UDP, RSYSLOG_ForwardFormat (ecosystem.md B.2).
		{"rsyslog forward format", `<131>2026-11-21T23:26:05.794069+00:00 h1 checkout[4242] payment failed for order 17`,
			`rfc3164 pri=131 time=2026-11-21T23:26:05.794069Z host=h1 app=checkout pid=4242 msg="payment failed for order 17"`},
		{"rsyslog leading space", `<13>Nov 21 23:26:05 h1 cron:  job nightly finished in 42s`,
			`rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 app=cron msg="job nightly finished in 42s"`},
		{"bom", "<13>Nov 21 23:26:05 h1 app: \xEF\xBB\xBFhello", `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 app=app msg="hello"`},

		// Hostname and tag.
		{"tag with pid", `<30>Nov 21 23:26:05 web1 sshd[812]: Accepted publickey`,
			`rfc3164 pri=30 time=2026-11-21T23:26:05Z host=web1 app=sshd pid=812 msg="Accepted publickey"`},
		{"missing hostname", `<34>Oct 11 22:14:15 su: 'su root' failed`, `rfc3164 pri=34 time=2026-10-11T22:14:15Z app=su msg="'su root' failed"`},
		{"missing hostname with pid", `<30>Nov 21 23:26:05 systemd[1]: Started foo.`, `rfc3164 pri=30 time=2026-11-21T23:26:05Z app=systemd pid=1 msg="Started foo."`},
		{"slash in tag", `<22>Nov 21 23:26:05 mx postfix/smtpd[77]: connect`, `rfc3164 pri=22 time=2026-11-21T23:26:05Z host=mx app=postfix/smtpd pid=77 msg="connect"`},
		{"kernel", `<6>Nov 21 23:26:05 h1 kernel: [ 12.345] usb 1-1: new device`, `rfc3164 pri=6 time=2026-11-21T23:26:05Z host=h1 app=kernel msg="[ 12.345] usb 1-1: new device"`},
		{"url is not a tag", `<13>Nov 21 23:26:05 h1 http://example.com is down`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 msg="http://example.com is down"`},
		{"tag at end", `<13>Nov 21 23:26:05 h1 app:`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 app=app`},
		{"tag too long", `<13>Nov 21 23:26:05 h1 ` + strings.Repeat("t", 129) + `: m`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 msg="` + strings.Repeat("t", 129) + `: m"`},
		{"empty pid", `<13>Nov 21 23:26:05 h1 app[]: m`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 msg="app[]: m"`},
		{"pid glued to text", `<13>Nov 21 23:26:05 h1 app[1]x m`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 msg="app[1]x m"`},
		{"hostname only", `<13>Nov 21 23:26:05 h1`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z msg="h1"`},
		{"timestamp only", `<13>Nov 21 23:26:05`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z`},
		{"multi-line", "<13>Nov 21 23:26:05 h1 app: line 1\nline 2\n", `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 app=app msg="line 1\nline 2"`},

		// Timestamps.
		{"zero padded day", `<13>Nov 01 23:26:05 h1 a: m`, `rfc3164 pri=13 time=2026-11-01T23:26:05Z host=h1 app=a msg="m"`},
		{"unpadded day", `<13>Nov 1 23:26:05 h1 a: m`, `rfc3164 pri=13 time=2026-11-01T23:26:05Z host=h1 app=a msg="m"`},
		{"lower case month", `<13>nov 21 23:26:05 h1 a: m`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 app=a msg="m"`},
		{"fraction", `<13>Nov 21 23:26:05.123456 h1 a: m`, `rfc3164 pri=13 time=2026-11-21T23:26:05.123456Z host=h1 app=a msg="m"`},
		{"cisco year", `<13>Nov 21 2025 23:26:05 h1 a: m`, `rfc3164 pri=13 time=2025-11-21T23:26:05Z host=h1 app=a msg="m"`},
		{"iso with offset", `<13>2026-11-21T23:26:05+09:00 h1 a: m`, `rfc3164 pri=13 time=2026-11-21T14:26:05Z host=h1 app=a msg="m"`},
		{"iso without offset", `<13>2026-11-21T23:26:05.5 h1 a: m`, `rfc3164 pri=13 time=2026-11-21T23:26:05.5Z host=h1 app=a msg="m"`},
		{"within a day ahead is this year", `<13>Nov 23 02:59:59 h1 a: m`, `rfc3164 pri=13 time=2026-11-23T02:59:59Z host=h1 app=a msg="m"`},
		{"over a day ahead is last year", `<13>Nov 23 03:00:01 h1 a: m`, `rfc3164 pri=13 time=2025-11-23T03:00:01Z host=h1 app=a msg="m"`},

		// No usable timestamp: the rest is the message (a tag is still found).
		{"no timestamp", `<13>hello world`, `rfc3164 pri=13 msg="hello world"`},
		{"no timestamp tag", `<14>myapp: started`, `rfc3164 pri=14 app=myapp msg="started"`},
		{"clock is not a tag", `<13>12:30 lunch`, `rfc3164 pri=13 msg="12:30 lunch"`},
		{"invalid date", `<13>Feb 30 10:00:00 h a: m`, `rfc3164 pri=13 msg="Feb 30 10:00:00 h a: m"`},
		{"bad hour", `<13>Nov 21 24:00:00 h a: m`, `rfc3164 pri=13 msg="Nov 21 24:00:00 h a: m"`},
		{"timestamp glued", `<13>Nov 21 23:26:05: m`, `rfc3164 pri=13 msg="Nov 21 23:26:05: m"`},
		{"pri only", `<13>`, `rfc3164 pri=13`},
		{"space after pri", `<13> Nov 21 23:26:05 h1 a: m`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 app=a msg="m"`},
	})
}

func TestParseRFC3164Year(t *testing.T) {
	var m Message
	for _, tc := range []struct {
		now  time.Time
		in   string
		want string
	}{
		{time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC), "<13>Dec 31 23:59:00 h a: m", "2025-12-31T23:59:00Z"},
		{time.Date(2026, 1, 1, 0, 30, 0, 0, time.UTC), "<13>Jan  1 00:10:00 h a: m", "2026-01-01T00:10:00Z"},
		{time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), "<13>Jan  1 00:10:00 h a: m", "2026-01-01T00:10:00Z"},
		{time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC), "<13>Feb 29 12:00:00 h a: m", "2028-02-29T12:00:00Z"},
	} {
		Parser{}.Parse([]byte(tc.in), tc.now, &m)
		if got := time.Unix(0, m.Time).UTC().Format(time.RFC3339Nano); !m.HasTime || got != tc.want {
			t.Errorf("now %s, %q: time %s (has %v), want %s", tc.now, tc.in, got, m.HasTime, tc.want)
		}
	}
}

func TestParseRFC3164Location(t *testing.T) {
	seoul := time.FixedZone("KST", 9*3600)
	runParseCases(t, Parser{Location: seoul}, []parseCase{
		{"stamp in location", `<13>Nov 21 23:26:05 h1 a: m`, `rfc3164 pri=13 time=2026-11-21T14:26:05Z host=h1 app=a msg="m"`},
		{"iso without offset in location", `<13>2026-11-21T23:26:05 h1 a: m`, `rfc3164 pri=13 time=2026-11-21T14:26:05Z host=h1 app=a msg="m"`},
		{"offset wins", `<13>2026-11-21T23:26:05Z h1 a: m`, `rfc3164 pri=13 time=2026-11-21T23:26:05Z host=h1 app=a msg="m"`},
		{"rfc5424 ignores location", `<13>1 2026-11-21T23:26:05Z h1 a - - -`, `rfc5424 pri=13 time=2026-11-21T23:26:05Z host=h1 app=a`},
	})
}
