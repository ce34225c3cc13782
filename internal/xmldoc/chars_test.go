package xmldoc

import (
	"strings"
	"testing"
)

// XML 1.0 section 2.2: every character of a document matches the Char production (tab, LF, CR, U+0020-U+D7FF,
// U+E000-U+FFFD, U+10000-U+10FFFF), whether written literally or as a character reference. A parser that lets a
// control character through where another refuses it reads a different document (a parser differential): the
// same bytes would be well-formed to one verifier and malformed to the next.
func TestParseRefusesNonCharacters(t *testing.T) {
	bad := []struct{ name, src string }{
		{"control in plain text", "<a>x\x01y</a>"},
		{"control in text with entity", "<a>&amp;\x01</a>"},
		{"escape in text", "<a>\x1b[2J</a>"},
		{"nul in text", "<a>\x00</a>"},
		{"control in CDATA", "<a><![CDATA[\x02]]></a>"},
		{"control in attribute value", "<a b=\"\x03\"/>"},
		{"control in attribute value with entity", "<a b=\"&lt;\x03\"/>"},
		{"control in comment", "<a><!--\x04--></a>"},
		{"control in prolog comment", "<!--\x04--><a/>"},
		{"control in processing instruction", "<a><?pi \x05?></a>"},
		{"control in element name", "<a\x06b/>"},
		{"control in attribute name", "<a b\x06c=\"1\"/>"},
		{"control between attributes", "<a\x07b=\"1\"/>"},
		{"control after root", "<a/>\x08"},
		{"U+FFFE in text", "<a>\uFFFE</a>"},
		{"U+FFFF in attribute", "<a b=\"\uFFFF\"/>"},
		{"reference to U+0001", "<a>&#1;</a>"},
		{"hex reference to U+001F", "<a>&#x1F;</a>"},
		{"reference to U+FFFE", "<a>&#xFFFE;</a>"},
		{"reference to a surrogate", "<a>&#xD800;</a>"},
		{"reference beyond Unicode", "<a>&#x110000;</a>"},
		{"reference to U+0001 in attribute", "<a b=\"&#1;\"/>"},
		{"name starting with a digit", "<1a/>"},
		{"name with a character outside NameChar", "<a!b/>"},
		{"attribute name with ampersand", "<a b&c=\"1\"/>"},
		{"PI target with invalid character", "<a><?p!i x?></a>"},
		{"end tag name with invalid character", "<a!></a!>"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseString(tc.src, Limits{}); err == nil {
				t.Fatalf("accepted %q", tc.src)
			}
		})
	}
	good := []struct{ name, src, text string }{
		{"tab, LF and CR", "<a>\t\n\r</a>", "\t\n\n"},
		{"references to tab, LF, CR", "<a>&#9;&#xA;&#13;</a>", "\t\n\r"},
		{"C1 controls are Chars", "<a>\u0085\u009f</a>", "\u0085\u009f"},
		{"last BMP character before U+FFFE", "<a>\uFFFD</a>", "\uFFFD"},
		{"astral plane", "<a>\U0001F600&#x10FFFF;</a>", "\U0001F600\U0010FFFF"},
		{"names with non-ASCII letters", "<zażółć gęślą=\"1\">x</zażółć>", "x"},
		{"names with dot, hyphen, digit, middle dot", "<_a.b-c1·/>", ""},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := ParseString(tc.src, Limits{})
			if err != nil {
				t.Fatalf("refused %q: %v", tc.src, err)
			}
			if got := doc.Root.Text(); got != tc.text {
				t.Errorf("text %q, want %q", got, tc.text)
			}
		})
	}
}

// A long document of plain text keeps parsing linear: the character check is one pass.
func TestParseCharCheckOnLongText(t *testing.T) {
	src := "<a>" + strings.Repeat("zażółć ", 100_000) + "</a>"
	if _, err := ParseString(src, Limits{}); err != nil {
		t.Fatal(err)
	}
}

// XML 1.0 production XMLDecl: a version first, then encoding and standalone, in that order (a fuzz finding:
// "<?xml ?>" was accepted, xmllint refuses it).
func TestParseXMLDeclaration(t *testing.T) {
	for _, src := range []string{
		`<?xml ?><a/>`, `<?xml encoding="UTF-8"?><a/>`, `<?xml version="2.0"?><a/>`, `<?xml version="1."?><a/>`,
		`<?xml version="1.0" standalone="maybe"?><a/>`, `<?xml version="1.0" standalone="yes" encoding="UTF-8"?><a/>`,
		`<?xml version="1.0"encoding="UTF-8"?><a/>`, `<?xml version="1.0" foo="bar"?><a/>`, `<?xml version=1.0?><a/>`,
		`<?xml version="1.0" encoding="-utf8"?><a/>`, `<?xml version="1.1"?><a/>`, ` <?xml version="1.0"?><a/>`,
		`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`,
	} {
		if _, err := ParseString(src, Limits{}); err == nil {
			t.Errorf("accepted %q", src)
		}
	}
	for _, src := range []string{
		`<?xml version="1.0"?><a/>`, `<?xml version='1.0' encoding='utf-8' standalone='no' ?><a/>`,
		"<?xml\tversion = \"1.0\"\nencoding=\"US-ASCII\"?><a/>", `<?xml version="1.5"?><a/>`, "\uFEFF<?xml version=\"1.0\"?><a/>",
	} {
		if _, err := ParseString(src, Limits{}); err != nil {
			t.Errorf("refused %q: %v", src, err)
		}
	}
}
