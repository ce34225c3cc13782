package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // the DSS /VRI keys are SHA-1 hashes
	"crypto/x509"
	"fmt"
	"math/big"
	"testing"

	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/revocation"
)

// TestAttackCompromisedTSABackdates: a TSA certificate revoked because its key was compromised. Whoever holds the
// key can make tokens with any genTime, so a token dated before the revocation proves nothing: RFC 3161 4 ("any
// token signed using that private key cannot be trusted anymore"). The token's own genTime must not serve as
// the proof that its TSA was not yet revoked, nor give the signature a proof of existence; the same for a CA of
// the TSA's chain revoked for a key or CA compromise (it could have certified a TSA of the attacker's).
func TestAttackCompromisedTSABackdates(t *testing.T) {
	k := newLTPKI(t, nil)
	k.tsa = ltIssue(t, tsaTemplate(func(c *x509.Certificate) { c.OCSPServer = []string{"http://ocsp.test/tsa"} }), &k.inter)
	// the backdated token says 2025-03-01; the TSA's key was reported compromised on 2025-03-02
	ts, now := day(2025, 3, 1), day(2025, 3, 3)
	sealGood := ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, zeroTime, day(2025, 3, 2))
	interGood := ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, zeroTime, day(2025, 3, 2))
	for _, tc := range []struct {
		name string
		data [][]byte
	}{
		{"TSA key compromised after the token's time", [][]byte{sealGood, interGood,
			ltOCSPReason(t, k.tsa.cert, k.inter, k.inter, ocsp.Revoked, day(2025, 3, 2), day(2025, 3, 2), ocsp.KeyCompromise)}},
		{"TSA's CA compromised after the token's time", [][]byte{sealGood,
			ltOCSPReason(t, k.inter.cert, k.root, k.root, ocsp.Revoked, day(2025, 3, 2), day(2025, 3, 2), ocsp.CACompromise),
			ltOCSP(t, k.tsa.cert, k.inter, k.inter, ocsp.Good, zeroTime, day(2025, 3, 2))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for format, verify := range k.signBoth(t, ts) {
				p := k.policy(now)
				d := revocation.Data{OCSP: tc.data}
				p.Fetch = func(context.Context, []*x509.Certificate) (revocation.Data, error) { return d, nil }
				s := verify(p)
				if len(s.TimeStamps) != 1 {
					t.Fatalf("%s: time-stamps %+v", format, s.TimeStamps)
				}
				if got := s.TimeStamps[0]; got.Indication == TotalPassed {
					t.Errorf("%s: a token of a compromised TSA chain is TOTAL_PASSED (%+v)", format, got.Revocation)
				}
				if s.Indication == TotalPassed {
					t.Errorf("%s: signature TOTAL_PASSED on a backdated token's proof", format)
				}
			}
		})
	}
}

// TestAttackSharedDSSRecheckedPerSignature: a DSS appended to a PDF is shared by all its signatures (and their
// time-stamps); its answers must be parsed and their signatures checked once per file, not once per signature and
// per certificate judged: an attacker copies a legitimate signature into many fields and appends a DSS of
// thousands of answers (each costing a signature check). Counted, not timed: verifying a file of eight
// signatures over the DSS checks no more answers than a file of one.
func TestAttackSharedDSSRecheckedPerSignature(t *testing.T) {
	k := newLTPKI(t, nil)
	const answers = 800
	var d revocation.Data
	for range answers {
		d.OCSP = append(d.OCSP, ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, zeroTime, day(2025, 3, 2)))
	}
	d.OCSP = append(d.OCSP, ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, zeroTime, day(2025, 3, 2)))
	if r := revocation.Check(k.seal.cert, k.inter.cert, d, day(2025, 3, 3)); len(r.Answers) != answers {
		t.Fatalf("%d answers usable, want %d (skipped %+v)", len(r.Answers), answers, r.Skipped[:min(1, len(r.Skipped))])
	}
	// checks verifies a file of sigs signatures sharing the DSS and returns how many answers the file's memo
	// checked (parsed and verified rather than recalled): the work, whatever the machine's speed.
	checks := func(sigs int) int {
		doc := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
		for range sigs {
			var out bytes.Buffer
			if _, err := pades.Sign(context.Background(), bytes.NewReader(doc), int64(len(doc)), &out, pades.SignOptions{
				Signer: k.seal.key, Certificate: k.seal.cert, Chain: []*x509.Certificate{k.inter.cert}, Time: day(2025, 3, 1)}); err != nil {
				t.Fatal(err)
			}
			doc = out.Bytes()
		}
		var out bytes.Buffer
		if err := pades.Extend(context.Background(), bytes.NewReader(doc), int64(len(doc)), &out, pades.ExtendOptions{Level: "b-lt", TimeStamp: k.stamper(t, day(2025, 3, 1)),
			Validation: func(context.Context, []*x509.Certificate) (revocation.Data, error) { return d, nil }}); err != nil {
			t.Fatal(err)
		}
		file := out.Bytes()
		p := k.policy(day(2025, 3, 3)).forFile()
		rep := PDF(context.Background(), bytes.NewReader(file), int64(len(file)), p)
		if len(rep.Signatures) != sigs+1 || rep.Signatures[0].Indication != TotalPassed { // and the document time-stamp
			t.Fatalf("%d signatures, first %s %q", len(rep.Signatures), rep.Signatures[0].Indication, rep.Signatures[0].Reasons)
		}
		return p.memo.Checks()
	}
	// Each answer is checked once per certificate judged (the seal, its CA, the TSA's) and set of certificates it
	// may be signed by: the count does not grow with the signatures.
	one, many := checks(1), checks(8)
	if many > one {
		t.Errorf("verifying 8 signatures sharing a DSS of %d answers checked %d answers, one signature %d: the answers are checked again for each signature", answers, many, one)
	}
}

