package internalauth

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplayCacheInsertAndReplay(t *testing.T) {
	cache := newReplayCache(10)
	now := time.Unix(1000, 0).UnixNano()
	expiry := now + int64(time.Minute)
	deadline := now + int64(2*time.Minute)

	assert.Equal(t, inserted, cache.insert("k\x00n1", expiry, now, deadline))
	assert.Equal(t, replayed, cache.insert("k\x00n1", expiry, now+1, deadline))
	assert.Equal(t, inserted, cache.insert("k\x00n2", expiry, now+1, deadline))
	assert.Equal(t, 2, cache.len())
}

func TestReplayCacheFullFailsClosed(t *testing.T) {
	cache := newReplayCache(2)
	now := time.Unix(1000, 0).UnixNano()
	expiry := now + int64(time.Minute)

	assert.Equal(t, inserted, cache.insert("a", expiry, now, expiry))
	assert.Equal(t, inserted, cache.insert("b", expiry, now, expiry))
	assert.Equal(t, cacheFull, cache.insert("c", expiry, now, expiry))
	assert.Equal(t, replayed, cache.insert("a", expiry, now, expiry), "a replay is reported even when full")
}

func TestReplayCacheEvictsAfterDeadline(t *testing.T) {
	cache := newReplayCache(2)
	start := time.Unix(1000, 0).UnixNano()
	expiry := start + int64(time.Minute)
	deadline := start + int64(90*time.Second)

	cache.insert("a", expiry, start, deadline)
	cache.insert("b", expiry, start, deadline)

	// Past the expiry but before the deadline the entries stay, and a
	// reuse is no longer a replay because the signature has expired.
	atExpiry := expiry + 1
	assert.Equal(t, cacheFull, cache.insert("c", atExpiry+int64(time.Minute), atExpiry, atExpiry+int64(90*time.Second)))

	afterDeadline := deadline + 1
	assert.Equal(t, inserted, cache.insert("c", afterDeadline+int64(time.Minute), afterDeadline,
		afterDeadline+int64(90*time.Second)))
	assert.Equal(t, 1, cache.len())
	assert.Len(t, cache.queue, 1, "the consumed front of the queue is reclaimed")
}

func TestReplayCacheExpiredEntryReinserted(t *testing.T) {
	cache := newReplayCache(10)
	now := time.Unix(1000, 0).UnixNano()

	cache.insert("a", now+10, now, now+100)
	assert.Equal(t, inserted, cache.insert("a", now+200, now+20, now+120))

	// The first queue entry leaves at its deadline without removing the
	// newer record of "a".
	assert.Equal(t, replayed, cache.insert("a", now+200, now+101, now+201))
}

func TestReplayCacheConcurrentInsertOnce(t *testing.T) {
	cache := newReplayCache(100)
	now := time.Unix(1000, 0).UnixNano()

	var wg sync.WaitGroup
	results := make(chan insertResult, 16)

	for i := 0; i < 16; i++ {
		wg.Add(1)

		go func() {
			defer wg.Done()
			results <- cache.insert("same", now+100, now, now+100)
		}()
	}

	wg.Wait()
	close(results)

	insertedCount := 0
	for result := range results {
		if result == inserted {
			insertedCount++
		}
	}

	assert.Equal(t, 1, insertedCount)
}

func TestSharedReplayCacheByName(t *testing.T) {
	name := "shared-cache-" + strconv.FormatInt(time.Now().UnixNano(), 10)

	first := sharedReplayCache(name, 5, time.Minute)
	second := sharedReplayCache(name, 7, time.Minute)
	other := sharedReplayCache(name+"-other", 5, time.Minute)

	// Plain comparisons: testify's Same does not see interpreted pointers
	// as pointers under yaegi.
	assert.True(t, first == second)
	assert.False(t, first == other)
	assert.Equal(t, 7, first.capacity)
}

// TestReplayCacheMemory fills a cache to the default capacity with
// nonces of the length Sign generates, and logs the heap it takes. The
// bound is well above the measured figure; BENCHMARKS.md records it.
func TestReplayCacheMemory(t *testing.T) {
	const maxBytes = 32 << 20

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	// The ids are made inside the measured region because the cache
	// keeps them, as it keeps each request's.
	cache := newReplayCache(DefaultReplayCacheSize)
	now := testNow.UnixNano()
	for i := 0; i < DefaultReplayCacheSize; i++ {
		id := fmt.Sprintf("%s\x00n%022d", testKeyID, i)
		if cache.insert(id, now+1, now, now+1) != inserted {
			t.Fatalf("nonce %q not inserted", id)
		}
	}

	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("replay cache with %d entries: %d bytes (%.1f MiB), %d bytes per entry",
		cache.len(), used, float64(used)/(1<<20), used/int64(cache.len()))

	if used > maxBytes {
		t.Errorf("replay cache takes %d bytes, more than %d", used, maxBytes)
	}

	runtime.KeepAlive(cache)
}

func TestReplayCacheReloadRaisingMaxAge(t *testing.T) {
	name := "reload-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	next := &nextRecorder{}

	build := func(maxAge string) *Middleware {
		cfg := testConfig(t)
		cfg.MaxAge = maxAge

		handler, err := New(context.Background(), next, cfg, name)
		require.NoError(t, err)

		m := handler.(*Middleware)
		m.log.output = func(string) {}

		return m
	}

	before := build("5m")
	before.now = func() time.Time { return testNow }

	opts := &SignOptions{Nonce: "reload-raise"}
	assert.Equal(t, http.StatusNoContent, serve(before, newSignedRequest(t, http.MethodGet, testURL, "", opts)).Code)

	after := build("10m")
	after.now = func() time.Time { return testNow.Add(7 * time.Minute) }

	rec := serve(after, newSignedRequest(t, http.MethodGet, testURL, "", opts))

	assertProblem(t, rec, http.StatusUnauthorized, "nonce_replayed")
	assert.Equal(t, 1, next.count())
}

func TestReplayCacheRaiseMaxAgeExtendsEntries(t *testing.T) {
	cache := newReplayCache(10)
	cache.raiseMaxAge(time.Minute)

	now := time.Unix(1000, 0).UnixNano()
	cache.insert("a", now+int64(time.Minute), now, now+int64(time.Minute))

	assert.Equal(t, 2*time.Minute, cache.raiseMaxAge(2*time.Minute))
	assert.Equal(t, 2*time.Minute, cache.raiseMaxAge(time.Minute), "a smaller maximum age is ignored")
	assert.Equal(t, replayed, cache.insert("a", 0, now+int64(90*time.Second), now+int64(3*time.Minute)))
}
