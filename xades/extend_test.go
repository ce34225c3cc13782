package xades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// testSource is a revocation.Source over the test PKI: the intermediate and the root for every chain, a fresh OCSP
// response (signed by the intermediate) for each certificate the intermediate issued, and one CRL of the root for
// the intermediate. Each call gives new OCSP responses (their thisUpdate moves on), as a real responder does.
type testSource struct {
	mu    sync.Mutex
	calls int
	crl   []byte
	// counts the certificates asked about
	asked []*x509.Certificate
}

func (s *testSource) collect(_ context.Context, certs []*x509.Certificate) (revocation.Data, error) {
	p := testpki.New()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.asked = append(s.asked, certs...)
	now := time.Now().Add(-time.Minute).Truncate(time.Second).Add(time.Duration(s.calls) * time.Second)
	if s.crl == nil {
		crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1),
			ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour)}, p.Root, p.RootKey)
		if err != nil {
			return revocation.Data{}, err
		}
		s.crl = crl
	}
	d := revocation.Data{Certificates: []*x509.Certificate{p.Intermediate, p.Root}, CRLs: [][]byte{s.crl}}
	for _, c := range certs {
		if !bytes.Equal(c.RawIssuer, p.Intermediate.RawSubject) {
			continue
		}
		resp, err := ocsp.CreateResponse(p.Intermediate, p.Intermediate, ocsp.Response{Status: ocsp.Good,
			SerialNumber: c.SerialNumber, ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour)}, p.IntermediateKey)
		if err != nil {
			return revocation.Data{}, err
		}
		d.OCSP = append(d.OCSP, resp)
	}
	return d, nil
}

// extendOpts are the options to extend to level with the good test TSA and a testSource.
func extendOpts(t *testing.T, level string, src *testSource) xades.ExtendOptions {
	return xades.ExtendOptions{Level: level, TimeStamp: stamper(t, testpki.TSAGood, crypto.SHA256), Validation: src.collect}
}

func extend(t *testing.T, doc string, o xades.ExtendOptions) string {
	t.Helper()
	out, err := xades.Extend(context.Background(), []byte(doc), o)
	if err != nil {
		t.Fatalf("Extend %s: %v", o.Level, err)
	}
	return string(out)
}

// checkExtended verifies doc with ours (expecting TOTAL_PASSED at level) and with xmlsec1 (signature values and
// references), and returns our xades result of its first signature.
func checkExtended(t *testing.T, doc, level string, detached map[string][]byte) *xades.SignatureResult {
	t.Helper()
	rep := verify.XML("extended.xml", []byte(doc), trusting(), verify.XMLOptions{Detached: detached})
	for _, s := range rep.Signatures {
		if s.Indication != verify.TotalPassed || s.Level != level {
			t.Fatalf("ours: %s level %q, want TOTAL_PASSED %s; reasons %q; time-stamps %+v", s.Indication, s.Level, level, s.Reasons, s.TimeStamps)
		}
		for _, ts := range s.TimeStamps {
			if ts.Indication != verify.TotalPassed {
				t.Fatalf("time-stamp %+v not valid", ts)
			}
		}
	}
	res, err := xades.Verify([]byte(doc), xades.VerifyOptions{Detached: detached})
	if err != nil {
		t.Fatal(err)
	}
	if detached == nil && interopAvailable() {
		root, inter := interopPKI(t)
		f := writeFile(t, filepath.Join(t.TempDir(), "extended.xml"), []byte(doc))
		if ok, out := interoptest.Verify(t, "xmlsec", f, root, inter); !ok {
			t.Fatalf("xmlsec1 rejects the extended signature:\n%s", out)
		}
	}
	return res.Signatures[0]
}

// interopAvailable reports whether the interop toolkit can run here (the tests that need it otherwise run without
// the peer check; TestInterop* name the missing tool).
func interopAvailable() bool {
	if os.Getenv(interoptest.RequireEnv) == "1" {
		return true
	}
	_, err := exec.LookPath("xmlsec1")
	return err == nil
}

