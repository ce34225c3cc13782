package revocation

import (
	"crypto/x509"
	"time"
)

// cacheEntry is a checked answer kept until expires: a DER OCSP response, a CRL (DER and parsed, re-checked
// against the issuer at each use, since one URL may be named by certificates of several issuers), or the
// certificates a caIssuers URL served.
type cacheEntry struct {
	der     []byte
	issued  time.Time // the answer's producedAt (OCSP) or thisUpdate (CRL)
	certs   []*x509.Certificate
	expires time.Time
}

// cached returns the entry under key while it is valid at f's clock; an expired entry is dropped.
func (f *Fetcher) cached(key string) (cacheEntry, bool) {
	if f.CacheEntries < 0 {
		return cacheEntry{}, false
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.cache[key]
	if !ok {
		return cacheEntry{}, false
	}
	if !now.Before(e.expires) {
		delete(f.cache, key)
		return cacheEntry{}, false
	}
	return e, true
}

// remember stores e under key. When the cache is full, expired entries go first, then the one expiring soonest.
func (f *Fetcher) remember(key string, e cacheEntry) {
	limit := f.CacheEntries
	if limit < 0 {
		return
	}
	if limit == 0 {
		limit = DefaultCacheEntries
	}
	now := f.now()
	if !now.Before(e.expires) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cache == nil {
		f.cache = map[string]cacheEntry{}
	}
	if _, ok := f.cache[key]; !ok && len(f.cache) >= limit {
		for k, old := range f.cache {
			if !now.Before(old.expires) {
				delete(f.cache, k)
			}
		}
		for len(f.cache) >= limit {
			var soonest string
			first := true
			for k, old := range f.cache {
				if first || old.expires.Before(f.cache[soonest].expires) {
					soonest, first = k, false
				}
			}
			delete(f.cache, soonest)
		}
	}
	f.cache[key] = e
}
