package web

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestPrettyXML(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"nested with text", `<?xml version="1.0"?><a x="1"><b>text</b><c/><d></d></a>`,
			"<?xml version=\"1.0\"?>\n<a x=\"1\">\n  <b>text</b>\n  <c/>\n  <d/>\n</a>"},
		{"prefixes and attributes kept", `<p:a xmlns:p="urn:p" p:at='q"&lt;'><p:b/></p:a>`,
			"<p:a xmlns:p=\"urn:p\" p:at=\"q&quot;&lt;\">\n  <p:b/>\n</p:a>"},
		{"text re-escaped", `<a><![CDATA[<script>&]]></a>`, "<a>&lt;script&gt;&amp;</a>"},
		{"comments and mixed content", `<a>one<!-- c --><b>two</b>three</a>`,
			"<a>one\n  <!-- c -->\n  <b>two</b>\n  three\n</a>"},
		{"whitespace between elements dropped", "<a>\n  <b>x</b>\n\n</a>", "<a>\n  <b>x</b>\n</a>"},
		{"not well-formed: shown as it is", `<a><b></a>`, `<a><b></a>`},
		{"unclosed", `<a><b/>`, `<a><b/>`},
		{"entity from a DTD: as it is", `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`, `<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>`},
		{"invalid UTF-8 replaced", "<a>\xff</a>", "<a>\uFFFD</a>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := prettyXML([]byte(tc.in)); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	deep := strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300)
	if got := prettyXML([]byte(deep)); got != deep {
		t.Error("a too deep document should be shown as it is")
	}
}

