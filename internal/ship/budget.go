package ship

import (
	"context"
	"sync"
)

// budget bounds the bytes of batches being built, queued or sent, across
// all files. take never blocks (a batch that grows takes what it needs);
// readers call waitUnder before reading more and, before that, hand their
// partial batch to the sender, so every byte taken belongs to a batch that
// is on its way and will be given back: the budget cannot deadlock. It is
// exceeded by at most one record and one chunk per file. Safe for
// concurrent use.
type budget struct {
	max int64

	mu   sync.Mutex // protects used and free
	used int64
	free chan struct{} // closed and replaced when bytes are given back
}

func newBudget(max int64) *budget { return &budget{max: max, free: make(chan struct{})} }

func (b *budget) take(n int64) {
	b.mu.Lock()
	b.used += n
	b.mu.Unlock()
}

func (b *budget) give(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	close(b.free)
	b.free = make(chan struct{})
	b.mu.Unlock()
}

func (b *budget) over() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used > b.max
}

func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// waitUnder blocks until the budget is not exceeded or ctx ends.
func (b *budget) waitUnder(ctx context.Context) error {
	for {
		b.mu.Lock()
		if b.used <= b.max {
			b.mu.Unlock()
			return nil
		}
		ch := b.free
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
