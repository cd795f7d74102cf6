package ship

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// fpMax is how many leading bytes of a file its fingerprint covers. Two
// files are the same file only if their device and inode are equal and the
// shorter fingerprint is a prefix of the longer one: a reused inode or a
// file truncated and written again shows different leading bytes.
const fpMax = 1024

// minCopyFP is the shortest fingerprint by which a file with another inode
// is taken for a copy of a known one (copytruncate rotation); shorter
// prefixes are too likely to be shared by unrelated files.
const minCopyFP = 64

// fileID is a file's device and inode.
type fileID struct{ dev, ino uint64 }

func (id fileID) String() string { return fmt.Sprintf("%d:%d", id.dev, id.ino) }

// fileStat is what the shipper needs of a stat answer.
type fileStat struct {
	id    fileID
	size  int64
	nlink uint64
}

// statFile stats path (following symlinks); ok is false for anything but a
// regular file.
func statFile(path string) (fileStat, bool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStat{}, false, err
	}
	st, ok := sysStat(fi)
	return st, ok && fi.Mode().IsRegular(), nil
}

// statOpen stats an open file.
func statOpen(f *os.File) (fileStat, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileStat{}, err
	}
	st, ok := sysStat(fi)
	if !ok {
		return fileStat{}, fmt.Errorf("stat %s: no device and inode on this platform", f.Name())
	}
	return st, nil
}

// fingerprint hashes the first n bytes of f; ok is false when f is shorter.
func fingerprint(f io.ReaderAt, n int) (string, bool, error) {
	if n == 0 {
		return "", true, nil
	}
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, 0)
	if got < n {
		if err == io.EOF || err == nil {
			return "", false, nil
		}
		return "", false, err
	}
	return hashPrefix(buf), true, nil
}

func hashPrefix(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// matchesFP reports whether f starts with the bytes of fingerprint fp
// (over fpLen bytes).
func matchesFP(f io.ReaderAt, fpLen int, fp string) (bool, error) {
	got, ok, err := fingerprint(f, fpLen)
	return ok && got == fp, err
}

// pathMatch reports whether pattern matches path or its base name; with
// path "" it only checks the pattern's syntax.
func pathMatch(pattern, path string) (bool, error) {
	if path == "" {
		_, err := filepath.Match(pattern, "x")
		return false, err
	}
	if ok, err := filepath.Match(pattern, path); ok || err != nil {
		return ok, err
	}
	return filepath.Match(pattern, filepath.Base(path))
}
