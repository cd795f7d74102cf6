package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

type body struct {
	data  []byte
	lines int
}

func runSend(args []string) error {
	fs := flag.NewFlagSet("send", flag.ExitOnError)
	dir := fs.String("dir", "", "a format's directory written by convert")
	url := fs.String("url", "", "endpoint to POST the bodies to")
	syslogTCP := fs.String("syslog-tcp", "", "send the syslog frames to this TCP address instead")
	conc := fs.Int("c", 4, "connections")
	contentType := fs.String("content-type", "", "Content-Type (default: the format's)")
	retries := fs.Int("retries", 50, "retries of a request answered 429 or 503 (after Retry-After, at most 1 s)")
	waitURL := fs.String("wait-url", "", "after sending, poll this bucket URL (GET /api/v1/buckets/NAME) until its \"records\" reach the lines sent")
	waitTimeout := fs.Duration("wait-timeout", 10*time.Minute, "give up waiting for -wait-url after this long")
	var hdrs headers
	fs.Var(&hdrs, "header", "extra request header K:V (repeatable)")
	_ = fs.Parse(args)
	if *dir == "" || (*url == "") == (*syslogTCP == "") {
		return errors.New("send: -dir and one of -url or -syslog-tcp are required")
	}
	if *conc < 1 {
		return errors.New("send: -c must be at least 1")
	}
	mb, err := os.ReadFile(filepath.Join(*dir, "manifest.json"))
	if err != nil {
		return err
	}
	var m manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(*dir, "manifest.json"), err)
	}
	if (m.Format == "syslog") != (*syslogTCP != "") {
		return fmt.Errorf("send: format %s needs %s", m.Format, map[bool]string{true: "-syslog-tcp", false: "-url"}[m.Format == "syslog"])
	}
	// Every body is in memory before the clock starts.
	bodies := make([]body, 0, len(m.Bodies))
	for _, bi := range m.Bodies {
		data, err := os.ReadFile(filepath.Join(*dir, bi.File))
		if err != nil {
			return err
		}
		bodies = append(bodies, body{data: data, lines: bi.Lines})
	}
	ct := m.ContentType
	if *contentType != "" {
		ct = *contentType
	}
	hv := http.Header{}
	for _, h := range hdrs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("send: -header %q is not K:V", h)
		}
		hv.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}

	start := time.Now()
	var st stats
	if *syslogTCP != "" {
		err = sendSyslog(*syslogTCP, *conc, bodies, &st)
	} else {
		err = sendHTTP(*url, ct, hv, m.Format, *conc, *retries, bodies, &st)
	}
	secs := time.Since(start).Seconds()
	if err != nil {
		return err
	}
	stored := secs
	if *waitURL != "" {
		if err := waitRecords(*waitURL, st.lines.Load(), *waitTimeout); err != nil {
			return err
		}
		stored = time.Since(start).Seconds()
	}
	fmt.Printf("RESULT format=%s lines=%d requests=%d retries=%d failed=%d body_bytes=%d seconds=%.3f lines_per_s=%.0f stored_seconds=%.3f\n",
		m.Format, st.lines.Load(), st.reqs.Load(), st.retries.Load(), st.fails.Load(), st.bytes.Load(), secs,
		float64(st.lines.Load())/secs, stored)
	if st.fails.Load() > 0 {
		return fmt.Errorf("%d requests failed; first: %v", st.fails.Load(), st.firstErr.Load())
	}
	if st.lines.Load() != int64(m.Lines) {
		return fmt.Errorf("sent %d lines, the manifest has %d", st.lines.Load(), m.Lines)
	}
	return nil
}

type stats struct {
	lines, bytes, reqs, retries, fails atomic.Int64
	firstErr                           atomic.Value
}

func (s *stats) fail(err error) {
	s.fails.Add(1)
	s.firstErr.CompareAndSwap(nil, err.Error())
}

