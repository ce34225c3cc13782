package store

import "errors"

// Settings are small named values the whole deployment shares, kept in the store so that every node (and every
// admin command) reads the same: for example the fingerprint of the profile secret, which nodes compare with their
// own on start (package profile). A setting is never a secret.

// SettingProfileSecretFingerprint names the keyed fingerprint of the profile secret (written by package profile).
const SettingProfileSecretFingerprint = "profile-secret-fingerprint"

// Setting returns the value of a setting, or ErrNotFound.
func (tx *Tx) Setting(name string) ([]byte, error) {
	v, err := tx.kv.Get(bSettings, []byte(name))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, notFound("setting " + name)
		}
		return nil, err
	}
	return append([]byte(nil), v...), nil
}

// PutSetting stores a setting (replacing its value).
func (tx *Tx) PutSetting(name string, value []byte) error {
	if name == "" {
		return invalid("setting needs a name")
	}
	return tx.kv.Put(bSettings, []byte(name), value)
}
