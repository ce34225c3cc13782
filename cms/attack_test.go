package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"math/big"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
)

// CMS defects (../shared/spec/attacks.md) that Parse must reject outright.
func TestParseRejects(t *testing.T) {
	p := testpki.New()
	good := sign(t, p.RSA, crypto.SHA256)
	deep := bytes.Repeat([]byte{0x30, 0x80}, 10000) // 10000 nested indefinite-length SEQUENCEs
	tests := []struct {
		name string
		der  []byte
		want error
	}{
		{"more SignerInfos than the limit", forged{id: p.RSA, copies: maxSignerInfos + 1}.build(t), ErrTooLarge},
		{"no SignerInfo", forged{id: p.RSA, copies: -1}.build(t), ErrNoSignerInfo},
		{"not SignedData", derTLV(tagSequence, derOID(oidData), derTLV(tagContext0, derTLV(tagOctetString, content))), ErrNotSignedData},
		{"duplicate messageDigest", forged{id: p.RSA, attrs: [][]byte{
			derAttribute(oidAttrContentType, derOID(oidData)),
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, digest(crypto.SHA256, content))),
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, digest(crypto.SHA256, []byte("other")))),
		}}.build(t), ErrDuplicateAttribute},
		{"two messageDigest values", forged{id: p.RSA, attrs: [][]byte{
			derAttribute(oidAttrContentType, derOID(oidData)),
			derTLV(tagSequence, derOID(oidAttrMessageDigest), derSetOf(tagSet, [][]byte{
				derTLV(tagOctetString, digest(crypto.SHA256, content)),
				derTLV(tagOctetString, digest(crypto.SHA256, []byte("other")))})),
		}}.build(t), ErrDuplicateAttribute},
		{"trailing garbage", append(bytes.Clone(good), 0, 0, 'x'), ErrTrailingData},
		{"second object appended", append(bytes.Clone(good), good...), ErrTrailingData},
		{"truncated", good[:len(good)-1], ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"zeros only", make([]byte, 64), ErrMalformed},
		{"length beyond input", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06, 0x09}, ErrMalformed},
		{"length field of 9 octets", []byte{0x30, 0x89, 1, 0, 0, 0, 0, 0, 0, 0, 0}, ErrTooLarge},
		{"reserved length octet", []byte{0x30, 0xff, 0}, ErrMalformed},
		{"indefinite length primitive", []byte{0x04, 0x80, 0, 0}, ErrMalformed},
		{"inner length beyond its parent", []byte{0x30, 0x04, 0x06, 0x7f, 0x2a, 0x03}, ErrMalformed},
		{"deep nesting", deep, ErrTooLarge},
		{"input over MaxInputSize", append(bytes.Clone(good), make([]byte, MaxInputSize)...), ErrTooLarge},
		{"high tag number", []byte{0x1f, 0x81, 0x00, 0x00}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := Parse(tc.der)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Parse: %v, want %v", err, tc.want)
			}
			if sd != nil {
				t.Error("Parse returned a SignedData with an error")
			}
		})
	}
}

// Every proper prefix of a signature is rejected: definite lengths make truncation visible everywhere.
func TestParseRejectsEveryTruncation(t *testing.T) {
	good := sign(t, testpki.New().EC256, crypto.SHA256)
	for n := range len(good) {
		if _, err := Parse(good[:n]); err == nil {
			t.Fatalf("prefix of %d/%d bytes parsed", n, len(good))
		}
	}
}

