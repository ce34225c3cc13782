package store

import (
	"bytes"
	"encoding/json"
	"sync"
)

// decoded keeps the decoded form of the records a signing flow reads again and again (profiles, clients,
// sessions, signing requests, codes, code counters, rate windows: 28 reads of them per flow, JSON decoding being
// the store's largest CPU cost), keyed by bucket and key and valid only for the exact stored bytes: a read compares
// the bytes the backend returned with the cached ones (so a record changed by any writer, on any node, or a write
// rolled back, decodes afresh) and hands out a deep copy (recordcopy.go), so that a caller changing what it got
// changes nothing cached. A record written is cached as written (remember), made into what decoding its JSON
// would give, so the reads after a write (most of a flow's) decode nothing.
//
// Small on purpose: at maxDecoded entries it starts over. A flow reads its records within milliseconds of writing
// them, and a few thousand entries catch that; a cache of every profile (16,384 entries) tripled the live heap that
// each garbage collection marks (13 to 35 MB with 6,000 holders) and lengthened the collections that make the
// latency's tail.
type decoded struct {
	mu sync.Mutex
	m  map[string]map[string]decodedEntry // bucket → key → entry
	n  int
}

type decodedEntry struct {
	raw []byte
	v   any // a *T holding the decoded record
}

const maxDecoded = 2048

// cachedBuckets are the buckets whose records decoded caches (their types: recordcopy.go).
var cachedBuckets = map[string]bool{bProfiles: true, bClients: true, bSessions: true, bSigReq: true, bCodes: true,
	bCodeCounters: true, bRateWindows: true}

// decode unmarshals raw, stored under bucket/key, into v (a pointer), from the cache when raw is what was decoded.
func (d *decoded) decode(bucket string, key, raw []byte, v any) error {
	d.mu.Lock()
	e, ok := d.m[bucket][string(key)]
	d.mu.Unlock()
	if ok && bytes.Equal(e.raw, raw) && copyRecord(v, e.v, &copier{}) {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return err
	}
	keep := newRecord(v)
	if keep == nil || !copyRecord(keep, v, &copier{}) {
		return nil // not a cached type
	}
	d.put(bucket, key, bytes.Clone(raw), keep)
	return nil
}

// remember caches v, just stored under bucket/key as raw (its JSON, not to be changed after), unless v is a
// record that decoding raw would not give back as it is (copier.bad).
func (d *decoded) remember(bucket string, key, raw []byte, v any) {
	keep := newRecord(v)
	if keep == nil {
		return
	}
	c := copier{norm: true}
	if !copyRecord(keep, v, &c) || c.bad {
		d.mu.Lock()
		if b := d.m[bucket]; b != nil {
			delete(b, string(key))
		}
		d.mu.Unlock()
		return
	}
	d.put(bucket, key, raw, keep)
}

func (d *decoded) put(bucket string, key, raw []byte, keep any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || d.n >= maxDecoded {
		d.m, d.n = make(map[string]map[string]decodedEntry, len(cachedBuckets)), 0
	}
	b := d.m[bucket]
	if b == nil {
		b = make(map[string]decodedEntry)
		d.m[bucket] = b
	}
	if _, ok := b[string(key)]; !ok {
		d.n++
	}
	b[string(key)] = decodedEntry{raw: raw, v: keep}
}
