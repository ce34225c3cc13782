package xades_test

// Attack tests: one table-driven test per XML attack class of ../shared/spec/attacks.md. Every crafted input starts
// from a genuine signature made by xades.Sign with the test PKI and is then modified as text; where an attack needs a
// signature that still verifies, the test re-computes digests and the SignatureValue itself (canonicalizing in
// context with xmldoc, exactly as a verifier does). The verdict is checked through verify.XML: indication,
// sub-indication, and a reason a person can act on.

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// attackDoc is the document signed by most attack tests. The application reads /wniosek/kwota and
// /wniosek/odbiorca; the comment inside odbiorca is not part of the signed data (URI="" excludes comments).
const attackDoc = `<?xml version="1.0" encoding="UTF-8"?>
<wniosek xmlns="urn:example:wniosek"><kwota Id="amount" waluta="PLN">100.00</kwota><odbiorca>Jan <!--nazwisko-->Kowalski</odbiorca><opis>Zażółć gęślą jaźń</opis></wniosek>
`

const (
	uriSHA1        = "http://www.w3.org/2000/09/xmldsig#sha1"
	uriSHA256      = "http://www.w3.org/2001/04/xmlenc#sha256"
	uriMD5         = "http://www.w3.org/2001/04/xmldsig-more#md5"
	uriRSASHA256   = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	uriRSASHA1     = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	uriRSAMD5      = "http://www.w3.org/2001/04/xmldsig-more#rsa-md5"
	uriHMACSHA256  = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"
	uriHMACSHA1    = "http://www.w3.org/2000/09/xmldsig#hmac-sha1"
	uriECDSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
)

var testProfile = &xades.Profile{FirstName: "ANNA", Surname: "KOWALSKA", PESEL: "44051401359", ProfileID: "123456789",
	Login: "akowalska"}

// trusting is the policy of most tests: the test root is trusted and the intermediate is known.
func trusting() *verify.Policy {
	p := testpki.New()
	return &verify.Policy{Roots: []*x509.Certificate{p.Root}, Intermediates: []*x509.Certificate{p.Intermediate}}
}

// signingTime is a fixed claimed signing time inside the validity of every testpki certificate.
var signingTime = time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)

// signWith signs doc with id (enveloped unless opts say otherwise) and returns the signed document as text.
func signWith(t testing.TB, doc string, id testpki.Identity, opts xades.SignOptions) string {
	t.Helper()
	opts.Signer, opts.Certificate = id.Key, id.Cert
	if opts.SigningTime.IsZero() {
		opts.SigningTime = signingTime
	}
	out, err := xades.Sign([]byte(doc), opts)
	if err != nil {
		t.Fatalf("xades.Sign: %v", err)
	}
	return string(out)
}

// signedEnveloped is attackDoc signed enveloped by the RSA signer with a profile binding.
func signedEnveloped(t testing.TB) string {
	return signWith(t, attackDoc, testpki.New().RSA, xades.SignOptions{Profile: testProfile})
}

// signedEnveloping is attackDoc signed enveloping by the RSA signer.
func signedEnveloping(t testing.TB) string {
	return signWith(t, attackDoc, testpki.New().RSA, xades.SignOptions{Format: xades.Enveloping})
}

func parseDoc(t testing.TB, doc string) *xmldoc.Document {
	t.Helper()
	d, err := xmldoc.ParseString(doc, xmldoc.Limits{})
	if err != nil {
		t.Fatalf("crafted document does not parse: %v\n%s", err, doc)
	}
	return d
}

// signatures returns the ds:Signature elements of doc that are not inside another signature.
func signatures(d *xmldoc.Document) []*xmldoc.Node {
	var out []*xmldoc.Node
	if d.Root.Is(xades.NSDSig, "Signature") {
		return []*xmldoc.Node{d.Root}
	}
	d.Root.Descendants(func(n *xmldoc.Node) bool {
		if n.Is(xades.NSDSig, "Signature") {
			out = append(out, n)
			return false
		}
		return true
	})
	return out
}

// sigIDs returns the Ids of the top-level signatures of doc, in document order.
func sigIDs(t testing.TB, doc string) []string {
	t.Helper()
	var ids []string
	for _, s := range signatures(parseDoc(t, doc)) {
		id, _ := s.Attr("Id")
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		t.Fatal("no signature in the document")
	}
	return ids
}

// findSignature returns the ds:Signature element with the Id (searching nested ones too).
func findSignature(t testing.TB, d *xmldoc.Document, id string) *xmldoc.Node {
	t.Helper()
	for _, n := range d.ByID(id) {
		if n.Is(xades.NSDSig, "Signature") {
			return n
		}
	}
	t.Fatalf("no ds:Signature with Id %q", id)
	return nil
}

