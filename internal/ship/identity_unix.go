//go:build unix

package ship

import (
	"os"
	"syscall"
)

func sysStat(fi os.FileInfo) (fileStat, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStat{}, false
	}
	return fileStat{id: fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, size: fi.Size(), nlink: uint64(st.Nlink)}, true
}

// lockDir takes an exclusive lock on dir/lock, so that two shippers never
// share one state directory.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(dir+"/lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
