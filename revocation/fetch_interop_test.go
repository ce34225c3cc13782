package revocation_test

import (
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/revocation"
)

// TestInteropOpenSSL: openssl accepts the OCSP responses and CRLs Collect returns (`openssl ocsp -respin` with the
// issuer and the root as trust anchor; `openssl crl -CAfile`), for the leaf (delegated responder) and the
// intermediate (the root's own key).
func TestInteropOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: the OCSP/CRL interop check needs it")
	}
	p := testpki.New()
	r, leaf := signer(t, testpki.RevocationGood)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	root := write("root.pem", testpki.CertsPEM(p.Root))
	inter := write("inter.pem", testpki.CertsPEM(r.Intermediate))
	leafPEM := write("leaf.pem", testpki.CertsPEM(leaf.Cert))
	both := write("ca.pem", testpki.CertsPEM(r.Intermediate, p.Root))
	run := func(args ...string) string {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil {
			t.Errorf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	certs := []struct{ pem, issuer string }{{leafPEM, inter}, {inter, root}}

	for _, mode := range []testpki.RevocationMode{testpki.RevocationGood, testpki.RevocationRevoked} {
		r.SetMode(mode)
		r.SetIntermediateMode(mode)
		d, err := (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}}).Collect(t.Context(), leaf.Chain)
		if err != nil || len(d.OCSP) != 2 {
			t.Fatalf("%v: Collect = %d OCSP, %v", mode, len(d.OCSP), err)
		}
		want := map[testpki.RevocationMode]string{testpki.RevocationGood: "good", testpki.RevocationRevoked: "revoked"}[mode]
		for i, c := range certs {
			out := run("ocsp", "-respin", write(mode.String()+".ocsp", d.OCSP[i]), "-resp_text", "-CAfile", root,
				"-verify_other", inter, "-issuer", c.issuer, "-cert", c.pem)
			if !strings.Contains(out, "Response verify OK") || !strings.Contains(out, c.pem+": "+want) {
				t.Errorf("%v: openssl ocsp on %s:\n%s", mode, filepath.Base(c.pem), out)
			}
		}
	}

	r.SetMode(testpki.RevocationGood)
	r.SetIntermediateMode(testpki.RevocationGood)
	r.SetOCSPMode(testpki.RevocationHTTP500)
	d, err := (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}}).Collect(t.Context(),
		[]*x509.Certificate{leaf.Cert})
	if err != nil || len(d.CRLs) != 1 {
		t.Fatalf("Collect = %d CRLs, %v", len(d.CRLs), err)
	}
	out := run("crl", "-in", write("leaf.crl", d.CRLs[0]), "-inform", "DER", "-CAfile", both, "-noout")
	if !strings.Contains(out, "verify OK") {
		t.Errorf("openssl crl:\n%s", out)
	}
}
