package indexer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/logbucket/logbucket/internal/vfs"
)

// manifest is a bucket's index state: its live parts and the next commit
// log offset to index per partition. Stored as manifest.json (version 1).
type manifest struct {
	Version int `json:"version"`
	// Next maps a partition number (decimal string) to the next offset to
	// index: every record below it is in a listed part.
	Next  map[string]int64 `json:"next"`
	Parts []partEntry      `json:"parts"`
	// Seq numbers new part files.
	Seq int64 `json:"seq"`
}

// partEntry describes one live part.
type partEntry struct {
	File    string `json:"file"`
	Day     int64  `json:"day"` // days since the unix epoch (UTC) of its records
	Rows    int64  `json:"rows"`
	Bytes   int64  `json:"bytes"`
	MinTime int64  `json:"min_time"`
	MaxTime int64  `json:"max_time"`
	Level   int    `json:"level"` // 0 for flushed parts, +1 per merge generation
}

const manifestFile = "manifest.json"

func (m *manifest) next(part int) int64 { return m.Next[strconv.Itoa(part)] }

func (m *manifest) setNext(part int, off int64) {
	if m.Next == nil {
		m.Next = map[string]int64{}
	}
	m.Next[strconv.Itoa(part)] = off
}

// loadManifest reads a bucket's manifest; a missing one is empty.
func loadManifest(fsys vfs.FS, dir string) (*manifest, error) {
	path := filepath.Join(dir, manifestFile)
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return &manifest{Version: 1, Next: map[string]int64{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open index manifest %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read index manifest %s: %w", path, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode index manifest %s: %w (move it away to rebuild the index from the commit log)", path, err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("index manifest %s has version %d; this logbucket reads version 1", path, m.Version)
	}
	if m.Next == nil {
		m.Next = map[string]int64{}
	}
	return &m, nil
}

// save replaces the manifest atomically and durably.
func (m *manifest) save(fsys vfs.FS, dir string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode index manifest: %w", err)
	}
	if err := vfs.WriteFileAtomic(fsys, dir, manifestFile, b); err != nil {
		return fmt.Errorf("save index manifest in %s: %w", dir, err)
	}
	return nil
}

// clone returns a deep copy to modify before a swap.
func (m *manifest) clone() *manifest {
	c := &manifest{Version: m.Version, Seq: m.Seq, Next: make(map[string]int64, len(m.Next)),
		Parts: append([]partEntry(nil), m.Parts...)}
	for k, v := range m.Next {
		c.Next[k] = v
	}
	return c
}
