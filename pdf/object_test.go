package pdf_test

import (
	"testing"

	"github.com/trustsign/trustsign/pdf"
)

// TestAppendReal: reals are written with four decimals when exact, and otherwise as read, so that a dictionary
// copied into an update (a page gaining /Annots) keeps its values.
func TestAppendReal(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{595.27563, "595.27563"}, {841.8898, "841.8898"}, {0.5, "0.5"}, {72, "72"}, {-0.25, "-0.25"}, {1.0 / 3, "0.3333333333333333"},
	} {
		if got := string(pdf.AppendObject(nil, pdf.Real(tc.in))); got != tc.want {
			t.Errorf("AppendObject(Real(%v)) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
