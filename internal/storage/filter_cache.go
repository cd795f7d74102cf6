package storage

import (
	"container/list"
	"fmt"
	"sync"
)

// FilterCache keeps the parsed bloom filters of recently used parts within
// a byte budget, so that queries do not re-read them but memory does not
// grow with the data stored: whole parts' filter sets are evicted least
// recently used first. It is safe for concurrent use; concurrent misses
// on one part read it once.
type FilterCache struct {
	limit int64

	mu     sync.Mutex // protects used, lru, byPart
	used   int64
	lru    *list.List // of *filterSet, most recently used first
	byPart map[*Part]*list.Element
}

// filterSet is one part's filters, loaded once.
type filterSet struct {
	part    *Part
	once    sync.Once
	filters []*Filter
	err     error
	bytes   int64 // counted in FilterCache.used once loaded
}

// filterOverhead is the memory a parsed filter costs beyond its bits.
const filterOverhead = 96

// NewFilterCache returns a cache of at most limit bytes (at least one
// part's filters are kept while in use, whatever the limit).
func NewFilterCache(limit int64) *FilterCache {
	return &FilterCache{limit: limit, lru: list.New(), byPart: map[*Part]*list.Element{}}
}

// Filter returns block i's filter of p, reading all of p's filters on a
// miss (one read).
func (c *FilterCache) Filter(p *Part, i int) (*Filter, error) {
	filters, err := c.Filters(p)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(filters) {
		return nil, fmt.Errorf("read filter %d of %s: no such block", i, p.path)
	}
	return filters[i], nil
}

// Filters returns every block's filter of p (filters[i] is block i's),
// reading them on a miss (one read). Shared: do not modify.
func (c *FilterCache) Filters(p *Part) ([]*Filter, error) {
	c.mu.Lock()
	el := c.byPart[p]
	if el == nil {
		el = c.lru.PushFront(&filterSet{part: p})
		c.byPart[p] = el
	} else {
		c.lru.MoveToFront(el)
	}
	fs := el.Value.(*filterSet)
	c.mu.Unlock()
	fs.once.Do(func() {
		fs.filters, fs.err = p.ReadFilters()
		if fs.err != nil {
			c.drop(el)
			return
		}
		size := int64(0)
		for _, f := range fs.filters {
			size += int64(len(f.words)*8) + filterOverhead
		}
		c.mu.Lock()
		if c.byPart[p] == el { // not evicted while loading
			fs.bytes = size
			c.used += size
			c.evictLocked(el)
		}
		c.mu.Unlock()
	})
	if fs.err != nil {
		return nil, fs.err
	}
	return fs.filters, nil
}

// drop removes a failed entry (the next use reads again).
func (c *FilterCache) drop(el *list.Element) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fs := el.Value.(*filterSet)
	if c.byPart[fs.part] == el {
		delete(c.byPart, fs.part)
		c.lru.Remove(el)
	}
}

// evictLocked drops least recently used sets until the cache fits, never
// keep itself.
func (c *FilterCache) evictLocked(keep *list.Element) {
	// keep may be anywhere in the list (other parts were used while it
	// loaded): skip it, not stop at it.
	for el := c.lru.Back(); el != nil && c.used > c.limit; {
		prev := el.Prev()
		if el != keep {
			fs := el.Value.(*filterSet)
			c.lru.Remove(el)
			delete(c.byPart, fs.part)
			c.used -= fs.bytes
		}
		el = prev
	}
}

// Used returns the bytes held.
func (c *FilterCache) Used() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}
