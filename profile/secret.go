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
	"time"

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
// none (a new store, or one made before fingerprints were kept) and the secret fits the profiles it holds (see
// secretFitsProfiles). One transaction: of two nodes starting together on a new store with different secrets, one
// writes and the other is refused.
func bindSecret(ctx context.Context, st Store, secret []byte) error {
	fp := secretFingerprint(secret)
	return st.Update(ctx, func(tx *store.Tx) error {
		stored, err := tx.Setting(store.SettingProfileSecretFingerprint)
		if errors.Is(err, store.ErrNotFound) {
			if err := secretFitsProfiles(tx, secret); err != nil {
				return err
			}
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

// secretFitsProfiles checks the secret against a few stored profiles (active ones and applications) before a store
// without a fingerprint is bound to it: each one's PESEL index must be the PESEL keyed with this secret. Otherwise the
// first node to start on such a store (one with a new data directory, whose profile.secret was just made) would bind
// its own secret, serve PESEL lookups and codes that match nothing, and get every node with the right secret refused.
func secretFitsProfiles(tx *store.Tx, secret []byte) error {
	key := derive(secret, "pesel-index")
	horizon := time.Now().AddDate(100, 0, 0) // every indexed expiry (within what a time key holds)
	for _, list := range []func(time.Time, int) ([]store.Profile, error){tx.ProfilesExpiredBefore, tx.ApplicationsExpiredBefore} {
		ps, err := list(horizon, 3)
		if err != nil {
			return fmt.Errorf("profile: checking the secret against the stored profiles: %w", err)
		}
		for _, p := range ps {
			if p.PESEL != "" && len(p.PESELHash) > 0 && !hmac.Equal(mac(key, p.PESEL), p.PESELHash) {
				return ErrSecretMismatch
			}
		}
	}
	return nil
}
