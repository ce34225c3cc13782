//go:build !cgo

package signer

import (
	"crypto"
	"io"
)

// PKCS11Available reports whether this build can use PKCS#11 keys: this one was built without cgo and cannot.
const PKCS11Available = false

// PKCS11Key is a private key in a PKCS#11 token; a build without cgo has none (OpenPKCS11 fails).
type PKCS11Key struct{}

// OpenPKCS11 fails in a build without cgo: loading a PKCS#11 module needs cgo (ErrPKCS11Unavailable).
func OpenPKCS11(*PKCS11URI, PKCS11Options) (*PKCS11Key, error) { return nil, ErrPKCS11Unavailable }

// Public returns nil: a build without cgo opens no PKCS#11 key.
func (*PKCS11Key) Public() crypto.PublicKey { return nil }

// Sign fails with ErrPKCS11Unavailable.
func (*PKCS11Key) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, ErrPKCS11Unavailable
}

// Check fails with ErrPKCS11Unavailable.
func (*PKCS11Key) Check() error { return ErrPKCS11Unavailable }

// Close does nothing.
func (*PKCS11Key) Close() error { return nil }

// URI returns "".
func (*PKCS11Key) URI() string { return "" }
