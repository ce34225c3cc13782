package api_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/trustsign/trustsign/client"
)

// TestAttackBidiNamesInAPIViews: the API shows an integrator's file name and additional information with their
// control and bidi characters as visible escapes (the same view the pages get), in the submission's answer, the
// status and the holder's preview.
func TestAttackBidiNamesInAPIViews(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, _, anna := e.holder(t, "anna")
	hidden := func(s string) bool {
		return strings.IndexFunc(s, func(r rune) bool {
			return r != '\n' && (unicode.IsControl(r) || unicode.In(r, unicode.Bidi_Control))
		}) >= 0
	}
	for _, tc := range []struct{ name, info, shown string }{
		{"faktura\u202efdp.exe", "Zapłać\u202e 0001", `faktura\u202efdp.exe`},
		{"\u2066umowa\u2069.pdf", "a\x1b[2Jb", `\u2066umowa\u2069.pdf`},
		{"x\u061c\u200e\u200f.xml", "linia 1\nlinia 2\u0085", `x\u061c\u200e\u200f.xml`},
	} {
		req, err := e.rx.Submit(bg, client.Submission{Document: []byte("<a/>"), FileName: tc.name, AdditionalInfo: tc.info})
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.rx.Status(bg, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		pv, err := anna.Preview(bg, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		for what, got := range map[string][2]string{"submit": {req.FileName, req.AdditionalInfo},
			"status": {st.FileName, st.AdditionalInfo}, "preview": {pv.Documents[0].FileName, pv.Documents[0].AdditionalInfo}} {
			if got[0] != tc.shown || hidden(got[0]) || hidden(got[1]) {
				t.Errorf("%s shows %q / %q, want %q and no hidden characters", what, got[0], got[1], tc.shown)
			}
		}
	}
}
