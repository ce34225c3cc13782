package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/revocation"
)

// ltCA is a certificate and its key, for the long-term tests (P-256 keys, fixed dates).
type ltCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// ltPKI is root → intermediate → seal (with OCSP and CRL pointers, valid 2024-01-01 to 2026-01-01), plus a TSA and
// an OCSP responder issued by the intermediate.
type ltPKI struct {
	root, inter, seal, tsa, responder ltCA
}

var ltSerial int64

func ltIssue(t *testing.T, tmpl *x509.Certificate, parent *ltCA) ltCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ltSerial++
	tmpl.SerialNumber = big.NewInt(1000 + ltSerial)
	p, pk := tmpl, crypto.Signer(key)
	if parent != nil {
		p, pk = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p, &key.PublicKey, pk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ltCA{c, key}
}

func newLTPKI(t *testing.T, seal func(*x509.Certificate)) ltPKI {
	t.Helper()
	var k ltPKI
	ca := func(cn string) *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: cn}, NotBefore: day(2020, 1, 1), NotAfter: day(2040, 1, 1),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	}
	k.root = ltIssue(t, ca("LT Test Root"), nil)
	inter := ca("LT Test Intermediate")
	inter.OCSPServer = []string{"http://ocsp.test/root"}
	k.inter = ltIssue(t, inter, &k.root)
	st := &x509.Certificate{Subject: pkix.Name{CommonName: "LT Test Seal", Country: []string{"PL"}},
		NotBefore: day(2024, 1, 1), NotAfter: day(2026, 1, 1),
		KeyUsage:   x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		OCSPServer: []string{"http://ocsp.test/inter"}, CRLDistributionPoints: []string{"http://crl.test/inter.crl"}}
	if seal != nil {
		seal(st)
	}
	k.seal = ltIssue(t, st, &k.inter)
	k.tsa = ltIssue(t, tsaTemplate(nil), &k.inter)
	k.responder = ltIssue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "LT Test OCSP"}, NotBefore: day(2020, 1, 1),
		NotAfter: day(2035, 1, 1), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}, &k.inter)
	return k
}

// tsaTemplate is a TSA certificate (critical id-kp-timeStamping EKU) valid from 2020 to 2035.
func tsaTemplate(edit func(*x509.Certificate)) *x509.Certificate {
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	c := &x509.Certificate{Subject: pkix.Name{CommonName: "LT Test TSA"}, NotBefore: day(2020, 1, 1),
		NotAfter: day(2035, 1, 1), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}
	if edit != nil {
		edit(c)
	}
	return c
}

func (k ltPKI) policy(now time.Time) *Policy {
	return &Policy{Roots: []*x509.Certificate{k.root.cert}, Now: func() time.Time { return now }}
}

// ocsp makes an OCSP response about cert (issued by issuer), signed by signer, produced at producedAt.
func ltOCSP(t *testing.T, cert *x509.Certificate, issuer, signer ltCA, status int, revokedAt, producedAt time.Time) []byte {
	t.Helper()
	return ltOCSPReason(t, cert, issuer, signer, status, revokedAt, producedAt, ocsp.KeyCompromise)
}

// ltOCSPReason is ltOCSP with the revocation reason of a revoked status.
func ltOCSPReason(t *testing.T, cert *x509.Certificate, issuer, signer ltCA, status int, revokedAt, producedAt time.Time, reason int) []byte {
	t.Helper()
	tmpl := ocsp.Response{Status: status, SerialNumber: cert.SerialNumber, ThisUpdate: producedAt,
		NextUpdate: producedAt.Add(7 * 24 * time.Hour), RevokedAt: revokedAt}
	if status == ocsp.Revoked {
		tmpl.RevocationReason = reason
	}
	if !signer.cert.Equal(issuer.cert) {
		tmpl.Certificate = signer.cert
	}
	der, err := ocsp.CreateResponse(issuer.cert, signer.cert, tmpl, signer.key)
	if err != nil {
		t.Fatal(err)
	}
	return withProducedAt(t, der, producedAt, signer.key)
}

