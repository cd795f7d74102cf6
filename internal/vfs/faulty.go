package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// Op names a filesystem operation that Faulty can fail.
type Op string

// The operations Faulty can fail.
const (
	OpCreate Op = "create" // OpenFile with O_CREATE
	OpWrite  Op = "write"
	OpSync   Op = "sync" // File.Sync and SyncDir
	OpRename Op = "rename"
	OpRemove Op = "remove"
	OpTrunc  Op = "truncate"
)

// ErrInjected is the error Faulty returns for an injected failure.
var ErrInjected = errors.New("injected I/O error")

// Faulty wraps an FS and fails the Nth call of an operation, once or from
// then on (SQLite's method for testing I/O error handling). A failed Write
// writes nothing. Safe for concurrent use.
type Faulty struct {
	FS FS

	mu sync.Mutex // protects every field below
	// counts holds how many times each Op was called.
	counts map[Op]int
	rules  map[Op]faultRule
}

type faultRule struct {
	nth        int
	persistent bool
}

var _ FS = (*Faulty)(nil)

// NewFaulty wraps fsys.
func NewFaulty(fsys FS) *Faulty {
	return &Faulty{FS: fsys, counts: map[Op]int{}, rules: map[Op]faultRule{}}
}

// FailAt makes the nth call (1-based, counted from now) of op fail; with
// persistent, every later call fails too.
func (f *Faulty) FailAt(op Op, nth int, persistent bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[op] = 0
	f.rules[op] = faultRule{nth: nth, persistent: persistent}
}

// Heal removes every rule.
func (f *Faulty) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = map[Op]faultRule{}
}

// Count returns how many times op was called since its rule was set.
func (f *Faulty) Count(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[op]
}

func (f *Faulty) check(op Op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[op]++
	r, ok := f.rules[op]
	if !ok {
		return nil
	}
	n := f.counts[op]
	if n == r.nth || (r.persistent && n > r.nth) {
		return &os.PathError{Op: string(op), Path: name, Err: ErrInjected}
	}
	return nil
}

// OpenFile opens a file; with O_CREATE it counts as OpCreate.
func (f *Faulty) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if flag&os.O_CREATE != 0 {
		if err := f.check(OpCreate, name); err != nil {
			return nil, err
		}
	}
	file, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

// Remove removes a file.
func (f *Faulty) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return err
	}
	return f.FS.Remove(name)
}

// Rename renames a file.
func (f *Faulty) Rename(oldname, newname string) error {
	if err := f.check(OpRename, oldname); err != nil {
		return err
	}
	return f.FS.Rename(oldname, newname)
}

// MkdirAll creates directories.
func (f *Faulty) MkdirAll(name string, perm fs.FileMode) error { return f.FS.MkdirAll(name, perm) }

// ReadDir lists a directory.
func (f *Faulty) ReadDir(name string) ([]fs.DirEntry, error) { return f.FS.ReadDir(name) }

// Stat describes a file.
func (f *Faulty) Stat(name string) (fs.FileInfo, error) { return f.FS.Stat(name) }

// SyncDir fsyncs a directory; it counts as OpSync.
func (f *Faulty) SyncDir(name string) error {
	if err := f.check(OpSync, name); err != nil {
		return err
	}
	return f.FS.SyncDir(name)
}

type faultyFile struct {
	File
	fs *Faulty
}

func (f *faultyFile) Write(p []byte) (int, error) {
	if err := f.fs.check(OpWrite, f.Name()); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

func (f *faultyFile) Sync() error {
	if err := f.fs.check(OpSync, f.Name()); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *faultyFile) Truncate(size int64) error {
	if err := f.fs.check(OpTrunc, f.Name()); err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	return f.File.Truncate(size)
}