// TestExtendLevels: B-B → b-t → b-lt → b-lta → b-lta again, for each shape we sign; every step verifies in ours
// (at the level reached) and in xmlsec1, and keeps what the previous step had.
func TestExtendLevels(t *testing.T) {
	p := testpki.New()
	tests := []struct {
		name     string
		id       testpki.Identity
		opts     xades.SignOptions
		detached map[string][]byte
	}{
		{"enveloped-rsa", p.RSA, xades.SignOptions{Chain: p.RSA.Chain}, nil},
		// an ECDSA seal under the RSA intermediate: the intermediate is in CertificateValues from signing
		{"enveloped-ecdsa-certvalues", p.EC256, xades.SignOptions{Chain: p.EC256.Chain}, nil},
		{"enveloping-rsa-sha512", p.RSA, xades.SignOptions{Format: xades.Enveloping, Hash: crypto.SHA512}, nil},
		{"detached-rsa", p.RSA, xades.SignOptions{Format: xades.Detached, DetachedURI: "umowa.txt"},
			map[string][]byte{"umowa.txt": []byte(attackDoc)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &testSource{}
			doc := signWith(t, attackDoc, tc.id, tc.opts)
			checkExtended(t, doc, "XAdES-B-B", tc.detached)

			bt := extend(t, doc, extendOpts(t, "b-t", src))
			if !strings.HasPrefix(bt, doc[:strings.Index(doc, "<ds:SignatureValue")]) {
				t.Fatal("b-t changed the bytes before the signature value")
			}
			r := checkExtended(t, bt, "XAdES-B-T", tc.detached)
			if len(r.SignatureTimeStamps) != 1 {
				t.Fatalf("b-t: %d signature time-stamps", len(r.SignatureTimeStamps))
			}

			lt := extend(t, bt, extendOpts(t, "b-lt", src))
			r = checkExtended(t, lt, "XAdES-B-LT", tc.detached)
			if len(r.SignatureTimeStamps) != 1 || len(r.Validation.OCSP) != 2 || len(r.Validation.CRLs) != 1 {
				t.Fatalf("b-lt: %d time-stamps, %d OCSP, %d CRLs", len(r.SignatureTimeStamps), len(r.Validation.OCSP), len(r.Validation.CRLs))
			}
			if strings.Count(lt, "CertificateValues>") != 2 || strings.Count(lt, "RevocationValues>") != 2 {
				t.Fatalf("b-lt: not one CertificateValues and one RevocationValues:\n%s", lt)
			}

			o := extendOpts(t, "b-lta", src)
			o.Detached = tc.detached
			lta := extend(t, lt, o)
			r = checkExtended(t, lta, "XAdES-B-LTA", tc.detached)
			if len(r.ArchiveTimeStamps) != 1 || r.ArchiveTimeStamps[0].Namespace != xades.NSXAdES141 || !r.ArchiveTimeStamps[0].CoversValidationData {
				t.Fatalf("b-lta: archive time-stamps %+v", r.ArchiveTimeStamps)
			}

			renewed := extend(t, lta, o)
			r = checkExtended(t, renewed, "XAdES-B-LTA", tc.detached)
			if len(r.ArchiveTimeStamps) != 2 || !strings.Contains(renewed, "TimeStampValidationData") {
				t.Fatalf("renewed: %d archive time-stamps", len(r.ArchiveTimeStamps))
			}
			if !strings.HasPrefix(renewed, lta[:strings.LastIndex(lta, "</xades:UnsignedSignatureProperties>")]) {
				t.Fatal("renewing changed what the first archive time-stamp covered")
			}
		})
	}
}

