package testpki_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/internal/testpki"
)

// askOCSP posts an OCSP request about cert to the responders and returns the HTTP status and body.
func askOCSP(t *testing.T, ctx context.Context, r *testpki.Responders, cert, issuer *x509.Certificate) (int, []byte) {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		t.Fatal(err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URLs.OCSP, bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/ocsp-request")
	return do(t, hr)
}

func get(t *testing.T, ctx context.Context, url string) (int, []byte) {
	t.Helper()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, hr)
}

func do(t *testing.T, hr *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, nil
		}
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestRevocationModes asks the OCSP responder and the CRL server, for a leaf and for the intermediate, in every
// mode and checks what each answers.
func TestRevocationModes(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	leaf, err := r.Signer()
	if err != nil {
		t.Fatal(err)
	}
	levels := []struct {
		name         string
		cert, issuer *x509.Certificate
		crlURL       string
		set          func(testpki.RevocationMode)
	}{
		{"leaf", leaf.Cert, r.Intermediate, r.URLs.IntermediateCRL, r.SetMode},
		{"intermediate", r.Intermediate, p.Root, r.URLs.RootCRL, r.SetIntermediateMode},
	}
	for _, lv := range levels {
		for _, mode := range testpki.RevocationModes() {
			t.Run(lv.name+"/"+mode.String(), func(t *testing.T) {
				lv.set(mode)
				defer lv.set(testpki.RevocationGood)
				ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
				defer cancel()

				code, body := askOCSP(t, ctx, r, lv.cert, lv.issuer)
				resp, ocspErr := ocsp.ParseResponseForCert(body, lv.cert, lv.issuer)
				switch mode {
				case testpki.RevocationHTTP500:
					if code != http.StatusInternalServerError {
						t.Errorf("OCSP HTTP %d, want 500", code)
					}
				case testpki.RevocationSlow:
					if code != 0 {
						t.Errorf("OCSP answered (HTTP %d) before the client gave up", code)
					}
				case testpki.RevocationNotDelegated:
					// x/crypto/ocsp checks only that the issuer signed the responder's certificate: the missing
					// id-kp-OCSPSigning is for the client (revocation.Fetcher) to notice.
					if ocspErr != nil || resp.Certificate == nil || len(resp.Certificate.ExtKeyUsage) != 0 {
						t.Errorf("OCSP: %v; want an answer signed by a certificate without EKU", ocspErr)
					}
				case testpki.RevocationGarbage, testpki.RevocationTryLater, testpki.RevocationWrongSigner,
					testpki.RevocationWrongSerial:
					if ocspErr == nil {
						t.Errorf("OCSP answer parses and verifies (status %d)", resp.Status)
					}
				default:
					if ocspErr != nil {
						t.Fatalf("OCSP: %v", ocspErr)
					}
					want := map[testpki.RevocationMode]int{testpki.RevocationRevoked: ocsp.Revoked,
						testpki.RevocationUnknown: ocsp.Unknown}[mode]
					if resp.Status != want {
						t.Errorf("OCSP status %d, want %d", resp.Status, want)
					}
					if mode == testpki.RevocationRevoked && !resp.RevokedAt.Equal(r.RevokedAt()) {
						t.Errorf("revoked at %v, want %v", resp.RevokedAt, r.RevokedAt())
					}
					stale := resp.NextUpdate.Before(time.Now())
					if stale != (mode == testpki.RevocationExpired) {
						t.Errorf("nextUpdate %v, stale = %v", resp.NextUpdate, stale)
					}
					if future := resp.ThisUpdate.After(time.Now()); future != (mode == testpki.RevocationNotYetValid) {
						t.Errorf("thisUpdate %v, in the future = %v", resp.ThisUpdate, future)
					}
				}

				code, body = get(t, ctx, lv.crlURL)
				crl, crlErr := x509.ParseRevocationList(body)
				if crlErr == nil {
					crlErr = crl.CheckSignatureFrom(lv.issuer)
				}
				switch mode {
				case testpki.RevocationHTTP500, testpki.RevocationUnknown, testpki.RevocationTryLater:
					if code < 400 {
						t.Errorf("CRL HTTP %d, want an error status", code)
					}
				case testpki.RevocationSlow:
					if code != 0 {
						t.Errorf("CRL answered (HTTP %d) before the client gave up", code)
					}
				case testpki.RevocationGarbage, testpki.RevocationWrongSigner, testpki.RevocationNotDelegated,
					testpki.RevocationWrongSerial:
					if crlErr == nil {
						t.Error("CRL parses and verifies")
					}
				default:
					if crlErr != nil {
						t.Fatalf("CRL: %v", crlErr)
					}
					listed := false
					for _, e := range crl.RevokedCertificateEntries {
						listed = listed || e.SerialNumber.Cmp(lv.cert.SerialNumber) == 0
					}
					if listed != (mode == testpki.RevocationRevoked) {
						t.Errorf("certificate listed = %v", listed)
					}
				}
			})
		}
	}
}

