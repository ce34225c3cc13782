package verify

import (
	"context"
	"crypto/x509"
	"slices"
	"strconv"
	"time"

	"github.com/trustsign/trustsign/internal/keyusage"
	"github.com/trustsign/trustsign/revocation"
)

// longTermInput is what one signature brings to the judgement of its signer's certificate over time (ETSI EN 319
// 102-1): its certificates, the validation data it embeds and the proofs of existence its time-stamps give.
type longTermInput struct {
	// Leaf is the signer's certificate; Embedded the other certificates the signature carries (KeyInfo, CMS
	// certificates, XAdES CertificateValues, the PDF DSS /Certs).
	Leaf     *x509.Certificate
	Embedded []*x509.Certificate
	// Claimed is the signer's claimed signing time (zero when none): shown, never trusted.
	Claimed time.Time
	// Data is the revocation data the signature embeds (XAdES RevocationValues and TimeStampValidationData, the
	// CMS adbe-revocationInfoArchival attribute, the PDF DSS dictionary of later revisions).
	Data revocation.Data
	// SignaturePOE is the earliest time a valid time-stamp proves the signature existed (its signature
	// time-stamp, an archive time-stamp or a PDF document time-stamp over it); nil when none does. The format
	// code sets it with signaturePOE after recording the time-stamps.
	SignaturePOE *time.Time
	// DataPOE is the earliest time a valid time-stamp proves Data existed (an archive time-stamp over it, a
	// document time-stamp after the DSS revision); nil when none does.
	DataPOE *time.Time
	// UndatedOCSP and UndatedCRLs count the trailing OCSP responses and CRLs of Data that DataPOE does not date
	// (a PDF DSS's answers a signature's VRI entry does not name: they may be newer than the document
	// time-stamp over that entry's data).
	UndatedOCSP, UndatedCRLs int
	// TSA marks a time-stamping authority's certificate: its key usage is checked with the token, not the
	// document-signing rules.
	TSA bool
}

// CertificateRevocation is what revocation data showed about one certificate of a chain: only what was verified
// (an answer whose signature, issuer and scope Check accepted).
type CertificateRevocation struct {
	Subject string `json:"subject"`
	Serial  string `json:"serial"`
	// Status is RevocationGood, RevocationRevoked, RevocationSuspended, RevocationUnknown or RevocationNotChecked.
	Status string `json:"status"`
	// Source is the kind of the answer the status rests on ("OCSP" or "CRL"), empty when none; Fetched is set when
	// it was fetched (Policy.Fetch), not embedded in the signature.
	Source  string `json:"source,omitempty"`
	Fetched bool   `json:"fetched,omitempty"`
	// ThisUpdate and ProducedAt (OCSP) are the answer's dates.
	ThisUpdate *time.Time `json:"thisUpdate,omitempty"`
	ProducedAt *time.Time `json:"producedAt,omitempty"`
	// RevokedAt and RevocationReason (RFC 5280 CRLReason name) are set for a revoked or suspended certificate.
	RevokedAt        *time.Time `json:"revokedAt,omitempty"`
	RevocationReason string     `json:"revocationReason,omitempty"`
	// Note says why the status is what it is when that is not obvious (no source named, no fresh answer).
	Note *Message `json:"note,omitempty"`
}

// Statuses of CertificateRevocation.
const (
	// RevocationGood: an answer issued late enough (after the proven time, or current at the validation time) does
	// not list the certificate.
	RevocationGood = "good"
	// RevocationRevoked: an answer lists it as revoked (RevokedAt, RevocationReason).
	RevocationRevoked = "revoked"
	// RevocationSuspended: an answer lists it on hold (certificateHold).
	RevocationSuspended = "suspended"
	// RevocationUnknown: no usable answer issued late enough was found.
	RevocationUnknown = "unknown"
	// RevocationNotChecked: the certificate names no source of revocation data and the signature carries none.
	RevocationNotChecked = "not-checked"
)

