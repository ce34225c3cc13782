package web_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/web"
	"github.com/trustsign/trustsign/xades"
)

// The self-contained report (trustsign verify --report, the page's download) reads on a 390 px phone: nothing is
// wider than the screen, in either language.
func TestReportFitsNarrowScreen(t *testing.T) {
	ctx := tab(t)
	pki := testpki.New()
	doc := []byte(`<wniosek><tresc>Proszę o wydanie zaświadczenia o niezaleganiu w podatkach</tresc></wniosek>`)
	signed, err := xades.Sign(doc, xades.SignOptions{Signer: pki.RSA.Key, Certificate: pki.RSA.Cert, Chain: pki.RSA.Chain})
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(signed, []byte("podatkach"), []byte("podatkachX"), 1)
	p := &verify.Policy{Roots: []*x509.Certificate{pki.Root}}
	reps := []verify.FileReport{
		verify.Bytes(context.Background(), "bardzo-dluga-nazwa-pliku-wniosku-o-wydanie-zaswiadczenia-2026-12-03.xml", tampered, p, verify.Options{}),
		verify.Bytes(context.Background(), "obcy-urzad.xml", signed, &verify.Policy{}, verify.Options{}),
		{File: "umowa.pdf", Format: "pades", Indication: verify.TotalFailed, Signatures: []verify.SignatureReport{{
			ID: "Signature1", Indication: verify.TotalFailed, SubIndication: verify.CertificateChainGeneralFailure,
			Covered: []string{"bytes 0-123456789 and 123466789-987654321 of 987654321 (revision 1 of 3)"},
			Changes: []verify.Change{{Revision: 3, Kind: "signature-dictionary", Allowed: false,
				Detail: "object 12 0 R /Contents replaced; /ByteRange rewritten; page 1 content stream replaced"}},
			Reasons: []string{"modified after signing: revision 3: signature-dictionary (object 12 0 R /Contents replaced)"},
		}}},
	}
	dir := t.TempDir()
	for _, lang := range []string{"pl", "en"} {
		var b bytes.Buffer
		if err := web.RenderReports(&b, reps, lang); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "report-"+lang+".html")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate("file://"+path))
		shot(t, ctx, "report-390px-"+lang)
		// every element whose right edge passes the window's width, named for the failure message
		wide := evalString(t, ctx, `(() => {
			const w = document.documentElement.clientWidth, out = [];
			if (document.documentElement.scrollWidth > w) out.push("page scrolls sideways: " + document.documentElement.scrollWidth + " > " + w);
			for (const e of document.querySelectorAll("body *")) {
				const r = e.getBoundingClientRect();
				if (r.right > w + 0.5) out.push(e.tagName.toLowerCase() + (e.className ? "." + e.className : "") + " to " + Math.round(r.right) + "px: " + (e.textContent || "").slice(0, 60));
			}
			return out.join("\n");
		})()`)
		if wide != "" {
			t.Errorf("%s report overflows a 390 px screen:\n%s", lang, wide)
		}
	}
	run(t, ctx, chromedp.EmulateViewport(1200, 900))
}

// The style sheet has narrow-screen rules and no fixed widths.
func TestReportCSSResponsive(t *testing.T) {
	css, err := os.ReadFile(filepath.Join("static", "report.css"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(css)
	if !strings.Contains(s, "@media (max-width:") {
		t.Error("report.css has no max-width media query")
	}
	for _, fixed := range []string{" width: ", "min-width: 6", "px;"} {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, fixed) && !strings.Contains(line, "width: 100%") && !strings.Contains(line, "border") {
				t.Errorf("fixed width in report.css: %s", strings.TrimSpace(line))
			}
		}
	}
}
