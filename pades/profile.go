package pades

import (
	"strings"
	"unicode"
)

// Profile is the trusted-profile identity bound into a trusted signature: it is written into the signature
// dictionary's /Name and /Reason, which the signature covers.
type Profile struct {
	FirstName  string
	SecondName string
	Surname    string
	PESEL      string
	ProfileID  string
	Login      string
}

// FullName is "FIRSTNAME SURNAME", the form /Name carries.
func (p *Profile) FullName() string {
	return strings.TrimSpace(p.FirstName + " " + p.Surname)
}

// names is every given name and the surname, as the real service's /Reason writes them.
func (p *Profile) names() string {
	return strings.Join(strings.Fields(p.FirstName+" "+p.SecondName+" "+p.Surname), " ")
}

// DefaultSealPhrase is how the real trusted-profile service's /Reason begins: the seal owner's phrase (its seal is
// "Minister do spraw informatyzacji - pieczęć podpisu zaufanego").
const DefaultSealPhrase = "Opatrzono pieczęcią ministra właściwego do spraw informatyzacji"

// ServiceReason returns the /Reason text in the real service's form, which tools written for real documents read:
//
//	Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: ANNA TESTOWA, PESEL: 44051401359, PZ ID: atestowa
//
// sealPhrase replaces the seal owner's phrase (empty means DefaultSealPhrase). The form carries the names, the PESEL
// and the login (the service's "PZ ID"), not the profile's number.
func (p *Profile) ServiceReason(sealPhrase string) string {
	if sealPhrase == "" {
		sealPhrase = DefaultSealPhrase
	}
	return sealPhrase + servicePrefix + p.names() + ", PESEL: " + p.PESEL + ", PZ ID: " + p.Login
}

const servicePrefix = " w imieniu: "

const reasonPrefix = "Podpis zaufany"

// Reason returns the /Reason text in trustsign's earlier form, which also carries the profile's number, e.g.
// "Podpis zaufany; imię: ANNA; nazwisko: TESTOWA-ŻÓŁĆ; PESEL: 44051401359; ID profilu: 987654321; login: atestowa".
// A second name, when present, follows the first as "drugie imię: ...". Sign writes ServiceReason unless
// SignOptions.ReasonForm asks for this one.
func (p *Profile) Reason() string {
	parts := []string{reasonPrefix, "imię: " + p.FirstName}
	if p.SecondName != "" {
		parts = append(parts, "drugie imię: "+p.SecondName)
	}
	parts = append(parts, "nazwisko: "+p.Surname, "PESEL: "+p.PESEL, "ID profilu: "+p.ProfileID, "login: "+p.Login)
	return strings.Join(parts, "; ")
}

// ParseReason reads a trusted-profile identity back from a /Reason in either form: the real service's
// ("… w imieniu: NAMES, PESEL: NNNNNNNNNNN, PZ ID: LOGIN", whatever the seal owner's phrase before it) or trustsign's
// earlier "Podpis zaufany; imię: …" form. It returns nil when the text is in neither form (in the earlier form every
// field must be present exactly once, and nothing else).
func ParseReason(s string) *Profile {
	if p := parseServiceReason(s); p != nil {
		return p
	}
	return parseLegacyReason(s)
}

// parseServiceReason reads the real service's form. The names are split as the service writes them: the first word
// is the first name, the last the surname (Polish double surnames are hyphenated), any words between are second
// names. White space is normalised first.
func parseServiceReason(s string) *Profile {
	s = strings.Join(strings.Fields(s), " ") // line breaks and repeated spaces, as some writers wrap long /Reasons
	i := strings.LastIndex(s, servicePrefix)
	if i <= 0 {
		return nil
	}
	rest := s[i+len(servicePrefix):]
	names, rest, ok := strings.Cut(rest, ", PESEL: ")
	if !ok {
		return nil
	}
	pesel, login, ok := strings.Cut(rest, ", PZ ID: ")
	if !ok || !digits(pesel, 11) || login == "" || strings.ContainsFunc(login, unicode.IsSpace) || strings.Contains(login, ",") {
		return nil
	}
	words := strings.Fields(names)
	if len(words) < 2 || strings.Join(words, " ") != names || strings.Contains(names, ",") {
		return nil
	}
	return &Profile{FirstName: words[0], SecondName: strings.Join(words[1:len(words)-1], " "), Surname: words[len(words)-1],
		PESEL: pesel, Login: login}
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func parseLegacyReason(s string) *Profile {
	parts := strings.Split(s, "; ")
	if len(parts) < 6 || parts[0] != reasonPrefix {
		return nil
	}
	p := &Profile{}
	seen := map[string]bool{}
	for _, part := range parts[1:] {
		k, v, ok := strings.Cut(part, ": ")
		if !ok || seen[k] || strings.TrimSpace(v) != v {
			return nil
		}
		seen[k] = true
		switch k {
		case "imię":
			p.FirstName = v
		case "drugie imię":
			p.SecondName = v
		case "nazwisko":
			p.Surname = v
		case "PESEL":
			p.PESEL = v
		case "ID profilu":
			p.ProfileID = v
		case "login":
			p.Login = v
		default:
			return nil
		}
	}
	for _, k := range []string{"imię", "nazwisko", "PESEL", "ID profilu", "login"} {
		if !seen[k] {
			return nil
		}
	}
	return p
}
