package indexer

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"
)

// Merge policy: parts of one day and one level are merged, MergeFanIn at
// a time (more when more are waiting), into one part of the next level. A row is therefore rewritten
// about log_MergeFanIn(parts of a day) times: bounded write
// amplification. Level-0 parts are the flushes.
const (
	MergeFanIn    = 8
	maxMergeFanIn = 16
	maxLevel      = 8
)

// mergeLoop merges a bucket's parts in the background.
func (b *bucketIndex) mergeLoop() {
	defer b.ix.wg.Done()
	t := time.NewTicker(b.ix.opts.MergeInterval)
	defer t.Stop()
	for {
		select {
		case <-b.ix.ctx.Done():
			return
		case <-t.C:
		}
		if err := b.applyRetention(b.ix.opts.Now()); err != nil {
			b.ix.opts.Logger.Error("index retention", "bucket", b.name, "err", err)
		}
		for b.ix.ctx.Err() == nil {
			merged, err := b.mergeOnce()
			if err != nil {
				b.ix.opts.Logger.Error("merge parts", "bucket", b.name, "err", err)
				break
			}
			if !merged {
				break
			}
		}
	}
}

// pickMerge chooses parts to merge from the (day, level) with the most
// parts, when it has at least MergeFanIn: the run of up to
// maxMergeFanIn parts adjacent in time (ordered by MinTime) with the
// fewest bytes. Merging neighbours in time keeps parts time-disjoint when
// the data arrives roughly in time order, so a query over a short range
// (the last hour) opens few parts and few blocks per stream.
func pickMerge(parts []*partRef) []*partRef {
	type key struct {
		day   int64
		level int
	}
	groups := map[key][]*partRef{}
	for _, p := range parts {
		k := key{p.entry.Day, p.entry.Level}
		groups[k] = append(groups[k], p)
	}
	var best []*partRef
	var bestKey key
	for k, g := range groups {
		if len(g) < MergeFanIn || k.level >= maxLevel {
			continue
		}
		// The largest group wins; ties go to the lowest (day, level) so
		// the choice does not depend on map order.
		if len(g) > len(best) || len(g) == len(best) && (k.day < bestKey.day || k.day == bestKey.day && k.level < bestKey.level) {
			best, bestKey = g, k
		}
	}
	if best == nil {
		return nil
	}
	sort.Slice(best, func(i, j int) bool {
		a, b := best[i].entry, best[j].entry
		if a.MinTime != b.MinTime {
			return a.MinTime < b.MinTime
		}
		return a.File < b.File
	})
	n := min(len(best), maxMergeFanIn)
	start, bestBytes := 0, int64(-1)
	for i := 0; i+n <= len(best); i++ {
		var bytes int64
		for _, p := range best[i : i+n] {
			bytes += p.entry.Bytes
		}
		if bestBytes < 0 || bytes < bestBytes {
			start, bestBytes = i, bytes
		}
	}
	return best[start : start+n]
}

// mergeOnce performs one merge if the policy asks for one. The merge runs
// without locks; only the manifest swap is serialised with flushes.
func (b *bucketIndex) mergeOnce() (bool, error) {
	b.mu.Lock()
	in := pickMerge(b.parts)
	for _, r := range in {
		r.acquire()
	}
	b.mu.Unlock()
	if in == nil {
		return false, nil
	}
	defer releaseAll(in, false)
	day, level := in[0].entry.Day, in[0].entry.Level+1
	b.flushMu.Lock()
	b.man.Seq++ // reserve a name; saved with the next swap
	file := fmt.Sprintf("%08d-%012d.part", day, b.man.Seq)
	b.flushMu.Unlock()
	path := filepath.Join(b.dir, file)
	parts := make([]Part, len(in))
	for i, r := range in {
		parts[i] = r.part
	}
	st, err := b.ix.opts.Store.Merge(path, day, parts)
	if err != nil {
		_ = b.ix.opts.FS.Remove(path)
		return false, err
	}
	out, err := b.ix.opts.Store.Open(path)
	if err != nil {
		_ = b.ix.opts.FS.Remove(path)
		return false, fmt.Errorf("open merged part %s: %w", path, err)
	}
	e := partEntry{File: file, Day: day, Rows: st.Rows, Bytes: st.Bytes, MinTime: st.MinTime, MaxTime: st.MaxTime, Level: level}
	ref := newPartRef(e, out, path, b.ix.opts.FS)
	if err := b.replaceParts(in, ref); err != nil {
		releaseAll([]*partRef{ref}, true)
		return false, err
	}
	return true, nil
}