// replaceOne replaces the only occurrence of old in s; it fails the test when old occurs zero or several times.
func replaceOne(t testing.TB, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("crafting: %q occurs %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// between returns the text from the first occurrence of start up to and including the first end after it.
func between(t testing.TB, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("crafting: %q not found", start)
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		t.Fatalf("crafting: %q not found after %q", end, start)
	}
	return s[i : i+j+len(end)]
}

// setContent replaces the character content of element n (which must not be empty) in doc.
func setContent(t testing.TB, doc string, n *xmldoc.Node, content string) string {
	t.Helper()
	if n.Inner < 0 {
		t.Fatalf("crafting: <%s> is an empty-element tag", n.Local)
	}
	open := n.Start + strings.IndexByte(doc[n.Start:], '>') + 1
	return doc[:open] + content + doc[n.Inner:]
}

// hashOfURI maps the hash named at the end of a DigestMethod or SignatureMethod URI ("...#rsa-sha256",
// "...#sha1") to a crypto.Hash.
func hashOfURI(t testing.TB, uri string) crypto.Hash {
	t.Helper()
	name := uri[strings.LastIndexAny(uri, "#-")+1:]
	switch name {
	case "md5":
		return crypto.MD5
	case "sha1":
		return crypto.SHA1
	case "sha224":
		return crypto.SHA224
	case "sha256":
		return crypto.SHA256
	case "sha384":
		return crypto.SHA384
	case "sha512":
		return crypto.SHA512
	}
	t.Fatalf("crafting: no hash in %q", uri)
	return 0
}

// referenceDigest computes what a verifier computes for a same-document Reference of the signature: URI="" is the
// whole document minus every ds:Signature (enveloped, XPath Filter 2.0 subtract and the ancestor-or-self XPath
// all amount to that here), URI="#id" the element's subtree without comments, URI="#xpointer(id('id'))" with
// comments; canonicalized with the last C14N Transform, inclusive C14N 1.0 when there is none.
func referenceDigest(t testing.TB, d *xmldoc.Document, ref *xmldoc.Node) []byte {
	t.Helper()
	uri, _ := ref.Attr("URI")
	var set xmldoc.Subset
	switch {
	case uri == "":
		set = xmldoc.Subset{Doc: d, Exclude: signatures(d)}
	case strings.HasPrefix(uri, "#xpointer(id('") && strings.HasSuffix(uri, "'))"):
		id := strings.TrimSuffix(strings.TrimPrefix(uri, "#xpointer(id('"), "'))")
		set = xmldoc.Subset{Doc: d, Apex: d.ByID(id)[0], Comments: true}
	case strings.HasPrefix(uri, "#"):
		targets := d.ByID(uri[1:])
		if len(targets) == 0 {
			t.Fatalf("crafting: no element with Id %q", uri[1:])
		}
		set = xmldoc.Subset{Doc: d, Apex: targets[0]}
	default:
		t.Fatalf("crafting: cannot compute the digest of external reference %q", uri)
	}
	m := xmldoc.Method{}
	if ts := ref.Child(xades.NSDSig, "Transforms"); ts != nil {
		for _, tr := range ts.Children(xades.NSDSig, "Transform") {
			alg, _ := tr.Attr("Algorithm")
			if cm, ok := xmldoc.MethodFor(alg); ok {
				m = cm
			}
		}
	}
	dm := ref.Child(xades.NSDSig, "DigestMethod")
	alg, _ := dm.Attr("Algorithm")
	h := hashOfURI(t, alg).New()
	h.Write(xmldoc.AppendCanonical(nil, set, m))
	return h.Sum(nil)
}

// setDigest sets the DigestValue of reference i (0-based) of signature sigID to digest, or to the digest a verifier
// computes when digest is nil.
func setDigest(t testing.TB, doc, sigID string, i int, digest []byte) string {
	t.Helper()
	d := parseDoc(t, doc)
	refs := findSignature(t, d, sigID).Child(xades.NSDSig, "SignedInfo").Children(xades.NSDSig, "Reference")
	if i >= len(refs) {
		t.Fatalf("crafting: signature %s has %d references", sigID, len(refs))
	}
	if digest == nil {
		digest = referenceDigest(t, d, refs[i])
	}
	return setContent(t, doc, refs[i].Child(xades.NSDSig, "DigestValue"), base64.StdEncoding.EncodeToString(digest))
}

// resign recomputes the SignatureValue of signature sigID over its SignedInfo, canonicalized in context with its
// CanonicalizationMethod, using the SignatureMethod it names: key is a crypto.Signer for RSA (PKCS#1 v1.5) and
// ECDSA (r||s), or a []byte secret for HMAC.
func resign(t testing.TB, doc, sigID string, key any) string {
	t.Helper()
	d := parseDoc(t, doc)
	sig := findSignature(t, d, sigID)
	si := sig.Child(xades.NSDSig, "SignedInfo")
	cmURI, _ := si.Child(xades.NSDSig, "CanonicalizationMethod").Attr("Algorithm")
	m, ok := xmldoc.MethodFor(cmURI)
	if !ok {
		t.Fatalf("crafting: canonicalization %q", cmURI)
	}
	smURI, _ := si.Child(xades.NSDSig, "SignatureMethod").Attr("Algorithm")
	h := hashOfURI(t, smURI)
	c14n := xmldoc.AppendCanonical(nil, xmldoc.Subset{Doc: d, Apex: si, Comments: true}, m)
	var value []byte
	switch k := key.(type) {
	case []byte:
		mac := hmac.New(h.New, k)
		mac.Write(c14n)
		value = mac.Sum(nil)
	case crypto.Signer:
		hw := h.New()
		hw.Write(c14n)
		value = rawSign(t, k, h, hw.Sum(nil))
	default:
		t.Fatalf("crafting: key of type %T", key)
	}
	return setContent(t, doc, sig.Child(xades.NSDSig, "SignatureValue"), base64.StdEncoding.EncodeToString(value))
}

// rawSign signs a digest in XMLDSig form: PKCS#1 v1.5 for RSA, r||s for ECDSA.
func rawSign(t testing.TB, key crypto.Signer, h crypto.Hash, digest []byte) []byte {
	t.Helper()
	if k, ok := key.(*ecdsa.PrivateKey); ok {
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			t.Fatal(err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	}
	sig, err := key.Sign(rand.Reader, digest, h)
	if err != nil {
		t.Fatalf("crafting: signing with %v: %v", h, err)
	}
	return sig
}

// insertBeforeRootEnd inserts text just before the document element's end tag.
func insertBeforeRootEnd(t testing.TB, doc, text string) string {
	t.Helper()
	d := parseDoc(t, doc)
	if d.Root.Inner < 0 {
		t.Fatal("crafting: empty root")
	}
	return doc[:d.Root.Inner] + text + doc[d.Root.Inner:]
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// x509Data is a KeyInfo X509Data holding the certificates in order.
func x509Data(certs ...*x509.Certificate) string {
	var b strings.Builder
	b.WriteString(`<ds:X509Data>`)
	for _, c := range certs {
		b.WriteString(`<ds:X509Certificate>` + b64(c.Raw) + `</ds:X509Certificate>`)
	}
	b.WriteString(`</ds:X509Data>`)
	return b.String()
}

// plainSignature is a hand-made XMLDSig signature (no XAdES properties) with the given Id, SignatureMethod,
// references (ds:Reference elements, DigestValue to be set with setDigest) and KeyInfo content. The ds prefix is
// declared on the signature. SignatureValue and DigestValues are placeholders.
func plainSignature(id, sigMethod, refs, keyInfo string) string {
	ki := ""
	if keyInfo != "" {
		ki = `<ds:KeyInfo>` + keyInfo + `</ds:KeyInfo>`
	}
	return `<ds:Signature xmlns:ds="` + xades.NSDSig + `" Id="` + id + `"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="` +
		xmldoc.ExcC14N + `"/><ds:SignatureMethod Algorithm="` + sigMethod + `"/>` + refs +
		`</ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue>` + ki + `</ds:Signature>`
}

// reference is a ds:Reference with a placeholder digest.
func reference(attrs, transforms, digestMethod string) string {
	tr := ""
	if transforms != "" {
		tr = `<ds:Transforms>` + transforms + `</ds:Transforms>`
	}
	return `<ds:Reference ` + attrs + `>` + tr + `<ds:DigestMethod Algorithm="` + digestMethod +
		`"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference>`
}

func transform(alg string) string { return `<ds:Transform Algorithm="` + alg + `"/>` }

// finish sets every digest of signature sigID (same-document references only) and signs it with key.
func finish(t testing.TB, doc, sigID string, key any) string {
	t.Helper()
	n := len(findSignature(t, parseDoc(t, doc), sigID).Child(xades.NSDSig, "SignedInfo").Children(xades.NSDSig, "Reference"))
	for i := range n {
		doc = setDigest(t, doc, sigID, i, nil)
	}
	return resign(t, doc, sigID, key)
}

// want is an expected verdict: indication, sub-indication ("" accepts any) and words that must appear in one of
// the reasons (case-insensitive).
type want struct {
	ind    verify.Indication
	sub    verify.SubIndication
	reason string
}

var passed = want{ind: verify.TotalPassed}

func (w want) String() string { return fmt.Sprintf("%s/%s (reason ~ %q)", w.ind, w.sub, w.reason) }

// check verifies doc with verify.XML and compares the first signature's verdict (or the file-level error verdict)
// with w. It returns the report for further checks.
func check(t testing.TB, doc string, p *verify.Policy, o verify.XMLOptions, w want) verify.FileReport {
	t.Helper()
	return checkNth(t, doc, p, o, 0, w)
}

// checkNth is check for the signature with index i.
func checkNth(t testing.TB, doc string, p *verify.Policy, o verify.XMLOptions, i int, w want) verify.FileReport {
	t.Helper()
	rep := verify.XML("attack.xml", []byte(doc), p, o)
	if len(rep.Signatures) <= i {
		t.Fatalf("%d signature reports, want at least %d (file indication %s, error %q)", len(rep.Signatures), i+1,
			rep.Indication, rep.Error)
	}
	checkSignature(t, rep.Signatures[i], w)
	if w.ind != verify.TotalPassed && rep.Indication == verify.TotalPassed {
		t.Errorf("file indication TOTAL_PASSED for an attack")
	}
	return rep
}

func checkSignature(t testing.TB, s verify.SignatureReport, w want) {
	t.Helper()
	t.Logf("%s/%s %q", s.Indication, s.SubIndication, s.Reasons)
	ok := s.Indication == w.ind && (w.sub == "" || s.SubIndication == w.sub)
	if w.reason != "" {
		found := false
		for _, r := range s.Reasons {
			if strings.Contains(strings.ToLower(r), strings.ToLower(w.reason)) {
				found = true
			}
		}
		ok = ok && found
	}
	if w.ind == verify.TotalPassed && len(s.Reasons) > 0 {
		ok = false
	}
	if !ok {
		t.Errorf("got %s/%s, want %s\nreasons: %q\nchecks: %+v\ncovered: %q", s.Indication, s.SubIndication, w,
			s.Reasons, s.Checks, s.Covered)
	}
}

// attackCase is one crafted input and its expected verdict.
type attackCase struct {
	name  string
	craft func(t *testing.T) string
	want  want
	opts  verify.XMLOptions
	// sig is the index of the signature whose verdict is checked (the attacked one).
	sig int
	// then, when set, makes further checks on the report.
	then func(t *testing.T, rep verify.FileReport)
}

func runAttacks(t *testing.T, cases []attackCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.craft(t)
			rep := checkNth(t, doc, trusting(), tc.opts, tc.sig, tc.want)
			if tc.then != nil && !t.Failed() {
				tc.then(t, rep)
			}
		})
	}
}

// The untouched signatures pass: the baseline every attack below departs from.
func TestAttackBaseline(t *testing.T) {
	runAttacks(t, []attackCase{
		{name: "enveloped", craft: func(t *testing.T) string { return signedEnveloped(t) }, want: passed, then: func(t *testing.T, rep verify.FileReport) {
			s := rep.Signatures[0]
			if s.TrustedProfile == nil || s.TrustedProfile.PESEL != testProfile.PESEL {
				t.Errorf("trusted profile %+v", s.TrustedProfile)
			}
			if s.Signer == nil || s.Signer.Serial != testpki.New().RSA.Cert.SerialNumber.String() {
				t.Errorf("signer %+v", s.Signer)
			}
		}},
		{name: "enveloping", craft: func(t *testing.T) string { return signedEnveloping(t) }, want: passed},
		{name: "hand-made Id reference", craft: func(t *testing.T) string { return idReferenceSigned(t) }, want: passed},
		{name: "hand-made KeyValue XMLDSig checked by the test's own crafting", craft: func(t *testing.T) string {
			return keyValueSigned(t, testpki.New().RSA.Key)
		}, want: want{verify.Indeterminate, verify.NoSigningCertificateFound, "KeyValue"}},
	})
}

// idReferenceSigned is attackDoc with a hand-made XMLDSig signature (RSA signer, certificate in KeyInfo) whose only
// reference is URI="#amount": the signature covers the kwota element alone, as SAML-style signatures do.
func idReferenceSigned(t testing.TB) string {
	p := testpki.New()
	sig := plainSignature("idref", uriRSASHA256,
		reference(`URI="#amount"`, transform(xmldoc.ExcC14N), uriSHA256), x509Data(p.RSA.Cert))
	return finish(t, insertBeforeRootEnd(t, attackDoc, sig), "idref", p.RSA.Key)
}

// commentsSigned is attackDoc with a hand-made XMLDSig signature (RSA signer) whose only reference, with the given
// URI attribute, is canonicalized by exclusive C14N with comments.
func commentsSigned(t testing.TB, uriAttr string) string {
	p := testpki.New()
	sig := plainSignature("comments", uriRSASHA256,
		reference(uriAttr, transform(xmldoc.ExcC14NComments), uriSHA256), x509Data(p.RSA.Cert))
	return finish(t, insertBeforeRootEnd(t, attackDoc, sig), "comments", p.RSA.Key)
}

// keyValueSigned is attackDoc with an enveloped XMLDSig signature by key whose KeyInfo holds only the RSAKeyValue of
// the RSA signer's public key.
func keyValueSigned(t testing.TB, key crypto.Signer) string {
	pub := testpki.New().RSA.Cert.PublicKey.(*rsa.PublicKey)
	kv := `<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>` + b64(pub.N.Bytes()) + `</ds:Modulus><ds:Exponent>` +
		b64(big.NewInt(int64(pub.E)).Bytes()) + `</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>`
	sig := plainSignature("kv", uriRSASHA256,
		reference(`URI=""`, transform(xades.TransformEnveloped)+transform(xmldoc.ExcC14N), uriSHA256), kv)
	return finish(t, insertBeforeRootEnd(t, attackDoc, sig), "kv", key)
}

