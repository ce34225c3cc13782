package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/cloudflare/circl/sign/ed448"
	"github.com/trustsign/trustsign/internal/pkcs1"
)

// DigestInfoForm tells which PKCS#1 v1.5 DigestInfo encoding an RSA signature used.
type DigestInfoForm int

// DigestInfo forms.
const (
	// DigestInfoNotApplicable: not an RSA PKCS#1 v1.5 signature, or it did not verify.
	DigestInfoNotApplicable DigestInfoForm = iota
	// DigestInfoWithNULL: the RFC 8017 encoding, hash parameters NULL.
	DigestInfoWithNULL
	// DigestInfoWithoutNULL: hash parameters absent, as real trusted-profile seals write it.
	DigestInfoWithoutNULL
)

// String returns "n/a", "with NULL" or "without NULL".
func (f DigestInfoForm) String() string {
	switch f {
	case DigestInfoWithNULL:
		return "with NULL"
	case DigestInfoWithoutNULL:
		return "without NULL"
	}
	return "n/a"
}

// CertRef tells which signing-certificate attribute the SignerInfo carries.
type CertRef int

// Signing-certificate references.
const (
	// CertRefNone: neither signingCertificate nor signingCertificateV2.
	CertRefNone CertRef = iota
	// CertRefV1: signingCertificate (RFC 2634, SHA-1) only.
	CertRefV1
	// CertRefV2: signingCertificateV2 (RFC 5035), possibly alongside v1.
	CertRefV2
)

// String returns "none", "v1" or "v2".
func (c CertRef) String() string {
	switch c {
	case CertRefV1:
		return "v1"
	case CertRefV2:
		return "v2"
	}
	return "none"
}

// Level is the CMS shape of a signature, judged from its signed attributes only.
type Level string

// Levels.
const (
	// LevelPAdESBaseline: signed attributes with content-type, message-digest and a signing-certificate reference
	// (v2, or v1 with SHA-1) and no signing-time: the PAdES baseline B-B shape (the time is in the PDF /M).
	LevelPAdESBaseline Level = "PAdES baseline"
	// LevelCAdESBaseline: the same with a signing-time attribute: the CAdES baseline B-B shape. PAdES baseline
	// forbids signing-time in the CMS, so for a PDF this is a CAdES signature embedded in a PDF.
	LevelCAdESBaseline Level = "CAdES baseline"
	// LevelPKCS7: anything else (no signed attributes, or no signing-certificate reference): plain CMS/PKCS#7, as
	// adbe.pkcs7.detached allows.
	LevelPKCS7 Level = "CAdES/PKCS#7"
)

// Result lists the facts Verify established about the signature. It makes no trust decision: chain building, trust
// anchors, validity periods and algorithm policy are the caller's. Problems summarises the failed checks.
type Result struct {
	// SignerIndex is the index of the SignerInfo in SignedData.SignerInfos.
	SignerIndex int
	// SignerCert is the certificate the sid names, found among SignedData.Certificates; nil if none or several
	// different ones match (SignatureErr is then ErrNoSigningCertificate or ErrAmbiguousSigner).
	SignerCert *x509.Certificate
	// DigestAlgorithm is the SignerInfo's digest algorithm (0 if unknown).
	DigestAlgorithm crypto.Hash
	// Algorithm names the signature algorithm: "RSA-SHA256", "RSA-PSS-SHA256", "ECDSA-SHA384",
	// "ECDSA-plain-SHA256" (BSI TR-03111 r||s), "Ed25519", "Ed448", ...
	Algorithm string
	// UnsupportedAlgorithm names the digest or signature algorithm, key type or elliptic curve this package
	// cannot verify ("digest algorithm 1.2.3.4", "ECDSA secp256k1", ...); empty when everything was supported.
	// When set, SignatureErr wraps ErrUnsupportedAlgorithm and nothing is known about the signature value: it is
	// neither shown valid nor invalid.
	UnsupportedAlgorithm string
	// ContentDigest is the digest of the content under the SignerInfo's digest algorithm, nil when that algorithm
	// is not supported.
	ContentDigest []byte
	// DigestOK: with signed attributes, the message-digest attribute equals the content digest. Without them the
	// signature is directly over the content digest, so DigestOK equals SignatureOK.
	DigestOK bool
	// SignatureOK: the signature value verifies with SignerCert's public key over the signed attributes (or the
	// content digest when there are none).
	SignatureOK bool
	// SignatureErr says why SignatureOK is false; nil when it is true.
	SignatureErr error
	// DigestInfoForm is the DigestInfo encoding of a verified RSA PKCS#1 v1.5 signature.
	DigestInfoForm DigestInfoForm
	// ContentTypeOK: eContentType is id-data and, with signed attributes, the content-type attribute is present and
	// equal to it.
	ContentTypeOK bool
	// SigningCertificateRef is the signing-certificate attribute present (v2 wins over v1).
	SigningCertificateRef CertRef
	// SigningCertificateMatch: the first entry of every signing-certificate attribute present names SignerCert
	// (certificate hash, and issuer and serial when given). False when SigningCertificateRef is CertRefNone.
	SigningCertificateMatch bool
	// Weak lists weak algorithms and key sizes: "MD5", "SHA-1", "RSA-1024", "ECDSA-P224".
	Weak []string
	// Level is the CMS shape (LevelPAdESBaseline, LevelCAdESBaseline, LevelPKCS7).
	Level Level
	// TimeStamps lists the signature time-stamps (unsigned attribute id-aa-signatureTimeStampToken), one per
	// value, in order, each checked against the hash of the SignerInfo's signature value.
	TimeStamps []SignatureTimeStamp

	// digestChecked: DigestOK compares the message-digest attribute with the content digest (rather than
	// mirroring SignatureOK).
	digestChecked bool
}

