package store

import (
	"encoding/json"
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

// TestCopyValueIsDeep: for every cached record type, with every field set, the copy equals the original and
// shares no pointer, slice or map with it (a field added later is covered without changing the test).
func TestCopyValueIsDeep(t *testing.T) {
	for _, v := range []any{&Profile{}, &Client{}, &Session{}} {
		src := reflect.ValueOf(v).Elem()
		n := 0
		fill(t, src, &n)
		dst := reflect.New(src.Type()).Elem()
		copyValue(dst, src)
		if !reflect.DeepEqual(src.Interface(), dst.Interface()) {
			t.Errorf("%s: the copy differs", src.Type())
		}
		if s := shared(src, dst); s != "" {
			t.Errorf("%s: the copy shares %s with the original", src.Type(), s)
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
