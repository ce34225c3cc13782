package verify

import (
	"crypto/x509"
	"errors"
	"strconv"

	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/xades"
)

// xmlTimeStamps validates the signature time-stamps of an XML signature under the policy's trust anchors (at the
// token's time), records them in r and raises its level to XAdES-B-T when one is valid. A time-stamp that does not
// validate leaves the signature INDETERMINATE: it claims a level it does not prove.
func xmlTimeStamps(r *SignatureReport, s *xades.SignatureResult, p *Policy) {
	if len(s.SignatureTimeStamps) == 0 {
		return
	}
	var o tsa.VerifyOptions
	o.Roots, o.Intermediates = x509.NewCertPool(), x509.NewCertPool()
	if p != nil {
		for _, c := range p.Roots {
			o.Roots.AddCert(c)
		}
		for _, c := range p.Intermediates {
			o.Intermediates.AddCert(c)
		}
	}
	for _, c := range s.Certificates { // the signature's own certificates may hold the TSA's intermediates
		o.Intermediates.AddCert(c)
	}
	valid := false
	for i, st := range s.SignatureTimeStamps {
		tr := TimeStamp{Kind: "signature"}
		var err error
		if st.Problem != "" {
			err = errors.New(st.Problem)
			tr.Indication = TotalFailed
		} else {
			var tok *tsa.Token
			tok, err = tsa.VerifyData(st.Token, st.Covered, o)
			switch {
			case err == nil:
				t := tok.Time.UTC()
				tr.Time, tr.TSA, tr.Indication = &t, tok.Certificate.Subject.String(), TotalPassed
				valid = true
			case errors.Is(err, tsa.ErrCertificate):
				tr.Indication = Indeterminate
			default:
				tr.Indication = TotalFailed
			}
		}
		if err != nil {
			tr.Reason = err.Error()
			r.Add(Indeterminate, SigConstraintsFailure, msg("ts.invalid", "n", strconv.Itoa(i+1)).withDetail(fromLibrary(err.Error())))
		}
		r.TimeStamps = append(r.TimeStamps, tr)
	}
	if valid && s.XAdES {
		r.Level = "XAdES-B-T"
	}
}