// withProducedAt re-signs an OCSP response with its producedAt set to at (testpki.OCSPProducedAt).
func withProducedAt(t *testing.T, der []byte, at time.Time, key crypto.Signer) []byte {
	t.Helper()
	out, err := testpki.OCSPProducedAt(der, at, key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ltCRL(t *testing.T, issuer ltCA, thisUpdate time.Time, revoked []x509.RevocationListEntry, ext ...pkix.Extension) []byte {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(thisUpdate.Unix()),
		ThisUpdate: thisUpdate, NextUpdate: thisUpdate.Add(7 * 24 * time.Hour), RevokedCertificateEntries: revoked,
		ExtraExtensions: ext}, issuer.cert, issuer.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func tp(t time.Time) *time.Time { return &t }

// Each time-based verdict of EN 319 102-1 as the long-term judgement gives it. The seal is valid from 2024-01-01 to
// 2026-01-01; the time-stamp (when there is one) proves the signature existed on 2025-03-01.
func TestLongTermVerdicts(t *testing.T) {
	k := newLTPKI(t, nil)
	noPointers := newLTPKI(t, func(c *x509.Certificate) { c.OCSPServer, c.CRLDistributionPoints = nil, nil })
	ts := day(2025, 3, 1)
	valid, expired := day(2025, 6, 1), day(2027, 1, 1)
	good := func(producedAt time.Time) []byte {
		return ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, time.Time{}, producedAt)
	}
	revokedAt := func(at, producedAt time.Time) []byte {
		return ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Revoked, at, producedAt)
	}
	interGood := ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, time.Time{}, day(2025, 3, 2))
	keepsExpired, _ := asn1.MarshalWithParams(day(2020, 1, 1), "generalized")
	stranger := newLTPKI(t, nil)
	shortResponder := ltIssue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "LT Test OCSP 2025"}, NotBefore: day(2025, 1, 1),
		NotAfter: day(2025, 12, 31), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}, &k.inter)

	tests := []struct {
		name string
		pki  *ltPKI
		now  time.Time
		poe  *time.Time
		// dataPOE: when a time-stamp proves the data existed
		dataPOE *time.Time
		data    revocation.Data
		ind     Indication
		sub     SubIndication
		status  string // the seal's revocation entry
		reason  string // in the reasons (or the entry's note)
	}{
		{name: "expired since, valid time-stamp, fresh good OCSP", now: expired, poe: tp(ts),
			data: revocation.Data{OCSP: [][]byte{good(day(2025, 3, 2)), interGood}}, ind: TotalPassed, status: RevocationGood},
		{name: "expired since, valid time-stamp, fresh good CRLs", now: expired, poe: tp(ts),
			data: revocation.Data{CRLs: [][]byte{ltCRL(t, k.inter, day(2025, 3, 5), nil)}, OCSP: [][]byte{interGood}},
			ind:  TotalPassed, status: RevocationGood},
		{name: "revoked before the time-stamp", now: valid, poe: tp(ts),
			data: revocation.Data{OCSP: [][]byte{revokedAt(day(2025, 2, 1), day(2025, 3, 2)), interGood}},
			ind:  TotalFailed, sub: Revoked, status: RevocationRevoked, reason: "was revoked at 2025-02-01T12:00:00Z, not after 2025-03-01"},
		{name: "revoked at the time of the time-stamp", now: valid, poe: tp(ts),
			data: revocation.Data{OCSP: [][]byte{revokedAt(ts, day(2025, 3, 2)), interGood}},
			ind:  TotalFailed, sub: Revoked, status: RevocationRevoked},
		{name: "revoked, no time-stamp", now: valid,
			data: revocation.Data{OCSP: [][]byte{revokedAt(day(2025, 5, 1), day(2025, 5, 31)), interGood}},
			ind:  Indeterminate, sub: RevokedNoPOE, status: RevocationRevoked, reason: "no time-stamp proves the signature existed before"},
		{name: "revoked after the time-stamp", now: valid, poe: tp(ts),
			data: revocation.Data{OCSP: [][]byte{revokedAt(day(2025, 4, 1), day(2025, 4, 2)), interGood}},
			ind:  TotalPassed, status: RevocationRevoked, reason: "the signature stands"},
		{name: "revoked after the time-stamp, on a CRL", now: expired, poe: tp(ts),
			data: revocation.Data{CRLs: [][]byte{ltCRL(t, k.inter, day(2025, 4, 2), []x509.RevocationListEntry{
				{SerialNumber: k.seal.cert.SerialNumber, RevocationTime: day(2025, 4, 1), ReasonCode: 3}})}, OCSP: [][]byte{interGood}},
			ind: TotalPassed, status: RevocationRevoked},
		{name: "good OCSP issued before the time-stamp", now: valid, poe: tp(ts),
			data: revocation.Data{OCSP: [][]byte{good(day(2025, 2, 15)), interGood}},
			ind:  Indeterminate, sub: TryLater, status: RevocationUnknown, reason: "all earlier"},
		{name: "no revocation data while valid, with a time-stamp", now: valid, poe: tp(ts),
			ind: Indeterminate, sub: TryLater, status: RevocationUnknown},
		{name: "no revocation data while valid, no time-stamp", now: valid,
			ind: Indeterminate, sub: TryLater, status: RevocationUnknown},
		{name: "current good OCSP, no time-stamp", now: valid,
			data: revocation.Data{OCSP: [][]byte{good(day(2025, 5, 31)), ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, time.Time{}, day(2025, 5, 31))}},
			ind:  TotalPassed, status: RevocationGood},
		{name: "stale good OCSP, no time-stamp", now: valid,
			data: revocation.Data{OCSP: [][]byte{good(day(2025, 4, 1)), interGood}},
			ind:  Indeterminate, sub: TryLater, status: RevocationUnknown},
		{name: "expired, no revocation data, valid time-stamp", now: expired, poe: tp(ts),
			ind: Indeterminate, sub: RevocationOutOfBoundsNoPOE, status: RevocationUnknown, reason: "expired at 2026-01-01"},
		// without a proof of existence the certificate's own expiry is the first failure: nothing shows the
		// signature was made while it was valid, so revocation is not even asked (EN 319 102-1 5.2.6 before 5.2.5)
		{name: "expired, no revocation data, no time-stamp", now: expired,
			ind: Indeterminate, sub: OutOfBoundsNoPOE},
		{name: "expired, only a CRL issued after the expiry", now: expired, poe: tp(ts),
			data: revocation.Data{CRLs: [][]byte{ltCRL(t, k.inter, day(2026, 6, 1), nil)}, OCSP: [][]byte{interGood}},
			ind:  Indeterminate, sub: RevocationOutOfBoundsNoPOE, status: RevocationUnknown},
		{name: "expired, a CRL issued after the expiry that keeps expired certificates", now: expired, poe: tp(ts),
			data: revocation.Data{CRLs: [][]byte{ltCRL(t, k.inter, day(2026, 6, 1), nil,
				pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 60}, Value: keepsExpired})}, OCSP: [][]byte{interGood}},
			ind: TotalPassed, status: RevocationGood},
		{name: "time-stamp before the certificate was issued", now: valid, poe: tp(day(2023, 6, 1)),
			ind: TotalFailed, sub: NotYetValid},
		{name: "suspended", now: valid, poe: tp(ts),
			data: revocation.Data{CRLs: [][]byte{ltCRL(t, k.inter, day(2025, 3, 5), []x509.RevocationListEntry{
				{SerialNumber: k.seal.cert.SerialNumber, RevocationTime: day(2025, 2, 1), ReasonCode: revocation.ReasonCertificateHold}})},
				OCSP: [][]byte{interGood}},
			ind: Indeterminate, sub: TryLater, status: RevocationSuspended},
		{name: "intermediate CA revoked", now: valid, poe: tp(ts),
			data: revocation.Data{OCSP: [][]byte{good(day(2025, 3, 2)),
				ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Revoked, day(2025, 1, 1), day(2025, 3, 2))}},
			ind: Indeterminate, sub: RevokedCANoPOE, status: RevocationGood},
		{name: "OCSP signed by a delegated responder", now: valid, poe: tp(ts),
			data: revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.responder, ocsp.Good, time.Time{}, day(2025, 3, 2)), interGood}},
			ind:  TotalPassed, status: RevocationGood},
		{name: "OCSP signed by a certificate the issuer did not delegate", now: valid, poe: tp(ts),
			data: revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.tsa, ocsp.Good, time.Time{}, day(2025, 3, 2)), interGood}},
			ind:  Indeterminate, sub: TryLater, status: RevocationUnknown, reason: "0 usable answers"},
		{name: "CRL of another issuer", now: valid, poe: tp(ts),
			data: revocation.Data{CRLs: [][]byte{ltCRL(t, stranger.inter, day(2025, 3, 5), nil)}, OCSP: [][]byte{interGood}},
			ind:  Indeterminate, sub: TryLater, status: RevocationUnknown, reason: "0 usable answers"},
		{name: "OCSP responder expired since, nothing proves the data existed before", now: expired, poe: tp(ts),
			data: revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, shortResponder, ocsp.Good, time.Time{}, day(2025, 3, 2)), interGood}},
			ind:  Indeterminate, sub: RevocationOutOfBoundsNoPOE, status: RevocationUnknown, reason: "whose certificate expired at 2025-12-31"},
		{name: "OCSP responder expired since, an archive time-stamp proves the data existed before", now: expired, poe: tp(ts), dataPOE: tp(day(2025, 4, 1)),
			data: revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, shortResponder, ocsp.Good, time.Time{}, day(2025, 3, 2)), interGood}},
			ind:  TotalPassed, status: RevocationGood},
		{name: "certificate without revocation pointers", pki: &noPointers, now: valid,
			data: revocation.Data{OCSP: [][]byte{ltOCSP(t, noPointers.inter.cert, noPointers.root, noPointers.root, ocsp.Good, time.Time{}, day(2025, 5, 31))}},
			ind:  TotalPassed, status: RevocationNotChecked, reason: "names no source of revocation data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pki := k
			if tc.pki != nil {
				pki = *tc.pki
			}
			in := longTermInput{Leaf: pki.seal.cert, Embedded: []*x509.Certificate{pki.inter.cert}, Data: tc.data, SignaturePOE: tc.poe, DataPOE: tc.dataPOE}
			cr := pki.policy(tc.now).longTerm(context.Background(), in)
			var r SignatureReport
			r.addChain(cr)
			r.Conclude()
			if r.Indication != tc.ind || r.SubIndication != tc.sub {
				t.Fatalf("%s/%s, want %s/%s; reasons %q", r.Indication, r.SubIndication, tc.ind, tc.sub, r.Reasons)
			}
			if tc.status != "" {
				if len(r.Revocation) != 2 || r.Revocation[0].Subject != pki.seal.cert.Subject.String() {
					t.Fatalf("revocation entries %+v", r.Revocation)
				}
				if e := r.Revocation[0]; e.Status != tc.status {
					t.Errorf("seal's revocation status %q, want %q (%+v)", e.Status, tc.status, e)
				}
			}
			if tc.reason != "" {
				all := strings.Join(r.Reasons, "; ")
				for _, e := range r.Revocation {
					if e.Note != nil {
						all += "; " + e.Note.English()
					}
				}
				if !strings.Contains(all, tc.reason) {
					t.Errorf("reasons and notes %q lack %q", all, tc.reason)
				}
			}
		})
	}
}

