package verify

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
)

// PDF validates every signature of a PDF file under the policy. The file is read through r and never held in
// memory; the ByteRange of each signature is hashed as a stream. Set the report's File yourself.
//
// A file that cannot be read as a PDF (or is encrypted with a user password or an unsupported handler) gives a report with Error set and TOTAL_FAILED; a readable
// PDF without signatures gives no signatures and NO_SIGNATURE_FOUND.
func PDF(ctx context.Context, r io.ReaderAt, size int64, p *Policy) FileReport {
	p = p.forFile()
	rep := FileReport{Format: "pades"}
	res, err := pades.Verify(ctx, r, size, pades.VerifyOptions{})
	if err != nil {
		switch {
		case errors.Is(err, pdf.ErrUserPassword):
			rep.setError(msg("pdf.userPassword"))
		case errors.Is(err, pades.ErrEncrypted):
			rep.setError(msg("pdf.encrypted").withDetail(fromLibrary(err.Error())))
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			rep.setError(msg("verify.interrupted").withDetail(fromLibrary(err.Error())))
		default:
			// refused before any signature could be looked at: FORMAT_FAILURE, as for unreadable XML
			rep = unreadable("", "pades", msg("pdf.unreadable").withDetail(fromLibrary(err.Error())))
			return rep
		}
		rep.Summarize()
		return rep
	}
	stamps := p.documentTimeStamps(ctx, res)
	for _, s := range res.Signatures {
		for _, one := range perSigner(s) {
			rep.Signatures = append(rep.Signatures, pdfSignature(ctx, one, res, p, stamps))
		}
	}
	rep.Summarize()
	return rep
}

// perSigner splits a signature whose CMS has several SignerInfos into one view per SignerInfo (each reported as
// a signature of its own, "field (signer i of n)"); a signature with one SignerInfo is returned as it is.
func perSigner(s *pades.Signature) []*pades.Signature {
	if s.CMS == nil || len(s.CMS.SignerInfos) < 2 || len(s.CMSResults) != len(s.CMS.SignerInfos) {
		return []*pades.Signature{s}
	}
	out := make([]*pades.Signature, len(s.CMSResults))
	for i, r := range s.CMSResults {
		one, sd := *s, *s.CMS
		sd.SignerInfo = s.CMS.SignerInfos[i]
		one.CMS, one.CMSResult = &sd, r
		name := s.FieldName
		if name == "" {
			name = fmt.Sprintf("signature object %d", s.Object)
		}
		one.FieldName = fmt.Sprintf("%s (signer %d of %d)", name, i+1, len(s.CMSResults))
		out[i] = &one
	}
	return out
}