// Signature wrapping: the signed data moved and a fake put where the application reads.
func TestAttackSignatureWrapping(t *testing.T) {
	const fakeAmount = `<kwota waluta="PLN">999999.00</kwota>`
	const genuineAmount = `<kwota Id="amount" waluta="PLN">100.00</kwota>`
	notFound := want{verify.Indeterminate, verify.SignedDataNotFound, "signature wrapping"}
	runAttacks(t, []attackCase{
		{name: "enveloped: signed element moved into a ds:Object of the signature, fake in its place", craft: func(t *testing.T) string {
			doc := replaceOne(t, signedEnveloped(t), genuineAmount, fakeAmount)
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object>`+genuineAmount+`</ds:Object></ds:Signature>`)
		}, want: want{verify.TotalFailed, verify.HashFailure, "does not match"}},
		{name: "enveloped: signed element moved into another element, fake in its place", craft: func(t *testing.T) string {
			doc := replaceOne(t, signedEnveloped(t), genuineAmount, fakeAmount)
			return replaceOne(t, doc, `<ds:Signature `, `<ukryte>`+genuineAmount+`</ukryte><ds:Signature `)
		}, want: want{verify.TotalFailed, verify.HashFailure, "does not match"}},
		{name: "enveloping: signed ds:Object re-nested in a wrapper inside another ds:Object, fake Object added", craft: func(t *testing.T) string {
			doc := signedEnveloping(t)
			id := sigIDs(t, doc)[0]
			obj := between(t, doc, `<ds:Object Id="`+id+`-object">`, `</wniosek></ds:Object>`)
			fake := strings.Replace(strings.Replace(obj, "100.00", "999999.00", 1), `Id="`+id+`-object"`, `Id="evil"`, 1)
			doc = replaceOne(t, doc, obj, fake)
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object><wrapper>`+obj+`</wrapper></ds:Object></ds:Signature>`)
		}, want: notFound},
		{name: "enveloping: signed ds:Object moved out of the signature under a new root", craft: func(t *testing.T) string {
			doc := signedEnveloping(t)
			id := sigIDs(t, doc)[0]
			obj := between(t, doc, `<ds:Object Id="`+id+`-object">`, `</wniosek></ds:Object>`)
			doc = replaceOne(t, doc, obj, `<ds:Object Id="evil">`+strings.Replace(attackDoc[strings.Index(attackDoc, "<wniosek"):], "100.00", "999999.00", 1)+`</ds:Object>`)
			body := doc[strings.Index(doc, "<ds:Signature"):]
			return `<koperta xmlns:ds="` + xades.NSDSig + `">` + strings.TrimSpace(body) + obj + `</koperta>`
		}, want: notFound},
		{name: "enveloping: signed ds:Object moved under a bogus ds:Signature inside another ds:Object, fake Object added", craft: func(t *testing.T) string {
			doc := signedEnveloping(t)
			id := sigIDs(t, doc)[0]
			obj := between(t, doc, `<ds:Object Id="`+id+`-object">`, `</wniosek></ds:Object>`)
			fake := strings.Replace(strings.Replace(obj, "100.00", "999999.00", 1), `Id="`+id+`-object"`, `Id="evil"`, 1)
			doc = replaceOne(t, doc, obj, fake)
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object><ds:Signature>`+obj+`</ds:Signature></ds:Object></ds:Signature>`)
		}, want: notFound},
		{name: "enveloping: signed ds:Object moved into a co-signature", craft: func(t *testing.T) string {
			doc := signedEnveloping(t)
			id := sigIDs(t, doc)[0]
			obj := between(t, doc, `<ds:Object Id="`+id+`-object">`, `</wniosek></ds:Object>`)
			fake := strings.Replace(strings.Replace(obj, "100.00", "999999.00", 1), `Id="`+id+`-object"`, `Id="evil"`, 1)
			doc = replaceOne(t, doc, obj, fake)
			other := signWith(t, attackDoc, testpki.New().EC256, xades.SignOptions{Format: xades.Enveloping})
			other = other[strings.Index(other, "<ds:Signature"):]
			other = strings.TrimSpace(strings.Replace(other, `</ds:Signature>`, obj+`</ds:Signature>`, 1))
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object>`+other+`</ds:Object></ds:Signature>`)
		}, want: notFound},
		{name: "signature whose only reference is its own SignedProperties (covers no data)", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			id := sigIDs(t, doc)[0]
			doc = replaceOne(t, doc, between(t, doc, `<ds:Reference Id="`+id+`-ref0"`, `</ds:Reference>`), "")
			return resign(t, doc, id, testpki.New().RSA.Key)
		}, want: want{verify.Indeterminate, verify.SignedDataNotFound, "no data"}},
		{name: "enveloping: signed ds:Object nested directly in another ds:Object", craft: func(t *testing.T) string {
			doc := signedEnveloping(t)
			id := sigIDs(t, doc)[0]
			obj := between(t, doc, `<ds:Object Id="`+id+`-object">`, `</wniosek></ds:Object>`)
			doc = replaceOne(t, doc, obj, "")
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object>`+obj+`</ds:Object></ds:Signature>`)
		}, want: notFound},
	})
}

// With a reference by Id, moving the signed element elsewhere keeps the signature valid: what the verifier must do
// is say exactly where the signed element is, so that an application reading another element can tell. The fake
// element at the application's place is never reported as covered.
func TestAttackWrappingReportsWhatWasSigned(t *testing.T) {
	const fakeAmount = `<kwota waluta="PLN">999999.00</kwota>`
	const genuineAmount = `<kwota Id="amount" waluta="PLN">100.00</kwota>`
	for _, tc := range []struct {
		name, where string
		move        func(t *testing.T, doc string) string
	}{
		{"moved into a ds:Object of the signature", "/wniosek/ds:Signature/ds:Object/kwota", func(t *testing.T, doc string) string {
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object>`+genuineAmount+`</ds:Object></ds:Signature>`)
		}},
		{"moved into another element", "/wniosek/archiwum/kwota", func(t *testing.T, doc string) string {
			return replaceOne(t, doc, `<odbiorca>`, `<archiwum>`+genuineAmount+`</archiwum><odbiorca>`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := replaceOne(t, idReferenceSigned(t), genuineAmount, fakeAmount)
			doc = tc.move(t, doc)
			rep := verify.XML("wrapped.xml", []byte(doc), trusting(), verify.XMLOptions{})
			s := rep.Signatures[0]
			if s.Checks.Digests != verify.Passed || s.Checks.SignatureValue != verify.Passed {
				t.Fatalf("the moved element is still the signed one: checks %+v, reasons %q", s.Checks, s.Reasons)
			}
			if len(s.Covered) != 1 || !strings.Contains(s.Covered[0], tc.where) {
				t.Errorf("covered = %q, want exactly the element at %s", s.Covered, tc.where)
			}
			for _, c := range s.Covered {
				if strings.Contains(c, "/wniosek/kwota") {
					t.Errorf("covered names the application's (fake) element: %q", c)
				}
			}
		})
	}
}

// References resolving by Id to one of several elements with the same Id.
func TestAttackDuplicateIDs(t *testing.T) {
	ambiguous := want{verify.TotalFailed, verify.FormatFailure, "ambiguous"}
	runAttacks(t, []attackCase{
		{name: "enveloping: fake ds:Object with the signed Object's Id placed first", craft: func(t *testing.T) string {
			doc := signedEnveloping(t)
			id := sigIDs(t, doc)[0]
			return replaceOne(t, doc, `<ds:Object Id="`+id+`-object">`,
				`<ds:Object Id="`+id+`-object"><wniosek xmlns="urn:example:wniosek"><kwota>999999.00</kwota></wniosek></ds:Object><ds:Object Id="`+id+`-object">`)
		}, want: ambiguous},
		{name: "enveloped: copy of SignedProperties with the same Id in a second ds:Object", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			sp := between(t, doc, `<xades:SignedProperties `, `</xades:SignedProperties>`)
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object><xades:QualifyingProperties xmlns:xades="`+xades.NSXAdES+`">`+sp+`</xades:QualifyingProperties></ds:Object></ds:Signature>`)
		}, want: ambiguous},
		{name: "Id reference: fake element with the same Id where the application reads, genuine moved away", craft: func(t *testing.T) string {
			doc := idReferenceSigned(t)
			genuine := `<kwota Id="amount" waluta="PLN">100.00</kwota>`
			doc = replaceOne(t, doc, genuine, `<kwota Id="amount" waluta="PLN">999999.00</kwota>`)
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object>`+genuine+`</ds:Object></ds:Signature>`)
		}, want: ambiguous},
		{name: "Id reference: genuine element kept, fake with the same Id appended", craft: func(t *testing.T) string {
			return replaceOne(t, idReferenceSigned(t), `<opis>`, `<kwota Id="amount" waluta="PLN">999999.00</kwota><opis>`)
		}, want: want{verify.TotalFailed, "", "ambiguous"}},
		{name: "the whole signature duplicated (same Ids) elsewhere in the document", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			sig := between(t, doc, `<ds:Signature `, `</ds:Signature>`)
			return replaceOne(t, doc, `<opis>`, `<kopia>`+sig+`</kopia><opis>`)
		}, want: want{verify.TotalFailed, "", "ambiguous"}},
	})
}

// Id in unusual attributes: ID, id and xml:id count as Ids (so a decoy carrying one makes the reference ambiguous);
// a namespaced attribute named Id does not (so it can neither capture nor stand in for the reference).
func TestAttackIDInUnusualAttributes(t *testing.T) {
	decoy := func(attr string) func(t *testing.T) string {
		return func(t *testing.T) string {
			doc := signedEnveloping(t)
			id := sigIDs(t, doc)[0]
			return replaceOne(t, doc, `<ds:Object Id="`+id+`-object">`,
				`<ds:Object `+strings.ReplaceAll(attr, "@", id+"-object")+`><wniosek xmlns="urn:example:wniosek"><kwota>999999.00</kwota></wniosek></ds:Object><ds:Object Id="`+id+`-object">`)
		}
	}
	ambiguous := want{verify.TotalFailed, verify.FormatFailure, "ambiguous"}
	runAttacks(t, []attackCase{
		{name: "decoy with ID (upper case)", craft: decoy(`ID="@"`), want: ambiguous},
		{name: "decoy with id (lower case)", craft: decoy(`id="@"`), want: ambiguous},
		{name: "decoy with xml:id", craft: decoy(`xml:id="@"`), want: ambiguous},
		{name: "decoy with a namespaced wsu:Id is not an Id: the genuine Object is the signed one", craft: decoy(
			`xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" wsu:Id="@"`),
			want: passed, then: func(t *testing.T, rep verify.FileReport) {
				if c := rep.Signatures[0].Covered; len(c) != 1 || !strings.Contains(c[0], "-object holding <wniosek>") {
					t.Errorf("covered %q", c)
				}
			}},
		{name: "genuine Object's Id moved to a namespaced attribute", craft: func(t *testing.T) string {
			doc := signedEnveloping(t)
			id := sigIDs(t, doc)[0]
			return replaceOne(t, doc, `<ds:Object Id="`+id+`-object">`, `<ds:Object xmlns:wsu="urn:wsu" wsu:Id="`+id+`-object">`)
		}, want: want{verify.Indeterminate, verify.SignedDataNotFound, "no element with Id"}},
	})
}

