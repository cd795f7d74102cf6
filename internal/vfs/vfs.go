// Package vfs is the small filesystem interface every durable component of
// logbucket does its file I/O through, so that tests can fail the Nth
// create, write, fsync or rename (see Faulty) and prove that no data is
// acknowledged that was not made durable.
//
// OS is the real implementation. Implementations are safe for concurrent
// use; a File is used by one goroutine at a time unless its methods say
// otherwise (ReadAt may be called concurrently with itself and with Write).
package vfs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
)

// File is an open file.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Closer
	// Sync commits the file's contents to stable storage (fdatasync where
	// the platform has it).
	Sync() error
	Truncate(size int64) error
	Stat() (fs.FileInfo, error)
	Name() string
}

// FS is a filesystem.
type FS interface {
	// OpenFile is os.OpenFile.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Remove(name string) error
	Rename(oldname, newname string) error
	MkdirAll(name string, perm fs.FileMode) error
	ReadDir(name string) ([]fs.DirEntry, error)
	Stat(name string) (fs.FileInfo, error)
	// SyncDir fsyncs a directory so that creates, renames and removes in
	// it survive a power loss.
	SyncDir(name string) error
}

// OS is the operating system's filesystem.
type OS struct{}

var _ FS = OS{}

// OpenFile opens a file with os.OpenFile.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// Remove removes a file or empty directory.
func (OS) Remove(name string) error { return os.Remove(name) }

// Rename renames a file atomically.
func (OS) Rename(oldname, newname string) error { return os.Rename(oldname, newname) }

// MkdirAll creates a directory and its parents.
func (OS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }

// ReadDir lists a directory sorted by name.
func (OS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// Stat describes a file.
func (OS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// SyncDir fsyncs a directory.
func (OS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("open directory %s for sync: %w", name, err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("sync directory %s: %w", name, serr)
	}
	return cerr
}

type osFile struct{ *os.File }

func (f osFile) Sync() error { return fdatasync(f.File) }

// WriteFileAtomic writes data to name durably: it writes a temporary file
// beside it, fsyncs it, renames it over name and fsyncs the directory. A
// crash leaves either the old or the new content, never a mix.
func WriteFileAtomic(fsys FS, dir, name string, data []byte) error {
	tmp := dir + "/" + name + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, dir+"/"+name); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return fsys.SyncDir(dir)
}
