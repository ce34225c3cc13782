package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	p := testpki.New()
	when := time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name      string
		id        testpki.Identity
		hash      crypto.Hash
		time      *time.Time
		algorithm string
		level     Level
		weak      []string
		form      DigestInfoForm
	}{
		{"RSA-SHA256 PAdES", p.RSA, 0, nil, "RSA-SHA256", LevelPAdESBaseline, nil, DigestInfoWithNULL},
		{"RSA-SHA384 PAdES", p.RSA, crypto.SHA384, nil, "RSA-SHA384", LevelPAdESBaseline, nil, DigestInfoWithNULL},
		{"RSA-SHA512 CAdES", p.RSA, crypto.SHA512, &when, "RSA-SHA512", LevelCAdESBaseline, nil, DigestInfoWithNULL},
		{"ECDSA P-256 SHA256", p.EC256, crypto.SHA256, nil, "ECDSA-SHA256", LevelPAdESBaseline, nil, DigestInfoNotApplicable},
		{"ECDSA P-256 SHA512", p.EC256, crypto.SHA512, nil, "ECDSA-SHA512", LevelPAdESBaseline, nil, DigestInfoNotApplicable},
		{"ECDSA P-384 SHA384 CAdES", p.EC384, crypto.SHA384, &when, "ECDSA-SHA384", LevelCAdESBaseline, nil, DigestInfoNotApplicable},
		{"weak RSA-1024", p.WeakRSA, crypto.SHA256, nil, "RSA-SHA256", LevelPAdESBaseline, []string{"RSA-1024"}, DigestInfoWithNULL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := SignOptions{Hash: tc.hash, Signer: tc.id.Key, Certificate: tc.id.Cert, Chain: tc.id.Chain,
				SigningTime: tc.time, PAdES: tc.time == nil}
			der, err := SignDetachedReader(bytes.NewReader(content), opts)
			if err != nil {
				t.Fatalf("SignDetachedReader: %v", err)
			}
			sd := mustParse(t, der)
			if sd.BER || sd.TrailingZeros != 0 || !bytes.Equal(sd.Raw, der) {
				t.Errorf("BER=%v TrailingZeros=%d, Raw equal=%v", sd.BER, sd.TrailingZeros, bytes.Equal(sd.Raw, der))
			}
			if sd.Version != 1 || sd.SignerInfo.Version != 1 || !sd.ContentType.Equal(oidData) {
				t.Errorf("versions %d/%d, content type %v", sd.Version, sd.SignerInfo.Version, sd.ContentType)
			}
			if len(sd.Certificates) != 2 || sd.UnparsedCertificates != 0 {
				t.Errorf("certificates: %d parsed, %d not", len(sd.Certificates), sd.UnparsedCertificates)
			}
			si := sd.SignerInfo
			wantHash := tc.hash
			if wantHash == 0 {
				wantHash = crypto.SHA256
			}
			if si.DigestAlgorithm != wantHash || !si.HasSignedAttributes {
				t.Errorf("digest %v, signed attributes %v", si.DigestAlgorithm, si.HasSignedAttributes)
			}
			wantAttrs := 3
			if tc.time != nil {
				wantAttrs = 4
				if si.SigningTime == nil || !si.SigningTime.Equal(*tc.time) {
					t.Errorf("signing time %v, want %v", si.SigningTime, tc.time)
				}
			}
			if len(si.SignedAttributes) != wantAttrs || len(si.UnsignedAttributes) != 0 {
				t.Errorf("%d signed, %d unsigned attributes", len(si.SignedAttributes), len(si.UnsignedAttributes))
			}
			if si.SigningCertificateV2 == nil || len(si.SigningCertificateV2.Certs) != 1 || si.SigningCertificateV1 != nil {
				t.Fatalf("signing certificate attributes: v2 %+v, v1 %+v", si.SigningCertificateV2, si.SigningCertificateV1)
			}
			if id := si.SigningCertificateV2.Certs[0]; id.Hash != wantHash || id.IssuerSerial == nil {
				t.Errorf("ESSCertIDv2 hash %v, issuerSerial %v", id.Hash, id.IssuerSerial)
			}

			res := mustVerify(t, sd, content)
			if p := res.Problems(); p != nil {
				t.Fatalf("problems: %v (signature error %v)", p, res.SignatureErr)
			}
			if res.SignerCert != tc.id.Cert && !bytes.Equal(res.SignerCert.Raw, tc.id.Cert.Raw) {
				t.Errorf("signer %v", res.SignerCert.Subject)
			}
			if res.Algorithm != tc.algorithm || res.Level != tc.level || res.DigestInfoForm != tc.form {
				t.Errorf("algorithm %q level %q form %v, want %q %q %v", res.Algorithm, res.Level, res.DigestInfoForm, tc.algorithm, tc.level, tc.form)
			}
			if res.SigningCertificateRef != CertRefV2 || !res.SigningCertificateMatch || !res.ContentTypeOK {
				t.Errorf("ref %v match %v content type %v", res.SigningCertificateRef, res.SigningCertificateMatch, res.ContentTypeOK)
			}
			if !slices.Equal(res.Weak, tc.weak) {
				t.Errorf("weak %v, want %v", res.Weak, tc.weak)
			}

			// Other content: the digest no longer matches, the signature over the attributes still does.
			res = mustVerify(t, sd, append([]byte("x"), content...))
			if res.DigestOK || !res.SignatureOK {
				t.Errorf("other content: DigestOK %v SignatureOK %v", res.DigestOK, res.SignatureOK)
			}
		})
	}
}

