package xades_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// signedInfoDigest is the SHA-256 digest of signature sigID's SignedInfo, canonicalized in context.
func signedInfoDigest(t testing.TB, doc, sigID string) []byte {
	t.Helper()
	d := parseDoc(t, doc)
	si := findSignature(t, d, sigID).Child(xades.NSDSig, "SignedInfo")
	h := crypto.SHA256.New()
	h.Write(xmldoc.AppendCanonical(nil, xmldoc.Subset{Doc: d, Apex: si, Comments: true}, xmldoc.Method{Exclusive: true}))
	return h.Sum(nil)
}

// setSignatureValue replaces the SignatureValue of signature sigID.
func setSignatureValue(t testing.TB, doc, sigID string, value []byte) string {
	t.Helper()
	sv := between(t, doc, `<ds:SignatureValue Id="`+sigID+`-sigvalue">`, `</ds:SignatureValue>`)
	return replaceOne(t, doc, sv, `<ds:SignatureValue Id="`+sigID+`-sigvalue">`+base64.StdEncoding.EncodeToString(value)+`</ds:SignatureValue>`)
}

// shortECDSA signs digest with a P-256 key until both r and s (or its equivalent n-s) fit in 31 bytes, as the
// Java signers' bug writes them: r||s with both halves one byte short (62 bytes instead of 64).
func shortECDSA(t testing.TB, key *ecdsa.PrivateKey, digest []byte) (r, s *big.Int) {
	t.Helper()
	n := key.Curve.Params().N
	for range 1 << 21 {
		r, s, err := ecdsa.Sign(rand.Reader, key, digest)
		if err != nil {
			t.Fatal(err)
		}
		if r.BitLen() > 248 {
			continue
		}
		if s.BitLen() > 248 {
			s = new(big.Int).Sub(n, s) // (r, n-s) is the same signature's other form
		}
		if s.BitLen() <= 248 {
			return r, s
		}
	}
	t.Fatal("no short ECDSA signature found")
	return nil, nil
}

func TestECDSAShortSignatureValue(t *testing.T) {
	p := testpki.New()
	doc := signWith(t, attackDoc, p.EC256, xades.SignOptions{})
	id := sigIDs(t, doc)[0]
	r, s := shortECDSA(t, p.EC256.Key.(*ecdsa.PrivateKey), signedInfoDigest(t, doc, id))
	half := func(x *big.Int, size int) []byte { return x.FillBytes(make([]byte, size)) }
	concat := func(a, b []byte) []byte { return append(append([]byte{}, a...), b...) }

	t.Run("both halves one byte short: accepted with a warning", func(t *testing.T) {
		short := setSignatureValue(t, doc, id, concat(half(r, 31), half(s, 31)))
		res, err := xades.Verify([]byte(short), xades.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sr := res.Signatures[0]
		if !sr.SignatureValid || len(sr.Warnings) != 1 || !strings.Contains(sr.Warnings[0], "62 bytes") {
			t.Errorf("valid %v (%s), warnings %q", sr.SignatureValid, sr.SignatureDetail, sr.Warnings)
		}
		checkSignature(t, verify.XML("short.xml", []byte(short), trusting(), verify.XMLOptions{}).Signatures[0], passed)
		t.Run("peers accept it too", func(t *testing.T) {
			interoptest.Tool(t)
			root, inter := interopPKI(t)
			file := writeFile(t, filepath.Join(t.TempDir(), "short.xml"), []byte(short))
			for _, peer := range []string{"xmlsec", "santuario"} {
				if ok, out := interoptest.Verify(t, peer, file, root, inter); !ok {
					t.Errorf("%s rejects the short value:\n%s", peer, out)
				}
			}
		})
	})
	t.Run("full size: no warning", func(t *testing.T) {
		full := setSignatureValue(t, doc, id, concat(half(r, 32), half(s, 32)))
		res, err := xades.Verify([]byte(full), xades.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if sr := res.Signatures[0]; !sr.SignatureValid || len(sr.Warnings) != 0 {
			t.Errorf("valid %v, warnings %q", sr.SignatureValid, sr.Warnings)
		}
	})
	for _, tc := range []struct {
		name  string
		value []byte
	}{
		{"halves of unequal length (63 bytes)", concat(half(r, 32), half(s, 31))},
		{"halves longer than the curve (66 bytes)", concat(half(r, 33), half(s, 33))},
		{"short halves swapped", concat(half(s, 31), half(r, 31))},
		{"one half only (31 bytes)", half(r, 31)},
		{"empty", nil},
	} {
		t.Run(tc.name+": fails", func(t *testing.T) {
			bad := setSignatureValue(t, doc, id, tc.value)
			res, err := xades.Verify([]byte(bad), xades.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sr := res.Signatures[0]; sr.SignatureValid || len(sr.Warnings) != 0 {
				t.Errorf("valid %v, warnings %q", sr.SignatureValid, sr.Warnings)
			}
		})
	}
}
