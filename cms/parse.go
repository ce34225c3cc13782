package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"reflect"
	"time"
)

// MaxInputSize is the largest input Parse accepts, zero padding included. A PDF signature with embedded
// revocation data and time-stamps stays well below it.
const MaxInputSize = 4 << 20

// Internal limits; exceeding one is ErrTooLarge.
const (
	maxDepth        = 64  // nesting of constructed values the reader walks
	maxCertificates = 256 // entries in SignedData.certificates
	maxRevocation   = 256 // entries in SignedData.crls
	maxAttributes   = 128 // signed or unsigned attributes
	maxESSCertIDs   = 64  // entries in a signing-certificate attribute
	maxSignerInfos  = 8   // entries in SignedData.signerInfos (each costs a signature verification: up to ~60 ms for brainpoolP512r1)
)

// SignedData is a parsed CMS SignedData with one or more SignerInfos, usually with detached content.
// All byte slices point into a private copy of the input.
type SignedData struct {
	// Version is the SignedData version (1 for what SignDetached makes).
	Version int
	// DigestAlgorithms lists the digestAlgorithms field's OIDs, as found.
	DigestAlgorithms []asn1.ObjectIdentifier
	// ContentType is encapContentInfo's eContentType (id-data for PDF signatures).
	ContentType asn1.ObjectIdentifier
	// EContent is the encapsulated content, nil when the content is detached (the usual case). An adbe.pkcs7.sha1
	// PDF signature encapsulates the SHA-1 digest of the ByteRange.
	EContent []byte
	// Certificates holds the parseable X.509 certificates of the certificates field, in input order.
	Certificates []*x509.Certificate
	// UnparsedCertificates counts certificates entries that are not X.509 certificates Go can parse (including
	// attribute and other certificate formats). They are reported, not fatal.
	UnparsedCertificates int
	// RevocationInfo holds the raw entries of the crls field (CRLs or other revocation info), unparsed.
	RevocationInfo [][]byte
	// SignerInfos lists every SignerInfo in input order; each is a signature over the same content.
	SignerInfos []SignerInfo
	// SignerInfo is SignerInfos[0], the one Verify and SignerCertificate check.
	SignerInfo SignerInfo
	// BER is true when the input used encodings DER forbids (indefinite lengths, non-minimal length octets,
	// constructed strings). Such input is accepted because real signers produce it.
	BER bool
	// TrailingZeros counts the zero bytes after the ContentInfo: the unused part of a PDF /Contents placeholder.
	TrailingZeros int
	// Raw is the ContentInfo encoding without the trailing zeros.
	Raw []byte
}

// SignerInfo is the parsed SignerInfo of a SignedData.
type SignerInfo struct {
	// Version is 1 for an issuerAndSerialNumber sid and 3 for a subjectKeyIdentifier sid.
	Version int
	// IssuerAndSerial is the sid when it is an issuerAndSerialNumber, else nil.
	IssuerAndSerial *IssuerAndSerial
	// SubjectKeyID is the sid when it is a subjectKeyIdentifier, else nil.
	SubjectKeyID []byte
	// DigestAlgorithm is the hash named by DigestAlgorithmOID, or 0 if this package does not know it.
	DigestAlgorithm crypto.Hash
	// DigestAlgorithmOID is the digestAlgorithm OID as found.
	DigestAlgorithmOID asn1.ObjectIdentifier
	// digestAlg is the digest algorithm with its parameters (SHAKE256 has no crypto.Hash).
	digestAlg digestAlg
	// SignatureAlgorithm is the signatureAlgorithm name ("rsaEncryption", "sha256WithRSAEncryption", "RSASSA-PSS",
	// "ecdsa-with-SHA384", ...) or the dotted OID when unknown.
	SignatureAlgorithm string
	// SignatureAlgorithmOID is the signatureAlgorithm OID as found.
	SignatureAlgorithmOID asn1.ObjectIdentifier
	// SignatureAlgorithmParams is the encoding of the signatureAlgorithm parameters, nil if absent.
	SignatureAlgorithmParams []byte
	// HasSignedAttributes tells whether signedAttrs is present. Without it the signature is directly over the
	// content digest.
	HasSignedAttributes bool
	// RawSignedAttributes is what the signature covers when HasSignedAttributes: the original content octets of
	// signedAttrs under a SET OF tag (0x31) and a DER length (RFC 5652, 5.4).
	RawSignedAttributes []byte
	// SignedAttributes lists the signed attributes in input order.
	SignedAttributes []Attribute
	// UnsignedAttributes lists the unsigned attributes (time-stamp tokens, ...) in input order.
	UnsignedAttributes []Attribute
	// ContentType is the content-type attribute, nil if absent.
	ContentType asn1.ObjectIdentifier
	// MessageDigest is the message-digest attribute, nil if absent.
	MessageDigest []byte
	// SigningTime is the signing-time attribute, nil if absent.
	SigningTime *time.Time
	// SigningCertificateV2 is the signingCertificateV2 attribute (RFC 5035), nil if absent.
	SigningCertificateV2 *SigningCertificate
	// SigningCertificateV1 is the signingCertificate attribute (RFC 2634, SHA-1), nil if absent.
	SigningCertificateV1 *SigningCertificate
	// Signature is the signature value.
	Signature []byte
}

