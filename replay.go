package internalauth

import (
	"sync"
	"time"
)

// replayCache remembers verified signatures until they expire, so that
// each verifies once. It is bounded: when capacity live entries are held,
// insert fails and the request is rejected.
//
// Entries leave in insertion order once their deadline, the insertion
// time plus the longest possible lifetime, has passed. That keeps
// eviction O(1) per request without a scan; an entry may outlive its own
// expiry by up to the clock skew.
type replayCache struct {
	mu       sync.Mutex
	capacity int
	// maxAge is the largest maximum age of the middleware instances that
	// share the cache, so a reload that raises it cannot reopen a window
	// for replays of signatures recorded under a smaller one.
	maxAge   time.Duration
	expiries map[string]int64
	queue    []replayEntry
	head     int
}

type replayEntry struct {
	id       string
	expiry   int64
	deadline int64
}

type insertResult int

const (
	inserted insertResult = iota
	replayed
	cacheFull
)

func newReplayCache(capacity int) *replayCache {
	return &replayCache{capacity: capacity, expiries: make(map[string]int64)}
}

// insert records id as used until expiry, which must not be before the
// last instant at which its signature can still verify: a reuse at
// expiry itself is a replay. expiry, now and deadline are Unix
// nanoseconds. deadline must not be before expiry, and must not decrease
// between calls for eviction to stay prompt.
func (c *replayCache) insert(id string, expiry, now, deadline int64) insertResult {
	c.mu.Lock()
	defer c.mu.Unlock()

	return c.insertLocked(id, expiry, now, deadline)
}

// insertLocked does the work of insert with c.mu held.
func (c *replayCache) insertLocked(id string, expiry, now, deadline int64) insertResult {
	if c.head < len(c.queue) && c.queue[c.head].deadline < now {
		c.evict(now)
	}

	if previous, ok := c.expiries[id]; ok && previous >= now {
		return replayed
	}

	if len(c.expiries) >= c.capacity {
		return cacheFull
	}

	c.expiries[id] = expiry
	c.queue = append(c.queue, replayEntry{id: id, expiry: expiry, deadline: deadline})

	return inserted
}

// insertSignature records a verified signature until it can no longer
// verify under the largest maximum age of the cache's users: its created
// time plus that age, or its expires time when earlier.
//
// It takes the lock once and works in integer nanoseconds: under yaegi
// each function call and each time.Time method is a costly call.
func (c *replayCache) insertSignature(result *verified, now time.Time, maxAge, clockSkew time.Duration) insertResult {
	nowNanos := now.UnixNano()

	c.mu.Lock()
	defer c.mu.Unlock()

	if maxAge > c.maxAge {
		c.raiseMaxAgeLocked(maxAge)
	}

	lifetime := int64(c.maxAge)

	// checkTimes rejected a created time beyond now plus the clock skew,
	// so this product cannot overflow. expires is compared in seconds
	// first for the same reason.
	expiry := result.created*int64(time.Second) + lifetime
	if result.hasExpires && result.expires <= expiry/int64(time.Second) {
		expiry = result.expires * int64(time.Second)
	}

	return c.insertLocked(result.replayID, expiry, nowNanos, nowNanos+lifetime+int64(clockSkew))
}

// raiseMaxAge makes maxAge the cache's maximum age if it is larger, and
// extends the entries recorded under the smaller one by the difference.
// It returns the cache's maximum age.
func (c *replayCache) raiseMaxAge(maxAge time.Duration) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()

	if maxAge > c.maxAge {
		c.raiseMaxAgeLocked(maxAge)
	}

	return c.maxAge
}

// raiseMaxAgeLocked does the work of raiseMaxAge with c.mu held, for a
// maxAge larger than the cache's.
func (c *replayCache) raiseMaxAgeLocked(maxAge time.Duration) {
	if c.maxAge > 0 {
		delta := int64(maxAge - c.maxAge)

		for id := range c.expiries {
			c.expiries[id] += delta
		}

		for i := c.head; i < len(c.queue); i++ {
			c.queue[i].expiry += delta
			c.queue[i].deadline += delta
		}
	}

	c.maxAge = maxAge
}

func (c *replayCache) evict(now int64) {
	for c.head < len(c.queue) && c.queue[c.head].deadline < now {
		entry := c.queue[c.head]
		if c.expiries[entry.id] == entry.expiry {
			delete(c.expiries, entry.id)
		}

		c.queue[c.head] = replayEntry{}
		c.head++
	}

	// Reclaim the consumed front of the queue once it is half of it.
	if c.head > 0 && c.head >= len(c.queue)/2 {
		remaining := copy(c.queue, c.queue[c.head:])
		for i := remaining; i < len(c.queue); i++ {
			c.queue[i] = replayEntry{}
		}

		c.queue = c.queue[:remaining]
		c.head = 0
	}
}

func (c *replayCache) setCapacity(capacity int) {
	c.mu.Lock()
	c.capacity = capacity
	c.mu.Unlock()
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()

	return len(c.expiries)
}

// replayCaches holds one cache per middleware name. Traefik calls New
// once per router using the middleware and again on every configuration
// change. Sharing the cache by name keeps a signature from verifying
// twice across those instances.
var replayCaches = struct {
	sync.Mutex
	byName map[string]*replayCache
}{byName: make(map[string]*replayCache)}

func sharedReplayCache(name string, capacity int, maxAge time.Duration) *replayCache {
	replayCaches.Lock()
	defer replayCaches.Unlock()

	cache, ok := replayCaches.byName[name]
	if !ok {
		cache = newReplayCache(capacity)
		replayCaches.byName[name] = cache
	}

	cache.setCapacity(capacity)
	cache.raiseMaxAge(maxAge)

	return cache
}