// TestExtendBBToLTAInOneStep: b-lta on a B-B signature adds the signature time-stamp, the validation data (the
// signer's and the TSA's: the source is asked about both) and the archive time-stamp.
func TestExtendBBToLTAInOneStep(t *testing.T) {
	p := testpki.New()
	src := &testSource{}
	doc := signWith(t, attackDoc, p.RSA, xades.SignOptions{})
	lta := extend(t, doc, extendOpts(t, "b-lta", src))
	r := checkExtended(t, lta, "XAdES-B-LTA", nil)
	if len(r.SignatureTimeStamps) != 1 || len(r.ArchiveTimeStamps) != 1 {
		t.Fatalf("%d signature and %d archive time-stamps", len(r.SignatureTimeStamps), len(r.ArchiveTimeStamps))
	}
	tsa, err := p.TSAIdentity(testpki.TSAGood)
	if err != nil {
		t.Fatal(err)
	}
	askedSigner, askedTSA := false, false
	for _, c := range src.asked {
		askedSigner = askedSigner || c.Equal(p.RSA.Cert)
		askedTSA = askedTSA || c.Equal(tsa.Cert)
	}
	if !askedSigner || !askedTSA {
		t.Fatalf("the source was not asked about the signer (%v) and the TSA (%v)", askedSigner, askedTSA)
	}
}

// TestExtendStructure: the elements Extend writes, in their namespaces and order, into a signature made without
// unsigned properties, and with the QualifyingProperties' own prefix.
func TestExtendStructure(t *testing.T) {
	p := testpki.New()
	doc := signWith(t, attackDoc, p.RSA, xades.SignOptions{Chain: p.RSA.Chain})
	// another prefix for XAdES, as other signers write it: Extend must use the one in scope
	doc = strings.ReplaceAll(strings.ReplaceAll(doc, "xades:", "xa:"), "xmlns:xades=", "xmlns:xa=")
	id := sigIDs(t, doc)[0]
	doc = resign(t, setDigest(t, doc, id, 1, nil), id, p.RSA.Key)
	lta := extend(t, doc, extendOpts(t, "b-lta", &testSource{}))
	checkExtended(t, lta, "XAdES-B-LTA", nil)
	usp := between(t, lta, "<xa:UnsignedProperties>", "</xa:UnsignedProperties>")
	want := []string{
		`<xa:UnsignedProperties><xa:UnsignedSignatureProperties><xa:SignatureTimeStamp><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><xa:EncapsulatedTimeStamp>`,
		`</xa:EncapsulatedTimeStamp></xa:SignatureTimeStamp><xa:CertificateValues><xa:EncapsulatedX509Certificate>`,
		`</xa:EncapsulatedX509Certificate></xa:CertificateValues><xa:RevocationValues><xa:CRLValues><xa:EncapsulatedCRLValue>`,
		`</xa:EncapsulatedCRLValue></xa:CRLValues><xa:OCSPValues><xa:EncapsulatedOCSPValue>`,
		`</xa:EncapsulatedOCSPValue></xa:OCSPValues></xa:RevocationValues><xades141:ArchiveTimeStamp xmlns:xades141="http://uri.etsi.org/01903/v1.4.1#"><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><xa:EncapsulatedTimeStamp>`,
		`</xa:EncapsulatedTimeStamp></xades141:ArchiveTimeStamp></xa:UnsignedSignatureProperties></xa:UnsignedProperties>`,
	}
	at := 0
	for _, w := range want {
		i := strings.Index(usp[at:], w)
		if i < 0 {
			t.Fatalf("missing, in order: %s\nin %s", w, usp)
		}
		at += i + len(w)
	}
	// the certificate values hold the TSA's certificate and the root, not the signer's chain from KeyInfo again
	cv := between(t, usp, "<xa:CertificateValues>", "</xa:CertificateValues>")
	if n := strings.Count(cv, "<xa:EncapsulatedX509Certificate>"); n != 2 {
		t.Errorf("%d certificates in CertificateValues, want 2 (TSA and root)", n)
	}
	if strings.Contains(cv, base64.StdEncoding.EncodeToString(p.RSA.Cert.Raw)) || strings.Contains(cv, base64.StdEncoding.EncodeToString(p.Intermediate.Raw)) {
		t.Error("CertificateValues repeats a certificate of KeyInfo")
	}
}

