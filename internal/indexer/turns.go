package indexer

import (
	"math"
	"time"
)

// consumerTurns keeps a bucket's partition consumers level in record time.
//
// Each partition has its own consumer, and a partition that receives
// less data is read through faster: after a backlog (an update-day burst,
// a restart) its consumer would race hours ahead of the busy partitions,
// and every flush would then hold rows from hours apart. Parts spanning
// the whole day defeat the per-part time pruning that makes "the last
// hour" cheap, and merges cannot undo it. So a consumer that has read a
// batch later in time than some other partition's pending batch waits
// for that partition before adding its batch to the tail; the consumer
// furthest behind never waits, so all make progress. A partition more
// than turnWindow behind in record time holds nobody back once it has
// read what it had (no backlog): that is a backfill of old records
// arriving now, and it must not stall the live partitions. While it still
// has a backlog it holds the others however far behind it is: in a bulk
// load the busiest partition falls hours behind the others in record
// time, and letting them run ahead made every part of the load span most
// of the day. Waiting never delays visibility: records not yet indexed
// are read from the commit log by queries (Snapshot.Pending).
//
// Guarded by bucketIndex.mu.
type consumerTurns struct {
	at      []int64 // per partition: the time of the middle record of its last batch
	active  []bool  // per partition: it holds a batch or has more to read
	backlog []bool  // per partition: at least a batch more was waiting after its last read
}

// newConsumerTurns starts every partition as active and furthest behind,
// until its first read says where it is.
func newConsumerTurns(partitions int) consumerTurns {
	c := consumerTurns{at: make([]int64, partitions), active: make([]bool, partitions), backlog: make([]bool, partitions)}
	for p := range c.at {
		c.at[p], c.active[p] = unknown, true
	}
	return c
}

// read records that partition p read a batch whose middle record has time
// t, and whether at least a batch more waits to be read (a backlog).
func (c *consumerTurns) read(p int, t int64, backlog bool) {
	c.at[p], c.active[p], c.backlog[p] = t, true, backlog
}

// idle records that partition p has nothing more to read for now.
func (c *consumerTurns) idle(p int) { c.active[p] = false }

// turnWindow is how far behind in record time a partition may be and
// still hold the others back.
const turnWindow = int64(time.Hour)

// unknown is the time of a partition that has not read yet.
const unknown = math.MinInt64

// ahead reports whether partition p's batch is later than another active
// partition's that has a backlog or is not more than turnWindow behind.
func (c *consumerTurns) ahead(p int) bool {
	for q, t := range c.at {
		if q == p || !c.active[q] {
			continue
		}
		if t == unknown || t < c.at[p] && (c.at[p]-t <= turnWindow || c.backlog[q]) {
			return true
		}
	}
	return false
}