// IssuerAndSerial identifies a certificate by issuer and serial number.
type IssuerAndSerial struct {
	// RawIssuer is the DER (as found) issuer Name.
	RawIssuer []byte
	// SerialNumber is the certificate serial number.
	SerialNumber *big.Int
}

// Attribute is one CMS attribute with its values' encodings.
type Attribute struct {
	// Type is the attribute type OID.
	Type asn1.ObjectIdentifier
	// Values holds the full encoding of each value.
	Values [][]byte
}

// SigningCertificate is a signingCertificate or signingCertificateV2 attribute. Per RFC 5035 the first entry
// identifies the signing certificate; later ones may name other certificates of its path.
type SigningCertificate struct {
	// Certs lists the ESSCertID(v2) entries in order.
	Certs []ESSCertID
	// HasPolicies tells whether the policies field is present.
	HasPolicies bool
}

// ESSCertID is an ESSCertID (v1, SHA-1) or ESSCertIDv2 entry.
type ESSCertID struct {
	// Hash is the hash of CertHash: SHA-1 for v1; for v2 the hashAlgorithm field, SHA-256 when omitted, 0 if
	// unknown.
	Hash crypto.Hash
	// CertHash is the hash of the certificate's DER encoding.
	CertHash []byte
	// IssuerSerial is the optional issuer and serial number, nil if absent.
	IssuerSerial *ESSIssuerSerial
}

// ESSIssuerSerial is the IssuerSerial of an ESSCertID: GeneralNames and a serial number.
type ESSIssuerSerial struct {
	// DirectoryNames holds the DER Names of the directoryName entries of the issuer GeneralNames.
	DirectoryNames [][]byte
	// OtherNames counts issuer GeneralName entries of other kinds.
	OtherNames int
	// SerialNumber is the certificate serial number.
	SerialNumber *big.Int
}

// Matches reports whether id names cert: the hash of cert.Raw equals CertHash and, when IssuerSerial is present,
// its serial number equals cert's and one of its directory names is cert's issuer.
func (id ESSCertID) Matches(cert *x509.Certificate) bool {
	if cert == nil || id.Hash == 0 || !id.Hash.Available() || !bytes.Equal(digest(id.Hash, cert.Raw), id.CertHash) {
		return false
	}
	if is := id.IssuerSerial; is != nil {
		if is.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			return false
		}
		for _, n := range is.DirectoryNames {
			if sameName(n, cert.RawIssuer) {
				return true
			}
		}
		return false
	}
	return true
}

// sameName compares two DER Names: byte-equal, or equal once decoded (a signer may re-encode a Name).
func sameName(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var na, nb pkix.RDNSequence
	if rest, err := asn1.Unmarshal(a, &na); err != nil || len(rest) != 0 {
		return false
	}
	if rest, err := asn1.Unmarshal(b, &nb); err != nil || len(rest) != 0 {
		return false
	}
	return reflect.DeepEqual(na, nb)
}