// longTerm judges a chain over time (ETSI EN 319 102-1 5.5 and 5.6, as EU DSS applies them): the path is built
// from Embedded and Data.Certificates, every certificate of it must be valid at T (SignaturePOE when a time-stamp
// proves it, else the validation time), and every certificate below the trust anchor must be shown not revoked at
// T by revocation data issued after T (with a proof of existence), or current at the validation time (without):
//
//   - revoked at or before a proven T: TOTAL_FAILED / REVOKED (a CA: INDETERMINATE / REVOKED_CA_NO_POE); revoked
//     with nothing proven: INDETERMINATE / REVOKED_NO_POE; revoked after a proven T: passes, with a note;
//   - no such answer while the certificate is still valid: INDETERMINATE / TRY_LATER; once it has expired (when CAs
//     drop it from their CRLs, unless ExpiredCertsOnCRL or an OCSP archive cutoff says otherwise):
//     INDETERMINATE / REVOCATION_OUT_OF_BOUNDS_NO_POE;
//   - an answer signed by a certificate (the CA's, a responder's) that has expired since counts only when DataPOE
//     proves the data existed while it was valid; otherwise INDETERMINATE / REVOCATION_OUT_OF_BOUNDS_NO_POE;
//   - a certificate naming no source of revocation data, with none embedded, passes with a note on its entry.
//
// Policy.Fetch, when set, is asked once for what the embedded data did not answer.
func (p *Policy) longTerm(ctx context.Context, in longTermInput) ChainResult {
	usage := keyusage.ForDocuments
	if in.TSA {
		usage = anyUsage
	}
	now := p.now()
	embedded := append(slices.Clip(in.Embedded), in.Data.Certificates...)
	cr := p.chainAt(in.Leaf, embedded, now, in.SignaturePOE, in.Claimed, usage)
	if cr.Check != Passed {
		return cr
	}
	j := revocationJudge{now: now, at: now, proven: in.SignaturePOE != nil, dataPOE: in.DataPOE, nOCSP: len(in.Data.OCSP), nCRL: len(in.Data.CRLs),
		selfProven: in.TSA, check: p.checkRevocation,
		datedOCSP: len(in.Data.OCSP) - in.UndatedOCSP, datedCRL: len(in.Data.CRLs) - in.UndatedCRLs}
	if j.proven {
		j.at = *in.SignaturePOE
	}
	out := j.judge(cr, in.Data)
	if out.open && p != nil && p.Fetch != nil {
		if ctx == nil {
			ctx = context.Background()
		}
		fetched, err := p.Fetch(ctx, cr.Path)
		if err != nil {
			out.result.Notes = append(out.result.Notes, msg("rev.fetchFailed").withDetail(fromLibrary(err.Error())))
		} else {
			d := revocation.Data{
				Certificates: append(slices.Clip(in.Data.Certificates), fetched.Certificates...),
				OCSP:         append(slices.Clip(in.Data.OCSP), fetched.OCSP...),
				CRLs:         append(slices.Clip(in.Data.CRLs), fetched.CRLs...),
			}
			out = j.judge(cr, d)
		}
	}
	return out.result
}

// revocationJudge holds the times of one long-term judgement.
type revocationJudge struct {
	// now is the validation time; at the time the chain must be shown valid and not revoked (the proof of
	// existence when proven, else now).
	now, at time.Time
	proven  bool
	// dataPOE is when a time-stamp proves the embedded data existed (nil: nothing proves it).
	dataPOE *time.Time
	// nOCSP and nCRL count the embedded answers: those after them were fetched.
	nOCSP, nCRL int
	// datedOCSP and datedCRL count the leading embedded answers dataPOE dates.
	datedOCSP, datedCRL int
	// selfProven: the proof of existence is the time the judged chain's own key asserts (a TSA's chain at its
	// token's genTime). A certificate of it revoked for a key compromise then proves nothing at any time: whoever
	// held the key could date tokens before the revocation (RFC 3161 4).
	selfProven bool
	// check is revocation.Check (remembered per file).
	check func(cert, issuer *x509.Certificate, d revocation.Data, now time.Time) revocation.Result
}

type judged struct {
	result ChainResult
	// open: some certificate has no decisive answer (fetching may give one)
	open bool
}

// judge applies the revocation rules to each certificate of cr.Path below its anchor; the worst finding (the
// first of them, from the signer up) is the chain's.
func (j revocationJudge) judge(cr ChainResult, d revocation.Data) judged {
	out := judged{result: cr}
	out.result.Revocation, out.result.Notes = nil, slices.Clip(cr.Notes)
	var worst *certVerdict
	for i := 0; i+1 < len(cr.Path); i++ {
		v := j.certificate(cr.Path[i], cr.Path[i+1], i > 0, d)
		out.result.Revocation = append(out.result.Revocation, v.entry)
		if v.note != nil {
			out.result.Notes = append(out.result.Notes, *v.note)
		}
		out.open = out.open || v.open
		if v.ind != "" && (worst == nil || v.ind.Severity() > worst.ind.Severity()) {
			worst = &v
		}
	}
	if worst != nil {
		out.result.Check, out.result.Indication, out.result.SubIndication = Failed, worst.ind, worst.sub
		out.result.Why, out.result.Reason = worst.why, worst.why.English()
	}
	return out
}

// certVerdict is the revocation verdict on one certificate: ind is empty when it passes.
type certVerdict struct {
	entry CertificateRevocation
	ind   Indication
	sub   SubIndication
	why   Message
	note  *Message
	open  bool
}