// Several SignedInfo, SignatureValue, KeyInfo or Signature elements in ambiguous places.
func TestAttackAmbiguousSignatureParts(t *testing.T) {
	format := func(reason string) want { return want{verify.TotalFailed, verify.FormatFailure, reason} }
	attackerKeyInfo := `<ds:KeyInfo>` + x509Data(testpki.New().Attacker.Cert) + `</ds:KeyInfo>`
	runAttacks(t, []attackCase{
		{name: "second SignedInfo after the first", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			si := between(t, doc, `<ds:SignedInfo>`, `</ds:SignedInfo>`)
			return replaceOne(t, doc, si, si+strings.Replace(si, "sha256", "sha1", 1))
		}, want: format("unexpected element ds:SignedInfo")},
		{name: "forged SignedInfo before the genuine one", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			si := between(t, doc, `<ds:SignedInfo>`, `</ds:SignedInfo>`)
			return replaceOne(t, doc, si, strings.Replace(si, `URI=""`, `URI="#amount"`, 1)+si)
		}, want: format("ds:SignedInfo")},
		{name: "second SignatureValue", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			return replaceOne(t, doc, `<ds:KeyInfo>`, `<ds:SignatureValue>AAAA</ds:SignatureValue><ds:KeyInfo>`)
		}, want: format("unexpected element ds:SignatureValue")},
		{name: "second KeyInfo with the attacker's certificate", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), `</ds:KeyInfo>`, `</ds:KeyInfo>`+attackerKeyInfo)
		}, want: format("unexpected element ds:KeyInfo")},
		{name: "attacker's KeyInfo before SignedInfo", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), `<ds:SignedInfo>`, attackerKeyInfo+`<ds:SignedInfo>`)
		}, want: format("ds:Signature lacks ds:SignedInfo")},
		{name: "SignedInfo moved into a ds:Object", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			si := between(t, doc, `<ds:SignedInfo>`, `</ds:SignedInfo>`)
			doc = replaceOne(t, doc, si, "")
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object>`+si+`</ds:Object></ds:Signature>`)
		}, want: format("lacks ds:SignedInfo")},
		{name: "text directly inside ds:Signature", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), `<ds:KeyInfo>`, `zatwierdzono<ds:KeyInfo>`)
		}, want: format("character data")},
		{name: "element of another namespace between SignatureValue and KeyInfo", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), `<ds:KeyInfo>`, `<SignedInfo xmlns="urn:x"/><ds:KeyInfo>`)
		}, want: format("unexpected element")},
	})
}

// Two References that both match: every reference is checked, not only the first.
func TestAttackTwoReferences(t *testing.T) {
	p := testpki.New()
	// two references to the signed Object of an enveloping signature, plus one to a second Object
	twoObjects := func(t *testing.T) (doc, id string) {
		doc = signedEnveloping(t)
		id = sigIDs(t, doc)[0]
		doc = replaceOne(t, doc, `</ds:Signature>`, `<ds:Object Id="zalacznik"><zalacznik xmlns="urn:example:wniosek">umowa nr 7</zalacznik></ds:Object></ds:Signature>`)
		extra := reference(`URI="#`+id+`-object"`, transform(xmldoc.ExcC14N), uriSHA256) +
			reference(`URI="#zalacznik"`, transform(xmldoc.ExcC14N), uriSHA256)
		doc = replaceOne(t, doc, `</ds:SignedInfo>`, extra+`</ds:SignedInfo>`)
		doc = setDigest(t, doc, id, 2, nil)
		doc = setDigest(t, doc, id, 3, nil)
		return doc, id
	}
	runAttacks(t, []attackCase{
		{name: "control: three matching references to data", craft: func(t *testing.T) string {
			doc, id := twoObjects(t)
			return resign(t, doc, id, p.RSA.Key)
		}, want: passed, then: func(t *testing.T, rep verify.FileReport) {
			if n := len(rep.Signatures[0].Covered); n != 3 {
				t.Errorf("covered %q, want 3 entries", rep.Signatures[0].Covered)
			}
		}},
		{name: "second reference to the same Object with a wrong digest (signed by the signer)", craft: func(t *testing.T) string {
			doc, id := twoObjects(t)
			doc = setDigest(t, doc, id, 2, make([]byte, 32))
			return resign(t, doc, id, p.RSA.Key)
		}, want: want{verify.TotalFailed, verify.HashFailure, "does not match"}, then: func(t *testing.T, rep verify.FileReport) {
			if c := rep.Signatures[0].Checks; c.SignatureValue != verify.Passed || c.Digests != verify.Failed {
				t.Errorf("checks %+v", c)
			}
		}},
		{name: "second Object tampered after signing", craft: func(t *testing.T) string {
			doc, id := twoObjects(t)
			doc = resign(t, doc, id, p.RSA.Key)
			return replaceOne(t, doc, "umowa nr 7", "umowa nr 8")
		}, want: want{verify.TotalFailed, verify.HashFailure, `"#zalacznik"`}},
		{name: "last of the references tampered (first three intact)", craft: func(t *testing.T) string {
			doc, id := twoObjects(t)
			doc = resign(t, doc, id, p.RSA.Key)
			return replaceOne(t, doc, `<zalacznik xmlns="urn:example:wniosek">`, `<zalacznik xmlns="urn:example:wniosek" status="anulowana">`)
		}, want: want{verify.TotalFailed, verify.HashFailure, "zalacznik"}},
	})
}

// Comment, white-space and namespace tricks around canonicalization. URI="" selects the document without
// comments, so adding, changing or removing a comment is not a change; text changed around or moved into a comment
// is.
func TestAttackCanonicalizationTricks(t *testing.T) {
	p := testpki.New()
	mutate := func(old, new string) func(t *testing.T) string {
		return func(t *testing.T) string { return replaceOne(t, signedEnveloped(t), old, new) }
	}
	hash := want{verify.TotalFailed, verify.HashFailure, "does not match"}
	runAttacks(t, []attackCase{
		{name: "comment added inside signed text: not a change", craft: mutate(`<opis>Zażółć`, `<opis><!-- dopisek -->Zażółć`), want: passed},
		{name: "comment changed: not a change", craft: mutate(`<!--nazwisko-->`, `<!--imię i nazwisko: Jan Nowak-->`), want: passed},
		{name: "comment removed: not a change", craft: mutate(`<!--nazwisko-->`, ``), want: passed},
		{name: "text truncated by a comment", craft: mutate(`Jan <!--nazwisko-->Kowalski`, `Jan <!--nazwisko Kowalski-->`), want: hash},
		{name: "text next to the comment changed", craft: mutate(`<!--nazwisko-->Kowalski`, `<!--nazwisko-->Nowak`), want: hash},
		{name: "text moved out of a comment", craft: mutate(`<!--nazwisko-->`, `<!---->nazwisko`), want: hash},
		{name: "comment inside SignedInfo: not a change", craft: mutate(`<ds:SignatureMethod`, `<!-- x --><ds:SignatureMethod`), want: passed},
		{name: "attribute order, quotes and white space inside tags: not a change", craft: mutate(
			`<kwota Id="amount" waluta="PLN">`, `<kwota  waluta='PLN'
			Id="amount" >`), want: passed},
		{name: "character references and CDATA: not a change", craft: mutate(`<odbiorca>Jan `, `<odbiorca>&#x4A;a<![CDATA[n ]]>`), want: passed},
		{name: "white space added between elements", craft: mutate(`</kwota><odbiorca>`, "</kwota>\n<odbiorca>"), want: hash},
		{name: "white space after the document element: not a change", craft: func(t *testing.T) string {
			return signedEnveloped(t) + "\n\n"
		}, want: passed},
		{name: "processing instruction added before the root", craft: mutate(`<wniosek `, `<?xml-stylesheet href="evil.xsl"?><wniosek `), want: hash},
		{name: "unused namespace declared on the root", craft: mutate(`<wniosek xmlns="urn:example:wniosek">`, `<wniosek xmlns="urn:example:wniosek" xmlns:x="urn:x">`), want: hash},
		{name: "default namespace redeclared redundantly on a child: not a change", craft: mutate(`<odbiorca>`, `<odbiorca xmlns="urn:example:wniosek">`), want: passed},
		{name: "default namespace changed", craft: mutate(`<wniosek xmlns="urn:example:wniosek">`, `<wniosek xmlns="urn:example:wniosek2">`), want: hash},
		{name: "element moved into another namespace on a child", craft: mutate(`<odbiorca>`, `<odbiorca xmlns="urn:other">`), want: hash},
		{name: "bare-name reference with a WithComments transform: comments still excluded", craft: func(t *testing.T) string {
			return replaceOne(t, commentsSigned(t, `URI="#amount"`), `100.00</kwota>`, `100.00<!--x--></kwota>`)
		}, want: passed},
		{name: "xpointer(id()) reference with a WithComments transform: comment added is a change", craft: func(t *testing.T) string {
			return replaceOne(t, commentsSigned(t, `URI="#xpointer(id('amount'))"`), `100.00</kwota>`, `100.00<!--x--></kwota>`)
		}, want: hash},
		{name: "xpointer(id()) reference with a WithComments transform: control", craft: func(t *testing.T) string {
			return commentsSigned(t, `URI="#xpointer(id('amount'))"`)
		}, want: passed},
		{name: "ds prefix renamed throughout the signature", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			sig := between(t, doc, `<ds:Signature `, `</ds:Signature>`)
			return replaceOne(t, doc, sig, strings.ReplaceAll(strings.ReplaceAll(sig, "ds:", "dsig:"), "xmlns:ds=", "xmlns:dsig="))
		}, want: want{verify.TotalFailed, "", ""}},
		{name: "XPath Filter prefix rebound to another namespace (re-signed)", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			doc = replaceOne(t, doc, `<dsig-xpath:XPath `, `<dsig-xpath:XPath xmlns:ds="urn:not-dsig" `)
			return resign(t, doc, sigIDs(t, doc)[0], p.RSA.Key)
		}, want: want{verify.TotalFailed, verify.FormatFailure, "not bound to the XML Signature namespace"}},
	})
}

