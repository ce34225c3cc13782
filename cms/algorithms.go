package cms

import (
	"crypto"
	_ "crypto/md5" // legacy signatures are read (and reported as weak)
	_ "crypto/sha1"
	_ "crypto/sha256"
	"crypto/sha3"
	_ "crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"
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

	// BSI TR-03111 ecdsa-plain-signatures: r||s, each left-padded to the size of the curve order, instead of DER.
	oidECDSAPlainSHA1   = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 1}
	oidECDSAPlainSHA224 = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 2}
	oidECDSAPlainSHA256 = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3}
	oidECDSAPlainSHA384 = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 4}
	oidECDSAPlainSHA512 = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 5}

	// RFC 8410 / RFC 8419: EdDSA keys and signatures; SHAKE256 is the digest algorithm that goes with Ed448.
	oidEd25519     = asn1.ObjectIdentifier{1, 3, 101, 112}
	oidEd448       = asn1.ObjectIdentifier{1, 3, 101, 113}
	oidSHAKE256    = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 12}
	oidSHAKE256Len = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 18}
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

// digestAlg is a SignerInfo digest algorithm: a crypto.Hash, or SHAKE256 with a 512-bit output (RFC 8419, the
// digest that goes with Ed448; RFC 8702 gives id-shake256 the same length in CMS). The zero value is unknown.
type digestAlg struct {
	hash     crypto.Hash
	shake256 bool
}

// digestAlgOf decodes a digest AlgorithmIdentifier. Unknown algorithms give the zero digestAlg.
func digestAlgOf(a algorithmIdentifier) digestAlg {
	switch {
	case a.oid.Equal(oidSHAKE256) && len(a.params) == 0:
		return digestAlg{shake256: true}
	case a.oid.Equal(oidSHAKE256Len):
		var bits int
		if rest, err := asn1.Unmarshal(a.params, &bits); err == nil && len(rest) == 0 && bits == 512 {
			return digestAlg{shake256: true}
		}
		return digestAlg{}
	}
	return digestAlg{hash: hashForOID(a.oid)}
}

// supported tells whether this package can compute the digest.
func (d digestAlg) supported() bool { return d.shake256 || (d.hash != 0 && d.hash.Available()) }

// size is the digest length in bytes.
func (d digestAlg) size() int {
	if d.shake256 {
		return 64
	}
	return d.hash.Size()
}

// String names the digest algorithm ("SHA256", "SHAKE256").
func (d digestAlg) String() string {
	if d.shake256 {
		return "SHAKE256"
	}
	return hashName(d.hash)
}

// hasher is a running digest computation.
type hasher interface {
	io.Writer
	sum() []byte
}

type stdHasher struct{ hash.Hash }

func (h stdHasher) sum() []byte { return h.Sum(nil) }

type shakeHasher struct{ *sha3.SHAKE }

func (h shakeHasher) sum() []byte {
	out := make([]byte, 64)
	h.Read(out)
	return out
}

// newHasher starts a digest computation; d must be supported.
func (d digestAlg) newHasher() hasher {
	if d.shake256 {
		return shakeHasher{sha3.NewSHAKE256()}
	}
	return stdHasher{d.hash.New()}
}

// digest hashes data; d must be supported.
func (d digestAlg) digest(data []byte) []byte {
	h := d.newHasher()
	h.Write(data)
	return h.sum()
}

// unsupportedError reports an algorithm, key type or curve this package does not implement; it wraps
// ErrUnsupportedAlgorithm and names what is missing, for Result.UnsupportedAlgorithm.
type unsupportedError struct {
	what string
}

func (e *unsupportedError) Error() string { return ErrUnsupportedAlgorithm.Error() + ": " + e.what }
func (e *unsupportedError) Unwrap() error { return ErrUnsupportedAlgorithm }

// unsupported returns an unsupportedError naming what.
func unsupported(format string, args ...any) error {
	return &unsupportedError{what: fmt.Sprintf(format, args...)}
}

// keyKind is the public-key family a signature algorithm belongs to.
type keyKind int

const (
	kindUnknown keyKind = iota
	kindRSA             // RSASSA-PKCS1-v1_5
	kindRSAPSS          // RSASSA-PSS
	kindECDSA
	kindECDSAPlain // BSI TR-03111 plain r||s
	kindEd25519
	kindEd448
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
	{oidECDSAPlainSHA256, "ecdsa-plain-SHA256", kindECDSAPlain, crypto.SHA256},
	{oidECDSAPlainSHA384, "ecdsa-plain-SHA384", kindECDSAPlain, crypto.SHA384},
	{oidECDSAPlainSHA512, "ecdsa-plain-SHA512", kindECDSAPlain, crypto.SHA512},
	{oidECDSAPlainSHA224, "ecdsa-plain-SHA224", kindECDSAPlain, crypto.SHA224},
	{oidECDSAPlainSHA1, "ecdsa-plain-SHA1", kindECDSAPlain, crypto.SHA1},
	{oidEd25519, "Ed25519", kindEd25519, 0},
	{oidEd448, "Ed448", kindEd448, 0},
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
