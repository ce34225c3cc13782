//go:build !cgo

package main

import (
	"crypto"
	"crypto/elliptic"
	"crypto/x509"

	"github.com/trustsign/trustsign/signer"
)

// tokenSession is unavailable without cgo: openToken fails with signer.ErrPKCS11Unavailable.
type tokenSession struct{}

func openToken(*signer.PKCS11URI) (*tokenSession, error) {
	return nil, failErr(exitFailed, signer.ErrPKCS11Unavailable)
}

func (*tokenSession) Close() error { return nil }

func (*tokenSession) generate(int, elliptic.Curve) (crypto.Signer, []byte, error) {
	return nil, nil, signer.ErrPKCS11Unavailable
}

func (*tokenSession) keyPair() (crypto.Signer, error) { return nil, signer.ErrPKCS11Unavailable }

func (*tokenSession) importCertificate(crypto.Signer, *x509.Certificate) error {
	return signer.ErrPKCS11Unavailable
}