// TestRevocationSwitch signs-then-revokes: the same certificate is good, then revoked after SetMode; GET requests
// are answered like POST.
func TestRevocationSwitch(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	id, err := r.TSAIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if id.Cert.OCSPServer[0] != r.URLs.OCSP || id.Cert.CRLDistributionPoints[0] != r.URLs.IntermediateCRL ||
		id.Cert.IssuingCertificateURL[0] != r.URLs.IntermediateCert {
		t.Fatalf("TSA certificate does not point at the responders: %v %v %v", id.Cert.OCSPServer,
			id.Cert.CRLDistributionPoints, id.Cert.IssuingCertificateURL)
	}
	if _, err := id.Cert.Verify(x509.VerifyOptions{Roots: p.Roots(), Intermediates: pool(r.Intermediate),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
		t.Fatal(err)
	}
	status := func() int {
		req, err := ocsp.CreateRequest(id.Cert, r.Intermediate, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, body := get(t, t.Context(), r.URLs.OCSP+"/"+base64.StdEncoding.EncodeToString(req))
		resp, err := ocsp.ParseResponseForCert(body, id.Cert, r.Intermediate)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Status
	}
	if s := status(); s != ocsp.Good {
		t.Fatalf("status %d, want good", s)
	}
	at := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	r.SetRevokedAt(at)
	r.SetMode(testpki.RevocationRevoked)
	if s := status(); s != ocsp.Revoked {
		t.Fatalf("status %d, want revoked", s)
	}
	der, err := r.OCSPResponse(id.Cert)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ocsp.ParseResponseForCert(der, id.Cert, r.Intermediate)
	if err != nil || !resp.RevokedAt.Equal(at) {
		t.Fatalf("OCSPResponse: %v, revoked at %v", err, resp.RevokedAt)
	}
	if r.Requests() != 2 {
		t.Errorf("Requests() = %d, want 2", r.Requests())
	}
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// TestRevocationOpenSSL checks that openssl accepts the responders' OCSP answers (leaf: delegated responder;
// intermediate: the root's key) and CRLs, and rejects the wrong signer's.
func TestRevocationOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: the OCSP/CRL interop check needs it")
	}
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	leaf, err := r.Signer()
	if err != nil {
		t.Fatal(err)
	}
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
	run := func(args ...string) (string, error) {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		return string(out), err
	}
	for _, mode := range []testpki.RevocationMode{testpki.RevocationGood, testpki.RevocationRevoked,
		testpki.RevocationWrongSigner} {
		t.Run(mode.String(), func(t *testing.T) {
			r.SetMode(mode)
			r.SetIntermediateMode(mode)
			wantOK := mode != testpki.RevocationWrongSigner
			wantStatus := map[testpki.RevocationMode]string{testpki.RevocationRevoked: "revoked"}[mode]
			if wantStatus == "" {
				wantStatus = "good"
			}
			for _, c := range []struct {
				name, cert, issuer string
				x509               *x509.Certificate
			}{{"leaf", leafPEM, inter, leaf.Cert}, {"intermediate", inter, root, r.Intermediate}} {
				der, err := r.OCSPResponse(c.x509)
				if err != nil {
					t.Fatal(err)
				}
				out, err := run("ocsp", "-respin", write(c.name+".ocsp", der), "-resp_text", "-CAfile", root,
					"-verify_other", inter, "-issuer", c.issuer, "-cert", c.cert)
				ok := err == nil && strings.Contains(out, "Response verify OK")
				if ok != wantOK {
					t.Errorf("%s: openssl ocsp verified = %v:\n%s", c.name, ok, out)
				}
				if wantOK && !strings.Contains(out, c.cert+": "+wantStatus) {
					t.Errorf("%s: openssl ocsp does not say %q:\n%s", c.name, wantStatus, out)
				}
				crl, err := r.CRL(c.x509)
				if err != nil {
					t.Fatal(err)
				}
				out, err = run("crl", "-in", write(c.name+".crl", crl), "-inform", "DER", "-CAfile", both, "-noout")
				ok = err == nil && strings.Contains(out, "verify OK")
				if ok != wantOK {
					t.Errorf("%s: openssl crl verified = %v:\n%s", c.name, ok, out)
				}
			}
		})
	}
}

// TestRevocationNotOurs: the responders refuse to speak for certificates of another CA.
func TestRevocationNotOurs(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	if _, err := r.OCSPResponse(p.RSA.Cert); err == nil {
		t.Error("OCSPResponse answers for a certificate of another CA")
	}
	_, body := askOCSP(t, t.Context(), r, p.RSA.Cert, p.Intermediate)
	if _, err := ocsp.ParseResponse(body, nil); !errors.As(err, new(ocsp.ResponseError)) {
		t.Errorf("answer for another CA: %v, want an unauthorized ResponseError", err)
	}
	tmpl := r.Template(testpki.Subject)
	tmpl.CRLDistributionPoints = []string{}
	tmpl.SerialNumber = big.NewInt(77)
	c, err := r.Issue(tmpl, p.EC256.Key)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.CRLDistributionPoints) != 0 || len(c.OCSPServer) != 1 || c.SerialNumber.Int64() != 77 {
		t.Errorf("Issue did not keep the template's choices: CDP %v, OCSP %v", c.CRLDistributionPoints, c.OCSPServer)
	}
}
