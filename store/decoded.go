package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// decoded keeps the decoded form of records that are read far more often than they change (profiles, clients,
// sessions: read several times per signing flow, JSON decoding being the store's largest CPU cost), keyed by
// bucket and key and valid only for the exact stored bytes: a read compares the bytes the backend returned with
// the cached ones (so a record changed by any writer, on any node, decodes afresh) and hands out a deep copy
// (copyValue), so that a caller changing what it got changes nothing cached. Small on purpose: at maxDecoded
// entries it starts over. A flow reads the same profile, session and client several times within milliseconds, and
// a thousand entries catch that (59 % of the reads at 1,000 flows/s with 6,000 holders, at 256 entries); a cache
// of every profile (16,384 entries) tripled the live heap that each garbage collection marks (13 to 35 MB with
// 6,000 holders) and lengthened the collections that make the latency's tail.
type decoded struct {
	mu sync.Mutex
	m  map[string]decodedEntry
}

type decodedEntry struct {
	raw []byte
	v   reflect.Value // a *T holding the decoded record
}

const maxDecoded = 1024

// cachedBuckets are the buckets whose records decoded caches.
var cachedBuckets = map[string]bool{bProfiles: true, bClients: true, bSessions: true}

// decode unmarshals raw, stored under bucket/key, into v (a pointer), from the cache when raw is what was decoded.
func (d *decoded) decode(bucket string, key, raw []byte, v any) error {
	ck := bucket + "\x00" + string(key)
	dst := reflect.ValueOf(v)
	d.mu.Lock()
	e, ok := d.m[ck]
	d.mu.Unlock()
	if ok && bytes.Equal(e.raw, raw) && e.v.Type() == dst.Type() {
		copyValue(dst.Elem(), e.v.Elem())
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return err
	}
	keep := reflect.New(dst.Type().Elem())
	copyValue(keep.Elem(), dst.Elem())
	d.mu.Lock()
	if d.m == nil || len(d.m) >= maxDecoded {
		d.m = make(map[string]decodedEntry)
	}
	d.m[ck] = decodedEntry{raw: bytes.Clone(raw), v: keep}
	d.mu.Unlock()
	return nil
}

// copyValue sets dst to a deep copy of src: pointers, slices and maps are copied, strings and other values
// assigned; a struct with unexported fields (time.Time) is assigned whole (it holds nothing a caller can change
// through it). A record type holding an interface, a function or a channel is a programming error.
func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		p := reflect.New(src.Type().Elem())
		copyValue(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		if k := src.Type().Elem().Kind(); k <= reflect.Complex128 || k == reflect.String {
			reflect.Copy(s, src)
		} else {
			for i := range src.Len() {
				copyValue(s.Index(i), src.Index(i))
			}
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		it := src.MapRange()
		for it.Next() {
			k := reflect.New(src.Type().Key()).Elem()
			copyValue(k, it.Key())
			val := reflect.New(src.Type().Elem()).Elem()
			copyValue(val, it.Value())
			m.SetMapIndex(k, val)
		}
		dst.Set(m)
	case reflect.Struct:
		// the whole struct at once, then again the fields that hold something shared (deepFields)
		dst.Set(src)
		for _, i := range deepFields(src.Type()) {
			copyValue(dst.Field(i), src.Field(i))
		}
	case reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		panic(fmt.Sprintf("store: a cached record holds a %s", src.Kind()))
	default:
		dst.Set(src)
	}
}

var deepFieldsOf sync.Map // reflect.Type → []int

// deepFields lists the fields of struct type t that hold a pointer, slice or map (directly or in a struct of
// theirs): the ones a shallow copy would share. A struct with unexported fields (time.Time) has none: it holds
// nothing a caller can change through it.
func deepFields(t reflect.Type) []int {
	if f, ok := deepFieldsOf.Load(t); ok {
		return f.([]int)
	}
	var out []int
	exported := true
	for i := range t.NumField() {
		exported = exported && t.Field(i).IsExported()
	}
	if exported {
		for i := range t.NumField() {
			if holdsShared(t.Field(i).Type) {
				out = append(out, i)
			}
		}
	}
	deepFieldsOf.Store(t, out)
	return out
}

func holdsShared(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	case reflect.Array:
		return holdsShared(t.Elem())
	case reflect.Struct:
		return len(deepFields(t)) > 0
	}
	return false
}