// CMS defects Parse accepts (they are well-formed) and Verify must report as facts.
func TestVerifyAttacks(t *testing.T) {
	p := testpki.New()
	forgedCert := forgeCert(t, p.RSA.Cert, p.Attacker.Key)
	sha256Hash := digest(crypto.SHA256, content)
	tests := []struct {
		name  string
		der   []byte
		check func(t *testing.T, r *Result)
	}{
		{"no messageDigest", forged{id: p.RSA, attrs: [][]byte{
			derAttribute(oidAttrContentType, derOID(oidData)),
			derAttribute(oidAttrSigningCertificateV2, derSigningCertificateV2(p.RSA.Cert, crypto.SHA256)),
		}}.build(t), func(t *testing.T, r *Result) {
			want(t, "DigestOK", r.DigestOK, false)
			want(t, "SignatureOK", r.SignatureOK, true) // the signer did sign these attributes
			want(t, "Level is PKCS7", r.Level == LevelPKCS7, true)
		}},
		{"messageDigest of other content", forged{id: p.RSA, attrs: [][]byte{
			derAttribute(oidAttrContentType, derOID(oidData)),
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, digest(crypto.SHA256, []byte("other")))),
		}}.build(t), func(t *testing.T, r *Result) {
			want(t, "DigestOK", r.DigestOK, false)
			want(t, "SignatureOK", r.SignatureOK, true)
		}},
		{"wrong contentType attribute", forged{id: p.RSA, attrs: [][]byte{
			derAttribute(oidAttrContentType, derOID(oidSignedData)),
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, sha256Hash)),
		}}.build(t), func(t *testing.T, r *Result) {
			want(t, "ContentTypeOK", r.ContentTypeOK, false)
			want(t, "DigestOK", r.DigestOK, true)
		}},
		{"no contentType attribute", forged{id: p.RSA, attrs: [][]byte{
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, sha256Hash)),
		}}.build(t), func(t *testing.T, r *Result) {
			want(t, "ContentTypeOK", r.ContentTypeOK, false)
		}},
		{"missing certificates", forged{id: p.RSA, noCerts: true}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignerCert found", r.SignerCert != nil, false)
			want(t, "SignatureOK", r.SignatureOK, false)
			wantErr(t, r.SignatureErr, ErrNoSigningCertificate)
			want(t, "SigningCertificateMatch", r.SigningCertificateMatch, false)
		}},
		{"only the intermediate embedded", forged{id: p.RSA, certs: [][]byte{p.Intermediate.Raw}}.build(t), func(t *testing.T, r *Result) {
			wantErr(t, r.SignatureErr, ErrNoSigningCertificate)
		}},
		{"signingCertificateV2 names the attacker", forged{id: p.RSA, attrs: [][]byte{
			derAttribute(oidAttrContentType, derOID(oidData)),
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, sha256Hash)),
			derAttribute(oidAttrSigningCertificateV2, derSigningCertificateV2(p.Attacker.Cert, crypto.SHA256)),
		}}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignatureOK", r.SignatureOK, true)
			want(t, "SigningCertificateRef v2", r.SigningCertificateRef == CertRefV2, true)
			want(t, "SigningCertificateMatch", r.SigningCertificateMatch, false)
			want(t, "Problems", len(r.Problems()) == 1, true)
		}},
		{"signingCertificateV2 names the same-subject certificate", forged{id: p.RSA, attrs: [][]byte{
			derAttribute(oidAttrContentType, derOID(oidData)),
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, sha256Hash)),
			derAttribute(oidAttrSigningCertificateV2, derSigningCertificateV2(p.RSASameSubject.Cert, crypto.SHA256)),
		}}.build(t), func(t *testing.T, r *Result) {
			want(t, "SigningCertificateMatch", r.SigningCertificateMatch, false)
		}},
		{"attacker certificate substituted in certificates", forged{id: p.RSA, certs: [][]byte{p.Attacker.Cert.Raw, p.Intermediate.Raw}}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignerCert found", r.SignerCert != nil, false)
			wantErr(t, r.SignatureErr, ErrNoSigningCertificate)
		}},
		{"forged certificate with the signer's issuer and serial", forged{id: p.RSA, certs: [][]byte{forgedCert.Raw, p.Intermediate.Raw}}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignerCert is the forgery", r.SignerCert != nil && bytes.Equal(r.SignerCert.Raw, forgedCert.Raw), true)
			want(t, "SignatureOK", r.SignatureOK, false)
			wantErr(t, r.SignatureErr, ErrSignatureInvalid)
			want(t, "SigningCertificateMatch", r.SigningCertificateMatch, false)
		}},
		{"attacker re-signs with a forged certificate", forged{id: p.RSA, signKey: p.Attacker.Key, certs: [][]byte{forgedCert.Raw}}.build(t), func(t *testing.T, r *Result) {
			// The signature verifies with the forged key, but the signed reference names the genuine certificate;
			// the chain check (verify package) rejects the forgery as well.
			want(t, "SignatureOK", r.SignatureOK, true)
			want(t, "SigningCertificateMatch", r.SigningCertificateMatch, false)
		}},
		{"genuine and forged certificate both embedded", forged{id: p.RSA, certs: [][]byte{p.RSA.Cert.Raw, forgedCert.Raw}}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignerCert found", r.SignerCert != nil, false)
			wantErr(t, r.SignatureErr, ErrAmbiguousSigner)
		}},
		{"signer certificate embedded twice", forged{id: p.RSA, certs: [][]byte{p.RSA.Cert.Raw, p.RSA.Cert.Raw}}.build(t), func(t *testing.T, r *Result) {
			want(t, "no problems", r.Problems() == nil, true)
		}},
		{"RSA signature bit flip", forged{id: p.RSA, mutate: func(s []byte) { s[len(s)/2] ^= 0x10 }}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignatureOK", r.SignatureOK, false)
			wantErr(t, r.SignatureErr, ErrSignatureInvalid)
			want(t, "DigestOK", r.DigestOK, true)
		}},
		{"ECDSA signature bit flip", forged{id: p.EC256, mutate: func(s []byte) { s[len(s)-3] ^= 0x01 }}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignatureOK", r.SignatureOK, false)
			wantErr(t, r.SignatureErr, ErrSignatureInvalid)
		}},
		{"DigestInfo naming SHA-1 around a SHA-256 hash", forged{id: p.RSA, rawSig: func(h []byte) []byte {
			return rawRSASign(t, p.RSA.Key, digestInfo(oidSHA1, derNull, h))
		}}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignatureOK", r.SignatureOK, false)
			wantErr(t, r.SignatureErr, ErrSignatureInvalid)
		}},
		{"DigestInfo with extra parameters", forged{id: p.RSA, rawSig: func(h []byte) []byte {
			return rawRSASign(t, p.RSA.Key, digestInfo(oidSHA256, derTLV(tagOctetString, nil), h))
		}}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignatureOK", r.SignatureOK, false)
		}},
		{"DigestInfo without NULL (trusted-profile seals)", forged{id: p.RSA, rawSig: func(h []byte) []byte {
			return rawRSASign(t, p.RSA.Key, digestInfo(oidSHA256, nil, h))
		}}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignatureOK", r.SignatureOK, true)
			want(t, "form without NULL", r.DigestInfoForm == DigestInfoWithoutNULL, true)
		}},
		{"sha1WithRSAEncryption with a SHA-256 digest algorithm", forged{id: p.RSA, sigAlg: derAlgorithmIdentifier(oidSHA1WithRSA, derNull)}.build(t), func(t *testing.T, r *Result) {
			want(t, "SignatureOK", r.SignatureOK, false)
			wantErr(t, r.SignatureErr, ErrAlgorithmMismatch)
		}},
		{"ECDSA algorithm with an RSA key", forged{id: p.RSA, sigAlg: derAlgorithmIdentifier(oidECDSAWithSHA256, nil)}.build(t), func(t *testing.T, r *Result) {
			wantErr(t, r.SignatureErr, ErrAlgorithmMismatch)
		}},
		{"RSA algorithm with an ECDSA key", forged{id: p.EC256, sigAlg: derAlgorithmIdentifier(oidRSAEncryption, derNull)}.build(t), func(t *testing.T, r *Result) {
			wantErr(t, r.SignatureErr, ErrAlgorithmMismatch)
		}},
		{"unknown signature algorithm", forged{id: p.RSA, sigAlg: derAlgorithmIdentifier([]int{1, 2, 3, 4}, nil)}.build(t), func(t *testing.T, r *Result) {
			wantErr(t, r.SignatureErr, ErrUnsupportedAlgorithm)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, mustVerify(t, mustParse(t, tc.der), content))
		})
	}
}

