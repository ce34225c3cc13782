package revocation

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"golang.org/x/crypto/ocsp"
)

// ca is a small CA for these tests: P-256 keys (fast), fixed dates.
type ca struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func issue(t testing.TB, tmpl *x509.Certificate, parent *ca, key crypto.Signer) *x509.Certificate {
	t.Helper()
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = t0.AddDate(-1, 0, 0), t0.AddDate(2, 0, 0)
	}
	p, pk := tmpl, key
	if parent != nil {
		p, pk = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p, key.Public(), pk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newCA(t testing.TB, name string, parent *ca) *ca {
	t.Helper()
	k := newKey(t)
	c := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, parent, k)
	return &ca{c, k}
}

func (c *ca) leaf(t testing.TB, edit func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "Pieczęć testowa"}, KeyUsage: x509.KeyUsageDigitalSignature,
		OCSPServer: []string{"http://ocsp.test/"}, CRLDistributionPoints: []string{"http://crl.test/ca.crl"}}
	if edit != nil {
		edit(tmpl)
	}
	return issue(t, tmpl, c, newKey(t))
}

func (c *ca) responder(t testing.TB, edit func(*x509.Certificate)) *ca {
	t.Helper()
	k := newKey(t)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "OCSP responder"}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}
	if edit != nil {
		edit(tmpl)
	}
	return &ca{issue(t, tmpl, c, k), k}
}

// ocspFor makes an OCSP response about cert, its CertID computed over issuer, signed by signer (embedded unless it is
// issuer).
func ocspFor(t testing.TB, cert *x509.Certificate, issuer *x509.Certificate, signer *ca, tmpl ocsp.Response) []byte {
	t.Helper()
	if tmpl.SerialNumber == nil {
		tmpl.SerialNumber = cert.SerialNumber
	}
	if tmpl.ThisUpdate.IsZero() {
		tmpl.ThisUpdate, tmpl.NextUpdate = t0, t0.Add(24*time.Hour)
	}
	if !signer.cert.Equal(issuer) {
		tmpl.Certificate = signer.cert
	}
	der, err := ocsp.CreateResponse(issuer, signer.cert, tmpl, signer.key)
	if err != nil {
		t.Fatal(err)
	}
	return producedAt(t, der, tmpl.ThisUpdate, signer.key)
}

