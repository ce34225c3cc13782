package verify

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Every message code is written in every language, with the same placeholders, and the Polish is not the English.
func TestEveryMessageCodeHasBothLanguages(t *testing.T) {
	// the same in both languages on purpose: shown as they are, or names of XML elements
	same := map[string]bool{codeText: true, "lib.object": true}
	for _, code := range MessageCodes() {
		var placeholders [][]string
		for _, lang := range MessageLanguages {
			tmpl := MessageTemplate(code, lang)
			if strings.TrimSpace(tmpl) == "" {
				t.Errorf("%s: no %s text", code, lang)
			}
			ph := placeholder.FindAllString(tmpl, -1)
			slices.Sort(ph)
			placeholders = append(placeholders, ph)
		}
		if !slices.Equal(placeholders[0], placeholders[1]) {
			t.Errorf("%s: placeholders differ between languages: %v", code, placeholders)
		}
		if MessageTemplate(code, "pl") == MessageTemplate(code, "en") && !same[code] && !strings.HasPrefix(code, "kind.") {
			t.Errorf("%s: the Polish text is the English one: %q", code, MessageTemplate(code, "en"))
		}
	}
}

// Every code the package writes (msg("code", ...)) is in the catalog.
func TestEveryUsedCodeIsInTheCatalog(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	used := regexp.MustCompile(`\bmsg\("([^"]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(src), -1) {
			n++
			if MessageTemplate(m[1], "en") == "" {
				t.Errorf("%s: code %q is not in the catalog", f, m[1])
			}
		}
	}
	if n < 40 {
		t.Errorf("found only %d uses of msg: the pattern no longer matches the code", n)
	}
}

// A format library's text gets its code back, renders to exactly the same English, and to Polish without it.
func TestFromLibrary(t *testing.T) {
	for _, tc := range []struct {
		text, code, pl string
	}{
		{`digest of whole document <recepta>, excluding 1 signature element(s) does not match`, "lib.digestMismatch",
			"skrót obszaru „cały dokument <recepta>, z wyłączeniem elementów podpisu (liczba: 1)” nie zgadza się – treść zmieniono po podpisaniu"},
		{`no element with Id "ID-1\"x"`, "lib.noElementWithID", `brak elementu o Id "ID-1\"x"`},
		{`element <pz:Dane> #D1 at /a/pz:Dane[2]`, "lib.element", `element <pz:Dane> #D1 w miejscu /a/pz:Dane[2]`},
		{`/ByteRange has 6 numbers instead of 4`, "lib.byteRangeCount", `/ByteRange ma 6 liczb zamiast 4`},
		{`the signature value does not verify with the signing certificate's key`, "lib.valueMismatch", `wartość podpisu nie zgadza się z kluczem certyfikatu podpisu`},
		{`something no template describes`, codeText, `something no template describes`},
	} {
		m := fromLibrary(tc.text)
		if m.Code != tc.code || m.English() != tc.text || m.Text("pl") != tc.pl {
			t.Errorf("fromLibrary(%q) = %s: en %q, pl %q; want %s, pl %q", tc.text, m.Code, m.English(), m.Text("pl"), tc.code, tc.pl)
		}
	}
}

// Whatever a library writes, its message renders back to exactly that English text (the JSON's reasons stay as
// they were), and rendering never panics in any language.
func FuzzFromLibrary(f *testing.F) {
	for _, seed := range []string{
		`digest of whole document <a>, excluding 1 signature element(s) does not match`,
		`no element with Id "x\"y"`, `XML error at byte 0: no root element`, `{detail}`, `{n} references exceed the limit of {max}`,
		`pades: cannot read the file as a PDF: pdf: malformed file: no startxref`, "", `"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m := fromLibrary(text)
		if got := m.English(); got != text {
			t.Fatalf("fromLibrary(%q).English() = %q (code %s)", text, got, m.Code)
		}
		_ = m.Text("pl")
	})
}

// Library texts quote the document (Ids, element names, paths): a text built to nest templates or of any length is
// looked at within fixed bounds, and still renders back to itself.
func TestAttackReportTextNesting(t *testing.T) {
	long := "no element with Id " + strconv.Quote(strings.Repeat("x", maxLibraryText))
	if m := fromLibrary(long); m.Code != codeText || m.English() != long {
		t.Errorf("a %d-byte text was parsed: %s", len(long), m.Code)
	}
	nested := strings.Repeat("digest of ", 50) + "whole document <a>" + strings.Repeat(" does not match", 50)
	m := fromLibrary(nested)
	depth := 0
	for d := &m; d != nil; d = d.Detail {
		depth++
	}
	if depth > maxLibraryDepth+2 || m.English() != nested {
		t.Errorf("nesting followed %d levels (at most %d)", depth, maxLibraryDepth+2)
	}
}