// certificate judges one certificate (issued by issuer; ca for a CA certificate of the path) with the data d.
func (j revocationJudge) certificate(cert, issuer *x509.Certificate, ca bool, d revocation.Data) certVerdict {
	const f = time.RFC3339
	v := certVerdict{entry: CertificateRevocation{Subject: cert.Subject.String(), Serial: cert.SerialNumber.String()}}
	subject := cert.Subject.String()
	res := j.check(cert, issuer, d, j.now)
	var revoked, hold, good, signerExpired *revocation.Answer
	for i := range res.Answers {
		a := &res.Answers[i]
		switch {
		case !j.signerInBounds(a):
			signerExpired = a
		case a.Status == revocation.Revoked && a.Reason == revocation.ReasonCertificateHold:
			if hold == nil || a.Issued().After(hold.Issued()) {
				hold = a
			}
		case a.Status == revocation.Revoked:
			if revoked == nil || a.RevokedAt.Before(revoked.RevokedAt) {
				revoked = a
			}
		case a.Status == revocation.Good && j.fresh(a, cert):
			if good == nil || a.Issued().After(good.Issued()) {
				good = a
			}
		}
	}
	if hold != nil && good != nil && good.Issued().After(hold.Issued()) {
		hold = nil // released from hold since
	}
	at := j.at.UTC().Format(f)
	switch {
	case revoked != nil:
		j.describe(&v.entry, revoked, RevocationRevoked)
		when := revoked.RevokedAt.UTC().Format(f)
		switch {
		case j.selfProven && compromised(revoked.Reason):
			v.ind, v.sub = TotalFailed, Revoked
			if ca {
				v.ind, v.sub = Indeterminate, RevokedCANoPOE
			}
			v.why = msg("rev.revokedCompromised", "subject", subject, "revokedAt", when, "reason", reasonName(revoked.Reason))
		case j.proven && revoked.RevokedAt.After(j.at):
			n := msg("rev.revokedAfterPOE", "subject", subject, "revokedAt", when, "poe", at)
			v.note = &n
		case ca:
			v.ind, v.sub, v.why = Indeterminate, RevokedCANoPOE, msg("rev.revokedCA", "subject", subject, "revokedAt", when)
		case j.proven:
			v.ind, v.sub, v.why = TotalFailed, Revoked, msg("rev.revoked", "subject", subject, "revokedAt", when, "poe", at)
		default:
			v.ind, v.sub, v.why = Indeterminate, RevokedNoPOE, msg("rev.revokedNoPOE", "subject", subject, "revokedAt", when)
		}
	case hold != nil && j.proven && hold.RevokedAt.After(j.at):
		j.describe(&v.entry, hold, RevocationSuspended)
		n := msg("rev.suspendedAfterPOE", "subject", subject, "revokedAt", hold.RevokedAt.UTC().Format(f), "poe", at)
		v.note = &n
	case good != nil:
		j.describe(&v.entry, good, RevocationGood)
	case hold != nil:
		j.describe(&v.entry, hold, RevocationSuspended)
		v.ind, v.sub, v.open = Indeterminate, TryLater, true
		v.why = msg("rev.suspended", "subject", subject, "revokedAt", hold.RevokedAt.UTC().Format(f))
	case !revocation.NeedsStatus(cert):
		v.entry.Status = RevocationNotChecked
		n := msg("rev.noSource")
		v.entry.Note = &n
	case signerExpired != nil:
		v.entry.Status = RevocationUnknown
		v.ind, v.sub, v.open = Indeterminate, RevocationOutOfBoundsNoPOE, true
		v.why = msg("rev.signerExpired", "subject", subject, "signer", signerExpired.Signer.Subject.String(),
			"notAfter", signerExpired.Signer.NotAfter.UTC().Format(f))
		v.entry.Note = &v.why
	case j.now.After(cert.NotAfter):
		v.entry.Status = RevocationUnknown
		v.ind, v.sub, v.open = Indeterminate, RevocationOutOfBoundsNoPOE, true
		v.why = msg("rev.outOfBounds", "subject", subject, "notAfter", cert.NotAfter.UTC().Format(f), "poe", at)
		v.entry.Note = &v.why
	default:
		v.entry.Status = RevocationUnknown
		v.ind, v.sub, v.open = Indeterminate, TryLater, true
		v.why = msg("rev.tryLater", "subject", subject, "now", j.now.UTC().Format(f), "n", strconv.Itoa(len(res.Answers)))
		if j.proven {
			v.why = msg("rev.tryLaterPOE", "subject", subject, "poe", at, "n", strconv.Itoa(len(res.Answers)))
		}
		v.entry.Note = &v.why
	}
	return v
}

