package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"strconv"

	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/xades"
)

// xmlLongTerm validates the time-stamps of an XML signature into r and returns what the signature brings to the
// long-term judgement of its chain (its certificates and validation data, the proofs of existence of its valid
// time-stamps) and the findings of its signature time-stamps that did not validate, which the caller adds after
// the chain's (the more basic failure is named first). The archive time-stamps are validated before the
// signature time-stamps, since they prove when the validation data existed (DataPOE), which the judgement of
// every TSA's chain reads; their entries follow the signature time-stamps' in the report.
func (p *Policy) xmlLongTerm(ctx context.Context, r *SignatureReport, s *xades.SignatureResult) (longTermInput, []Message) {
	var claimed = zeroTime
	if s.SigningTime != nil {
		claimed = *s.SigningTime
	}
	lt := longTermInput{Leaf: s.Certificate, Claimed: claimed, Data: s.Validation,
		Embedded: append(append(make([]*x509.Certificate, 0, len(s.Certificates)+len(s.Validation.Certificates)),
			s.Certificates...), s.Validation.Certificates...)}
	archive := p.xmlArchiveTimeStamps(ctx, s, &lt)
	invalid := p.xmlTimeStamps(ctx, r, s, lt)
	r.mergeTimeStamps(&archive)
	lt.SignaturePOE = signaturePOE(r)
	return lt, invalid
}

// xmlArchiveTimeStamps validates the archive time-stamps of an XML signature (Kind "archive") over the data
// xades.ArchiveTimeStamp.Covered holds, as signature time-stamps are validated, and sets in.DataPOE to the earliest
// valid one that covers all the validation data. It returns their verdicts and findings, to merge into the
// signature's report after its signature time-stamps.
func (p *Policy) xmlArchiveTimeStamps(ctx context.Context, s *xades.SignatureResult, in *longTermInput) SignatureReport {
	var out SignatureReport
	for i, a := range s.ArchiveTimeStamps {
		checked := checkXMLTimeStamp(a.SignatureTimeStamp)
		ts := p.timeStampReport(ctx, "archive", &checked, *in)
		out.TimeStamps = append(out.TimeStamps, ts)
		switch ts.Indication {
		case TotalPassed:
			if a.CoversValidationData && ts.Time != nil && (in.DataPOE == nil || ts.Time.Before(*in.DataPOE)) {
				t := *ts.Time
				in.DataPOE = &t
			}
		case Indeterminate:
			// a TSA this policy does not trust: the token proves nothing here, but nothing shows it was tampered
			// with (EU DSS leaves such a signature valid, without the proof)
			out.Note(msg("ts.archiveInvalid", "n", strconv.Itoa(i+1)).withDetail(ts.why))
		default:
			// a damaged or transplanted archive time-stamp, or one over other data than the signature holds now
			out.Add(Indeterminate, SigConstraintsFailure, msg("ts.archiveInvalid", "n", strconv.Itoa(i+1)).withDetail(ts.why))
		}
	}
	return out
}

// mergeTimeStamps adds the time-stamp verdicts validated apart (stamps) to r: their entries, findings and level.
func (r *SignatureReport) mergeTimeStamps(stamps *SignatureReport) {
	r.TimeStamps = append(r.TimeStamps, stamps.TimeStamps...)
	r.findings = append(r.findings, stamps.findings...)
	r.Reasons = append(r.Reasons, stamps.Reasons...)
	r.ReasonCodes = append(r.ReasonCodes, stamps.ReasonCodes...)
	if stamps.Level != "" {
		r.Level = stamps.Level
	}
}

// xmlLevel raises an XML signature's level past XAdES-B-T: XAdES-B-LT when it carries revocation data (or only
// certificates, when no certificate of the signer's chain below its anchor needs a status), XAdES-B-LTA when,
// moreover, an archive time-stamp counts (see TimeStamp.countsForLevel). The data is not judged here (the chain's
// judgement does that): only its presence counts for the level. The TSAs' chains are not required for the level
// (EU DSS reports a file whose TSA status is missing as B-LT too); each time-stamp's own entry says what its
// TSA's status is.
func xmlLevel(r *SignatureReport, s *xades.SignatureResult, p *Policy, in longTermInput) {
	if r.Level != "XAdES-B-T" || !hasLongTermData(in, p, s.HasRevocationValues) {
		return
	}
	r.Level = "XAdES-B-LT"
	for _, ts := range r.TimeStamps {
		if ts.Kind == "archive" && ts.countsForLevel() {
			r.Level = "XAdES-B-LTA"
			return
		}
	}
}

// hasLongTermData reports whether a signature carries what B-LT adds: revocation data, or, when marked (an empty
// xades:RevocationValues, a PDF DSS for the signature) and no certificate of the signer's chain below its anchor
// needs a status (revocation.NeedsStatus), nothing more. Its presence makes the level; whether it proves
// anything is the chain judgement's (longTerm).
func hasLongTermData(in longTermInput, p *Policy, marked bool) bool {
	if in.Leaf == nil {
		return false
	}
	return len(in.Data.OCSP)+len(in.Data.CRLs) > 0 || marked && coversChain(in.Leaf, in, p)
}

// coversChain reports whether the validation data of in hold an answer (revocation.Check: signed by the issuer or
// its delegate, naming the certificate) for every certificate of leaf's chain below its trust anchor (a policy
// root, or a self-signed certificate) that needs one (revocation.NeedsStatus).
func coversChain(leaf *x509.Certificate, in longTermInput, p *Policy) bool {
	pool := append([]*x509.Certificate{}, in.Embedded...)
	var roots []*x509.Certificate
	if p != nil {
		pool = append(append(pool, p.Intermediates...), p.Roots...)
		roots = p.Roots
	}
	anchor := func(c *x509.Certificate) bool {
		for _, r := range roots {
			if r.Equal(c) {
				return true
			}
		}
		return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
	}
	c := leaf
	for depth := 0; depth < 8; depth++ {
		if anchor(c) {
			return true
		}
		issuer := issuerIn(c, pool)
		if issuer == nil {
			return false
		}
		if revocation.NeedsStatus(c) && len(p.checkRevocation(c, issuer, in.Data, p.now()).Answers) == 0 {
			return false
		}
		c = issuer
	}
	return false
}

// issuerIn finds the certificate of pool whose key signed c.
func issuerIn(c *x509.Certificate, pool []*x509.Certificate) *x509.Certificate {
	for _, cand := range pool {
		if bytes.Equal(cand.RawSubject, c.RawIssuer) && !cand.Equal(c) && c.CheckSignatureFrom(cand) == nil {
			return cand
		}
	}
	return nil
}
