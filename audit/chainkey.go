package audit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ChainKeyFileName is the chain key's file name beside the store file (in the data directory, outside the store).
const ChainKeyFileName = "audit-chain.key"

// ErrChainKey is returned for a chain key file that cannot be used.
var ErrChainKey = errors.New("audit: chain key unusable")

// ChainKey keys the chain: from record KeyedFrom on, every record carries a MAC of its hash, HMAC-SHA-256 under
// Secret (see ComputeMAC), so that a chain recomputed without the key no longer verifies. Records before KeyedFrom
// were written before the chain was keyed (a store upgraded from schema 1) and carry no MAC; the first MAC covers
// them through the hash chain.
//
// The key lives in its own file in the data directory, apart from the store file: copying or editing the store
// alone (a stolen or restored backup, a tool that opens the bbolt file) does not give it.
type ChainKey struct {
	Secret    []byte
	KeyedFrom uint64
	// Tipped says that the store keeps a keyed Tip with this key: from then on a store without its tip, or with
	// a tip that does not match its last record, has lost records at its end. It is recorded here, outside the
	// store, so that deleting the tip from the store does not pass as a store from before tips.
	Tipped bool
	// TipFrom is the last record when the store began to keep a tip: a store whose log ends at or before it and has
	// no tip is a copy from before that (a backup restored), not a cut log. Zero for a store that kept a tip from
	// its first record.
	TipFrom uint64
}

type chainKeyFile struct {
	Version   int    `json:"version"`
	HMAC      string `json:"hmacSha256"`
	KeyedFrom uint64 `json:"keyedFrom"`
	Tipped    bool   `json:"tipped,omitempty"`
	TipFrom   uint64 `json:"tipFrom,omitempty"`
}

// NewChainKey makes a 32-byte key from rnd (crypto/rand when nil) that keys records from keyedFrom on.
func NewChainKey(rnd io.Reader, keyedFrom uint64) (*ChainKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	k := &ChainKey{Secret: make([]byte, 32), KeyedFrom: max(keyedFrom, 1)}
	if _, err := io.ReadFull(rnd, k.Secret); err != nil {
		return nil, fmt.Errorf("audit: making the chain key: %w", err)
	}
	return k, nil
}

// LoadChainKey reads a chain key file. A missing file is os.ErrNotExist (errors.Is).
func LoadChainKey(path string) (*ChainKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f chainKeyFile
	if err := json.Unmarshal(raw, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("%w: %s is not a chain key file", ErrChainKey, path)
	}
	secret, err := base64.StdEncoding.DecodeString(f.HMAC)
	if err != nil || len(secret) < 32 || f.KeyedFrom < 1 {
		return nil, fmt.Errorf("%w: %s holds no 32-byte key", ErrChainKey, path)
	}
	return &ChainKey{Secret: secret, KeyedFrom: f.KeyedFrom, Tipped: f.Tipped, TipFrom: f.TipFrom}, nil
}

// Save writes the key to path (mode 0600, written to a temporary file, synced and renamed into place).
func (k *ChainKey) Save(path string) error {
	raw, _ := json.Marshal(chainKeyFile{Version: 1, HMAC: base64.StdEncoding.EncodeToString(k.Secret), KeyedFrom: k.KeyedFrom, Tipped: k.Tipped, TipFrom: k.TipFrom})
	tmp, err := os.CreateTemp(filepath.Dir(path), ".audit-chain-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ID names the key without revealing it (hex of the first 8 bytes of an HMAC of a fixed label).
func (k *ChainKey) ID() string {
	m := hmac.New(sha256.New, k.Secret)
	m.Write([]byte("trustsign-audit-key-id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// ComputeMAC returns the MAC the record must carry under key k: "" for records before k.KeyedFrom (or when k is
// nil), else hex(HMAC-SHA-256(k.Secret, "trustsign-audit-mac-v1\n" || hash)). The hash covers the record and,
// through prevHash, every record before it, so one MAC authenticates the whole chain up to its record.
func (r *Record) ComputeMAC(k *ChainKey) string {
	if k == nil || r.Seq < k.KeyedFrom {
		return ""
	}
	m := hmac.New(sha256.New, k.Secret)
	m.Write([]byte("trustsign-audit-mac-v1\n"))
	m.Write([]byte(r.Hash))
	return hex.EncodeToString(m.Sum(nil))
}

// KeyedLog is a Log that keys the chain; Append uses its key. store.Tx satisfies it.
type KeyedLog interface {
	Log
	// AuditChainKey returns the chain key, or nil for an unkeyed chain.
	AuditChainKey() *ChainKey
}

// Tip is the keyed mark of the log's end: the last record's seq and the SHA-256 of its stored encoding, with a
// MAC under the chain key. The store rewrites it in the transaction of every record it appends, so records cut
// off the end of the log (or the whole log) no longer match it, and only the key's holder can make a tip for an
// earlier end. (Putting back an older copy of the whole store, tip included, is not caught here: the signed heads
// copied off the host catch that, see docs/operations.md.)
type Tip struct {
	Seq    uint64 `json:"seq"`
	Digest string `json:"sha256"`
	MAC    string `json:"mac"`
}

// NewTip returns the tip for a log whose last record is seq, stored as rec (seq 0 and nil: an empty log).
func (k *ChainKey) NewTip(seq uint64, rec []byte) Tip {
	d := sha256.Sum256(rec)
	t := Tip{Seq: seq, Digest: hex.EncodeToString(d[:])}
	t.MAC = k.tipMAC(t)
	return t
}

// Matches reports whether t is a tip made with k for a log whose last record is seq, stored as rec.
func (k *ChainKey) Matches(t Tip, seq uint64, rec []byte) bool {
	d := sha256.Sum256(rec)
	return t.Seq == seq && t.Digest == hex.EncodeToString(d[:]) && hmac.Equal([]byte(t.MAC), []byte(k.tipMAC(t)))
}

func (k *ChainKey) tipMAC(t Tip) string {
	m := hmac.New(sha256.New, k.Secret)
	fmt.Fprintf(m, "trustsign-audit-tip-v1\n%d\n%s", t.Seq, t.Digest)
	return hex.EncodeToString(m.Sum(nil))
}

// TipRequired reports whether a log ending at last must have a tip: always once the store keeps one, except for a
// log that ends at or before TipFrom (a copy from before the store kept tips).
func (k *ChainKey) TipRequired(last uint64) bool {
	return k != nil && k.Tipped && (k.TipFrom == 0 || last > k.TipFrom)
}
