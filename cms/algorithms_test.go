package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/brainpool"
	"github.com/cloudflare/circl/sign/ed448"

	"github.com/trustsign/trustsign/internal/testpki"
)

// This file tests the algorithms and shapes real signers use beyond RSA and NIST ECDSA: Ed25519 and Ed448
// (RFC 8419), BSI TR-03111 plain ECDSA, Brainpool curves, several SignerInfos, encapsulated content and negative
// serial numbers, and what Verify says about algorithms it does not implement.

// reissued returns the DER of a certificate issued by the test PKI's intermediate CA with the given
// SubjectPublicKeyInfo and serial number, which crypto/x509 cannot make itself (keys it does not know, negative
// serials). spki nil keeps a placeholder Ed25519 key; serial nil keeps a random positive one.
func reissued(t testing.TB, cn string, spki []byte, serial *big.Int) []byte {
	t.Helper()
	tmpl := testpki.LeafTemplate(pkix.Name{Country: []string{"PL"}, Organization: []string{"Ministerstwo Testowe"}, CommonName: cn})
	return reissuedBy(t, tmpl, spki, serial, nil, nil)
}

// reissuedBy is reissued with a template of the caller's and, when issuer is not nil, issued and signed by issuer
// (whose key is issuerKey, ECDSA, signing with SHA-384) instead of the test PKI's intermediate CA.
func reissuedBy(t testing.TB, tmpl *x509.Certificate, spki []byte, serial *big.Int, issuer *x509.Certificate, issuerKey *ecdsa.PrivateKey) []byte {
	t.Helper()
	p := testpki.New()
	_, placeholder, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Issue(tmpl, placeholder)
	if err != nil {
		t.Fatal(err)
	}
	fields, spkiIndex, _, sigFields, err := splitCertificate(c.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if spki != nil {
		fields[spkiIndex] = spki
	}
	if serial != nil {
		fields[spkiIndex-5] = derInt(serial)
	}
	if issuer != nil {
		sigAlg := derAlgorithmIdentifier(oidECDSAWithSHA384, nil)
		fields[spkiIndex-4], fields[spkiIndex-3] = sigAlg, issuer.RawSubject
		tbs := derTLV(tagSequence, fields...)
		sig, err := ecdsa.SignASN1(rand.Reader, issuerKey, digest(crypto.SHA384, tbs))
		if err != nil {
			t.Fatal(err)
		}
		return derTLV(tagSequence, tbs, sigAlg, derTLV(0x03, []byte{0}, sig))
	}
	tbs := derTLV(tagSequence, fields...)
	sig, err := p.IntermediateKey.Sign(rand.Reader, digest(crypto.SHA256, tbs), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return derTLV(tagSequence, tbs, sigFields[0], derTLV(0x03, []byte{0}, sig))
}

// brainpoolPoint encodes the uncompressed point of key.
func brainpoolPoint(key *ecdsa.PrivateKey) []byte {
	size := (key.Curve.Params().BitSize + 7) / 8
	return append([]byte{4}, append(key.X.FillBytes(make([]byte, size)), key.Y.FillBytes(make([]byte, size))...)...)
}

// TestBrainpoolIssuer: German qualified CAs have Brainpool keys too; a certificate they issued must check against
// them (x509 chain building uses the parsed CA certificate).
func TestBrainpoolIssuer(t *testing.T) {
	p := testpki.New()
	caKey, err := ecdsa.GenerateKey(brainpool.P384r1(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{Subject: pkix.Name{Country: []string{"DE"}, CommonName: "Brainpool CA (test)"},
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true}
	ca, err := ParseCertificate(reissuedBy(t, caTmpl, ecSPKI(asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, brainpoolPoint(caKey)), nil, nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	leafSPKI, err := x509.MarshalPKIXPublicKey(p.EC256.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ParseCertificate(reissuedBy(t, testpki.LeafTemplate(pkix.Name{CommonName: "issued by a Brainpool CA (test)"}), leafSPKI, nil, ca, caKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		t.Fatalf("leaf against its Brainpool CA: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca) // trusted as it is (the test intermediate allows no CA below it)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots}); err != nil {
		t.Errorf("chain to a Brainpool CA: %v", err)
	}
	other, _ := ecdsa.GenerateKey(brainpool.P384r1(), rand.Reader)
	forgedLeaf, err := ParseCertificate(reissuedBy(t, testpki.LeafTemplate(pkix.Name{CommonName: "forged (test)"}), leafSPKI, nil, ca, other))
	if err != nil {
		t.Fatal(err)
	}
	if err := forgedLeaf.CheckSignatureFrom(ca); err == nil {
		t.Error("certificate signed by another key accepted")
	}
}

// ecSPKI encodes an id-ecPublicKey SubjectPublicKeyInfo on the named curve with an uncompressed point.
func ecSPKI(curveOID asn1.ObjectIdentifier, point []byte) []byte {
	return derTLV(tagSequence, derAlgorithmIdentifier(oidECPublicKey, derOID(curveOID)), derTLV(0x03, []byte{0}, point))
}

// identityFromDER parses a certificate with this package's parser and makes an Identity of it and key.
func identityFromDER(t testing.TB, der []byte, key crypto.Signer) testpki.Identity {
	t.Helper()
	c, err := ParseCertificate(der)
	if err != nil {
		t.Fatalf("parseCertificate: %v", err)
	}
	return testpki.Identity{Cert: c, Key: key, Chain: []*x509.Certificate{c, testpki.New().Intermediate}}
}

// verifyAll runs VerifyDetached over data and fails the test on an error.
func verifyAll(t testing.TB, sd *SignedData, data []byte) []*Result {
	t.Helper()
	res, err := sd.VerifyDetached(func(w io.Writer) error { _, err := w.Write(data); return err })
	if err != nil {
		t.Fatalf("VerifyDetached: %v", err)
	}
	if len(res) != len(sd.SignerInfos) {
		t.Fatalf("%d results for %d SignerInfos", len(res), len(sd.SignerInfos))
	}
	return res
}

func wantIntact(t testing.TB, r *Result, alg string) {
	t.Helper()
	if p := r.Problems(); len(p) > 0 || r.UnsupportedAlgorithm != "" {
		t.Fatalf("problems %q, unsupported %q, err %v", p, r.UnsupportedAlgorithm, r.SignatureErr)
	}
	if r.Algorithm != alg {
		t.Errorf("Algorithm %q, want %q", r.Algorithm, alg)
	}
}

func TestEd25519SignVerify(t *testing.T) {
	p := testpki.New()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := p.IssueIdentity(testpki.LeafTemplate(pkix.Name{CommonName: "Ed25519 signer (test)"}), key)
	if err != nil {
		t.Fatal(err)
	}
	der, err := SignDetachedReader(bytes.NewReader(content), SignOptions{Signer: key, Certificate: id.Cert, Chain: id.Chain, PAdES: true})
	if err != nil {
		t.Fatalf("SignDetachedReader: %v", err)
	}
	sd := mustParse(t, der)
	if !sd.SignerInfo.SignatureAlgorithmOID.Equal(oidEd25519) || sd.SignerInfo.SignatureAlgorithmParams != nil {
		t.Errorf("signatureAlgorithm %v params %x, want id-Ed25519 without parameters", sd.SignerInfo.SignatureAlgorithmOID, sd.SignerInfo.SignatureAlgorithmParams)
	}
	if sd.SignerInfo.DigestAlgorithm != crypto.SHA512 {
		t.Errorf("digest algorithm %v, want SHA-512 (RFC 8419)", sd.SignerInfo.DigestAlgorithm)
	}
	wantIntact(t, mustVerify(t, sd, content), "Ed25519")

	if r := mustVerify(t, sd, []byte("other content")); r.DigestOK || r.Problems() == nil {
		t.Error("Ed25519 signature accepted for other content")
	}
	bad := bytes.Clone(der)
	sig := mustParse(t, bad).SignerInfo.Signature
	bad[bytes.Index(bad, sig)+5] ^= 1
	if r := mustVerify(t, mustParse(t, bad), content); r.SignatureOK || !errors.Is(r.SignatureErr, ErrSignatureInvalid) || r.UnsupportedAlgorithm != "" {
		t.Errorf("corrupted Ed25519 signature: ok %v err %v unsupported %q", r.SignatureOK, r.SignatureErr, r.UnsupportedAlgorithm)
	}
	if _, err := SignDetached(digest(crypto.SHA256, content), SignOptions{Hash: crypto.SHA256, Signer: key, Certificate: id.Cert}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("Ed25519 with SHA-256: %v, want ErrInvalidOptions", err)
	}
}

// ed448SignedData makes an RFC 8419 Ed448 SignedData over content: SHAKE256 (id-shake256-len, 512 bits) as the
// digest algorithm, PureEdDSA over the signed attributes.
func ed448SignedData(t testing.TB, digestAlgID []byte, tamper bool) []byte {
	t.Helper()
	pub, priv, err := ed448.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki := derTLV(tagSequence, derAlgorithmIdentifier(oidEd448, nil), derTLV(0x03, []byte{0}, pub))
	certDER := reissued(t, "Ed448 signer (test)", spki, nil)
	cert, err := ParseCertificate(certDER)
	if err != nil {
		t.Fatalf("parseCertificate: %v", err)
	}
	if _, ok := cert.PublicKey.(ed448.PublicKey); !ok {
		t.Fatalf("Ed448 certificate key is %T", cert.PublicKey)
	}
	md := digestAlg{shake256: true}.digest(content)
	signedAttrs := derSetOf(tagSet, [][]byte{
		derAttribute(oidAttrContentType, derOID(oidData)),
		derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, md)),
		derAttribute(oidAttrSigningCertificateV2, derSigningCertificateV2(cert, crypto.SHA256)),
	})
	sig := ed448.Sign(priv, signedAttrs, "")
	if tamper {
		sig[3] ^= 1
	}
	si := derSignerInfo(derIssuerAndSerial(cert), digestAlgID, signedAttrs, derAlgorithmIdentifier(oidEd448, nil), sig, nil)
	return derContentInfo([][]byte{digestAlgID}, [][]byte{certDER, testpki.New().Intermediate.Raw}, [][]byte{si})
}

var shake256Len512 = derAlgorithmIdentifier(oidSHAKE256Len, derInt(big.NewInt(512)))

func TestEd448Verify(t *testing.T) {
	for _, alg := range []struct {
		name string
		der  []byte
	}{{"id-shake256-len 512", shake256Len512}, {"id-shake256", derAlgorithmIdentifier(oidSHAKE256, nil)}} {
		t.Run(alg.name, func(t *testing.T) {
			sd := mustParse(t, ed448SignedData(t, alg.der, false))
			if sd.UnparsedCertificates != 0 {
				t.Errorf("%d certificates not parsed", sd.UnparsedCertificates)
			}
			wantIntact(t, verifyAll(t, sd, content)[0], "Ed448")
			if r := verifyAll(t, sd, []byte("other"))[0]; r.DigestOK {
				t.Error("Ed448 signature accepted for other content")
			}
			r := verifyAll(t, mustParse(t, ed448SignedData(t, alg.der, true)), content)[0]
			if r.SignatureOK || !errors.Is(r.SignatureErr, ErrSignatureInvalid) {
				t.Errorf("corrupted Ed448 signature: ok %v err %v", r.SignatureOK, r.SignatureErr)
			}
		})
	}
}

func TestEd448Sign(t *testing.T) {
	pub, priv, err := ed448.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	spki := derTLV(tagSequence, derAlgorithmIdentifier(oidEd448, nil), derTLV(0x03, []byte{0}, pub))
	cert, err := ParseCertificate(reissued(t, "Ed448 signer (test)", spki, nil))
	if err != nil {
		t.Fatal(err)
	}
	opts := SignOptions{Signer: priv, Certificate: cert, Chain: []*x509.Certificate{cert, testpki.New().Intermediate}, PAdES: true}
	der, err := SignDetachedReader(bytes.NewReader(content), opts)
	if err != nil {
		t.Fatalf("SignDetachedReader: %v", err)
	}
	sd := mustParse(t, der)
	if si := sd.SignerInfo; !si.SignatureAlgorithmOID.Equal(oidEd448) || !si.DigestAlgorithmOID.Equal(oidSHAKE256Len) || !si.digestAlg.shake256 {
		t.Errorf("signatureAlgorithm %v, digestAlgorithm %v", si.SignatureAlgorithmOID, si.DigestAlgorithmOID)
	}
	r := verifyAll(t, sd, content)[0]
	wantIntact(t, r, "Ed448")
	if r.Level != LevelPAdESBaseline || r.SigningCertificateRef != CertRefV2 {
		t.Errorf("level %v, reference %v", r.Level, r.SigningCertificateRef)
	}
	if r := verifyAll(t, sd, []byte("other"))[0]; r.DigestOK {
		t.Error("accepted for other content")
	}
	opts.Hash = crypto.SHA256
	if _, err := SignDetachedReader(bytes.NewReader(content), opts); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("Ed448 with SHA-256: %v, want ErrInvalidOptions", err)
	}
	opts.Hash = 0
	if _, err := SignDetached(make([]byte, 32), opts); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("Ed448 with a 32-byte digest: %v, want ErrInvalidOptions", err)
	}
}

// TestUnsupportedAlgorithm: what this package cannot verify is named in UnsupportedAlgorithm, and never reported
// as a signature or digest that does not match.
func TestUnsupportedAlgorithm(t *testing.T) {
	p := testpki.New()
	k1Point := append([]byte{4}, bytes.Repeat([]byte{7}, 64)...)
	k1 := identityFromDER(t, reissued(t, "secp256k1 signer (test)", ecSPKI(asn1.ObjectIdentifier{1, 3, 132, 0, 10}, k1Point), nil), p.EC256.Key)
	bp224Point := append([]byte{4}, bytes.Repeat([]byte{7}, 56)...)
	bp224 := identityFromDER(t, reissued(t, "brainpoolP224r1 signer (test)", ecSPKI(asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 5}, bp224Point), nil), p.EC256.Key)
	tests := []struct {
		name string
		der  []byte
		// via Verify (a crypto.Hash callback) instead of VerifyDetached
		callback bool
		want     string
	}{
		{"unknown signature algorithm", forged{id: p.RSA, sigAlg: derAlgorithmIdentifier(asn1.ObjectIdentifier{1, 2, 3, 4, 5}, nil)}.build(t), false, "signature algorithm 1.2.3.4.5"},
		{"unknown digest algorithm (SHA3-256)", withDigestAlgorithm(t, sign(t, p.RSA, crypto.SHA256), derAlgorithmIdentifier(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 8}, nil)), false, "digest algorithm 2.16.840.1.101.3.4.2.8"},
		{"SHAKE256 with 256-bit output", ed448SignedData(t, derAlgorithmIdentifier(oidSHAKE256Len, derInt(big.NewInt(256))), false), false, "SHAKE256 with an output length other than 512 bits"},
		{"SHAKE256 through a crypto.Hash callback", ed448SignedData(t, shake256Len512, false), true, "SHAKE256"},
		{"Ed448 without signed attributes", forged{id: p.EC256, noAttrs: true, sigAlg: derAlgorithmIdentifier(oidEd448, nil), rawSig: func([]byte) []byte { return make([]byte, 114) }}.build(t), false, "Ed448 without signed attributes"},
		{"key on secp256k1", forged{id: k1}.build(t), false, "ECDSA secp256k1"},
		{"key on brainpoolP224r1", forged{id: bp224}.build(t), false, "ECDSA brainpoolP224r1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd := mustParse(t, tc.der)
			if sd.UnparsedCertificates != 0 {
				t.Errorf("%d certificates not parsed: an unsupported key must not make its certificate unreadable", sd.UnparsedCertificates)
			}
			var r *Result
			if tc.callback {
				r = mustVerify(t, sd, content)
			} else {
				r = verifyAll(t, sd, content)[0]
			}
			if !strings.Contains(r.UnsupportedAlgorithm, tc.want) || !errors.Is(r.SignatureErr, ErrUnsupportedAlgorithm) {
				t.Fatalf("UnsupportedAlgorithm %q (err %v), want %q", r.UnsupportedAlgorithm, r.SignatureErr, tc.want)
			}
			if r.SignatureOK || errors.Is(r.SignatureErr, ErrSignatureInvalid) {
				t.Errorf("unsupported algorithm reported as a verdict on the signature: ok %v err %v", r.SignatureOK, r.SignatureErr)
			}
			if p := r.Problems(); len(p) != 1 || !strings.Contains(p[0], tc.want) {
				t.Errorf("problems %q, want only the unsupported algorithm", p)
			}
		})
	}
}

// TestUnsupportedAlgorithmKeepsDigestCheck: an unsupported signature algorithm does not hide a message digest
// that does not match the content.
func TestUnsupportedAlgorithmKeepsDigestCheck(t *testing.T) {
	p := testpki.New()
	der := forged{id: p.RSA, sigAlg: derAlgorithmIdentifier(asn1.ObjectIdentifier{1, 2, 3, 4, 5}, nil)}.build(t)
	r := verifyAll(t, mustParse(t, der), []byte("other content"))[0]
	if r.UnsupportedAlgorithm == "" || r.DigestOK || len(r.Problems()) != 2 {
		t.Errorf("unsupported %q, digest ok %v, problems %q", r.UnsupportedAlgorithm, r.DigestOK, r.Problems())
	}
}

// withDigestAlgorithm rewrites the SignerInfo digestAlgorithm (and the SignedData digestAlgorithms) of a
// SignedData made by sign.
func withDigestAlgorithm(t testing.TB, der, alg []byte) []byte {
	t.Helper()
	old := derAlgorithmIdentifier(oidSHA256, nil)
	if bytes.Count(der, old) != 2 {
		t.Fatalf("%d digest algorithm identifiers", bytes.Count(der, old))
	}
	if len(alg) != len(old) {
		t.Fatal("replacement must keep the length")
	}
	return bytes.ReplaceAll(der, old, alg)
}

// plainSig signs hashed with an ECDSA key and returns r||s, each padded to the size of the group order.
func plainSig(t testing.TB, key crypto.Signer) func(hashed []byte) []byte {
	return func(hashed []byte) []byte {
		k := key.(*ecdsa.PrivateKey)
		r, s, err := ecdsa.Sign(rand.Reader, k, hashed)
		if err != nil {
			t.Fatal(err)
		}
		n := (k.Curve.Params().N.BitLen() + 7) / 8
		return append(r.FillBytes(make([]byte, n)), s.FillBytes(make([]byte, n))...)
	}
}

func TestPlainECDSA(t *testing.T) {
	p := testpki.New()
	plain256 := derAlgorithmIdentifier(oidECDSAPlainSHA256, nil)
	tests := []struct {
		name string
		f    forged
		ok   bool
	}{
		{"P-256 ecdsa-plain-SHA256", forged{id: p.EC256, sigAlg: plain256, rawSig: plainSig(t, p.EC256.Key)}, true},
		{"P-384 ecdsa-plain-SHA384", forged{id: p.EC384, hash: crypto.SHA384, sigAlg: derAlgorithmIdentifier(oidECDSAPlainSHA384, nil), rawSig: plainSig(t, p.EC384.Key)}, true},
		{"P-256 ecdsa-plain-SHA512", forged{id: p.EC256, hash: crypto.SHA512, sigAlg: derAlgorithmIdentifier(oidECDSAPlainSHA512, nil), rawSig: plainSig(t, p.EC256.Key)}, true},
		{"no signed attributes", forged{id: p.EC256, noAttrs: true, sigAlg: plain256, rawSig: plainSig(t, p.EC256.Key)}, true},
		{"DER signature under the plain OID", forged{id: p.EC256, sigAlg: plain256}, false},
		{"r||s one byte short", forged{id: p.EC256, sigAlg: plain256, rawSig: func(h []byte) []byte { return plainSig(t, p.EC256.Key)(h)[1:] }}, false},
		{"r||s flipped bit", forged{id: p.EC256, sigAlg: plain256, rawSig: plainSig(t, p.EC256.Key), mutate: func(s []byte) { s[40] ^= 1 }}, false},
		{"plain SHA-384 OID with a SHA-256 digest", forged{id: p.EC256, sigAlg: derAlgorithmIdentifier(oidECDSAPlainSHA384, nil), rawSig: plainSig(t, p.EC256.Key)}, false},
		{"plain OID with an RSA key", forged{id: p.RSA, sigAlg: plain256, rawSig: func([]byte) []byte { return make([]byte, 64) }}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustVerify(t, mustParse(t, tc.f.build(t)), content)
			if tc.ok {
				wantIntact(t, r, "ECDSA-plain-"+hashName(r.DigestAlgorithm))
				return
			}
			if r.SignatureOK || r.UnsupportedAlgorithm != "" {
				t.Errorf("accepted (or called unsupported %q): err %v", r.UnsupportedAlgorithm, r.SignatureErr)
			}
		})
	}
}

// brainpoolIdentity makes a signer on a Brainpool curve, issued by the test PKI.
func brainpoolIdentity(t testing.TB, curve elliptic.Curve, oid asn1.ObjectIdentifier) testpki.Identity {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	size := (curve.Params().BitSize + 7) / 8
	point := append([]byte{4}, append(key.X.FillBytes(make([]byte, size)), key.Y.FillBytes(make([]byte, size))...)...)
	der := reissued(t, curve.Params().Name+" signer (test)", ecSPKI(oid, point), nil)
	if _, err := x509.ParseCertificate(der); err == nil {
		t.Fatal("crypto/x509 reads Brainpool keys now: the fallback may be unnecessary")
	}
	return identityFromDER(t, der, key)
}

func TestBrainpool(t *testing.T) {
	for _, c := range []struct {
		curve elliptic.Curve
		oid   asn1.ObjectIdentifier
		hash  crypto.Hash
	}{
		{brainpool.P256r1(), asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, crypto.SHA256},
		{brainpool.P384r1(), asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 11}, crypto.SHA384},
		{brainpool.P512r1(), asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 13}, crypto.SHA512},
	} {
		t.Run(c.curve.Params().Name, func(t *testing.T) {
			id := brainpoolIdentity(t, c.curve, c.oid)
			der := forged{id: id, hash: c.hash}.build(t)
			sd := mustParse(t, der)
			if sd.UnparsedCertificates != 0 || len(sd.Certificates) != 2 {
				t.Fatalf("%d certificates parsed, %d not", len(sd.Certificates), sd.UnparsedCertificates)
			}
			got := sd.Certificates[0]
			if !bytes.Equal(got.Raw, id.Cert.Raw) || got.Subject.CommonName != c.curve.Params().Name+" signer (test)" {
				t.Errorf("certificate read back as %q", got.Subject)
			}
			if err := got.CheckSignatureFrom(testpki.New().Intermediate); err != nil {
				t.Errorf("issuer's signature on the Brainpool certificate: %v", err)
			}
			wantIntact(t, mustVerify(t, sd, content), "ECDSA-"+hashName(c.hash))
			if r := mustVerify(t, sd, []byte("other")); r.DigestOK {
				t.Error("accepted for other content")
			}

			// German qualified signatures: Brainpool with BSI plain r||s.
			plainOID := map[crypto.Hash]asn1.ObjectIdentifier{crypto.SHA256: oidECDSAPlainSHA256, crypto.SHA384: oidECDSAPlainSHA384, crypto.SHA512: oidECDSAPlainSHA512}[c.hash]
			plain := forged{id: id, hash: c.hash, sigAlg: derAlgorithmIdentifier(plainOID, nil), rawSig: plainSig(t, id.Key)}.build(t)
			wantIntact(t, mustVerify(t, mustParse(t, plain), content), "ECDSA-plain-"+hashName(c.hash))

			forgedKey, _ := ecdsa.GenerateKey(c.curve, rand.Reader)
			other := forged{id: id, hash: c.hash, signKey: forgedKey}.build(t)
			if r := mustVerify(t, mustParse(t, other), content); r.SignatureOK || !errors.Is(r.SignatureErr, ErrSignatureInvalid) {
				t.Errorf("signature by another key: ok %v err %v", r.SignatureOK, r.SignatureErr)
			}
		})
	}
	t.Run("point not on the curve", func(t *testing.T) {
		bad := append([]byte{4}, bytes.Repeat([]byte{1}, 64)...)
		c, err := ParseCertificate(reissued(t, "bad point (test)", ecSPKI(asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}, bad), nil))
		if err != nil {
			t.Fatal(err)
		}
		if k, ok := c.PublicKey.(*UnsupportedPublicKey); !ok || !strings.Contains(k.Algorithm, "not on the curve") {
			t.Errorf("key %#v", c.PublicKey)
		}
	})
}