// producedAt re-signs an OCSP response with its producedAt set to at (testpki.OCSPProducedAt).
func producedAt(t testing.TB, der []byte, at time.Time, key crypto.Signer) []byte {
	t.Helper()
	out, err := testpki.OCSPProducedAt(der, at, key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func crlFor(t testing.TB, issuer *ca, tmpl x509.RevocationList) []byte {
	t.Helper()
	if tmpl.Number == nil {
		tmpl.Number = big.NewInt(1)
	}
	if tmpl.ThisUpdate.IsZero() {
		tmpl.ThisUpdate, tmpl.NextUpdate = t0, t0.Add(7*24*time.Hour)
	}
	der, err := x509.CreateRevocationList(rand.Reader, &tmpl, issuer.cert, issuer.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func idpExtension(t testing.TB, idp issuingDistributionPoint) pkix.Extension {
	t.Helper()
	v, err := asn1.Marshal(idp)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidIssuingDistPoint, Critical: true, Value: v}
}

func TestCheck(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Intermediate", root)
	other := newCA(t, "Other CA", root)
	cert := inter.leaf(t, nil)
	otherLeaf := inter.leaf(t, nil)
	responder := inter.responder(t, nil)
	revokedAt := t0.Add(-time.Hour)
	dpName := func(uri string) asn1.RawValue {
		gn, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(uri)})
		full, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: gn})
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: full}
	}

	tests := []struct {
		name   string
		data   Data
		status Status
		signer *x509.Certificate
		reason int
		skip   string // the skip reason, when the answer is not usable
	}{
		{name: "OCSP good, signed by the issuer", status: Good, signer: inter.cert,
			data: Data{OCSP: [][]byte{ocspFor(t, cert, inter.cert, inter, ocsp.Response{Status: ocsp.Good})}}},
		{name: "OCSP revoked", status: Revoked, signer: inter.cert, reason: ReasonKeyCompromise,
			data: Data{OCSP: [][]byte{ocspFor(t, cert, inter.cert, inter, ocsp.Response{Status: ocsp.Revoked,
				RevokedAt: revokedAt, RevocationReason: ocsp.KeyCompromise})}}},
		{name: "OCSP unknown", status: Unknown, signer: inter.cert,
			data: Data{OCSP: [][]byte{ocspFor(t, cert, inter.cert, inter, ocsp.Response{Status: ocsp.Unknown})}}},
		{name: "OCSP from a delegated responder", status: Good, signer: responder.cert,
			data: Data{OCSP: [][]byte{ocspFor(t, cert, inter.cert, responder, ocsp.Response{Status: ocsp.Good})}}},
		{name: "OCSP from a delegated responder found among the certificates", status: Good, signer: responder.cert,
			data: Data{Certificates: []*x509.Certificate{responder.cert}, OCSP: [][]byte{func() []byte {
				der, err := ocsp.CreateResponse(inter.cert, responder.cert, ocsp.Response{Status: ocsp.Good,
					SerialNumber: cert.SerialNumber, ThisUpdate: t0, NextUpdate: t0.Add(time.Hour)}, responder.key)
				if err != nil {
					t.Fatal(err)
				}
				return producedAt(t, der, t0, responder.key)
			}()}}},
		{name: "bare BasicOCSPResponse (CAdES RevocationValues)", status: Good, signer: inter.cert,
			data: Data{OCSP: [][]byte{basicOf(t, ocspFor(t, cert, inter.cert, inter, ocsp.Response{Status: ocsp.Good}))}}},
		{name: "CRL not listing the certificate", status: Good, signer: inter.cert,
			data: Data{CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{})}}},
		{name: "CRL listing the certificate", status: Revoked, signer: inter.cert, reason: ReasonKeyCompromise,
			data: Data{CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{RevokedCertificateEntries: []x509.RevocationListEntry{
				{SerialNumber: otherLeaf.SerialNumber, RevocationTime: revokedAt},
				{SerialNumber: cert.SerialNumber, RevocationTime: revokedAt, ReasonCode: ReasonKeyCompromise}}})}}},
		{name: "CRL of the certificate's distribution point", status: Good, signer: inter.cert,
			data: Data{CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{ExtraExtensions: []pkix.Extension{
				idpExtension(t, issuingDistributionPoint{DistributionPoint: dpName("http://crl.test/ca.crl"), OnlyContainsUserCerts: true})}})}}},

		{name: "OCSP signed by a certificate without id-kp-OCSPSigning", skip: "no id-kp-OCSPSigning",
			data: Data{OCSP: [][]byte{ocspFor(t, cert, inter.cert, inter.responder(t, func(c *x509.Certificate) { c.ExtKeyUsage = nil }),
				ocsp.Response{Status: ocsp.Good})}}},
		{name: "OCSP responder expired when the response was produced", skip: "not valid when the response was produced",
			data: Data{OCSP: [][]byte{ocspFor(t, cert, inter.cert, inter.responder(t, func(c *x509.Certificate) {
				c.NotBefore, c.NotAfter = t0.AddDate(-2, 0, 0), t0.AddDate(-1, 0, 0)
			}), ocsp.Response{Status: ocsp.Good})}}},
		{name: "OCSP from a responder whose certificate is not embedded nor given", skip: "not signed by the certificate's issuer",
			data: Data{OCSP: [][]byte{func() []byte {
				der, err := ocsp.CreateResponse(inter.cert, responder.cert, ocsp.Response{Status: ocsp.Good,
					SerialNumber: cert.SerialNumber, ThisUpdate: t0}, responder.key)
				if err != nil {
					t.Fatal(err)
				}
				return producedAt(t, der, t0, responder.key)
			}()}}},
		{name: "CRL with an unknown critical extension", skip: "unknown critical extension",
			data: Data{CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{ExtraExtensions: []pkix.Extension{
				{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}})}}},
		{name: "delta CRL", skip: "delta CRL",
			data: Data{CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{ExtraExtensions: []pkix.Extension{
				{Id: oidDeltaCRLIndicator, Critical: true, Value: []byte{2, 1, 1}}}})}}},
		{name: "CRL of CA certificates only", skip: "CA certificates only",
			data: Data{CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{ExtraExtensions: []pkix.Extension{
				idpExtension(t, issuingDistributionPoint{OnlyContainsCACerts: true})}})}}},
		{name: "CRL of another distribution point", skip: "another distribution point",
			data: Data{CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{ExtraExtensions: []pkix.Extension{
				idpExtension(t, issuingDistributionPoint{DistributionPoint: dpName("http://crl.test/partition-2.crl")})}})}}},
		{name: "CRL for some reasons only", skip: "some revocation reasons only",
			data: Data{CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{ExtraExtensions: []pkix.Extension{
				idpExtension(t, issuingDistributionPoint{OnlySomeReasons: asn1.BitString{Bytes: []byte{0x40}, BitLength: 2}})}})}}},
		{name: "garbage OCSP", skip: "not usable", data: Data{OCSP: [][]byte{[]byte("not an OCSP response")}}},
		{name: "garbage CRL", skip: "not usable", data: Data{CRLs: [][]byte{[]byte("not a CRL")}}},
		{name: "OCSP error response", skip: "not usable", data: Data{OCSP: [][]byte{ocsp.TryLaterErrorResponse}}},
		{name: "OCSP whose nextUpdate is before its thisUpdate", skip: "nextUpdate is before",
			data: Data{OCSP: [][]byte{ocspFor(t, cert, inter.cert, inter, ocsp.Response{Status: ocsp.Good, ThisUpdate: t0, NextUpdate: t0.Add(-time.Hour)})}}},
		{name: "CRL of another issuer", skip: "another issuer", data: Data{CRLs: [][]byte{crlFor(t, other, x509.RevocationList{})}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Check(cert, inter.cert, tc.data, t0.Add(time.Hour))
			if tc.skip != "" {
				if len(res.Answers) != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, tc.skip) {
					t.Fatalf("answers %+v skipped %+v, want one skipped for %q", res.Answers, res.Skipped, tc.skip)
				}
				return
			}
			if len(res.Answers) != 1 || len(res.Skipped) != 0 {
				t.Fatalf("answers %+v skipped %+v", res.Answers, res.Skipped)
			}
			a := res.Answers[0]
			if a.Status != tc.status || !a.Signer.Equal(tc.signer) || a.Reason != tc.reason {
				t.Fatalf("status %s signer %s reason %d, want %s %s %d", a.Status, a.Signer.Subject, a.Reason, tc.status, tc.signer.Subject, tc.reason)
			}
			if a.Status == Revoked && !a.RevokedAt.Equal(revokedAt) {
				t.Errorf("revoked at %v, want %v", a.RevokedAt, revokedAt)
			}
			if a.ThisUpdate.IsZero() || a.Issued().IsZero() {
				t.Errorf("dates missing: %+v", a)
			}
		})
	}
}

