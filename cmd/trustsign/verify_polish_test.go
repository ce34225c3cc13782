package main

import (
	"bytes"
	"encoding/json"
	"html"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

// A Polish report (--report-lang pl) of real tampered, untrusted and unsigned files explains every failure in
// Polish: every reason, warning, coverage and file error has a code the catalog translates, and none of the
// English texts of the JSON report appears in the Polish HTML.
func TestPolishReportHasNoEnglishReason(t *testing.T) {
	f := newFixture(t)
	signed := f.sign(t, "pl", "--profile", f.path("profile.json"))
	raw, err := os.ReadFile(signed)
	if err != nil {
		t.Fatal(err)
	}
	xml := string(raw)
	sigValue := regexp.MustCompile(`(<(?:ds:)?SignatureValue[^>]*>)(.)`)
	signingTime := regexp.MustCompile(`(<(?:[A-Za-z0-9]+:)?SigningTime>)[0-9]{4}`)

	signWith := func(name string, args ...string) string {
		t.Helper()
		out := f.path(name)
		if code, _, stderr := ts(t, append(append([]string{"sign"}, args...), "-o", out)...); code != 0 {
			t.Fatalf("sign %s: %d %s", name, code, stderr)
		}
		return out
	}
	write(t, f.path("scan.png"), "\x89PNG\r\n\x1a\n"+strings.Repeat("skan", 200))
	wrapped := signWith("wrapped.xml", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--chain", f.path("inter.pem"), f.path("scan.png"))
	selfSigned := signWith("self-signed.xml", "--key", f.path("attacker.key"), "--cert", f.path("attacker.pem"), "--profile", f.path("profile.json"), f.path("doc.xml"))
	write(t, f.path("in.pdf"), string(pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})))
	signedPDF := signWith("signed.pdf", "--key", f.path("rsa.key"), "--cert", f.path("rsa.pem"), "--chain", f.path("inter.pem"),
		"--profile", f.path("profile.json"), f.path("in.pdf"))
	pdfRaw, _ := os.ReadFile(signedPDF)
	wrappedRaw, _ := os.ReadFile(wrapped)

	for _, tc := range []struct {
		name, content string
		trust         string
		want          verify.Indication
	}{
		{"content changed.xml", strings.Replace(xml, "500 mg", "1000 mg", 1), "root.pem", verify.TotalFailed},
		{"signing time changed.xml", signingTime.ReplaceAllString(xml, "${1}1999"), "root.pem", verify.TotalFailed},
		{"signature value changed.xml", sigValue.ReplaceAllStringFunc(xml, func(s string) string {
			if strings.HasSuffix(s, "A") {
				return s[:len(s)-1] + "B"
			}
			return s[:len(s)-1] + "A"
		}), "root.pem", verify.TotalFailed},
		{"untrusted root.xml", xml, "attacker.pem", verify.Indeterminate},
		{"self-signed signer.xml", mustRead(t, selfSigned), "root.pem", verify.Indeterminate},
		{"wrapped file changed.xml", strings.Replace(string(wrappedRaw), "c2thbnNrYW5za2Fu", "c2thbnNrYW5za2Fv", 1), "root.pem", verify.TotalFailed},
		{"malformed.xml", "<a><b></a>", "root.pem", verify.TotalFailed},
		{"bytes appended.pdf", string(pdfRaw) + "1 0 obj\n<< /Type /Catalog >>\nendobj\n", "root.pem", verify.TotalFailed},
		{"signed byte changed.pdf", strings.Replace(string(pdfRaw), "Wniosek", "Xniosek", 1), "root.pem", verify.TotalFailed},
		{"unreadable.pdf", "%PDF-1.7\n1 0 obj <<>> endobj\n", "root.pem", verify.TotalFailed},
		{"unsigned.pdf", mustRead(t, f.path("in.pdf")), "root.pem", verify.NoSignature},
		{"picture.png", "\x89PNG\r\n\x1a\n\x00\x00", "root.pem", verify.NoSignature},
		{"empty.xml", "", "root.pem", verify.NoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := f.path(tc.name)
			write(t, path, tc.content)
			report := f.path(tc.name + ".html")
			_, out, stderr := ts(t, "verify", "--json", "--trust", f.path(tc.trust), "--intermediates", f.path("inter.pem"),
				"--report", report, "--report-lang", "pl", path)
			var rep verify.FileReport
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("%v: %s %s", err, out, stderr)
			}
			if rep.Indication != tc.want {
				t.Errorf("indication %s, want %s: %s", rep.Indication, tc.want, out)
			}
			page, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			english := checkCoded(t, rep)
			if len(english) == 0 && tc.want != verify.TotalPassed {
				t.Errorf("the report explains nothing: %s", out)
			}
			for _, e := range english {
				if bytes.Contains(page, []byte(html.EscapeString(e))) {
					t.Errorf("the Polish report shows the English %q", e)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkCoded fails the test when a text of the report has no message code, or a code (nested ones included)
// that the catalog does not translate; it returns the report's English texts.
func checkCoded(t *testing.T, rep verify.FileReport) []string {
	t.Helper()
	var english []string
	var walk func(where string, m verify.Message)
	walk = func(where string, m verify.Message) {
		if verify.MessageTemplate(m.Code, "pl") == "" || m.Code == "text" {
			t.Errorf("%s: no Polish for %q (code %q)", where, m.English(), m.Code)
		}
		if m.Detail != nil {
			walk(where, *m.Detail)
		}
	}
	texts := func(where string, en []string, codes []verify.Message) {
		if len(en) != len(codes) {
			t.Errorf("%s: %d texts but %d codes", where, len(en), len(codes))
		}
		for _, m := range codes {
			walk(where, m)
		}
		english = append(english, en...)
	}
	if rep.Error != "" {
		if rep.ErrorCode == nil {
			t.Errorf("error without a code: %q", rep.Error)
		} else {
			texts("error", []string{rep.Error}, []verify.Message{*rep.ErrorCode})
		}
	}
	if rep.Note != "" {
		texts("note", []string{rep.Note}, []verify.Message{*rep.NoteCode})
	}
	var sig func(s verify.SignatureReport)
	sig = func(s verify.SignatureReport) {
		texts("reasons", s.Reasons, s.ReasonCodes)
		texts("warnings", s.Warnings, s.WarningCodes)
		texts("covered", s.Covered, s.CoveredCodes)
		for _, c := range s.CounterSignatures {
			sig(c)
		}
	}
	for _, s := range rep.Signatures {
		sig(s)
	}
	return english
}
