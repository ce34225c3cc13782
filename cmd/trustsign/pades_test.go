package main

import (
	"os"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

func TestSignAndVerifyPDF(t *testing.T) {
	f := newFixture(t)
	in := f.path("in.pdf")
	if err := os.WriteFile(in, pdftest.Build(pdftest.Simple(2, "Wniosek"), 1, pdftest.Options{}), 0o644); err != nil {
		t.Fatal(err)
	}
	out := f.path("signed.pdf")
	if code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--chain", f.path("inter.pem"),
		"--format", "pades", "--profile", f.path("profile.json"), in, "-o", out); code != 0 {
		t.Fatalf("sign: %d %s", code, stderr)
	}
	code, reps := f.verifyJSON(t, out)
	if code != 0 {
		t.Fatalf("verify: exit %d %+v", code, reps)
	}
	s := reps[0].Signatures[0]
	if reps[0].Format != "pades" || s.TrustedProfile == nil || s.TrustedProfile.PESEL != "44051401359" {
		t.Errorf("report %+v", s)
	}
	out2 := f.path("signed2.pdf")
	if code, _, stderr := ts(t, "sign", "--key", f.path("ec.key"), "--cert", f.path("ec.pem"), "--format", "pades", "--visible=false", out, "-o", out2); code != 0 {
		t.Fatalf("second signature: %d %s", code, stderr)
	}
	if code, reps := f.verifyJSON(t, out2); code != 0 || len(reps[0].Signatures) != 2 {
		t.Fatalf("two signatures: exit %d", code)
	}
	raw, _ := os.ReadFile(out)
	flipped := []byte(strings.Replace(string(raw), "Wniosek", "Xniosek", 1))
	if err := os.WriteFile(f.path("flip.pdf"), flipped, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, reps := f.verifyJSON(t, f.path("flip.pdf")); code != 1 || reps[0].Indication != verify.TotalFailed {
		t.Errorf("byte flip: exit %d", code)
	}
}

func TestSignPDFUsageErrors(t *testing.T) {
	f := newFixture(t)
	in := f.path("in.pdf")
	os.WriteFile(in, pdftest.Build(pdftest.Simple(1, "x"), 1, pdftest.Options{}), 0o644)
	base := []string{"sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--format", "pades", in, "-o", f.path("o.pdf")}
	for _, extra := range [][]string{{"--rect", "1,2,3"}, {"--rect", "a,b,c,d"}, {"--certify", "7"}, {"--signing-certificate-v2"}} {
		if code, _, _ := ts(t, append(base, extra...)...); code != 64 {
			t.Errorf("%v: exit %d, want 64", extra, code)
		}
	}
	if code, _, _ := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--format", "xades", "--page", "2", f.path("doc.xml"), "-o", f.path("o.xml")); code != 64 {
		t.Errorf("--page with xades: exit %d, want 64", code)
	}
	os.WriteFile(f.path("fake.pdf"), []byte("%PDF-1.7\n1 0 obj <<>> endobj\n"), 0o644)
	if code, _, stderr := ts(t, "sign", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--format", "pades", f.path("fake.pdf"), "-o", f.path("o.pdf")); code != 1 || stderr == "" {
		t.Errorf("broken PDF: exit %d %q", code, stderr)
	}
	if _, err := os.Stat(f.path("o.pdf")); err == nil {
		t.Error("output left behind after a failed signing")
	}
}
