package verify

import (
	"context"
	"crypto/x509"
	"time"

	"github.com/trustsign/trustsign/pades"
)

// docStamp is a valid document time-stamp of a PDF: its report (under the policy) and the revision it covers.
type docStamp struct {
	report  TimeStamp
	object  uint32
	covered int
	genTime time.Time
}

// documentTimeStamps lists the document time-stamps of res whose token is intact (see TimeStamp.countsForLevel)
// and that are structurally sound (a ByteRange whose gap is its /Contents, reaching the end of a revision): each
// covers everything in the revisions up to the one it covers, and the valid ones (TOTAL_PASSED) are proofs of
// existence of it. A token copied from another file or over other bytes fails its imprint check and is not one.
// Their TSAs' chains are judged with the whole DSS's validation data.
func (p *Policy) documentTimeStamps(ctx context.Context, res *pades.Result) []docStamp {
	var in longTermInput
	if res.DSS != nil {
		in.Data, in.Embedded = res.DSS.Data, res.DSS.Data.Certificates
	}
	var out []docStamp
	for _, s := range res.Signatures {
		st := s.DocumentTimeStamp
		if st == nil || st.Err != nil || st.Token == nil || len(s.Problems) > 0 || !s.GapIsContents || s.CoveredRevision == 0 ||
			s.DictionaryRewritten {
			continue
		}
		ts := p.timeStampReport(ctx, "document", st, in)
		if !ts.countsForLevel() {
			continue
		}
		out = append(out, docStamp{report: ts, object: s.Object, covered: s.CoveredRevision, genTime: st.Time.UTC()})
	}
	return out
}

// pdfValidationData gives the long-term judgement of signature s the DSS validation data of the revisions after
// it (Data, and its certificates among Embedded).
func pdfValidationData(in *longTermInput, s *pades.Signature) {
	if !s.Validation.Empty() {
		in.Data = s.Validation
		in.UndatedOCSP, in.UndatedCRLs = len(s.Validation.OCSP)-s.ValidationDatedOCSP, len(s.Validation.CRLs)-s.ValidationDatedCRLs
		in.Embedded = append(append([]*x509.Certificate{}, in.Embedded...), s.Validation.Certificates...)
	}
}

// pdfDocumentStamps adds to r the document time-stamps over signature s's revision (as "document" entries: the
// valid ones prove when the signature existed) and sets in.DataPOE to the earliest valid one over the newest
// revision that wrote the signature's DSS data. It reports whether one is over the signature (B-T) and whether
// one is over its DSS data (B-LTA), counting intact ones (TimeStamp.countsForLevel).
func pdfDocumentStamps(r *SignatureReport, in *longTermInput, s *pades.Signature, stamps []docStamp) (stamped, archived bool) {
	if s.CoveredRevision == 0 {
		return false, false
	}
	for _, d := range stamps {
		if d.object == s.Object || d.covered < s.CoveredRevision {
			continue
		}
		r.TimeStamps = append(r.TimeStamps, d.report)
		stamped = true
		overData := s.ValidationRevision > 0 && d.covered >= s.ValidationRevision
		archived = archived || overData
		if overData && d.report.Indication == TotalPassed && (in.DataPOE == nil || d.genTime.Before(*in.DataPOE)) {
			t := d.genTime
			in.DataPOE = &t
		}
	}
	return stamped, archived
}

// pdfLevel raises a PDF signature's level: PAdES-B-B with a document time-stamp over it (stamped) is B-T; B-T with
// validation data in a later DSS (see hasLongTermData) is B-LT; and with a document time-stamp over that DSS
// (archived), B-LTA.
func pdfLevel(r *SignatureReport, s *pades.Signature, in longTermInput, p *Policy, stamped, archived bool) {
	if r.Level == "PAdES-B-B" && stamped {
		r.Level = "PAdES-B-T"
	}
	if r.Level != "PAdES-B-T" || !hasLongTermData(in, p, s.ValidationRevision > 0) {
		return
	}
	r.Level = "PAdES-B-LT"
	if archived {
		r.Level = "PAdES-B-LTA"
	}
}