// compromised reports whether a CRLReason says the certificate's key, or its CA's, was compromised
// (keyCompromise, cACompromise, aACompromise).
func compromised(reason int) bool {
	return reason == revocation.ReasonKeyCompromise || reason == 2 || reason == 10
}

// fresh reports whether a good answer shows cert's status at the judged time: with a proof of existence it was
// issued at or after it (DSS's default: revocation data issued after the best-signature-time); without, it is
// current at the validation time (before its nextUpdate). An answer issued after cert expired says nothing unless
// it keeps expired certificates (CAs drop them from CRLs).
func (j revocationJudge) fresh(a *revocation.Answer, cert *x509.Certificate) bool {
	issued := a.Issued()
	if issued.After(cert.NotAfter) && (a.KeepsExpiredSince.IsZero() || a.KeepsExpiredSince.After(cert.NotAfter)) {
		return false
	}
	if j.proven {
		return !issued.Before(j.at)
	}
	return !a.NextUpdate.IsZero() && !j.now.After(a.NextUpdate)
}

// signerInBounds reports whether the certificate that signed an answer (the issuer or its OCSP responder) can
// still vouch for it: valid at the validation time, or a time-stamp proves the data existed while it was valid
// (EN 319 102-1 5.2.6.4: otherwise REVOCATION_OUT_OF_BOUNDS_NO_POE). A long-term signature keeps its revocation
// data provable past its CAs' and responders' expiry with an archive time-stamp (B-LTA).
func (j revocationJudge) signerInBounds(a *revocation.Answer) bool {
	if a.Signer == nil || !j.now.After(a.Signer.NotAfter) {
		return true
	}
	return j.dated(a) && j.dataPOE != nil && !j.dataPOE.After(a.Signer.NotAfter)
}

// dated reports whether dataPOE says when an answer existed (an embedded one it covers).
func (j revocationJudge) dated(a *revocation.Answer) bool {
	return a.Kind == revocation.KindOCSP && a.Index < j.datedOCSP || a.Kind == revocation.KindCRL && a.Index < j.datedCRL
}

// fetched reports whether an answer came from Policy.Fetch (DataPOE says nothing of it).
func (j revocationJudge) fetched(a *revocation.Answer) bool {
	return a.Kind == revocation.KindOCSP && a.Index >= j.nOCSP || a.Kind == revocation.KindCRL && a.Index >= j.nCRL
}

// describe fills an entry from the answer its status rests on.
func (j revocationJudge) describe(e *CertificateRevocation, a *revocation.Answer, status string) {
	e.Status, e.Source = status, a.Kind
	e.Fetched = j.fetched(a)
	e.ThisUpdate = timePtr(a.ThisUpdate)
	if a.Kind == revocation.KindOCSP {
		e.ProducedAt = timePtr(a.ProducedAt)
	}
	if status == RevocationRevoked || status == RevocationSuspended {
		e.RevokedAt = timePtr(a.RevokedAt)
		e.RevocationReason = reasonName(a.Reason)
	}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// reasonName is the RFC 5280 name of a CRLReason.
func reasonName(r int) string {
	names := []string{"unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
		"cessationOfOperation", "certificateHold", "", "removeFromCRL", "privilegeWithdrawn", "aACompromise"}
	if r >= 0 && r < len(names) && names[r] != "" {
		return names[r]
	}
	return strconv.Itoa(r)
}

// signaturePOE is the earliest time a valid time-stamp recorded in r proves the signature existed: its signature
// time-stamps, archive time-stamps and PDF document time-stamps over it (Kind "signature", "archive",
// "document"); nil when none is valid. Format code records the time-stamps (r.TimeStamps) first, then passes this
// as longTermInput.SignaturePOE.
func signaturePOE(r *SignatureReport) *time.Time {
	var best *time.Time
	for _, ts := range r.TimeStamps {
		if ts.Indication != TotalPassed || ts.Time == nil {
			continue
		}
		switch ts.Kind {
		case "signature", "archive", "document":
		default:
			continue
		}
		if best == nil || ts.Time.Before(*best) {
			t := *ts.Time
			best = &t
		}
	}
	return best
}

// addChain records a chain judgement on the report: the chain check, its finding, its notes and what revocation
// data said.
func (r *SignatureReport) addChain(cr ChainResult) {
	r.Checks.Chain = cr.Check
	if cr.Check != Passed {
		r.Add(cr.Indication, cr.SubIndication, cr.Why)
	}
	for _, n := range cr.Notes {
		r.Note(n)
	}
	r.Revocation = append(r.Revocation, cr.Revocation...)
}
