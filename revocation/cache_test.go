package revocation

import (
	"fmt"
	"testing"
	"time"
)

// TestCacheBounds: expired entries are dropped, a full cache evicts the entry expiring soonest, and a negative
// CacheEntries turns the cache off.
func TestCacheBounds(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f := &Fetcher{CacheEntries: 3, Now: func() time.Time { return now }}
	for i, ttl := range []time.Duration{time.Hour, time.Minute, 2 * time.Hour} {
		f.remember(fmt.Sprint(i), cacheEntry{der: []byte{byte(i)}, expires: now.Add(ttl)})
	}
	f.remember("3", cacheEntry{expires: now.Add(3 * time.Hour)})
	if len(f.cache) != 3 {
		t.Fatalf("%d entries, want 3", len(f.cache))
	}
	if _, ok := f.cached("1"); ok {
		t.Error("the entry expiring soonest was not evicted")
	}
	now = now.Add(90 * time.Minute)
	if _, ok := f.cached("0"); ok {
		t.Error("an expired entry was returned")
	}
	if _, ok := f.cache["0"]; ok {
		t.Error("an expired entry was kept")
	}
	if e, ok := f.cached("2"); !ok || e.der[0] != 2 {
		t.Error("a valid entry was lost")
	}
	f.remember("4", cacheEntry{expires: now.Add(-time.Second)})
	if _, ok := f.cache["4"]; ok {
		t.Error("an already expired answer was stored")
	}

	off := &Fetcher{CacheEntries: -1}
	off.remember("x", cacheEntry{expires: time.Now().Add(time.Hour)})
	if _, ok := off.cached("x"); ok || len(off.cache) != 0 {
		t.Error("a disabled cache stored an entry")
	}
}
