package xades

import (
	"strings"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

// DefaultAuthorizationPolicy is written in ppZP:IdPolitykiAutoryzacji when the profile does not name one.
const DefaultAuthorizationPolicy = "urn:trustsign:authorization:one-time-code"

// writePodpisZP writes the trusted-profile binding in the real service's ppZP:PodpisZP shape.
func writePodpisZP(w *sigWriter, p *Profile) {
	pol := p.AuthorizationPolicy
	if pol == "" {
		pol = DefaultAuthorizationPolicy
	}
	w.start("ppZP", "PodpisZP")
	w.decl("ppZP")
	w.decl("os")
	w.enter()
	w.start("ppZP", "DaneZP")
	w.enter()
	w.start("ppZP", "DaneZPOsobyFizycznej")
	w.enter()
	w.start("os", "Nazwisko")
	w.attr("rodzajCzlonu", "pierwszy")
	w.enter()
	w.text(p.Surname)
	w.end()
	w.element("os", "Imie", p.FirstName)
	if p.SecondName != "" {
		w.element("os", "ImieDrugie", p.SecondName)
	}
	w.element("os", "PESEL", p.PESEL)
	w.element("ppZP", "IdZaufanegoProfilu", p.ProfileID)
	w.element("ppZP", "IdKontaUzytkownikaEpuap", p.Login)
	w.end() // DaneZPOsobyFizycznej
	w.end() // DaneZP
	w.start("ppZP", "DanePodpisu")
	w.enter()
	w.element("ppZP", "IdKontaUzytkownikaEpuap", p.Login)
	w.element("ppZP", "IdPolitykiAutoryzacji", pol)
	w.end() // DanePodpisu
	w.end() // PodpisZP
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
