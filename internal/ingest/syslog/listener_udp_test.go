package syslog

import (
	"net"
	"strings"
	"testing"
	"time"
)

func TestUDPListener(t *testing.T) {
	app := newFakeAppender(nil)
	l, m := startListener(t, Config{Network: NetworkUDP, MaxMessageBytes: 100, BatchDelay: 10 * time.Millisecond, UDPReadBuffer: 1 << 20}, app)
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	long := "<14>1 - h - - - - " + strings.Repeat("x", 182)
	for _, d := range []string{string(readFixture(t, "rsyslog-omfwd-udp.bin")), "<14>1 - h a - - - lf\n", "\x00\n", "<14>1 - h a - - - nul\x00", long} {
		write(t, c, []byte(d))
	}
	got := app.waitRecords(t, 4)
	checkStored(t, got, []string{
		`msg="payment failed for order 17" stream:app_name="checkout" stream:hostname="h1" facility="local0" level="error" proc_id="4242"`,
		`msg="lf" stream:app_name="a" stream:hostname="h" facility="user" level="info"`,
		`msg="nul" stream:app_name="a" stream:hostname="h" facility="user" level="info"`,
		`msg="` + strings.Repeat("x", 82) + `" stream:hostname="h" facility="user" level="info" _truncated="200"`,
	})
	if want := time.Date(2026, 11, 21, 23, 26, 5, 794069000, time.UTC).UnixNano(); got[0].Time != want {
		t.Errorf("time %d, want %d", got[0].Time, want)
	}
	m.waitFor(t, "received:rfc5424", 3)
}

func TestUDPCloseFlushes(t *testing.T) {
	added := make(chan struct{}, 1)
	app := newFakeAppender(nil)
	l, _ := startListenerHook(t, Config{Network: NetworkUDP, BatchDelay: time.Hour}, app, func() { added <- struct{}{} })
	c, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write(t, c, []byte("<14>1 - - - - - - udp pending"))
	select {
	case <-added:
	case <-time.After(waitLimit):
		t.Fatal("the datagram was not read")
	}
	l.Close()
	if got := app.records(); len(got) != 1 || got[0].Msg != "udp pending" {
		t.Fatalf("records after Close: %v", renderStored(got))
	}
}
