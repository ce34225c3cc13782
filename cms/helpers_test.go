package cms

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"math/big"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
)

// content is the detached content most tests sign.
var content = []byte("%PDF-1.7 pretend this is the ByteRange of a document\n")

// sign makes a PAdES signature over content with id.
func sign(t testing.TB, id testpki.Identity, hash crypto.Hash) []byte {
	t.Helper()
	if hash == 0 {
		hash = crypto.SHA256
	}
	der, err := SignDetached(digest(hash, content), SignOptions{Hash: hash, Signer: id.Key, Certificate: id.Cert, Chain: id.Chain, PAdES: true})
	if err != nil {
		t.Fatalf("SignDetached: %v", err)
	}
	return der
}

// mustParse parses der or fails the test.
func mustParse(t testing.TB, der []byte) *SignedData {
	t.Helper()
	sd, err := Parse(der)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return sd
}

// mustVerify verifies sd against data or fails the test.
func mustVerify(t testing.TB, sd *SignedData, data []byte) *Result {
	t.Helper()
	res, err := sd.Verify(DigestOf(data))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return res
}

// forged builds SignedData variants the public API refuses to make: each field can be overridden.
type forged struct {
	id       testpki.Identity // signer named in the sid and, by default, the signing key and certificates
	hash     crypto.Hash      // default SHA-256
	signKey  crypto.Signer    // key that actually signs; default id.Key
	attrs    [][]byte         // encoded signed attributes; nil: the PAdES set for id over content
	noAttrs  bool             // no signedAttrs: sign the content digest directly
	unsorted bool             // keep attrs in the given order instead of DER-sorting them
	certs    [][]byte         // certificates field; nil: id.Chain; use noCerts to omit the field
	noCerts  bool             // omit the certificates field
	sigAlg   []byte           // signatureAlgorithm; default rsaEncryption / ecdsa-with-SHAxxx
	copies   int              // number of identical SignerInfos; default 1
	rawSig   func(hashed []byte) []byte
	mutate   func(sig []byte) // changes the signature value after signing
}

func (f forged) build(t testing.TB) []byte {
	t.Helper()
	si, digestAlg := f.signerInfo(t)
	certs := f.certs
	if certs == nil {
		for _, c := range f.id.Chain {
			certs = append(certs, c.Raw)
		}
	}
	if f.noCerts {
		certs = nil
	}
	n := f.copies
	if n == 0 {
		n = 1
	}
	var sis [][]byte
	for range n {
		sis = append(sis, si)
	}
	return derContentInfo([][]byte{digestAlg}, certs, sis)
}

// signerInfo returns the encoded SignerInfo and its digest AlgorithmIdentifier.
func (f forged) signerInfo(t testing.TB) (si, digestAlg []byte) {
	t.Helper()
	hash := f.hash
	if hash == 0 {
		hash = crypto.SHA256
	}
	key := f.signKey
	if key == nil {
		key = f.id.Key
	}
	attrs := f.attrs
	if attrs == nil && !f.noAttrs {
		attrs = [][]byte{
			derAttribute(oidAttrContentType, derOID(oidData)),
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, digest(hash, content))),
			derAttribute(oidAttrSigningCertificateV2, derSigningCertificateV2(f.id.Cert, hash)),
		}
	}
	var signedAttrs, hashed []byte
	if f.noAttrs {
		hashed = digest(hash, content)
	} else {
		if f.unsorted {
			signedAttrs = derTLV(tagSet, attrs...)
		} else {
			signedAttrs = derSetOf(tagSet, attrs)
		}
		hashed = digest(hash, signedAttrs)
	}
	var sig []byte
	if f.rawSig != nil {
		sig = f.rawSig(hashed)
	} else {
		var err error
		if sig, err = key.Sign(rand.Reader, hashed, hash); err != nil {
			t.Fatal(err)
		}
	}
	if f.mutate != nil {
		f.mutate(sig)
	}
	sigAlg := f.sigAlg
	if sigAlg == nil {
		var err error
		if sigAlg, err = signatureAlgorithmFor(key.Public(), &x509.Certificate{PublicKey: key.Public()}, hash); err != nil {
			t.Fatal(err)
		}
	}
	digestAlg = derAlgorithmIdentifier(oidForHash(hash), nil)
	return derSignerInfo(derIssuerAndSerial(f.id.Cert), digestAlg, signedAttrs, sigAlg, sig, nil), digestAlg
}

// rawRSASign signs an arbitrary encoded message (the PKCS#1 v1.5 EM block is built here) with key, to craft
// DigestInfo variants crypto/rsa refuses to produce.
func rawRSASign(t testing.TB, key crypto.Signer, digestInfo []byte) []byte {
	t.Helper()
	priv, ok := key.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("rawRSASign needs an *rsa.PrivateKey, got %T", key)
	}
	k := priv.Size()
	em := make([]byte, k)
	em[1] = 1
	for i := 2; i < k-len(digestInfo)-1; i++ {
		em[i] = 0xff
	}
	copy(em[k-len(digestInfo):], digestInfo)
	m := new(big.Int).SetBytes(em)
	return new(big.Int).Exp(m, priv.D, priv.N).FillBytes(make([]byte, k))
}

// digestInfo encodes DigestInfo { AlgorithmIdentifier { oid, params }, OCTET STRING hashed }.
func digestInfo(oid asn1.ObjectIdentifier, params, hashed []byte) []byte {
	return derTLV(tagSequence, derAlgorithmIdentifier(oid, params), derTLV(tagOctetString, hashed))
}

// forgeCert makes a certificate with victim's issuer name and serial number but the attacker's key, signed by
// the attacker: what someone who wants to pass as victim can make.
func forgeCert(t testing.TB, victim *x509.Certificate, attacker crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          victim.SerialNumber,
		Subject:               victim.Subject,
		NotBefore:             victim.NotBefore,
		NotAfter:              victim.NotAfter,
		KeyUsage:              victim.KeyUsage,
		BasicConstraintsValid: true,
	}
	parent := &x509.Certificate{Subject: victim.Issuer, SerialNumber: big.NewInt(1)}
	parent.RawSubject = victim.RawIssuer
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, attacker.Public(), attacker)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
