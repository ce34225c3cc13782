package tsa_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/tsa"
)

func imprint(s string) []byte { d := sha256.Sum256([]byte(s)); return d[:] }

func TestStampModes(t *testing.T) {
	p := testpki.New()
	tests := []struct {
		mode testpki.TSAMode
		want error
	}{
		{testpki.TSAGood, nil},
		{testpki.TSAHTTP500, tsa.ErrUnavailable},
		{testpki.TSASlow, tsa.ErrUnavailable},
		{testpki.TSAWrongImprint, tsa.ErrMismatch},
		{testpki.TSAWrongNonce, tsa.ErrMismatch},
		{testpki.TSANoEKU, tsa.ErrCertificate},
		{testpki.TSANonCriticalEKU, tsa.ErrCertificate},
		{testpki.TSAExpired, tsa.ErrCertificate},
		{testpki.TSAGarbage, tsa.ErrMalformed},
		{testpki.TSARejected, tsa.ErrRejected},
	}
	if len(tests) != len(testpki.TSAModes()) {
		t.Fatalf("%d cases for %d modes", len(tests), len(testpki.TSAModes()))
	}
	for _, tc := range tests {
		t.Run(tc.mode.String(), func(t *testing.T) {
			c := &tsa.Client{URLs: []string{p.TSA(t, tc.mode)}, Timeout: 300 * time.Millisecond,
				Roots: p.Roots(), Intermediates: p.Intermediates()}
			im := imprint("prescription " + tc.mode.String())
			tok, err := c.Stamp(context.Background(), im)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Stamp: %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if tok.Certificate.Subject.CommonName != "Trustsign Test TSA" || tok.Time.IsZero() || tok.Serial == nil ||
				tok.Accuracy != time.Second || len(tok.Policy) == 0 {
				t.Errorf("token %+v", tok)
			}
			got, err := tsa.Verify(tok.DER, im, crypto.SHA256, tsa.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates()})
			if err != nil || !got.Time.Equal(tok.Time) {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

// Without Roots the client still refuses a broken TSA certificate (EKU, validity).
func TestStampWithoutRoots(t *testing.T) {
	p := testpki.New()
	for _, m := range []testpki.TSAMode{testpki.TSANoEKU, testpki.TSANonCriticalEKU, testpki.TSAExpired} {
		c := &tsa.Client{URLs: []string{p.TSA(t, m)}, Timeout: time.Second}
		if _, err := c.Stamp(context.Background(), imprint("x")); !errors.Is(err, tsa.ErrCertificate) {
			t.Errorf("%v: %v, want ErrCertificate", m, err)
		}
	}
}

func TestStampFailover(t *testing.T) {
	p := testpki.New()
	c := &tsa.Client{
		URLs:    []string{p.TSA(t, testpki.TSAHTTP500), p.TSA(t, testpki.TSASlow), "http://127.0.0.1:1/", p.TSA(t, testpki.TSAGood)},
		Timeout: 200 * time.Millisecond, Roots: p.Roots(), Intermediates: p.Intermediates(),
	}
	if _, err := c.Stamp(context.Background(), imprint("failover")); err != nil {
		t.Fatal(err)
	}
	c.URLs = c.URLs[:3]
	if _, err := c.Stamp(context.Background(), imprint("failover")); !errors.Is(err, tsa.ErrUnavailable) {
		t.Fatalf("all down: %v", err)
	}
}

func TestStampRejectsBadInput(t *testing.T) {
	c := &tsa.Client{}
	if _, err := c.Stamp(context.Background(), imprint("x")); !errors.Is(err, tsa.ErrUnavailable) {
		t.Errorf("no URLs: %v", err)
	}
	c.URLs = []string{"http://127.0.0.1:1/"}
	if _, err := c.Stamp(context.Background(), []byte("short")); !errors.Is(err, tsa.ErrMismatch) {
		t.Errorf("short imprint: %v", err)
	}
}

func TestVerify(t *testing.T) {
	p := testpki.New()
	c := &tsa.Client{URLs: []string{p.TSA(t, testpki.TSAGood)}, Roots: p.Roots(), Intermediates: p.Intermediates()}
	im := imprint("verify")
	tok, err := c.Stamp(context.Background(), im)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), tok.DER...)
	flipped[len(flipped)-10] ^= 1 // inside the signature value
	other := p.Attacker.Cert
	tests := []struct {
		name    string
		der     []byte
		imprint []byte
		hash    crypto.Hash
		o       tsa.VerifyOptions
		want    error
	}{
		{"good", tok.DER, im, crypto.SHA256, tsa.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates()}, nil},
		{"other imprint", tok.DER, imprint("other"), crypto.SHA256, tsa.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates()}, tsa.ErrMismatch},
		{"other hash", tok.DER, im, crypto.SHA384, tsa.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates()}, tsa.ErrMismatch},
		{"tampered signature", flipped, im, crypto.SHA256, tsa.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates()}, tsa.ErrSignature},
		{"garbage", []byte("not a token"), im, crypto.SHA256, tsa.VerifyOptions{Roots: p.Roots()}, tsa.ErrMalformed},
		{"untrusted root", tok.DER, im, crypto.SHA256, tsa.VerifyOptions{Roots: poolOf(t, other), Intermediates: p.Intermediates()}, tsa.ErrCertificate},
		{"chain after expiry", tok.DER, im, crypto.SHA256, tsa.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates(), At: time.Now().AddDate(10, 0, 0)}, tsa.ErrCertificate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tsa.Verify(tc.der, tc.imprint, tc.hash, tc.o)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Verify: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestOpenSSLVerifiesToken: `openssl ts -verify` accepts a token of the test TSA.
func TestOpenSSLVerifiesToken(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	p := testpki.New()
	c := &tsa.Client{URLs: []string{p.TSA(t, testpki.TSAGood)}, Roots: p.Roots(), Intermediates: p.Intermediates()}
	data := []byte("prescription for openssl")
	d := sha256.Sum256(data)
	tok, err := c.Stamp(context.Background(), d[:])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(n string, b []byte) string {
		f := filepath.Join(dir, n)
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	tokf, dataf := write("tok.der", tok.DER), write("data", data)
	ca := write("ca.pem", testpki.CertsPEM(p.Root))
	untrusted := write("chain.pem", testpki.CertsPEM(p.Intermediate))
	out, err := exec.Command("openssl", "ts", "-verify", "-token_in", "-in", tokf, "-data", dataf,
		"-CAfile", ca, "-untrusted", untrusted).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
}

func poolOf(t *testing.T, certs ...*x509.Certificate) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}
