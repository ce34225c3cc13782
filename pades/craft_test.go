package pades_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

// This file crafts signed PDFs by hand for the attack tests: a document whose signature dictionary is written
// verbatim (with placeholders), a ByteRange chosen by the test, and a CMS computed over whatever the ByteRange
// says, written into whatever hex string the gap holds.

const (
	brPlaceholder       = "[BYTERANGE_PLACEHOLDER_PADDED_TO_SIXTY_FOUR_CHARACTERS_________]"
	contentsPlaceholder = "<CONTENTS>"
	contentsHexLen      = 16384
)

// craftedDoc builds a one-page document with signature field 7 whose value is signature dictionary 6, written as
// sigDict (which may use brPlaceholder and contentsPlaceholder), plus extra objects.
func craftedDoc(sigDict string, extra map[int]pdftest.Object) []byte {
	objs := pdftest.Simple(1, "Umowa: 100 PLN")
	objs[1] = pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [7 0 R] /SigFlags 3 >> >>")
	objs[4] = pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R /Annots [7 0 R] >>")
	fill := func(s string) string {
		return strings.ReplaceAll(s, contentsPlaceholder, "<"+strings.Repeat("0", contentsHexLen)+">")
	}
	objs[6] = pdftest.Dict(fill(sigDict))
	objs[7] = pdftest.Dict("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Podpis) /V 6 0 R /Rect [0 0 0 0] /F 132 /P 4 0 R >>")
	for n, o := range extra {
		o.Body = fill(o.Body)
		objs[n] = o
	}
	return pdftest.Build(objs, 1, pdftest.Options{})
}

// standardSigDict is a well-formed signature dictionary with both placeholders.
const standardSigDict = "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange " + brPlaceholder +
	" /Contents " + contentsPlaceholder + " /Name (ANNA TESTOWA) >>"

// contentsSpan returns the position of the first zero-filled hex placeholder (the /Contents string) in b.
func contentsSpan(t testing.TB, b []byte) (start, end int64) {
	t.Helper()
	i := bytes.Index(b, []byte("<"+string(bytes.Repeat([]byte("0"), contentsHexLen))+">"))
	if i < 0 {
		t.Fatal("no /Contents placeholder")
	}
	return int64(i), int64(i + contentsHexLen + 2)
}

// seal fills the ByteRange placeholder with br (when present) and signs the ranges of br with id, writing the
// CMS into the zero-filled hex string at [gapStart, gapEnd) — normally the /Contents placeholder.
func seal(t testing.TB, b []byte, br []int64, gapStart int64, id testpki.Identity) []byte {
	t.Helper()
	out := bytes.Clone(b)
	if i := bytes.Index(out, []byte(brPlaceholder)); i >= 0 {
		s := "["
		for j, v := range br {
			if j > 0 {
				s += " "
			}
			s += strconv.FormatInt(v, 10)
		}
		s += "]"
		if len(s) > len(brPlaceholder) {
			t.Fatal("ByteRange too long")
		}
		copy(out[i:], s+string(bytes.Repeat([]byte(" "), len(brPlaceholder)-len(s))))
	}
	h := sha256.New()
	for i := 0; i+1 < len(br); i += 2 {
		s, n := br[i], br[i+1]
		if s < 0 || n < 0 || s+n > int64(len(out)) {
			continue
		}
		h.Write(out[s : s+n])
	}
	der, err := cms.SignDetached(h.Sum(nil), cms.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain, PAdES: true})
	if err != nil {
		t.Fatal(err)
	}
	if gapStart >= 0 {
		hex.Encode(out[gapStart+1:], der)
	}
	return out
}

// standardRange is [0 a b c] around the /Contents placeholder.
func standardRange(t testing.TB, b []byte) []int64 {
	s, e := contentsSpan(t, b)
	return []int64{0, s, e, int64(len(b)) - e}
}

// replaceCMS puts der into the /Contents of the last signature of a signed PDF (zero-padded).
func replaceCMS(t testing.TB, b []byte, der []byte) []byte {
	t.Helper()
	res := verifyBytes(t, b)
	s := res.Signatures[len(res.Signatures)-1]
	br := s.ByteRange
	hexLen := int(br[2]-br[1]) - 2
	if 2*len(der) > hexLen {
		t.Fatalf("CMS of %d bytes does not fit", len(der))
	}
	out := bytes.Clone(b)
	enc := make([]byte, hexLen)
	for i := range enc {
		enc[i] = '0'
	}
	hex.Encode(enc, der)
	copy(out[br[1]+1:], enc)
	return out
}

