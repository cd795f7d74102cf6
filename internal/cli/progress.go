package cli

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"time"
)

// startProgress redraws a status line on stderr every 200ms when enabled;
// the returned function stops it and clears the line.
func (in *ingester) startProgress() func() {
	if !in.showProgress {
		return func() {}
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(in.stderr, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprint(in.stderr, "\r\033[K"+in.progressLine())
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// progressLine renders bytes read, rate and, when the size is known, the
// share done and the time left.
func (in *ingester) progressLine() string {
	secs := time.Since(in.start).Seconds()
	read := in.read.Load()
	rate := float64(in.sent.Load()) / max(secs, 1e-9)
	s := fmt.Sprintf("%s  %d lines  %.0f lines/s", humanBytes(read), in.sent.Load(), rate)
	if in.total > 0 && read > 0 {
		frac := min(float64(read)/float64(in.total), 1)
		eta := time.Duration(secs/frac*(1-frac)) * time.Second
		s = fmt.Sprintf("%s / %s (%.0f%%)  %d lines  %.0f lines/s  ETA %v", humanBytes(read), humanBytes(in.total),
			frac*100, in.sent.Load(), rate, eta.Round(time.Second))
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}