func TestSeveralSignerInfos(t *testing.T) {
	p := testpki.New()
	rsaSI, rsaAlg := forged{id: p.RSA}.signerInfo(t)
	ecSI, _ := forged{id: p.EC384, hash: crypto.SHA384}.signerInfo(t)
	badSI, _ := forged{id: p.EC256, mutate: func(s []byte) { s[len(s)-3] ^= 1 }}.signerInfo(t)
	certs := [][]byte{p.RSA.Cert.Raw, p.EC384.Cert.Raw, p.EC256.Cert.Raw, p.Intermediate.Raw}
	der := derContentInfo([][]byte{rsaAlg, derAlgorithmIdentifier(oidSHA384, nil)}, certs, [][]byte{rsaSI, ecSI, badSI})
	sd := mustParse(t, der)
	if len(sd.SignerInfos) != 3 {
		t.Fatalf("%d SignerInfos", len(sd.SignerInfos))
	}
	calls := 0
	res, err := sd.VerifyDetached(func(w io.Writer) error { calls++; _, err := w.Write(content); return err })
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Errorf("content written %d times, want once", calls)
	}
	byCert := map[string]*Result{}
	for i, r := range res {
		if r.SignerIndex != i {
			t.Errorf("result %d names signer %d", i, r.SignerIndex)
		}
		if r.SignerCert != nil {
			byCert[string(r.SignerCert.Raw)] = r
		}
	}
	if len(byCert) != 3 {
		t.Fatalf("%d distinct signer certificates", len(byCert))
	}
	wantIntact(t, byCert[string(p.RSA.Cert.Raw)], "RSA-SHA256")
	wantIntact(t, byCert[string(p.EC384.Cert.Raw)], "ECDSA-SHA384")
	if r := byCert[string(p.EC256.Cert.Raw)]; r.SignatureOK || !errors.Is(r.SignatureErr, ErrSignatureInvalid) {
		t.Errorf("corrupted signer: ok %v err %v", r.SignatureOK, r.SignatureErr)
	}
	first := mustVerify(t, sd, content) // Verify checks the first one
	if first.SignerCert == nil || !bytes.Equal(first.SignerCert.Raw, res[0].SignerCert.Raw) || first.SignatureOK != res[0].SignatureOK {
		t.Error("Verify does not check the first SignerInfo")
	}
}

