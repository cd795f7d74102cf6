package server

import "sync"

// memoryBudget bounds the bytes that in-flight ingest requests hold.
// Acquisition never blocks: a request that does not fit is refused with
// 503 and Retry-After, so memory stays flat however hard clients push.
type memoryBudget struct {
	mu    sync.Mutex // protects used
	used  int64
	limit int64
}

func newMemoryBudget(limit int64) *memoryBudget { return &memoryBudget{limit: limit} }

// tryAcquire reserves n bytes if they fit.
func (b *memoryBudget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

// release returns n bytes.
func (b *memoryBudget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// inUse returns the reserved bytes.
func (b *memoryBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// reservation is what one request holds; release it once.
type reservation struct {
	b *memoryBudget
	n int64
}

// grow reserves n more bytes for the same request.
func (r *reservation) grow(n int64) bool {
	if !r.b.tryAcquire(n) {
		return false
	}
	r.n += n
	return true
}

func (r *reservation) release() {
	r.b.release(r.n)
	r.n = 0
}
