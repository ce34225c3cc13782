package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// fill sets every field reachable from v to a non-zero value (slices and maps with one element, pointers to
// filled values).
func fill(t *testing.T, v reflect.Value, n *int) {
	t.Helper()
	*n++
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem(), n)
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, s.Index(0), n)
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k, n)
		fill(t, e, n)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 3, 2, 9, 0, *n, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), n)
		}
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(*n))
	default:
		t.Fatalf("fill: %s", v.Kind())
	}
}

// shared reports a pointer, slice or map reachable from both a and b at the same address.
func shared(a, b reflect.Value) string {
	switch a.Kind() {
	case reflect.Pointer, reflect.Map:
		if !a.IsNil() && a.UnsafePointer() == b.UnsafePointer() {
			return a.Type().String()
		}
		if a.Kind() == reflect.Pointer && !a.IsNil() {
			return shared(a.Elem(), b.Elem())
		}
		if a.Kind() == reflect.Map {
			for _, k := range a.MapKeys() {
				if s := shared(a.MapIndex(k), b.MapIndex(k)); s != "" {
					return s
				}
			}
		}
	case reflect.Slice:
		if a.Len() > 0 && a.UnsafePointer() == b.UnsafePointer() {
			return a.Type().String()
		}
		for i := range a.Len() {
			if s := shared(a.Index(i), b.Index(i)); s != "" {
				return s
			}
		}
	case reflect.Struct:
		if a.Type() == reflect.TypeOf(time.Time{}) {
			return ""
		}
		for i := range a.NumField() {
			if s := shared(a.Field(i), b.Field(i)); s != "" {
				return s + "." + a.Type().Field(i).Name
			}
		}
	}
	return ""
}

// cachedTypes are the record types decoded keeps, one of each.
func cachedTypes() []any {
	return []any{&Profile{}, &Client{}, &Session{}, &Code{}, &CodeCounters{}, &RateWindow{}, &SigningRequest{}}
}

// TestCachedTypesMatchTheBuckets: every cached bucket's record type has a copy (a bucket added to cachedBuckets
// with a type copyRecord does not know would be decoded every time, silently).
func TestCachedTypesMatchTheBuckets(t *testing.T) {
	if len(cachedBuckets) != len(cachedTypes()) {
		t.Errorf("%d cached buckets, %d cached types", len(cachedBuckets), len(cachedTypes()))
	}
	for _, v := range cachedTypes() {
		if newRecord(v) == nil || !copyRecord(newRecord(v), v, &copier{}) {
			t.Errorf("%T: no copy", v)
		}
	}
}

// TestRecordCopyIsDeep: for every cached record type, with every field set, the copy equals the original and
// shares no pointer, slice or map with it (a field added later is covered without changing the test).
func TestRecordCopyIsDeep(t *testing.T) {
	for _, v := range cachedTypes() {
		src := reflect.ValueOf(v).Elem()
		n := 0
		fill(t, src, &n)
		dst := newRecord(v)
		if !copyRecord(dst, v, &copier{}) {
			t.Fatalf("%T: not copied", v)
		}
		if !reflect.DeepEqual(v, dst) {
			t.Errorf("%s: the copy differs", src.Type())
		}
		if s := shared(src, reflect.ValueOf(dst).Elem()); s != "" {
			t.Errorf("%s: the copy shares %s with the original", src.Type(), s)
		}
	}
}

// mutation changes one field of a filled record in one way a JSON round trip may not keep.
type mutation struct {
	name string
	// apply changes v (addressable) and reports whether it applies to v's kind
	apply func(v reflect.Value) bool
	// cached: a record so changed is still cached when written (the common forms must be, or the cache misses
	// after every write)
	cached bool
}

var timeType = reflect.TypeOf(time.Time{})

var mutations = []mutation{
	{"invalid UTF-8", func(v reflect.Value) bool {
		if v.Kind() != reflect.String {
			return false
		}
		v.SetString("a\xffb")
		return true
	}, false},
	{"a time at +01:00", func(v reflect.Value) bool {
		if v.Type() != timeType {
			return false
		}
		v.Set(reflect.ValueOf(time.Date(2026, 3, 2, 10, 0, 0, 5, time.FixedZone("CET", 3600))))
		return true
	}, false},
	{"a time in Local", func(v reflect.Value) bool {
		if v.Type() != timeType {
			return false
		}
		v.Set(reflect.ValueOf(time.Date(2026, 7, 2, 10, 0, 0, 5, time.Local)))
		return true
	}, false},
	{"a time with a monotonic reading", func(v reflect.Value) bool {
		if v.Type() != timeType {
			return false
		}
		v.Set(reflect.ValueOf(time.Now().UTC()))
		return true
	}, true},
	{"the zero time", func(v reflect.Value) bool {
		if v.Type() != timeType {
			return false
		}
		v.Set(reflect.ValueOf(time.Time{}))
		return true
	}, true},
	{"empty", func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		case reflect.Map:
			v.Set(reflect.MakeMap(v.Type()))
		case reflect.String:
			v.SetString("")
		default:
			return false
		}
		return true
	}, true},
	{"nil", func(v reflect.Value) bool {
		switch v.Kind() {
		case reflect.Slice, reflect.Map, reflect.Pointer:
			v.SetZero()
			return true
		}
		return false
	}, true},
}

