package store

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"
)

// rememberThenRead caches v as putJSON does, then reads it back as getJSON does; the result must be exactly what a
// fresh json.Unmarshal of the stored bytes gives.
func rememberThenRead(t *testing.T, name, bucket string, v any) {
	t.Helper()
	var d decoded
	raw, err := json.Marshal(v)
	if err != nil {
		t.Logf("%s: not marshalable (%v), skipped", name, err)
		return
	}
	d.remember(bucket, []byte("k"), raw, v)
	got := newRecord(v)
	want := newRecord(v)
	if err := d.decode(bucket, []byte("k"), raw, got); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := json.Unmarshal(raw, want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: cache gives\n%#v\nfresh decode gives\n%#v", name, got, want)
	}
}

// TestCacheRememberEdgeValues: records written with the strings and times a JSON round trip changes (HTML
// characters, line separators, invalid UTF-8, zones at offset 0 that are not UTC, the year 0, monotonic readings)
// read back from the cache exactly as a fresh decode of the stored bytes gives them. (Written by an outside review
// of the cache.)
func TestCacheRememberEdgeValues(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip(err)
	}
	winter := time.Date(2026, 1, 5, 10, 0, 0, 123456789, london) // offset 0, not UTC
	named0 := time.Date(2026, 1, 5, 10, 0, 0, 1, time.FixedZone("GMT", 0))
	year0 := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	mono := time.Now()
	if _, off := mono.Zone(); off != 0 {
		mono = time.Now().UTC()
	}
	weird := []string{"<script>&amp;</script>", "\u2028\u2029", "\x00", "\ufffd", "a\xffb", "\xed\xa0\x80", ""}
	times := []time.Time{winter, named0, year0, mono, {}, time.Unix(0, 0), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}
	for i, s := range weird {
		for j, tm := range times {
			tp := tm
			p := Profile{ID: s, Login: s, SecondName: s, PESELHash: []byte{}, ApplicationSecretHash: []byte{},
				Created: tm, Updated: tm, ApplicationExpires: tm, ActivatedAt: &tp, Expires: &tp, ContactConfirmedAt: &tp,
				Confirmation: &Confirmation{Method: s, At: tm, Details: map[string]string{s: s, "x" + s: ""}, DocumentHash: []byte{}},
				History:      []Transition{{From: s, At: tm}}}
			rememberThenRead(t, fmt.Sprintf("profile %d/%d", i, j), bProfiles, &p)
			rememberThenRead(t, fmt.Sprintf("profile empty conf %d/%d", i, j), bProfiles, &Profile{Confirmation: &Confirmation{Details: map[string]string{}}, History: []Transition{}})
			rememberThenRead(t, fmt.Sprintf("client %d/%d", i, j), bClients, &Client{ID: s, Scopes: []string{}, KeyHash: []byte{}, Created: tm})
			rememberThenRead(t, fmt.Sprintf("client nil %d/%d", i, j), bClients, Client{Scopes: []string{s}})
			rememberThenRead(t, fmt.Sprintf("session %d/%d", i, j), bSessions, &Session{TokenHash: []byte{}, Role: s, Created: tm, LastSeen: mono})
			rememberThenRead(t, fmt.Sprintf("code %d/%d", i, j), bCodes, &Code{ProfileID: s, Hash: []byte{}, Bindings: []Binding{{RequestID: s, Digest: []byte{}, DocName: s}}, Created: tm, Failures: math.MinInt})
			rememberThenRead(t, fmt.Sprintf("code empty %d/%d", i, j), bCodes, &Code{Bindings: []Binding{}})
			rememberThenRead(t, fmt.Sprintf("counters %d/%d", i, j), bCodeCounters, &CodeCounters{ProfileID: s,
				Issued: map[string][]time.Time{s: {tm}, "nil" + s: nil, "empty" + s: {}}, Failures: []time.Time{}})
			rememberThenRead(t, fmt.Sprintf("counters empty %d/%d", i, j), bCodeCounters, &CodeCounters{Issued: map[string][]time.Time{}})
			rememberThenRead(t, fmt.Sprintf("window %d/%d", i, j), bRateWindows, &RateWindow{Key: s, Times: []time.Time{tm, mono}})
			rememberThenRead(t, fmt.Sprintf("window empty %d/%d", i, j), bRateWindows, &RateWindow{Times: []time.Time{}})
			rememberThenRead(t, fmt.Sprintf("sigreq %d/%d", i, j), bSigReq, &SigningRequest{ID: s, SealSubject: s, Digest: []byte{},
				DocumentSize: math.MaxInt64, SignedSize: math.MinInt64, SignedAt: &tp, Created: tm, TimeStamps: []SealTimeStamp{{Kind: s, Time: tm}},
				Document: []byte("secret doc"), Signed: []byte{}})
			rememberThenRead(t, fmt.Sprintf("sigreq empty %d/%d", i, j), bSigReq, &SigningRequest{TimeStamps: []SealTimeStamp{}})
		}
	}
}

