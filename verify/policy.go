package verify

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"strconv"
	"time"

	"github.com/trustsign/trustsign/internal/keyusage"
	"github.com/trustsign/trustsign/revocation"
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
	// Fetch, when set, is asked for the revocation data of a chain whose embedded data gives no fresh answer
	// (within the caller's context); nil keeps the validation offline, the default. The CLI's --online sets it.
	Fetch revocation.Source

	// memo remembers, within the validation of one file, what revocation data said (forFile sets it).
	memo *revocation.Memo
}

// forFile returns a copy of p for validating one file: the revocation data its signatures and time-stamps share
// (a PDF DSS) is then checked once (nil stays nil: it trusts nothing). A copy already made for a file keeps its
// memo.
func (p *Policy) forFile() *Policy {
	if p == nil {
		return nil
	}
	q := *p
	if q.memo == nil {
		q.memo = &revocation.Memo{}
	}
	return &q
}

// checkRevocation is revocation.Check, remembered for the file when forFile made p.
func (p *Policy) checkRevocation(cert, issuer *x509.Certificate, d revocation.Data, now time.Time) revocation.Result {
	if p == nil {
		return revocation.Check(cert, issuer, d, now)
	}
	return p.memo.Check(cert, issuer, d, now)
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
	r.Warn(msg("warn.claimedProfile"))
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

// Add records a finding on the report (its reason in Reasons and ReasonCodes); Conclude later picks the worst one
// as the signature's indication.
func (r *SignatureReport) Add(ind Indication, sub SubIndication, why Message) {
	r.findings = append(r.findings, Finding{ind, sub, why.English()})
	r.Note(why)
}

// Note records a reason that is not a finding (it does not change the indication).
func (r *SignatureReport) Note(why Message) {
	r.Reasons = append(r.Reasons, why.English())
	r.ReasonCodes = append(r.ReasonCodes, why)
}

// Warn records a warning (Warnings and WarningCodes).
func (r *SignatureReport) Warn(w Message) {
	r.Warnings = append(r.Warnings, w.English())
	r.WarningCodes = append(r.WarningCodes, w)
}

// Cover records what the signature covers (Covered and CoveredCodes).
func (r *SignatureReport) Cover(c Message) {
	r.Covered = append(r.Covered, c.English())
	r.CoveredCodes = append(r.CoveredCodes, c)
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
	if m, weak := p.keyStrength(c); weak {
		return m.English()
	}
	return ""
}

func (p *Policy) keyStrength(c *x509.Certificate) (Message, bool) {
	if c == nil {
		return Message{}, false
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < p.minRSABits() {
			return msg("key.rsa", "bits", strconv.Itoa(k.N.BitLen()), "min", strconv.Itoa(p.minRSABits())), true
		}
	case *ecdsa.PublicKey:
		if k.Curve.Params().BitSize < 256 {
			return msg("key.ec", "bits", strconv.Itoa(k.Curve.Params().BitSize)), true
		}
	}
	return Message{}, false
}

// ErrNoChain is returned by Chain when no path leads to a trust root.
var ErrNoChain = errors.New("no certificate chain to a trusted root")

// ChainResult is the outcome of building and checking a signer's chain.
type ChainResult struct {
	Check         Check
	Indication    Indication
	SubIndication SubIndication
	// Reason is Why in English.
	Reason string
	Why    Message
	Path   []*x509.Certificate
	// Revocation is what revocation data said about each certificate of Path below the trust anchor (longTerm).
	Revocation []CertificateRevocation
	// Notes are facts that do not change the indication (a certificate revoked after the time-stamp...).
	Notes []Message
}

// chainFailed is a ChainResult that did not pass.
func chainFailed(check Check, sub SubIndication, why Message, path []*x509.Certificate) ChainResult {
	return ChainResult{Check: check, Indication: Indeterminate, SubIndication: sub, Reason: why.English(), Why: why, Path: path}
}

// Chain builds a path from leaf to one of the policy's roots using the policy's intermediates and the
// certificates that came with the signature (embedded), and checks each certificate at the validation time (Now),
// as ETSI EN 319 102-1 does without a proof of existence: a signer's claimed signing time (claimed; zero when there
// is none) is a claim, not proof, so a certificate outside its validity at the validation time gives INDETERMINATE /
// OUT_OF_BOUNDS_NO_POE even when the claimed time lies inside it. The leaf's key usage must allow document
// signatures (INDETERMINATE / CHAIN_CONSTRAINTS_FAILURE otherwise). It never fetches anything.
func (p *Policy) Chain(leaf *x509.Certificate, embedded []*x509.Certificate, claimed time.Time) ChainResult {
	return p.chain(leaf, embedded, claimed, keyusage.ForDocuments)
}

// anyUsage is the key-usage rule of a time-stamping authority's certificate: its critical id-kp-timeStamping EKU
// is checked with the token (cms.TimeStamp.Verify), not the document-signing rules.
func anyUsage(*x509.Certificate) error { return nil }

func (p *Policy) chain(leaf *x509.Certificate, embedded []*x509.Certificate, claimed time.Time, usage func(*x509.Certificate) error) ChainResult {
	return p.chainAt(leaf, embedded, p.now(), nil, claimed, usage)
}

// chainAt builds the path as Chain does and checks every certificate of it at one time: poe when a time-stamp
// proves the signature existed then (nil: the validation time, nothing proven). A certificate outside its validity
// then is INDETERMINATE / OUT_OF_BOUNDS_NO_POE, and a signer's certificate issued after the proven time
// TOTAL_FAILED / NOT_YET_VALID (EN 319 102-1 5.5: the signature existed before its certificate).
func (p *Policy) chainAt(leaf *x509.Certificate, embedded []*x509.Certificate, now time.Time, poe *time.Time, claimed time.Time, usage func(*x509.Certificate) error) ChainResult {
	if leaf == nil {
		return chainFailed(NotChecked, NoSigningCertificateFound, msg("chain.noLeaf"), nil)
	}
	if poe != nil {
		now = *poe
	}
	roots := x509.NewCertPool()
	nroots := 0
	if p != nil {
		for _, r := range p.Roots {
			roots.AddCert(r)
			nroots++
		}
	}
	if nroots == 0 {
		return chainFailed(Failed, NoCertificateChainFound, msg("chain.noRoots"), nil)
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
		if why := usage(leaf); why != nil {
			return chainFailed(Failed, ChainConstraintsFailure, msg("chain.keyUsage").withDetail(fromLibrary(why.Error())), chains[0])
		}
		return ChainResult{Check: Passed, Indication: TotalPassed, Path: chains[0]}
	}
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired && poe != nil {
		if inv.Cert == leaf && now.Before(leaf.NotBefore) {
			cr := chainFailed(Failed, NotYetValid, notValidAtPOE(inv.Cert, now), nil)
			cr.Indication = TotalFailed
			return cr
		}
		return chainFailed(Failed, OutOfBoundsNoPOE, notValidAtPOE(inv.Cert, now), nil)
	}
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		// A certificate of the path is outside its validity at the validation time, and nothing proves the
		// signature existed while it was valid (a time-stamp would). Name the certificate and its validity.
		return chainFailed(Failed, OutOfBoundsNoPOE, outOfBounds(inv.Cert, now, claimed), nil)
	}
	if errors.As(err, &inv) && inv.Reason == x509.NotAuthorizedToSign {
		return chainFailed(Failed, ChainConstraintsFailure, msg("chain.constraints").withDetail(fromLibrary(err.Error())), nil)
	}
	return chainFailed(Failed, NoCertificateChainFound, msg("chain.untrusted"), nil)
}