// Problems returns one fixed message per failed check, or nil when the signature is cryptographically intact:
// signer certificate found, digest and signature verified, content type right, and any signing-certificate
// reference matching. An unsupported algorithm is one problem naming it (the signature value is then unknown, not
// wrong). It does not judge Level or Weak, which are policy.
func (r *Result) Problems() []string {
	var p []string
	if r.SignerCert == nil {
		p = append(p, "signing certificate not found")
	}
	switch {
	case r.UnsupportedAlgorithm != "":
		p = append(p, "unsupported algorithm: "+r.UnsupportedAlgorithm)
		if r.digestChecked && !r.DigestOK {
			p = append(p, "message digest does not match the content")
		}
	default:
		if !r.DigestOK {
			p = append(p, "message digest does not match the content")
		}
		if !r.SignatureOK {
			p = append(p, "signature value does not verify")
		}
	}
	if !r.ContentTypeOK {
		p = append(p, "content type is not id-data")
	}
	if r.SigningCertificateRef != CertRefNone && !r.SigningCertificateMatch {
		p = append(p, "signing-certificate attribute does not name the signer certificate")
	}
	return p
}

// DigestOf returns a content digest callback for Verify that hashes content in memory.
func DigestOf(content []byte) func(crypto.Hash) ([]byte, error) {
	return func(h crypto.Hash) ([]byte, error) {
		if h == 0 || !h.Available() {
			return nil, fmt.Errorf("%w: hash %v", ErrUnsupportedAlgorithm, h)
		}
		return digest(h, content), nil
	}
}

// DigestReader returns the digest of r under h, hashing it as a stream.
func DigestReader(r io.Reader, h crypto.Hash) ([]byte, error) {
	if h == 0 || !h.Available() {
		return nil, fmt.Errorf("%w: hash %v", ErrUnsupportedAlgorithm, h)
	}
	w := h.New()
	if _, err := io.Copy(w, r); err != nil {
		return nil, err
	}
	return w.Sum(nil), nil
}

// SignerCertificate returns the certificate named by the first SignerInfo's sid: ErrNoSigningCertificate when
// none matches, ErrAmbiguousSigner when several different ones do. Identical copies count once.
func (sd *SignedData) SignerCertificate() (*x509.Certificate, error) {
	return sd.certificateOf(&sd.SignerInfo)
}

// certificateOf returns the certificate named by si's sid, as SignerCertificate.
func (sd *SignedData) certificateOf(si *SignerInfo) (*x509.Certificate, error) {
	var found *x509.Certificate
	for _, c := range sd.Certificates {
		match := false
		switch {
		case si.IssuerAndSerial != nil:
			match = c.SerialNumber.Cmp(si.IssuerAndSerial.SerialNumber) == 0 && sameName(c.RawIssuer, si.IssuerAndSerial.RawIssuer)
		case len(si.SubjectKeyID) > 0:
			match = bytes.Equal(c.SubjectKeyId, si.SubjectKeyID)
		}
		if !match {
			continue
		}
		if found != nil && !bytes.Equal(found.Raw, c.Raw) {
			return nil, ErrAmbiguousSigner
		}
		found = c
	}
	if found == nil {
		return nil, ErrNoSigningCertificate
	}
	return found, nil
}