// Legacy and less common shapes that must verify.
func TestVerifyAccepts(t *testing.T) {
	p := testpki.New()
	rsaKey := p.RSA.Key.(*rsa.PrivateKey)
	tests := []struct {
		name      string
		der       []byte
		algorithm string
		level     Level
	}{
		{"sha256WithRSAEncryption as signatureAlgorithm", forged{id: p.RSA, sigAlg: derAlgorithmIdentifier(oidSHA256WithRSA, derNull)}.build(t), "RSA-SHA256", LevelPAdESBaseline},
		{"sha384WithRSAEncryption without NULL", forged{id: p.RSA, hash: crypto.SHA384, sigAlg: derAlgorithmIdentifier(oidSHA384WithRSA, nil)}.build(t), "RSA-SHA384", LevelPAdESBaseline},
		{"id-ecPublicKey as signatureAlgorithm", forged{id: p.EC384, hash: crypto.SHA384, sigAlg: derAlgorithmIdentifier(oidECPublicKey, nil)}.build(t), "ECDSA-SHA384", LevelPAdESBaseline},
		{"no signed attributes, RSA", forged{id: p.RSA, noAttrs: true}.build(t), "RSA-SHA256", LevelPKCS7},
		{"no signed attributes, ECDSA", forged{id: p.EC256, noAttrs: true}.build(t), "ECDSA-SHA256", LevelPKCS7},
		{"signed attributes not in DER order (original bytes are what is verified)", forged{id: p.RSA, unsorted: true, attrs: [][]byte{
			derAttribute(oidAttrSigningCertificateV2, derSigningCertificateV2(p.RSA.Cert, crypto.SHA256)),
			derAttribute(oidAttrMessageDigest, derTLV(tagOctetString, digest(crypto.SHA256, content))),
			derAttribute(oidAttrContentType, derOID(oidData)),
		}}.build(t), "RSA-SHA256", LevelPAdESBaseline},
		{"RSASSA-PSS SHA-256", forged{id: p.RSA, sigAlg: pssAlgorithm(crypto.SHA256, 32), rawSig: func(h []byte) []byte {
			s, err := rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA256, h, &rsa.PSSOptions{SaltLength: 32})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}}.build(t), "RSA-PSS-SHA256", LevelPAdESBaseline},
		{"RSASSA-PSS SHA-512", forged{id: p.RSA, hash: crypto.SHA512, sigAlg: pssAlgorithm(crypto.SHA512, 64), rawSig: func(h []byte) []byte {
			s, err := rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA512, h, &rsa.PSSOptions{SaltLength: 64})
			if err != nil {
				t.Fatal(err)
			}
			return s
		}}.build(t), "RSA-PSS-SHA512", LevelPAdESBaseline},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := mustVerify(t, mustParse(t, tc.der), content)
			if pr := r.Problems(); pr != nil {
				t.Fatalf("problems %v (%v)", pr, r.SignatureErr)
			}
			if r.Algorithm != tc.algorithm || r.Level != tc.level {
				t.Errorf("algorithm %q level %q, want %q %q", r.Algorithm, r.Level, tc.algorithm, tc.level)
			}
		})
	}
}

