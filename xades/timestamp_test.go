package xades_test

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// stamper returns a SignOptions.TimeStamp asking the test TSA in mode.
func stamper(t *testing.T, mode testpki.TSAMode, h crypto.Hash) func(context.Context, []byte) ([]byte, error) {
	p := testpki.New()
	c := &tsa.Client{URLs: []string{p.TSA(t, mode)}, Hash: h, Roots: p.Roots(), Intermediates: p.Intermediates()}
	return func(ctx context.Context, imprint []byte) ([]byte, error) {
		tok, err := c.Stamp(ctx, imprint)
		if err != nil {
			return nil, err
		}
		return tok.DER, nil
	}
}

func TestSignBT(t *testing.T) {
	p := testpki.New()
	tests := []struct {
		name string
		id   testpki.Identity
		opts xades.SignOptions
	}{
		{"enveloped-rsa", p.RSA, xades.SignOptions{}},
		{"enveloped-ecdsa-sha384", p.EC256, xades.SignOptions{Hash: crypto.SHA384, Chain: p.EC256.Chain}},
		{"enveloping-rsa", p.RSA, xades.SignOptions{Format: xades.Enveloping}},
		{"detached-rsa-sha512", p.RSA, xades.SignOptions{Format: xades.Detached, DetachedURI: "umowa.txt", Hash: crypto.SHA512}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.opts.Hash
			if h == 0 {
				h = crypto.SHA256
			}
			tc.opts.TimeStamp = stamper(t, testpki.TSAGood, h)
			signed := signWith(t, attackDoc, tc.id, tc.opts)
			var detached map[string][]byte
			if tc.opts.Format == xades.Detached {
				detached = map[string][]byte{"umowa.txt": []byte(attackDoc)}
			}
			res, err := xades.Verify([]byte(signed), xades.VerifyOptions{Detached: detached})
			if err != nil || len(res.Signatures) != 1 || len(res.Signatures[0].SignatureTimeStamps) != 1 {
				t.Fatalf("xades.Verify: %v %+v", err, res)
			}
			rep := verify.XML("bt.xml", []byte(signed), trusting(), verify.XMLOptions{Detached: detached})
			s := rep.Signatures[0]
			if rep.Indication != verify.TotalPassed || s.Level != "XAdES-B-T" || len(s.TimeStamps) != 1 {
				t.Fatalf("report: %s level %q timestamps %+v reasons %q", rep.Indication, s.Level, s.TimeStamps, s.Reasons)
			}
			ts := s.TimeStamps[0]
			if ts.Indication != verify.TotalPassed || ts.Time == nil || !strings.Contains(ts.TSA, "Trustsign Test TSA") || ts.Kind != "signature" {
				t.Errorf("time-stamp report %+v", ts)
			}
		})
	}
}

func TestSignBTFailsWhenTSAFails(t *testing.T) {
	p := testpki.New()
	_, err := xades.Sign([]byte(attackDoc), xades.SignOptions{Signer: p.RSA.Key, Certificate: p.RSA.Cert,
		TimeStamp: stamper(t, testpki.TSAHTTP500, crypto.SHA256)})
	if !errors.Is(err, tsa.ErrUnavailable) {
		t.Fatalf("Sign with the TSA down: %v", err)
	}
}