// Verify checks the first SignerInfo's signature against the detached content. contentDigest is called once with
// the SignerInfo's digest algorithm and must return the digest of the content under it (for a PDF, of the
// ByteRange); it is not called when that algorithm has no crypto.Hash (SHAKE256: use VerifyDetached). Verify
// returns an error only when the content is encapsulated (ErrNotDetached) or contentDigest fails or returns a
// digest of the wrong size; everything about the signature itself, good or bad, is in the Result.
func (sd *SignedData) Verify(contentDigest func(crypto.Hash) ([]byte, error)) (*Result, error) {
	if sd.EContent != nil {
		return nil, ErrNotDetached
	}
	si := &sd.SignerInfo
	var content []byte
	if d := si.digestAlg; !d.shake256 && d.supported() {
		var err error
		if content, err = contentDigest(d.hash); err != nil {
			return nil, fmt.Errorf("cms: content digest: %w", err)
		}
		if len(content) != d.size() {
			return nil, fmt.Errorf("%w: content digest is %d bytes, %v needs %d", ErrInvalidOptions, len(content), d.hash, d.size())
		}
	}
	return sd.verifySigner(0, si, content), nil
}

// VerifyDetached checks every SignerInfo against the detached content, which write must write to the writer it
// is given (for a PDF: the ByteRange). write is called at most once, whatever the number of signers and digest
// algorithms. It returns one Result per SignerInfo, in order, and an error only when the content is encapsulated
// (ErrNotDetached) or write fails.
func (sd *SignedData) VerifyDetached(write func(io.Writer) error) ([]*Result, error) {
	if sd.EContent != nil {
		return nil, ErrNotDetached
	}
	hashers := map[digestAlg]hasher{}
	var ws []io.Writer
	for _, si := range sd.SignerInfos {
		if d := si.digestAlg; d.supported() && hashers[d] == nil {
			hashers[d] = d.newHasher()
			ws = append(ws, hashers[d])
		}
	}
	if len(ws) > 0 {
		if err := write(io.MultiWriter(ws...)); err != nil {
			return nil, fmt.Errorf("cms: content: %w", err)
		}
	}
	sums := map[digestAlg][]byte{}
	for d, h := range hashers {
		sums[d] = h.sum()
	}
	out := make([]*Result, len(sd.SignerInfos))
	for i := range sd.SignerInfos {
		si := &sd.SignerInfos[i]
		out[i] = sd.verifySigner(i, si, sums[si.digestAlg])
	}
	return out, nil
}

// VerifyEncapsulated checks every SignerInfo against the encapsulated content (EContent) and returns one Result
// per SignerInfo, in order. It fails with ErrNotEncapsulated when the content is detached.
func (sd *SignedData) VerifyEncapsulated() ([]*Result, error) {
	if sd.EContent == nil {
		return nil, ErrNotEncapsulated
	}
	out := make([]*Result, len(sd.SignerInfos))
	for i := range sd.SignerInfos {
		si := &sd.SignerInfos[i]
		var content []byte
		if si.digestAlg.supported() {
			content = si.digestAlg.digest(sd.EContent)
		}
		out[i] = sd.verifySigner(i, si, content)
	}
	return out, nil
}

// verifySigner checks the SignerInfo si (number index) given the content digest under its digest algorithm (nil
// when that algorithm is not supported).
func (sd *SignedData) verifySigner(index int, si *SignerInfo, content []byte) *Result {
	res := &Result{SignerIndex: index, DigestAlgorithm: si.DigestAlgorithm, Level: levelOf(si), TimeStamps: signatureTimeStamps(si)}
	res.ContentTypeOK = sd.ContentType.Equal(oidData) && (!si.HasSignedAttributes || si.ContentType.Equal(sd.ContentType))

	cert, certErr := sd.certificateOf(si)
	res.SignerCert = cert
	res.SigningCertificateRef, res.SigningCertificateMatch = signingCertificateRef(si, cert)

	d := si.digestAlg
	if content == nil || !d.supported() {
		res.Algorithm = si.SignatureAlgorithm
		if d.supported() { // SHAKE256 asked for through a crypto.Hash callback
			res.SignatureErr = unsupported("digest algorithm %v through Verify (VerifyDetached computes it)", d)
		} else {
			res.SignatureErr = unsupported("digest algorithm %s", digestName(si.DigestAlgorithmOID))
		}
		res.UnsupportedAlgorithm = res.SignatureErr.(*unsupportedError).what
		return res
	}
	res.ContentDigest = content
	res.Weak = weakness(d.hash, cert)

	hashed, message := content, []byte(nil)
	if si.HasSignedAttributes {
		res.DigestOK = si.MessageDigest != nil && subtle.ConstantTimeCompare(si.MessageDigest, content) == 1
		res.digestChecked = true
		message = si.RawSignedAttributes
		hashed = d.digest(message)
	}

	alg, err := resolveAlgorithm(si, d)
	res.Algorithm = alg.name
	switch {
	case err != nil:
		res.SignatureErr = err
	case certErr != nil:
		res.SignatureErr = certErr
	default:
		res.DigestInfoForm, res.SignatureErr = alg.verify(cert.PublicKey, d.hash, hashed, message, si.Signature)
	}
	res.SignatureOK = res.SignatureErr == nil
	if ue := (*unsupportedError)(nil); errors.As(res.SignatureErr, &ue) {
		res.UnsupportedAlgorithm = ue.what
	} else if errors.Is(res.SignatureErr, ErrUnsupportedAlgorithm) {
		res.UnsupportedAlgorithm = alg.name
	}
	if !si.HasSignedAttributes {
		res.DigestOK = res.SignatureOK
	}
	return res
}

