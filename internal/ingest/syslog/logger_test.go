package syslog

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logbucket/logbucket/internal/model"
)

// TestLoggerCommand sends messages with util-linux logger(1), a real
// sender, over UDP (RFC 3164) and TCP (RFC 5424 octet counted, and RFC
// 3164 newline framed).
func TestLoggerCommand(t *testing.T) {
	loggerPath, err := exec.LookPath("logger")
	if err != nil {
		t.Skip("logger (util-linux) is not installed")
	}
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".") // logger sends the short name
	run := func(t *testing.T, port string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		args = append([]string{"--server", "127.0.0.1", "--port", port}, args...)
		if out, err := exec.CommandContext(ctx, loggerPath, args...).CombinedOutput(); err != nil {
			t.Fatalf("logger %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	portOf := func(l *Listener) string {
		_, port, _ := strings.Cut(l.Addr().String(), "127.0.0.1:")
		return port
	}
	// logger timestamps have at most microseconds: allow for the cut.
	checkRecent := func(t *testing.T, ns int64, start time.Time) {
		t.Helper()
		if ts := time.Unix(0, ns); ts.Before(start.Truncate(time.Second)) || ts.After(time.Now()) {
			t.Errorf("time %s is not between %s and now", ts, start)
		}
	}

	t.Run("udp rfc3164", func(t *testing.T) {
		app := newFakeAppender(nil)
		// logger writes RFC 3164 timestamps in local time.
		l, _ := startListener(t, Config{Network: NetworkUDP, BatchDelay: 10 * time.Millisecond, TimeZone: "Local"}, app)
		start := time.Now()
		run(t, portOf(l), "--udp", "--rfc3164", "--tag", "syslogtest", "--id=4242", "-p", "local3.warning", "hello udp 3164")
		got := app.waitRecords(t, 1)
		checkStored(t, got, []string{
			`msg="hello udp 3164" stream:app_name="syslogtest" stream:hostname=` + strconv.Quote(host) + ` facility="local3" level="warning" proc_id="4242"`,
		})
		checkRecent(t, got[0].Time, start)
	})

	t.Run("tcp rfc5424 octet count", func(t *testing.T) {
		app := newFakeAppender(nil)
		l, _ := startListener(t, Config{Network: NetworkTCP}, app)
		start := time.Now()
		run(t, portOf(l), "--tcp", "--rfc5424", "--octet-count", "--tag", "t5", "--id=77", "-p", "daemon.err",
			"--msgid", "M1", "--sd-id", "zoo@123", "--sd-param", `tiger="hungry \"cat\""`, "hello tcp 5424")
		got := app.waitRecords(t, 1)
		checkStored(t, got, []string{
			`msg="hello tcp 5424" stream:app_name="t5" stream:hostname=` + strconv.Quote(host) +
				` facility="daemon" level="error" proc_id="77" msg_id="M1" timeQuality.tzKnown="1" timeQuality.isSynced="0" zoo@123.tiger="hungry \"cat\""`,
		})
		checkRecent(t, got[0].Time, start)
	})

	t.Run("tcp rfc3164 newline", func(t *testing.T) {
		app := newFakeAppender(nil)
		l, _ := startListener(t, Config{Network: NetworkTCP}, app)
		run(t, portOf(l), "--tcp", "--rfc3164", "--tag", "nl", "-p", "user.info", "first line")
		run(t, portOf(l), "--tcp", "--rfc3164", "--tag", "nl", "-p", "user.info", "second line")
		got := app.waitRecords(t, 2) // from two connections: in either order
		slices.SortFunc(got, func(a, b model.Record) int { return strings.Compare(a.Msg, b.Msg) })
		checkStored(t, got, []string{
			`msg="first line" stream:app_name="nl" stream:hostname=` + strconv.Quote(host) + ` facility="user" level="info"`,
			`msg="second line" stream:app_name="nl" stream:hostname=` + strconv.Quote(host) + ` facility="user" level="info"`,
		})
	})
}
