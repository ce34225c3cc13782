package web_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

const prescription = `<?xml version="1.0" encoding="UTF-8"?>
<recepta xmlns="urn:example:rx"><pacjent pesel="02270803624">Piotr Testowy</pacjent><lek dawka="1x dziennie">Amoxicillinum 500 mg</lek><uwagi>Nie łączyć z alkoholem &amp; lekami &lt;X&gt;</uwagi></recepta>`

// TestBrowserCitizenPath walks the whole path in a browser: register → confirm contact → an officer confirms →
// log in → the demo application form (with a PDF attachment) → sign with the code from the message → download
// → verify on the auditor's page → download the HTML report.
func TestBrowserCitizenPath(t *testing.T) {
	e := newEnv(t)
	ctx := tab(t)
	base := e.srv.URL

	navigate(t, ctx, base+"/")
	submitAndWait(t, ctx, ".lang-switch") // the browser asks for English; switch to Polish
	if lang := evalString(t, ctx, `document.documentElement.lang`); lang != "pl" {
		t.Fatalf("lang %q after the switch", lang)
	}
	shot(t, ctx, "01-start")

	submitAndWait(t, ctx, `a.button[href="/register"]`)
	// instant feedback: a PESEL with a bad check digit, then a weak password
	fill(t, ctx, "pesel", "44051401358")
	run(t, ctx, chromedp.Blur(chromedp.ID("pesel")))
	fill(t, ctx, "password", "abc")
	mustContain(t, "PESEL feedback", textOf(t, ctx, "#pesel-live"), "cyfrą kontrolną")
	mustContain(t, "password feedback", textOf(t, ctx, "#password-live"), "wielka litera")
	shot(t, ctx, "02-register-instant-validation")

	run(t, ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("pesel").value = ""; document.getElementById("password").value = ""`))
	fill(t, ctx, "login", "anna_k", "password", "Zielony-Las-2026", "password2", "Zielony-Las-2026",
		"firstName", "Anna", "secondName", "Maria", "surname", "Kowalska", "pesel", "44051401359",
		"email", "anna@example.test", "phone", "500 100 200")
	run(t, ctx, chromedp.Click(chromedp.ID("codeChannel-email")))
	shot(t, ctx, "03-register-filled")
	submitAndWait(t, ctx, "#register-form button[type=submit]")
	appNo := textOf(t, ctx, "#application-number")
	if !regexp.MustCompile(`^PZ-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$`).MatchString(appNo) {
		t.Fatalf("application number %q", appNo)
	}
	shot(t, ctx, "04-contact-code")
	fill(t, ctx, "code", e.code("anna@example.test"))
	submitAndWait(t, ctx, `form[action="/register/confirm"] button`)
	mustContain(t, "contact confirmed", textOf(t, ctx, "h1"), "potwierdzony")
	shot(t, ctx, "05-contact-confirmed")

	// the officer, in a browser of their own
	octx := tab(t)
	navigate(t, octx, base+"/?lang=pl")
	navigate(t, octx, base+"/officer")
	if !strings.Contains(location(t, octx), "/login?next=%2Fofficer") {
		t.Fatalf("anonymous officer page went to %s", location(t, octx))
	}
	fill(t, octx, "login", officerLogin, "password", officerPass)
	shot(t, octx, "06-officer-login")
	submitAndWait(t, octx, `form[action="/login"] button`)
	fill(t, octx, "applicationNumber", strings.ToLower(appNo))
	submitAndWait(t, octx, "form.search button")
	mustContain(t, "applicant data", textOf(t, octx, "#applicant"), "Anna", "Maria", "Kowalska", "44051401359", "14.05.1944")
	fill(t, octx, "documentNumber", "ABC123456")
	run(t, octx, chromedp.Click(chromedp.ID("checked")))
	shot(t, octx, "07-officer-application")
	submitAndWait(t, octx, "#officer-confirm")
	mustContain(t, "officer result", textOf(t, octx, "#application-status"), "aktywny")
	shot(t, octx, "08-officer-confirmed")

	// the citizen logs in and sees the active profile
	navigate(t, ctx, base+"/login")
	fill(t, ctx, "login", "anna_k", "password", "Zielony-Las-2026")
	submitAndWait(t, ctx, `form[action="/login"] button`)
	mustContain(t, "profile status", textOf(t, ctx, "#profile-status"), "aktywny")
	shot(t, ctx, "09-profile")

	// the integrator's application form, with a PDF attachment
	pdfPath := filepath.Join(t.TempDir(), "zalacznik.pdf")
	os.WriteFile(pdfPath, pdftest.Build(pdftest.Simple(1, "Zalacznik do wniosku"), 1, pdftest.Options{}), 0o644)
	navigate(t, ctx, base+"/demo")
	fill(t, ctx, "firstName", "Anna", "surname", "Kowalska", "address", "ul. Polna 1, 00-001 Testowo",
		"content", "Proszę o zameldowanie <script>alert(1)</script> od 1 lipca.")
	run(t, ctx, chromedp.SetUploadFiles(chromedp.ID("attachment"), []string{pdfPath}))
	shot(t, ctx, "10-demo-form")
	submitAndWait(t, ctx, "#demo-submit")
	if !strings.Contains(location(t, ctx), "/sign/") {
		t.Fatalf("demo went to %s", location(t, ctx))
	}
	pre := textOf(t, ctx, "pre.xml")
	mustContain(t, "XML shown escaped", pre, "&lt;script&gt;alert(1)&lt;/script&gt;", "<imie>Anna</imie>")
	if n := evalString(t, ctx, `String(document.querySelectorAll("script").length)`); n != "1" {
		t.Errorf("%s script elements on the signing page, want only app.js", n)
	}
	if src := evalString(t, ctx, `document.querySelector("iframe.pdf").getAttribute("src")`); !strings.Contains(src, "/documents/") {
		t.Errorf("PDF frame src %q", src)
	}
	phrase := textOf(t, ctx, "#phrase")
	shot(t, ctx, "11-sign-page")
	run(t, ctx, chromedp.ScrollIntoView(chromedp.CSS("iframe.pdf")))
	time.Sleep(1500 * time.Millisecond) // let the PDF viewer draw
	shotViewport(t, ctx, "11b-sign-page-pdf-viewer")
	pressEnterAndWait(t, ctx, "#send-code") // by keyboard: the PDF viewer may keep the mouse

	msg, _ := e.sent.Last("anna@example.test")
	mustContain(t, "the message repeats the verification words", msg.Body, phrase)
	shot(t, ctx, "12-code-sent")
	fill(t, ctx, "code", msg.Code)
	submitAndWait(t, ctx, "#sign-submit")
	if !strings.Contains(location(t, ctx), "/demo/result?case=") {
		t.Fatalf("after signing at %s", location(t, ctx))
	}
	mustContain(t, "demo result", textOf(t, ctx, "#demo-status"), "podpisany")
	shot(t, ctx, "13-demo-result")

	signedXML := download(t, ctx, "ul.docs li:nth-child(1) a.download")
	signedPDF := download(t, ctx, "ul.docs li:nth-child(2) a.download")
	rep := verify.XML("wniosek.xml", signedXML, e.policy, verify.XMLOptions{})
	if rep.Indication != verify.TotalPassed || rep.Signatures[0].TrustedProfile == nil || rep.Signatures[0].TrustedProfile.PESEL != "44051401359" {
		t.Fatalf("downloaded XML: %+v", rep)
	}
	prep := verify.PDF(bg, bytes.NewReader(signedPDF), int64(len(signedPDF)), e.policy)
	if prep.Indication != verify.TotalPassed || prep.Signatures[0].TrustedProfile == nil {
		t.Fatalf("downloaded PDF: %+v", prep)
	}

	// the auditor's page
	xmlPath := filepath.Join(t.TempDir(), "wniosek.podpisany.xml")
	os.WriteFile(xmlPath, signedXML, 0o644)
	navigate(t, ctx, base+"/verify")
	run(t, ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{xmlPath}))
	submitAndWait(t, ctx, "#verify-submit")
	mustContain(t, "report page", textOf(t, ctx, ".report"), "Podpis prawidłowy", "TOTAL_PASSED", "Anna Maria Kowalska",
		"44051401359", "anna_k")
	shot(t, ctx, "14-verify-report")
	html := download(t, ctx, "#report-download")
	checkSelfContained(t, html)
	reportPath := filepath.Join(t.TempDir(), "raport.html")
	os.WriteFile(reportPath, html, 0o644)
	navigate(t, ctx, "file://"+reportPath)
	mustContain(t, "standalone report", textOf(t, ctx, "main"), "44051401359", "Podpis prawidłowy")
	shot(t, ctx, "15-report-standalone")

	// a PDF on the auditor's page lists the signature and the revisions
	pdfSignedPath := filepath.Join(t.TempDir(), "zalacznik.podpisany.pdf")
	os.WriteFile(pdfSignedPath, signedPDF, 0o644)
	navigate(t, ctx, base+"/verify")
	run(t, ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{pdfSignedPath}))
	submitAndWait(t, ctx, "#verify-submit")
	mustContain(t, "PDF report page", textOf(t, ctx, ".report"), "PAdES", "44051401359")
	shot(t, ctx, "16-verify-report-pdf")
}

// TestBrowserWrongCodeThreeTimes: the holder comes from an integrator, logs in first, types a wrong code three
// times (the code dies), and signs with a new code; the browser ends on the integrator's success page.
func TestBrowserWrongCodeThreeTimes(t *testing.T) {
	e := newEnv(t)
	e.holder("piotr", "02270803624")
	req := e.submit(prescription, "recepta.xml")
	ctx := tab(t)
	base := e.srv.URL
	navigate(t, ctx, base+"/?lang=pl")
	navigate(t, ctx, base+req.SignURL)
	mustContain(t, "login first", textOf(t, ctx, "main"), "Zaloguj się, aby zobaczyć dokument")
	fill(t, ctx, "login", "piotr", "password", holderPassword)
	shot(t, ctx, "20-login-to-sign")
	submitAndWait(t, ctx, `form[action="/login"] button`)
	if !strings.HasSuffix(location(t, ctx), req.SignURL) {
		t.Fatalf("after login at %s, want %s", location(t, ctx), req.SignURL)
	}
	mustContain(t, "requesting service", textOf(t, ctx, "#sign-service"), "e-Urząd Testowy")
	mustContain(t, "XML shown", textOf(t, ctx, "pre.xml"), `<lek dawka="1x dziennie">Amoxicillinum 500 mg</lek>`, "&amp; lekami &lt;X&gt;")
	shot(t, ctx, "21-sign-page-xml")
	submitAndWait(t, ctx, "#send-code")
	good := e.code("piotr@example.test")
	wrong := "000000"
	if good == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 3; i++ {
		fill(t, ctx, "code", wrong)
		submitAndWait(t, ctx, "#sign-submit")
		msg := textOf(t, ctx, ".error-summary")
		if i < 3 {
			mustContain(t, "wrong code", msg, "Nieprawidłowy kod")
			if i == 1 {
				shot(t, ctx, "22-wrong-code")
			}
		} else {
			mustContain(t, "third wrong code", msg, "Zbyt wiele błędnych prób")
			shot(t, ctx, "23-code-killed")
		}
	}
	fill(t, ctx, "code", good)
	submitAndWait(t, ctx, "#sign-submit")
	mustContain(t, "the killed code", textOf(t, ctx, ".error-summary"), "Nieprawidłowy kod")

	e.clock.Add(2 * time.Second) // a new code may be asked for a second after the last
	submitAndWait(t, ctx, "#send-code")
	fill(t, ctx, "code", e.code("piotr@example.test"))
	submitAndWait(t, ctx, "#sign-submit")
	if !strings.HasPrefix(location(t, ctx), e.integrator.URL+"/ok") {
		t.Fatalf("after signing at %s", location(t, ctx))
	}
	mustContain(t, "integrator", textOf(t, ctx, "#outcome"), "integrator: signed")
	shot(t, ctx, "24-integrator-success")
}

// TestBrowserExpiredRequest: the code is entered after the request expired; the browser goes to the
// integrator's failure page, and the signing page says the time ran out.
func TestBrowserExpiredRequest(t *testing.T) {
	e := newEnv(t)
	e.holder("ewa", "02211307589")
	req := e.submit(prescription, "recepta.xml")
	ctx := tab(t)
	base := e.srv.URL
	navigate(t, ctx, base+"/?lang=pl")
	navigate(t, ctx, base+req.SignURL)
	fill(t, ctx, "login", "ewa", "password", holderPassword)
	submitAndWait(t, ctx, `form[action="/login"] button`)
	submitAndWait(t, ctx, "#send-code")
	code := e.code("ewa@example.test")
	e.clock.Add(11 * time.Minute)
	fill(t, ctx, "code", code)
	submitAndWait(t, ctx, "#sign-submit")
	if !strings.HasPrefix(location(t, ctx), e.integrator.URL+"/failed") {
		t.Fatalf("expired request went to %s", location(t, ctx))
	}
	shot(t, ctx, "30-expired-integrator-failure")
	navigate(t, ctx, base+req.SignURL)
	mustContain(t, "expired page", textOf(t, ctx, "#h-closed"), "Czas na podpis minął")
	if n := evalString(t, ctx, `String(document.querySelectorAll("#send-code, #sign-submit").length)`); n != "0" {
		t.Errorf("an expired request still offers %s signing buttons", n)
	}
	shot(t, ctx, "31-expired-sign-page")
}

// TestBrowserLanguageSwitch: Accept-Language picks English, the switch link turns the pages Polish and the choice
// sticks, keyboard focus is visible.
func TestBrowserLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	ctx := tab(t)
	base := e.srv.URL
	navigate(t, ctx, base+"/")
	if lang := evalString(t, ctx, `document.documentElement.lang`); lang != "en" {
		t.Fatalf("lang %q for Accept-Language en-US", lang)
	}
	mustContain(t, "English start page", textOf(t, ctx, "h1"), "Trusted profile and trusted signature")
	// the first Tab reaches the skip link, which shows with a visible focus ring
	run(t, ctx, chromedp.KeyEvent("\t"))
	if f := evalString(t, ctx, `document.activeElement.className`); f != "skip" {
		t.Errorf("first Tab focused %q, want the skip link", f)
	}
	if o := evalString(t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); o != "solid" {
		t.Errorf("focus outline %q", o)
	}
	shot(t, ctx, "40-start-en-keyboard-focus")
	submitAndWait(t, ctx, ".lang-switch")
	mustContain(t, "Polish start page", textOf(t, ctx, "h1"), "Profil zaufany i podpis zaufany")
	shot(t, ctx, "41-start-pl")
	navigate(t, ctx, base+"/register")
	if lang := evalString(t, ctx, `document.documentElement.lang`); lang != "pl" {
		t.Fatalf("the choice did not stick: lang %q", lang)
	}
	submitAndWait(t, ctx, ".lang-switch")
	if !strings.Contains(location(t, ctx), "/register?lang=en") {
		t.Errorf("switch went to %s", location(t, ctx))
	}
	mustContain(t, "English registration", textOf(t, ctx, "h1"), "Create a trusted profile")
	shot(t, ctx, "42-register-en")
}

// checkSelfContained: the downloaded report refers to nothing outside itself.
func checkSelfContained(t *testing.T, html []byte) {
	t.Helper()
	s := string(html)
	if !strings.Contains(s, "<style>") {
		t.Error("report without its inline style")
	}
	for _, bad := range []string{"<script", "<link", " src=", "href=\"http", "href='http", "url(", "@import"} {
		if strings.Contains(s, bad) {
			t.Errorf("report refers outside itself: %q", bad)
		}
	}
}

// TestBrowserWithoutJavaScript: with scripts off, the registration form still checks on the server and the
// signing path works from the integrator's link to its success page.
func TestBrowserWithoutJavaScript(t *testing.T) {
	e := newEnv(t)
	e.holder("marek", "44051401359")
	req := e.submit(prescription, "recepta.xml")
	ctx := tab(t)
	base := e.srv.URL
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	navigate(t, ctx, base+"/register?lang=pl")
	fill(t, ctx, "pesel", "44051401358", "password", "abc")
	if live := textOf(t, ctx, "#pesel-live"); live != "" {
		t.Fatalf("script feedback %q with scripts off", live)
	}
	submitAndWait(t, ctx, "#register-form button[type=submit]")
	mustContain(t, "server-side checks", textOf(t, ctx, ".error-summary"), "PESEL", "8 znaków", "wymagane")
	shot(t, ctx, "50-no-js-register-errors")
	navigate(t, ctx, base+req.SignURL)
	fill(t, ctx, "login", "marek", "password", holderPassword)
	submitAndWait(t, ctx, `form[action="/login"] button`)
	submitAndWait(t, ctx, "#send-code")
	fill(t, ctx, "code", e.code("marek@example.test"))
	shot(t, ctx, "51-no-js-sign-page")
	submitAndWait(t, ctx, "#sign-submit")
	if !strings.HasPrefix(location(t, ctx), e.integrator.URL+"/ok") {
		t.Fatalf("without JavaScript the signing ended at %s", location(t, ctx))
	}
}
