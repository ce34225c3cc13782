package verify

import (
	"context"
	"crypto/x509"
	"strconv"
	"strings"

	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/xades"
)

// XMLOptions configures XML validation.
type XMLOptions struct {
	// Detached content by file name (see xades.VerifyOptions.Detached).
	Detached map[string][]byte
	// MaxBytes bounds the document size (default a little above 10 MB, the real service's document limit).
	MaxBytes int
	// MaxWork bounds the work on all references of the document together, in bytes canonicalized, decoded,
	// hashed or walked (default DefaultWork): past it the remaining references are refused for the processing
	// limit, so a document of many signatures of many references over its whole content costs a few times its
	// size, not their product.
	MaxWork int64
}

// DefaultWork is the default work budget of a document of size bytes (detached content included): 64 MiB, plus 8
// times its size, enough for a dozen signatures over the whole of a 10 MB document.
func DefaultWork(size int64) int64 { return 64<<20 + 8*size }

// DefaultMaxXMLBytes is the default XML size limit: the real service accepts documents up to 10 MB.
const DefaultMaxXMLBytes = 10<<20 + 512<<10

// XML validates every signature of an XML document under the policy.
func XML(name string, data []byte, p *Policy, o XMLOptions) FileReport {
	p = p.forFile()
	return XMLContext(context.Background(), name, data, p, o)
}

// XMLContext is XML that stops when ctx is done: the references not checked by then are refused ("verification
// stopped"), and the file fails.
func XMLContext(ctx context.Context, name string, data []byte, p *Policy, o XMLOptions) FileReport {
	rep := FileReport{File: name, Format: "xades"}
	max := o.MaxBytes
	if max == 0 {
		max = DefaultMaxXMLBytes
	}
	var extra []*x509.Certificate
	if p != nil {
		extra = append(append(extra, p.Intermediates...), p.Roots...)
	}
	work := o.MaxWork
	if work <= 0 {
		size := int64(len(data))
		for _, d := range o.Detached {
			size += int64(len(d))
		}
		work = DefaultWork(size)
	}
	res, err := xades.VerifyContext(ctx, data, xades.VerifyOptions{Detached: o.Detached, ExtraCertificates: extra,
		Limits: xmldoc.Limits{MaxBytes: max}, WorkBudget: work})
	if err != nil {
		return unreadable(name, "xades", msg("xml.malformed").withDetail(fromLibrary(err.Error())))
	}
	allXMLDSig := len(res.Signatures) > 0
	for _, s := range res.Signatures {
		rep.Signatures = append(rep.Signatures, xmlSignature(ctx, s, res, p))
		allXMLDSig = allXMLDSig && !s.XAdES
	}
	if allXMLDSig {
		rep.Format = "xmldsig"
	}
	rep.Summarize()
	return rep
}

// UnreadableXML is the report of an XML file refused before any signature could be looked at (malformed, too
// large, a DOCTYPE...): TOTAL_FAILED / FORMAT_FAILURE with the reason, so that it counts as a failed file.
func UnreadableXML(name, reason string) FileReport {
	return unreadable(name, "xades", fromLibrary(reason))
}

// unreadable is the report of a file refused before any signature could be looked at: one TOTAL_FAILED /
// FORMAT_FAILURE entry carrying the reason.
func unreadable(name, format string, why Message) FileReport {
	return FileReport{File: name, Format: format, Indication: TotalFailed, Error: why.English(), ErrorCode: &why,
		Signatures: []SignatureReport{{
			Indication: TotalFailed, SubIndication: FormatFailure, Covered: []string{},
			Checks:      Checks{Structure: Failed, Digests: NotChecked, SignatureValue: NotChecked, SigningCertificate: NotChecked, Chain: NotChecked},
			Reasons:     []string{why.English()},
			ReasonCodes: []Message{why},
		}}}
}