// digestName names a digest algorithm OID for reports.
func digestName(oid asn1.ObjectIdentifier) string {
	switch {
	case oidSHAKE256.Equal(oid), oidSHAKE256Len.Equal(oid):
		return "SHAKE256 with an output length other than 512 bits"
	}
	return fmt.Sprint(oid)
}

// resolvedAlgorithm is a signature algorithm with everything needed to verify it.
type resolvedAlgorithm struct {
	name string
	kind keyKind
	pss  pssParams
}

// resolveAlgorithm works out the signature scheme from signatureAlgorithm and the digest algorithm, rejecting
// contradictions (sha1WithRSAEncryption with a SHA-256 digest algorithm, PSS parameters naming another hash,
// Ed25519 with anything but SHA-512).
func resolveAlgorithm(si *SignerInfo, d digestAlg) (resolvedAlgorithm, error) {
	name, kind, algHash, ok := lookupSignatureAlgorithm(si.SignatureAlgorithmOID)
	a := resolvedAlgorithm{name: name, kind: kind}
	if !ok {
		return a, unsupported("signature algorithm %v", si.SignatureAlgorithmOID)
	}
	hash := d.hash
	switch kind {
	case kindEd25519, kindEd448:
		// RFC 8419: no parameters. PureEdDSA signs the signed attributes themselves, or without them the whole
		// content, which a content digest cannot stand in for. RFC 8419 pairs Ed25519 with SHA-512 and Ed448 with
		// SHAKE256; another digest algorithm only changes the message-digest attribute, which is checked (and its
		// strength judged) like any other, so it is accepted.
		switch {
		case len(si.SignatureAlgorithmParams) != 0:
			return a, fmt.Errorf("%w: %s with parameters", ErrAlgorithmMismatch, name)
		case !si.HasSignedAttributes:
			return a, unsupported("%s without signed attributes (the signature covers the whole content, not its digest)", name)
		}
		return a, nil
	}
	if d.shake256 {
		return a, fmt.Errorf("%w: %s with digest algorithm SHAKE256", ErrAlgorithmMismatch, name)
	}
	if algHash != 0 && algHash != hash {
		return a, fmt.Errorf("%w: %s with digest algorithm %v", ErrAlgorithmMismatch, name, hash)
	}
	switch kind {
	case kindECDSAPlain:
		a.name = "ECDSA-plain-" + hashName(hash)
	case kindRSA:
		a.name = "RSA-" + hashName(hash)
	case kindECDSA:
		a.name = "ECDSA-" + hashName(hash)
	case kindRSAPSS:
		a.name = "RSA-PSS-" + hashName(hash)
		p, err := parsePSSParams(si.SignatureAlgorithmParams)
		if err != nil {
			return a, err
		}
		if p.hash != hash {
			return a, fmt.Errorf("%w: RSASSA-PSS with %v, digest algorithm %v", ErrAlgorithmMismatch, p.hash, hash)
		}
		a.pss = p
	}
	return a, nil
}