// rangeDigest hashes the last signature's ByteRange of b.
func rangeDigest(t testing.TB, b []byte, h crypto.Hash) []byte {
	t.Helper()
	res := verifyBytes(t, b)
	br := res.Signatures[len(res.Signatures)-1].ByteRange
	w := h.New()
	w.Write(b[br[0] : br[0]+br[1]])
	w.Write(b[br[2] : br[2]+br[3]])
	return w.Sum(nil)
}

// cmsSpec describes a hand-made CMS SignedData, for CMS defects the cms package would never produce.
type cmsSpec struct {
	signer      testpki.Identity    // key that signs and certificate the sid names
	certs       []*x509.Certificate // embedded certificates (nil: the signer's chain; empty: none)
	noCerts     bool
	hash        crypto.Hash
	digest      []byte   // the messageDigest value
	attrs       [][]byte // signed attributes; nil means contentType, messageDigest, signingCertificateV2(signer)
	copies      int      // number of SignerInfos (default 1)
	essCert     *x509.Certificate
	corruptSig  bool
	contentType asn1.ObjectIdentifier
	sigAlg      []byte                          // signatureAlgorithm (nil: rsaEncryption or ecdsa-with-SHA256)
	rawSig      func(hashed []byte) []byte      // makes the signature value instead of the signer's Sign
	signMessage func(signedAttrs []byte) []byte // makes the signature value over the signed attributes (EdDSA)
	digestAlg   []byte                          // digestAlgorithm (nil: the hash's OID)
	eContent    []byte                          // encapsulated content (nil: detached)
	coSigners   []testpki.Identity              // further SignerInfos over the same digest, one per identity
	coSigMutate func(i int, sig []byte)         // changes co-signer i's signature value after signing
}

var (
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidRSA           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
)

func der(tag byte, parts ...[]byte) []byte {
	var c []byte
	for _, p := range parts {
		c = append(c, p...)
	}
	out := []byte{tag}
	switch n := len(c); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, c...)
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func attr(oid asn1.ObjectIdentifier, value []byte) []byte {
	return der(0x30, mustMarshal(oid), der(0x31, value))
}

func essCertV2(c *x509.Certificate) []byte {
	h := sha256.Sum256(c.Raw)
	return attr(oidSigningCertV2, der(0x30, der(0x30, der(0x30, der(0x04, h[:])))))
}

func (s cmsSpec) build(t testing.TB) []byte {
	t.Helper()
	si, digestAlg := s.signerInfo(t)
	copies := s.copies
	if copies == 0 {
		copies = 1
	}
	var sis []byte
	for i := 0; i < copies; i++ {
		sis = append(sis, si...)
	}
	certs := s.certs
	if certs == nil && !s.noCerts {
		certs = s.signer.Chain
	}
	for i, co := range s.coSigners {
		spec := s
		spec.signer, spec.essCert, spec.rawSig, spec.signMessage, spec.sigAlg, spec.corruptSig = co, nil, nil, nil, nil, false
		coSI, _ := spec.signerInfo(t)
		if s.coSigMutate != nil {
			var r struct {
				Version   int
				SID       asn1.RawValue
				Digest    asn1.RawValue
				Attrs     asn1.RawValue `asn1:"optional,tag:0"`
				SigAlg    asn1.RawValue
				Signature []byte
			}
			if _, err := asn1.Unmarshal(coSI, &r); err != nil {
				t.Fatal(err)
			}
			i0 := bytes.Index(coSI, r.Signature)
			s.coSigMutate(i, coSI[i0:i0+len(r.Signature)])
		}
		sis = append(sis, coSI...)
		certs = append(certs, co.Cert)
	}
	var certBytes []byte
	for _, c := range certs {
		certBytes = append(certBytes, c.Raw...)
	}
	eci := der(0x30, mustMarshal(oidData))
	if s.eContent != nil {
		eci = der(0x30, mustMarshal(oidData), der(0xA0, der(0x04, s.eContent)))
	}
	parts := [][]byte{mustMarshal(1), der(0x31, digestAlg), eci}
	if len(certBytes) > 0 {
		parts = append(parts, der(0xA0, certBytes))
	}
	parts = append(parts, der(0x31, sis))
	return der(0x30, mustMarshal(oidSignedData), der(0xA0, der(0x30, parts...)))
}

