package audit_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
)

// memLog is an in-memory log (the store implements the same interfaces).
type memLog struct {
	recs  [][]byte
	heads map[uint64][]byte
}

func (m *memLog) AuditLast() (uint64, []byte, error) {
	if len(m.recs) == 0 {
		return 0, nil, nil
	}
	return uint64(len(m.recs)), m.recs[len(m.recs)-1], nil
}

func (m *memLog) AuditPut(seq uint64, rec []byte) error {
	if seq != uint64(len(m.recs))+1 {
		return fmt.Errorf("seq %d", seq)
	}
	m.recs = append(m.recs, rec)
	return nil
}

func (m *memLog) AuditPutHead(seq uint64, rec []byte) error {
	if m.heads == nil {
		m.heads = map[uint64][]byte{}
	}
	m.heads[seq] = rec
	return nil
}

func (m *memLog) UpdateAudit(ctx context.Context, fn func(audit.HeadLog) error) error { return fn(m) }

func (m *memLog) ScanAudit(ctx context.Context, from uint64, fn func(uint64, []byte) error) error {
	for i, r := range m.recs {
		if uint64(i+1) >= from {
			if err := fn(uint64(i+1), r); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memLog) ScanAuditHeads(ctx context.Context, fn func(uint64, []byte) error) error {
	for s, r := range m.heads {
		if err := fn(s, r); err != nil {
			return err
		}
	}
	return nil
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)

type fixed struct{ t time.Time }

func (f fixed) Now() time.Time { return f.t }

func fill(t testing.TB, l *memLog, n int, sealer *audit.Sealer, sealEvery int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		_, err := audit.Append(l, audit.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: "test.event", Actor: "holder:p1",
			Subject: "p1", Details: map[string]string{"i": fmt.Sprint(i), "text": "zażółć <gęślą> & jaźń"}})
		if err != nil {
			t.Fatal(err)
		}
		if sealer != nil && i%sealEvery == 0 {
			if _, ok, err := sealer.SealIn(l); err != nil || !ok {
				t.Fatalf("seal: %v %v", ok, err)
			}
		}
	}
}

