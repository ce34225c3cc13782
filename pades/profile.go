package pades

import (
	"strings"
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

const reasonPrefix = "Podpis zaufany"

// Reason returns the /Reason text binding the profile, e.g.
// "Podpis zaufany; imię: ANNA; nazwisko: TESTOWA-ŻÓŁĆ; PESEL: 44051401359; ID profilu: 987654321; login: atestowa".
// A second name, when present, follows the first as "drugie imię: ...".
func (p *Profile) Reason() string {
	parts := []string{reasonPrefix, "imię: " + p.FirstName}
	if p.SecondName != "" {
		parts = append(parts, "drugie imię: "+p.SecondName)
	}
	parts = append(parts, "nazwisko: "+p.Surname, "PESEL: "+p.PESEL, "ID profilu: "+p.ProfileID, "login: "+p.Login)
	return strings.Join(parts, "; ")
}

// ParseReason reads a trusted-profile identity back from a /Reason written by Profile.Reason. It returns nil when
// the text is not in that form (every field must be present exactly once, and nothing else).
func ParseReason(s string) *Profile {
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
