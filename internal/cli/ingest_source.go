package cli

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"

	"github.com/logbucket/logbucket/internal/jsonstr"
)

// countingReader counts the bytes read through it (for progress).
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// openInput opens a file argument ("-" is standard input) and undoes .gz
// and .zst compression by file name. size is the file's size on disk (0
// when unknown), read counts compressed bytes consumed.
func openInput(name string, stdin io.Reader, read *atomic.Int64) (r io.Reader, size int64, closeFn func() error, err error) {
	if name == "-" {
		return countingReader{stdin, read}, 0, func() error { return nil }, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("open %s: %w", name, err)
	}
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	var base io.Reader = bufio.NewReaderSize(countingReader{f, read}, 1<<20)
	switch {
	case strings.HasSuffix(name, ".gz"):
		zr, err := gzip.NewReader(base)
		if err != nil {
			f.Close()
			return nil, 0, nil, fmt.Errorf("read %s as gzip: %w", name, err)
		}
		return zr, size, func() error { zr.Close(); return f.Close() }, nil
	case strings.HasSuffix(name, ".zst"), strings.HasSuffix(name, ".zstd"):
		zr, err := zstd.NewReader(base)
		if err != nil {
			f.Close()
			return nil, 0, nil, fmt.Errorf("read %s as zstd: %w", name, err)
		}
		return zr, size, func() error { zr.Close(); return f.Close() }, nil
	}
	return base, size, f.Close, nil
}

// appendLine appends one input line to an NDJSON batch: a JSON object
// line as it is, anything else as {"_msg": line}.
func appendLine(dst, line []byte) []byte {
	trimmed := strings.TrimSpace(string(line))
	if strings.HasPrefix(trimmed, "{") {
		dst = append(dst, line...)
		return append(dst, '\n')
	}
	dst = append(dst, `{"_msg":`...)
	dst = jsonstr.Append(dst, string(line))
	return append(dst, '}', '\n')
}
