package profile

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/trustsign/trustsign/store"
)

// SecretFileName is the conventional name of the service secret inside a data directory.
const SecretFileName = "profile.secret"

// LoadOrCreateSecret reads the hex-encoded secret at path, or creates one (32 random bytes, file mode 0600,
// written atomically) when the file does not exist. Keep it out of backups of the database: with both, PESEL
// hashes can be brute-forced.
func LoadOrCreateSecret(path string, rnd io.Reader) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err == nil {
		b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(b) < 32 {
			return nil, fmt.Errorf("profile: secret file %s: want at least 32 hex-encoded bytes", path)
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(hex.EncodeToString(b) + "\n"); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	// Link, not rename: if another process created the file meanwhile, use theirs.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateSecret(path, rnd)
		}
		return nil, err
	}
	return b, nil
}

// ErrSecretMismatch: the profile secret is not the one the store was first used with. Every node of one database
// needs the same secret file (the PESEL index and the codes are keyed with it): copy profile.secret from the data
// directory of the node that first used the store.
var ErrSecretMismatch = errors.New("profile: the store was first used with another profile secret (" + SecretFileName +
	"): every node of one database needs the same file; copy " + SecretFileName +
	" from the data directory of the first node, or use the data directory that goes with this store")

// secretFingerprint is a keyed fingerprint of the secret: the store may hold it, since without the secret it says
// nothing about it.
func secretFingerprint(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("trustsign profile secret fingerprint v1"))
	return m.Sum(nil)
}

// bindSecret compares the secret with the fingerprint in the store, and writes the fingerprint when the store has
// none (a new store, or one made before fingerprints were kept). One transaction: of two nodes starting together
// on a new store with different secrets, one writes and the other is refused.
func bindSecret(ctx context.Context, st Store, secret []byte) error {
	fp := secretFingerprint(secret)
	return st.Update(ctx, func(tx *store.Tx) error {
		stored, err := tx.Setting(store.SettingProfileSecretFingerprint)
		if errors.Is(err, store.ErrNotFound) {
			return tx.PutSetting(store.SettingProfileSecretFingerprint, fp)
		}
		if err != nil {
			return fmt.Errorf("profile: reading the secret's fingerprint: %w", err)
		}
		if !hmac.Equal(stored, fp) {
			return ErrSecretMismatch
		}
		return nil
	})
}