// A PSS signature whose parameters name another hash than the digest algorithm is a mismatch, not a pass.
func TestVerifyPSSHashMismatch(t *testing.T) {
	p := testpki.New()
	der := forged{id: p.RSA, sigAlg: pssAlgorithm(crypto.SHA512, 32), rawSig: func(h []byte) []byte {
		s, _ := rsa.SignPSS(rand.Reader, p.RSA.Key.(*rsa.PrivateKey), crypto.SHA256, h, &rsa.PSSOptions{SaltLength: 32})
		return s
	}}.build(t)
	r := mustVerify(t, mustParse(t, der), content)
	wantErr(t, r.SignatureErr, ErrAlgorithmMismatch)
}

// Zero padding after the object (the unused /Contents placeholder) is accepted and counted.
func TestParseTrailingZeros(t *testing.T) {
	good := sign(t, testpki.New().EC256, crypto.SHA256)
	sd := mustParse(t, append(bytes.Clone(good), make([]byte, 5000)...))
	if sd.TrailingZeros != 5000 || !bytes.Equal(sd.Raw, good) {
		t.Errorf("TrailingZeros %d, Raw equal %v", sd.TrailingZeros, bytes.Equal(sd.Raw, good))
	}
	if r := mustVerify(t, sd, content); r.Problems() != nil {
		t.Errorf("problems %v", r.Problems())
	}
}

// Indefinite-length BER, as some signers write the outer layers, parses and verifies; the signed attributes are
// verified over their original content octets.
func TestParseBER(t *testing.T) {
	p := testpki.New()
	for _, id := range []testpki.Identity{p.RSA, p.EC384} {
		der := sign(t, id, crypto.SHA384)
		ber := toIndefinite(t, der, 6)
		if bytes.Equal(ber, der) {
			t.Fatal("conversion changed nothing")
		}
		sd := mustParse(t, append(ber, 0, 0, 0))
		if !sd.BER || sd.TrailingZeros != 3 {
			t.Errorf("BER %v TrailingZeros %d", sd.BER, sd.TrailingZeros)
		}
		if r := mustVerify(t, sd, content); r.Problems() != nil {
			t.Errorf("problems %v (%v)", r.Problems(), r.SignatureErr)
		}
	}
}