func export(t *testing.T, l *memLog) []string {
	var b bytes.Buffer
	if _, err := audit.Export(context.Background(), l, &b); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

func verifyLines(lines []string, o audit.VerifyOptions) (audit.Report, error) {
	return audit.VerifyJSONLines(strings.NewReader(strings.Join(lines, "\n")+"\n"), o)
}

func TestAppendBuildsAChain(t *testing.T) {
	l := &memLog{}
	fill(t, l, 3, nil, 0)
	var prev string = audit.GenesisHash
	for i, raw := range l.recs {
		var r audit.Record
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		if r.Seq != uint64(i+1) || r.PrevHash != prev || r.Hash != r.ComputeHash() || len(r.Hash) != 64 {
			t.Fatalf("record %d: %+v", i, r)
		}
		prev = r.Hash
	}
	if _, err := audit.Append(l, audit.Event{Kind: "x"}); !errors.Is(err, audit.ErrEvent) {
		t.Fatalf("event without time: %v", err)
	}
}

// hashLog is a memLog that gives Append its last hash (audit.HashLog), as the store does; lied makes it give a
// wrong one.
type hashLog struct {
	memLog
	hash string
	lied bool
}

func (h *hashLog) AuditLastHash() (uint64, string, error) {
	seq, _, _ := h.AuditLast()
	if seq == 0 {
		return 0, audit.GenesisHash, nil
	}
	if h.lied {
		return seq, strings.Repeat("f", 64), nil
	}
	return seq, h.hash, nil
}

func (h *hashLog) AuditPutHash(seq uint64, rec []byte, hash string) error {
	if err := h.AuditPut(seq, rec); err != nil {
		return err
	}
	h.hash = hash
	return nil
}

// TestAppendToAHashLogWritesTheSameChain: a log that keeps its last hash gets byte for byte the records a plain
// one gets, and a chain built on a wrong last hash does not verify.
func TestAppendToAHashLogWritesTheSameChain(t *testing.T) {
	plain, hashed := &memLog{}, &hashLog{}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 4 {
		e := audit.Event{Time: at.Add(time.Duration(i) * time.Second), Kind: "code.redeem", Actor: "holder:h1",
			Subject: fmt.Sprintf("r%d", i), Details: map[string]string{"n": fmt.Sprint(i)}}
		if _, err := audit.Append(plain, e); err != nil {
			t.Fatal(err)
		}
		if _, err := audit.Append(hashed, e); err != nil {
			t.Fatal(err)
		}
	}
	for i := range plain.recs {
		if !bytes.Equal(plain.recs[i], hashed.recs[i]) {
			t.Fatalf("record %d:\n%s\n%s", i+1, plain.recs[i], hashed.recs[i])
		}
	}
	if _, err := verifyLines(export(t, &hashed.memLog), audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	hashed.lied = true
	if _, err := audit.Append(hashed, audit.Event{Time: at, Kind: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyLines(export(t, &hashed.memLog), audit.VerifyOptions{}); !errors.Is(err, audit.ErrBroken) {
		t.Fatalf("a chain on a wrong last hash: %v", err)
	}
}

func TestAppendRefusesPESELInClear(t *testing.T) {
	l := &memLog{}
	tests := []audit.Event{
		{Time: t0, Kind: "x", Subject: "44051401359"},
		{Time: t0, Kind: "x", Actor: "44051401359"},
		{Time: t0, Kind: "x", Details: map[string]string{"pesel": "44051401359"}},
		{Time: t0, Kind: "x", Details: map[string]string{"subject": "CN=Jan,SERIALNUMBER=PNOPL-44051401359"}},
	}
	for _, e := range tests {
		if _, err := audit.Append(l, e); !errors.Is(err, audit.ErrSensitive) {
			t.Errorf("%+v: %v", e, err)
		}
	}
	// hashes and other numbers are fine
	ok := audit.Event{Time: t0, Kind: "x", Details: map[string]string{"peselHash": "0123456789012345678901234567890123456789", "phone": "+48500100200", "n": "123456"}}
	if _, err := audit.Append(l, ok); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	l := &memLog{}
	fill(t, l, 12, &audit.Sealer{Signer: key, Clock: fixed{t0}}, 4) // seals at 5, 10, 15
	lines := export(t, l)
	if len(lines) != 15 {
		t.Fatalf("%d lines", len(lines))
	}
	rep, err := verifyLines(lines, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{key.Public()}})
	if err != nil || rep.Seals != 3 || rep.SealedSeq != 15 || rep.Unsealed != 0 || len(rep.KeyIDs) != 1 {
		t.Fatalf("intact export: %+v %v", rep, err)
	}
	edit := func(i int, from, to string) []string {
		out := append([]string(nil), lines...)
		out[i] = strings.Replace(out[i], from, to, 1)
		return out
	}
	drop := func(i int) []string { return append(append([]string(nil), lines[:i]...), lines[i+1:]...) }
	swap := func(i, j int) []string {
		out := append([]string(nil), lines...)
		out[i], out[j] = out[j], out[i]
		return out
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tests := []struct {
		name  string
		lines []string
		opts  audit.VerifyOptions
		seq   uint64
	}{
		{"detail changed", edit(2, `"i":"3"`, `"i":"4"`), audit.VerifyOptions{}, 3},
		{"kind changed", edit(6, `"kind":"test.event"`, `"kind":"test.other"`), audit.VerifyOptions{}, 7},
		{"time changed", edit(1, `"time":"2026`, `"time":"2025`), audit.VerifyOptions{}, 2},
		{"seq changed", edit(7, `"seq":8,`, `"seq":9,`), audit.VerifyOptions{}, 8},
		{"record deleted", drop(3), audit.VerifyOptions{}, 4},
		{"first record deleted", drop(0), audit.VerifyOptions{}, 1},
		{"records reordered", swap(8, 9), audit.VerifyOptions{}, 9},
		{"record duplicated", append(append([]string(nil), lines[:4]...), lines[3:]...), audit.VerifyOptions{}, 4},
		{"seal signature changed", edit(4, `"signature":"`, `"signature":"A`), audit.VerifyOptions{}, 5},
		{"seal by an untrusted key", lines, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{other.Public()}}, 5},
		{"tail cut after a signed head", lines[:12], audit.VerifyOptions{Heads: headsOf(t, lines)}, 13},
		{"rewritten record under a known head", rehash(t, lines, 1), audit.VerifyOptions{Heads: headsOf(t, lines)}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verifyLines(tc.lines, tc.opts)
			var be *audit.BrokenError
			if !errors.As(err, &be) || !errors.Is(err, audit.ErrBroken) || be.Seq != tc.seq {
				t.Fatalf("error %v, want broken at %d", err, tc.seq)
			}
		})
	}
	// without known heads a cut tail is not visible: that is what the heads are for
	if _, err := verifyLines(lines[:12], audit.VerifyOptions{}); err != nil {
		t.Fatalf("prefix without heads: %v", err)
	}
}

func headsOf(t *testing.T, lines []string) []audit.Record {
	var hs []audit.Record
	for _, l := range lines {
		var r audit.Record
		json.Unmarshal([]byte(l), &r)
		if r.Kind == audit.KindSeal {
			hs = append(hs, r)
		}
	}
	return hs
}

// rehash changes record i and recomputes every later hash (an attacker without the seal key).
func rehash(t *testing.T, lines []string, i int) []string {
	out := append([]string(nil), lines...)
	prev := ""
	for j := range out {
		var r audit.Record
		json.Unmarshal([]byte(out[j]), &r)
		if j == i {
			r.Details["i"] = "forged"
		}
		if j >= i {
			r.PrevHash = prev
			r.Hash = r.ComputeHash()
			b, _ := json.Marshal(r)
			out[j] = string(b)
		}
		prev = r.Hash
	}
	return out
}

func TestSealKeys(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, k := range map[string]crypto.Signer{"RSA": rsaKey, "Ed25519": edKey, "ECDSA-P384": ecKey} {
		t.Run(name, func(t *testing.T) {
			l := &memLog{}
			fill(t, l, 2, &audit.Sealer{Signer: k}, 2)
			rep, err := audit.VerifyStore(context.Background(), l, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{k.Public()}})
			if err != nil || rep.Seals != 1 {
				t.Fatalf("%+v %v", rep, err)
			}
		})
	}
}

func TestReadJSONLinesIsStrict(t *testing.T) {
	l := &memLog{}
	fill(t, l, 2, nil, 0)
	lines := export(t, l)
	bad := map[string]string{
		"blank line":     "",
		"array":          "[]",
		"unknown field":  strings.Replace(lines[1], `{"seq"`, `{"extra":true,"seq"`, 1),
		"missing field":  strings.Replace(lines[1], `"actor":"holder:p1",`, ``, 1),
		"trailing data":  lines[1] + " {}",
		"seq as string":  strings.Replace(lines[1], `"seq":2`, `"seq":"2"`, 1),
		"seq fractional": strings.Replace(lines[1], `"seq":2`, `"seq":2.0`, 1),
	}
	for name, second := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := verifyLines([]string{lines[0], second}, audit.VerifyOptions{})
			var be *audit.BrokenError
			if !errors.As(err, &be) || be.Line != 2 {
				t.Fatalf("%v, want broken at line 2", err)
			}
		})
	}
}

func TestVerifyStoreUsesStoredHeads(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	l := &memLog{}
	fill(t, l, 6, &audit.Sealer{Signer: key}, 3)
	l.recs = l.recs[:5] // cut records 6..8 (a seal among them)
	_, err := audit.VerifyStore(context.Background(), l, audit.VerifyOptions{})
	var be *audit.BrokenError
	if !errors.As(err, &be) || be.Seq != 6 {
		t.Fatalf("%v", err)
	}
}
