package commitlog

import (
	"container/list"
	"sync"
	"time"
)

// dedupKey identifies what one batch id stored in one partition.
type dedupKey struct {
	bucket    string
	batchID   string
	partition int
}

type dedupEntry struct {
	key   dedupKey
	rng   OffsetRange
	added int64 // unix ns
}

// dedupTable remembers the offsets of recent idempotent appends, bounded by
// age (window) and count (oldest evicted first).
type dedupTable struct {
	window time.Duration
	max    int

	mu      sync.Mutex // protects entries, order and inflight
	entries map[dedupKey]*list.Element
	order   *list.List // of *dedupEntry, oldest first
	// inflight serialises appends that carry the same batch id.
	inflight map[[2]string]chan struct{}
}

func newDedupTable(window time.Duration, max int) *dedupTable {
	return &dedupTable{window: window, max: max, entries: map[dedupKey]*list.Element{},
		order: list.New(), inflight: map[[2]string]chan struct{}{}}
}

// begin waits until no other append with the same batch id is in flight
// and marks this one; end must be called after.
func (d *dedupTable) begin(bucket, id string) (end func()) {
	k := [2]string{bucket, id}
	for {
		d.mu.Lock()
		ch, busy := d.inflight[k]
		if !busy {
			ch = make(chan struct{})
			d.inflight[k] = ch
			d.mu.Unlock()
			return func() {
				d.mu.Lock()
				delete(d.inflight, k)
				d.mu.Unlock()
				close(ch)
			}
		}
		d.mu.Unlock()
		<-ch
	}
}

// lookup returns the stored range of key if it is within the window.
func (d *dedupTable) lookup(k dedupKey, now int64) (OffsetRange, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	el, ok := d.entries[k]
	if !ok {
		return OffsetRange{}, false
	}
	e := el.Value.(*dedupEntry)
	if now-e.added > int64(d.window) {
		return OffsetRange{}, false
	}
	return e.rng, true
}

// add remembers a range, added at the given time (unix ns).
func (d *dedupTable) add(k dedupKey, rng OffsetRange, added int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if el, ok := d.entries[k]; ok {
		d.order.Remove(el)
	}
	d.entries[k] = d.order.PushBack(&dedupEntry{key: k, rng: rng, added: added})
	for d.order.Len() > d.max {
		d.evict(d.order.Front())
	}
}

// extend widens a range being rebuilt at recovery (later parts of a group).
func (d *dedupTable) extend(k dedupKey, rng OffsetRange, added int64) {
	d.mu.Lock()
	el, ok := d.entries[k]
	d.mu.Unlock()
	if ok {
		e := el.Value.(*dedupEntry)
		rng.First = min(rng.First, e.rng.First)
		rng.Last = max(rng.Last, e.rng.Last)
		added = min(added, e.added)
	}
	d.add(k, rng, added)
}

// prune drops entries older than the window.
func (d *dedupTable) prune(now int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for el := d.order.Front(); el != nil; el = d.order.Front() {
		if now-el.Value.(*dedupEntry).added <= int64(d.window) {
			return
		}
		d.evict(el)
	}
}

func (d *dedupTable) evict(el *list.Element) {
	d.order.Remove(el)
	delete(d.entries, el.Value.(*dedupEntry).key)
}

func (d *dedupTable) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}
