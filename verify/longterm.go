package verify

import (
	"crypto/x509"
	"time"

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
	// time-stamp, an archive time-stamp or a PDF document time-stamp over it); nil when none does.
	SignaturePOE *time.Time
	// DataPOE is the earliest time a valid time-stamp proves Data existed (an archive time-stamp over it, a
	// document time-stamp after the DSS revision); nil when none does.
	DataPOE *time.Time
	// TSA marks a time-stamping authority's certificate: its key usage is checked with the token, not the
	// document-signing rules.
	TSA bool
}

// longTerm judges the signer's chain (skeleton: the chain at the validation time, as before; the rules with
// revocation data and proofs of existence are being written).
func (p *Policy) longTerm(in longTermInput) ChainResult {
	if in.TSA {
		return p.tsaChain(in.Leaf, in.Embedded, in.Claimed)
	}
	return p.Chain(in.Leaf, in.Embedded, in.Claimed)
}
