package cms

import (
	"crypto"
	_ "crypto/md5" // legacy signatures are read (and reported as weak)
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
)

// Object identifiers of the content types, attributes and algorithms this package reads and writes.
var (
	oidData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

	oidAttrContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidAttrSigningCertificate   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidAttrSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}

	oidMD5    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}
	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}

	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidMD5WithRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}
	oidSHA1WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidRSAPSS        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA224WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}

	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA224 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
)

// digestAlgorithms maps hash OIDs to hashes.
var digestAlgorithms = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidSHA256, crypto.SHA256},
	{oidSHA384, crypto.SHA384},
	{oidSHA512, crypto.SHA512},
	{oidSHA224, crypto.SHA224},
	{oidSHA1, crypto.SHA1},
	{oidMD5, crypto.MD5},
}

// hashForOID returns the hash named by a digest algorithm OID, or 0.
func hashForOID(oid asn1.ObjectIdentifier) crypto.Hash {
	for _, d := range digestAlgorithms {
		if d.oid.Equal(oid) {
			return d.hash
		}
	}
	return 0
}

// oidForHash returns the digest algorithm OID of h, or nil.
func oidForHash(h crypto.Hash) asn1.ObjectIdentifier {
	for _, d := range digestAlgorithms {
		if d.hash == h {
			return d.oid
		}
	}
	return nil
}

// keyKind is the public-key family a signature algorithm belongs to.
type keyKind int

const (
	kindUnknown keyKind = iota
	kindRSA             // RSASSA-PKCS1-v1_5
	kindRSAPSS          // RSASSA-PSS
	kindECDSA
)

// signatureAlgorithms describes the signatureAlgorithm OIDs this package understands. hash is the hash the OID
// itself names, 0 when it names none (rsaEncryption, id-ecPublicKey, RSASSA-PSS: the hash comes from elsewhere).
var signatureAlgorithms = []struct {
	oid  asn1.ObjectIdentifier
	name string
	kind keyKind
	hash crypto.Hash
}{
	{oidRSAEncryption, "rsaEncryption", kindRSA, 0},
	{oidSHA256WithRSA, "sha256WithRSAEncryption", kindRSA, crypto.SHA256},
	{oidSHA384WithRSA, "sha384WithRSAEncryption", kindRSA, crypto.SHA384},
	{oidSHA512WithRSA, "sha512WithRSAEncryption", kindRSA, crypto.SHA512},
	{oidSHA224WithRSA, "sha224WithRSAEncryption", kindRSA, crypto.SHA224},
	{oidSHA1WithRSA, "sha1WithRSAEncryption", kindRSA, crypto.SHA1},
	{oidMD5WithRSA, "md5WithRSAEncryption", kindRSA, crypto.MD5},
	{oidRSAPSS, "RSASSA-PSS", kindRSAPSS, 0},
	{oidECPublicKey, "id-ecPublicKey", kindECDSA, 0},
	{oidECDSAWithSHA256, "ecdsa-with-SHA256", kindECDSA, crypto.SHA256},
	{oidECDSAWithSHA384, "ecdsa-with-SHA384", kindECDSA, crypto.SHA384},
	{oidECDSAWithSHA512, "ecdsa-with-SHA512", kindECDSA, crypto.SHA512},
	{oidECDSAWithSHA224, "ecdsa-with-SHA224", kindECDSA, crypto.SHA224},
	{oidECDSAWithSHA1, "ecdsa-with-SHA1", kindECDSA, crypto.SHA1},
}

// lookupSignatureAlgorithm returns the description of a signatureAlgorithm OID; ok is false if it is unknown.
func lookupSignatureAlgorithm(oid asn1.ObjectIdentifier) (name string, kind keyKind, hash crypto.Hash, ok bool) {
	for _, s := range signatureAlgorithms {
		if s.oid.Equal(oid) {
			return s.name, s.kind, s.hash, true
		}
	}
	return oid.String(), kindUnknown, 0, false
}

// ecdsaOIDForHash returns the ecdsa-with-SHAxxx OID for h.
func ecdsaOIDForHash(h crypto.Hash) asn1.ObjectIdentifier {
	for _, s := range signatureAlgorithms {
		if s.kind == kindECDSA && s.hash == h {
			return s.oid
		}
	}
	return nil
}

// hashName is the hash part of Result.Algorithm ("SHA256").
func hashName(h crypto.Hash) string {
	if h == 0 || !h.Available() {
		return "unknown"
	}
	return strings.ReplaceAll(h.String(), "-", "")
}

