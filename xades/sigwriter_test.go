package xades

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
)

// selfSigned makes a certificate whose issuer name is issuerCN (escaping, control characters, non-ASCII).
func selfSigned(t *testing.T, issuerCN string) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	name := pkix.Name{CommonName: issuerCN, Organization: []string{`O "quoted", + & <tag>`}}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: name, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// genericCanonical is what signing did before sigWriter: parse the element's text inside the namespace
// declarations it stands under in the signature and canonicalize it with xmldoc (exclusive C14N).
func genericCanonical(t *testing.T, text []byte, open string, close string) []byte {
	t.Helper()
	doc, err := xmldoc.ParseString(open+string(text)+close, xmldoc.Limits{})
	if err != nil {
		t.Fatalf("the written text does not parse: %v\n%s", err, text)
	}
	var b bytes.Buffer
	if err := xmldoc.Canonicalize(&b, xmldoc.Subset{Doc: doc, Apex: doc.Root.FirstChild}, xmldoc.Method{Exclusive: true}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The canonical forms sigWriter produces while writing SignedProperties and SignedInfo are, byte for byte, what
// xmldoc's generic exclusive canonicalization gives for the text it writes, both standalone (as signing computed
// them before) and in the signed document (as verifiers compute them): over trusted-profile fields, issuer names,
// MIME types and file names that need escaping (quotes, '&', '<', '>', CR, LF, TAB), non-ASCII text, every format,
// SigningCertificateV2 and the hashes.
func TestSigWriterMatchesCanonicalize(t *testing.T) {
	pki := testpki.New()
	oddKey, oddCert := selfSigned(t, "Zażółć \"CA\" <&> \r\n\t ' = end ")
	profiles := []*Profile{
		nil,
		{FirstName: "ANNA", Surname: "TESTOWA", PESEL: "44051401359", ProfileID: "987654321", Login: "atestowa"},
		{FirstName: "Zażółć \"q\" <&> ' \r\n\tx", SecondName: "Gęślą]]>jaźń", Surname: "O'Brien & <Co>", PESEL: "\r\r\n",
			ProfileID: "&amp;", Login: "l<o>g\"in\"", AuthorizationPolicy: "urn:x?a=1&b=\"2\""},
	}
	type signer struct {
		name string
		key  crypto.Signer
		cert *x509.Certificate
	}
	signers := []signer{{"p256", pki.EC256.Key, pki.EC256.Cert}, {"rsa", pki.RSA.Key, pki.RSA.Cert}, {"odd issuer", oddKey, oddCert}}
	docs := []string{
		`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<a xmlns="urn:a" xmlns:ds="urn:not-dsig"><b x="&lt;&quot;">t&amp;</b><!-- c --><![CDATA[<x>]]></a>`,
		`<r:root xmlns:r="urn:r" a="zażółć"/>`,
	}
	n := 0
	for _, sg := range signers {
		for _, format := range []Format{Enveloped, Enveloping, Detached} {
			for pi, p := range profiles {
				for _, v2 := range []bool{false, true} {
					for _, mime := range []string{"", "text/\"x\" & <y>\r\n\tz"} {
						for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384} {
							n++
							doc := docs[n%len(docs)]
							opts := SignOptions{Format: format, Signer: sg.key, Certificate: sg.cert, Profile: p,
								SigningCertificateV2: v2, MIMEType: mime, Hash: h, SigningTime: time.Now(),
								DetachedURI: "dir/zażółć & \"x\" <y>.xml"}
							name := strings.Join([]string{sg.name, format.String(), string(rune('0' + pi)), mime}, "/")
							t.Run(name, func(t *testing.T) { checkSigWriter(t, []byte(doc), opts) })
						}
					}
				}
			}
		}
	}
}

func checkSigWriter(t *testing.T, doc []byte, opts SignOptions) {
	h := opts.Hash
	alg, err := signatureMethodFor(opts.Certificate.PublicKey, h, false)
	if err != nil {
		t.Fatal(err)
	}
	s := &sigBuilder{id: "ID-0123", hash: h, alg: alg, opts: &opts, time: time.Unix(1700000000, 0).UTC(),
		dataDigest: bytes.Repeat([]byte{0xAB}, h.Size())}
	facts := factsOf(opts.Certificate, h)

	sp := &sigWriter{canFrom: -1}
	s.writeSignedProperties(sp, facts)
	if sp.err != nil {
		t.Fatal(sp.err)
	}
	want := genericCanonical(t, sp.ser, `<xades:QualifyingProperties xmlns:xades="`+NSXAdES+`" xmlns:ds="`+NSDSig+`">`, `</xades:QualifyingProperties>`)
	if !bytes.Equal(sp.can, want) {
		t.Errorf("SignedProperties:\nsigWriter %s\n  generic %s", sp.can, want)
	}
	si := &sigWriter{canFrom: -1}
	s.writeSignedInfo(si, bytes.Repeat([]byte{0xCD}, h.Size()))
	if si.err != nil {
		t.Fatal(si.err)
	}
	want = genericCanonical(t, si.ser, `<ds:Signature xmlns:ds="`+NSDSig+`">`, `</ds:Signature>`)
	if !bytes.Equal(si.can, want) {
		t.Errorf("SignedInfo:\nsigWriter %s\n  generic %s", si.can, want)
	}

	// in the signed document: the references' digests and the signature value are over the generic forms
	signed, err := sign(context.Background(), doc, opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(signed, VerifyOptions{Detached: map[string][]byte{opts.DetachedURI: doc}})
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range res.Signatures {
		if !sig.SignatureValid {
			t.Fatalf("signature does not verify: %+v", sig)
		}
		for _, r := range sig.References {
			if r.Status != RefOK {
				t.Fatalf("reference %s does not verify: %+v", r.URI, r)
			}
		}
	}
}

// Text XML cannot carry (a control character, invalid UTF-8) is refused, as parsing it back refused it before.
func TestSigWriterRefusesNonXMLText(t *testing.T) {
	pki := testpki.New()
	for _, p := range []*Profile{{FirstName: "a\x01b", Surname: "S"}, {FirstName: "a", Surname: "\xff"}, {FirstName: "a", Surname: "\uFFFE"}} {
		_, err := sign(context.Background(), []byte(`<a/>`), SignOptions{Signer: pki.EC256.Key, Certificate: pki.EC256.Cert, Profile: p})
		if !errors.Is(err, errSigWriter) {
			t.Errorf("%q: %v, want %v", p.FirstName+p.Surname, err, errSigWriter)
		}
	}
	key, cert := selfSigned(t, "CA\x02")
	if _, err := sign(context.Background(), []byte(`<a/>`), SignOptions{Signer: key, Certificate: cert}); !errors.Is(err, errSigWriter) {
		t.Errorf("issuer with a control character: %v", err)
	}
	if _, err := sign(context.Background(), []byte(`<a/>`), SignOptions{Signer: key, Certificate: cert, MIMEType: "a\x00"}); !errors.Is(err, errSigWriter) {
		t.Errorf("MIME type with NUL: %v", err)
	}
}

// Misusing the writer (attributes out of canonical order, an unknown prefix, unbalanced tags) is an error, never a
// silently wrong canonical form.
func TestSigWriterRefusesMisuse(t *testing.T) {
	for name, write := range map[string]func(w *sigWriter){
		"attribute order":  func(w *sigWriter) { w.start("ds", "X"); w.attr("URI", ""); w.attr("Id", "a"); w.empty() },
		"unknown prefix":   func(w *sigWriter) { w.start("foo", "X"); w.empty() },
		"unbalanced":       func(w *sigWriter) { w.end() },
		"nested canonical": func(w *sigWriter) { w.startCanonical(); w.startCanonical() },
		"raw in canonical": func(w *sigWriter) { w.startCanonical(); w.start("ds", "X"); w.enter(); w.raw([]byte("<y/>")) },
	} {
		w := &sigWriter{canFrom: -1}
		write(w)
		if !errors.Is(w.err, errSigWriter) {
			t.Errorf("%s: %v", name, w.err)
		}
	}
}

// Signatures made at once on many goroutines share pooled buffers, parser memory and the certificate memo: each
// must carry its own document and profile and verify.
func TestConcurrentSigningKeepsSignaturesApart(t *testing.T) {
	pki := testpki.New()
	ids := []testpki.Identity{pki.EC256, pki.RSA}
	errs := make(chan error, 64)
	for g := range 8 {
		go func() {
			for i := range 10 {
				id := ids[(g+i)%2]
				// '_' is in no base64 or hex text of a signature: the name can only be where the document or
				// the profile put it (G6I3 turned up a third time once, inside base64)
				name := fmt.Sprintf("G%d_I%d", g, i)
				doc := fmt.Sprintf(`<doc xmlns="urn:d"><who>%s</who>%s</doc>`, name, strings.Repeat("<x>zażółć</x>", g*30+i))
				out, err := Sign([]byte(doc), SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: []*x509.Certificate{pki.Intermediate},
					Profile: &Profile{FirstName: name, Surname: "S", PESEL: "1", ProfileID: "2", Login: "l"}, Format: Format(i % 2)})
				if err == nil {
					var res *Result
					if res, err = Verify(out, VerifyOptions{}); err == nil && (len(res.Signatures) != 1 || !res.Signatures[0].SignatureValid) {
						err = fmt.Errorf("%s does not verify", name)
					}
				}
				if err == nil && (strings.Count(string(out), name) != 2 || !strings.Contains(string(out), "<os:Imie>"+name+"</os:Imie>")) {
					err = fmt.Errorf("%s: the signature carries another document or profile (%d times):\n%s", name, strings.Count(string(out), name), out)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