// What the report says of a revoked certificate is what the answer said: the time, reason, source and dates.
func TestLongTermRevocationEntry(t *testing.T) {
	k := newLTPKI(t, nil)
	d := revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Revoked, day(2025, 4, 1), day(2025, 4, 2)),
		ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, time.Time{}, day(2025, 3, 2))}}
	cr := k.policy(day(2025, 6, 1)).longTerm(context.Background(), longTermInput{Leaf: k.seal.cert,
		Embedded: []*x509.Certificate{k.inter.cert}, Data: d, SignaturePOE: tp(day(2025, 3, 1))})
	e := cr.Revocation[0]
	if e.Status != RevocationRevoked || e.Source != "OCSP" || e.Fetched || e.RevocationReason != "keyCompromise" ||
		e.RevokedAt == nil || !e.RevokedAt.Equal(day(2025, 4, 1)) || e.ProducedAt == nil || !e.ProducedAt.Equal(day(2025, 4, 2)) ||
		e.ThisUpdate == nil || e.Serial != k.seal.cert.SerialNumber.String() {
		t.Fatalf("entry %+v", e)
	}
	if i := cr.Revocation[1]; i.Subject != k.inter.cert.Subject.String() || i.Status != RevocationGood {
		t.Fatalf("intermediate's entry %+v", i)
	}
}