// outOfBounds explains a certificate that is not valid at the validation time.
func outOfBounds(c *x509.Certificate, now, claimed time.Time) Message {
	const f = time.RFC3339
	who := msg("cert.ofChain")
	if c != nil {
		who = msg("cert.named", "subject", c.Subject.String(), "from", c.NotBefore.UTC().Format(f), "to", c.NotAfter.UTC().Format(f))
	}
	if !claimed.IsZero() {
		return msg("chain.outOfBoundsClaimed", "now", now.UTC().Format(f), "claimed", claimed.UTC().Format(f)).withDetail(who)
	}
	return msg("chain.outOfBounds", "now", now.UTC().Format(f)).withDetail(who)
}

// notValidAtPOE explains a certificate that is not valid at the time a time-stamp proves.
func notValidAtPOE(c *x509.Certificate, poe time.Time) Message {
	const f = time.RFC3339
	who := msg("cert.ofChain")
	if c != nil {
		who = msg("cert.named", "subject", c.Subject.String(), "from", c.NotBefore.UTC().Format(f), "to", c.NotAfter.UTC().Format(f))
	}
	return msg("chain.outOfBoundsPOE", "poe", poe.UTC().Format(f)).withDetail(who)
}

// ClaimedTimeBeforeCertificate returns a reason when the claimed signing time lies before the signing certificate's
// validity began: the signature contradicts its own certificate.
func (p *Policy) ClaimedTimeBeforeCertificate(claimed *time.Time, c *x509.Certificate) string {
	if m, ok := p.claimedTimeBeforeCertificate(claimed, c); ok {
		return m.English()
	}
	return ""
}

func (p *Policy) claimedTimeBeforeCertificate(claimed *time.Time, c *x509.Certificate) (Message, bool) {
	if claimed == nil || c == nil || !claimed.Before(c.NotBefore.Add(-MaxClockSkew)) {
		return Message{}, false
	}
	return msg("time.beforeCertificate", "claimed", claimed.UTC().Format(time.RFC3339),
		"notBefore", c.NotBefore.UTC().Format(time.RFC3339)), true
}

var zeroTime time.Time

// MaxClockSkew is how far a claimed signing time may lie after the validation time.
const MaxClockSkew = 5 * time.Minute

// FutureSigningTime returns a reason when a claimed signing time lies after the validation time (beyond the clock
// skew allowance): such a claim cannot be true, and would let a certificate that is not yet valid pass the check
// of validity at the signing time.
func (p *Policy) FutureSigningTime(claimed *time.Time) string {
	if m, ok := p.futureSigningTime(claimed); ok {
		return m.English()
	}
	return ""
}

func (p *Policy) futureSigningTime(claimed *time.Time) (Message, bool) {
	if claimed == nil {
		return Message{}, false
	}
	now := p.now()
	if claimed.After(now.Add(MaxClockSkew)) {
		return msg("time.future", "claimed", claimed.UTC().Format(time.RFC3339), "now", now.UTC().Format(time.RFC3339)), true
	}
	return Message{}, false
}

// certificateWarnings lists what is wrong with a signer's certificate without making its signatures fail.
func certificateWarnings(c *x509.Certificate) []Message {
	if c == nil || c.SerialNumber == nil || c.SerialNumber.Sign() >= 0 {
		return nil
	}
	return []Message{msg("warn.negativeSerial")}
}

// timeChecks adds the findings about a claimed signing time (in the future, before the certificate).
func (p *Policy) timeChecks(r *SignatureReport, c *x509.Certificate) {
	if why, ok := p.futureSigningTime(r.SigningTime); ok {
		r.Add(Indeterminate, SigConstraintsFailure, why)
	}
	if why, ok := p.claimedTimeBeforeCertificate(r.SigningTime, c); ok {
		r.Add(Indeterminate, SigConstraintsFailure, why)
	}
}