// Parse decodes a DER (or BER, as some signers write it) ContentInfo holding a SignedData, such as the decoded
// /Contents string of a PDF signature. Zero bytes after the ContentInfo are the unused part of the /Contents
// placeholder: they are accepted and counted in TrailingZeros; any other trailing byte is ErrTrailingData.
// A SignedData without SignerInfo (ErrNoSignerInfo) and inputs beyond the limits (ErrTooLarge) are rejected;
// several SignerInfos and encapsulated content are read (see SignerInfos and EContent). Errors wrap the
// package's sentinel errors.
func Parse(der []byte) (*SignedData, error) {
	if len(der) > MaxInputSize {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(der), MaxInputSize)
	}
	if len(der) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	var r reader
	ci, rest, err := r.read(der, 0)
	if err != nil {
		return nil, err
	}
	for i, b := range rest {
		if b != 0 {
			return nil, fmt.Errorf("%w: non-zero byte at offset %d after the %d-byte ContentInfo", ErrTrailingData, len(ci.full)+i, len(ci.full))
		}
	}
	// Work on a private copy so that the result does not alias the caller's buffer.
	raw := bytes.Clone(ci.full)
	r = reader{}
	ci, _, err = r.read(raw, 0)
	if err != nil {
		return nil, err // unreachable: the same bytes decoded above
	}
	sd, err := r.parseContentInfo(ci)
	if err != nil {
		return nil, err
	}
	sd.BER = r.ber
	sd.TrailingZeros = len(rest)
	sd.Raw = raw
	return sd, nil
}

// parseContentInfo decodes ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY }.
func (r *reader) parseContentInfo(ci element) (*SignedData, error) {
	f, err := r.expect(ci, tagSequence, "ContentInfo", 0)
	if err != nil {
		return nil, err
	}
	if len(f) == 0 {
		return nil, fmt.Errorf("%w: empty ContentInfo", ErrMalformed)
	}
	ct, err := oidOf(f[0])
	if err != nil {
		return nil, err
	}
	if !ct.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: content type %v", ErrNotSignedData, ct)
	}
	if len(f) != 2 {
		return nil, fmt.Errorf("%w: ContentInfo with %d fields", ErrMalformed, len(f))
	}
	inner, err := r.expect(f[1], tagContext0, "ContentInfo content", 1)
	if err != nil {
		return nil, err
	}
	if len(inner) != 1 {
		return nil, fmt.Errorf("%w: ContentInfo content holds %d values", ErrMalformed, len(inner))
	}
	return r.parseSignedData(inner[0])
}

// parseSignedData decodes SignedData (RFC 5652, 5.1).
func (r *reader) parseSignedData(e element) (*SignedData, error) {
	const depth = 2
	f, err := r.expect(e, tagSequence, "SignedData", depth)
	if err != nil {
		return nil, err
	}
	if len(f) < 4 {
		return nil, fmt.Errorf("%w: SignedData with %d fields", ErrMalformed, len(f))
	}
	sd := &SignedData{}
	if sd.Version, err = smallInt(f[0]); err != nil {
		return nil, err
	}
	algs, err := r.expect(f[1], tagSet, "digestAlgorithms", depth+1)
	if err != nil {
		return nil, err
	}
	for _, a := range algs {
		ai, err := r.parseAlgorithmIdentifier(a, depth+2)
		if err != nil {
			return nil, err
		}
		sd.DigestAlgorithms = append(sd.DigestAlgorithms, ai.oid)
	}
	eci, err := r.expect(f[2], tagSequence, "encapContentInfo", depth+1)
	if err != nil {
		return nil, err
	}
	if len(eci) == 0 || len(eci) > 2 {
		return nil, fmt.Errorf("%w: encapContentInfo with %d fields", ErrMalformed, len(eci))
	}
	if sd.ContentType, err = oidOf(eci[0]); err != nil {
		return nil, err
	}
	if len(eci) == 2 {
		ec, err := r.expect(eci[1], tagContext0, "eContent", depth+2)
		if err != nil {
			return nil, err
		}
		if len(ec) != 1 {
			return nil, fmt.Errorf("%w: eContent holds %d values", ErrMalformed, len(ec))
		}
		if sd.EContent, err = r.octets(ec[0], tagOctetString, depth+3); err != nil {
			return nil, fmt.Errorf("eContent: %w", err)
		}
		if sd.EContent == nil {
			sd.EContent = []byte{}
		}
	}

	rest := f[3:]
	if len(rest) > 0 && rest[0].tag == tagContext0 {
		if err := r.parseCertificates(sd, rest[0], depth+1); err != nil {
			return nil, err
		}
		rest = rest[1:]
	}
	if len(rest) > 0 && rest[0].tag == tagContext1 {
		crls, err := r.children(rest[0], depth+1)
		if err != nil {
			return nil, err
		}
		if len(crls) > maxRevocation {
			return nil, fmt.Errorf("%w: %d revocation entries", ErrTooLarge, len(crls))
		}
		for _, c := range crls {
			sd.RevocationInfo = append(sd.RevocationInfo, c.full)
		}
		rest = rest[1:]
	}
	if len(rest) != 1 {
		return nil, fmt.Errorf("%w: SignedData: unexpected fields after encapContentInfo", ErrMalformed)
	}
	sis, err := r.expect(rest[0], tagSet, "signerInfos", depth+1)
	if err != nil {
		return nil, err
	}
	switch {
	case len(sis) == 0:
		return nil, ErrNoSignerInfo
	case len(sis) > maxSignerInfos:
		return nil, fmt.Errorf("%w: %d SignerInfos", ErrTooLarge, len(sis))
	}
	sd.SignerInfos = make([]SignerInfo, len(sis))
	for i, e := range sis {
		if err := r.parseSignerInfo(&sd.SignerInfos[i], e, depth+2); err != nil {
			if len(sis) > 1 {
				return nil, fmt.Errorf("SignerInfo %d of %d: %w", i+1, len(sis), err)
			}
			return nil, err
		}
	}
	sd.SignerInfo = sd.SignerInfos[0]
	return sd, nil
}

