package verify

import (
	"bytes"
	"crypto/x509"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/revocation"
)

// docStamp is a valid document time-stamp of a PDF: its report (under the policy) and the revision it covers.
type docStamp struct {
	report  TimeStamp
	object  uint32
	covered int
	genTime time.Time
}

// documentTimeStamps lists the document time-stamps of res that are valid under the policy and structurally
// sound (a ByteRange whose gap is its /Contents, reaching the end of a revision): proofs of existence of
// everything in the revisions up to the one they cover. A token copied from another file or over other bytes
// fails its imprint check and is not one.
func (p *Policy) documentTimeStamps(res *pades.Result) []docStamp {
	var out []docStamp
	for _, s := range res.Signatures {
		st := s.DocumentTimeStamp
		if st == nil || st.Err != nil || st.Token == nil || len(s.Problems) > 0 || !s.GapIsContents || s.CoveredRevision == 0 ||
			s.DictionaryRewritten {
			continue
		}
		ts := p.timeStampReport("document", st)
		if ts.Indication != TotalPassed {
			continue
		}
		out = append(out, docStamp{report: ts, object: s.Object, covered: s.CoveredRevision, genTime: st.Time.UTC()})
	}
	return out
}

// pdfLongTerm fills in what the PDF gives the long-term judgement of signature s: the DSS validation data of the
// revisions after it (Data, and its certificates among Embedded), the proof of existence of the signature (its
// valid signature time-stamps and the valid document time-stamps over its revision, which are added to
// r.TimeStamps as "document" entries) and of that data (a valid document time-stamp over the newest revision
// that wrote DSS data). It raises the level: PAdES-B-B with a document time-stamp over it is B-T; B-T with
// revocation data for the signer in a later DSS is B-LT; and with a valid document time-stamp over that DSS,
// B-LTA.
func pdfLongTerm(r *SignatureReport, in *longTermInput, s *pades.Signature, stamps []docStamp) {
	earliest := func(cur *time.Time, t time.Time) *time.Time {
		if cur == nil || t.Before(*cur) {
			return &t
		}
		return cur
	}
	for _, ts := range r.TimeStamps {
		if ts.Kind == "signature" && ts.Indication == TotalPassed && ts.Time != nil {
			in.SignaturePOE = earliest(in.SignaturePOE, *ts.Time)
		}
	}
	covered := false
	if s.CoveredRevision > 0 {
		for _, d := range stamps {
			if d.object == s.Object || d.covered < s.CoveredRevision {
				continue
			}
			covered = true
			r.TimeStamps = append(r.TimeStamps, d.report)
			in.SignaturePOE = earliest(in.SignaturePOE, d.genTime)
			if s.ValidationRevision > 0 && d.covered >= s.ValidationRevision {
				in.DataPOE = earliest(in.DataPOE, d.genTime)
			}
		}
	}
	if !s.Validation.Empty() {
		in.Data = s.Validation
		in.Embedded = append(append([]*x509.Certificate{}, in.Embedded...), s.Validation.Certificates...)
	}
	if r.Level == "PAdES-B-B" && covered {
		r.Level = "PAdES-B-T"
	}
	if r.Level == "PAdES-B-T" && hasRevocationData(in.Leaf, s.Validation) {
		r.Level = "PAdES-B-LT"
		if in.DataPOE != nil {
			r.Level = "PAdES-B-LTA"
		}
	}
}

// hasRevocationData reports whether d holds an OCSP response about cert or a CRL from cert's issuer.
func hasRevocationData(cert *x509.Certificate, d revocation.Data) bool {
	if cert == nil {
		return false
	}
	for _, der := range d.OCSP {
		if _, err := ocsp.ParseResponseForCert(der, cert, nil); err == nil {
			return true
		}
	}
	for _, der := range d.CRLs {
		if l, err := x509.ParseRevocationList(der); err == nil && bytes.Equal(l.RawIssuer, cert.RawIssuer) {
			return true
		}
	}
	return false
}
