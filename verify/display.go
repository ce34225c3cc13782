package verify

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Printable makes signed text safe to show on a terminal or a page: control characters (C0, DEL, C1: ESC, CR, LF,
// backspace...), Unicode bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), line and
// paragraph separators, invisible characters (every format character, Cf: soft hyphen, zero-width space, joiners,
// word joiner, BOM, U+180E...; and the other default-ignorable code points: U+034F, Hangul fillers, variation
// selectors...) and invalid UTF-8 are written as visible escapes (\x1b, \u202e, \u200b, \xff), so that a certificate
// subject or a /Reason cannot rewrite the screen or reorder what is shown around it, and two different names never
// look the same.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || hidden(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && hidden(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func hidden(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == 0x061C, r == 0x200E, r == 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
		r == 0x2028, r == 0x2029:
		return true
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r),
		unicode.Is(unicode.Variation_Selector, r):
		// invisible: default-ignorable code points (format characters, U+034F, U+115F, U+1160, U+3164, U+FFA0,
		// variation selectors, unassigned ignorables)
		return true
	}
	return false
}

// ForDisplay returns a copy of the report whose every text (file name, signer, profile, reasons, what is covered,
// changes...) went through Printable. Text and HTML output use it; JSON keeps the exact values (JSON escapes
// control characters itself).
func (r FileReport) ForDisplay() FileReport {
	out := r
	out.File, out.Format, out.Error, out.Note = Printable(r.File), Printable(r.Format), Printable(r.Error), Printable(r.Note)
	out.ErrorCode, out.NoteCode = r.ErrorCode.printable(), r.NoteCode.printable()
	out.Signatures = make([]SignatureReport, len(r.Signatures))
	for i, s := range r.Signatures {
		out.Signatures[i] = s.forDisplay()
	}
	return out
}

func (s SignatureReport) forDisplay() SignatureReport {
	out := s
	out.ID, out.Algorithm, out.Level = Printable(s.ID), Printable(s.Algorithm), Printable(s.Level)
	if s.Signer != nil {
		sg := *s.Signer
		sg.Subject, sg.Issuer, sg.Serial = Printable(sg.Subject), Printable(sg.Issuer), Printable(sg.Serial)
		out.Signer = &sg
	}
	out.TrustedProfile, out.ClaimedProfile = printableProfile(s.TrustedProfile), printableProfile(s.ClaimedProfile)
	if s.WrappedFile != nil {
		w := *s.WrappedFile
		w.Name, w.MIMEType, w.SHA256 = Printable(w.Name), Printable(w.MIMEType), Printable(w.SHA256)
		out.WrappedFile = &w
	}
	out.Covered = printableAll(s.Covered)
	out.Reasons = printableAll(s.Reasons)
	out.Warnings = printableAll(s.Warnings)
	out.CoveredCodes = printableMessages(s.CoveredCodes)
	out.ReasonCodes = printableMessages(s.ReasonCodes)
	out.WarningCodes = printableMessages(s.WarningCodes)
	if s.Changes != nil {
		out.Changes = make([]Change, len(s.Changes))
		for i, c := range s.Changes {
			c.Kind, c.Detail = Printable(c.Kind), Printable(c.Detail)
			out.Changes[i] = c
		}
	}
	if s.TimeStamps != nil {
		out.TimeStamps = make([]TimeStamp, len(s.TimeStamps))
		for i, ts := range s.TimeStamps {
			ts.TSA, ts.Reason = Printable(ts.TSA), Printable(ts.Reason)
			ts.Revocation = printableRevocation(ts.Revocation)
			out.TimeStamps[i] = ts
		}
	}
	out.Revocation = printableRevocation(s.Revocation)
	if s.CounterSignatures != nil {
		out.CounterSignatures = make([]SignatureReport, len(s.CounterSignatures))
		for i, c := range s.CounterSignatures {
			out.CounterSignatures[i] = c.forDisplay()
		}
	}
	return out
}

func printableProfile(in *TrustedProfile) *TrustedProfile {
	if in == nil {
		return nil
	}
	p := *in
	for _, f := range []*string{&p.FirstName, &p.SecondName, &p.Surname, &p.PESEL, &p.ProfileID, &p.Login, &p.DateOfBirth} {
		*f = Printable(*f)
	}
	return &p
}

// printable is a copy of the message whose parameters (and nested messages) went through Printable.
func (m *Message) printable() *Message {
	if m == nil {
		return nil
	}
	out := Message{Code: m.Code, Detail: m.Detail.printable()}
	if m.Params != nil {
		out.Params = make(map[string]string, len(m.Params))
		for k, v := range m.Params {
			out.Params[k] = Printable(v)
		}
	}
	return &out
}

func printableMessages(in []Message) []Message {
	if in == nil {
		return nil
	}
	out := make([]Message, len(in))
	for i := range in {
		out[i] = *in[i].printable()
	}
	return out
}

func printableAll(in []string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = Printable(s)
	}
	return out
}

// printableRevocation is a copy of revocation entries whose texts went through Printable.
func printableRevocation(in []CertificateRevocation) []CertificateRevocation {
	if in == nil {
		return nil
	}
	out := make([]CertificateRevocation, len(in))
	for i, e := range in {
		e.Subject, e.Serial = Printable(e.Subject), Printable(e.Serial)
		e.Note = e.Note.printable()
		out[i] = e
	}
	return out
}
