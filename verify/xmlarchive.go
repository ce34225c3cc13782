package verify

import (
	"bytes"
	"crypto/x509"
	"strconv"
	"time"

	"github.com/digitorus/pkcs7"
	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/xades"
)

// xmlLongTerm validates the archive time-stamps of an XML signature into stamps (Kind "archive"; stamps already
// holds the verdicts of its signature time-stamps) and returns what the signature brings to the long-term judgement
// of its chain: the certificates and validation data it carries, and the proofs of existence its valid time-stamps
// give. An archive time-stamp is validated as a signature time-stamp is (xmlTimeStamps), over the data
// xades.ArchiveTimeStamp.Covered holds.
func xmlLongTerm(stamps *SignatureReport, s *xades.SignatureResult, p *Policy) longTermInput {
	in := longTermInput{Data: s.Validation}
	in.Embedded = append(append(make([]*x509.Certificate, 0, len(s.Certificates)+len(s.Validation.Certificates)),
		s.Certificates...), s.Validation.Certificates...)
	earliest := func(cur *time.Time, t *time.Time) *time.Time {
		if t != nil && (cur == nil || t.Before(*cur)) {
			return t
		}
		return cur
	}
	for _, ts := range stamps.TimeStamps {
		if ts.Kind == "signature" && ts.Indication == TotalPassed {
			in.SignaturePOE = earliest(in.SignaturePOE, ts.Time)
		}
	}
	if len(s.ArchiveTimeStamps) == 0 {
		return in
	}
	tokens := &xades.SignatureResult{Certificates: in.Embedded}
	for _, a := range s.ArchiveTimeStamps {
		tokens.SignatureTimeStamps = append(tokens.SignatureTimeStamps, a.SignatureTimeStamp)
	}
	var archive SignatureReport
	xmlTimeStamps(&archive, tokens, p)
	for i, ts := range archive.TimeStamps {
		ts.Kind = "archive"
		stamps.TimeStamps = append(stamps.TimeStamps, ts)
		switch ts.Indication {
		case TotalPassed:
		case Indeterminate:
			// a TSA this policy does not trust: the token proves nothing here, but nothing shows it was tampered
			// with (EU DSS leaves such a signature valid, without the proof)
			stamps.Note(msg("ts.archiveInvalid", "n", strconv.Itoa(i+1)).withDetail(fromLibrary(ts.Reason)))
			continue
		default:
			// a damaged or transplanted archive time-stamp, or one over other data than the signature holds now
			stamps.Add(Indeterminate, SigConstraintsFailure, msg("ts.archiveInvalid", "n", strconv.Itoa(i+1)).withDetail(fromLibrary(ts.Reason)))
			continue
		}
		in.SignaturePOE = earliest(in.SignaturePOE, ts.Time)
		if s.ArchiveTimeStamps[i].CoversValidationData {
			in.DataPOE = earliest(in.DataPOE, ts.Time)
		}
	}
	return in
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

// xmlLevel raises an XML signature's level past XAdES-B-T: XAdES-B-LT when its validation data hold revocation
// data for every certificate that needs it (each certificate below a trust anchor of the signer's chain and of the
// chain of each valid signature time-stamp's TSA), XAdES-B-LTA when, moreover, an archive time-stamp is valid.
// The data is not judged here (the chain's judgement does that): only its presence counts for the level.
func xmlLevel(r *SignatureReport, s *xades.SignatureResult, p *Policy, in longTermInput) {
	if r.Level != "XAdES-B-T" || len(in.Data.OCSP)+len(in.Data.CRLs) == 0 || s.Certificate == nil {
		return
	}
	rc := newRevocationIndex(in, p)
	if !rc.covers(s.Certificate, nil) {
		return
	}
	for i, st := range s.SignatureTimeStamps {
		if i >= len(r.TimeStamps) || r.TimeStamps[i].Kind != "signature" || r.TimeStamps[i].Indication != TotalPassed {
			continue
		}
		p7, err := pkcs7.Parse(st.Token)
		if err != nil || p7.GetOnlySigner() == nil || !rc.covers(p7.GetOnlySigner(), p7.Certificates) {
			return
		}
	}
	r.Level = "XAdES-B-LT"
	for _, ts := range r.TimeStamps {
		if ts.Kind == "archive" && ts.Indication == TotalPassed {
			r.Level = "XAdES-B-LTA"
			return
		}
	}
}

// revocationIndex answers whether a signature's validation data holds revocation data for a certificate.
type revocationIndex struct {
	pool  []*x509.Certificate
	roots []*x509.Certificate
	ocsps map[string][][]byte // by certificate serial number
	crls  []*x509.RevocationList
}

func newRevocationIndex(in longTermInput, p *Policy) *revocationIndex {
	rc := &revocationIndex{ocsps: map[string][][]byte{}}
	rc.pool = append(rc.pool, in.Embedded...)
	if p != nil {
		rc.pool = append(append(rc.pool, p.Intermediates...), p.Roots...)
		rc.roots = p.Roots
	}
	for _, der := range in.Data.OCSP {
		if resp, err := ocsp.ParseResponse(der, nil); err == nil && resp.SerialNumber != nil {
			k := resp.SerialNumber.String()
			rc.ocsps[k] = append(rc.ocsps[k], der)
		}
	}
	for _, der := range in.Data.CRLs {
		if crl, err := x509.ParseRevocationList(der); err == nil {
			rc.crls = append(rc.crls, crl)
		}
	}
	return rc
}

// covers reports whether every certificate of leaf's chain below its trust anchor (a policy root, or a
// self-signed certificate) has an OCSP response or a CRL from its issuer; extra helps find the issuers.
func (rc *revocationIndex) covers(leaf *x509.Certificate, extra []*x509.Certificate) bool {
	pool := append(append([]*x509.Certificate{}, rc.pool...), extra...)
	c := leaf
	for depth := 0; depth < 8; depth++ {
		if rc.anchor(c) {
			return true
		}
		issuer := issuerIn(c, pool)
		if issuer == nil || !rc.revocationFor(c, issuer) {
			return false
		}
		c = issuer
	}
	return false
}

func (rc *revocationIndex) anchor(c *x509.Certificate) bool {
	for _, r := range rc.roots {
		if r.Equal(c) {
			return true
		}
	}
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil
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

// revocationFor reports whether an OCSP response about c, or a CRL of its issuer, is at hand.
func (rc *revocationIndex) revocationFor(c, issuer *x509.Certificate) bool {
	for _, der := range rc.ocsps[c.SerialNumber.String()] {
		if _, err := ocsp.ParseResponseForCert(der, c, issuer); err == nil {
			return true
		}
	}
	for _, crl := range rc.crls {
		if bytes.Equal(crl.RawIssuer, c.RawIssuer) && crl.CheckSignatureFrom(issuer) == nil {
			return true
		}
	}
	return false
}
