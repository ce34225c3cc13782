package verify

import (
	"context"
	"crypto/x509"
	"testing"

	"golang.org/x/crypto/ocsp"

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