func TestSignedAttributesShape(t *testing.T) {
	p := testpki.New()
	sd := mustParse(t, sign(t, p.RSA, crypto.SHA256))
	var got []string
	for _, a := range sd.SignerInfo.SignedAttributes {
		got = append(got, a.Type.String())
	}
	// DER order of the encoded attributes: the shorter contentType and messageDigest SEQUENCEs first.
	want := []string{oidAttrContentType.String(), oidAttrMessageDigest.String(), oidAttrSigningCertificateV2.String()}
	if !slices.Equal(got, want) {
		t.Errorf("signed attributes %v, want exactly %v", got, want)
	}
	if !bytes.Equal(sd.SignerInfo.MessageDigest, digest(crypto.SHA256, content)) {
		t.Error("messageDigest is not the content digest")
	}
	// The SHA-256 ESSCertIDv2 omits its DEFAULT hash algorithm, as DER requires.
	v2 := sd.SignerInfo.SigningCertificateV2.Certs[0]
	if !v2.Matches(p.RSA.Cert) || v2.Matches(p.EC256.Cert) {
		t.Error("ESSCertIDv2 does not identify exactly the signer certificate")
	}
	raw := sd.SignerInfo.SignedAttributes[2].Values[0]
	if bytes.Contains(raw, derAlgorithmIdentifier(oidSHA256, nil)) {
		t.Error("ESSCertIDv2 carries the DEFAULT sha256 AlgorithmIdentifier")
	}
	if sd.SignerInfo.SignatureAlgorithm != "rsaEncryption" {
		t.Errorf("signatureAlgorithm %s, want rsaEncryption", sd.SignerInfo.SignatureAlgorithm)
	}
}

func TestSignDetachedOptions(t *testing.T) {
	p := testpki.New()
	now := time.Now()
	d := digest(crypto.SHA256, content)
	tests := []struct {
		name   string
		digest []byte
		opts   SignOptions
		want   error
	}{
		{"PAdES with signing time", d, SignOptions{Signer: p.RSA.Key, Certificate: p.RSA.Cert, PAdES: true, SigningTime: &now}, ErrInvalidOptions},
		{"digest of the wrong size", d[:20], SignOptions{Signer: p.RSA.Key, Certificate: p.RSA.Cert}, ErrInvalidOptions},
		{"digest for another hash", d, SignOptions{Hash: crypto.SHA384, Signer: p.RSA.Key, Certificate: p.RSA.Cert}, ErrInvalidOptions},
		{"no signer", d, SignOptions{Certificate: p.RSA.Cert}, ErrInvalidOptions},
		{"no certificate", d, SignOptions{Signer: p.RSA.Key}, ErrInvalidOptions},
		{"key of another certificate", d, SignOptions{Signer: p.Attacker.Key, Certificate: p.RSA.Cert}, ErrKeyMismatch},
		{"SHA-1", d[:20], SignOptions{Hash: crypto.SHA1, Signer: p.RSA.Key, Certificate: p.RSA.Cert}, ErrUnsupportedAlgorithm},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := SignDetached(tc.digest, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// A Chain holding the signer certificate again, or nil entries, embeds each certificate once.
func TestSignDetachedDeduplicatesChain(t *testing.T) {
	p := testpki.New()
	der, err := SignDetached(digest(crypto.SHA256, content), SignOptions{Signer: p.EC256.Key, Certificate: p.EC256.Cert,
		Chain: append([]*x509.Certificate{nil}, append(p.EC256.Chain, p.EC256.Cert, p.Intermediate)...), PAdES: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(mustParse(t, der).Certificates); n != 2 {
		t.Errorf("%d certificates embedded, want 2", n)
	}
}

// A signer returning garbage (a faulty HSM) is caught before the signature leaves SignDetached.
func TestSignDetachedChecksSignerOutput(t *testing.T) {
	p := testpki.New()
	_, err := SignDetached(digest(crypto.SHA256, content), SignOptions{Signer: brokenSigner{p.RSA.Key}, Certificate: p.RSA.Cert})
	if err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Errorf("error %v, want a self-check failure", err)
	}
}

type brokenSigner struct{ crypto.Signer }

func (b brokenSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	sig, err := b.Signer.Sign(r, d, o)
	if err == nil {
		sig[len(sig)/2] ^= 1
	}
	return sig, err
}
