package xades_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// pesel builds a PESEL for a birth date (1900-1999 or 2000-2099) and a 4-digit serial, with its check digit.
func pesel(year, month, day, serial int) string {
	if year >= 2000 {
		month += 20
	}
	s := fmt.Sprintf("%02d%02d%02d%04d", year%100, month, day, serial)
	sum := 0
	for i, w := range []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3} {
		sum += int(s[i]-'0') * w
	}
	return s + fmt.Sprint((10-sum%10)%10)
}

func TestPESELHelper(t *testing.T) {
	// the spec's invented sample and one with a 21st-century month
	if got := pesel(1944, 5, 14, 135); got != "44051401359" {
		t.Errorf("pesel = %s", got)
	}
	if got := pesel(2002, 7, 8, 362); got != "02270803624" {
		t.Errorf("pesel = %s", got)
	}
}

// replaceProfileBinding swaps the ppZP:PodpisZP of our signature for other XML inside ClaimedRole and re-makes the
// SignedProperties digest and the signature value, as a signer writing that form would.
func replaceProfileBinding(t *testing.T, doc, binding string) string {
	t.Helper()
	id := sigIDs(t, doc)[0]
	doc = replaceOne(t, doc, between(t, doc, "<ppZP:PodpisZP", "</ppZP:PodpisZP>"), binding)
	doc = setDigest(t, doc, id, 1, nil)
	return resign(t, doc, id, testpki.New().RSA.Key)
}

// Both namespaces of ../shared/spec/formats.md are read into the profile: ppZP:PodpisZP and the newer
// podpis_zaufany NaturalPerson/SignatureData.
func TestProfileBothNamespaces(t *testing.T) {
	p := testpki.New()
	zofia := &xades.Profile{FirstName: "ZOFIA", SecondName: "MARIA", Surname: "TESTOWA-NOWAK", PESEL: pesel(1985, 3, 12, 4821),
		ProfileID: "556677889", Login: "ztestowa", AuthorizationPolicy: "urn:example:sms"}
	signed := signWith(t, attackDoc, p.RSA, xades.SignOptions{Profile: zofia})
	tomasz := pesel(2003, 11, 2, 9917)
	newForm := func(prefix, rootAttrs string) string {
		return `<` + prefix + `PodpisZaufany ` + rootAttrs + `><` + prefix + `NaturalPerson><` + prefix + `CurrentFamilyName>WZOROWY</` + prefix +
			`CurrentFamilyName><` + prefix + `FirstName>TOMASZ</` + prefix + `FirstName><` + prefix + `DateOfBirth>2003-11-02</` + prefix +
			`DateOfBirth><` + prefix + `PersonalIdentifier>PNOPL-` + tomasz + `</` + prefix + `PersonalIdentifier></` + prefix +
			`NaturalPerson><` + prefix + `SignatureData><` + prefix + `IdentityIssuer>Profil Zaufany</` + prefix + `IdentityIssuer><` + prefix +
			`IdentityIssueTimestamp>2026-11-30T10:15:00Z</` + prefix + `IdentityIssueTimestamp></` + prefix + `SignatureData></` + prefix + `PodpisZaufany>`
	}
	wantNew := xades.Profile{FirstName: "TOMASZ", Surname: "WZOROWY", PESEL: tomasz, DateOfBirth: "2003-11-02",
		IdentityIssuer: "Profil Zaufany", IdentityIssuedAt: "2026-11-30T10:15:00Z"}
	cases := []struct {
		name string
		doc  func(t *testing.T) string
		want xades.Profile
	}{
		{"ppZP (" + xades.NSPPZP + ")", func(t *testing.T) string { return signed }, *zofia},
		{"podpis_zaufany (" + xades.NSPZNew + "), prefixed", func(t *testing.T) string {
			return replaceProfileBinding(t, signed, newForm("pz:", `xmlns:pz="`+xades.NSPZNew+`"`))
		}, wantNew},
		{"podpis_zaufany, default namespace", func(t *testing.T) string {
			return replaceProfileBinding(t, signed, newForm("", `xmlns="`+xades.NSPZNew+`"`))
		}, wantNew},
		{"podpis_zaufany, escaped in the ClaimedRole text", func(t *testing.T) string {
			escaped := strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(newForm("pz:", `xmlns:pz="`+xades.NSPZNew+`"`))
			return replaceProfileBinding(t, signed, escaped)
		}, wantNew},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := tc.doc(t)
			res, err := xades.Verify([]byte(doc), xades.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s := res.Signatures[0]
			if !s.SignatureValid || s.Profile == nil {
				t.Fatalf("valid %v, profile %+v (%q)", s.SignatureValid, s.Profile, s.Structure)
			}
			if *s.Profile != tc.want {
				t.Errorf("profile\n got %+v\nwant %+v", *s.Profile, tc.want)
			}
			rep := verify.XML("signed.xml", []byte(doc), trusting(), verify.XMLOptions{}).Signatures[0]
			checkSignature(t, rep, passed)
			if rep.TrustedProfile == nil || rep.TrustedProfile.PESEL != tc.want.PESEL || rep.TrustedProfile.Surname != tc.want.Surname {
				t.Errorf("report's trusted profile %+v", rep.TrustedProfile)
			}
		})
	}
}
