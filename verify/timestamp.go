package verify

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strconv"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/xades"
)

// xmlTimeStamps validates the signature time-stamps of an XML signature as PDF ones are (timeStampReport: the
// token, then the TSA's chain at the token's time under the policy, with the signature's certificates and
// validation data in sig), records them in r and raises its level to XAdES-B-T when one is valid. A time-stamp
// that does not validate leaves the signature INDETERMINATE (it claims a level it does not prove): the returned
// reasons, which the caller adds (after the chain's finding, which names the more basic failure first).
func (p *Policy) xmlTimeStamps(ctx context.Context, r *SignatureReport, s *xades.SignatureResult, sig longTermInput) []Message {
	valid := false
	var invalid []Message
	for i, st := range s.SignatureTimeStamps {
		checked := checkXMLTimeStamp(st)
		ts := p.timeStampReport(ctx, "signature", &checked, sig)
		r.TimeStamps = append(r.TimeStamps, ts)
		valid = valid || ts.countsForLevel()
		if ts.Indication == TotalPassed {
			continue
		}
		invalid = append(invalid, msg("ts.invalid", "n", strconv.Itoa(i+1)).withDetail(ts.why))
	}
	if valid && s.XAdES {
		r.Level = "XAdES-B-T"
	}
	return invalid
}

// checkXMLTimeStamp checks one XAdES time-stamp token as cms checks a CMS signature time-stamp (its signature, the
// TSA certificate's critical id-kp-timeStamping EKU and signing-certificate reference, the imprint over the
// covered data with the token's own hash: SHA-256, SHA-384 or SHA-512). The TSA's chain is the policy's.
func checkXMLTimeStamp(st xades.SignatureTimeStamp) cms.SignatureTimeStamp {
	if st.Problem != "" {
		return cms.SignatureTimeStamp{Err: errors.New(st.Problem)}
	}
	tok, err := cms.ParseTimeStamp(st.Token)
	if err != nil {
		return cms.SignatureTimeStamp{Err: err}
	}
	out := cms.SignatureTimeStamp{Token: tok, Time: tok.Info.GenTime}
	h := tok.Info.HashAlgorithm
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		out.Signer, out.Err = tok.VerifySignature()
		if out.Err == nil {
			out.Err = fmt.Errorf("%w: imprint hash %v", cms.ErrUnsupportedAlgorithm, tok.Info.HashAlgorithmOID)
		}
		return out
	}
	d := h.New()
	d.Write(st.Covered)
	out.Signer, out.Err = tok.Verify(d.Sum(nil), h)
	return out
}