// signerInfo encodes the SignerInfo of s and returns it with its digest AlgorithmIdentifier.
func (s cmsSpec) signerInfo(t testing.TB) (si, digestAlg []byte) {
	t.Helper()
	hash := s.hash
	if hash == 0 {
		hash = crypto.SHA256
	}
	digestOID := oidSHA256
	if hash == crypto.SHA1 {
		digestOID = oidSHA1
	}
	attrs := s.attrs
	if attrs == nil {
		ct := s.contentType
		if ct == nil {
			ct = oidData
		}
		ess := s.essCert
		if ess == nil {
			ess = s.signer.Cert
		}
		attrs = [][]byte{attr(oidContentType, mustMarshal(ct)), attr(oidMessageDigest, der(0x04, s.digest)), essCertV2(ess)}
	}
	var content []byte
	for _, a := range attrs {
		content = append(content, a...)
	}
	h := hash.New()
	h.Write(der(0x31, content))
	var sig []byte
	if s.signMessage != nil {
		sig = s.signMessage(der(0x31, content))
	} else if s.rawSig != nil {
		sig = s.rawSig(h.Sum(nil))
	} else {
		var err error
		if sig, err = s.signer.Key.Sign(rand.Reader, h.Sum(nil), hash); err != nil {
			t.Fatal(err)
		}
	}
	if s.corruptSig {
		sig[len(sig)/2] ^= 1
	}
	sigAlg := s.sigAlg
	if sigAlg == nil {
		sigAlg = der(0x30, mustMarshal(oidRSA), []byte{0x05, 0x00})
		if _, ok := s.signer.Key.Public().(*ecdsa.PublicKey); ok {
			sigAlg = der(0x30, mustMarshal(oidECDSASHA256))
		}
	}
	digestAlg = s.digestAlg
	if digestAlg == nil {
		digestAlg = der(0x30, mustMarshal(digestOID))
	}
	serial := mustMarshal(new(big.Int).Set(s.signer.Cert.SerialNumber))
	si = der(0x30, mustMarshal(1), der(0x30, s.signer.Cert.RawIssuer, serial), digestAlg,
		der(0xA0, content), sigAlg, der(0x04, sig))
	return si, digestAlg
}

// hiddenObject returns a stream whose data carries the text of another indirect object, for attacks that later
// point the cross-reference table into the signed bytes.
func hiddenObject(num int, body string) pdftest.Object {
	return pdftest.StreamObj("<< >>", []byte(fmt.Sprintf("%% padding\n%d 0 obj\n%s\nendobj\n", num, body)))
}

// offsetOf returns the offset of the last "num 0 obj" in b.
func offsetOf(t testing.TB, b []byte, num int) int64 {
	t.Helper()
	m := regexp.MustCompile(fmt.Sprintf(`(?m)^%d 0 obj`, num)).FindAllIndex(b, -1)
	if len(m) == 0 {
		t.Fatalf("object %d not found", num)
	}
	return int64(m[len(m)-1][0])
}

// appendRawUpdate appends body and a classic cross-reference section listing the given objects at the given
// absolute file offsets, with /Prev set to the file's last section.
func appendRawUpdate(t testing.TB, b []byte, body []byte, offsets map[int]int64, extraTrailer string) []byte {
	t.Helper()
	out := append(bytes.Clone(b), body...)
	xref := len(out)
	prev := pdftest.LastStartXref(b)
	size := 0
	if m := regexp.MustCompile(`/Size (\d+)`).FindAllSubmatch(b, -1); len(m) > 0 {
		size, _ = strconv.Atoi(string(m[len(m)-1][1]))
	}
	root := regexp.MustCompile(`/Root (\d+ \d+ R)`).FindAllSubmatch(b, -1)
	var buf bytes.Buffer
	buf.WriteString("xref\n")
	for n, off := range offsets {
		fmt.Fprintf(&buf, "%d 1\n%010d 00000 n\r\n", n, off)
		if n+1 > size {
			size = n + 1
		}
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root %s /Prev %d %s >>\nstartxref\n%d\n%%%%EOF\n", size, root[len(root)-1][1], prev, extraTrailer, xref)
	return append(out, buf.Bytes()...)
}
