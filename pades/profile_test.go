package pades_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

// The real service's /Reason form, as seen in a genuine 2024 signature (names and numbers here are invented).
func TestParseServiceReason(t *testing.T) {
	for _, tc := range []struct {
		name   string
		reason string
		want   *pades.Profile
	}{
		{"real form", "Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: ANNA TESTOWA-ŻÓŁĆ, PESEL: 44051401359, PZ ID: atestowa",
			&pades.Profile{FirstName: "ANNA", Surname: "TESTOWA-ŻÓŁĆ", PESEL: "44051401359", Login: "atestowa"}},
		{"second name", "Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: JAN MARIA KOWALSKI-TEST, PESEL: 02270803624, PZ ID: JKOWALSKI_1",
			&pades.Profile{FirstName: "JAN", SecondName: "MARIA", Surname: "KOWALSKI-TEST", PESEL: "02270803624", Login: "JKOWALSKI_1"}},
		{"another seal owner's phrase", "Opatrzono pieczęcią Testowego Urzędu w imieniu: ANNA TESTOWA, PESEL: 44051401359, PZ ID: atestowa",
			&pades.Profile{FirstName: "ANNA", Surname: "TESTOWA", PESEL: "44051401359", Login: "atestowa"}},
		{"earlier trustsign form", testProfile.Reason(), testProfile},
		{"PESEL too short", "Opatrzono pieczęcią ministra w imieniu: ANNA TESTOWA, PESEL: 4405140135, PZ ID: atestowa", nil},
		{"PESEL with letters", "Opatrzono pieczęcią ministra w imieniu: ANNA TESTOWA, PESEL: 4405140135X, PZ ID: atestowa", nil},
		{"one name only", "Opatrzono pieczęcią ministra w imieniu: TESTOWA, PESEL: 44051401359, PZ ID: atestowa", nil},
		{"no login", "Opatrzono pieczęcią ministra w imieniu: ANNA TESTOWA, PESEL: 44051401359, PZ ID: ", nil},
		{"something after the login", "Opatrzono pieczęcią ministra w imieniu: ANNA TESTOWA, PESEL: 44051401359, PZ ID: atestowa, PESEL: 02270803624", nil},
		{"wrapped line and double spaces", "Opatrzono pieczęcią ministra\nw imieniu:  ANNA  TESTOWA, PESEL: 44051401359, PZ ID: atestowa ",
			&pades.Profile{FirstName: "ANNA", Surname: "TESTOWA", PESEL: "44051401359", Login: "atestowa"}},
		{"no phrase", " w imieniu: ANNA TESTOWA, PESEL: 44051401359, PZ ID: atestowa", nil},
		{"unrelated", "Signed by Anna", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := pades.ParseReason(tc.reason)
			switch {
			case tc.want == nil && got != nil:
				t.Errorf("ParseReason = %+v, want nil", got)
			case tc.want != nil && (got == nil || *got != *tc.want):
				t.Errorf("ParseReason = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// We sign in the real form by default (so that tools written for real documents read ours) and read it back.
func TestSignServiceReasonRoundTrip(t *testing.T) {
	p := testpki.New()
	in := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	withSecond := *testProfile
	withSecond.SecondName = "MARIA"
	for _, tc := range []struct {
		name   string
		mod    func(*pades.SignOptions)
		reason string
		want   pades.Profile
	}{
		{"default", func(o *pades.SignOptions) {},
			"Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: ANNA TESTOWA-ŻÓŁĆ, PESEL: 44051401359, PZ ID: atestowa",
			pades.Profile{FirstName: "ANNA", Surname: "TESTOWA-ŻÓŁĆ", PESEL: "44051401359", Login: "atestowa"}},
		{"second name", func(o *pades.SignOptions) { o.Profile = &withSecond },
			"Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: ANNA MARIA TESTOWA-ŻÓŁĆ, PESEL: 44051401359, PZ ID: atestowa",
			pades.Profile{FirstName: "ANNA", SecondName: "MARIA", Surname: "TESTOWA-ŻÓŁĆ", PESEL: "44051401359", Login: "atestowa"}},
		{"configured phrase", func(o *pades.SignOptions) { o.SealPhrase = "Opatrzono pieczęcią Urzędu Testowego" },
			"Opatrzono pieczęcią Urzędu Testowego w imieniu: ANNA TESTOWA-ŻÓŁĆ, PESEL: 44051401359, PZ ID: atestowa",
			pades.Profile{FirstName: "ANNA", Surname: "TESTOWA-ŻÓŁĆ", PESEL: "44051401359", Login: "atestowa"}},
		{"earlier form on request", func(o *pades.SignOptions) { o.LegacyReason = true }, testProfile.Reason(), *testProfile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(p.RSA)
			o.Profile = testProfile
			tc.mod(&o)
			var out bytes.Buffer
			if _, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, o); err != nil {
				t.Fatal(err)
			}
			res, err := pades.Verify(context.Background(), bytes.NewReader(out.Bytes()), int64(out.Len()), pades.VerifyOptions{})
			if err != nil || len(res.Signatures) != 1 {
				t.Fatalf("verify: %v", err)
			}
			s := res.Signatures[0]
			if s.Reason != tc.reason {
				t.Errorf("/Reason %q, want %q", s.Reason, tc.reason)
			}
			if s.Name != strings.TrimSpace(o.Profile.FirstName+" "+o.Profile.Surname) {
				t.Errorf("/Name %q", s.Name)
			}
			if s.Profile == nil || *s.Profile != tc.want {
				t.Errorf("profile read back %+v, want %+v", s.Profile, tc.want)
			}
		})
	}
}
