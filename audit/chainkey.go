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
}

type chainKeyFile struct {
	Version   int    `json:"version"`
	HMAC      string `json:"hmacSha256"`
	KeyedFrom uint64 `json:"keyedFrom"`
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
	return &ChainKey{Secret: secret, KeyedFrom: f.KeyedFrom}, nil
}

// Save writes the key to path (mode 0600, written to a temporary file, synced and renamed into place).
func (k *ChainKey) Save(path string) error {
	raw, _ := json.Marshal(chainKeyFile{Version: 1, HMAC: base64.StdEncoding.EncodeToString(k.Secret), KeyedFrom: k.KeyedFrom})
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
