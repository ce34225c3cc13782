package cms

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"github.com/ProtonMail/go-crypto/brainpool"
	"github.com/cloudflare/circl/sign/ed448"
)

// UnsupportedPublicKey is the PublicKey of a certificate whose key this package reads but cannot verify with (an
// elliptic curve it has no implementation of, for example). Algorithm names it, e.g. "ECDSA secp256k1".
type UnsupportedPublicKey struct {
	Algorithm string
}

// Named elliptic curves crypto/x509 does not know. The Brainpool r1 curves (RFC 5639) are what EU eID cards and
// German qualified CAs use; their arithmetic comes from ProtonMail's go-crypto.
var extraCurves = []struct {
	oid   asn1.ObjectIdentifier
	name  string
	curve func() elliptic.Curve // nil: named, but not implemented here
}{
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, "brainpoolP256r1", brainpool.P256r1},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, "brainpoolP384r1", brainpool.P384r1},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, "brainpoolP512r1", brainpool.P512r1},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 8}, "brainpoolP256t1", brainpool.P256t1},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 12}, "brainpoolP384t1", brainpool.P384t1},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 14}, "brainpoolP512t1", brainpool.P512t1},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 1}, "brainpoolP160r1", nil},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 3}, "brainpoolP192r1", nil},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 5}, "brainpoolP224r1", nil},
	{asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 9}, "brainpoolP320r1", nil},
	{asn1.ObjectIdentifier{1, 3, 132, 0, 10}, "secp256k1", nil},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 1}, "P-192", nil},
}

// placeholderSPKI is a valid P-256 SubjectPublicKeyInfo (the generator point) put in place of a key crypto/x509
// cannot read, so that it parses the rest of the certificate.
var placeholderSPKI = func() []byte {
	c := elliptic.P256().Params()
	b, err := (&ecdsa.PublicKey{Curve: elliptic.P256(), X: c.Gx, Y: c.Gy}).Bytes()
	if err != nil {
		panic("cms: placeholder key: " + err.Error())
	}
	return derTLV(tagSequence,
		derAlgorithmIdentifier(oidECPublicKey, derOID(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})),
		derTLV(0x03, []byte{0}, b))
}()

// ParseCertificate parses a DER X.509 certificate as Parse does for the certificates of a SignedData: with
// crypto/x509, filling in what it leaves out. An Ed448 key (x509 parses such a certificate with a nil key) becomes
// a circl ed448.PublicKey. A key on a named curve x509 refuses (the whole certificate fails to parse) is put back
// after x509 has parsed the rest: Brainpool keys as an *ecdsa.PublicKey on a go-crypto brainpool curve, which
// crypto/ecdsa and x509 chain building can verify with; keys on other curves as an *UnsupportedPublicKey naming the
// curve, so that a signature is reported as unsupported rather than its certificate as unreadable. Raw,
// RawTBSCertificate and RawSubjectPublicKeyInfo are always the input's. Use it for trust anchors and other
// certificates that may carry such keys.
func ParseCertificate(der []byte) (*x509.Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err == nil {
		if cert.PublicKey == nil {
			cert.PublicKey = otherPublicKey(cert.RawSubjectPublicKeyInfo)
		}
		return cert, nil
	}
	if c, ok := parseWithForeignCurve(der); ok {
		return c, nil
	}
	return nil, err
}

// otherPublicKey reads a SubjectPublicKeyInfo crypto/x509 left without a key: Ed448, or an UnsupportedPublicKey
// naming the algorithm.
func otherPublicKey(spki []byte) any {
	alg, key, err := splitSPKI(spki)
	if err != nil {
		return &UnsupportedPublicKey{Algorithm: "unreadable public key"}
	}
	if alg.oid.Equal(oidEd448) && len(alg.params) == 0 && len(key) == ed448.PublicKeySize {
		return ed448.PublicKey(key)
	}
	return &UnsupportedPublicKey{Algorithm: "public key algorithm " + alg.oid.String()}
}

// splitSPKI decodes SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT STRING }
// and returns the algorithm and the key bits (a whole number of octets).
func splitSPKI(spki []byte) (algorithmIdentifier, []byte, error) {
	var r reader
	e, rest, err := r.read(spki, 0)
	if err != nil || len(rest) != 0 {
		return algorithmIdentifier{}, nil, fmt.Errorf("%w: SubjectPublicKeyInfo", ErrMalformed)
	}
	f, err := r.expect(e, tagSequence, "SubjectPublicKeyInfo", 0)
	if err != nil || len(f) != 2 || f[1].tag != 0x03 || len(f[1].body) < 1 || f[1].body[0] != 0 {
		return algorithmIdentifier{}, nil, fmt.Errorf("%w: SubjectPublicKeyInfo", ErrMalformed)
	}
	alg, err := r.parseAlgorithmIdentifier(f[0], 1)
	if err != nil {
		return algorithmIdentifier{}, nil, err
	}
	return alg, f[1].body[1:], nil
}

// errNotForeignCurve: the certificate does not fail because of its curve.
var errNotForeignCurve = errors.New("not an elliptic-curve key on a curve crypto/x509 lacks")

