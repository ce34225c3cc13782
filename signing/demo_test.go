package signing_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/verify"
)

// TestAttackDemoPDFLooksReal: a PDF attached on the demonstration form (anyone may fill it in) was sealed exactly
// as an integrator's, so it verified as a trusted-profile signature with the holder's PESEL. Now the /Reason (inside
// the signed bytes) begins with the demonstration phrase and the stamp says DEMONSTRACJA; an integrator's PDF is
// unchanged. (The signature stays valid and still names its holder: the mark says what it is.)
func TestAttackDemoPDFLooksReal(t *testing.T) {
	e := newEnv(t)
	anna := e.holder(t, "anna", "44051401359")
	svc := signing.New(e.db, e.profiles, e.seal, signing.Options{Clock: e.clock, DemoClientID: "demo"})
	pdfDoc := pdftest.Build(pdftest.Simple(1, "Zalacznik"), 1, pdftest.Options{})
	for _, tc := range []struct {
		client string
		demo   bool
	}{{"demo", true}, {"client-1", false}} {
		t.Run(tc.client, func(t *testing.T) {
			e.clock.Add(time.Minute) // past the code's resend throttle
			req, err := svc.Submit(ctx, tc.client, signing.Submission{Document: pdfDoc, FileName: "zalacznik.pdf"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.RequestCode(ctx, anna, req.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Confirm(ctx, anna, req.ID, e.code(t, "anna")); err != nil {
				t.Fatal(err)
			}
			signed, _, err := svc.SignedDocument(ctx, tc.client, req.ID)
			if err != nil {
				t.Fatal(err)
			}
			res, err := pades.Verify(ctx, bytes.NewReader(signed), int64(len(signed)), pades.VerifyOptions{})
			if err != nil || len(res.Signatures) != 1 {
				t.Fatalf("%v %+v", err, res)
			}
			reason := res.Signatures[0].Reason
			if strings.HasPrefix(reason, signing.DemoSealPhrase) != tc.demo {
				t.Errorf("/Reason %q (demo %v)", reason, tc.demo)
			}
			rep := verify.PDF(ctx, bytes.NewReader(signed), int64(len(signed)), e.policy)
			if rep.Indication != verify.TotalPassed || rep.Signatures[0].TrustedProfile == nil {
				t.Errorf("PDF report: %+v", rep)
			}
		})
	}
}
