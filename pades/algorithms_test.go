package pades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/brainpool"
	"github.com/cloudflare/circl/sign/ed448"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
)

// Signatures other verifiers' test suites hold valid (or invalid) that use algorithms and shapes beyond RSA and
// NIST ECDSA: adbe.pkcs7.sha1, several SignerInfos, Ed25519, BSI plain ECDSA, Brainpool keys, negative serial
// numbers, and algorithms this verifier does not implement (INDETERMINATE naming them, never TOTAL_FAILED).

var (
	oidECPublicKey      = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidBrainpoolP256r1  = asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, 7}
	oidECDSAPlainSHA256 = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3}
)

// foreignCert returns a certificate issued by the test PKI's intermediate CA with the given SubjectPublicKeyInfo
// (nil: a placeholder key) and serial number (nil: random), which crypto/x509 cannot make (keys it does not know,
// negative serials). Only Raw, RawIssuer and SerialNumber are set: enough for cmsSpec.
func foreignCert(t testing.TB, cn string, spki []byte, serial *big.Int) *x509.Certificate {
	t.Helper()
	p := testpki.New()
	_, placeholder, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Issue(testpki.LeafTemplate(pkix.Name{Country: []string{"PL"}, CommonName: cn}), placeholder)
	if err != nil {
		t.Fatal(err)
	}
	var outer struct {
		TBS asn1.RawValue
		Alg asn1.RawValue
		Sig asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.Raw, &outer); err != nil {
		t.Fatal(err)
	}
	var fields [][]byte
	for rest := outer.TBS.Bytes; len(rest) > 0; {
		var v asn1.RawValue
		if rest, err = asn1.Unmarshal(rest, &v); err != nil {
			t.Fatal(err)
		}
		fields = append(fields, v.FullBytes)
	}
	// [0] version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, extensions
	if spki != nil {
		fields[6] = spki
	}
	if serial == nil {
		serial = c.SerialNumber
	}
	fields[1] = mustMarshal(serial)
	tbs := der(0x30, fields...)
	h := sha256.Sum256(tbs)
	sig, err := p.IntermediateKey.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	raw := der(0x30, tbs, outer.Alg.FullBytes, der(0x03, append([]byte{0}, sig...)))
	return &x509.Certificate{Raw: raw, RawIssuer: c.RawIssuer, SerialNumber: serial}
}

// plainSigner signs a digest with key and returns r||s (BSI TR-03111), each padded to the size of the order.
func plainSigner(t testing.TB, key *ecdsa.PrivateKey) func(hashed []byte) []byte {
	return func(hashed []byte) []byte {
		r, s, err := ecdsa.Sign(rand.Reader, key, hashed)
		if err != nil {
			t.Fatal(err)
		}
		n := (key.Curve.Params().N.BitLen() + 7) / 8
		return append(r.FillBytes(make([]byte, n)), s.FillBytes(make([]byte, n))...)
	}
}

// sha1Doc makes an adbe.pkcs7.sha1 signed document: the CMS made by spec from the SHA-1 digest of the ByteRange.
func sha1Doc(t *testing.T, spec func(sha1Digest []byte) []byte) []byte {
	t.Helper()
	b := craftedDoc(strings.Replace(standardSigDict, "/ETSI.CAdES.detached", "/adbe.pkcs7.sha1", 1), nil)
	br := standardRange(t, b)
	b = seal(t, b, br, -1, testpki.New().RSA) // writes the ByteRange only
	h := sha1.New()
	h.Write(b[br[0] : br[0]+br[1]])
	h.Write(b[br[2] : br[2]+br[3]])
	hex.Encode(b[br[1]+1:], spec(h.Sum(nil)))
	return b
}

// sha1CMS is the usual adbe.pkcs7.sha1 CMS: the SHA-1 digest encapsulated, signed attributes over it.
func sha1CMS(t *testing.T, id testpki.Identity) func(d []byte) []byte {
	return func(d []byte) []byte {
		md := sha256.Sum256(d)
		return cmsSpec{signer: id, eContent: d, digest: md[:]}.build(t)
	}
}

