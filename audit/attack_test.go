package audit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
)

// keyedLog is a memLog that keys its chain (as store.Tx does with the data directory's chain key).
type keyedLog struct {
	memLog
	key *audit.ChainKey
}

func (k *keyedLog) AuditChainKey() *audit.ChainKey { return k.key }

func (k *keyedLog) UpdateAudit(ctx context.Context, fn func(audit.HeadLog) error) error { return fn(k) }

// clock is a settable test clock.
type clock struct{ t *time.Time }

func (c clock) Now() time.Time { return *c.t }

func newChainKey(t testing.TB, from uint64) *audit.ChainKey {
	k, err := audit.NewChainKey(nil, from)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// service simulates a running service: one record every 10 s for n records, an interval seal every minute.
func service(t *testing.T, l *keyedLog, sealer *audit.Sealer, now *time.Time, n int) {
	t.Helper()
	ctx := context.Background()
	if _, err := sealer.SealNow(ctx, l, audit.SealStart); err != nil {
		t.Fatal(err)
	}
	lastSeal := *now
	for i := 0; i < n; i++ {
		*now = now.Add(10 * time.Second)
		if _, err := audit.Append(l, audit.Event{Time: *now, Kind: "test.event", Actor: "system", Subject: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if now.Sub(lastSeal) >= time.Minute {
			if _, err := sealer.SealNow(ctx, l, audit.SealInterval); err != nil {
				t.Fatal(err)
			}
			lastSeal = *now
		}
	}
}

// recompute renumbers and rehashes lines from index i on (an attacker who can write the store but has no chain
// key: the MACs stay as they were), after the caller removed or changed what it wanted.
func recompute(lines []string, i int) []string {
	out := append([]string(nil), lines...)
	prev := audit.GenesisHash
	for j := range out {
		var r audit.Record
		json.Unmarshal([]byte(out[j]), &r)
		if j >= i {
			r.Seq, r.PrevHash = uint64(j+1), prev
			r.Hash = r.ComputeHash()
			b, _ := json.Marshal(r)
			out[j] = string(b)
		}
		prev = r.Hash
	}
	return out
}

func newSealer(t *testing.T, now *time.Time) *audit.Sealer {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &audit.Sealer{Signer: key, Clock: clock{now}}
}

// TestAttackDeleteMidChainRecompute deletes a record in the middle of the unsealed tail and recomputes the chain
// after it. The unkeyed SHA-256 chain verified as intact; with MACs under the chain key it is broken at the
// deleted record.
func TestAttackDeleteMidChainRecompute(t *testing.T) {
	now := t0
	for _, tc := range []struct {
		name      string
		key       *audit.ChainKey
		wantFound bool
	}{
		{"unkeyed chain (before): the recomputed log passes", nil, false},
		{"keyed chain: the recomputed log is broken", newChainKey(t, 1), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &keyedLog{key: tc.key}
			service(t, l, newSealer(t, &now), &now, 30)
			for i := 0; i < 5; i++ { // an unsealed tail
				if _, err := audit.Append(l, audit.Event{Time: now, Kind: "test.tail", Actor: "system", Subject: fmt.Sprint(i)}); err != nil {
					t.Fatal(err)
				}
			}
			lines := export(t, &l.memLog)
			// records after the newest seal: delete one in the middle and relink the rest
			lastSeal := 0
			for i, line := range lines {
				if strings.Contains(line, audit.KindSeal) {
					lastSeal = i
				}
			}
			cut := lastSeal + 2
			forged := recompute(append(append([]string(nil), lines[:cut]...), lines[cut+1:]...), cut)
			_, err := verifyLines(forged, audit.VerifyOptions{ChainKey: tc.key})
			var be *audit.BrokenError
			if found := errors.As(err, &be); found != tc.wantFound {
				t.Fatalf("recomputed chain: %v", err)
			}
			if tc.wantFound && be.Seq != uint64(cut+1) {
				t.Fatalf("broken at %d, want %d: %v", be.Seq, cut+1, err)
			}
			// the untouched log verifies with its key
			if _, err := verifyLines(lines, audit.VerifyOptions{ChainKey: tc.key}); err != nil {
				t.Fatal(err)
			}
		})
	}
	// the MACs stripped and the chain recomputed: caught with the key; without it the report says the MACs went
	// unchecked, and a recomputed chain that kept its MACs shows that it carries MACs nobody checked
	l := &keyedLog{key: newChainKey(t, 1)}
	service(t, l, newSealer(t, &now), &now, 5)
	lines := export(t, &l.memLog)
	stripped := make([]string, len(lines))
	for i, line := range lines {
		var r audit.Record
		json.Unmarshal([]byte(line), &r)
		r.MAC = ""
		b, _ := json.Marshal(r)
		stripped[i] = string(b)
	}
	if _, err := verifyLines(stripped, audit.VerifyOptions{ChainKey: l.key}); !errors.Is(err, audit.ErrBroken) {
		t.Errorf("MACs stripped: %v", err)
	}
	if _, err := verifyLines(lines, audit.VerifyOptions{ChainKey: newChainKey(t, 1)}); !errors.Is(err, audit.ErrBroken) {
		t.Errorf("another key: %v", err)
	}
	if rep, err := verifyLines(lines, audit.VerifyOptions{}); err != nil || rep.MACsNotChecked != uint64(len(lines)) || rep.Keyed != 0 {
		t.Errorf("without the key: %+v %v", rep, err)
	}
}

// TestAttackTruncateTail cuts records off the end of a running service's log (sealed ones included). The chain
// that is left is intact, so only time and published heads can show the cut: the newest seal is too old for the
// seal interval at the time of the check, and the heads file names a head past the end.
func TestAttackTruncateTail(t *testing.T) {
	now := t0
	key := newChainKey(t, 1)
	l := &keyedLog{key: key}
	sealer := newSealer(t, &now)
	headsFile := filepath.Join(t.TempDir(), "heads.jsonl")
	sealer.Publish = func(r audit.Record) error { return audit.AppendHeadFile(headsFile, r) }
	service(t, l, sealer, &now, 60) // 10 minutes
	lines := export(t, &l.memLog)
	checkAt := now.Add(20 * time.Second)
	opts := audit.VerifyOptions{ChainKey: key, SealInterval: time.Minute, Now: checkAt}
	if rep, err := verifyLines(lines, opts); err != nil || rep.Keyed != rep.Records {
		t.Fatalf("the whole log: %+v %v", rep, err)
	}
	heads := readHeads(t, headsFile)
	if len(heads) < 10 {
		t.Fatalf("%d heads published", len(heads))
	}
	for _, keep := range []int{len(lines) - 3, len(lines) / 2, 1} {
		t.Run(fmt.Sprintf("keep %d of %d", keep, len(lines)), func(t *testing.T) {
			cut := lines[:keep]
			_, err := verifyLines(cut, opts)
			// a cut within the last interval (and grace) shows only through the published heads
			if recent := keep > len(lines)-7; !recent && !errors.Is(err, audit.ErrStaleSeal) {
				t.Fatalf("truncated log checked now: %v", err)
			}
			o := opts
			o.Now, o.SealInterval = time.Time{}, 0
			if _, err := verifyLines(cut, o); err != nil {
				t.Fatalf("without the time check the cut log is intact (the attack): %v", err)
			}
			o.Heads = heads
			if _, err := verifyLines(cut, o); !errors.Is(err, audit.ErrBroken) || !strings.Contains(err.Error(), "truncated") {
				t.Fatalf("with the published heads: %v", err)
			}
		})
	}
	// a clean stop ends the log with a shutdown seal: it verifies long after
	now = now.Add(time.Second)
	if _, err := sealer.SealNow(context.Background(), l, audit.SealShutdown); err != nil {
		t.Fatal(err)
	}
	o := opts
	o.Now = now.Add(30 * 24 * time.Hour)
	if _, err := verifyLines(export(t, &l.memLog), o); err != nil {
		t.Fatalf("stopped service, checked a month later: %v", err)
	}
}

func readHeads(t *testing.T, path string) []audit.Record {
	t.Helper()
	var hs []audit.Record
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.NewReader(string(raw))
	if err := audit.ReadJSONLines(f, func(r audit.Record, _ int) error { hs = append(hs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return hs
}

// TestAttackStaleSeal: records left unsealed for longer than the seal interval allows fail verification, judged at
// the newest record (an old copy, offline) or at the time of the check.
func TestAttackStaleSeal(t *testing.T) {
	ctx := context.Background()
	build := func(steps func(l *keyedLog, s *audit.Sealer, now *time.Time)) (*audit.ChainKey, []string, time.Time) {
		now := t0
		l := &keyedLog{key: newChainKey(t, 1)}
		s := newSealer(t, &now)
		steps(l, s, &now)
		return l.key, export(t, &l.memLog), now
	}
	add := func(l *keyedLog, now *time.Time, d time.Duration) {
		*now = now.Add(d)
		if _, err := audit.Append(l, audit.Event{Time: *now, Kind: "test.event", Actor: "system", Subject: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	seal := func(s *audit.Sealer, l *keyedLog, reason string) {
		if _, err := s.SealNow(ctx, l, reason); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		steps   func(l *keyedLog, s *audit.Sealer, now *time.Time)
		checkIn time.Duration // after the last record; negative: judge at the newest record (offline)
		stale   bool
	}{
		{"sealer stopped, records went on (offline)", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			seal(s, l, audit.SealStart)
			for i := 0; i < 20; i++ {
				add(l, now, 10*time.Second)
			}
		}, -1, true},
		{"fresh unsealed tail (offline)", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			seal(s, l, audit.SealStart)
			add(l, now, 30*time.Second)
		}, -1, false},
		{"fresh unsealed tail, checked at once", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			seal(s, l, audit.SealStart)
			add(l, now, 30*time.Second)
		}, 10 * time.Second, false},
		{"interval seal an hour old", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			add(l, now, time.Second)
			seal(s, l, audit.SealInterval)
		}, time.Hour, true},
		{"never sealed, checked a day later", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			add(l, now, time.Second)
		}, 24 * time.Hour, true},
		{"admin records after a shutdown seal, a day later", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			add(l, now, time.Second)
			seal(s, l, audit.SealShutdown)
			add(l, now, time.Hour)
		}, 24 * time.Hour, false},
		{"every node stopped: nothing after the last node-stop seal, a day later", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			add(l, now, time.Second)
			seal(s, l, audit.SealNodeStop)
		}, 24 * time.Hour, false},
		{"other nodes wrote an hour unsealed after one node's stop seal", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			add(l, now, time.Second)
			seal(s, l, audit.SealNodeStop)
			for range 60 {
				add(l, now, time.Minute)
			}
		}, time.Second, true},
		{"other nodes wrote after one node's stop seal and sealed each interval", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			add(l, now, time.Second)
			seal(s, l, audit.SealNodeStop)
			add(l, now, 30*time.Second)
			seal(s, l, audit.SealInterval)
			add(l, now, 30*time.Second)
		}, 10 * time.Second, false},
		{"a seal without a reason (older binaries) is an interval seal", func(l *keyedLog, s *audit.Sealer, now *time.Time) {
			add(l, now, time.Second)
			if _, err := s.Seal(ctx, l); err != nil {
				t.Fatal(err)
			}
		}, time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, lines, last := build(tc.steps)
			o := audit.VerifyOptions{ChainKey: key, SealInterval: time.Minute}
			if tc.checkIn >= 0 {
				o.Now = last.Add(tc.checkIn)
			}
			_, err := verifyLines(lines, o)
			if got := errors.Is(err, audit.ErrStaleSeal); got != tc.stale || (!tc.stale && err != nil) {
				t.Fatalf("stale %v, want %v: %v", got, tc.stale, err)
			}
			if tc.stale && !errors.Is(err, audit.ErrBroken) {
				t.Fatalf("a stale seal is not ErrBroken: %v", err)
			}
			o.SealInterval = 0
			if _, err := verifyLines(lines, o); err != nil {
				t.Fatalf("the chain itself: %v", err)
			}
		})
	}
}

