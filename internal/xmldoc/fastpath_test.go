package xmldoc

import (
	"math/rand/v2"
	"testing"
)

// nonCharSlow is nonChar one byte at a time, as it was before it read words.
func nonCharSlow(s string) int { return nonCharBytes(s, 0, len(s)) }

// isNameSlow is isName without its ASCII table.
func isNameSlow(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if i == 0 && !isNameStartChar(r) || !isNameStartChar(r) && !isNameChar(r) {
			return false
		}
	}
	return true
}

// The word-at-a-time scan for characters outside XML's Char finds the same first offset as the byte loop, wherever
// the character falls within a word and whatever surrounds it.
func TestNonCharWordScanMatchesByteScan(t *testing.T) {
	alphabet := []byte{0, 1, 0x08, '\t', '\n', '\r', 0x1F, ' ', 'a', '<', 0x7F, 0x80, 0xBE, 0xBF, 0xC4, 0xEF, 0xFF}
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = 'x'
			}
		}
		if got, want := nonChar(string(b)), nonCharSlow(string(b)); got != want {
			t.Fatalf("case %d %q: nonChar %d, byte loop %d", n, b, got, want)
		}
	}
	for _, s := range []string{"abcdefg\uFFFE", "abcdefgh\uFFFF", "abcdef\uFFFE", "\uFFFDabcdefghijk\x01", "12345678\x0b"} {
		if got, want := nonChar(s), nonCharSlow(s); got != want {
			t.Errorf("%q: nonChar %d, byte loop %d", s, got, want)
		}
	}
}

// The ASCII table for names agrees with the productions for every ASCII character in every position, and names
// with other characters still go through the productions.
func TestIsNameTableMatchesProductions(t *testing.T) {
	for c := range 0x80 {
		for _, s := range []string{string(rune(c)), "a" + string(rune(c)), string(rune(c)) + "a", "ab" + string(rune(c)) + "é"} {
			if got, want := isName(s), isNameSlow(s); got != want {
				t.Errorf("isName(%q) = %v, want %v", s, got, want)
			}
		}
	}
	for _, s := range []string{"zażółć", "a·b", "·a", "a\u0300", "\u0300a", "jaźń-1", "_x.y", "1a", "-a", "é"} {
		if got, want := isName(s), isNameSlow(s); got != want {
			t.Errorf("isName(%q) = %v, want %v", s, got, want)
		}
	}
}

// appendTextSlow is appendText one byte at a time, as it was before it skipped words.
func appendTextSlow(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '\r':
			b = append(b, "&#xD;"...)
		default:
			b = append(b, s[i])
		}
	}
	return b
}

// Escaping text eight bytes at a time gives what escaping byte by byte gives, wherever the characters to escape
// fall, including next to bytes one off from them and inside multi-byte characters.
func TestAppendTextWordSkipMatchesBytes(t *testing.T) {
	alphabet := []byte{'&', '<', '>', '\r', '\n', '%', '=', '?', ';', '\x0c', '\x0e', 'a', 0xC5, 0xBC, 0xEF, 0xA6, 0xBE}
	rng := rand.New(rand.NewPCG(9, 10))
	for n := range 30000 {
		b := make([]byte, rng.IntN(50))
		for i := range b {
			if rng.IntN(5) == 0 {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				b[i] = 'x'
			}
		}
		if got, want := appendText([]byte("p"), string(b)), appendTextSlow([]byte("p"), string(b)); string(got) != string(want) {
			t.Fatalf("case %d %q: %q, want %q", n, b, got, want)
		}
	}
}