// parseWithForeignCurve parses a certificate whose key is on a named curve crypto/x509 does not know: the key is
// swapped for a placeholder, x509 parses the rest, and the original encodings and the real key are put back.
func parseWithForeignCurve(der []byte) (*x509.Certificate, bool) {
	tbsFields, spkiIndex, tbs, sigFields, err := splitCertificate(der)
	if err != nil {
		return nil, false
	}
	spki := tbsFields[spkiIndex]
	key, err := foreignCurveKey(spki)
	if err != nil {
		return nil, false
	}
	swapped := append([][]byte(nil), tbsFields...)
	swapped[spkiIndex] = placeholderSPKI
	cert, err := x509.ParseCertificate(derTLV(tagSequence, append([][]byte{derTLV(tagSequence, swapped...)}, sigFields...)...))
	if err != nil {
		return nil, false
	}
	cert.Raw = der
	cert.RawTBSCertificate = tbs
	cert.RawSubjectPublicKeyInfo = spki
	cert.PublicKeyAlgorithm = x509.ECDSA
	cert.PublicKey = key
	return cert, true
}

// splitCertificate returns the encodings of the TBSCertificate fields, the index of the SubjectPublicKeyInfo among
// them, the TBSCertificate encoding, and the encodings of signatureAlgorithm and signatureValue.
func splitCertificate(der []byte) (tbsFields [][]byte, spkiIndex int, tbs []byte, sigFields [][]byte, err error) {
	var r reader
	e, rest, err := r.read(der, 0)
	if err != nil || len(rest) != 0 || r.ber {
		return nil, 0, nil, nil, fmt.Errorf("%w: certificate", ErrMalformed)
	}
	top, err := r.expect(e, tagSequence, "Certificate", 0)
	if err != nil || len(top) != 3 {
		return nil, 0, nil, nil, fmt.Errorf("%w: certificate", ErrMalformed)
	}
	fields, err := r.expect(top[0], tagSequence, "TBSCertificate", 1)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	// version [0] EXPLICIT is optional; then serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
	spkiIndex = 5
	if len(fields) > 0 && fields[0].tag == tagContext0 {
		spkiIndex = 6
	}
	if len(fields) <= spkiIndex {
		return nil, 0, nil, nil, fmt.Errorf("%w: TBSCertificate with %d fields", ErrMalformed, len(fields))
	}
	for _, f := range fields {
		tbsFields = append(tbsFields, f.full)
	}
	return tbsFields, spkiIndex, top[0].full, [][]byte{top[1].full, top[2].full}, nil
}

// foreignCurveKey returns the key of an id-ecPublicKey SubjectPublicKeyInfo on a named curve of extraCurves: an
// *ecdsa.PublicKey when the curve is implemented and the point is on it, else an UnsupportedPublicKey naming the
// curve.
func foreignCurveKey(spki []byte) (any, error) {
	alg, point, err := splitSPKI(spki)
	if err != nil {
		return nil, err
	}
	if !alg.oid.Equal(oidECPublicKey) {
		return nil, errNotForeignCurve
	}
	var r reader
	p, rest, err := r.read(alg.params, 0)
	if err != nil || len(rest) != 0 {
		return nil, errNotForeignCurve
	}
	curveOID, err := oidOf(p)
	if err != nil {
		return nil, errNotForeignCurve // explicit curve parameters: not named, not supported
	}
	for _, known := range x509Curves {
		if known.Equal(curveOID) {
			return nil, errNotForeignCurve // x509 refused the key for another reason
		}
	}
	for _, c := range extraCurves {
		if !c.oid.Equal(curveOID) {
			continue
		}
		if c.curve == nil {
			return &UnsupportedPublicKey{Algorithm: "ECDSA " + c.name}, nil
		}
		curve := c.curve()
		size := (curve.Params().BitSize + 7) / 8
		if len(point) != 1+2*size || point[0] != 4 {
			return &UnsupportedPublicKey{Algorithm: "ECDSA " + c.name + " with a compressed or malformed point"}, nil
		}
		x, y := bigFrom(point[1:1+size]), bigFrom(point[1+size:])
		if x.Cmp(curve.Params().P) >= 0 || y.Cmp(curve.Params().P) >= 0 || !curve.IsOnCurve(x, y) {
			return &UnsupportedPublicKey{Algorithm: "ECDSA " + c.name + " with a point not on the curve"}, nil
		}
		return &ecdsa.PublicKey{Curve: curve, X: x, Y: y}, nil
	}
	return &UnsupportedPublicKey{Algorithm: "ECDSA on curve " + curveOID.String()}, nil
}

// x509Curves are the named curves crypto/x509 reads: P-224, P-256, P-384, P-521.
var x509Curves = []asn1.ObjectIdentifier{
	{1, 3, 132, 0, 33}, {1, 2, 840, 10045, 3, 1, 7}, {1, 3, 132, 0, 34}, {1, 3, 132, 0, 35},
}

func bigFrom(b []byte) *big.Int { return new(big.Int).SetBytes(b) }

// curveName names an elliptic curve for reports.
func curveName(c elliptic.Curve) string {
	if c == nil || c.Params() == nil {
		return "unknown curve"
	}
	return c.Params().Name
}