// TestAttackOCSPForAnotherSerial: a genuine response of the issuer about another certificate says nothing of this one.
func TestAttackOCSPForAnotherSerial(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Intermediate", root)
	cert, other := inter.leaf(t, nil), inter.leaf(t, nil)
	res := Check(cert, inter.cert, Data{OCSP: [][]byte{ocspFor(t, other, inter.cert, inter, ocsp.Response{Status: ocsp.Good})}}, t0)
	if len(res.Answers) != 0 || len(res.Skipped) != 1 {
		t.Fatalf("answers %+v skipped %+v", res.Answers, res.Skipped)
	}
}

// TestAttackOCSPSameSerialOtherIssuer: a response signed by the issuer whose CertID has the right serial but names
// another issuer (x/crypto/ocsp compares the serial only).
func TestAttackOCSPSameSerialOtherIssuer(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Intermediate", root)
	other := newCA(t, "Other CA", root)
	cert := inter.leaf(t, nil)
	der, err := ocsp.CreateResponse(other.cert, inter.cert, ocsp.Response{Status: ocsp.Good, SerialNumber: cert.SerialNumber,
		ThisUpdate: t0, Certificate: inter.cert}, inter.key)
	if err != nil {
		t.Fatal(err)
	}
	der = producedAt(t, der, t0, inter.key)
	res := Check(cert, inter.cert, Data{OCSP: [][]byte{der}}, t0)
	if len(res.Answers) != 0 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "another issuer") {
		t.Fatalf("answers %+v skipped %+v", res.Answers, res.Skipped)
	}
}