func xmlSignature(ctx context.Context, s *xades.SignatureResult, res *xades.Result, p *Policy) SignatureReport {
	r := SignatureReport{ID: s.ID, Algorithm: s.Algorithm, Signer: SignerOf(s.Certificate), SigningTime: s.SigningTime,
		Covered: []string{}, cert: s.Certificate, cryptoFirst: true}
	if s.Profile != nil {
		r.TrustedProfile = &TrustedProfile{FirstName: s.Profile.FirstName, SecondName: s.Profile.SecondName,
			Surname: s.Profile.Surname, PESEL: s.Profile.PESEL, ProfileID: s.Profile.ProfileID, Login: s.Profile.Login,
			DateOfBirth: s.Profile.DateOfBirth}
	}
	for _, w := range s.Warnings {
		r.Warn(fromLibrary(w))
	}
	for _, w := range certificateWarnings(s.Certificate) {
		r.Warn(w)
	}
	r.Level = "XMLDSig"
	if s.XAdES {
		r.Level = "XAdES-B-B"
	}
	if r.ID == "" {
		r.ID = s.Path
	}

	// structure
	r.Checks.Structure = Passed
	for _, msg := range s.Structure {
		r.Checks.Structure = Failed
		r.Add(TotalFailed, FormatFailure, fromLibrary(msg))
	}
	// references
	r.Checks.Digests = Passed
	if len(s.References) == 0 {
		r.Checks.Digests = NotChecked
	}
	for _, ref := range s.References {
		if ref.Covered != "" && !ref.SignedProperties {
			r.Cover(fromLibrary(ref.Covered))
		}
		switch ref.Status {
		case xades.RefOK:
			if !ref.SignedProperties && ref.Verified != nil {
				r.verified = append(r.verified, VerifiedContent{URI: ref.URI, Octets: ref.Verified})
			}
		case xades.RefRefused:
			r.Checks.Structure = Failed
			r.Add(TotalFailed, FormatFailure, msg("ref.refused", "uri", ref.URI).withDetail(fromLibrary(ref.Detail)))
		case xades.RefMismatch:
			r.Checks.Digests = Failed
			r.Add(TotalFailed, HashFailure, msg("ref.mismatch", "uri", ref.URI).withDetail(fromLibrary(ref.Detail)))
		case xades.RefNotFound:
			if r.Checks.Digests == Passed {
				r.Checks.Digests = NotChecked
			}
			r.Add(Indeterminate, SignedDataNotFound, msg("ref.notFound", "uri", ref.URI).withDetail(fromLibrary(ref.Detail)))
		}
	}
	if len(s.References) > 0 && len(s.Structure) == 0 {
		data := false
		for _, ref := range s.References {
			data = data || !ref.SignedProperties
		}
		if !data {
			// self-contained: such a signature could be pasted into any document and still verify
			r.Add(Indeterminate, SignedDataNotFound, msg("sig.noData"))
		}
	}
	if s.Wrapped != nil {
		// read from what the signature verified, not from the document as parsed
		w := s.Wrapped
		r.WrappedFile = &WrappedFile{Name: w.Name, MIMEType: w.MIMEType, Size: int64(len(w.Content)),
			SHA256: xades.WrapperDigest(w.Content)}
		r.Cover(msg("cover.wrapped", "name", w.Name, "mime", w.MIMEType, "size", strconv.Itoa(len(w.Content)),
			"sha256", r.WrappedFile.SHA256))
	}
	// signature value
	switch {
	case s.SignatureChecked && s.SignatureValid:
		r.Checks.SignatureValue = Passed
	case s.SignatureChecked:
		r.Checks.SignatureValue = Failed
		r.Add(TotalFailed, SigCryptoFailure, fromLibrary(s.SignatureDetail))
	case s.UnsupportedAlgorithm != "":
		r.Checks.SignatureValue = NotChecked
		r.Add(Indeterminate, CryptoConstraintsFailureNoPOE, fromLibrary(s.SignatureDetail))
	default:
		r.Checks.SignatureValue = NotChecked
	}
	// signing certificate
	switch {
	case s.KeyValueOnly:
		r.Checks.SigningCertificate = NotChecked
		r.Add(Indeterminate, NoSigningCertificateFound, msg("sig.keyValueOnly"))
	case s.SigningCertificate == xades.CertRefMatch:
		r.Checks.SigningCertificate = Passed
	case s.SigningCertificate == xades.CertRefMismatch:
		r.Checks.SigningCertificate = Failed
		// the signed properties name another certificate than the one whose key made the signature: the signature
		// contradicts itself (XAdES requires SigningCertificate to identify the signer), so it fails as malformed
		r.Add(TotalFailed, FormatFailure, msg("sig.certSwapped"))
	case s.SigningCertificate == xades.CertRefMissing:
		r.Checks.SigningCertificate = NotChecked
		r.Add(Indeterminate, NoSigningCertificateFound, msg("sig.certMissing"))
	case s.Certificate == nil:
		r.Checks.SigningCertificate = NotChecked
		if s.SignatureChecked || len(s.Structure) == 0 {
			r.Add(Indeterminate, NoSigningCertificateFound, msg("sig.noCertificate"))
		}
	case s.XAdES:
		r.Checks.SigningCertificate = Failed
		r.Add(TotalFailed, FormatFailure, msg("sig.noCertProperty"))
	default:
		// plain XMLDSig: nothing binds the certificate, the chain check below is what identifies the signer
		r.Checks.SigningCertificate = NotChecked
	}
	// algorithms
	if len(s.Weak) > 0 {
		r.Add(Indeterminate, CryptoConstraintsFailureNoPOE, msg("alg.weak", "algorithms", strings.Join(dedupe(s.Weak), ", ")))
	}
	if w, weak := p.keyStrength(s.Certificate); weak {
		r.Add(Indeterminate, CryptoConstraintsFailureNoPOE, w)
	}
	p.timeChecks(&r, s.Certificate)
	// time-stamps first: a valid one proves when the signature existed, and the chain is judged then
	lt, invalidStamps := p.xmlLongTerm(ctx, &r, s)
	// chain
	if s.Certificate != nil && !s.KeyValueOnly {
		r.addChain(p.longTerm(ctx, lt))
	} else {
		r.Checks.Chain = NotChecked
	}
	for _, why := range invalidStamps {
		r.Add(Indeterminate, SigConstraintsFailure, why)
	}
	xmlLevel(&r, s, p, lt)
	for _, c := range s.CounterSignatures {
		cs := xmlSignature(ctx, c, &xades.Result{}, p)
		cs.Level = "counter-signature"
		r.CounterSignatures = append(r.CounterSignatures, cs)
	}
	p.profileBySeal(&r, s.Certificate)
	r.Conclude()
	return r
}

func dedupe(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