// TestRunSealsAtStartAndEveryInterval: Run seals at once and then on every tick even when nothing was appended, and
// leaves the shutdown seal to its owner; every seal is published.
func TestRunSealsAtStartAndEveryInterval(t *testing.T) {
	now := t0
	l := &keyedLog{key: newChainKey(t, 1)}
	if _, err := audit.Append(l, audit.Event{Time: now, Kind: "test.event", Actor: "system", Subject: "s"}); err != nil {
		t.Fatal(err)
	}
	published := make(chan audit.Record, 16)
	s := newSealer(t, &now)
	s.Publish = func(r audit.Record) error { published <- r; return nil }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, l, time.Millisecond, func(err error) { t.Error(err) }) }()
	var reasons []string
	for len(reasons) < 3 {
		reasons = append(reasons, (<-published).Details["reason"])
	}
	cancel()
	<-done
	for len(published) > 0 {
		<-published
	}
	if reasons[0] != audit.SealStart || reasons[1] != audit.SealInterval || reasons[2] != audit.SealInterval {
		t.Fatalf("seal reasons %v", reasons)
	}
	if _, err := s.SealNow(context.Background(), l, audit.SealShutdown); err != nil {
		t.Fatal(err)
	}
	if r := <-published; r.Details["reason"] != audit.SealShutdown {
		t.Fatalf("last seal %+v", r)
	}
	if _, err := verifyLines(export(t, &l.memLog), audit.VerifyOptions{ChainKey: l.key, SealInterval: time.Minute, Now: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}