// parseCertificates decodes the [0] IMPLICIT CertificateSet. Entries that do not parse are counted.
func (r *reader) parseCertificates(sd *SignedData, e element, depth int) error {
	certs, err := r.children(e, depth)
	if err != nil {
		return err
	}
	if len(certs) > maxCertificates {
		return fmt.Errorf("%w: %d certificates", ErrTooLarge, len(certs))
	}
	for _, c := range certs {
		if c.tag != tagSequence || c.indefinite {
			sd.UnparsedCertificates++ // other CertificateChoices, or BER x509 cannot read
			continue
		}
		cert, err := ParseCertificate(c.full)
		if err != nil {
			sd.UnparsedCertificates++
			continue
		}
		sd.Certificates = append(sd.Certificates, cert)
	}
	return nil
}

// parseSignerInfo decodes SignerInfo (RFC 5652, 5.3).
func (r *reader) parseSignerInfo(si *SignerInfo, e element, depth int) error {
	f, err := r.expect(e, tagSequence, "SignerInfo", depth)
	if err != nil {
		return err
	}
	if len(f) < 5 {
		return fmt.Errorf("%w: SignerInfo with %d fields", ErrMalformed, len(f))
	}
	if si.Version, err = smallInt(f[0]); err != nil {
		return err
	}
	switch sid := f[1]; sid.tag {
	case tagSequence:
		is, err := r.expect(sid, tagSequence, "issuerAndSerialNumber", depth+1)
		if err != nil {
			return err
		}
		if len(is) != 2 || is[0].tag != tagSequence {
			return fmt.Errorf("%w: issuerAndSerialNumber", ErrMalformed)
		}
		serial, err := intOf(is[1])
		if err != nil {
			return err
		}
		si.IssuerAndSerial = &IssuerAndSerial{RawIssuer: is[0].full, SerialNumber: serial}
	case tagContext0Prim, tagContext0Prim | tagConstructed:
		if si.SubjectKeyID, err = r.octets(sid, tagContext0Prim, depth+1); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: sid with tag 0x%02x", ErrMalformed, sid.tag)
	}
	da, err := r.parseAlgorithmIdentifier(f[2], depth+1)
	if err != nil {
		return err
	}
	si.DigestAlgorithmOID = da.oid
	si.digestAlg = digestAlgOf(da)
	si.DigestAlgorithm = si.digestAlg.hash

	rest := f[3:]
	if rest[0].tag == tagContext0 {
		si.HasSignedAttributes = true
		si.RawSignedAttributes = derTLV(tagSet, rest[0].body)
		if si.SignedAttributes, err = r.parseAttributes(rest[0], depth+1); err != nil {
			return err
		}
		if err := r.interpretSignedAttributes(si, depth+2); err != nil {
			return err
		}
		rest = rest[1:]
	}
	if len(rest) < 2 {
		return fmt.Errorf("%w: SignerInfo: missing signatureAlgorithm or signature", ErrMalformed)
	}
	sa, err := r.parseAlgorithmIdentifier(rest[0], depth+1)
	if err != nil {
		return err
	}
	si.SignatureAlgorithmOID = sa.oid
	si.SignatureAlgorithmParams = sa.params
	si.SignatureAlgorithm, _, _, _ = lookupSignatureAlgorithm(sa.oid)
	if si.Signature, err = r.octets(rest[1], tagOctetString, depth+1); err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	rest = rest[2:]
	if len(rest) > 0 && rest[0].tag == tagContext1 {
		if si.UnsignedAttributes, err = r.parseAttributes(rest[0], depth+1); err != nil {
			return err
		}
		rest = rest[1:]
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: SignerInfo: unexpected fields after the signature", ErrMalformed)
	}
	return nil
}

