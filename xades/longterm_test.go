package xades_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// ltaDoc is attackDoc signed enveloped by the RSA signer and extended to b-lta.
func ltaDoc(t *testing.T) string {
	t.Helper()
	return ltaDocFrom(t, &testSource{})
}

func ltaDocFrom(t *testing.T, src *testSource) string {
	t.Helper()
	doc := signWith(t, attackDoc, testpki.New().RSA, xades.SignOptions{})
	return extend(t, doc, extendOpts(t, "b-lta", src))
}

// imprintOK reports whether a time-stamp's imprint is the digest of what the xades package says it covers.
func imprintOK(t *testing.T, st xades.SignatureTimeStamp) bool {
	t.Helper()
	if st.Problem != "" {
		return false
	}
	ts, err := timestamp.Parse(st.Token)
	if err != nil {
		t.Fatal(err)
	}
	h := ts.HashAlgorithm.New()
	h.Write(st.Covered)
	return bytes.Equal(h.Sum(nil), ts.HashedMessage)
}

// archiveVerdict verifies doc with ours and returns its first signature's report and archive time-stamp verdicts.
func archiveVerdict(t *testing.T, doc string) (verify.SignatureReport, []verify.TimeStamp) {
	t.Helper()
	rep := verify.XML("lta.xml", []byte(doc), trusting(), verify.XMLOptions{})
	s := rep.Signatures[0]
	var out []verify.TimeStamp
	for _, ts := range s.TimeStamps {
		if ts.Kind == "archive" {
			out = append(out, ts)
		}
	}
	return s, out
}

// TestAttackTamperedAfterArchiveTimeStamp: changing, removing or replacing any value an archive time-stamp covers
// (validation data, the signature time-stamp, KeyInfo, which the signature value does not cover) breaks that
// archive time-stamp's imprint: it is reported failed, the signature is not B-LTA and is INDETERMINATE.
func TestAttackTamperedAfterArchiveTimeStamp(t *testing.T) {
	p := testpki.New()
	lta := ltaDoc(t)
	other := ltaDocFrom(t, &testSource{calls: 10}) // other OCSP responses
	ocspEl := between(t, lta, "<xades:EncapsulatedOCSPValue>", "</xades:EncapsulatedOCSPValue>")
	otherOCSP := between(t, other, "<xades:EncapsulatedOCSPValue>", "</xades:EncapsulatedOCSPValue>")
	crlEl := between(t, lta, "<xades:CRLValues>", "</xades:CRLValues>")
	stsTok := between(t, lta, "<xades:SignatureTimeStamp>", "</xades:SignatureTimeStamp>")
	otherSTS := between(t, other, "<xades:SignatureTimeStamp>", "</xades:SignatureTimeStamp>")
	tests := []struct{ name, doc string }{
		{"OCSP response replaced by another valid one", replaceOne(t, lta, ocspEl, otherOCSP)},
		{"OCSP response removed", replaceOne(t, lta, ocspEl, "")},
		{"CRL values removed", replaceOne(t, lta, crlEl, "")},
		{"signature time-stamp replaced", replaceOne(t, lta, stsTok, otherSTS)},
		{"certificate added to KeyInfo", replaceOne(t, lta, "</ds:X509Data>",
			"<ds:X509Certificate>"+base64.StdEncoding.EncodeToString(p.Intermediate.Raw)+"</ds:X509Certificate></ds:X509Data>")},
		{"unsigned ds:Object added", replaceOne(t, lta, "</ds:Signature>", `<ds:Object Id="extra">later</ds:Object></ds:Signature>`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, archive := archiveVerdict(t, tc.doc)
			if len(archive) != 1 || archive[0].Indication != verify.TotalFailed {
				t.Fatalf("archive time-stamp %+v", archive)
			}
			if s.Level == "XAdES-B-LTA" || s.Indication != verify.Indeterminate {
				t.Fatalf("%s level %s; reasons %q", s.Indication, s.Level, s.Reasons)
			}
		})
	}
}

