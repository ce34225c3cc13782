package cms

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/trustsign/trustsign/internal/testpki"
)

var stampedData = []byte("the signature value a time-stamp covers")

func TestTimeStampParseAndVerify(t *testing.T) {
	tsa := testTSA(t)
	imprint := digest(crypto.SHA256, stampedData)
	der := makeToken(t, token{tsa: tsa, imprint: imprint, nonce: big.NewInt(77)})
	ts, err := ParseTimeStamp(der)
	if err != nil {
		t.Fatalf("ParseTimeStamp: %v", err)
	}
	i := ts.Info
	want := time.Date(2026, 3, 1, 12, 0, 0, 500e6, time.UTC)
	if i.Version != 1 || !i.GenTime.Equal(want) || i.Accuracy != time.Second || i.Nonce.Int64() != 77 ||
		i.SerialNumber.Int64() != 4242 || i.HashAlgorithm != crypto.SHA256 || !bytes.Equal(i.HashedMessage, imprint) ||
		i.TSA == nil || i.TSA.CommonName != "Test TSA" || !i.Policy.Equal(asn1.ObjectIdentifier{1, 2, 3, 4, 1}) {
		t.Fatalf("TSTInfo = %+v", i)
	}
	cert, err := ts.Verify(imprint, crypto.SHA256)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !cert.Equal(tsa.Cert) {
		t.Fatal("Verify returned another certificate")
	}
}