// parseAttributes decodes SET OF Attribute (under an IMPLICIT tag).
func (r *reader) parseAttributes(e element, depth int) ([]Attribute, error) {
	list, err := r.children(e, depth)
	if err != nil {
		return nil, err
	}
	if len(list) > maxAttributes {
		return nil, fmt.Errorf("%w: %d attributes", ErrTooLarge, len(list))
	}
	out := make([]Attribute, 0, len(list))
	for _, a := range list {
		f, err := r.expect(a, tagSequence, "Attribute", depth+1)
		if err != nil {
			return nil, err
		}
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: Attribute with %d fields", ErrMalformed, len(f))
		}
		t, err := oidOf(f[0])
		if err != nil {
			return nil, err
		}
		vals, err := r.expect(f[1], tagSet, "attrValues", depth+2)
		if err != nil {
			return nil, err
		}
		if len(vals) > maxAttributes {
			return nil, fmt.Errorf("%w: %d attribute values", ErrTooLarge, len(vals))
		}
		attr := Attribute{Type: t}
		for _, v := range vals {
			attr.Values = append(attr.Values, v.full)
		}
		out = append(out, attr)
	}
	return out, nil
}

// singleValue returns the only value of the only attribute of type t, or nil if there is none. Several
// attributes of that type, or several values, are ErrDuplicateAttribute.
func singleValue(attrs []Attribute, t asn1.ObjectIdentifier, name string) ([]byte, error) {
	var found []byte
	for _, a := range attrs {
		if !a.Type.Equal(t) {
			continue
		}
		if found != nil || len(a.Values) != 1 {
			return nil, fmt.Errorf("%w: %s", ErrDuplicateAttribute, name)
		}
		found = a.Values[0]
	}
	return found, nil
}

// interpretSignedAttributes fills the typed attribute fields of si.
func (r *reader) interpretSignedAttributes(si *SignerInfo, depth int) error {
	value := func(t asn1.ObjectIdentifier, name string) (element, bool, error) {
		v, err := singleValue(si.SignedAttributes, t, name)
		if err != nil || v == nil {
			return element{}, false, err
		}
		e, _, err := r.read(v, depth)
		if err != nil {
			return element{}, false, fmt.Errorf("%s: %w", name, err)
		}
		return e, true, nil
	}
	if e, ok, err := value(oidAttrContentType, "content-type"); err != nil {
		return err
	} else if ok {
		if si.ContentType, err = oidOf(e); err != nil {
			return fmt.Errorf("content-type: %w", err)
		}
	}
	if e, ok, err := value(oidAttrMessageDigest, "message-digest"); err != nil {
		return err
	} else if ok {
		if si.MessageDigest, err = r.octets(e, tagOctetString, depth); err != nil {
			return fmt.Errorf("message-digest: %w", err)
		}
		if si.MessageDigest == nil {
			si.MessageDigest = []byte{}
		}
	}
	if e, ok, err := value(oidAttrSigningTime, "signing-time"); err != nil {
		return err
	} else if ok {
		t, err := timeOf(e)
		if err != nil {
			return fmt.Errorf("signing-time: %w", err)
		}
		si.SigningTime = &t
	}
	if e, ok, err := value(oidAttrSigningCertificateV2, "signingCertificateV2"); err != nil {
		return err
	} else if ok {
		if si.SigningCertificateV2, err = r.parseSigningCertificate(e, true, depth); err != nil {
			return fmt.Errorf("signingCertificateV2: %w", err)
		}
	}
	if e, ok, err := value(oidAttrSigningCertificate, "signingCertificate"); err != nil {
		return err
	} else if ok {
		if si.SigningCertificateV1, err = r.parseSigningCertificate(e, false, depth); err != nil {
			return fmt.Errorf("signingCertificate: %w", err)
		}
	}
	return nil
}