// opensslSHA1CMS has openssl make the adbe.pkcs7.sha1 CMS (encapsulated digest, SHA-1, no signed attributes), as
// old Acrobat-era signers did.
func opensslSHA1CMS(t *testing.T, id testpki.Identity) func(d []byte) []byte {
	return func(d []byte) []byte {
		bin, err := exec.LookPath("openssl")
		if err != nil {
			t.Skip("openssl not installed")
		}
		dir := t.TempDir()
		key, err := testpki.KeyPEM(id.Key)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{"digest": d, "cert.pem": testpki.CertsPEM(id.Cert), "key.pem": key, "chain.pem": testpki.CertsPEM(id.Chain[1:]...)}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		out := filepath.Join(dir, "sig.der")
		cmd := exec.Command(bin, "cms", "-sign", "-binary", "-nodetach", "-noattr", "-md", "sha1", "-in", "digest",
			"-signer", "cert.pem", "-inkey", "key.pem", "-certfile", "chain.pem", "-outform", "DER", "-out", out)
		cmd.Dir = dir
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl cms -sign: %v: %s", err, msg)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// TestConformanceAlgorithms checks the verdict, sub-indication and reasons of each case through verify.PDF with the
// test PKI's root trusted.
func TestConformanceAlgorithms(t *testing.T) {
	p := testpki.New()
	base := func(t *testing.T, h crypto.Hash) []byte {
		o := opts(p.RSA)
		o.Hash = h
		return sign(t, simplePDF(1, ""), o)
	}
	with := func(h crypto.Hash, spec func(digest []byte) []byte) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b := base(t, h)
			return replaceCMS(t, b, spec(rangeDigest(t, b, h)))
		}
	}
	bpKey, err := ecdsa.GenerateKey(brainpool.P256r1(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	point := append([]byte{4}, append(bpKey.X.FillBytes(make([]byte, 32)), bpKey.Y.FillBytes(make([]byte, 32))...)...)
	bpCert := foreignCert(t, "brainpoolP256r1 signer (test)", der(0x30, der(0x30, mustMarshal(oidECPublicKey), mustMarshal(oidBrainpoolP256r1)), der(0x03, append([]byte{0}, point...))), nil)
	brainpoolID := testpki.Identity{Cert: bpCert, Key: bpKey, Chain: []*x509.Certificate{bpCert, p.Intermediate}}
	k1Cert := foreignCert(t, "secp256k1 signer (test)", der(0x30, der(0x30, mustMarshal(oidECPublicKey), mustMarshal(asn1.ObjectIdentifier{1, 3, 132, 0, 10})), der(0x03, append([]byte{0, 4}, bytes.Repeat([]byte{9}, 64)...))), nil)
	ecSPKI, err := x509.MarshalPKIXPublicKey(p.EC256.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	negCert := foreignCert(t, "negative serial (test)", ecSPKI, big.NewInt(-4242424242))
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed448Pub, ed448Key, err := ed448.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed448Cert := foreignCert(t, "Ed448 signer (test)", der(0x30, der(0x30, mustMarshal(asn1.ObjectIdentifier{1, 3, 101, 113})), der(0x03, append([]byte{0}, ed448Pub...))), nil)
	ed448ID := testpki.Identity{Cert: ed448Cert, Chain: []*x509.Certificate{ed448Cert, p.Intermediate}}
	edID, err := p.IssueIdentity(testpki.LeafTemplate(pkix.Name{Country: []string{"PL"}, CommonName: "Ed25519 signer (test)"}), edKey)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		file    func(t *testing.T) []byte
		want    verify.Indication
		sub     verify.SubIndication
		reason  string // a reason that must be given
		entries int    // report entries (default 1)
		alg     string // the first entry's algorithm, when checked
	}{
		{name: "adbe.pkcs7.sha1, signed attributes", file: func(t *testing.T) []byte { return sha1Doc(t, sha1CMS(t, p.RSA)) },
			want: verify.Indeterminate, sub: verify.CryptoConstraintsFailureNoPOE, reason: "adbe.pkcs7.sha1", alg: "RSA-SHA256"},
		{name: "adbe.pkcs7.sha1 made by openssl, no signed attributes", file: func(t *testing.T) []byte { return sha1Doc(t, opensslSHA1CMS(t, p.RSA)) },
			want: verify.Indeterminate, sub: verify.CryptoConstraintsFailureNoPOE, reason: "SHA-1", alg: "RSA-SHA1"},
		{name: "adbe.pkcs7.sha1, document changed after signing", file: func(t *testing.T) []byte {
			return flip(t, sha1Doc(t, sha1CMS(t, p.RSA)), "Umowa: 100 PLN")
		}, want: verify.TotalFailed, sub: verify.HashFailure, reason: "SHA-1 digest"},
		{name: "adbe.pkcs7.sha1, digest of other bytes encapsulated", file: func(t *testing.T) []byte {
			return sha1Doc(t, func(d []byte) []byte { return sha1CMS(t, p.RSA)(bytes.Repeat([]byte{1}, len(d))) })
		}, want: verify.TotalFailed, sub: verify.HashFailure},
		{name: "adbe.pkcs7.sha1, nothing encapsulated", file: func(t *testing.T) []byte {
			return sha1Doc(t, func(d []byte) []byte { return cmsSpec{signer: p.RSA, digest: d}.build(t) })
		}, want: verify.TotalFailed, sub: verify.FormatFailure},
		{name: "document time-stamp (ETSI.RFC3161) holding a CAdES signature, not a time-stamp token, fails", file: func(t *testing.T) []byte {
			b := craftedDoc(strings.Replace(strings.Replace(standardSigDict, "/ETSI.CAdES.detached", "/ETSI.RFC3161", 1), "/Type /Sig", "/Type /DocTimeStamp", 1), nil)
			br := standardRange(t, b)
			b = seal(t, b, br, -1, p.RSA)
			tst := sha256.Sum256([]byte("a TSTInfo would be here"))
			hex.Encode(b[br[1]+1:], cmsSpec{signer: p.RSA, eContent: tst[:], digest: tst[:]}.build(t))
			return b
		}, want: verify.TotalFailed, sub: verify.FormatFailure, reason: "document time-stamp is not valid"},
		{name: "ETSI.CAdES.detached with encapsulated content", file: with(crypto.SHA256, func(d []byte) []byte {
			return cmsSpec{signer: p.RSA, digest: d, eContent: []byte("other content")}.build(t)
		}), want: verify.TotalFailed, sub: verify.FormatFailure},
		{name: "two signers", file: with(crypto.SHA256, func(d []byte) []byte {
			return cmsSpec{signer: p.RSA, digest: d, coSigners: []testpki.Identity{p.EC384}}.build(t)
		}), want: verify.TotalPassed, entries: 2},
		{name: "Ed25519", file: with(crypto.SHA512, func(d []byte) []byte {
			der, err := cms.SignDetached(d, cms.SignOptions{Hash: crypto.SHA512, Signer: edKey, Certificate: edID.Cert, Chain: edID.Chain, PAdES: true})
			if err != nil {
				t.Fatal(err)
			}
			return der
		}), want: verify.TotalPassed, alg: "Ed25519"},
		{name: "Ed448 with SHAKE256", file: func(t *testing.T) []byte {
			b := base(t, crypto.SHA256)
			br := verifyBytes(t, b).Signatures[0].ByteRange
			md := sha3.SumSHAKE256(append(bytes.Clone(b[br[0]:br[0]+br[1]]), b[br[2]:br[2]+br[3]]...), 64)
			return replaceCMS(t, b, cmsSpec{signer: ed448ID, digest: md,
				digestAlg:   der(0x30, mustMarshal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 18}), mustMarshal(512)),
				sigAlg:      der(0x30, mustMarshal(asn1.ObjectIdentifier{1, 3, 101, 113})),
				signMessage: func(m []byte) []byte { return ed448.Sign(ed448Key, m, "") }}.build(t))
		}, want: verify.TotalPassed, alg: "Ed448"},
		{name: "BSI plain ECDSA", file: with(crypto.SHA256, func(d []byte) []byte {
			return cmsSpec{signer: p.EC256, digest: d, sigAlg: der(0x30, mustMarshal(oidECDSAPlainSHA256)), rawSig: plainSigner(t, p.EC256.Key.(*ecdsa.PrivateKey))}.build(t)
		}), want: verify.TotalPassed, alg: "ECDSA-plain-SHA256"},
		{name: "brainpoolP256r1", file: with(crypto.SHA256, func(d []byte) []byte { return cmsSpec{signer: brainpoolID, digest: d}.build(t) }),
			want: verify.TotalPassed, alg: "ECDSA-SHA256"},
		{name: "brainpoolP256r1, plain ECDSA", file: with(crypto.SHA256, func(d []byte) []byte {
			return cmsSpec{signer: brainpoolID, digest: d, sigAlg: der(0x30, mustMarshal(oidECDSAPlainSHA256)), rawSig: plainSigner(t, bpKey)}.build(t)
		}), want: verify.TotalPassed, alg: "ECDSA-plain-SHA256"},
		{name: "brainpoolP256r1, signed by another key", file: with(crypto.SHA256, func(d []byte) []byte {
			other, _ := ecdsa.GenerateKey(brainpool.P256r1(), rand.Reader)
			return cmsSpec{signer: testpki.Identity{Cert: bpCert, Key: other, Chain: brainpoolID.Chain}, digest: d}.build(t)
		}), want: verify.TotalFailed, sub: verify.SigCryptoFailure},
		{name: "key on secp256k1", file: with(crypto.SHA256, func(d []byte) []byte {
			return cmsSpec{signer: testpki.Identity{Cert: k1Cert, Key: p.EC256.Key, Chain: []*x509.Certificate{k1Cert, p.Intermediate}}, digest: d}.build(t)
		}), want: verify.Indeterminate, sub: verify.CryptoConstraintsFailureNoPOE, reason: "secp256k1"},
		{name: "unknown signature algorithm", file: with(crypto.SHA256, func(d []byte) []byte {
			return cmsSpec{signer: p.RSA, digest: d, sigAlg: der(0x30, mustMarshal(asn1.ObjectIdentifier{1, 2, 3, 4, 5}))}.build(t)
		}), want: verify.Indeterminate, sub: verify.CryptoConstraintsFailureNoPOE, reason: "1.2.3.4.5"},
		{name: "unknown digest algorithm", file: with(crypto.SHA256, func(d []byte) []byte {
			return cmsSpec{signer: p.RSA, digest: d, digestAlg: der(0x30, mustMarshal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 8}))}.build(t)
		}), want: verify.Indeterminate, sub: verify.CryptoConstraintsFailureNoPOE, reason: "2.16.840.1.101.3.4.2.8"},
		{name: "negative serial number", file: with(crypto.SHA256, func(d []byte) []byte {
			return cmsSpec{signer: testpki.Identity{Cert: negCert, Key: p.EC256.Key, Chain: []*x509.Certificate{negCert, p.Intermediate}}, digest: d}.build(t)
		}), want: verify.TotalPassed, reason: "negative serial number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.file(t)
			rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), testPolicy())
			reasons := ""
			for _, s := range rep.Signatures {
				t.Logf("%s: %s/%s %s checks %+v reasons %q", s.ID, s.Indication, s.SubIndication, s.Algorithm, s.Checks, s.Reasons)
				reasons += strings.Join(append(s.Reasons, s.Warnings...), "\n") + "\n"
			}
			if rep.Error != "" {
				t.Fatalf("error: %s", rep.Error)
			}
			entries := tc.entries
			if entries == 0 {
				entries = 1
			}
			if len(rep.Signatures) != entries {
				t.Fatalf("%d report entries, want %d", len(rep.Signatures), entries)
			}
			s := rep.Signatures[0]
			if rep.Indication != tc.want || (tc.sub != "" && s.SubIndication != tc.sub) {
				t.Errorf("%s/%s, want %s/%s", rep.Indication, s.SubIndication, tc.want, tc.sub)
			}
			if !strings.Contains(reasons, tc.reason) {
				t.Errorf("reasons lack %q", tc.reason)
			}
			if tc.alg != "" && s.Algorithm != tc.alg {
				t.Errorf("algorithm %q, want %q", s.Algorithm, tc.alg)
			}
			if entries > 1 && !strings.HasSuffix(s.ID, "(signer 1 of 2)") {
				t.Errorf("ID %q does not say which signer", s.ID)
			}
		})
	}
}