// TestAttackOCSPResponderOfAnotherCA: a valid OCSP responder certificate, with id-kp-OCSPSigning, but certified by
// another CA, cannot speak for this issuer's certificates.
func TestAttackOCSPResponderOfAnotherCA(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Intermediate", root)
	other := newCA(t, "Other CA", root)
	cert := inter.leaf(t, nil)
	for _, tc := range []struct {
		name string
		data Data
	}{
		{"embedded", Data{OCSP: [][]byte{ocspFor(t, cert, inter.cert, other.responder(t, nil), ocsp.Response{Status: ocsp.Good})}}},
		{"among the certificates", func() Data {
			rsp := other.responder(t, nil)
			der, err := ocsp.CreateResponse(inter.cert, rsp.cert, ocsp.Response{Status: ocsp.Good, SerialNumber: cert.SerialNumber, ThisUpdate: t0}, rsp.key)
			if err != nil {
				t.Fatal(err)
			}
			der = producedAt(t, der, t0, rsp.key)
			return Data{Certificates: []*x509.Certificate{rsp.cert}, OCSP: [][]byte{der}}
		}()},
		{"same subject as the issuer", func() Data {
			// a self-made "Intermediate" (same name, another key) signing the response
			fake := newCA(t, "Intermediate", nil)
			return Data{OCSP: [][]byte{ocspFor(t, cert, inter.cert, fake, ocsp.Response{Status: ocsp.Good})}}
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Check(cert, inter.cert, tc.data, t0)
			if len(res.Answers) != 0 || len(res.Skipped) != 1 {
				t.Fatalf("answers %+v skipped %+v", res.Answers, res.Skipped)
			}
		})
	}
}

// TestAttackCRLForgedSignature: a CRL naming the issuer but whose signature is not the issuer's (altered, or made
// with another key under the issuer's name).
func TestAttackCRLForgedSignature(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Intermediate", root)
	cert := inter.leaf(t, nil)
	flipped := crlFor(t, inter, x509.RevocationList{})
	flipped[len(flipped)-3] ^= 0x01
	impostor := newCA(t, "Intermediate", nil) // same name, another key
	for name, der := range map[string][]byte{"altered": flipped, "another key": crlFor(t, impostor, x509.RevocationList{})} {
		t.Run(name, func(t *testing.T) {
			res := Check(cert, inter.cert, Data{CRLs: [][]byte{der}}, t0)
			if len(res.Answers) != 0 || len(res.Skipped) != 1 {
				t.Fatalf("answers %+v skipped %+v", res.Answers, res.Skipped)
			}
		})
	}
}

// TestAttackAnswerFromTheFuture: an answer dated after the validation time cannot be true.
func TestAttackAnswerFromTheFuture(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Intermediate", root)
	cert := inter.leaf(t, nil)
	later := t0.Add(24 * time.Hour)
	d := Data{
		OCSP: [][]byte{ocspFor(t, cert, inter.cert, inter, ocsp.Response{Status: ocsp.Good, ThisUpdate: later, NextUpdate: later.Add(time.Hour)})},
		CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{ThisUpdate: later, NextUpdate: later.Add(time.Hour)})},
	}
	res := Check(cert, inter.cert, d, t0)
	if len(res.Answers) != 0 || len(res.Skipped) != 2 {
		t.Fatalf("answers %+v skipped %+v", res.Answers, res.Skipped)
	}
	if res := Check(cert, inter.cert, d, later); len(res.Answers) != 2 {
		t.Fatalf("at their own time: answers %+v skipped %+v", res.Answers, res.Skipped)
	}
}

