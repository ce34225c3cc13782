package verify

import (
	"errors"
	"time"

	"github.com/trustsign/trustsign/cms"
)

// TimeStamp is one time-stamp of a signature and its verdict: a signature time-stamp (over the signature value,
// B-T) or a PDF document time-stamp (over the document's ByteRange).
type TimeStamp struct {
	// Kind is "signature" or "document".
	Kind string `json:"kind"`
	// Time is the token's genTime; nil when the token could not be read.
	Time *time.Time `json:"time"`
	// TSA is the subject of the certificate that signed the token, empty when there is none.
	TSA string `json:"tsa"`
	// Indication is TOTAL_PASSED for a valid token (signature, TSA certificate with the critical
	// id-kp-timeStamping EKU and a valid chain under the policy, imprint over the right data), else why not.
	Indication    Indication    `json:"indication"`
	SubIndication SubIndication `json:"subIndication,omitempty"`
	// Reason says why a token is not valid.
	Reason string `json:"reason,omitempty"`
}

// timeStampReport judges one checked token under the policy.
func (p *Policy) timeStampReport(kind string, st *cms.SignatureTimeStamp) TimeStamp {
	out := TimeStamp{Kind: kind, Indication: TotalPassed}
	if st.Token != nil {
		t := st.Time.UTC()
		out.Time = &t
	}
	if st.Signer != nil {
		out.TSA = st.Signer.Subject.String()
	}
	switch {
	case st.Err == nil:
	case errors.Is(st.Err, cms.ErrTimeStampImprint):
		out.Indication, out.SubIndication = TotalFailed, HashFailure
	case errors.Is(st.Err, cms.ErrUnsupportedAlgorithm):
		out.Indication, out.SubIndication = Indeterminate, CryptoConstraintsFailureNoPOE
	case errors.Is(st.Err, cms.ErrTimeStampSigner):
		out.Indication, out.SubIndication = Indeterminate, ChainConstraintsFailure
	case errors.Is(st.Err, cms.ErrTimeStampInvalid):
		out.Indication, out.SubIndication = TotalFailed, SigCryptoFailure
	default:
		out.Indication, out.SubIndication = TotalFailed, FormatFailure
	}
	if st.Err != nil {
		out.Reason = st.Err.Error()
		return out
	}
	var embedded = st.Token.SignedData.Certificates
	cr := p.tsaChain(st.Signer, embedded, st.Time)
	if cr.Check != Passed {
		out.Indication, out.SubIndication, out.Reason = cr.Indication, cr.SubIndication, cr.Why.English()
	}
	return out
}

// pdfTimeStamps adds the time-stamps of a PDF signature to r: the verdict of each, a finding for each that is not
// valid (a damaged or transplanted token fails the signature), and the level PAdES-B-T for a PAdES-B-B signature
// with a valid signature time-stamp. A document time-stamp is validated here; its report has no other checks.
func (p *Policy) pdfTimeStamps(r *SignatureReport, sigs []cms.SignatureTimeStamp, doc *cms.SignatureTimeStamp) {
	valid := false
	add := func(kind string, st *cms.SignatureTimeStamp) {
		ts := p.timeStampReport(kind, st)
		r.TimeStamps = append(r.TimeStamps, ts)
		if ts.Indication == TotalPassed {
			valid = true
			return
		}
		why := msg("ts.signatureInvalid")
		if kind == "document" {
			why = msg("ts.documentInvalid")
		}
		r.Add(ts.Indication, ts.SubIndication, why.withDetail(fromLibrary(ts.Reason)))
	}
	for i := range sigs {
		add("signature", &sigs[i])
	}
	if doc != nil {
		add("document", doc)
		if valid {
			r.Level = "PAdES document time-stamp"
			r.Checks.Digests, r.Checks.SignatureValue = Passed, Passed
		}
	}
	if valid && r.Level == "PAdES-B-B" {
		r.Level = "PAdES-B-T"
	}
}
