package pades_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/verify"
)

func certified(t *testing.T, p int) []byte {
	o := opts(testpki.New().RSA)
	o.DocMDP = p
	return sign(t, formBase(), o)
}

// TestDocMDP: certification signatures with P=1/2/3 and what later revisions may do under each.
func TestDocMDP(t *testing.T) {
	p := testpki.New()
	for _, P := range []int{1, 2, 3} {
		res := wantValid(t, certified(t, P), 1)
		if s := res.Signatures[0]; !s.Certification || s.DocMDP != P || res.DocMDP != P {
			t.Errorf("P=%d: certification %v, P %d, document P %d", P, s.Certification, s.DocMDP, res.DocMDP)
		}
	}
	approve := func(b []byte) []byte { return sign(t, b, opts(p.EC256)) }
	cases := []struct {
		name string
		file func(t *testing.T) []byte
		want verify.Indication
		kind pades.ChangeKind
	}{
		{"P=1, annotation", func(t *testing.T) []byte { return addAnnotation(t, certified(t, 1)) }, verify.TotalFailed, pades.ChangeAnnotation},
		{"P=1, form filled", func(t *testing.T) []byte { return fillForm(t, certified(t, 1)) }, verify.TotalFailed, pades.ChangeFormFill},
		{"P=2, form filled", func(t *testing.T) []byte { return fillForm(t, certified(t, 2)) }, verify.TotalPassed, pades.ChangeFormFill},
		{"P=2, approval signature", func(t *testing.T) []byte { return approve(certified(t, 2)) }, verify.TotalPassed, pades.ChangeSignature},
		{"P=2, annotation", func(t *testing.T) []byte { return addAnnotation(t, certified(t, 2)) }, verify.TotalFailed, pades.ChangeAnnotation},
		{"P=2, annotation after an approval signature", func(t *testing.T) []byte { return addAnnotation(t, approve(certified(t, 2))) }, verify.TotalFailed, pades.ChangeAnnotation},
		{"P=3, annotation", func(t *testing.T) []byte { return addAnnotation(t, certified(t, 3)) }, verify.TotalPassed, pades.ChangeAnnotation},
		{"P=3, form filled and signed", func(t *testing.T) []byte { return approve(fillForm(t, certified(t, 3))) }, verify.TotalPassed, pades.ChangeFormFill},
		{"P=3, page content changed", func(t *testing.T) []byte {
			return update(t, certified(t, 3), map[int]pdftest.Object{5: streamObj("BT /F1 24 Tf 72 720 Td (Formularz: 0 PLN) Tj ET")})
		}, verify.TotalFailed, pades.ChangePageContent},
		{"/Perms rewritten later", func(t *testing.T) []byte {
			b := certified(t, 1)
			cat := object(t, b, 1)
			if !strings.Contains(cat, "/Perms <</DocMDP") {
				t.Fatalf("no /Perms in %s", cat)
			}
			return update(t, b, map[int]pdftest.Object{1: pdftest.Dict(strings.Replace(cat, "/Perms <</DocMDP", "/Perms <</UR3", 1))})
		}, verify.TotalFailed, pades.ChangeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.file(t)
			rep := verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), testPolicy())
			for _, s := range rep.Signatures {
				t.Logf("%s: %s %q %+v", s.ID, s.Indication, s.Reasons, s.Changes)
			}
			if rep.Indication != tc.want {
				t.Errorf("indication %s, want %s", rep.Indication, tc.want)
			}
			found := false
			for _, c := range rep.Signatures[0].Changes {
				found = found || c.Kind == string(tc.kind)
			}
			if !found {
				t.Errorf("no %s change reported", tc.kind)
			}
		})
	}
}

func TestDocMDPSigningRules(t *testing.T) {
	p := testpki.New()
	var out bytes.Buffer
	b := certified(t, 1)
	if _, err := pades.Sign(context.Background(), bytes.NewReader(b), int64(len(b)), &out, opts(p.EC256)); !errors.Is(err, pades.ErrNotPermitted) {
		t.Errorf("signing a P=1 document: %v", err)
	}
	o := opts(p.EC256)
	o.DocMDP = 2
	b = sign(t, formBase(), opts(p.RSA))
	if _, err := pades.Sign(context.Background(), bytes.NewReader(b), int64(len(b)), &out, o); !errors.Is(err, pades.ErrCertificationNotFirst) {
		t.Errorf("certifying a signed document: %v", err)
	}
}
