package verify

import (
	"context"
	"crypto"
	"errors"
	"slices"
	"strings"
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
	// id-kp-timeStamping EKU and a valid chain under the policy at the token's time, not revoked then, imprint
	// over the right data), else why not.
	Indication    Indication    `json:"indication"`
	SubIndication SubIndication `json:"subIndication,omitempty"`
	// Reason says why a token is not valid.
	Reason string `json:"reason,omitempty"`
	// Revocation is what revocation data said about the TSA's chain.
	Revocation []CertificateRevocation `json:"revocation,omitempty"`

	// why is Reason as a message.
	why Message
}

// timeStampReport judges one checked token under the policy: the token's own check (st.Err), then the TSA's chain
// at the token's time with the long-term rules, using the signature's certificates and validation data (sig).
func (p *Policy) timeStampReport(ctx context.Context, kind string, st *cms.SignatureTimeStamp, sig longTermInput) TimeStamp {
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
		out.Reason, out.why = st.Err.Error(), fromLibrary(st.Err.Error())
		return out
	}
	// a token is as strong as its TSA's key and its hashes: one a signature could not rely on proves nothing
	if why, weak := p.tokenStrength(st); weak {
		out.Indication, out.SubIndication, out.Reason, out.why = Indeterminate, CryptoConstraintsFailureNoPOE, why.English(), why
		return out
	}
	embedded := append(slices.Clip(st.Token.SignedData.Certificates), sig.Embedded...)
	genTime := st.Time
	cr := p.longTerm(ctx, longTermInput{Leaf: st.Signer, Embedded: embedded, Data: sig.Data, SignaturePOE: &genTime,
		DataPOE: sig.DataPOE, UndatedOCSP: sig.UndatedOCSP, UndatedCRLs: sig.UndatedCRLs, TSA: true})
	out.Revocation = cr.Revocation
	if cr.Check != Passed {
		out.Indication, out.SubIndication, out.Reason, out.why = cr.Indication, cr.SubIndication, cr.Why.English(), cr.Why
	}
	return out
}

// tokenStrength reports why a checked token is too weak to rely on, under the rules signatures are held to: its
// TSA's key (Policy.MinRSABits, ECDSA below P-256), its imprint hash or its SignerInfo's digest (MD5, SHA-1).
func (p *Policy) tokenStrength(st *cms.SignatureTimeStamp) (Message, bool) {
	if why, weak := p.keyStrength(st.Signer); weak {
		return why, true
	}
	var hashes []string
	for _, h := range []crypto.Hash{st.Token.Info.HashAlgorithm, st.Token.SignedData.SignerInfo.DigestAlgorithm} {
		switch h {
		case crypto.MD5:
			hashes = append(hashes, "MD5")
		case crypto.SHA1:
			hashes = append(hashes, "SHA-1")
		}
	}
	if len(hashes) > 0 {
		return msg("alg.weak", "algorithms", strings.Join(dedupe(hashes), ", ")), true
	}
	return Message{}, false
}

// pdfTimeStamps adds the time-stamps of a PDF signature to r: the verdict of each, a finding for each that is not
// valid (a damaged or transplanted token fails the signature), and the level PAdES-B-T for a PAdES-B-B signature
// with a valid signature time-stamp. A document time-stamp is validated here; its report has no other checks.
// sig is the signature's long-term input (its certificates and validation data serve the TSA's chain too).
func (p *Policy) pdfTimeStamps(ctx context.Context, r *SignatureReport, sigs []cms.SignatureTimeStamp, doc *cms.SignatureTimeStamp, sig longTermInput) {
	valid := false
	add := func(kind string, st *cms.SignatureTimeStamp) {
		ts := p.timeStampReport(ctx, kind, st, sig)
		r.TimeStamps = append(r.TimeStamps, ts)
		valid = valid || ts.countsForLevel()
		if ts.Indication == TotalPassed {
			return
		}
		why := msg("ts.signatureInvalid")
		if kind == "document" {
			why = msg("ts.documentInvalid")
		}
		r.Add(ts.Indication, ts.SubIndication, why.withDetail(ts.why))
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

// countsForLevel reports whether a time-stamp counts for the level a signature reaches (the form the file
// actually has, as EU DSS reports it): its token is intact (its signature, its TSA certificate's EKU, its imprint
// over the right data), whether or not this policy trusts its TSA or knows its TSA's revocation status (the newest
// time-stamp's TSA never has its revocation data in the file before the next extension). A forged or damaged one
// (TOTAL_FAILED) does not count. Only a valid one (TOTAL_PASSED) is a proof of existence.
func (t TimeStamp) countsForLevel() bool {
	return t.Indication == TotalPassed || t.Indication == Indeterminate && t.SubIndication != SignedDataNotFound
}