// algorithmIdentifier is a decoded AlgorithmIdentifier.
type algorithmIdentifier struct {
	oid    asn1.ObjectIdentifier
	params []byte // the full encoding of the parameters, nil if absent
}

// parseAlgorithmIdentifier decodes AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }.
func (r *reader) parseAlgorithmIdentifier(e element, depth int) (algorithmIdentifier, error) {
	parts, err := r.expect(e, tagSequence, "AlgorithmIdentifier", depth)
	if err != nil {
		return algorithmIdentifier{}, err
	}
	if len(parts) < 1 || len(parts) > 2 {
		return algorithmIdentifier{}, fmt.Errorf("%w: AlgorithmIdentifier with %d fields", ErrMalformed, len(parts))
	}
	oid, err := oidOf(parts[0])
	if err != nil {
		return algorithmIdentifier{}, err
	}
	a := algorithmIdentifier{oid: oid}
	if len(parts) == 2 {
		a.params = parts[1].full
	}
	return a, nil
}

// derAlgorithmIdentifier encodes an AlgorithmIdentifier; params may be nil (absent).
func derAlgorithmIdentifier(oid asn1.ObjectIdentifier, params []byte) []byte {
	return derTLV(tagSequence, derOID(oid), params)
}

// derNull is the encoding of NULL.
var derNull = []byte{tagNull, 0}

// pssParams are decoded RSASSA-PSS-params (RFC 4055).
type pssParams struct {
	hash       crypto.Hash
	saltLength int
}

// errPSSParams reports RSASSA-PSS parameters this package does not support.
var errPSSParams = errors.New("unsupported RSASSA-PSS parameters")

// parsePSSParams decodes RSASSA-PSS-params. Only MGF1 with the same hash as the message hash and trailerField 1
// are supported, which is what every PDF signer uses.
func parsePSSParams(der []byte) (pssParams, error) {
	p := pssParams{hash: crypto.SHA1, saltLength: 20}
	mgfHash := crypto.SHA1
	if len(der) == 0 {
		return p, fmt.Errorf("%w: %w: absent", ErrUnsupportedAlgorithm, errPSSParams)
	}
	var r reader
	seq, rest, err := r.read(der, 1)
	if err != nil || len(rest) != 0 {
		return p, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, errPSSParams)
	}
	fields, err := r.expect(seq, tagSequence, "RSASSA-PSS-params", 1)
	if err != nil {
		return p, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, errPSSParams)
	}
	for _, f := range fields {
		inner, err := r.children(f, 2)
		if err != nil || len(inner) != 1 {
			return p, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, errPSSParams)
		}
		switch f.tag {
		case tagContext0: // hashAlgorithm
			a, err := r.parseAlgorithmIdentifier(inner[0], 3)
			if err != nil {
				return p, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, errPSSParams)
			}
			p.hash = hashForOID(a.oid)
		case tagContext1: // maskGenAlgorithm
			a, err := r.parseAlgorithmIdentifier(inner[0], 3)
			if err != nil || !a.oid.Equal(oidMGF1) {
				return p, fmt.Errorf("%w: %w: mask generation is not MGF1", ErrUnsupportedAlgorithm, errPSSParams)
			}
			h, rest, err := r.read(a.params, 3)
			if err != nil || len(rest) != 0 {
				return p, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, errPSSParams)
			}
			ha, err := r.parseAlgorithmIdentifier(h, 4)
			if err != nil {
				return p, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, errPSSParams)
			}
			mgfHash = hashForOID(ha.oid)
		case tagContext0 + 2: // saltLength
			n, err := intOf(inner[0])
			if err != nil || !n.IsInt64() || n.Int64() < 0 || n.Int64() > 1024 {
				return p, fmt.Errorf("%w: %w: salt length", ErrUnsupportedAlgorithm, errPSSParams)
			}
			p.saltLength = int(n.Int64())
		case tagContext0 + 3: // trailerField
			n, err := intOf(inner[0])
			if err != nil || n.Int64() != 1 || !n.IsInt64() {
				return p, fmt.Errorf("%w: %w: trailer field", ErrUnsupportedAlgorithm, errPSSParams)
			}
		default:
			return p, fmt.Errorf("%w: %w", ErrUnsupportedAlgorithm, errPSSParams)
		}
	}
	if p.hash == 0 || p.hash == crypto.MD5 || mgfHash != p.hash {
		return p, fmt.Errorf("%w: %w: hash %v with MGF1 %v", ErrUnsupportedAlgorithm, errPSSParams, p.hash, mgfHash)
	}
	return p, nil
}
