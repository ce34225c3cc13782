package verify

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/trustsign/trustsign/internal/keyusage"
)

// Policy holds what a validation trusts and how strict it is. The zero value trusts nothing.
type Policy struct {
	// Roots are the trust anchors. A chain must end in one of them.
	Roots []*x509.Certificate
	// Intermediates are extra certificates that may be used to build chains (never trusted by themselves).
	Intermediates []*x509.Certificate
	// Now returns the validation time; nil means time.Now.
	Now func() time.Time
	// MinRSABits is the smallest RSA modulus accepted as strong (default 2048).
	MinRSABits int
	// ProfileSeals, when set, are the trusted-profile service's seal certificates: a trusted-profile identity in a
	// signature made by any other certificate is reported as ClaimedProfile (the signer wrote it; no trusted-profile
	// service vouched for it), with a warning. When empty, every signature's identity is TrustedProfile.
	ProfileSeals []*x509.Certificate
}

// profileBySeal moves the report's trusted-profile identity to ClaimedProfile when the policy names the
// trusted-profile seals and the signer is none of them.
func (p *Policy) profileBySeal(r *SignatureReport, signer *x509.Certificate) {
	if p == nil || len(p.ProfileSeals) == 0 || r.TrustedProfile == nil {
		return
	}
	for _, c := range p.ProfileSeals {
		if signer != nil && c.Equal(signer) {
			return
		}
	}
	r.ClaimedProfile, r.TrustedProfile = r.TrustedProfile, nil
	r.Warnings = append(r.Warnings, "the signature names a trusted profile, but its signer is not a trusted-profile seal: the identity is only claimed by the signer (claimedProfile)")
}

func (p *Policy) now() time.Time {
	if p != nil && p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Policy) minRSABits() int {
	if p == nil || p.MinRSABits == 0 {
		return 2048
	}
	return p.MinRSABits
}

// Finding is one reason why a signature is not TOTAL_PASSED.
type Finding struct {
	Indication    Indication
	SubIndication SubIndication
	Reason        string
}

// Add records a finding on the report; Conclude later picks the worst one as the signature's indication.
func (r *SignatureReport) Add(ind Indication, sub SubIndication, reason string) {
	r.findings = append(r.findings, Finding{ind, sub, reason})
	r.Reasons = append(r.Reasons, reason)
}

// Conclude sets Indication and SubIndication from the recorded findings: the first finding of the worst indication
// wins. In XML reports, among TOTAL_FAILED findings a failed cryptographic check (HASH_FAILURE, SIG_CRYPTO_FAILURE)
// names the failure before a format defect: a signature whose value no longer verifies was changed after signing,
// and the defect is most often what the change left behind (EU DSS reports a removed SignedProperties reference so;
// for PDFs it reports a malformed ByteRange as FORMAT_FAILURE first, and so do we). No findings means TOTAL_PASSED.
func (r *SignatureReport) Conclude() {
	r.Indication, r.SubIndication = TotalPassed, ""
	crypto := func(s SubIndication) bool { return s == HashFailure || s == SigCryptoFailure }
	for _, f := range r.findings {
		switch {
		case f.Indication.Severity() > r.Indication.Severity():
			r.Indication, r.SubIndication = f.Indication, f.SubIndication
		case r.cryptoFirst && f.Indication == TotalFailed && r.Indication == TotalFailed && crypto(f.SubIndication) && !crypto(r.SubIndication):
			r.SubIndication = f.SubIndication
		}
	}
	if r.Covered == nil {
		r.Covered = []string{}
	}
	if r.SigningTime != nil && r.SigningTimeSource == "" {
		r.SigningTimeSource = "claimed"
	}
}

// SignerOf describes a certificate for a report.
func SignerOf(c *x509.Certificate) *Signer {
	if c == nil {
		return nil
	}
	return &Signer{
		Subject:   c.Subject.String(),
		Issuer:    c.Issuer.String(),
		Serial:    c.SerialNumber.String(),
		NotBefore: c.NotBefore.UTC(),
		NotAfter:  c.NotAfter.UTC(),
	}
}

// KeyStrength returns a non-empty description when the certificate's key is below the policy's strength
// (RSA below MinRSABits, elliptic curves below 256 bits).
func (p *Policy) KeyStrength(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < p.minRSABits() {
			return fmt.Sprintf("RSA key of %d bits is below the %d-bit minimum", k.N.BitLen(), p.minRSABits())
		}
	case *ecdsa.PublicKey:
		if k.Curve.Params().BitSize < 256 {
			return fmt.Sprintf("elliptic-curve key of %d bits is too weak", k.Curve.Params().BitSize)
		}
	}
	return ""
}

// ErrNoChain is returned by Chain when no path leads to a trust root.
var ErrNoChain = errors.New("no certificate chain to a trusted root")

// ChainResult is the outcome of building and checking a signer's chain.
type ChainResult struct {
	Check         Check
	Indication    Indication
	SubIndication SubIndication
	Reason        string
	Path          []*x509.Certificate
}

