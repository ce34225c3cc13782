package profile_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
)

// TestNewRefusesAnotherSecret: the first service on a store records a keyed fingerprint of its secret (never the
// secret); a service with another secret is refused with ErrSecretMismatch naming profile.secret, one with the
// same secret starts, and a store without a fingerprint (made before they were kept) gets one on the next start.
func TestNewRefusesAnotherSecret(t *testing.T) {
	e := newEnv(t)
	stored := func() []byte {
		t.Helper()
		var v []byte
		if err := e.db.View(ctx, func(tx *store.Tx) (err error) {
			v, err = tx.Setting(store.SettingProfileSecretFingerprint)
			return err
		}); err != nil {
			t.Fatalf("no fingerprint stored: %v", err)
		}
		return v
	}
	fp := stored()
	if len(fp) != 32 || bytes.Contains(fp, e.opts.Secret) {
		t.Fatalf("fingerprint %x: want 32 bytes, not the secret", fp)
	}
	other := e.opts
	other.Secret = []byte("another machine's secret, 32 bytes or more")
	_, err := profile.New(e.db, e.sent, other)
	if !errors.Is(err, profile.ErrSecretMismatch) || !bytes.Contains([]byte(err.Error()), []byte(profile.SecretFileName)) {
		t.Fatalf("another secret on the store: %v, want ErrSecretMismatch naming %s", err, profile.SecretFileName)
	}
	if _, err := profile.New(e.db, e.sent, e.opts); err != nil {
		t.Fatalf("the same secret again: %v", err)
	}
	// a store from before fingerprints: the next start writes one
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		return tx.KV().Delete("settings", []byte(store.SettingProfileSecretFingerprint))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.New(e.db, e.sent, e.opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored(), fp) {
		t.Error("the fingerprint written for an existing store differs")
	}
}

// TestNewRefusesAnotherSecretOnStoreWithoutFingerprint: a store made before fingerprints were kept (or whose
// fingerprint was lost) holds profiles keyed with its secret. A node started on it with another secret (a new data
// directory, whose profile.secret LoadOrCreateSecret just made, or a copied-wrong file) must not bind its own
// fingerprint: it would serve with PESEL lookups and codes that match nothing, and every node with the right secret
// would then be refused. The secret is checked against a stored profile's PESEL index first.
func TestNewRefusesAnotherSecretOnStoreWithoutFingerprint(t *testing.T) {
	e := newEnv(t)
	e.activeProfile(t, "jan_kowalski", "44051401359")
	if err := e.db.Update(ctx, func(tx *store.Tx) error {
		return tx.KV().Delete("settings", []byte(store.SettingProfileSecretFingerprint))
	}); err != nil {
		t.Fatal(err)
	}
	other := e.opts
	other.Secret = []byte("a fresh data directory's new secret, 32+ bytes")
	if _, err := profile.New(e.db, e.sent, other); !errors.Is(err, profile.ErrSecretMismatch) {
		t.Fatalf("another secret on a store of profiles without a fingerprint: %v, want ErrSecretMismatch", err)
	}
	if _, err := profile.New(e.db, e.sent, e.opts); err != nil {
		t.Fatalf("the store's own secret: %v", err)
	}
}