// Policy.Fetch is asked only when the embedded data gives no fresh answer, once, within the caller's context; what
// it returns is used and marked as fetched.
func TestLongTermFetch(t *testing.T) {
	k := newLTPKI(t, nil)
	ts, now := day(2025, 3, 1), day(2025, 6, 1)
	fresh := revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, time.Time{}, day(2025, 3, 2)),
		ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, time.Time{}, day(2025, 3, 2))}}
	type ctxKey struct{}
	for _, tc := range []struct {
		name    string
		data    revocation.Data
		answer  revocation.Data
		err     error
		calls   int
		ind     Indication
		sub     SubIndication
		fetched bool
	}{
		{name: "embedded data suffices", data: fresh, calls: 0, ind: TotalPassed},
		{name: "nothing embedded", answer: fresh, calls: 1, ind: TotalPassed, fetched: true},
		{name: "fetching fails", err: errors.New("responder unreachable"), calls: 1, ind: Indeterminate, sub: TryLater},
		{name: "fetched data is stale too", answer: revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, time.Time{}, day(2025, 2, 1))}},
			calls: 1, ind: Indeterminate, sub: TryLater},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			p := k.policy(now)
			p.Fetch = func(ctx context.Context, certs []*x509.Certificate) (revocation.Data, error) {
				calls++
				if ctx.Value(ctxKey{}) != "caller" {
					t.Error("Fetch did not get the caller's context")
				}
				if len(certs) == 0 || !certs[0].Equal(k.seal.cert) {
					t.Errorf("Fetch asked for %d certificates", len(certs))
				}
				return tc.answer, tc.err
			}
			ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
			cr := p.longTerm(ctx, longTermInput{Leaf: k.seal.cert, Embedded: []*x509.Certificate{k.inter.cert}, Data: tc.data, SignaturePOE: tp(ts)})
			var r SignatureReport
			r.addChain(cr)
			r.Conclude()
			if calls != tc.calls || r.Indication != tc.ind || r.SubIndication != tc.sub {
				t.Fatalf("%d calls, %s/%s; want %d, %s/%s; reasons %q", calls, r.Indication, r.SubIndication, tc.calls, tc.ind, tc.sub, r.Reasons)
			}
			if r.Revocation[0].Fetched != tc.fetched {
				t.Errorf("fetched %v, want %v", r.Revocation[0].Fetched, tc.fetched)
			}
			if tc.err != nil && !strings.Contains(strings.Join(r.Reasons, "; "), "responder unreachable") {
				t.Errorf("the fetch error is not reported: %q", r.Reasons)
			}
		})
	}
}