// DOCTYPE, external entities, entity expansion, extreme depth and attribute counts, oversized documents: refused
// early, with a reason, in bounded time.
func TestAttackParserAbuse(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `<!ENTITY xxe "pwned">`)
	}))
	defer srv.Close()

	doctype := func(decl string) func(t *testing.T) string {
		return func(t *testing.T) string {
			doc := signedEnveloped(t)
			return replaceOne(t, doc, "<wniosek ", decl+"\n<wniosek ")
		}
	}
	var lol strings.Builder
	lol.WriteString(`<!DOCTYPE wniosek [<!ENTITY lol0 "lol">`)
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&lol, `<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	lol.WriteString(`]>`)
	withEntity := func(decl string) func(t *testing.T) string {
		return func(t *testing.T) string {
			return replaceOne(t, doctype(decl)(t), "<opis>", "<opis>&e;")
		}
	}
	format := func(reason string) want { return want{verify.TotalFailed, verify.FormatFailure, reason} }
	cases := []attackCase{
		{name: "internal DOCTYPE", craft: doctype(`<!DOCTYPE wniosek [<!ATTLIST kwota Id ID #IMPLIED>]>`), want: format("DOCTYPE")},
		{name: "external entity (file)", craft: withEntity(`<!DOCTYPE wniosek [<!ENTITY e SYSTEM "file:///etc/passwd">]>`), want: format("DOCTYPE")},
		{name: "external entity (http)", craft: withEntity(`<!DOCTYPE wniosek [<!ENTITY e SYSTEM "` + srv.URL + `/e">]>`), want: format("DOCTYPE")},
		{name: "external DTD", craft: doctype(`<!DOCTYPE wniosek SYSTEM "` + srv.URL + `/x.dtd">`), want: format("DOCTYPE")},
		{name: "parameter entity", craft: doctype(`<!DOCTYPE wniosek [<!ENTITY % p SYSTEM "` + srv.URL + `/p.dtd"> %p;]>`), want: format("DOCTYPE")},
		{name: "billion laughs", craft: func(t *testing.T) string {
			return replaceOne(t, doctype(lol.String())(t), "<opis>", "<opis>&lol9;")
		}, want: format("DOCTYPE")},
		{name: "entity reference without a declaration", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), "<opis>", "<opis>&lol9;")
		}, want: format("undefined entity")},
		{name: "DOCTYPE after the root element", craft: func(t *testing.T) string {
			return signedEnveloped(t) + `<!DOCTYPE x>`
		}, want: format("DOCTYPE")},
		{name: "100,000 nested elements", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), "<opis>", strings.Repeat("<a>", 100000)+strings.Repeat("</a>", 100000)+"<opis>")
		}, want: format("depth")},
		{name: "100,000 attributes on one element", craft: func(t *testing.T) string {
			var b strings.Builder
			for i := range 100000 {
				fmt.Fprintf(&b, ` a%d="x"`, i)
			}
			return replaceOne(t, signedEnveloped(t), "<opis>", "<opis"+b.String()+">")
		}, want: format("too many attributes")},
		{name: "document over the configured size limit", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), "<opis>", "<opis>"+strings.Repeat("x", 2<<20))
		}, opts: verify.XMLOptions{MaxBytes: 1 << 20}, want: format("size limit")},
		{name: "document over the default size limit", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), "<opis>", "<opis>"+strings.Repeat("x", verify.DefaultMaxXMLBytes))
		}, want: format("size limit")},
		{name: "UTF-16 declared", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), `encoding="UTF-8"`, `encoding="UTF-16"`)
		}, want: format("UTF-8")},
		{name: "invalid UTF-8 bytes", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), "Zażółć", "Za\xbf\xf3\xb3\xe6")
		}, want: format("UTF-8")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.craft(t)
			// speed is a benchmark's business (no timings in unit tests); the bounds are the refusals checked here
			check(t, doc, trusting(), tc.opts, tc.want)
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the verifier made %d HTTP requests", n)
	}
}

// XSLT and XPath 1.0 transforms are refused; remote and file URIs are never fetched.
func TestAttackTransformsAndURIs(t *testing.T) {
	p := testpki.New()
	var hits atomic.Int32
	const content = "umowa: 100.00 PLN\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, content)
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "umowa.txt"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}

	// replaceTransform swaps the XPath Filter 2.0 transform of the document reference for another and re-signs.
	replaceTransform := func(tr string) func(t *testing.T) string {
		return func(t *testing.T) string {
			doc := signedEnveloped(t)
			filter := between(t, doc, `<ds:Transform Algorithm="`+xades.TransformFilter2+`">`, `</ds:Transform>`)
			doc = replaceOne(t, doc, filter, tr)
			return resign(t, doc, sigIDs(t, doc)[0], p.RSA.Key)
		}
	}
	// detachedAt signs content detached and re-points the reference to uri (re-signed).
	detachedAt := func(uri string) func(t *testing.T) string {
		return func(t *testing.T) string {
			doc := signWith(t, content, p.RSA, xades.SignOptions{Format: xades.Detached, DetachedURI: "umowa.txt"})
			doc = replaceOne(t, doc, `URI="umowa.txt"`, `URI="`+uri+`"`)
			return resign(t, doc, sigIDs(t, doc)[0], p.RSA.Key)
		}
	}
	refused := func(reason string) want { return want{verify.TotalFailed, verify.FormatFailure, reason} }
	notFetched := want{verify.Indeterminate, verify.SignedDataNotFound, ""}
	const xslt = `<ds:Transform Algorithm="` + xades.TransformXSLT + `"><xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"><xsl:template match="/"><xsl:copy-of select="document('file:///etc/passwd')"/></xsl:template></xsl:stylesheet></ds:Transform>`
	runAttacks(t, []attackCase{
		{name: "XSLT transform", craft: replaceTransform(xslt), want: refused("XSLT")},
		{name: "XPath 1.0 selecting one element", craft: replaceTransform(`<ds:Transform Algorithm="` + xades.TransformXPath +
			`"><ds:XPath>ancestor-or-self::*[local-name()='kwota']</ds:XPath></ds:Transform>`), want: refused("XPath 1.0")},
		{name: "XPath 1.0 with an expensive expression", craft: replaceTransform(`<ds:Transform Algorithm="` + xades.TransformXPath +
			`"><ds:XPath>count(//. | //@* | //namespace::*) &gt; 0 and not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>`), want: refused("XPath 1.0")},
		// XPath Filter 2.0 is evaluated (xpath_interop_test.go): a swapped filter selects other data, whose digest differs
		{name: "XPath Filter 2.0 swapped for one intersecting one element", craft: replaceTransform(`<ds:Transform Algorithm="` + xades.TransformFilter2 +
			`"><dsig-xpath:XPath xmlns:dsig-xpath="` + xades.NSFilter2 + `" Filter="intersect">//kwota</dsig-xpath:XPath></ds:Transform>`), want: want{verify.TotalFailed, verify.HashFailure, ""}},
		{name: "XPath Filter 2.0 swapped for one subtracting another element", craft: replaceTransform(`<ds:Transform Algorithm="` + xades.TransformFilter2 +
			`"><dsig-xpath:XPath xmlns:dsig-xpath="` + xades.NSFilter2 + `" Filter="subtract">/descendant::ds:Object</dsig-xpath:XPath></ds:Transform>`), want: want{verify.TotalFailed, verify.HashFailure, ""}},
		{name: "XPath Filter 2.0 with a function", craft: replaceTransform(`<ds:Transform Algorithm="` + xades.TransformFilter2 +
			`"><dsig-xpath:XPath xmlns:dsig-xpath="` + xades.NSFilter2 + `" Filter="subtract">//*[contains(@Id,'a')]</dsig-xpath:XPath></ds:Transform>`), want: refused("predicates are accepted")},
		{name: "unknown transform (decryption)", craft: replaceTransform(`<ds:Transform Algorithm="http://www.w3.org/2002/07/decrypt#XML"/>`), want: refused("not accepted")},
		{name: "remote http URI serving the right content", craft: detachedAt(srv.URL + "/umowa.txt"), want: notFetched,
			then: func(t *testing.T, rep verify.FileReport) {
				if !strings.Contains(strings.Join(rep.Signatures[0].Reasons, " "), "never fetched") {
					t.Errorf("reasons %q", rep.Signatures[0].Reasons)
				}
			}},
		{name: "file URI of a file with the right content", craft: detachedAt("file://" + filepath.ToSlash(filepath.Join(dir, "umowa.txt"))), want: notFetched},
		{name: "file URI without authority", craft: detachedAt("file:" + filepath.ToSlash(filepath.Join(dir, "umowa.txt"))), want: notFetched},
	})
	t.Run("relative URI beside a file with the right content in the working directory", func(t *testing.T) {
		doc := detachedAt("umowa.txt")(t)
		t.Chdir(dir)
		check(t, doc, trusting(), verify.XMLOptions{}, want{verify.Indeterminate, verify.SignedDataNotFound, "not provided"})
	})
	t.Run("XInclude element is data, not an instruction", func(t *testing.T) {
		doc := replaceOne(t, signedEnveloped(t), "<opis>", `<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="`+srv.URL+`/x"/><opis>`)
		check(t, doc, trusting(), verify.XMLOptions{}, want{verify.TotalFailed, verify.HashFailure, ""})
	})
	if n := hits.Load(); n != 0 {
		t.Errorf("the verifier made %d HTTP requests", n)
	}
}

