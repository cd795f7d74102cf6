//go:build unix

package app

import (
	"fmt"
	"os"
	"syscall"
)

// flock takes an exclusive, non-blocking lock on path inside dir, so two
// servers never share a data directory. The kernel drops it on exit, even
// on kill -9.
func flock(dir, path string) (func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", dir, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory %s is in use by another logbucket process (lock %s: %w): stop it or choose another --data", dir, path, err)
	}
	return func() { f.Close() }, nil
}