// TestAttackRevocationFromTheFuture: an answer dated after the validation time (a "good" prepared in advance, or a
// clock set forward) is not fresh data, it is ignored.
func TestAttackRevocationFromTheFuture(t *testing.T) {
	k := newLTPKI(t, nil)
	now := day(2025, 6, 1)
	d := revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, time.Time{}, day(2025, 9, 1)),
		ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, time.Time{}, day(2025, 5, 31))},
		CRLs: [][]byte{ltCRL(t, k.inter, day(2025, 9, 1), nil)}}
	cr := k.policy(now).longTerm(context.Background(), longTermInput{Leaf: k.seal.cert, Embedded: []*x509.Certificate{k.inter.cert}, Data: d})
	if cr.Check == Passed || cr.SubIndication != TryLater {
		t.Fatalf("%s/%s %s", cr.Indication, cr.SubIndication, cr.Reason)
	}
}

// TestAttackRevocationOfAnotherSerial: a genuine "good" from the issuer about another certificate (same issuer,
// another serial) does not show the seal's status.
func TestAttackRevocationOfAnotherSerial(t *testing.T) {
	k := newLTPKI(t, nil)
	other := ltIssue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "Another seal"}, NotBefore: day(2024, 1, 1), NotAfter: day(2026, 1, 1),
		KeyUsage: x509.KeyUsageDigitalSignature}, &k.inter)
	d := revocation.Data{OCSP: [][]byte{ltOCSP(t, other.cert, k.inter, k.inter, ocsp.Good, time.Time{}, day(2025, 3, 2)),
		ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, time.Time{}, day(2025, 3, 2))}}
	cr := k.policy(day(2025, 6, 1)).longTerm(context.Background(), longTermInput{Leaf: k.seal.cert,
		Embedded: []*x509.Certificate{k.inter.cert}, Data: d, SignaturePOE: tp(day(2025, 3, 1))})
	if cr.Check == Passed || cr.SubIndication != TryLater {
		t.Fatalf("%s/%s %s", cr.Indication, cr.SubIndication, cr.Reason)
	}
}

