package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/xades"
)

// stamper is an in-process TSA whose tokens say at.
func (k ltPKI) stamper(t *testing.T, at time.Time) func(context.Context, []byte) ([]byte, error) {
	r := &tsa.Responder{Certificate: k.tsa.cert, Key: k.tsa.key, Clock: func() time.Time { return at }}
	return func(_ context.Context, imprint []byte) ([]byte, error) {
		req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: imprint, Certificates: true}).Marshal()
		if err != nil {
			return nil, err
		}
		resp, err := r.Respond(req)
		if err != nil {
			return nil, err
		}
		ts, err := timestamp.ParseResponse(resp)
		if err != nil {
			return nil, err
		}
		return ts.RawToken, nil
	}
}

// signBoth signs an XML and a PDF document with the seal, claiming 2025-03-01 as the signing time, time-stamped at
// stampedAt (no time-stamp when zero).
func (k ltPKI) signBoth(t *testing.T, stampedAt time.Time) map[string]func(*Policy) SignatureReport {
	t.Helper()
	var stamp func(context.Context, []byte) ([]byte, error)
	if !stampedAt.IsZero() {
		stamp = k.stamper(t, stampedAt)
	}
	claimed := day(2025, 3, 1)
	x, err := xades.Sign([]byte(`<wniosek>x</wniosek>`), xades.SignOptions{Signer: k.seal.key, Certificate: k.seal.cert,
		Chain: []*x509.Certificate{k.seal.cert, k.inter.cert}, SigningTime: claimed, TimeStamp: stamp})
	if err != nil {
		t.Fatal(err)
	}
	in := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	var out bytes.Buffer
	if _, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, pades.SignOptions{
		Signer: k.seal.key, Certificate: k.seal.cert, Chain: []*x509.Certificate{k.inter.cert}, Time: claimed, TimeStamp: stamp}); err != nil {
		t.Fatal(err)
	}
	signed := out.Bytes()
	return map[string]func(*Policy) SignatureReport{
		"xml": func(p *Policy) SignatureReport { return XML("a.xml", x, p, XMLOptions{}).Signatures[0] },
		"pdf": func(p *Policy) SignatureReport {
			return PDF(context.Background(), bytes.NewReader(signed), int64(len(signed)), p).Signatures[0]
		},
	}
}

// A time-stamped signature whose certificate has expired since: the time-stamp is the proof of existence (in both
// formats, through the report's time-stamps), the chain is judged at its time, and revocation data issued after it
// decides. The data comes from Policy.Fetch here (what an LT signature embeds goes the same way).
func TestLongTermThroughTheFormats(t *testing.T) {
	k := newLTPKI(t, nil)
	ts := day(2025, 3, 1)
	interGood := ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, time.Time{}, day(2025, 3, 2))
	for _, tc := range []struct {
		name      string
		stampedAt time.Time
		now       time.Time
		data      *revocation.Data
		ind       Indication
		sub       SubIndication
		tsI       Indication // the time-stamp's verdict when it is not TOTAL_PASSED
		pdfSub    SubIndication
	}{
		{name: "expired since, time-stamp, fresh OCSP", stampedAt: ts, now: day(2027, 1, 1), ind: TotalPassed,
			data: &revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, time.Time{}, day(2025, 3, 2)), interGood}}},
		// the TSA's chain is shown good (the intermediate's OCSP), the seal's status is not
		{name: "expired since, time-stamp, no data for the seal", stampedAt: ts, now: day(2027, 1, 1), ind: Indeterminate,
			sub: RevocationOutOfBoundsNoPOE, data: &revocation.Data{OCSP: [][]byte{interGood}}},
		// nothing shows the TSA's intermediate was not revoked when the token was made: the time-stamp proves nothing
		// (a PDF names the time-stamp's failure first, as it always did)
		{name: "expired since, time-stamp, no data at all", stampedAt: ts, now: day(2027, 1, 1), ind: Indeterminate, sub: OutOfBoundsNoPOE,
			pdfSub: TryLater, tsI: Indeterminate},
		{name: "revoked before the time-stamp", stampedAt: ts, now: day(2025, 6, 1), ind: TotalFailed, sub: Revoked,
			data: &revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Revoked, day(2025, 2, 1), day(2025, 3, 2)), interGood}}},
		{name: "revoked after the time-stamp", stampedAt: ts, now: day(2025, 6, 1), ind: TotalPassed,
			data: &revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Revoked, day(2025, 4, 1), day(2025, 4, 2)), interGood}}},
		{name: "revoked, no time-stamp", now: day(2025, 6, 1), ind: Indeterminate, sub: RevokedNoPOE,
			data: &revocation.Data{OCSP: [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Revoked, day(2025, 4, 1), day(2025, 5, 31)), interGood}}},
		{name: "expired, no time-stamp", now: day(2027, 1, 1), ind: Indeterminate, sub: OutOfBoundsNoPOE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for format, verify := range k.signBoth(t, tc.stampedAt) {
				p := k.policy(tc.now)
				if tc.data != nil {
					p.Fetch = func(context.Context, []*x509.Certificate) (revocation.Data, error) { return *tc.data, nil }
				}
				s := verify(p)
				sub := tc.sub
				if format == "pdf" && tc.pdfSub != "" {
					sub = tc.pdfSub
				}
				if s.Indication != tc.ind || s.SubIndication != sub {
					t.Errorf("%s: %s/%s, want %s/%s; reasons %q; time-stamps %+v", format, s.Indication, s.SubIndication,
						tc.ind, sub, s.Reasons, s.TimeStamps)
				}
				tsI := tc.tsI
				if tsI == "" {
					tsI = TotalPassed
				}
				if !tc.stampedAt.IsZero() && (len(s.TimeStamps) != 1 || s.TimeStamps[0].Indication != tsI) {
					t.Errorf("%s: time-stamps %+v", format, s.TimeStamps)
				}
			}
		})
	}
}