// parseSigningCertificate decodes SigningCertificate (RFC 2634) or SigningCertificateV2 (RFC 5035):
// SEQUENCE { certs SEQUENCE OF ESSCertID(v2), policies SEQUENCE OF PolicyInformation OPTIONAL }.
func (r *reader) parseSigningCertificate(e element, v2 bool, depth int) (*SigningCertificate, error) {
	f, err := r.expect(e, tagSequence, "SigningCertificate", depth)
	if err != nil {
		return nil, err
	}
	if len(f) < 1 || len(f) > 2 {
		return nil, fmt.Errorf("%w: SigningCertificate with %d fields", ErrMalformed, len(f))
	}
	ids, err := r.expect(f[0], tagSequence, "certs", depth+1)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: empty certs", ErrMalformed)
	}
	if len(ids) > maxESSCertIDs {
		return nil, fmt.Errorf("%w: %d certificate references", ErrTooLarge, len(ids))
	}
	sc := &SigningCertificate{HasPolicies: len(f) == 2}
	for _, id := range ids {
		c, err := r.parseESSCertID(id, v2, depth+2)
		if err != nil {
			return nil, err
		}
		sc.Certs = append(sc.Certs, c)
	}
	return sc, nil
}

// parseESSCertID decodes ESSCertID ::= SEQUENCE { certHash OCTET STRING, issuerSerial IssuerSerial OPTIONAL } or
// ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT sha256, certHash, issuerSerial OPTIONAL }.
func (r *reader) parseESSCertID(e element, v2 bool, depth int) (ESSCertID, error) {
	f, err := r.expect(e, tagSequence, "ESSCertID", depth)
	if err != nil {
		return ESSCertID{}, err
	}
	id := ESSCertID{Hash: crypto.SHA1}
	if v2 {
		id.Hash = crypto.SHA256
		if len(f) > 0 && f[0].tag == tagSequence {
			a, err := r.parseAlgorithmIdentifier(f[0], depth+1)
			if err != nil {
				return ESSCertID{}, err
			}
			id.Hash = hashForOID(a.oid)
			f = f[1:]
		}
	}
	if len(f) < 1 || len(f) > 2 {
		return ESSCertID{}, fmt.Errorf("%w: ESSCertID fields", ErrMalformed)
	}
	if id.CertHash, err = r.octets(f[0], tagOctetString, depth+1); err != nil {
		return ESSCertID{}, err
	}
	if len(f) == 2 {
		is, err := r.expect(f[1], tagSequence, "IssuerSerial", depth+1)
		if err != nil {
			return ESSCertID{}, err
		}
		if len(is) < 2 || len(is) > 3 {
			return ESSCertID{}, fmt.Errorf("%w: IssuerSerial with %d fields", ErrMalformed, len(is))
		}
		names, err := r.expect(is[0], tagSequence, "GeneralNames", depth+2)
		if err != nil {
			return ESSCertID{}, err
		}
		out := &ESSIssuerSerial{}
		for _, n := range names {
			if n.tag != 0xa4 { // directoryName [4] EXPLICIT Name
				out.OtherNames++
				continue
			}
			inner, err := r.children(n, depth+3)
			if err != nil {
				return ESSCertID{}, err
			}
			if len(inner) != 1 || inner[0].tag != tagSequence {
				return ESSCertID{}, fmt.Errorf("%w: directoryName", ErrMalformed)
			}
			out.DirectoryNames = append(out.DirectoryNames, inner[0].full)
		}
		if out.SerialNumber, err = intOf(is[1]); err != nil {
			return ESSCertID{}, err
		}
		id.IssuerSerial = out
	}
	return id, nil
}