// The CRL's ExpiredCertsOnCRL and the OCSP archive cutoff are reported: they say whether an expired certificate
// could have been dropped from the answer.
func TestCheckKeepsExpired(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Intermediate", root)
	cert := inter.leaf(t, nil)
	since := t0.AddDate(-5, 0, 0)
	v, err := asn1.MarshalWithParams(since, "generalized")
	if err != nil {
		t.Fatal(err)
	}
	d := Data{
		OCSP: [][]byte{ocspFor(t, cert, inter.cert, inter, ocsp.Response{Status: ocsp.Good,
			ExtraExtensions: []pkix.Extension{{Id: oidOCSPArchiveCutoff, Value: v}}})},
		CRLs: [][]byte{crlFor(t, inter, x509.RevocationList{ExtraExtensions: []pkix.Extension{{Id: oidExpiredCertsOnCRL, Value: v}}})},
	}
	res := Check(cert, inter.cert, d, t0)
	if len(res.Answers) != 2 {
		t.Fatalf("answers %+v skipped %+v", res.Answers, res.Skipped)
	}
	for _, a := range res.Answers {
		if !a.KeepsExpiredSince.Equal(since) {
			t.Errorf("%s keeps expired since %v, want %v", a.Kind, a.KeepsExpiredSince, since)
		}
	}
}

func TestNeedsStatus(t *testing.T) {
	root := newCA(t, "Root", nil)
	inter := newCA(t, "Intermediate", root)
	noCheck := pkix.Extension{Id: oidOCSPNoCheck, Value: []byte{5, 0}}
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		want bool
	}{
		{"OCSP and CRL pointers", inter.leaf(t, nil), true},
		{"OCSP only", inter.leaf(t, func(c *x509.Certificate) { c.CRLDistributionPoints = nil }), true},
		{"CRL only", inter.leaf(t, func(c *x509.Certificate) { c.OCSPServer = nil }), true},
		{"no pointers", inter.leaf(t, func(c *x509.Certificate) { c.OCSPServer, c.CRLDistributionPoints = nil, nil }), false},
		{"OCSP responder with ocsp-nocheck", inter.responder(t, func(c *x509.Certificate) {
			c.OCSPServer, c.ExtraExtensions = []string{"http://ocsp.test/"}, []pkix.Extension{noCheck}
		}).cert, false},
		{"self-signed trust anchor with pointers", func() *x509.Certificate {
			k := newKey(t)
			return issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Root with CDP"}, IsCA: true, BasicConstraintsValid: true,
				KeyUsage: x509.KeyUsageCertSign, CRLDistributionPoints: []string{"http://crl.test/root.crl"}}, nil, k)
		}(), false},
		{"nil", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := NeedsStatus(tc.cert); got != tc.want {
				t.Fatalf("NeedsStatus = %v, want %v", got, tc.want)
			}
		})
	}
}

// FuzzCheck: whatever a signature embeds as OCSP responses and CRLs, Check never panics and never accepts an
// answer that is not signed by the issuer (the fuzzed bytes come with no key).
func FuzzCheck(f *testing.F) {
	root := newCA(f, "Root", nil)
	inter := newCA(f, "Intermediate", root)
	cert := inter.leaf(f, nil)
	f.Add(ocspFor(f, cert, inter.cert, inter, ocsp.Response{Status: ocsp.Good}), true)
	f.Add(crlFor(f, inter, x509.RevocationList{}), false)
	f.Add([]byte{0x30, 0x03, 0x0a, 0x01, 0x00}, true)
	f.Fuzz(func(t *testing.T, der []byte, isOCSP bool) {
		d := Data{CRLs: [][]byte{der}}
		if isOCSP {
			d = Data{OCSP: [][]byte{der}}
		}
		res := Check(cert, inter.cert, d, t0.Add(time.Hour))
		if len(res.Answers)+len(res.Skipped) != 1 {
			t.Fatalf("answers %d skipped %d", len(res.Answers), len(res.Skipped))
		}
		for _, a := range res.Answers {
			if !a.Signer.Equal(inter.cert) {
				t.Fatalf("answer signed by %s", a.Signer.Subject)
			}
		}
	})
}

// basicOf returns the BasicOCSPResponse inside an OCSPResponse.
func basicOf(t testing.TB, der []byte) []byte {
	t.Helper()
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		t.Fatal(err)
	}
	return resp.Bytes.Response
}