// The attacker's certificate in KeyInfo: only a chain to a configured root counts, and the signer reported is the
// certificate that verified and that SigningCertificate names.
func TestAttackForeignCertificates(t *testing.T) {
	p := testpki.New()
	genuineCert := x509Data(p.RSA.Cert)
	signerIs := func(c *x509.Certificate) func(t *testing.T, rep verify.FileReport) {
		return func(t *testing.T, rep verify.FileReport) {
			s := rep.Signatures[0].Signer
			if s == nil || s.Serial != c.SerialNumber.String() || s.Subject != c.Subject.String() {
				t.Errorf("signer %+v, want %s serial %s", s, c.Subject, c.SerialNumber)
			}
		}
	}
	sigPassed := func(t *testing.T, rep verify.FileReport) {
		if c := rep.Signatures[0].Checks; c.SignatureValue != verify.Passed || c.Digests != verify.Passed {
			t.Errorf("checks %+v", c)
		}
	}
	runAttacks(t, []attackCase{
		{name: "document re-signed by the attacker", craft: func(t *testing.T) string {
			return signWith(t, attackDoc, p.Attacker, xades.SignOptions{Profile: testProfile})
		}, want: want{verify.Indeterminate, verify.NoCertificateChainFound, "does not chain"}, then: func(t *testing.T, rep verify.FileReport) {
			sigPassed(t, rep)
			signerIs(p.Attacker.Cert)(t, rep)
		}},
		{name: "genuine signature replaced by the attacker's (KeyInfo and value), SigningCertificate kept", craft: func(t *testing.T) string {
			doc := replaceOne(t, signedEnveloped(t), genuineCert, x509Data(p.Attacker.Cert))
			return resign(t, doc, sigIDs(t, doc)[0], p.Attacker.Key)
		}, want: want{verify.TotalFailed, verify.FormatFailure, "SigningCertificate"}},
		{name: "attacker signs; KeyInfo holds the genuine certificate first, then the attacker's", craft: func(t *testing.T) string {
			doc := replaceOne(t, signedEnveloped(t), genuineCert, x509Data(p.RSA.Cert, p.Attacker.Cert))
			return resign(t, doc, sigIDs(t, doc)[0], p.Attacker.Key)
		}, want: want{verify.TotalFailed, verify.FormatFailure, "SigningCertificate"}},
		{name: "attacker certificate added before the genuine one", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), genuineCert, x509Data(p.Attacker.Cert, p.RSA.Cert))
		}, want: passed, then: signerIs(p.RSA.Cert)},
		{name: "attacker certificate in its own X509Data before the genuine one", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), genuineCert, x509Data(p.Attacker.Cert)+genuineCert)
		}, want: passed, then: signerIs(p.RSA.Cert)},
		{name: "attacker and intermediate certificates in CertificateValues", craft: func(t *testing.T) string {
			return signWith(t, attackDoc, p.RSA, xades.SignOptions{Chain: []*x509.Certificate{p.Attacker.Cert, p.Intermediate}})
		}, want: passed, then: signerIs(p.RSA.Cert)},
		{name: "plain XMLDSig by the attacker (no SigningCertificate)", craft: func(t *testing.T) string {
			sig := plainSignature("atk", uriRSASHA256, reference(`URI=""`, transform(xades.TransformEnveloped), uriSHA256), x509Data(p.Attacker.Cert))
			return finish(t, insertBeforeRootEnd(t, attackDoc, sig), "atk", p.Attacker.Key)
		}, want: want{verify.Indeterminate, verify.NoCertificateChainFound, ""}, then: signerIs(p.Attacker.Cert)},
	})
	t.Run("trusting nothing, the genuine signature is not TOTAL_PASSED either", func(t *testing.T) {
		check(t, signedEnveloped(t), &verify.Policy{}, verify.XMLOptions{}, want{verify.Indeterminate, verify.NoCertificateChainFound, ""})
	})
}

// Certificate swap after signing: a certificate of the same subject, issued by the same CA, with another key.
func TestAttackCertificateSwap(t *testing.T) {
	p := testpki.New()
	genuine, other := p.RSA, p.RSASameSubject
	if genuine.Cert.Subject.String() != other.Cert.Subject.String() {
		t.Fatal("testpki: RSASameSubject has another subject")
	}
	mismatch := want{verify.TotalFailed, verify.FormatFailure, "SigningCertificate reference does not match"}
	runAttacks(t, []attackCase{
		{name: "KeyInfo certificate swapped, nothing else changed", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), x509Data(genuine.Cert), x509Data(other.Cert))
		}, want: want{verify.Indeterminate, verify.NoSigningCertificateFound, "not available"}},
		{name: "certificate swapped and SignedInfo re-signed with the other key", craft: func(t *testing.T) string {
			doc := replaceOne(t, signedEnveloped(t), x509Data(genuine.Cert), x509Data(other.Cert))
			return resign(t, doc, sigIDs(t, doc)[0], other.Key)
		}, want: mismatch, then: func(t *testing.T, rep verify.FileReport) {
			s := rep.Signatures[0]
			if s.Checks.SigningCertificate != verify.Failed || s.Checks.SignatureValue != verify.Passed || s.Checks.Chain != verify.Passed {
				t.Errorf("checks %+v", s.Checks)
			}
		}},
		{name: "both certificates in KeyInfo, signed with the other key", craft: func(t *testing.T) string {
			doc := replaceOne(t, signedEnveloped(t), x509Data(genuine.Cert), x509Data(genuine.Cert, other.Cert))
			return resign(t, doc, sigIDs(t, doc)[0], other.Key)
		}, want: mismatch},
		{name: "SigningCertificate rewritten to name the other certificate, re-signed by the genuine key", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			id := sigIDs(t, doc)[0]
			dv := between(t, doc, `<xades:CertDigest>`, `</xades:CertDigest>`)
			h := crypto.SHA256.New()
			h.Write(other.Cert.Raw)
			doc = replaceOne(t, doc, dv, `<xades:CertDigest><ds:DigestMethod Algorithm="`+uriSHA256+`"/><ds:DigestValue>`+b64(h.Sum(nil))+`</ds:DigestValue></xades:CertDigest>`)
			doc = replaceOne(t, doc, `<ds:X509SerialNumber>`+genuine.Cert.SerialNumber.String(), `<ds:X509SerialNumber>`+other.Cert.SerialNumber.String())
			doc = setDigest(t, doc, id, 1, nil)
			return resign(t, doc, id, genuine.Key)
		}, want: mismatch},
		{name: "SigningCertificateV2 names the genuine certificate, other key signs", craft: func(t *testing.T) string {
			doc := signWith(t, attackDoc, genuine, xades.SignOptions{SigningCertificateV2: true})
			doc = replaceOne(t, doc, x509Data(genuine.Cert), x509Data(other.Cert))
			return resign(t, doc, sigIDs(t, doc)[0], other.Key)
		}, want: mismatch},
	})
}

// Algorithm downgrade: weak hashes are never TOTAL_PASSED; HMAC keyed with the public key is refused.
func TestAttackAlgorithmDowngrade(t *testing.T) {
	p := testpki.New()
	weak := func(reason string) want {
		return want{verify.Indeterminate, verify.CryptoConstraintsFailureNoPOE, reason}
	}
	// method swaps the SignatureMethod, optionally every DigestMethod, recomputes the digests and signs with key
	method := func(sigMethod, digestMethod string, key any) func(t *testing.T) string {
		return func(t *testing.T) string {
			doc := signedEnveloped(t)
			id := sigIDs(t, doc)[0]
			si := between(t, doc, `<ds:SignedInfo>`, `</ds:SignedInfo>`)
			newSI := strings.Replace(si, uriRSASHA256, sigMethod, 1)
			if digestMethod != "" {
				newSI = strings.ReplaceAll(newSI, uriSHA256, digestMethod)
			}
			doc = replaceOne(t, doc, si, newSI)
			if digestMethod != "" {
				doc = setDigest(t, doc, id, 0, nil)
				doc = setDigest(t, doc, id, 1, nil)
			}
			return resign(t, doc, id, key)
		}
	}
	spki := p.RSA.Cert.RawSubjectPublicKeyInfo
	sigValuePassed := func(t *testing.T, rep verify.FileReport) {
		if c := rep.Signatures[0].Checks; c.SignatureValue != verify.Passed {
			t.Errorf("signatureValue %s, want passed (the math holds; the algorithm is the problem)", c.SignatureValue)
		}
	}
	runAttacks(t, []attackCase{
		{name: "RSA-SHA1 SignatureMethod", craft: method(uriRSASHA1, "", p.RSA.Key), want: weak("RSA-SHA1"), then: sigValuePassed},
		{name: "RSA-MD5 SignatureMethod", craft: method(uriRSAMD5, "", p.RSA.Key), want: weak("RSA-MD5"), then: sigValuePassed},
		{name: "SHA-1 digests", craft: method(uriRSASHA256, uriSHA1, p.RSA.Key), want: weak("SHA-1"), then: sigValuePassed},
		{name: "MD5 digests and RSA-MD5", craft: method(uriRSAMD5, uriMD5, p.RSA.Key), want: weak("MD5"), then: sigValuePassed},
		{name: "SignatureMethod changed to RSA-SHA1 without re-signing", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), `<ds:SignatureMethod Algorithm="`+uriRSASHA256, `<ds:SignatureMethod Algorithm="`+uriRSASHA1)
		}, want: want{verify.TotalFailed, verify.SigCryptoFailure, "does not verify"}},
		{name: "HMAC-SHA256 keyed with the signer's public key (SubjectPublicKeyInfo)", craft: method(uriHMACSHA256, "", spki),
			want: want{verify.TotalFailed, verify.FormatFailure, "HMAC"}},
		{name: "HMAC-SHA256 keyed with the certificate", craft: method(uriHMACSHA256, "", p.RSA.Cert.Raw),
			want: want{verify.TotalFailed, verify.FormatFailure, "HMAC"}},
		{name: "HMAC-SHA1 truncated to 8 bits", craft: func(t *testing.T) string {
			doc := method(uriHMACSHA1, "", spki)(t)
			return replaceOne(t, doc, `<ds:SignatureMethod Algorithm="`+uriHMACSHA1+`"/>`,
				`<ds:SignatureMethod Algorithm="`+uriHMACSHA1+`"><ds:HMACOutputLength>8</ds:HMACOutputLength></ds:SignatureMethod>`)
		}, want: want{verify.TotalFailed, verify.FormatFailure, "HMAC"}},
		{name: "ECDSA SignatureMethod with an RSA certificate", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), uriRSASHA256, uriECDSASHA256)
		}, want: want{verify.TotalFailed, verify.SigCryptoFailure, ""}},
	})
}