// TestAttackTamperedTimeStamp: a signature time-stamp that is damaged, over other data or copied from another
// signature does not make the signature B-T; it is reported failed and the signature INDETERMINATE.
func TestAttackTamperedTimeStamp(t *testing.T) {
	p := testpki.New()
	signed := signWith(t, attackDoc, p.RSA, xades.SignOptions{TimeStamp: stamper(t, testpki.TSAGood, crypto.SHA256)})
	other := signWith(t, attackDoc, p.RSA, xades.SignOptions{TimeStamp: stamper(t, testpki.TSAGood, crypto.SHA256)})
	tokB64 := between(t, signed, `<xades:EncapsulatedTimeStamp>`, `</xades:EncapsulatedTimeStamp>`)
	otherB64 := between(t, other, `<xades:EncapsulatedTimeStamp>`, `</xades:EncapsulatedTimeStamp>`)
	der, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(strings.TrimPrefix(tokB64, `<xades:EncapsulatedTimeStamp>`), `</xades:EncapsulatedTimeStamp>`))
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), der...)
	flipped[len(flipped)-5] ^= 0x40 // the TSA's signature value
	enc := func(b []byte) string {
		return `<xades:EncapsulatedTimeStamp>` + base64.StdEncoding.EncodeToString(b) + `</xades:EncapsulatedTimeStamp>`
	}
	id := sigIDs(t, signed)[0]
	unknownC14N := replaceOne(t, signed, `Id="`+id+`-sigts"><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"`,
		`Id="`+id+`-sigts"><ds:CanonicalizationMethod Algorithm="urn:unknown"`)
	tests := []struct {
		name, doc string
	}{
		{"flipped signature byte", replaceOne(t, signed, tokB64, enc(flipped))},
		{"token of another signature", replaceOne(t, signed, tokB64, otherB64)},
		{"garbage token", replaceOne(t, signed, tokB64, enc([]byte("not a time-stamp token")))},
		{"not base64", replaceOne(t, signed, tokB64, `<xades:EncapsulatedTimeStamp>!!!</xades:EncapsulatedTimeStamp>`)},
		{"unknown canonicalization", unknownC14N},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := verify.XML("bt.xml", []byte(tc.doc), trusting(), verify.XMLOptions{})
			s := rep.Signatures[0]
			if s.Level != "XAdES-B-B" || rep.Indication != verify.Indeterminate || len(s.TimeStamps) != 1 ||
				s.TimeStamps[0].Indication != verify.TotalFailed {
				t.Fatalf("%s level %q timestamps %+v reasons %q", rep.Indication, s.Level, s.TimeStamps, s.Reasons)
			}
		})
	}
	// the signature itself still verifies: only the unsigned time-stamp changed
	if rep := verify.XML("bt.xml", []byte(tests[0].doc), trusting(), verify.XMLOptions{}); rep.Signatures[0].Checks.SignatureValue != verify.Passed {
		t.Errorf("signature value check %v", rep.Signatures[0].Checks.SignatureValue)
	}
}

// A time-stamp from a TSA the policy does not trust is INDETERMINATE, not proof; being intact, it still gives the
// file its form (level B-T).
func TestTimeStampUntrustedTSA(t *testing.T) {
	p := testpki.New()
	signed := signWith(t, attackDoc, p.RSA, xades.SignOptions{TimeStamp: stamper(t, testpki.TSAGood, crypto.SHA256)})
	other, err := testpki.Fresh()
	if err != nil {
		t.Fatal(err)
	}
	pol := trusting()
	pol.Roots = append(pol.Roots[:0:0], other.Root) // the seal is not trusted either, but the time-stamp is what we look at
	rep := verify.XML("bt.xml", []byte(signed), pol, verify.XMLOptions{})
	s := rep.Signatures[0]
	if s.Level != "XAdES-B-T" || len(s.TimeStamps) != 1 || s.TimeStamps[0].Indication != verify.Indeterminate {
		t.Fatalf("level %q timestamps %+v", s.Level, s.TimeStamps)
	}
}

// Ours → peers: openssl accepts the embedded token as a time-stamp of the canonical ds:SignatureValue.
func TestInteropBTTokenVerifiedByOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	p := testpki.New()
	signed := signWith(t, attackDoc, p.RSA, xades.SignOptions{TimeStamp: stamper(t, testpki.TSAGood, crypto.SHA256)})
	res, err := xades.Verify([]byte(signed), xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Signatures[0].SignatureTimeStamps[0]
	if !strings.HasPrefix(string(st.Covered), `<ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="`) {
		t.Fatalf("covered %q", st.Covered)
	}
	dir := t.TempDir()
	tok := writeFile(t, filepath.Join(dir, "tok.der"), st.Token)
	data := writeFile(t, filepath.Join(dir, "sigvalue.c14n"), st.Covered)
	ca := writeFile(t, filepath.Join(dir, "root.pem"), testpki.CertsPEM(p.Root))
	chain := writeFile(t, filepath.Join(dir, "inter.pem"), testpki.CertsPEM(p.Intermediate))
	if out, err := exec.Command("openssl", "ts", "-verify", "-token_in", "-in", tok, "-data", data, "-CAfile", ca,
		"-untrusted", chain).CombinedOutput(); err != nil {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
}

// Ours → peers: a B-T signature still verifies in xmlsec1 and Santuario (they ignore unsigned properties).
func TestInteropBTVerifiedByPeers(t *testing.T) {
	interoptest.Tool(t)
	p := testpki.New()
	root, inter := interopPKI(t)
	signed := signWith(t, attackDoc, p.RSA, xades.SignOptions{TimeStamp: stamper(t, testpki.TSAGood, crypto.SHA256)})
	good := writeFile(t, filepath.Join(t.TempDir(), "bt.xml"), []byte(signed))
	for _, peer := range []string{"xmlsec", "santuario"} {
		if ok, out := interoptest.Verify(t, peer, good, root, inter); !ok {
			t.Errorf("%s rejects our B-T signature:\n%s", peer, out)
		}
	}
}
