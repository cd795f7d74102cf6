package indexer

import (
	"time"
)

// applyRetention drops the bucket's parts whose whole UTC day is older
// than its retention age (record time, not arrival time), with one
// manifest swap. A zero age keeps everything.
func (b *bucketIndex) applyRetention(now time.Time) error {
	if b.ix.opts.RetentionAge == nil {
		return nil
	}
	age := b.ix.opts.RetentionAge(b.name)
	if age <= 0 {
		return nil
	}
	cutoff := now.Add(-age).UnixNano()
	b.mu.Lock()
	var old []*partRef
	for _, r := range b.parts {
		if (r.entry.Day+1)*nsPerDay <= cutoff {
			old = append(old, r)
		}
	}
	b.mu.Unlock()
	if len(old) == 0 {
		return nil
	}
	if err := b.replaceParts(old, nil); err != nil {
		return err
	}
	for _, r := range old {
		b.ix.opts.Logger.Info("index retention dropped a part", "bucket", b.name,
			"day", time.Unix(0, r.entry.Day*nsPerDay).UTC().Format("2006-01-02"), "rows", r.entry.Rows)
	}
	return nil
}

// replaceParts removes drop from the bucket's parts and adds add (when not
// nil) with one manifest swap, then in memory; the dropped parts' files
// are deleted when their last reader releases them.
func (b *bucketIndex) replaceParts(drop []*partRef, add *partRef) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	gone := map[string]bool{}
	for _, r := range drop {
		gone[r.entry.File] = true
	}
	m := b.man.clone()
	kept := m.Parts[:0]
	for _, e := range m.Parts {
		if !gone[e.File] {
			kept = append(kept, e)
		}
	}
	m.Parts = kept
	if add != nil {
		m.Parts = append(m.Parts, add.entry)
	}
	if err := m.save(b.ix.opts.FS, b.dir); err != nil {
		return err
	}
	b.mu.Lock()
	b.man = m
	live := b.parts[:0]
	var dropped []*partRef
	for _, r := range b.parts {
		if gone[r.entry.File] {
			dropped = append(dropped, r)
			continue
		}
		live = append(live, r)
	}
	if add != nil {
		live = append(live, add)
	}
	b.parts = live
	b.mu.Unlock()
	releaseAll(dropped, true)
	return nil
}