// A weak RSA-1024 key: the math holds, the key is too short.
func TestAttackWeakKey(t *testing.T) {
	p := testpki.New()
	runAttacks(t, []attackCase{
		{name: "RSA-1024 signer", craft: func(t *testing.T) string {
			return signWith(t, attackDoc, p.WeakRSA, xades.SignOptions{})
		}, want: want{verify.Indeterminate, verify.CryptoConstraintsFailureNoPOE, "1024 bits"}, then: func(t *testing.T, rep verify.FileReport) {
			if c := rep.Signatures[0].Checks; c.SignatureValue != verify.Passed || c.Chain != verify.Passed {
				t.Errorf("checks %+v", c)
			}
		}},
	})
}

// A bare KeyValue, no certificate: the math is checked, the signer cannot be identified.
func TestAttackKeyValueOnly(t *testing.T) {
	p := testpki.New()
	noCert := want{verify.Indeterminate, verify.NoSigningCertificateFound, "KeyValue"}
	runAttacks(t, []attackCase{
		{name: "XMLDSig with RSAKeyValue", craft: func(t *testing.T) string { return keyValueSigned(t, p.RSA.Key) }, want: noCert,
			then: func(t *testing.T, rep verify.FileReport) {
				if c := rep.Signatures[0].Checks; c.SignatureValue != verify.Passed || c.Digests != verify.Passed {
					t.Errorf("checks %+v", c)
				}
			}},
		{name: "XMLDSig with RSAKeyValue, document tampered", craft: func(t *testing.T) string {
			return replaceOne(t, keyValueSigned(t, p.RSA.Key), "100.00", "999999.00")
		}, want: want{verify.TotalFailed, verify.HashFailure, ""}},
		{name: "RSAKeyValue of another key than the one that signed", craft: func(t *testing.T) string {
			return keyValueSigned(t, p.RSASameSubject.Key)
		}, want: want{verify.TotalFailed, verify.SigCryptoFailure, "KeyValue"}},
		{name: "XAdES signature with its certificate replaced by a KeyValue", craft: func(t *testing.T) string {
			pub := p.RSA.Cert.PublicKey.(*rsa.PublicKey)
			kv := `<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>` + b64(pub.N.Bytes()) + `</ds:Modulus><ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue>`
			return replaceOne(t, signedEnveloped(t), x509Data(p.RSA.Cert), kv)
		}, want: noCert},
	})
}

// Detached content that is missing or different.
func TestAttackDetachedContent(t *testing.T) {
	p := testpki.New()
	content := []byte("%PDF-1.7 umowa\n")
	signed := func(t *testing.T) string {
		return signWith(t, string(content), p.RSA, xades.SignOptions{Format: xades.Detached, DetachedURI: "umowa.pdf"})
	}
	runAttacks(t, []attackCase{
		{name: "control: content given", craft: signed, opts: verify.XMLOptions{Detached: map[string][]byte{"umowa.pdf": content}}, want: passed},
		{name: "content missing", craft: signed, want: want{verify.Indeterminate, verify.SignedDataNotFound, "umowa.pdf"}},
		{name: "only other files given", craft: signed, opts: verify.XMLOptions{Detached: map[string][]byte{"a.pdf": content, "b.pdf": content}},
			want: want{verify.Indeterminate, verify.SignedDataNotFound, "not provided"}},
		{name: "content changed", craft: signed, opts: verify.XMLOptions{Detached: map[string][]byte{"umowa.pdf": []byte("%PDF-1.7 umowa!\n")}},
			want: want{verify.TotalFailed, verify.HashFailure, "does not match"}},
	})
}

// The signing certificate must be valid at the validation time (a claimed signing time proves nothing), and a
// claimed time before the certificate existed contradicts it.
func TestAttackSigningTimeOutsideValidity(t *testing.T) {
	p := testpki.New()
	tmpl := testpki.LeafTemplate(testpki.Subject)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().AddDate(-3, 0, 0), time.Now().AddDate(-1, 0, 0)
	expired, err := p.IssueIdentity(tmpl, p.RSA.Key)
	if err != nil {
		t.Fatal(err)
	}
	outOfBounds := want{verify.Indeterminate, verify.OutOfBoundsNoPOE, "not valid at the validation time"}
	runAttacks(t, []attackCase{
		{name: "certificate expired before the signing time", craft: func(t *testing.T) string {
			return signWith(t, attackDoc, expired, xades.SignOptions{})
		}, want: outOfBounds, then: func(t *testing.T, rep verify.FileReport) {
			if c := rep.Signatures[0].Checks; c.SignatureValue != verify.Passed {
				t.Errorf("checks %+v", c)
			}
		}},
		{name: "signing time before the certificate was issued", craft: func(t *testing.T) string {
			return signWith(t, attackDoc, p.RSA, xades.SignOptions{SigningTime: time.Now().AddDate(-5, 0, 0)})
		}, want: want{verify.Indeterminate, verify.SigConstraintsFailure, "before the signing certificate was valid"}},
	})
}

// SignedProperties must be covered, with its Type, be this signature's own, and name this signature.
func TestAttackSignedPropertiesBinding(t *testing.T) {
	p := testpki.New()
	format := func(reason string) want { return want{verify.TotalFailed, verify.FormatFailure, reason} }
	spRef := func(t *testing.T, doc string) string {
		return between(t, doc, `<ds:Reference Type="`+xades.TypeSignedProperties+`"`, `</ds:Reference>`)
	}
	cosigned := func(t *testing.T) (doc, a, b string) {
		doc = signWith(t, signedEnveloped(t), p.EC256, xades.SignOptions{})
		ids := sigIDs(t, doc)
		return doc, ids[0], ids[1]
	}
	runAttacks(t, []attackCase{
		{name: "SignedProperties reference removed (re-signed)", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			doc = replaceOne(t, doc, spRef(t, doc), "")
			return resign(t, doc, sigIDs(t, doc)[0], p.RSA.Key)
		}, want: format("not covered")},
		{name: "SignedProperties reference removed (not re-signed)", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			return replaceOne(t, doc, spRef(t, doc), "")
		}, want: want{verify.TotalFailed, "", "not covered"}},
		{name: "Type removed (re-signed)", craft: func(t *testing.T) string {
			doc := replaceOne(t, signedEnveloped(t), `Type="`+xades.TypeSignedProperties+`" `, "")
			return resign(t, doc, sigIDs(t, doc)[0], p.RSA.Key)
		}, want: format("lacks Type")},
		{name: "Type changed (re-signed)", craft: func(t *testing.T) string {
			doc := replaceOne(t, signedEnveloped(t), `Type="`+xades.TypeSignedProperties+`"`, `Type="http://www.w3.org/2000/09/xmldsig#Object"`)
			return resign(t, doc, sigIDs(t, doc)[0], p.RSA.Key)
		}, want: format("lacks Type")},
		{name: "QualifyingProperties Target names another Id", craft: func(t *testing.T) string {
			doc := signedEnveloped(t)
			return replaceOne(t, doc, `Target="#`+sigIDs(t, doc)[0]+`"`, `Target="#inny-podpis"`)
		}, want: format("Target")},
		{name: "QualifyingProperties Target names the co-signature", craft: func(t *testing.T) string {
			doc, a, b := cosigned(t)
			return replaceOne(t, doc, `Target="#`+a+`"`, `Target="#`+b+`"`)
		}, want: format("Target")},
		{name: "second QualifyingProperties", craft: func(t *testing.T) string {
			return replaceOne(t, signedEnveloped(t), `</ds:Signature>`,
				`<ds:Object><xades:QualifyingProperties xmlns:xades="`+xades.NSXAdES+`" Target="#x"/></ds:Object></ds:Signature>`)
		}, want: format("more than one")},
		{name: "co-signature references the first signature's SignedProperties (re-signed)", craft: func(t *testing.T) string {
			doc, a, b := cosigned(t)
			doc = replaceOne(t, doc, `URI="#`+b+`-signedprops"`, `URI="#`+a+`-signedprops"`)
			doc = setDigest(t, doc, b, 1, nil)
			return resign(t, doc, b, p.EC256.Key)
		}, sig: 1, want: format("does not point to this signature's SignedProperties")},
		{name: "co-signature without its own properties references the first one's (re-signed)", craft: func(t *testing.T) string {
			doc, a, b := cosigned(t)
			qp := between(t, doc[strings.Index(doc, `Id="`+b+`"`):], `<ds:Object><xades:QualifyingProperties`, `</ds:Object>`)
			doc = replaceOne(t, doc, qp, "")
			doc = replaceOne(t, doc, `URI="#`+b+`-signedprops"`, `URI="#`+a+`-signedprops"`)
			doc = setDigest(t, doc, b, 1, nil)
			return resign(t, doc, b, p.EC256.Key)
		}, sig: 1, want: format("does not point to this signature's SignedProperties")},
	})
	// the co-signature is the one attacked: check the second signature's verdict
	t.Run("co-signed control: both pass", func(t *testing.T) {
		doc, _, _ := cosigned(t)
		rep := verify.XML("cosigned.xml", []byte(doc), trusting(), verify.XMLOptions{})
		if len(rep.Signatures) != 2 {
			t.Fatalf("%d signatures", len(rep.Signatures))
		}
		for _, s := range rep.Signatures {
			checkSignature(t, s, passed)
		}
	})
}