// The caller's buffer is copied: changing it after Parse changes nothing.
func TestParseDoesNotAlias(t *testing.T) {
	der := sign(t, testpki.New().EC256, crypto.SHA256)
	sd := mustParse(t, der)
	for i := range der {
		der[i] = 0
	}
	if r := mustVerify(t, sd, content); r.Problems() != nil {
		t.Errorf("problems after clearing the input: %v", r.Problems())
	}
}

// The content digest callback is asked for the SignerInfo's hash, and its failures are Verify's errors.
func TestVerifyCallback(t *testing.T) {
	sd := mustParse(t, sign(t, testpki.New().EC384, crypto.SHA384))
	var asked []crypto.Hash
	_, err := sd.Verify(func(h crypto.Hash) ([]byte, error) {
		asked = append(asked, h)
		return nil, errors.New("disk on fire")
	})
	if err == nil || len(asked) != 1 || asked[0] != crypto.SHA384 {
		t.Errorf("err %v, asked %v", err, asked)
	}
	if _, err := sd.Verify(func(crypto.Hash) ([]byte, error) { return make([]byte, 32), nil }); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("short digest: %v, want ErrInvalidOptions", err)
	}
	d, err := DigestReader(bytes.NewReader(content), crypto.SHA384)
	if err != nil {
		t.Fatal(err)
	}
	r, err := sd.Verify(func(crypto.Hash) ([]byte, error) { return d, nil })
	if err != nil || r.Problems() != nil {
		t.Errorf("precomputed digest: %v %v", err, r.Problems())
	}
}

func want(t *testing.T, what string, got, want bool) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func wantErr(t *testing.T, got, want error) {
	t.Helper()
	if !errors.Is(got, want) {
		t.Errorf("SignatureErr = %v, want %v", got, want)
	}
}

// pssAlgorithm encodes an RSASSA-PSS AlgorithmIdentifier with MGF1 over the same hash.
func pssAlgorithm(h crypto.Hash, salt int) []byte {
	hashAlg := derAlgorithmIdentifier(oidForHash(h), nil)
	params := derTLV(tagSequence,
		derTLV(tagContext0, hashAlg),
		derTLV(tagContext1, derAlgorithmIdentifier(oidMGF1, hashAlg)),
		derTLV(tagContext0+2, derInt(bigInt(salt))))
	return derAlgorithmIdentifier(oidRSAPSS, params)
}

// withEContent rewrites der's encapContentInfo to carry content.
func withEContent(t *testing.T, der []byte) []byte {
	t.Helper()
	empty := derTLV(tagSequence, derOID(oidData))
	full := derTLV(tagSequence, derOID(oidData), derTLV(tagContext0, derTLV(tagOctetString, content)))
	i := bytes.Index(der, empty)
	if i < 0 {
		t.Fatal("encapContentInfo not found")
	}
	var r reader
	ci, _, _ := r.read(der, 0)
	ciF, _ := r.children(ci, 0)
	wrap, _ := r.children(ciF[1], 1)
	sdF, _ := r.children(wrap[0], 2)
	var parts [][]byte
	for j, f := range sdF {
		if j == 2 {
			parts = append(parts, full)
			continue
		}
		parts = append(parts, f.full)
	}
	return derTLV(tagSequence, derOID(oidSignedData), derTLV(tagContext0, derTLV(tagSequence, parts...)))
}

// toIndefinite re-encodes the constructed values of der with indefinite lengths down to maxLevel, except the
// certificates themselves (x509 reads DER only). The signed attributes get an indefinite-length [0] around their
// original DER attributes, which Verify must turn back into the DER SET OF the signer hashed.
func toIndefinite(t *testing.T, der []byte, maxLevel int) []byte {
	t.Helper()
	var r reader
	var conv func(e element, level int, parent byte) []byte
	conv = func(e element, level int, parent byte) []byte {
		if !e.constructed() || level >= maxLevel || parent == tagContext0 && level == 4 {
			return e.full
		}
		kids, err := r.children(e, level)
		if err != nil {
			t.Fatal(err)
		}
		out := []byte{e.tag, 0x80}
		for _, k := range kids {
			if e.tag == tagContext0 && level == 5 { // signedAttrs: keep each attribute as signed
				out = append(out, k.full...)
				continue
			}
			out = append(out, conv(k, level+1, e.tag)...)
		}
		return append(out, 0, 0)
	}
	e, _, err := r.read(der, 0)
	if err != nil {
		t.Fatal(err)
	}
	return conv(e, 0, 0)
}

func bigInt(n int) *big.Int { return big.NewInt(int64(n)) }
