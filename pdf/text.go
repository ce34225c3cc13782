package pdf

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// TextString encodes s as a PDF text string: PDFDocEncoding-compatible ASCII as is, anything else as UTF-16BE
// with a byte order mark.
func TextString(s string) String {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || (s[i] < 0x20 && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') {
			ascii = false
			break
		}
	}
	if ascii {
		return String{Value: []byte(s), Pos: Span{-1, -1}}
	}
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2, 2+2*len(u))
	b[0], b[1] = 0xFE, 0xFF
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return String{Value: b, Hex: true, Pos: Span{-1, -1}}
}

// Text decodes a PDF text string (UTF-16BE or UTF-8 with a byte order mark, otherwise PDFDocEncoding).
func Text(o Object) string {
	s, ok := o.(String)
	if !ok {
		return ""
	}
	return DecodeText(s.Value)
}

// DecodeText decodes the bytes of a PDF text string.
func DecodeText(b []byte) string {
	switch {
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		b = b[2:]
		u := make([]uint16, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	case len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF:
		if utf8.Valid(b[3:]) {
			return string(b[3:])
		}
		return strings.ToValidUTF8(string(b[3:]), "\uFFFD")
	}
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(pdfDocRune(c))
	}
	return sb.String()
}

// pdfDocRune maps a PDFDocEncoding byte to Unicode (ISO 32000-1, Annex D.2).
func pdfDocRune(c byte) rune {
	if c >= 0x18 && c <= 0x1F {
		return []rune{0x02D8, 0x02C7, 0x02C6, 0x02D9, 0x02DD, 0x02DB, 0x02DA, 0x02DC}[c-0x18]
	}
	if c >= 0x80 && c <= 0xA0 {
		t := []rune{0x2022, 0x2020, 0x2021, 0x2026, 0x2014, 0x2013, 0x0192, 0x2044, 0x2039, 0x203A, 0x2212, 0x2030,
			0x201E, 0x201C, 0x201D, 0x2018, 0x2019, 0x201A, 0x2122, 0xFB01, 0xFB02, 0x0141, 0x0152, 0x0160, 0x0178,
			0x017D, 0x0131, 0x0142, 0x0153, 0x0161, 0x017E, 0xFFFD, 0x20AC}
		return t[c-0x80]
	}
	return rune(c)
}

// FormatDate formats t as a PDF date string "D:YYYYMMDDHHmmSS+HH'mm'".
func FormatDate(t time.Time) string {
	s := t.Format("D:20060102150405")
	_, off := t.Zone()
	if off == 0 {
		return s + "Z"
	}
	sign := '+'
	if off < 0 {
		sign = '-'
		off = -off
	}
	return fmt.Sprintf("%s%c%02d'%02d'", s, sign, off/3600, (off%3600)/60)
}

// ParseDate parses a PDF date string (ISO 32000-1, 7.9.4). Missing trailing fields default as the standard says;
// a missing time zone means UTC.
func ParseDate(s string) (time.Time, error) {
	orig := s
	s = strings.TrimPrefix(s, "D:")
	num := func(n int, def int) (int, error) {
		if len(s) == 0 {
			return def, nil
		}
		if len(s) < n {
			return 0, fmt.Errorf("pdf: bad date %q", orig)
		}
		v, err := strconv.Atoi(s[:n])
		if err != nil || strings.ContainsAny(s[:n], "+- ") {
			return 0, fmt.Errorf("pdf: bad date %q", orig)
		}
		s = s[n:]
		return v, nil
	}
	year, err := num(4, -1)
	if err != nil || year < 0 {
		return time.Time{}, fmt.Errorf("pdf: bad date %q", orig)
	}
	var f [5]int
	defs := [5]int{1, 1, 0, 0, 0}
	for i := range f {
		if len(s) > 0 && (s[0] == 'Z' || s[0] == '+' || s[0] == '-' || s[0] == '\'') {
			f[i] = defs[i]
			for j := i + 1; j < 5; j++ {
				f[j] = defs[j]
			}
			break
		}
		if f[i], err = num(2, defs[i]); err != nil {
			return time.Time{}, err
		}
	}
	loc := time.UTC
	if len(s) > 0 {
		switch s[0] {
		case 'Z':
		case '+', '-':
			sign := 1
			if s[0] == '-' {
				sign = -1
			}
			s = s[1:]
			hh, err := num(2, 0)
			if err != nil {
				return time.Time{}, err
			}
			s = strings.TrimPrefix(s, "'")
			mm, err := num(2, 0)
			if err != nil {
				return time.Time{}, err
			}
			loc = time.FixedZone("", sign*(hh*3600+mm*60))
		default:
			return time.Time{}, fmt.Errorf("pdf: bad date %q", orig)
		}
	}
	if f[0] < 1 || f[0] > 12 || f[1] < 1 || f[1] > 31 || f[2] > 23 || f[3] > 59 || f[4] > 59 {
		return time.Time{}, fmt.Errorf("pdf: bad date %q", orig)
	}
	return time.Date(year, time.Month(f[0]), f[1], f[2], f[3], f[4], 0, loc), nil
}