func TestEncapsulatedContent(t *testing.T) {
	p := testpki.New()
	sd := mustParse(t, withEContent(t, sign(t, p.RSA, crypto.SHA256)))
	if !bytes.Equal(sd.EContent, content) {
		t.Fatalf("EContent %q", sd.EContent)
	}
	if _, err := sd.Verify(DigestOf(content)); !errors.Is(err, ErrNotDetached) {
		t.Errorf("Verify: %v, want ErrNotDetached", err)
	}
	if _, err := sd.VerifyDetached(func(io.Writer) error { return nil }); !errors.Is(err, ErrNotDetached) {
		t.Errorf("VerifyDetached: %v, want ErrNotDetached", err)
	}
	res, err := sd.VerifyEncapsulated()
	if err != nil {
		t.Fatal(err)
	}
	wantIntact(t, res[0], "RSA-SHA256")

	other := mustParse(t, withEContent(t, forged{id: p.RSA, attrs: [][]byte{
		derAttribute(oidAttrContentType, derOID(oidData)),
		derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, digest(crypto.SHA256, []byte("what was really signed")))),
	}}.build(t)))
	if res, _ := other.VerifyEncapsulated(); res[0].DigestOK {
		t.Error("message digest of other content accepted")
	}
	if _, err := mustParse(t, sign(t, p.RSA, 0)).VerifyEncapsulated(); !errors.Is(err, ErrNotEncapsulated) {
		t.Errorf("VerifyEncapsulated on detached content: %v", err)
	}
}

// TestNegativeSerialNumber: old Java CAs issued certificates with negative serial numbers, which crypto/x509
// refuses unless GODEBUG x509negativeserial=1 (set for this module in go.mod). They must parse and verify.
func TestNegativeSerialNumber(t *testing.T) {
	p := testpki.New()
	spki, err := x509.MarshalPKIXPublicKey(p.EC256.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	serial := big.NewInt(-0x1234567890)
	der := reissued(t, "negative serial (test)", spki, serial)
	sd := mustParse(t, forged{id: identityFromDER(t, der, p.EC256.Key)}.build(t))
	if sd.UnparsedCertificates != 0 {
		t.Fatal("certificate with a negative serial number not parsed")
	}
	if sd.Certificates[0].SerialNumber.Cmp(serial) != 0 {
		t.Errorf("serial %v", sd.Certificates[0].SerialNumber)
	}
	wantIntact(t, mustVerify(t, sd, content), "ECDSA-SHA256")
	h := sha256.Sum256(der)
	if !bytes.Equal(h[:], digest(crypto.SHA256, sd.Certificates[0].Raw)) {
		t.Error("Raw is not the certificate as found")
	}
}
