package web_test

import (
	"mime"
	"net/http"
	"strings"
	"testing"
	"unicode"

	"github.com/trustsign/trustsign/signing"
)

// hidden tells the runes that must never reach a page or a header from an integrator's text: controls and
// bidirectional controls.
func hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Bidi_Control) || r == '\u2028' || r == '\u2029'
}

func hasHidden(s string, keepNewline bool) bool {
	return strings.IndexFunc(s, func(r rune) bool { return hidden(r) && !(keepNewline && (r == '\n' || r == '\t')) }) >= 0
}

// TestAttackHostileFileNames: file names and additional information built to mislead (an RLO turning
// "fdp.exe" into "exe.pdf", isolates, marks, the Arabic letter mark, terminal escapes, C1 controls, quotes and
// separators that would break a header) are shown neutralised on the signing page, in the request the pages and
// the API get, and in the download's Content-Disposition: an ASCII filename fallback and the UTF-8 name in
// filename* (RFC 6266), never a raw control.
func TestAttackHostileFileNames(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	c := e.newClient()
	c.login("anna", holderPassword)
	for _, tc := range []struct {
		name, info string
		// shown is how the page and the API show the name; fallback is the ASCII filename
		shown, fallback string
	}{
		{"faktura\u202efdp.exe", "Zapłać \u202eNEZ 0001\u202c teraz", `faktura\u202efdp.exe`, `faktura_u202efdp.exe`},
		{"\u2066umowa\u2069.pdf", "\u2067x\u2069", `\u2066umowa\u2069.pdf`, `_u2066umowa_u2069.pdf`},
		{"a\u200fb\u200e.xml", "\u061c", `a\u200fb\u200e.xml`, `a_u200fb_u200e.xml`},
		{"x\u061c.xml", "ok", `x\u061c.xml`, `x_u061c.xml`},
		{"esc\x1b[31mred.txt", "\x1b[2J\x07", `esc\x1b[31mred.txt`, `esc_x1b[31mred.txt`},
		{"tab\tdel\x7f c1\u0085.txt", "line one\r\nline two", `tab\x09del\x7f c1\u0085.txt`, `tab_x09del_x7f c1_u0085.txt`},
		{"zażółć gęślą jaźń.pdf", "Wniosek nr 1/2026", "zażółć gęślą jaźń.pdf", "zazolc gesla jazn.pdf"},
		{`cudzy"słów;x%.txt`, "", `cudzy"słów;x%.txt`, `cudzy_slow_x_.txt`},
	} {
		t.Run(tc.shown, func(t *testing.T) {
			req, err := e.signing.Submit(bg, e.client.ID, signing.Submission{Document: []byte("<dokument/>"), FileName: tc.name,
				AdditionalInfo: tc.info, SuccessURL: e.integrator.URL + "/ok"})
			if err != nil {
				t.Fatal(err)
			}
			st, err := e.signing.Get(bg, e.client.ID, req.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []signing.Request{req, st} {
				if r.FileName != tc.shown || hasHidden(r.FileName, false) || hasHidden(r.AdditionalInfo, true) {
					t.Fatalf("the request shows %q / %q, want %q and no hidden characters", r.FileName, r.AdditionalInfo, tc.shown)
				}
			}
			page := c.get(req.SignURL)
			if page.StatusCode != http.StatusOK {
				t.Fatalf("page: %d", page.StatusCode)
			}
			if hasHidden(page.body, true) {
				t.Fatalf("a hidden character reached the page: %q", page.body)
			}
			doc := c.get(req.SignURL + "/documents/" + req.ID + "?download=1")
			cd := doc.Header.Get("Content-Disposition")
			if doc.StatusCode != http.StatusOK || strings.IndexFunc(cd, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
				t.Fatalf("download: %d, Content-Disposition %q is not plain ASCII", doc.StatusCode, cd)
			}
			if !strings.HasPrefix(cd, `attachment; filename="`+tc.fallback+`"`) {
				t.Errorf("Content-Disposition %q, want the fallback %q", cd, tc.fallback)
			}
			disp, params, err := mime.ParseMediaType(cd)
			if err != nil || disp != "attachment" || params["filename"] != tc.shown {
				t.Errorf("Content-Disposition %q reads as %q %q (%v), want the name %q", cd, disp, params["filename"], err, tc.shown)
			}
		})
	}
}
