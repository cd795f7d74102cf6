//go:build !unix

package ship

import (
	"errors"
	"os"
)

// File identity (device and inode) is only read on Unix systems.
func sysStat(fi os.FileInfo) (fileStat, bool) { return fileStat{}, false }

func lockDir(dir string) (*os.File, error) {
	return nil, errors.New("logbucket ship runs on Unix systems only")
}