func TestAcceptLanguage(t *testing.T) {
	for h, want := range map[string]string{"": "pl", "en": "en", "pl-PL,pl;q=0.9,en;q=0.8": "pl", "en-GB,en;q=0.9,pl;q=0.8": "en",
		"de-DE, fr;q=0.9": "pl", "*": "pl", "en;q=0.2, pl;q=0.1": "en", "pl;q=0": "pl", "en;q=0, pl;q=0": "pl"} {
		if got := acceptLanguage(h); got != want {
			t.Errorf("%q: %s, want %s", h, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{"/sign/abc": "/sign/abc", "/officer?x=1": "/officer?x=1", "": "",
		"//evil.example": "", `/\evil.example`: "", "https://evil.example/": "", "javascript:alert(1)": "",
		"/a\r\nSet-Cookie: x": "", "sign/abc": "", "/\tx": ""} {
		if got := safeNext(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

func TestCatalog(t *testing.T) {
	verbs := regexp.MustCompile(`%[dsvq]`)
	for k, e := range catalog {
		if strings.TrimSpace(e[0]) == "" || strings.TrimSpace(e[1]) == "" {
			t.Errorf("%s: empty text", k)
		}
		if a, b := verbs.FindAllString(e[0], -1), verbs.FindAllString(e[1], -1); strings.Join(a, "") != strings.Join(b, "") {
			t.Errorf("%s: format verbs differ: %v %v", k, a, b)
		}
	}
	for reason, k := range reasonKeys {
		if !hasKey(k) {
			t.Errorf("reason %q maps to the missing key %s", reason, k)
		}
	}
	// every key named in the Go code and the templates is in the catalog
	keyRe := regexp.MustCompile(`(?:\bT|translate\((?:lang|v\.Lang|"pl"|"en"),|fail\(w, r, [a-zA-Z.]+,|codeError|Errors\[[^]]*\] = v\.T\()\s*\(?\s*"([a-z][A-Za-z0-9]*\.[A-Za-z0-9.\-]+)"`)
	files, _ := filepath.Glob("*.go")
	tmpls, _ := filepath.Glob("templates/*.html")
	for _, f := range append(files, tmpls...) {
		if strings.HasSuffix(f, "_test.go") || f == "i18n.go" {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			if !hasKey(m[1]) && !strings.HasSuffix(m[1], ".") {
				t.Errorf("%s: key %q not in the catalog", f, m[1])
			}
		}
		for _, m := range regexp.MustCompile(`"((?:err|val|flash|title|sign|demo|report)\.[A-Za-z0-9.\-]+)"`).FindAllStringSubmatch(string(b), -1) {
			if !hasKey(m[1]) && !strings.HasSuffix(m[1], ".") {
				t.Errorf("%s: key %q not in the catalog", f, m[1])
			}
		}
	}
	for _, prefix := range []string{"status.", "sign.status.", "demo.status."} {
		for _, st := range []string{"pending", "signed", "expired", "cancelled", "failed", "active", "revoked", "invalid"} {
			isProfile := st == "active" || st == "revoked" || st == "invalid" || st == "pending" || st == "expired"
			isRequest := st != "active" && st != "revoked" && st != "invalid"
			if (prefix == "status." && isProfile) || (prefix != "status." && isRequest) {
				if !hasKey(prefix + st) {
					t.Errorf("missing %s%s", prefix, st)
				}
			}
		}
	}
}

// goldenReport is a report with every part filled in: profile identity, wrapped file, PDF changes, reasons, a
// counter-signature, and a file that could not be read.
func goldenReport() []verify.FileReport {
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	return []verify.FileReport{{
		File: "wniosek <1>.xml", Format: "xades", Indication: verify.TotalPassed,
		Signatures: []verify.SignatureReport{{
			ID: "ID-1", Indication: verify.TotalPassed, SigningTime: &at, Level: "XAdES-B-B", Algorithm: "ECDSA-SHA256",
			Signer: &verify.Signer{Subject: "CN=Pieczęć podpisu zaufanego,O=Ministerstwo,C=PL", Issuer: "CN=Test CA,C=PL",
				Serial: "123456789", NotBefore: at.AddDate(-1, 0, 0), NotAfter: at.AddDate(2, 0, 0)},
			TrustedProfile: &verify.TrustedProfile{FirstName: "ANNA", SecondName: "MARIA", Surname: "TESTOWA-ŻÓŁĆ",
				PESEL: "44051401359", ProfileID: "987654321", Login: "atestowa", DateOfBirth: "1944-05-14"},
			Covered:     []string{"whole document <wniosek>, excluding 1 signature element(s)"},
			Checks:      verify.Checks{Structure: verify.Passed, Digests: verify.Passed, SignatureValue: verify.Passed, SigningCertificate: verify.Passed, Chain: verify.Passed},
			WrappedFile: &verify.WrappedFile{Name: "skan.png", MIMEType: "image/png", Size: 2048, SHA256: strings.Repeat("ab", 32)},
			CounterSignatures: []verify.SignatureReport{{ID: "CS-1", Indication: verify.Indeterminate,
				SubIndication: verify.NoCertificateChainFound, Covered: []string{"signature value of ID-1"},
				Checks:      verify.Checks{Structure: verify.Passed, Digests: verify.Passed, SignatureValue: verify.Passed, SigningCertificate: verify.NotChecked, Chain: verify.Failed},
				Reasons:     []string{"signing certificate does not chain to a trusted root"},
				ReasonCodes: []verify.Message{{Code: "chain.untrusted"}}}},
		}},
	}, {
		File: "umowa.pdf", Format: "pades", Indication: verify.TotalFailed,
		Signatures: []verify.SignatureReport{{
			ID: "Signature1", Indication: verify.TotalFailed, SubIndication: verify.HashFailure, Level: "PAdES-B-B", Modified: true,
			Covered: []string{"bytes 0-1000 and 3000-4000 of 5000 (revision 1 of 3)"},
			CoveredCodes: []verify.Message{{Code: "cover.byteRangeRevision", Params: map[string]string{"from1": "0", "to1": "1000",
				"from2": "3000", "to2": "4000", "size": "5000", "revision": "1", "revisions": "3"}}},
			Checks:      verify.Checks{Structure: verify.Passed, Digests: verify.Failed, SignatureValue: verify.Passed, SigningCertificate: verify.Passed, Chain: verify.Passed},
			Changes:     []verify.Change{{Revision: 2, Kind: "form-fill", Allowed: true}, {Revision: 3, Kind: "page-content", Allowed: false, Detail: "page 1 content stream replaced"}},
			Reasons:     []string{"the message digest does not match the signed byte ranges"},
			ReasonCodes: []verify.Message{{Code: "cms.digestMismatch"}},
		}},
	}, {
		File: "notes.txt", Format: "xades", Indication: verify.TotalFailed, Error: "not a well-formed, acceptable XML document: EOF",
	}}
}

func TestRenderReportGolden(t *testing.T) {
	for _, lang := range []string{"pl", "en"} {
		t.Run(lang, func(t *testing.T) {
			var b bytes.Buffer
			if err := renderReports(&b, goldenReport(), lang, time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "report."+lang+".golden.html")
			if *update {
				os.MkdirAll("testdata", 0o755)
				if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("report differs from %s (run with -update if the change is meant)", path)
			}
			s := b.String()
			for _, bad := range []string{"<script", "<link", " src=", "href=", "url(", "@import", "⟦"} {
				if strings.Contains(s, bad) {
					t.Errorf("report holds %q", bad)
				}
			}
			if !strings.Contains(s, `<html lang="`+lang+`">`) || !strings.Contains(s, "wniosek &lt;1&gt;.xml") {
				t.Error("language or escaping")
			}
		})
	}
}