// TestAttackArchiveTimeStampTransplanted: an archive time-stamp copied from another signature (of the same
// document content, the same signer and TSA) does not cover this one.
func TestAttackArchiveTimeStampTransplanted(t *testing.T) {
	lta, other := ltaDoc(t), ltaDoc(t)
	ats := between(t, lta, "<xades141:ArchiveTimeStamp", "</xades141:ArchiveTimeStamp>")
	otherATS := between(t, other, "<xades141:ArchiveTimeStamp", "</xades141:ArchiveTimeStamp>")
	s, archive := archiveVerdict(t, replaceOne(t, lta, ats, otherATS))
	if len(archive) != 1 || archive[0].Indication != verify.TotalFailed || s.Level == "XAdES-B-LTA" {
		t.Fatalf("level %s, archive %+v", s.Level, archive)
	}
}

// TestAttackArchiveTimeStampOrder: an archive time-stamp moved before the RevocationValues it covered no longer
// matches; validation data placed after a valid archive time-stamp is not covered by it, and the result says so
// (CoversValidationData), so that it gives that data no proof of existence.
func TestAttackArchiveTimeStampOrder(t *testing.T) {
	lta := ltaDoc(t)
	ats := between(t, lta, "<xades141:ArchiveTimeStamp", "</xades141:ArchiveTimeStamp>")
	rv := between(t, lta, "<xades:RevocationValues>", "</xades:RevocationValues>")
	moved := replaceOne(t, replaceOne(t, lta, ats, ""), rv, ats+rv)
	s, archive := archiveVerdict(t, moved)
	if len(archive) != 1 || archive[0].Indication != verify.TotalFailed || s.Level == "XAdES-B-LTA" {
		t.Fatalf("moved before RevocationValues: level %s, archive %+v", s.Level, archive)
	}

	// RevocationValues added after the archive time-stamp: the time-stamp still matches what it covers, but does
	// not cover that data
	late := replaceOne(t, lta, "</xades:UnsignedSignatureProperties>", rv+"</xades:UnsignedSignatureProperties>")
	res, err := xades.Verify([]byte(late), xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Signatures[0].ArchiveTimeStamps
	if len(a) != 1 || !imprintOK(t, a[0].SignatureTimeStamp) || a[0].CoversValidationData {
		t.Fatalf("late data: %+v", a)
	}
	res, _ = xades.Verify([]byte(lta), xades.VerifyOptions{})
	if a := res.Signatures[0].ArchiveTimeStamps; len(a) != 1 || !a[0].CoversValidationData {
		t.Fatalf("untouched: %+v", a)
	}
}

// TestAttackManyValidationValues: tens of thousands of EncapsulatedOCSPValue (and CRL, certificate) elements are
// read up to a bound, with a warning, in bounded time.
func TestAttackManyValidationValues(t *testing.T) {
	lt := extend(t, signWith(t, attackDoc, testpki.New().RSA, xades.SignOptions{}), extendOpts(t, "b-lt", &testSource{}))
	ocspEl := between(t, lt, "<xades:EncapsulatedOCSPValue>", "</xades:EncapsulatedOCSPValue>")
	crlEl := between(t, lt, "<xades:EncapsulatedCRLValue>", "</xades:EncapsulatedCRLValue>")
	certEl := between(t, lt, "<xades:EncapsulatedX509Certificate>", "</xades:EncapsulatedX509Certificate>")
	flood := replaceOne(t, lt, ocspEl, strings.Repeat(ocspEl, 5000))
	flood = replaceOne(t, flood, crlEl, strings.Repeat(crlEl, 1000))
	flood = replaceOne(t, flood, certEl, strings.Repeat(certEl, 1000))
	start := time.Now()
	res, err := xades.Verify([]byte(flood), xades.VerifyOptions{Limits: xmldoc.Limits{MaxBytes: 64 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	v := res.Signatures[0].Validation
	if len(v.OCSP) != 256 || len(v.CRLs) != 256 || len(v.Certificates) != 256 {
		t.Fatalf("%d OCSP, %d CRLs, %d certificates read", len(v.OCSP), len(v.CRLs), len(v.Certificates))
	}
	if !strings.Contains(strings.Join(res.Signatures[0].Warnings, "\n"), "more than 256 OCSP responses") {
		t.Fatalf("no warning: %q", res.Signatures[0].Warnings)
	}
	// the values past the bound (here the TSA's OCSP response, after 5000 copies of the signer's) are not read;
	// the signer's are, so the file stays B-LT, and still verifies
	rep := verify.XML("flood.xml", []byte(flood), trusting(), verify.XMLOptions{MaxBytes: 64 << 20})
	if s := rep.Signatures[0]; s.Level != "XAdES-B-LT" || s.Indication != verify.TotalPassed {
		t.Errorf("%s level %s; reasons %q", s.Indication, s.Level, s.Reasons)
	}
	t.Logf("%d MB verified in %v", len(flood)>>20, time.Since(start))
}

// TestAttackManyArchiveTimeStamps: archive time-stamps past the bound are not checked (one entry says so).
func TestAttackManyArchiveTimeStamps(t *testing.T) {
	lta := ltaDoc(t)
	ats := between(t, lta, "<xades141:ArchiveTimeStamp", "</xades141:ArchiveTimeStamp>")
	many := replaceOne(t, lta, ats, strings.Repeat(ats, 100))
	res, err := xades.Verify([]byte(many), xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Signatures[0].ArchiveTimeStamps
	if len(a) != 17 || !strings.Contains(a[16].Problem, "more than 16 archive time-stamps") || !imprintOK(t, a[0].SignatureTimeStamp) {
		t.Fatalf("%d archive time-stamps read; last: %+v", len(a), a[len(a)-1].Problem)
	}
}

// TestArchiveTimeStampOpenSSL: `openssl ts -verify -data` accepts our archive time-stamp token over the octets the
// xades package says it covers.
func TestArchiveTimeStampOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	p := testpki.New()
	res, err := xades.Verify([]byte(ltaDoc(t)), xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Signatures[0].ArchiveTimeStamps[0]
	dir := t.TempDir()
	tok := writeFile(t, filepath.Join(dir, "ats.der"), a.Token)
	data := writeFile(t, filepath.Join(dir, "covered"), a.Covered)
	ca := writeFile(t, filepath.Join(dir, "ca.pem"), testpki.CertsPEM(p.Root))
	inter := writeFile(t, filepath.Join(dir, "inter.pem"), testpki.CertsPEM(p.Intermediate))
	out, err := exec.Command("openssl", "ts", "-verify", "-token_in", "-in", tok, "-data", data, "-CAfile", ca, "-untrusted", inter).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
	// and not over other data
	bad := writeFile(t, filepath.Join(dir, "other"), append(a.Covered[:len(a.Covered):len(a.Covered)], ' '))
	if out, err := exec.Command("openssl", "ts", "-verify", "-token_in", "-in", tok, "-data", bad, "-CAfile", ca, "-untrusted", inter).CombinedOutput(); err == nil {
		t.Fatalf("openssl accepts the token over other data:\n%s", out)
	}
}

// TestDSSArchiveTimeStamps: EU DSS's XAdES 1.3.2 archive time-stamp (corpus dss-xades-enveloping-arcTst132.xml,
// whose input leaves out the ds:Object a reference covers and includes the one none does) matches the data we
// compute for it, as does its signature time-stamp; the file keeps verifying.
func TestDSSArchiveTimeStamps(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(interoptest.CorpusDir(t), "xml", "dss-xades-enveloping-arcTst132.xml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := xades.Verify(b, xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Signatures[0]
	if !s.SignatureValid || len(s.SignatureTimeStamps) != 1 || len(s.ArchiveTimeStamps) != 1 {
		t.Fatalf("valid %v, %d signature and %d archive time-stamps", s.SignatureValid, len(s.SignatureTimeStamps), len(s.ArchiveTimeStamps))
	}
	a := s.ArchiveTimeStamps[0]
	if a.Namespace != xades.NSXAdES || !a.CoversValidationData || !imprintOK(t, a.SignatureTimeStamp) || !imprintOK(t, s.SignatureTimeStamps[0]) {
		t.Fatalf("archive time-stamp: %+v (problem %q)", a.Namespace, a.Problem)
	}
	if len(s.Validation.OCSP) != 1 || len(s.Validation.CRLs) != 1 || len(s.Validation.Certificates) != 3 {
		t.Fatalf("validation data: %d OCSP, %d CRLs, %d certificates", len(s.Validation.OCSP), len(s.Validation.CRLs), len(s.Validation.Certificates))
	}
	if !bytes.Contains(a.Covered, []byte(`<ds:Object xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="Hello">World</ds:Object>`)) {
		t.Error("the unreferenced ds:Object is not covered")
	}
}
