package main

import (
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/xades"
)

// A certificate subject (signed text) holding ESC, CR, LF or a bidi override must not rewrite the terminal or
// reorder the page: the attacker's CN below tries to erase the line and print a passing verdict.
func TestVerifyOutputEscapesControlCharacters(t *testing.T) {
	p := testpki.New()
	evilCN := "x\x1b[2K\r  Signature 1: TOTAL_PASSED\nSigner: Minister\u202eFDP.exe\x07"
	tmpl := testpki.LeafTemplate(pkix.Name{CommonName: evilCN, Country: []string{"PL"}})
	id, err := p.IssueIdentity(tmpl, p.EC256.Key)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := xades.Sign([]byte("<a>b</a>"), xades.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "evil\x1b[1m.xml")
	if err := os.WriteFile(file, signed, 0o644); err != nil {
		t.Fatal(err)
	}
	// an untrusted root: the verdict is not TOTAL_PASSED, and the output must not be able to pretend otherwise
	if err := os.WriteFile(filepath.Join(dir, "other.pem"), testpki.CertsPEM(p.Attacker.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "r.html")
	code, out, _ := ts(t, "verify", "--trust", filepath.Join(dir, "other.pem"), "--report", report, file)
	if code == exitOK {
		t.Fatalf("exit 0 for an untrusted signer")
	}
	html, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"text output": out, "HTML report": string(html)} {
		for _, c := range []string{"\x1b", "\r", "\a", "\u202e"} {
			if strings.Contains(text, c) {
				t.Errorf("%s holds the raw character %q", name, c)
			}
		}
		for _, want := range []string{`\x1b[2K`, `\u202e`} {
			if !strings.Contains(text, want) {
				t.Errorf("%s does not show the escaped %q", name, want)
			}
		}
	}
	// each line of the text output starts where we wrote it: the subject's LF did not start a line of its own
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "Signer: Minister") {
			t.Errorf("the subject started a line of its own: %q", line)
		}
	}
}