func pdfSignature(ctx context.Context, s *pades.Signature, res *pades.Result, p *Policy, stamps []docStamp) SignatureReport {
	r := SignatureReport{ID: s.FieldName, Covered: []string{}}
	if r.ID == "" {
		r.ID = fmt.Sprintf("signature object %d", s.Object)
	}
	r.Checks = Checks{Structure: Passed, Digests: NotChecked, SignatureValue: NotChecked, SigningCertificate: NotChecked, Chain: NotChecked}
	var cert = certOf(s)
	r.Signer, r.cert = SignerOf(cert), cert
	if res.Encrypted {
		r.Warn(msg("warn.pdfEncrypted"))
	}
	if s.ContentsPaddingEncrypted {
		r.Warn(msg("warn.contentsPadding"))
	}
	if s.CMSResult != nil {
		r.Algorithm = s.CMSResult.Algorithm
	}
	// Time: the CMS signing-time when present (CAdES), else /M.
	switch {
	case s.CMS != nil && s.CMS.SignerInfo.SigningTime != nil:
		t := s.CMS.SignerInfo.SigningTime.UTC()
		r.SigningTime = &t
	case s.M != nil:
		t := s.M.UTC()
		r.SigningTime = &t
	}
	if s.Profile != nil {
		r.TrustedProfile = &TrustedProfile{FirstName: s.Profile.FirstName, SecondName: s.Profile.SecondName,
			Surname: s.Profile.Surname, PESEL: s.Profile.PESEL, ProfileID: s.Profile.ProfileID, Login: s.Profile.Login}
	}
	r.Level = "CAdES/PKCS#7"
	if s.SubFilter == "ETSI.CAdES.detached" && s.CMSResult != nil && s.CMSResult.Level == cms.LevelPAdESBaseline &&
		s.CMSResult.SigningCertificateRef == cms.CertRefV2 {
		r.Level = "PAdES-B-B"
	}
	if len(s.ByteRange) == 4 {
		n := func(v int64) string { return strconv.FormatInt(v, 10) }
		br := []string{"from1", n(s.ByteRange[0]), "to1", n(s.ByteRange[0] + s.ByteRange[1] - 1),
			"from2", n(s.ByteRange[2]), "to2", n(s.ByteRange[2] + s.ByteRange[3] - 1), "size", n(res.Size)}
		rev := []string{"revision", strconv.Itoa(s.CoveredRevision), "revisions", strconv.Itoa(len(res.Revisions))}
		switch {
		case s.CoveredRevision > 0 && s.CoversWholeFile:
			r.Cover(msg("cover.byteRangeWholeFile", append(br, rev...)...))
		case s.CoveredRevision > 0:
			r.Cover(msg("cover.byteRangeRevision", append(br, rev...)...))
		default:
			r.Cover(msg("cover.byteRangeIncomplete", br...))
		}
	}

	// structure
	for _, msg := range s.Problems {
		r.Checks.Structure = Failed
		r.Add(TotalFailed, FormatFailure, fromLibrary(msg))
	}
	switch s.SubFilter {
	case "ETSI.CAdES.detached", "adbe.pkcs7.detached":
	case "adbe.pkcs7.sha1":
		r.Add(Indeterminate, CryptoConstraintsFailureNoPOE, msg("pdf.sha1SubFilter"))
	case "ETSI.RFC3161":
		if s.DocumentTimeStamp == nil {
			r.Add(Indeterminate, SignedDataNotFound, msg("pdf.docTimeStamp"))
		}
	case "":
		r.Checks.Structure = Failed
		r.Add(TotalFailed, FormatFailure, msg("pdf.noSubFilter"))
	default:
		r.Checks.Structure = Failed
		r.Add(TotalFailed, FormatFailure, msg("pdf.unknownSubFilter", "subFilter", s.SubFilter))
	}
	if s.Type != "" && s.Type != "Sig" && s.Type != "DocTimeStamp" {
		r.Checks.Structure = Failed
		r.Add(TotalFailed, FormatFailure, msg("pdf.type", "type", s.Type))
	}

	// CMS
	switch {
	case s.CMSErr != nil && s.SubFilter != "ETSI.RFC3161":
		r.Checks.Structure = Failed
		r.Add(TotalFailed, FormatFailure, msg("cms.unusable").withDetail(fromLibrary(s.CMSErr.Error())))
	case s.CMSResult != nil:
		c := s.CMSResult
		if !c.ContentTypeOK {
			r.Checks.Structure = Failed
			r.Add(TotalFailed, FormatFailure, msg("cms.contentType"))
		}
		si := s.CMS.SignerInfo
		// ContentDigest is nil when the digest algorithm is unsupported: nothing is known about the digest then.
		if si.HasSignedAttributes && c.ContentDigest != nil {
			if c.DigestOK {
				r.Checks.Digests = Passed
			} else {
				r.Checks.Digests = Failed
				r.Add(TotalFailed, HashFailure, msg("cms.digestMismatch"))
			}
		}
		if s.SubFilter == "adbe.pkcs7.sha1" && !s.EncapsulatedDigestOK {
			r.Checks.Digests = Failed
			r.Add(TotalFailed, HashFailure, msg("cms.sha1Mismatch"))
		}
		switch {
		case c.SignatureOK:
			r.Checks.SignatureValue = Passed
			if !si.HasSignedAttributes && r.Checks.Digests != Failed {
				r.Checks.Digests = Passed
			}
		case c.UnsupportedAlgorithm != "":
			// Not a verdict on the signature: it could not be checked (EN 319 102-1 5.2.8: the algorithm is outside
			// the cryptographic constraints, and there is no proof of existence from a time it was acceptable).
			r.Add(Indeterminate, CryptoConstraintsFailureNoPOE, msg("cms.unsupportedAlg", "algorithm", c.UnsupportedAlgorithm))
		case c.SignerCert == nil:
			r.Add(Indeterminate, NoSigningCertificateFound, msg("cms.noSignerCert"))
		default:
			r.Checks.SignatureValue = Failed
			if !si.HasSignedAttributes {
				r.Checks.Digests = Failed
				r.Add(TotalFailed, HashFailure, msg("cms.rawMismatch"))
			} else {
				r.Add(TotalFailed, SigCryptoFailure, msg("cms.signatureMismatch").withDetail(errText(c.SignatureErr)))
			}
		}
		switch {
		case c.SigningCertificateRef == cms.CertRefNone, c.SignerCert == nil:
		case c.SigningCertificateMatch:
			r.Checks.SigningCertificate = Passed
		default:
			r.Checks.SigningCertificate = Failed
			r.Add(TotalFailed, FormatFailure, msg("cms.certSwapped"))
		}
		if len(c.Weak) > 0 {
			r.Add(Indeterminate, CryptoConstraintsFailureNoPOE, msg("alg.weak", "algorithms", strings.Join(dedupe(c.Weak), ", ")))
		}
	}
	var sigStamps []cms.SignatureTimeStamp
	if s.CMSResult != nil {
		sigStamps = s.CMSResult.TimeStamps
	}
	var at time.Time
	if r.SigningTime != nil {
		at = *r.SigningTime
	}
	var embedded []*x509.Certificate
	if s.CMS != nil {
		embedded = s.CMS.Certificates
	}
	// a document time-stamp's certificate is a TSA's: its EKU was checked with the token
	tsaCert := s.DocumentTimeStamp != nil && s.DocumentTimeStamp.Err == nil
	lt := longTermInput{Leaf: cert, Embedded: embedded, Claimed: at, TSA: tsaCert}
	pdfValidationData(&lt, s)
	// time-stamps first: a valid one proves when the signature existed, and the chain is judged then
	p.pdfTimeStamps(ctx, &r, sigStamps, s.DocumentTimeStamp, lt)
	stamped, archived := pdfDocumentStamps(&r, &lt, s, stamps)
	lt.SignaturePOE = signaturePOE(&r)
	pdfLevel(&r, s, lt, p, stamped, archived)
	p.timeChecks(&r, cert)
	if cert != nil {
		for _, w := range certificateWarnings(cert) {
			r.Warn(w)
		}
		if w, weak := p.keyStrength(cert); weak {
			r.Add(Indeterminate, CryptoConstraintsFailureNoPOE, w)
		}
		r.addChain(p.longTerm(ctx, lt))
	}

	// changes after signing
	for _, c := range s.Changes {
		r.Changes = append(r.Changes, Change{Revision: c.Revision, Kind: string(c.Kind), Allowed: c.Allowed, Detail: c.Detail})
	}
	r.Modified = s.Modified
	if s.Modified {
		named := false
		for _, c := range s.Changes {
			if !c.Allowed || c.Kind == pades.ChangeSignatureDict {
				named = true
				r.Add(TotalFailed, FormatFailure, msg("pdf.modifiedRevision", "revision", strconv.Itoa(c.Revision),
					"kind", string(c.Kind)).withDetail(fromLibrary(c.Detail)))
			}
		}
		if !named {
			r.Add(TotalFailed, FormatFailure, msg("pdf.modified"))
		}
	}
	if s.Certification {
		r.Note(msg("pdf.certification", "p", strconv.Itoa(s.DocMDP)))
	}
	p.profileBySeal(&r, cert)
	r.Conclude()
	return r
}

// certOf returns the certificate that signed: the one the CMS verification used, or the one the SignerInfo names.
func certOf(s *pades.Signature) *x509.Certificate {
	if s.CMSResult != nil && s.CMSResult.SignerCert != nil {
		return s.CMSResult.SignerCert
	}
	if s.CMS != nil {
		if c, err := s.CMS.SignerCertificate(); err == nil {
			return c
		}
	}
	return nil
}

func errText(err error) Message {
	if err == nil {
		return msg("pdf.unknownError")
	}
	return fromLibrary(err.Error())
}
