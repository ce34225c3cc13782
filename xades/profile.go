package xades

import (
	"strings"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

// DefaultAuthorizationPolicy is written in ppZP:IdPolitykiAutoryzacji when the profile does not name one.
const DefaultAuthorizationPolicy = "urn:trustsign:authorization:one-time-code"

// podpisZP renders the trusted-profile binding in the real service's ppZP:PodpisZP shape.
func podpisZP(p *Profile) string {
	pol := p.AuthorizationPolicy
	if pol == "" {
		pol = DefaultAuthorizationPolicy
	}
	var b strings.Builder
	b.WriteString(`<ppZP:PodpisZP xmlns:ppZP="` + NSPPZP + `" xmlns:os="` + NSOsoba + `"><ppZP:DaneZP><ppZP:DaneZPOsobyFizycznej>`)
	b.WriteString(`<os:Nazwisko rodzajCzlonu="pierwszy">` + escapeText(p.Surname) + `</os:Nazwisko>`)
	b.WriteString(`<os:Imie>` + escapeText(p.FirstName) + `</os:Imie>`)
	if p.SecondName != "" {
		b.WriteString(`<os:ImieDrugie>` + escapeText(p.SecondName) + `</os:ImieDrugie>`)
	}
	b.WriteString(`<os:PESEL>` + escapeText(p.PESEL) + `</os:PESEL>`)
	b.WriteString(`<ppZP:IdZaufanegoProfilu>` + escapeText(p.ProfileID) + `</ppZP:IdZaufanegoProfilu>`)
	b.WriteString(`<ppZP:IdKontaUzytkownikaEpuap>` + escapeText(p.Login) + `</ppZP:IdKontaUzytkownikaEpuap>`)
	b.WriteString(`</ppZP:DaneZPOsobyFizycznej></ppZP:DaneZP><ppZP:DanePodpisu>`)
	b.WriteString(`<ppZP:IdKontaUzytkownikaEpuap>` + escapeText(p.Login) + `</ppZP:IdKontaUzytkownikaEpuap>`)
	b.WriteString(`<ppZP:IdPolitykiAutoryzacji>` + escapeText(pol) + `</ppZP:IdPolitykiAutoryzacji>`)
	b.WriteString(`</ppZP:DanePodpisu></ppZP:PodpisZP>`)
	return b.String()
}

// profileFromClaimedRole reads the trusted-profile identity from a ClaimedRole element in either known format:
// ppZP:PodpisZP (http://crd.gov.pl/xml/schematy/ppzp/) or the newer podpis_zaufany NaturalPerson/SignatureData.
// A ClaimedRole holding the binding as escaped XML text is read too.
func profileFromClaimedRole(role *xmldoc.Node) *Profile {
	var found *Profile
	role.Descendants(func(n *xmldoc.Node) bool {
		if found != nil {
			return false
		}
		switch {
		case n.Is(NSPPZP, "PodpisZP"):
			found = profileFromPPZP(n)
			return false
		case n.Space == NSPZNew && (n.Local == "NaturalPerson" || n.Local == "PodpisZaufany" || n.Local == "TrustedSignature" || n.Local == "SignatureData"):
			found = profileFromNew(n.Parent)
			return false
		}
		return true
	})
	if found != nil {
		return found
	}
	// escaped XML inside the ClaimedRole text
	text := strings.TrimSpace(role.Text())
	if strings.HasPrefix(text, "<") {
		if d, err := xmldoc.ParseString(text, xmldoc.Limits{MaxBytes: 1 << 16}); err == nil {
			if p := profileFromRoot(d.Root); p != nil {
				return p
			}
		}
	}
	return nil
}

func profileFromRoot(root *xmldoc.Node) *Profile {
	if root.Is(NSPPZP, "PodpisZP") {
		return profileFromPPZP(root)
	}
	if root.Space == NSPZNew {
		return profileFromNew(root)
	}
	return nil
}

func firstText(n *xmldoc.Node, space, local string) string {
	var out string
	found := false
	n.Descendants(func(m *xmldoc.Node) bool {
		if found {
			return false
		}
		if m.Is(space, local) {
			out, found = strings.TrimSpace(m.Text()), true
			return false
		}
		return true
	})
	return out
}

func profileFromPPZP(n *xmldoc.Node) *Profile {
	p := &Profile{
		Surname:             firstText(n, NSOsoba, "Nazwisko"),
		FirstName:           firstText(n, NSOsoba, "Imie"),
		SecondName:          firstText(n, NSOsoba, "ImieDrugie"),
		PESEL:               firstText(n, NSOsoba, "PESEL"),
		ProfileID:           firstText(n, NSPPZP, "IdZaufanegoProfilu"),
		Login:               firstText(n, NSPPZP, "IdKontaUzytkownikaEpuap"),
		AuthorizationPolicy: firstText(n, NSPPZP, "IdPolitykiAutoryzacji"),
	}
	if p.Surname == "" && p.FirstName == "" && p.PESEL == "" {
		return nil
	}
	return p
}

func profileFromNew(n *xmldoc.Node) *Profile {
	p := &Profile{
		Surname:     firstText(n, NSPZNew, "CurrentFamilyName"),
		FirstName:   firstText(n, NSPZNew, "FirstName"),
		PESEL:       firstText(n, NSPZNew, "PersonalIdentifier"),
		DateOfBirth: firstText(n, NSPZNew, "DateOfBirth"),
		ProfileID:   firstText(n, NSPZNew, "TrustedProfileId"),
		Login:       firstText(n, NSPZNew, "UserId"),
		// who vouched for the identity: not a profile id, so kept apart
		IdentityIssuer:   firstText(n, NSPZNew, "IdentityIssuer"),
		IdentityIssuedAt: firstText(n, NSPZNew, "IdentityIssueTimestamp"),
	}
	// PersonalIdentifier may carry a "PNOPL-" style prefix
	if i := strings.LastIndexAny(p.PESEL, "-:"); i >= 0 && len(p.PESEL)-i-1 == 11 {
		p.PESEL = p.PESEL[i+1:]
	}
	if p.Surname == "" && p.FirstName == "" && p.PESEL == "" {
		return nil
	}
	return p
}