// TestExtendDSSCorpus: a B-B signature made by EU DSS (another signer's prefixes and Ids) extends to b-lta and
// the result verifies in ours; its signature value still verifies in xmlsec1.
func TestExtendDSSCorpus(t *testing.T) {
	dir := interoptest.CorpusDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "xml", "dss-signed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	src := &testSource{}
	for _, level := range []string{"b-t", "b-lt", "b-lta"} {
		out := extend(t, string(b), extendOpts(t, level, src))
		res, err := xades.Verify([]byte(out), xades.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Signatures[0]
		if !s.SignatureValid || s.References[0].Status != xades.RefOK || len(s.SignatureTimeStamps) != 1 {
			t.Fatalf("%s: valid %v refs %+v", level, s.SignatureValid, s.References)
		}
		// the DSS test PKI is not trusted here: what counts is that the time-stamps are over the right data
		rep := verify.XML("dss.xml", []byte(out), trusting(), verify.XMLOptions{})
		for _, ts := range rep.Signatures[0].TimeStamps {
			if ts.Indication != verify.TotalPassed {
				t.Fatalf("%s: time-stamp %+v", level, ts)
			}
		}
		if level == "b-lta" && (len(s.ArchiveTimeStamps) != 1 || len(rep.Signatures[0].TimeStamps) != 2) {
			t.Fatalf("b-lta: archive time-stamps %+v", rep.Signatures[0].TimeStamps)
		}
		if interopAvailable() {
			f := writeFile(t, filepath.Join(t.TempDir(), "dss.xml"), []byte(out))
			if ok, out := interoptest.Verify(t, "xmlsec", f, "", ""); !ok {
				t.Fatalf("xmlsec1 rejects the extended DSS signature:\n%s", out)
			}
		}
	}
}

// TestExtendRefuses: what Extend does not extend, and why.
func TestExtendRefuses(t *testing.T) {
	p := testpki.New()
	src := &testSource{}
	good := signWith(t, attackDoc, p.RSA, xades.SignOptions{})
	tsaDown := extendOpts(t, "b-t", src)
	tsaDown.TimeStamp = stamper(t, testpki.TSAHTTP500, crypto.SHA256)
	noValidation := extendOpts(t, "b-lt", src)
	noValidation.Validation = nil
	noTSA := extendOpts(t, "b-lta", src)
	noTSA.TimeStamp = nil
	plain := xmlsecPlain(t)
	tests := []struct {
		name string
		doc  string
		o    xades.ExtendOptions
		want error
	}{
		{"tampered document", string(tamper(t, []byte(good))), extendOpts(t, "b-t", src), xades.ErrNotExtendable},
		{"tampered signature value", replaceOne(t, good, "</ds:SignatureValue>", "AAAA</ds:SignatureValue>"), extendOpts(t, "b-t", src), xades.ErrNotExtendable},
		{"no signature", attackDoc, extendOpts(t, "b-t", src), xades.ErrNotExtendable},
		{"not XAdES", plain, extendOpts(t, "b-t", src), xades.ErrNotExtendable},
		{"unknown level", good, xades.ExtendOptions{Level: "b-xl", TimeStamp: tsaDown.TimeStamp}, xades.ErrExtendLevel},
		{"b-lt without validation source", good, noValidation, xades.ErrExtendLevel},
		{"b-lta without TSA", good, noTSA, xades.ErrExtendLevel},
		{"TSA down", good, tsaDown, nil},
		{"not XML", "not xml", extendOpts(t, "b-t", src), xades.ErrNotXML},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := xades.Extend(context.Background(), []byte(tc.doc), tc.o)
			if err == nil || out != nil {
				t.Fatalf("extended: %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			t.Logf("%v", err)
		})
	}
}

// xmlsecPlain is a plain XMLDSig enveloped signature (no XAdES properties) by the RSA signer.
func xmlsecPlain(t *testing.T) string {
	dir := interoptest.CorpusDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "xml", "dss-xmldsig-only.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unsignedStripped is doc without the content of its UnsignedProperties elements: what extending may change.
func unsignedStripped(t *testing.T, doc string) string {
	t.Helper()
	var b strings.Builder
	for {
		i := strings.Index(doc, "UnsignedProperties>")
		if i < 0 {
			b.WriteString(doc)
			return b.String()
		}
		j := strings.Index(doc[i+1:], "UnsignedProperties>")
		if j < 0 {
			t.Fatal("unbalanced UnsignedProperties")
		}
		b.WriteString(doc[:i])
		doc = doc[i+1+j+len("UnsignedProperties>"):]
	}
}

// TestExtendKeepsSignedBytes: each extension only inserts unsigned properties: with them taken out, the document
// is byte for byte what it was.
func TestExtendKeepsSignedBytes(t *testing.T) {
	p := testpki.New()
	src := &testSource{}
	doc := signWith(t, attackDoc, p.EC256, xades.SignOptions{Chain: p.EC256.Chain}) // has CertificateValues already
	prev := doc
	for _, level := range []string{"b-t", "b-lt", "b-lta", "b-lta", "b-lt", "b-t"} {
		next := extend(t, prev, extendOpts(t, level, src))
		if unsignedStripped(t, next) != unsignedStripped(t, prev) {
			t.Fatalf("%s changed bytes outside the unsigned properties", level)
		}
		prev = next
	}
	checkExtended(t, prev, "XAdES-B-LTA", nil)
}

// TestExtendEverySignature: every top-level signature of a document is extended (co-signatures each get their own
// properties), counter-signatures are left as they are; the corpus files of EU DSS with two signatures and with a
// counter-signature extend too, or are refused when extending one would break another.
func TestExtendEverySignature(t *testing.T) {
	p := testpki.New()
	src := &testSource{}
	co := signWith(t, signWith(t, attackDoc, p.RSA, xades.SignOptions{}), p.EC256, xades.SignOptions{Chain: p.EC256.Chain})
	lta := extend(t, co, extendOpts(t, "b-lta", src))
	rep := verify.XML("co.xml", []byte(lta), trusting(), verify.XMLOptions{})
	if len(rep.Signatures) != 2 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	for _, s := range rep.Signatures {
		if s.Indication != verify.TotalPassed || s.Level != "XAdES-B-LTA" {
			t.Fatalf("%s %s level %s; reasons %q", s.ID, s.Indication, s.Level, s.Reasons)
		}
	}
	if interopAvailable() {
		root, inter := interopPKI(t)
		f := writeFile(t, filepath.Join(t.TempDir(), "co.xml"), []byte(lta))
		if ok, out := interoptest.Verify(t, "xmlsec", f, root, inter); !ok {
			t.Fatalf("xmlsec1:\n%s", out)
		}
	}

	dir := interoptest.CorpusDir(t)
	for _, name := range []string{"dss-xades-with-counter-sig-type.xml", "dss-doubleSignedTest.xml"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, "xml", name))
			if err != nil {
				t.Fatal(err)
			}
			before, err := xades.Verify(b, xades.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			out, err := xades.Extend(context.Background(), b, extendOpts(t, "b-lta", src))
			if err != nil {
				t.Logf("refused: %v", err)
				if !errors.Is(err, xades.ErrNotExtendable) && !strings.Contains(err.Error(), "would break") {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			after, err := xades.Verify(out, xades.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range after.Signatures {
				if !s.SignatureValid || len(s.ArchiveTimeStamps) == 0 || !imprintOK(t, s.ArchiveTimeStamps[len(s.ArchiveTimeStamps)-1].SignatureTimeStamp) {
					t.Fatalf("signature %d: valid %v, %d archive time-stamps", i, s.SignatureValid, len(s.ArchiveTimeStamps))
				}
				if len(s.CounterSignatures) != len(before.Signatures[i].CounterSignatures) {
					t.Fatalf("signature %d: counter-signatures changed", i)
				}
				for _, cs := range s.CounterSignatures {
					if !cs.SignatureValid || len(cs.ArchiveTimeStamps)+len(cs.SignatureTimeStamps) != 0 {
						t.Fatalf("counter-signature extended or broken: valid %v", cs.SignatureValid)
					}
				}
			}
		})
	}
}

// TestExtendRefusesToBreakAnotherSignature: when a signature's reference covers another signature (an enveloped-
// signature transform, which removes only its own ds:Signature), adding properties to that other signature would
// break it: Extend refuses and changes nothing.
func TestExtendRefusesToBreakAnotherSignature(t *testing.T) {
	p := testpki.New()
	inner := signWith(t, attackDoc, p.EC256, xades.SignOptions{})
	both := signWith(t, inner, p.RSA, xades.SignOptions{})
	outer := sigIDs(t, both)[1]
	tr := findSignature(t, parseDoc(t, both), outer).Child(xades.NSDSig, "SignedInfo").Child(xades.NSDSig, "Reference").
		Child(xades.NSDSig, "Transforms")
	both = both[:tr.Start] + `<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>` +
		both[tr.End:]
	d := parseDoc(t, both)
	h := crypto.SHA256.New()
	h.Write(xmldoc.AppendCanonical(nil, xmldoc.Subset{Doc: d, Exclude: []*xmldoc.Node{findSignature(t, d, outer)}}, xmldoc.Method{}))
	both = resign(t, setDigest(t, both, outer, 0, h.Sum(nil)), outer, p.RSA.Key)
	checkExtended(t, both, "XAdES-B-B", nil)

	_, err := xades.Extend(context.Background(), []byte(both), extendOpts(t, "b-t", &testSource{}))
	if err == nil || !strings.Contains(err.Error(), "would break signature "+outer) {
		t.Fatalf("Extend: %v", err)
	}
}

// FuzzExtend feeds arbitrary documents to Extend: it must never panic, and whatever it returns must still parse and
// hold as many signatures.
func FuzzExtend(f *testing.F) {
	p := testpki.New()
	c := &tsa.Client{URLs: []string{p.TSA(f, testpki.TSAGood)}}
	src := &testSource{}
	o := xades.ExtendOptions{Level: "b-lta", Validation: src.collect, TimeStamp: func(ctx context.Context, imprint []byte) ([]byte, error) {
		tok, err := c.Stamp(ctx, imprint)
		if err != nil {
			return nil, err
		}
		return tok.DER, nil
	}}
	b, err := xades.Sign([]byte(attackDoc), xades.SignOptions{Signer: p.RSA.Key, Certificate: p.RSA.Cert})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	lta, err := xades.Extend(context.Background(), b, o)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(lta)
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := xades.Extend(context.Background(), data, o)
		if err != nil {
			return
		}
		before, _ := xades.Verify(data, xades.VerifyOptions{})
		after, err := xades.Verify(out, xades.VerifyOptions{})
		if err != nil || len(after.Signatures) != len(before.Signatures) {
			t.Fatalf("extended document: %v", err)
		}
	})
}