func TestSignaturePOE(t *testing.T) {
	a, b, c := day(2025, 3, 1), day(2025, 2, 1), day(2025, 1, 1)
	r := SignatureReport{TimeStamps: []TimeStamp{
		{Kind: "signature", Time: &a, Indication: TotalPassed},
		{Kind: "archive", Time: &b, Indication: TotalPassed},
		{Kind: "signature", Time: &c, Indication: TotalFailed}, // not valid: proves nothing
		{Kind: "content", Time: &c, Indication: TotalPassed},   // over the data before signing, not the signature
		{Kind: "signature", Indication: TotalPassed},
	}}
	if got := signaturePOE(&r); got == nil || !got.Equal(b) {
		t.Fatalf("signaturePOE = %v, want %v", got, b)
	}
	if got := signaturePOE(&SignatureReport{}); got != nil {
		t.Fatalf("no time-stamps: %v", got)
	}
}

// TestAttackRevocationData: data an attacker can put into a signature to hide a revocation or make a "good" appear;
// none of it shows the seal's status, and a genuine revocation still wins over any "good".
func TestAttackRevocationData(t *testing.T) {
	k := newLTPKI(t, nil)
	ts, now := day(2025, 3, 1), day(2025, 6, 1)
	interGood := ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, time.Time{}, day(2025, 3, 2))
	impostor := ltIssue(t, &x509.Certificate{Subject: k.inter.cert.Subject, NotBefore: day(2020, 1, 1), NotAfter: day(2040, 1, 1),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, nil)
	other := newLTPKI(t, nil)
	otherResponder := ltIssue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "LT Test OCSP"}, NotBefore: day(2020, 1, 1),
		NotAfter: day(2035, 1, 1), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}, &other.inter)
	forged := ltCRL(t, k.inter, day(2025, 3, 5), nil)
	forged[len(forged)-4] ^= 0x01
	revoked := ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Revoked, day(2025, 2, 1), day(2025, 3, 2))
	for _, tc := range []struct {
		name string
		data revocation.Data
		sub  SubIndication
	}{
		{"a CRL under the issuer's name, signed with another key", revocation.Data{CRLs: [][]byte{ltCRL(t, impostor, day(2025, 3, 5), nil)}, OCSP: [][]byte{interGood}}, TryLater},
		{"a CRL whose signature was altered", revocation.Data{CRLs: [][]byte{forged}, OCSP: [][]byte{interGood}}, TryLater},
		{"an OCSP responder certified by another CA", revocation.Data{OCSP: [][]byte{
			ltOCSP(t, k.seal.cert, k.inter, otherResponder, ocsp.Good, time.Time{}, day(2025, 3, 2)), interGood}}, TryLater},
		{"a good answer next to a genuine revocation", revocation.Data{OCSP: [][]byte{
			ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, time.Time{}, day(2025, 3, 3)), revoked, interGood}}, Revoked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := k.policy(now).longTerm(context.Background(), longTermInput{Leaf: k.seal.cert,
				Embedded: []*x509.Certificate{k.inter.cert}, Data: tc.data, SignaturePOE: tp(ts)})
			if cr.Check == Passed || cr.SubIndication != tc.sub {
				t.Fatalf("%s/%s %s, want %s", cr.Indication, cr.SubIndication, cr.Reason, tc.sub)
			}
		})
	}
}