// TestAttackTimeStamp: tokens that must not prove existence of the data.
func TestAttackTimeStamp(t *testing.T) {
	tsa := testTSA(t)
	imprint := digest(crypto.SHA256, stampedData)
	good := makeToken(t, token{tsa: tsa, imprint: imprint})
	p := testpki.New()
	tamperedTime := bytes.Replace(good, []byte("20260301120000.5Z"), []byte("20250301120000.5Z"), 1)
	if bytes.Equal(tamperedTime, good) {
		t.Fatal("genTime not found in token")
	}
	for _, tc := range []struct {
		name    string
		der     []byte
		imprint []byte
		hash    crypto.Hash
		want    error
	}{
		{"OtherData", good, digest(crypto.SHA256, []byte("other")), crypto.SHA256, ErrTimeStampImprint},
		{"OtherHash", good, imprint, crypto.SHA384, ErrTimeStampImprint},
		{"BackdatedGenTime", tamperedTime, imprint, crypto.SHA256, ErrTimeStampInvalid},
		{"SignerWithoutTimeStampingEKU", makeToken(t, token{tsa: p.EC256, imprint: imprint}), imprint, crypto.SHA256, ErrTimeStampSigner},
		{"NonCriticalEKU", makeToken(t, token{tsa: issueTSA(t, tsaEKU(t, false)), imprint: imprint}), imprint, crypto.SHA256, ErrTimeStampSigner},
		{"ExtraEKU", makeToken(t, token{tsa: issueTSA(t, tsaEKU(t, true, oidKPTimeStamping, asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 4})), imprint: imprint}), imprint, crypto.SHA256, ErrTimeStampSigner},
		{"ContentTypeAttributeData", makeToken(t, token{tsa: tsa, imprint: imprint, ctype: oidData}), imprint, crypto.SHA256, ErrTimeStampInvalid},
		{"NoSigningCertificate", makeToken(t, token{tsa: tsa, imprint: imprint, noCertV2: true}), imprint, crypto.SHA256, ErrTimeStampInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := ParseTimeStamp(tc.der)
			if err != nil {
				t.Fatalf("ParseTimeStamp: %v", err)
			}
			if _, err := ts.Verify(tc.imprint, tc.hash); !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseTimeStampRejects(t *testing.T) {
	tsa := testTSA(t)
	imprint := digest(crypto.SHA256, stampedData)
	for _, tc := range []struct {
		name string
		der  []byte
		want error
	}{
		{"PDFSignature", sign(t, testpki.New().RSA, crypto.SHA256), ErrNotTimeStamp},
		{"Version2", makeToken(t, token{tsa: tsa, imprint: imprint, version: 2}), ErrMalformed},
		{"Padded", append(makeToken(t, token{tsa: tsa, imprint: imprint}), 0, 0), ErrTrailingData},
		{"Garbage", []byte{0x30, 0x03, 0x02, 0x01}, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseTimeStamp(tc.der); !errors.Is(err, tc.want) {
				t.Fatalf("ParseTimeStamp = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestTimeStampDifferentialDigitorus: github.com/digitorus/timestamp reads our test tokens the same, and we read
// and accept the tokens it makes.
func TestTimeStampDifferentialDigitorus(t *testing.T) {
	tsa := testTSA(t)
	imprint := digest(crypto.SHA256, stampedData)
	t.Run("OursToDigitorus", func(t *testing.T) {
		der := makeToken(t, token{tsa: tsa, imprint: imprint, nonce: big.NewInt(5)})
		theirs, err := timestamp.Parse(der)
		if err != nil {
			t.Fatalf("digitorus Parse: %v", err)
		}
		ours, err := ParseTimeStamp(der)
		if err != nil {
			t.Fatal(err)
		}
		sameInfo(t, ours, theirs)
	})
	t.Run("DigitorusToOurs", func(t *testing.T) {
		for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512} {
			imp := digest(h, stampedData)
			req := timestamp.Timestamp{HashAlgorithm: h, HashedMessage: imp, Time: time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC),
				Accuracy: 1500 * time.Millisecond, Policy: asn1.ObjectIdentifier{1, 2, 3}, Nonce: big.NewInt(99), AddTSACertificate: true}
			resp, err := req.CreateResponseWithOpts(tsa.Cert, tsa.Key, crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := timestamp.ParseResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			ours, err := ParseTimeStamp(theirs.RawToken)
			if err != nil {
				t.Fatalf("ParseTimeStamp: %v", err)
			}
			sameInfo(t, ours, theirs)
			if _, err := ours.Verify(imp, h); err != nil {
				t.Fatalf("%v: Verify: %v", h, err)
			}
		}
	})
}

func sameInfo(t *testing.T, ours *TimeStamp, theirs *timestamp.Timestamp) {
	t.Helper()
	o := ours.Info
	if !o.GenTime.Equal(theirs.Time) || o.Accuracy != theirs.Accuracy || o.SerialNumber.Cmp(theirs.SerialNumber) != 0 ||
		!o.Policy.Equal(theirs.Policy) || o.Nonce.Cmp(theirs.Nonce) != 0 || o.HashAlgorithm != theirs.HashAlgorithm ||
		!bytes.Equal(o.HashedMessage, theirs.HashedMessage) || o.Ordering != theirs.Ordering {
		t.Fatalf("ours %+v\ntheirs %+v", o, theirs)
	}
}

// TestTimeStampInteropOpenSSL: tokens made by `openssl ts -reply` verify in ours, and `openssl ts -verify` accepts
// ours.
func TestTimeStampInteropOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not found on PATH: install it (Debian package openssl) to run the time-stamp interop test")
	}
	tsa := testTSA(t)
	p := testpki.New()
	dir := t.TempDir()
	key, err := testpki.KeyPEM(tsa.Key)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"tsa.pem":   testpki.CertsPEM(tsa.Cert),
		"tsa.key":   key,
		"chain.pem": testpki.CertsPEM(p.Intermediate),
		"root.pem":  testpki.CertsPEM(p.Root),
		"data":      stampedData,
		"serial":    []byte("01\n"),
		"tsa.cnf": []byte(`[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = ` + filepath.Join(dir, "serial") + `
signer_cert = ` + filepath.Join(dir, "tsa.pem") + `
certs = ` + filepath.Join(dir, "chain.pem") + `
signer_key = ` + filepath.Join(dir, "tsa.key") + `
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500
ess_cert_id_alg = sha256
ess_cert_id_chain = no
tsa_name = yes
`),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	t.Run("OpenSSLToOurs", func(t *testing.T) {
		for _, alg := range []struct {
			flag string
			hash crypto.Hash
		}{{"-sha256", crypto.SHA256}, {"-sha512", crypto.SHA512}} {
			run("ts", "-query", "-data", "data", alg.flag, "-cert", "-out", "req.tsq")
			run("ts", "-reply", "-config", "tsa.cnf", "-queryfile", "req.tsq", "-token_out", "-out", "token.der")
			der, err := os.ReadFile(filepath.Join(dir, "token.der"))
			if err != nil {
				t.Fatal(err)
			}
			ts, err := ParseTimeStamp(der)
			if err != nil {
				t.Fatalf("ParseTimeStamp: %v", err)
			}
			if ts.Info.Accuracy != 1500*time.Millisecond || ts.Info.Nonce == nil || ts.Info.TSA == nil {
				t.Fatalf("TSTInfo = %+v", ts.Info)
			}
			cert, err := ts.Verify(digest(alg.hash, stampedData), alg.hash)
			if err != nil || !cert.Equal(tsa.Cert) {
				t.Fatalf("Verify: %v", err)
			}
			theirs, err := timestamp.Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			sameInfo(t, ts, theirs)
		}
	})
	t.Run("OursToOpenSSL", func(t *testing.T) {
		der := makeToken(t, token{tsa: tsa, imprint: digest(crypto.SHA256, stampedData)})
		if err := os.WriteFile(filepath.Join(dir, "ours.der"), der, 0o600); err != nil {
			t.Fatal(err)
		}
		run("ts", "-verify", "-data", "data", "-in", "ours.der", "-token_in", "-CAfile", "root.pem", "-untrusted", "chain.pem")
	})
}

// FuzzParseTimeStamp: arbitrary bytes never panic ParseTimeStamp or Verify, and errors wrap the sentinels.
func FuzzParseTimeStamp(f *testing.F) {
	tsa := testTSA(f)
	good := makeToken(f, token{tsa: tsa, imprint: digest(crypto.SHA256, stampedData), nonce: big.NewInt(1)})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(sign(f, testpki.New().EC256, crypto.SHA256))
	sentinels := []error{ErrMalformed, ErrTooLarge, ErrTrailingData, ErrNotSignedData, ErrNoSignerInfo,
		ErrDuplicateAttribute, ErrNotTimeStamp}
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := ParseTimeStamp(data)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error wraps no sentinel: %v", err)
		}
		cert, err := ts.Verify(digest(crypto.SHA256, stampedData), crypto.SHA256)
		if err == nil && (cert == nil || checkTimeStampingEKU(cert) != nil) {
			t.Fatal("accepted without a TSA certificate")
		}
		if err != nil && !errors.Is(err, ErrTimeStampInvalid) && !errors.Is(err, ErrTimeStampSigner) && !errors.Is(err, ErrTimeStampImprint) {
			t.Fatalf("Verify error wraps no sentinel: %v", err)
		}
	})
}