// leaves calls fn for every value reachable from v that a mutation may change (the record's fields, and theirs).
func leaves(v reflect.Value, path string, fn func(v reflect.Value, path string)) {
	fn(v, path)
	switch {
	case v.Type() == timeType:
	case v.Kind() == reflect.Pointer && !v.IsNil():
		leaves(v.Elem(), path, fn)
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			leaves(v.Index(i), fmt.Sprintf("%s[%d]", path, i), fn)
		}
	case v.Kind() == reflect.Map:
		// map elements are not addressable: each is changed on a copy and put back
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			leaves(e, fmt.Sprintf("%s[%v]", path, k), func(x reflect.Value, p string) {
				fn(x, p)
				v.SetMapIndex(k, e)
			})
		}
	case v.Kind() == reflect.Struct:
		for i := range v.NumField() {
			leaves(v.Field(i), path+"."+v.Type().Field(i).Name, fn)
		}
	}
}

// TestNormalizedCopyIsWhatDecodeGives: a record just written is cached as the normalised copy of what the writer
// handed in, so that copy must be exactly what json.Unmarshal makes of the bytes stored; when the copier cannot
// make it so, it must say so (bad), and the record is not cached. Every field of every cached type is changed in
// every way a JSON round trip may not keep, one at a time.
func TestNormalizedCopyIsWhatDecodeGives(t *testing.T) {
	for _, proto := range cachedTypes() {
		typ := reflect.TypeOf(proto).Elem()
		filled := func() reflect.Value {
			v := reflect.New(typ)
			n := 0
			fill(t, v.Elem(), &n)
			return v
		}
		check := func(name string, v reflect.Value, wantCached bool) {
			t.Helper()
			raw, err := json.Marshal(v.Interface())
			if err != nil {
				t.Fatalf("%s %s: %v", typ, name, err)
			}
			decoded := reflect.New(typ)
			if err := json.Unmarshal(raw, decoded.Interface()); err != nil {
				t.Fatalf("%s %s: %v", typ, name, err)
			}
			c := copier{norm: true}
			got := newRecord(proto)
			if !copyRecord(got, v.Elem().Interface(), &c) {
				t.Fatalf("%s: not copied", typ)
			}
			switch {
			case !c.bad && !reflect.DeepEqual(got, decoded.Interface()):
				t.Errorf("%s %s: cached as\n%+v\nbut decoding its JSON gives\n%+v", typ, name, got, decoded.Interface())
			case c.bad && wantCached:
				t.Errorf("%s %s: not cached", typ, name)
			}
		}
		check("as filled", filled(), true)
		for _, m := range mutations {
			var paths []string
			leaves(filled().Elem(), "", func(x reflect.Value, p string) {
				if x.CanSet() && m.apply(reflect.New(x.Type()).Elem()) {
					paths = append(paths, p)
				}
			})
			for _, target := range paths {
				v := filled()
				leaves(v.Elem(), "", func(x reflect.Value, p string) {
					if p == target {
						m.apply(x)
					}
				})
				check(m.name+" at "+target, v, m.cached)
			}
		}
	}
}

// TestDecodedCache: a record read twice decodes once and each reader gets its own copy; changed bytes decode
// afresh.
func TestDecodedCache(t *testing.T) {
	var d decoded
	p := Profile{ID: "p1", Surname: "Testowa", History: []Transition{{From: "pending", To: "active"}}, PESELHash: []byte{1, 2}}
	raw, _ := json.Marshal(p)
	var a, b Profile
	if err := d.decode(bProfiles, []byte("p1"), raw, &a); err != nil {
		t.Fatal(err)
	}
	a.History[0].To = "changed by the first reader"
	a.PESELHash[0] = 9
	if err := d.decode(bProfiles, []byte("p1"), raw, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, p) {
		t.Errorf("second read %+v, want %+v (the first reader's changes leaked)", b, p)
	}
	p.Surname = "Nowa"
	raw2, _ := json.Marshal(p)
	var c Profile
	if err := d.decode(bProfiles, []byte("p1"), raw2, &c); err != nil {
		t.Fatal(err)
	}
	if c.Surname != "Nowa" {
		t.Errorf("changed record read as %q", c.Surname)
	}
	if err := d.decode(bProfiles, []byte("p2"), []byte("{"), &c); err == nil {
		t.Error("bad JSON decoded")
	}
}
