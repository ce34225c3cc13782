package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/xades"
)

// timePKI is a root and a signer whose validity periods are fixed, so that tests can validate before, inside and
// after them.
type timePKI struct {
	root, leaf *x509.Certificate
	key        crypto.Signer
}

func newTimePKI(t *testing.T, rootFrom, rootTo, leafFrom, leafTo time.Time, leafTmpl func(*x509.Certificate)) timePKI {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Time Test Root"},
		NotBefore: rootFrom, NotAfter: rootTo, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	rootDER, err := x509.CreateCertificate(rand.Reader, rt, rt, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	lt := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Time Test Seal", Country: []string{"PL"}},
		NotBefore: leafFrom, NotAfter: leafTo, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	if leafTmpl != nil {
		leafTmpl(lt)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, lt, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return timePKI{root: root, leaf: leaf, key: leafKey}
}

func (k timePKI) signXML(t *testing.T, at time.Time) []byte {
	t.Helper()
	out, err := xades.Sign([]byte(`<wniosek>x</wniosek>`), xades.SignOptions{Signer: k.key, Certificate: k.leaf,
		Chain: []*x509.Certificate{k.leaf}, SigningTime: at})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signPDF signs as an attacker's tool would: pades.Sign refuses a certificate that may not sign documents, so the
// PDF is signed with a well-behaved certificate for the same key and its CMS then replaced by one naming k.leaf.
func (k timePKI) signPDF(t *testing.T, at time.Time) []byte {
	t.Helper()
	in := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	good := *k.leaf
	good.KeyUsage, good.ExtKeyUsage = x509.KeyUsageDigitalSignature, nil
	var out bytes.Buffer
	res, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, pades.SignOptions{
		Signer: k.key, Certificate: &good, Time: at})
	if err != nil {
		t.Fatal(err)
	}
	der, err := cms.SignDetached(res.Digest, cms.SignOptions{Signer: k.key, Certificate: k.leaf, PAdES: true})
	if err != nil {
		t.Fatal(err)
	}
	b := out.Bytes()
	gap := b[res.ByteRange[1]+1 : res.ByteRange[2]-1]
	if 2*len(der) > len(gap) {
		t.Fatal("CMS larger than the reserved /Contents")
	}
	for i := range gap {
		gap[i] = '0'
	}
	hex.Encode(gap, der)
	return b
}

func (k timePKI) verifyBoth(t *testing.T, signedAt, at time.Time) map[string]SignatureReport {
	t.Helper()
	p := &Policy{Roots: []*x509.Certificate{k.root}, Now: func() time.Time { return at }}
	x := XML("a.xml", k.signXML(t, signedAt), p, XMLOptions{})
	pdfBytes := k.signPDF(t, signedAt)
	d := PDF(context.Background(), bytes.NewReader(pdfBytes), int64(len(pdfBytes)), p)
	if len(x.Signatures) != 1 || len(d.Signatures) != 1 {
		t.Fatalf("signatures: xml %d, pdf %d", len(x.Signatures), len(d.Signatures))
	}
	return map[string]SignatureReport{"xml": x.Signatures[0], "pdf": d.Signatures[0]}
}

func (k timePKI) verifyPDF(t *testing.T, signedAt, at time.Time) map[string]SignatureReport {
	t.Helper()
	p := &Policy{Roots: []*x509.Certificate{k.root}, Now: func() time.Time { return at }}
	pdfBytes := k.signPDF(t, signedAt)
	d := PDF(context.Background(), bytes.NewReader(pdfBytes), int64(len(pdfBytes)), p)
	if len(d.Signatures) != 1 {
		t.Fatalf("signatures: pdf %d", len(d.Signatures))
	}
	return map[string]SignatureReport{"pdf": d.Signatures[0]}
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }

// A claimed signing time is not proof of existence: validation happens at the validation time, and a certificate
// outside its validity then is INDETERMINATE / OUT_OF_BOUNDS_NO_POE even when the claimed time lies inside it.
func TestValidationAtValidationTime(t *testing.T) {
	for _, tc := range []struct {
		name               string
		rootTo, leafTo     time.Time
		signedAt, verifyAt time.Time
		ind                Indication
		sub                SubIndication
		reason             string
	}{
		{name: "inside every validity", rootTo: day(2040, 1, 1), leafTo: day(2026, 1, 1),
			signedAt: day(2025, 3, 1), verifyAt: day(2025, 6, 1), ind: TotalPassed},
		{name: "signer expired after the claimed time", rootTo: day(2040, 1, 1), leafTo: day(2026, 1, 1),
			signedAt: day(2025, 3, 1), verifyAt: day(2027, 1, 1), ind: Indeterminate, sub: OutOfBoundsNoPOE,
			reason: "claimed signing time 2025-03-01T12:00:00Z is not proof"},
		{name: "root expired after the claimed time", rootTo: day(2026, 6, 1), leafTo: day(2026, 1, 1),
			signedAt: day(2025, 3, 1), verifyAt: day(2026, 7, 1), ind: Indeterminate, sub: OutOfBoundsNoPOE,
			reason: "not valid at the validation time"},
		{name: "signing time claimed long after the certificate expired", rootTo: day(2040, 1, 1), leafTo: day(2026, 1, 1),
			signedAt: day(2026, 5, 1), verifyAt: day(2026, 6, 1), ind: Indeterminate, sub: OutOfBoundsNoPOE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newTimePKI(t, day(2020, 1, 1), tc.rootTo, day(2024, 1, 1), tc.leafTo, nil)
			for format, s := range k.verifyBoth(t, tc.signedAt, tc.verifyAt) {
				if s.Indication != tc.ind || s.SubIndication != tc.sub {
					t.Errorf("%s: %s/%s, want %s/%s %v", format, s.Indication, s.SubIndication, tc.ind, tc.sub, s.Reasons)
				}
				if tc.reason != "" && !strings.Contains(strings.Join(s.Reasons, "; "), tc.reason) {
					t.Errorf("%s: reasons %q lack %q", format, s.Reasons, tc.reason)
				}
				if s.SigningTime == nil || !s.SigningTime.Equal(tc.signedAt) {
					t.Errorf("%s: the claimed time %v is still reported, want %v", format, s.SigningTime, tc.signedAt)
				}
				if s.Checks.SignatureValue != Passed {
					t.Errorf("%s: signature value %s", format, s.Checks.SignatureValue)
				}
			}
		})
	}
}

// A signing certificate whose key usage does not allow document signatures must not pass.
func TestSigningCertificateKeyUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		tmpl func(*x509.Certificate)
		ok   bool
	}{
		{"digitalSignature", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }, true},
		{"nonRepudiation", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageContentCommitment }, true},
		{"keyAgreement only", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyAgreement }, false},
		{"keyEncipherment only", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment }, false},
		{"TLS server certificate", func(c *x509.Certificate) {
			c.KeyUsage = x509.KeyUsageDigitalSignature
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}, false},
		{"time-stamping certificate", func(c *x509.Certificate) {
			c.KeyUsage = x509.KeyUsageDigitalSignature
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
		}, false},
		{"S/MIME and client authentication", func(c *x509.Certificate) {
			c.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newTimePKI(t, day(2020, 1, 1), day(2040, 1, 1), day(2024, 1, 1), day(2030, 1, 1), tc.tmpl)
			// the XML side is xades' TestSigningCertificateKeyUsage (xades.Sign refuses such certificates, its test
			// makes them as another tool would)
			for format, s := range k.verifyPDF(t, day(2025, 3, 1), day(2025, 6, 1)) {
				switch {
				case tc.ok && s.Indication != TotalPassed:
					t.Errorf("%s: %s/%s %v", format, s.Indication, s.SubIndication, s.Reasons)
				case !tc.ok && (s.Indication != Indeterminate || s.SubIndication != ChainConstraintsFailure):
					t.Errorf("%s: %s/%s, want INDETERMINATE/CHAIN_CONSTRAINTS_FAILURE %v", format, s.Indication, s.SubIndication, s.Reasons)
				}
			}
		})
	}
}