// A caller that changes every part of what it got changes nothing another caller gets (after a write, after a read).
func TestCacheNoSharedStateBetweenCallers(t *testing.T) {
	var d decoded
	tm := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	orig := &SigningRequest{ID: "r", Digest: []byte{1}, SignedAt: &tm, TimeStamps: []SealTimeStamp{{Kind: "k"}}}
	raw, _ := json.Marshal(orig)
	d.remember(bSigReq, []byte("r"), raw, orig)
	orig.Digest[0], orig.TimeStamps[0].Kind = 9, "writer changed" // the writer keeps changing its value
	*orig.SignedAt = tm.Add(time.Hour)
	for range 2 {
		var a SigningRequest
		if err := d.decode(bSigReq, []byte("r"), raw, &a); err != nil {
			t.Fatal(err)
		}
		var want SigningRequest
		json.Unmarshal(raw, &want)
		if !reflect.DeepEqual(a, want) {
			t.Fatalf("got %+v want %+v", a, want)
		}
		a.Digest[0], a.TimeStamps[0].Kind = 7, "reader changed"
		*a.SignedAt = tm.Add(2 * time.Hour)
		a.Document = []byte("reader's")
	}
	cc := &CodeCounters{Issued: map[string][]time.Time{"p": {tm}}}
	raw, _ = json.Marshal(cc)
	d.remember(bCodeCounters, []byte("c"), raw, cc)
	cc.Issued["p"][0] = tm.Add(time.Hour)
	cc.Issued["q"] = nil
	for range 2 {
		var a CodeCounters
		d.decode(bCodeCounters, []byte("c"), raw, &a)
		if len(a.Issued) != 1 || !a.Issued["p"][0].Equal(tm) {
			t.Fatalf("leaked: %+v", a)
		}
		a.Issued["p"][0] = tm.Add(3 * time.Hour)
		a.Issued["z"] = nil
	}
}

// Readers and writers at once, across the eviction boundary (run with -race).
func TestCacheConcurrentReadsAndWrites(t *testing.T) {
	var d decoded
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				key := []byte(fmt.Sprint(i % (maxDecoded + 7)))
				p := &Profile{ID: fmt.Sprint(g, i), History: []Transition{{From: "a"}}, PESELHash: []byte{byte(i)}}
				raw, _ := json.Marshal(p)
				if i%2 == 0 {
					d.remember(bProfiles, key, raw, p)
				}
				var got Profile
				if err := d.decode(bProfiles, key, raw, &got); err != nil {
					t.Error(err)
					return
				}
				if got.ID != p.ID || got.PESELHash[0] != byte(i) {
					t.Errorf("got %+v for %+v", got, p)
					return
				}
				got.History[0].From = "x"
			}
		}()
	}
	wg.Wait()
}