// Chain builds a path from leaf to one of the policy's roots using the policy's intermediates and the
// certificates that came with the signature (embedded), and checks each certificate at the validation time (Now),
// as ETSI EN 319 102-1 does without a proof of existence: a signer's claimed signing time (claimed; zero when there
// is none) is a claim, not proof, so a certificate outside its validity at the validation time gives INDETERMINATE /
// OUT_OF_BOUNDS_NO_POE even when the claimed time lies inside it. The leaf's key usage must allow document
// signatures (INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE otherwise). It never fetches anything.
func (p *Policy) Chain(leaf *x509.Certificate, embedded []*x509.Certificate, claimed time.Time) ChainResult {
	if leaf == nil {
		return ChainResult{Check: NotChecked, Indication: Indeterminate, SubIndication: NoSigningCertificateFound,
			Reason: "no signing certificate to build a chain from"}
	}
	now := p.now()
	roots := x509.NewCertPool()
	nroots := 0
	if p != nil {
		for _, r := range p.Roots {
			roots.AddCert(r)
			nroots++
		}
	}
	if nroots == 0 {
		return ChainResult{Check: Failed, Indication: Indeterminate, SubIndication: NoCertificateChainFound,
			Reason: "no trust roots configured"}
	}
	inter := x509.NewCertPool()
	if p != nil {
		for _, c := range p.Intermediates {
			inter.AddCert(c)
		}
	}
	for _, c := range embedded {
		if c != nil && !c.Equal(leaf) {
			inter.AddCert(c)
		}
	}
	verifyAt := func(at time.Time) ([][]*x509.Certificate, error) {
		return leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	}
	chains, err := verifyAt(now)
	if err == nil && len(chains) > 0 {
		if why := keyusage.ForDocuments(leaf); why != nil {
			return ChainResult{Check: Failed, Indication: Indeterminate, SubIndication: ChainConstraintsFailure,
				Reason: "the signing certificate may not sign documents: " + why.Error(), Path: chains[0]}
		}
		return ChainResult{Check: Passed, Indication: TotalPassed, Path: chains[0]}
	}
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		// A certificate of the path is outside its validity at the validation time, and nothing proves the
		// signature existed while it was valid (a time-stamp would). Name the certificate and its validity.
		return ChainResult{Check: Failed, Indication: Indeterminate, SubIndication: OutOfBoundsNoPOE,
			Reason: outOfBounds(inv.Cert, now, claimed)}
	}
	if errors.As(err, &inv) && inv.Reason == x509.NotAuthorizedToSign {
		return ChainResult{Check: Failed, Indication: Indeterminate, SubIndication: ChainConstraintsFailure,
			Reason: "chain constraints not met: " + err.Error()}
	}
	return ChainResult{Check: Failed, Indication: Indeterminate, SubIndication: NoCertificateChainFound,
		Reason: "signing certificate does not chain to a trusted root"}
}

// outOfBounds explains a certificate that is not valid at the validation time.
func outOfBounds(c *x509.Certificate, now, claimed time.Time) string {
	const f = time.RFC3339
	who := "a certificate of the chain"
	if c != nil {
		who = fmt.Sprintf("certificate %q (valid %s to %s)", c.Subject.String(), c.NotBefore.UTC().Format(f), c.NotAfter.UTC().Format(f))
	}
	msg := fmt.Sprintf("%s is not valid at the validation time %s, and no time-stamp proves the signature existed before",
		who, now.UTC().Format(f))
	if !claimed.IsZero() {
		msg += fmt.Sprintf(" (the claimed signing time %s is not proof)", claimed.UTC().Format(f))
	}
	return msg
}

// ClaimedTimeBeforeCertificate returns a reason when the claimed signing time lies before the signing certificate's
// validity began: the signature contradicts its own certificate.
func (p *Policy) ClaimedTimeBeforeCertificate(claimed *time.Time, c *x509.Certificate) string {
	if claimed == nil || c == nil || !claimed.Before(c.NotBefore.Add(-MaxClockSkew)) {
		return ""
	}
	return fmt.Sprintf("the claimed signing time %s is before the signing certificate was valid (from %s)",
		claimed.UTC().Format(time.RFC3339), c.NotBefore.UTC().Format(time.RFC3339))
}

var zeroTime time.Time

// MaxClockSkew is how far a claimed signing time may lie after the validation time.
const MaxClockSkew = 5 * time.Minute

// FutureSigningTime returns a reason when a claimed signing time lies after the validation time (beyond the clock
// skew allowance): such a claim cannot be true, and would let a certificate that is not yet valid pass the check
// of validity at the signing time.
func (p *Policy) FutureSigningTime(claimed *time.Time) string {
	if claimed == nil {
		return ""
	}
	now := p.now()
	if claimed.After(now.Add(MaxClockSkew)) {
		return fmt.Sprintf("the claimed signing time %s is later than the validation time %s", claimed.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return ""
}

// certificateWarnings lists what is wrong with a signer's certificate without making its signatures fail.
func certificateWarnings(c *x509.Certificate) []string {
	if c == nil || c.SerialNumber == nil || c.SerialNumber.Sign() >= 0 {
		return nil
	}
	return []string{"the signer's certificate has a negative serial number (RFC 5280 requires a positive one; old Java CAs issued such certificates)"}
}