// verify checks sig with pub over hashed (the digest of the signed attributes, or the content digest), or for
// EdDSA over message (the signed attributes).
func (a resolvedAlgorithm) verify(pub crypto.PublicKey, hash crypto.Hash, hashed, message, sig []byte) (DigestInfoForm, error) {
	switch k := pub.(type) {
	case nil:
		return DigestInfoNotApplicable, unsupported("public key algorithm of the signer certificate")
	case *UnsupportedPublicKey:
		return DigestInfoNotApplicable, unsupported("%s", k.Algorithm)
	case ed25519.PublicKey:
		if a.kind == kindEd25519 {
			if !ed25519.Verify(k, message, sig) {
				return DigestInfoNotApplicable, ErrSignatureInvalid
			}
			return DigestInfoNotApplicable, nil
		}
	case ed448.PublicKey:
		if a.kind == kindEd448 {
			if !ed448.Verify(k, message, sig, "") {
				return DigestInfoNotApplicable, ErrSignatureInvalid
			}
			return DigestInfoNotApplicable, nil
		}
	case *rsa.PublicKey:
		switch a.kind {
		case kindRSA:
			form, err := pkcs1.Verify(k, hash, hashed, sig)
			if err != nil {
				return DigestInfoNotApplicable, fmt.Errorf("%w: %w", ErrSignatureInvalid, err)
			}
			if form == pkcs1.WithoutNULL {
				return DigestInfoWithoutNULL, nil
			}
			return DigestInfoWithNULL, nil
		case kindRSAPSS:
			if err := rsa.VerifyPSS(k, hash, hashed, sig, &rsa.PSSOptions{SaltLength: a.pss.saltLength, Hash: hash}); err != nil {
				return DigestInfoNotApplicable, fmt.Errorf("%w: %w", ErrSignatureInvalid, err)
			}
			return DigestInfoNotApplicable, nil
		}
	case *ecdsa.PublicKey:
		switch a.kind {
		case kindECDSA:
			if !ecdsa.VerifyASN1(k, hashed, sig) {
				return DigestInfoNotApplicable, ErrSignatureInvalid
			}
			return DigestInfoNotApplicable, nil
		case kindECDSAPlain:
			// BSI TR-03111 5.2.1: r and s as octet strings of the length of the group order, concatenated.
			n := (k.Curve.Params().N.BitLen() + 7) / 8
			if len(sig) != 2*n {
				return DigestInfoNotApplicable, fmt.Errorf("%w: plain ECDSA signature of %d bytes, %s needs %d", ErrSignatureInvalid, len(sig), curveName(k.Curve), 2*n)
			}
			r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
			if !ecdsa.Verify(k, hashed, r, s) {
				return DigestInfoNotApplicable, ErrSignatureInvalid
			}
			return DigestInfoNotApplicable, nil
		}
	}
	return DigestInfoNotApplicable, fmt.Errorf("%w: %s with a %T key", ErrAlgorithmMismatch, a.name, pub)
}

// signingCertificateRef reports which signing-certificate attribute is present and whether the first entry of
// each present attribute names cert.
func signingCertificateRef(si *SignerInfo, cert *x509.Certificate) (CertRef, bool) {
	ref := CertRefNone
	match := cert != nil
	for _, sc := range []*SigningCertificate{si.SigningCertificateV1, si.SigningCertificateV2} {
		if sc == nil {
			continue
		}
		if sc == si.SigningCertificateV2 {
			ref = CertRefV2
		} else {
			ref = CertRefV1
		}
		if len(sc.Certs) == 0 || !sc.Certs[0].Matches(cert) {
			match = false
		}
	}
	return ref, ref != CertRefNone && match
}

// levelOf classifies the signed attributes.
func levelOf(si *SignerInfo) Level {
	if !si.HasSignedAttributes || si.ContentType == nil || si.MessageDigest == nil {
		return LevelPKCS7
	}
	ref := si.SigningCertificateV2 != nil || si.SigningCertificateV1 != nil
	if !ref {
		return LevelPKCS7
	}
	if si.SigningTime != nil {
		return LevelCAdESBaseline
	}
	return LevelPAdESBaseline
}

// weakness lists weak algorithms and key sizes.
func weakness(hash crypto.Hash, cert *x509.Certificate) []string {
	var w []string
	switch hash {
	case crypto.MD5:
		w = append(w, "MD5")
	case crypto.SHA1:
		w = append(w, "SHA-1")
	}
	if cert == nil {
		return w
	}
	switch k := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < 2048 {
			w = append(w, fmt.Sprintf("RSA-%d", bits))
		}
	case *ecdsa.PublicKey:
		if bits := k.Curve.Params().BitSize; bits < 256 {
			w = append(w, fmt.Sprintf("ECDSA-P%d", bits))
		}
	}
	return w
}