func sendHTTP(url, ct string, hv http.Header, format string, conc, retries int, bodies []body, st *stats) error {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: conc,
		MaxConnsPerHost:     conc,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Minute}
	ch := make(chan body)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ch {
				if err := post(client, url, ct, hv, format, retries, b, st); err != nil {
					st.fail(err)
					continue
				}
				st.lines.Add(int64(b.lines))
				st.bytes.Add(int64(len(b.data)))
			}
		}()
	}
	for _, b := range bodies {
		ch <- b
	}
	close(ch)
	wg.Wait()
	return nil
}

// post sends one body, retrying 429 and 503 as shippers do, and checks
// the answer of the format.
func post(client *http.Client, url, ct string, hv http.Header, format string, retries int, b body, st *stats) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(b.data))
		if err != nil {
			return err
		}
		for k, v := range hv {
			req.Header[k] = v
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := client.Do(req)
		st.reqs.Add(1)
		if err != nil {
			return err
		}
		answer, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if (resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests) && attempt < retries {
			st.retries.Add(1)
			wait := 100 * time.Millisecond
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = min(time.Duration(s)*time.Second, time.Second)
			}
			time.Sleep(wait)
			continue
		}
		return checkAnswer(format, resp.StatusCode, answer)
	}
}

// checkAnswer checks that the answer says every record was stored.
func checkAnswer(format string, status int, answer []byte) error {
	bad := func(want string) error {
		a := answer
		if len(a) > 300 {
			a = a[:300]
		}
		return fmt.Errorf("%s: HTTP %d, want %s: %s", format, status, want, bytes.TrimSpace(a))
	}
	switch format {
	case "ndjson":
		if status != http.StatusOK || !bytes.Contains(answer, []byte(`"rejected":0`)) {
			return bad(`200 with "rejected":0`)
		}
	case "esbulk":
		if status != http.StatusOK || !bytes.Contains(answer[:min(len(answer), 64)], []byte(`"errors":false`)) {
			return bad(`200 with "errors":false`)
		}
	case "loki-json", "loki-proto":
		if status != http.StatusNoContent {
			return bad("204")
		}
	case "otlp-json":
		if status != http.StatusOK || string(bytes.TrimSpace(answer)) != "{}" {
			return bad("200 {} (no partial_success)")
		}
	case "otlp-proto":
		if status != http.StatusOK || len(answer) != 0 {
			return bad("200 with an empty ExportLogsServiceResponse")
		}
	default:
		if status/100 != 2 {
			return bad("2xx")
		}
	}
	return nil
}

// sendSyslog writes the frames over conc TCP connections, each taking the
// next block of frames. Syslog has no answers: the server pushes back by
// not reading while it stores a batch.
func sendSyslog(addr string, conc int, bodies []body, st *stats) error {
	conns := make([]*net.TCPConn, conc)
	for i := range conns {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		conns[i] = c.(*net.TCPConn)
	}
	ch := make(chan body)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ch {
				st.reqs.Add(1)
				if _, err := c.Write(b.data); err != nil {
					st.fail(err)
					continue
				}
				st.lines.Add(int64(b.lines))
				st.bytes.Add(int64(len(b.data)))
			}
			// Close after the peer has read everything: CloseWrite sends
			// FIN after the data; the server then closes its side.
			if err := c.CloseWrite(); err != nil {
				st.fail(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Minute))
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}()
	}
	for _, b := range bodies {
		ch <- b
	}
	close(ch)
	wg.Wait()
	return nil
}

// waitRecords polls a bucket document until its record count reaches n.
func waitRecords(url string, n int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last int64
	for {
		resp, err := http.Get(url)
		if err == nil {
			var doc struct {
				Records int64 `json:"records"`
			}
			if resp.StatusCode == http.StatusOK {
				if err := json.NewDecoder(resp.Body).Decode(&doc); err == nil {
					last = doc.Records
				}
			}
			resp.Body.Close()
		}
		if last >= n {
			if last > n {
				return fmt.Errorf("%s holds %d records, more than the %d sent", url, last, n)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s holds %d records after %s, want %d", url, last, timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