// The TSA's own chain is judged at the token's time with the same rules: a TSA certificate revoked before the
// token was made gives no proof of existence; revoked after it, the token stands.
func TestLongTermTSAChain(t *testing.T) {
	k := newLTPKI(t, nil)
	k.tsa = ltIssue(t, tsaTemplate(func(c *x509.Certificate) { c.OCSPServer = []string{"http://ocsp.test/tsa"} }), &k.inter)
	ts, now := day(2025, 3, 1), day(2025, 3, 3)
	base := [][]byte{ltOCSP(t, k.seal.cert, k.inter, k.inter, ocsp.Good, time.Time{}, day(2025, 3, 2)),
		ltOCSP(t, k.inter.cert, k.root, k.root, ocsp.Good, time.Time{}, day(2025, 3, 2))}
	for _, tc := range []struct {
		name     string
		tsa      []byte
		ind, tsI Indication
		tsSub    SubIndication
	}{
		// the signature does not pass (XML: INDETERMINATE for the time-stamp it does not prove; PDF: the token's verdict)
		{"TSA revoked before the token", ltOCSP(t, k.tsa.cert, k.inter, k.inter, ocsp.Revoked, day(2025, 2, 1), day(2025, 3, 2)),
			"", TotalFailed, Revoked},
		// retired (not compromised: RFC 3161 4) after the token: the token stands
		{"TSA revoked after the token", ltOCSPReason(t, k.tsa.cert, k.inter, k.inter, ocsp.Revoked, day(2025, 3, 2), day(2025, 3, 2), ocsp.CessationOfOperation),
			TotalPassed, TotalPassed, ""},
		{"TSA good after the token", ltOCSP(t, k.tsa.cert, k.inter, k.inter, ocsp.Good, time.Time{}, day(2025, 3, 2)),
			TotalPassed, TotalPassed, ""},
		{"no data for the TSA", nil, Indeterminate, Indeterminate, TryLater},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := revocation.Data{OCSP: base}
			if tc.tsa != nil {
				d.OCSP = append(d.OCSP[:len(base):len(base)], tc.tsa)
			}
			for format, verify := range k.signBoth(t, ts) {
				p := k.policy(now)
				p.Fetch = func(context.Context, []*x509.Certificate) (revocation.Data, error) { return d, nil }
				s := verify(p)
				if len(s.TimeStamps) != 1 {
					t.Fatalf("%s: time-stamps %+v", format, s.TimeStamps)
				}
				got := s.TimeStamps[0]
				if (tc.ind == "" && s.Indication == TotalPassed || tc.ind != "" && s.Indication != tc.ind) || got.Indication != tc.tsI || got.SubIndication != tc.tsSub {
					t.Errorf("%s: signature %s/%s, time-stamp %s/%s (%s); want %s, %s/%s", format, s.Indication, s.SubIndication,
						got.Indication, got.SubIndication, got.Reason, tc.ind, tc.tsI, tc.tsSub)
				}
				if len(got.Revocation) == 0 || got.Revocation[0].Subject != k.tsa.cert.Subject.String() {
					t.Errorf("%s: the TSA's revocation entries %+v", format, got.Revocation)
				}
			}
		})
	}
}