// TestExtendDefaultNamespace: qualifying properties in the default namespace get unprefixed new properties.
func TestExtendDefaultNamespace(t *testing.T) {
	p := testpki.New()
	doc := signWith(t, attackDoc, p.RSA, xades.SignOptions{Chain: p.RSA.Chain})
	doc = strings.NewReplacer("<xades:", "<", "</xades:", "</", "xmlns:xades=", "xmlns=").Replace(doc)
	id := sigIDs(t, doc)[0]
	doc = resign(t, setDigest(t, doc, id, 1, nil), id, p.RSA.Key)
	checkExtended(t, doc, "XAdES-B-B", nil)
	lta := extend(t, doc, extendOpts(t, "b-lta", &testSource{}))
	checkExtended(t, lta, "XAdES-B-LTA", nil)
	for _, want := range []string{"<UnsignedProperties><UnsignedSignatureProperties><SignatureTimeStamp><ds:CanonicalizationMethod",
		"<CertificateValues><EncapsulatedX509Certificate>", "<RevocationValues><CRLValues>", "<xades141:ArchiveTimeStamp xmlns:xades141="} {
		if !strings.Contains(lta, want) {
			t.Errorf("missing %s", want)
		}
	}
}

// TestInteropExtendedByPeers: our B-LT and B-LTA signatures (renewed once) verify in xmlsec1 and Apache Santuario
// (EU DSS's XML signature library): extending kept them intact. xadesjs verifies the B-LT one; it cannot load any
// xades141:ArchiveTimeStamp ("Malformed element"), EU DSS's own B-LTA files included, so for B-LTA that known
// refusal is all it may say.
func TestInteropExtendedByPeers(t *testing.T) {
	interoptest.Tool(t)
	p := testpki.New()
	root, inter := interopPKI(t)
	tests := []struct {
		name string
		opts xades.SignOptions
		js   bool
	}{
		{"enveloped", xades.SignOptions{Chain: p.RSA.Chain}, false},
		{"enveloping", xades.SignOptions{Format: xades.Enveloping, Chain: p.RSA.Chain}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &testSource{}
			lt := extend(t, signWith(t, attackDoc, p.RSA, tc.opts), extendOpts(t, "b-lt", src))
			lta := extend(t, extend(t, lt, extendOpts(t, "b-lta", src)), extendOpts(t, "b-lta", src))
			dir := t.TempDir()
			ltFile, ltaFile := writeFile(t, filepath.Join(dir, "lt.xml"), []byte(lt)), writeFile(t, filepath.Join(dir, "lta.xml"), []byte(lta))
			for _, peer := range []string{"xmlsec", "santuario"} {
				for _, f := range []string{ltFile, ltaFile} {
					if ok, out := interoptest.Verify(t, peer, f, root, inter); !ok {
						t.Errorf("%s rejects %s:\n%s", peer, filepath.Base(f), out)
					}
				}
			}
			if !tc.js {
				return
			}
			if ok, out := interoptest.Verify(t, "xadesjs", ltFile, root, inter); !ok {
				t.Errorf("xadesjs rejects our B-LT:\n%s", out)
			}
			if ok, out := interoptest.Verify(t, "xadesjs", ltaFile, root, inter); !ok && !strings.Contains(out, "Malformed element 'ArchiveTimeStamp'") {
				t.Errorf("xadesjs rejects our B-LTA for another reason than its known limit:\n%s", out)
			}
		})
	}
}

// TestExtendHashes: time-stamp imprints in SHA-384 and SHA-512 (Hash, with a TSA asked in the same hash) verify;
// a hash other than the SHA-2 family is refused.
func TestExtendHashes(t *testing.T) {
	p := testpki.New()
	doc := signWith(t, attackDoc, p.RSA, xades.SignOptions{})
	for _, h := range []crypto.Hash{crypto.SHA384, crypto.SHA512} {
		t.Run(h.String(), func(t *testing.T) {
			o := extendOpts(t, "b-lta", &testSource{})
			o.Hash, o.TimeStamp = h, stamper(t, testpki.TSAGood, h)
			checkExtended(t, extend(t, doc, o), "XAdES-B-LTA", nil)
		})
	}
	o := extendOpts(t, "b-t", &testSource{})
	o.Hash = crypto.SHA1
	if _, err := xades.Extend(context.Background(), []byte(doc), o); !errors.Is(err, xades.ErrExtendLevel) {
		t.Fatalf("SHA-1 imprints: %v", err)
	}
}