// counterSigned adds to signature target of doc a counter-signature (EC P-256, plain XMLDSig) whose reference
// points to the SignatureValue with Id ref and carries the given Type attribute ("" for none).
func counterSigned(t testing.TB, doc, target, ref, refType string) string {
	p := testpki.New()
	attrs := `URI="#` + ref + `"`
	if refType != "" {
		attrs = `Type="` + refType + `" ` + attrs
	}
	cs := plainSignature("cs", uriECDSASHA256, reference(attrs, transform(xmldoc.ExcC14N), uriSHA256), x509Data(p.EC256.Cert))
	i := strings.Index(doc, `Target="#`+target+`">`)
	if i < 0 {
		t.Fatalf("crafting: no QualifyingProperties of %s", target)
	}
	j := i + strings.Index(doc[i:], `</xades:QualifyingProperties>`)
	doc = doc[:j] + `<xades:UnsignedProperties><xades:UnsignedSignatureProperties><xades:CounterSignature>` + cs +
		`</xades:CounterSignature></xades:UnsignedSignatureProperties></xades:UnsignedProperties>` + doc[j:]
	return finish(t, doc, "cs", p.EC256.Key)
}

// A counter-signature must countersign the signature that holds it.
func TestAttackCounterSignature(t *testing.T) {
	p := testpki.New()
	cosigned := func(t *testing.T) (doc, a, b string) {
		doc = signWith(t, signedEnveloped(t), p.EC384, xades.SignOptions{})
		ids := sigIDs(t, doc)
		return doc, ids[0], ids[1]
	}
	cases := []struct {
		name  string
		craft func(t *testing.T) string
		want  want
	}{
		{"control: counter-signature of the master's SignatureValue", func(t *testing.T) string {
			doc := signedEnveloped(t)
			id := sigIDs(t, doc)[0]
			return counterSigned(t, doc, id, id+"-sigvalue", xades.TypeCountersignedSignature)
		}, passed},
		{"counter-signature referencing another signature's value", func(t *testing.T) string {
			doc, a, b := cosigned(t)
			return counterSigned(t, doc, a, b+"-sigvalue", xades.TypeCountersignedSignature)
		}, want{verify.TotalFailed, verify.HashFailure, "does not point to the countersigned signature value"}},
		{"counter-signature without Type referencing another signature's value", func(t *testing.T) string {
			doc, a, b := cosigned(t)
			return counterSigned(t, doc, a, b+"-sigvalue", "")
		}, want{verify.TotalFailed, verify.FormatFailure, "does not reference the countersigned signature value"}},
		{"counter-signature referencing the master's SignedProperties instead of its value", func(t *testing.T) string {
			doc := signedEnveloped(t)
			id := sigIDs(t, doc)[0]
			return counterSigned(t, doc, id, id+"-signedprops", xades.TypeCountersignedSignature)
		}, want{verify.TotalFailed, verify.HashFailure, "countersigned signature value"}},
		{"counter-signature digest of the master value wrong", func(t *testing.T) string {
			doc := signedEnveloped(t)
			id := sigIDs(t, doc)[0]
			doc = counterSigned(t, doc, id, id+"-sigvalue", xades.TypeCountersignedSignature)
			return setDigest(t, doc, "cs", 0, make([]byte, 32))
		}, want{verify.TotalFailed, "", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep := verify.XML("countersigned.xml", []byte(tc.craft(t)), trusting(), verify.XMLOptions{})
			master := rep.Signatures[0]
			checkSignature(t, master, passed)
			if len(master.CounterSignatures) != 1 {
				t.Fatalf("%d counter-signatures reported", len(master.CounterSignatures))
			}
			checkSignature(t, master.CounterSignatures[0], tc.want)
			if tc.want.ind != verify.TotalPassed && rep.Indication == verify.TotalPassed {
				t.Errorf("file indication TOTAL_PASSED")
			}
		})
	}
}

// Documents made to multiply the verifier's work (many references to a large document, many signatures or
// counter-signatures, many excluded subtrees, references into a long list): verification time stays roughly linear
// in the document's size, with a reason when a limit is reached.
func TestAttackResourceExhaustion(t *testing.T) {
	p := testpki.New()
	zeroDigest := func(refs string) string {
		return strings.ReplaceAll(refs, "<ds:DigestValue>AA==", "<ds:DigestValue>"+b64(make([]byte, 32)))
	}
	filter2 := `<ds:Transform Algorithm="` + xades.TransformFilter2 + `"><dsig-xpath:XPath xmlns:dsig-xpath="` + xades.NSFilter2 +
		`" Filter="subtract">/descendant::ds:Signature</dsig-xpath:XPath></ds:Transform>`
	largeDoc := func(size int) string {
		line := "<p>Zażółć gęślą jaźń 0123456789 abcdefghij</p>\n"
		return `<?xml version="1.0" encoding="UTF-8"?>` + "\n<wniosek>" + strings.Repeat(line, size/len(line)) + "</wniosek>"
	}
	anyReason := func(rep verify.FileReport, words string) bool {
		var walk func(ss []verify.SignatureReport) bool
		walk = func(ss []verify.SignatureReport) bool {
			for _, s := range ss {
				for _, r := range s.Reasons {
					if strings.Contains(r, words) {
						return true
					}
				}
				if walk(s.CounterSignatures) {
					return true
				}
			}
			return false
		}
		return walk(rep.Signatures)
	}
	cases := []struct {
		name   string
		craft  func(t *testing.T) string
		ind    verify.Indication
		reason string
	}{
		{"64 signatures of 32 references each to the whole of a 4 MB document", func(t *testing.T) string {
			refs := zeroDigest(strings.Repeat(reference(`URI=""`, filter2, uriSHA256), 32))
			var sigs strings.Builder
			for i := range 64 {
				sigs.WriteString(plainSignature(fmt.Sprintf("s%d", i), uriRSASHA256, refs, x509Data(p.RSA.Cert)))
			}
			return insertBeforeRootEnd(t, largeDoc(4<<20), sigs.String())
		}, verify.TotalFailed, "processing limit"},
		{"64 signatures of 32 references each to distinct elements of a list of 1,000,000", func(t *testing.T) string {
			var body, sigs strings.Builder
			body.WriteString("<wniosek>")
			body.WriteString(strings.Repeat("<p/>", 1000000))
			for i := range 64 * 32 {
				fmt.Fprintf(&body, `<p Id="p%d"/>`, i)
			}
			for i := range 64 {
				var refs strings.Builder
				for j := range 32 {
					refs.WriteString(reference(fmt.Sprintf(`URI="#p%d"`, i*32+j), transform(xmldoc.ExcC14N), uriSHA256))
				}
				sigs.WriteString(plainSignature(fmt.Sprintf("s%d", i), uriRSASHA256, zeroDigest(refs.String()), x509Data(p.RSA.Cert)))
			}
			body.WriteString(sigs.String() + "</wniosek>")
			return body.String()
		}, verify.TotalFailed, "does not match"},
		{"200,000 nested ds:Signature elements excluded by the XPath filter", func(t *testing.T) string {
			doc := signWith(t, `<wniosek>`+strings.Repeat("<p>x</p>", 200000)+`</wniosek>`, p.RSA, xades.SignOptions{})
			return replaceOne(t, doc, `</ds:Signature>`, `<ds:Object>`+strings.Repeat("<ds:Signature/>", 200000)+`</ds:Object></ds:Signature>`)
		}, verify.TotalPassed, ""},
		{"100,000 empty ds:Signature elements", func(t *testing.T) string {
			return `<wniosek xmlns:ds="` + xades.NSDSig + `">` + strings.Repeat("<ds:Signature/>", 100000) + "</wniosek>"
		}, verify.TotalFailed, "more than the limit of 64"},
		{"4,000 counter-signatures", func(t *testing.T) string {
			doc := signedEnveloped(t)
			id := sigIDs(t, doc)[0]
			cs := plainSignature("cs", uriRSASHA256, zeroDigest(reference(`Type="`+xades.TypeCountersignedSignature+`" URI="#`+id+`-sigvalue"`,
				transform(xmldoc.ExcC14N), uriSHA256)), x509Data(p.RSA.Cert))
			return replaceOne(t, doc, `</xades:QualifyingProperties>`, `<xades:UnsignedProperties><xades:UnsignedSignatureProperties>`+
				strings.Repeat(`<xades:CounterSignature>`+cs+`</xades:CounterSignature>`, 4000)+
				`</xades:UnsignedSignatureProperties></xades:UnsignedProperties></xades:QualifyingProperties>`)
		}, verify.TotalFailed, "counter-signatures included"},
		{"a namespace declaration per attribute, 255 per element, nested", func(t *testing.T) string {
			var b strings.Builder
			b.WriteString(`<wniosek`)
			for i := range 255 {
				fmt.Fprintf(&b, ` xmlns:r%d="urn:r%d"`, i, i)
			}
			b.WriteString(`>`)
			for d := range 100 {
				b.WriteString(`<d`)
				for i := range 255 {
					fmt.Fprintf(&b, ` xmlns:d%d_%d="urn:d"`, d, i)
				}
				b.WriteString(`>`)
			}
			for range 1000 {
				b.WriteString(`<e`)
				for i := range 255 {
					fmt.Fprintf(&b, ` r%d:a="1"`, i)
				}
				b.WriteString(`/>`)
			}
			b.WriteString(strings.Repeat(`</d>`, 100) + `</wniosek>`)
			return b.String()
		}, verify.TotalFailed, "namespace declarations"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.craft(t)
			start := time.Now()
			rep := verify.XML("big.xml", []byte(doc), trusting(), verify.XMLOptions{})
			elapsed := time.Since(start)
			// no timing assertion (benchmarks measure speed): the limits show in the indication and reason below
			t.Logf("%d bytes verified in %v: %s", len(doc), elapsed, rep.Indication)
			if rep.Indication != tc.ind {
				t.Errorf("indication %s, want %s (error %q)", rep.Indication, tc.ind, rep.Error)
			}
			if tc.reason != "" && !anyReason(rep, tc.reason) {
				t.Errorf("no reason mentions %q: %q", tc.reason, rep.Signatures[0].Reasons)
			}
		})
	}
}
