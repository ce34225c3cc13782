//go:build cgo

package signer_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signer/softhsmtest"
)

// hsmToken is a fresh SoftHSM2 token for the test, the module initialised again to read it.
func hsmToken(t *testing.T) *softhsmtest.Token {
	t.Helper()
	tok := softhsmtest.New(t)
	signer.ResetPKCS11Modules()
	t.Cleanup(signer.ResetPKCS11Modules)
	return tok
}

func openKey(t *testing.T, tok *softhsmtest.Token, object string, pub crypto.PublicKey) *signer.PKCS11Key {
	t.Helper()
	uri, err := signer.ParsePKCS11URI(tok.URI(object))
	if err != nil {
		t.Fatal(err)
	}
	k, err := signer.OpenPKCS11(uri, signer.PKCS11Options{Public: pub})
	if err != nil {
		t.Fatalf("OpenPKCS11(%s): %v", object, err)
	}
	return k
}

// TestPKCS11SignsEveryKeyKind: ECDSA P-256 and P-384, RSA PKCS#1 v1.5 and PSS, each in the token, sign digests that
// crypto/ecdsa and crypto/rsa verify with the certificate's key.
func TestPKCS11SignsEveryKeyKind(t *testing.T) {
	tok := hsmToken(t)
	pki := testpki.New()
	ids := map[string]testpki.Identity{"ec256": pki.EC256, "ec384": pki.EC384, "rsa": pki.RSA}
	n := 1
	for label, id := range ids {
		tok.Import(t, label, "0"+string(rune('0'+n)), id.Key)
		n++
	}
	d256 := sha256.Sum256([]byte("document"))
	d384 := sha512.Sum384([]byte("document"))
	for _, tc := range []struct {
		name, object string
		digest       []byte
		opts         crypto.SignerOpts
	}{
		{"ECDSA P-256 SHA-256", "ec256", d256[:], crypto.SHA256},
		{"ECDSA P-384 SHA-384", "ec384", d384[:], crypto.SHA384},
		{"RSA PKCS#1 v1.5 SHA-256", "rsa", d256[:], crypto.SHA256},
		{"RSA PKCS#1 v1.5 SHA-384", "rsa", d384[:], crypto.SHA384},
		{"RSA-PSS SHA-256", "rsa", d256[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}},
		{"RSA-PSS SHA-384 auto salt", "rsa", d384[:], &rsa.PSSOptions{Hash: crypto.SHA384}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := ids[tc.object]
			k := openKey(t, tok, tc.object, id.Cert.PublicKey)
			sig, err := k.Sign(rand.Reader, tc.digest, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			switch pub := id.Cert.PublicKey.(type) {
			case *ecdsa.PublicKey:
				if !ecdsa.VerifyASN1(pub, tc.digest, sig) {
					t.Fatal("the ECDSA signature does not verify")
				}
			case *rsa.PublicKey:
				if pss, ok := tc.opts.(*rsa.PSSOptions); ok {
					err = rsa.VerifyPSS(pub, pss.Hash, tc.digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
				} else {
					err = rsa.VerifyPKCS1v15(pub, tc.opts.HashFunc(), tc.digest, sig)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestPKCS11RefusesAnotherCertificate: a token key opened with a certificate that is not its own is refused at
// once (the test signature does not verify, or the key types differ), never used to make unverifiable seals.
func TestPKCS11RefusesAnotherCertificate(t *testing.T) {
	tok := hsmToken(t)
	pki := testpki.New()
	tok.Import(t, "seal", "01", pki.EC256.Key)
	other, err := testpki.Fresh()
	if err != nil {
		t.Fatal(err)
	}
	for name, pub := range map[string]crypto.PublicKey{"another P-256 key": other.EC256.Cert.PublicKey,
		"a P-384 key": pki.EC384.Cert.PublicKey, "an RSA key": pki.RSA.Cert.PublicKey} {
		uri, _ := signer.ParsePKCS11URI(tok.URI("seal"))
		if _, err := signer.OpenPKCS11(uri, signer.PKCS11Options{Public: pub}); !errors.Is(err, signer.ErrKeyMismatch) {
			t.Errorf("with %s: %v, want ErrKeyMismatch", name, err)
		}
	}
}

// TestPKCS11Failures: a key that is not in the token, a wrong PIN and a PIN file open to others are refused with
// errors that say so and never show the PIN.
func TestPKCS11Failures(t *testing.T) {
	tok := hsmToken(t)
	pki := testpki.New()
	tok.Import(t, "seal", "01", pki.EC256.Key)
	uri, _ := signer.ParsePKCS11URI(tok.URI("nothere"))
	if _, err := signer.OpenPKCS11(uri, signer.PKCS11Options{Public: pki.EC256.Cert.PublicKey}); !errors.Is(err, signer.ErrTokenUnavailable) {
		t.Errorf("a missing key: %v", err)
	}
	uri, _ = signer.ParsePKCS11URI(tok.URI("seal"))
	_, err := signer.OpenPKCS11(uri, signer.PKCS11Options{Public: pki.EC256.Cert.PublicKey, PIN: "9999"})
	if !errors.Is(err, signer.ErrPINFile) {
		t.Errorf("a wrong PIN: %v, want ErrPINFile", err)
	}
}

// TestPKCS11ConcurrentSigning: many goroutines share a pool smaller than their number; every signature is made
// and checked.
func TestPKCS11ConcurrentSigning(t *testing.T) {
	tok := hsmToken(t)
	pki := testpki.New()
	tok.Import(t, "seal", "01", pki.EC256.Key)
	uri, _ := signer.ParsePKCS11URI(tok.URI("seal"))
	k, err := signer.OpenPKCS11(uri, signer.PKCS11Options{Public: pki.EC256.Cert.PublicKey, Sessions: 3})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			d := sha256.Sum256([]byte{byte(i)})
			if _, err := k.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestPKCS11TokenGoneAndBack: with the token directory moved away the key fails (ErrTokenUnavailable), and once
// it is back the same key signs again, without being opened anew.
func TestPKCS11TokenGoneAndBack(t *testing.T) {
	tok := hsmToken(t)
	pki := testpki.New()
	tok.Import(t, "seal", "01", pki.EC256.Key)
	k := openKey(t, tok, "seal", pki.EC256.Cert.PublicKey)
	tok.Remove(t)
	if err := eventually(k.Check, false); !errors.Is(err, signer.ErrTokenUnavailable) {
		t.Fatalf("token away: %v, want ErrTokenUnavailable", err)
	}
	tok.Restore(t)
	if err := eventually(k.Check, true); err != nil {
		t.Fatalf("token back: %v", err)
	}
}

// TestPKCS11Close: a closed key signs no more; another key of the same module is not affected.
func TestPKCS11Close(t *testing.T) {
	tok := hsmToken(t)
	pki := testpki.New()
	tok.Import(t, "a", "01", pki.EC256.Key)
	tok.Import(t, "b", "02", pki.EC384.Key)
	a := openKey(t, tok, "a", pki.EC256.Cert.PublicKey)
	b := openKey(t, tok, "b", pki.EC384.Cert.PublicKey)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Check(); err == nil || errors.Is(err, signer.ErrTokenUnavailable) {
		t.Fatalf("a closed key: %v, want a refusal that is no outage", err)
	}
	if err := b.Check(); err != nil {
		t.Fatalf("the other key: %v", err)
	}
}

// eventually calls check until it succeeds (ok) or fails (!ok), for at most 5 s (the module is initialised again
// at most once a second); it returns the last outcome.
func eventually(check func() error, ok bool) error {
	var err error
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if err = check(); (err == nil) == ok {
			return err
		}
	}
	return err
}