// TestAttackWeakTSAKeyGivesPOE: a time-stamp is only as strong as its TSA's key. A token signed with a key the
// policy finds too weak for a signature (RSA-1024: forgeable) must not be a proof of existence either: the
// signature whose certificate has expired since stays INDETERMINATE, as without the token.
func TestAttackWeakTSAKeyGivesPOE(t *testing.T) {
	k := newLTPKI(t, nil)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := tsaTemplate(nil)
	tmpl.SerialNumber = big.NewInt(9001)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, k.inter.cert, weak.Public(), k.inter.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	k.tsa = ltCA{cert: cert, key: weak}
	sealGood := ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, zeroTime, day(2025, 3, 2))
	interGood := ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, zeroTime, day(2025, 3, 2))
	for format, verify := range k.signBoth(t, day(2025, 3, 1)) {
		p := k.policy(day(2027, 1, 1)) // the seal expired on 2026-01-01
		p.Fetch = func(context.Context, []*x509.Certificate) (revocation.Data, error) {
			return revocation.Data{OCSP: [][]byte{sealGood, interGood}}, nil
		}
		s := verify(p)
		if len(s.TimeStamps) != 1 {
			t.Fatalf("%s: time-stamps %+v", format, s.TimeStamps)
		}
		if s.TimeStamps[0].Indication == TotalPassed || s.Indication == TotalPassed {
			t.Errorf("%s: a token signed by an RSA-1024 TSA key is a proof of existence: time-stamp %s, signature %s",
				format, s.TimeStamps[0].Indication, s.Indication)
		}
	}
}

// TestAttackVRIHidesRevocation: the DSS holds, in /OCSPs, an answer saying the seal was revoked before the
// signature's time-stamp (a revocation dated back to the key compromise), and a good answer issued after the
// time-stamp (before the revocation was announced). A VRI entry for the signature, written by anyone in a later
// revision, names only the good one. The VRI is optional (PAdES): it cannot make the verifier look away from the
// revocation the same DSS holds.
func TestAttackVRIHidesRevocation(t *testing.T) {
	k := newLTPKI(t, nil)
	doc := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	var out bytes.Buffer
	if _, err := pades.Sign(context.Background(), bytes.NewReader(doc), int64(len(doc)), &out, pades.SignOptions{
		Signer: k.seal.key, Certificate: k.seal.cert, Chain: []*x509.Certificate{k.inter.cert}, Time: day(2025, 3, 1),
		TimeStamp: k.stamper(t, day(2025, 3, 1))}); err != nil {
		t.Fatal(err)
	}
	signed := out.Bytes()
	res, err := pades.Verify(context.Background(), bytes.NewReader(signed), int64(len(signed)), pades.VerifyOptions{})
	if err != nil || len(res.Signatures) != 1 {
		t.Fatal(err)
	}
	r, err := pdf.Open(bytes.NewReader(signed), int64(len(signed)), nil)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := r.Trailer()["Root"].(pdf.Ref)
	cat, err := r.Latest().Dict(root)
	if err != nil {
		t.Fatal(err)
	}
	cat["DSS"] = pdf.Ref{Num: 70}
	good := ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, zeroTime, day(2025, 3, 2))
	revoked := ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Revoked, day(2025, 2, 15), day(2025, 3, 10))
	interGood := ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, zeroTime, day(2025, 3, 2))
	key := fmt.Sprintf("%X", sha1.Sum(res.Signatures[0].Contents))
	objs := map[int]pdftest.Object{
		int(root.Num): pdftest.Dict(string(pdf.AppendObject(nil, cat))),
		70:            pdftest.Dict("<< /Type /DSS /OCSPs [71 0 R 72 0 R 73 0 R] /VRI << /" + key + " << /OCSP [71 0 R 73 0 R] >> >> >>"),
		71:            pdftest.StreamObj("<< >>", good),
		72:            pdftest.StreamObj("<< >>", revoked),
		73:            pdftest.StreamObj("<< >>", interGood),
	}
	file := pdftest.Append(signed, objs, int(root.Num), pdftest.Options{})
	rep := PDF(context.Background(), bytes.NewReader(file), int64(len(file)), k.policy(day(2025, 3, 11)))
	s := rep.Signatures[0]
	if s.Indication == TotalPassed || s.Modified {
		t.Errorf("%s/%s (modified %v): the DSS says the seal was revoked on 2025-02-15, before the time-stamp; revocation %+v",
			s.Indication, s.SubIndication, s.Modified, s.Revocation)
	}
}
