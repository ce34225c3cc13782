package xmldoc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// goVerdict parses src with encoding/xml (strict) and returns nil if it is a well-formed document: one root
// element, no text outside it. A directive (DOCTYPE) is reported as such.
func goVerdict(src []byte) (directive bool, err error) {
	d := xml.NewDecoder(bytes.NewReader(src))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToUpper(label) {
		case "UTF-8", "UTF8", "US-ASCII", "ASCII":
			return r, nil
		}
		return nil, errors.New("unsupported encoding " + label)
	}
	depth, roots := 0, 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return directive, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimLeft(tok, " \t\r\n")) > 0 {
				return directive, errors.New("text outside the root element")
			}
		case xml.Directive:
			directive = true
		}
	}
	if roots != 1 || depth != 0 {
		return directive, errors.New("not exactly one root element")
	}
	// RawToken does not check end tags against start tags: Token does
	d = xml.NewDecoder(bytes.NewReader(src))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		if _, err := d.Token(); err == io.EOF {
			return directive, nil
		} else if err != nil {
			return directive, err
		}
	}
}

// knownStricter lists, by our error message, where we refuse documents encoding/xml accepts, each because
// encoding/xml checks less than XML 1.0 and Namespaces in XML require (or than we choose to accept):
//   - DOCTYPE and other markup declarations: we refuse DTDs altogether (no entities, no XXE);
//   - namespace well-formedness (undeclared prefixes, xmlns:p="", reserved prefixes and names, one expanded name
//     twice on an element): encoding/xml does not check Namespaces in XML;
//   - an attribute written twice on an element (XML 1.0 "Unique Att Spec"): encoding/xml does not check it;
//   - the XML Char production in comments, processing instructions and names, "]]>" in text, and the Name
//     production (we follow the fifth edition; encoding/xml's tables are older and it checks names loosely);
//   - the XML declaration's own grammar (encoding/xml reads it loosely), processing instructions named xml (another
//     XML declaration) after the start, XML 1.1, encodings other than UTF-8 and US-ASCII;
//   - '--' or a trailing '-' inside a comment;
//   - size, depth and count limits.
var knownStricter = []string{
	"DOCTYPE", "markup declarations", "namespace", "prefix", "xmlns", "duplicate attribute", "is not allowed in XML",
	"']]>'", "invalid name", "processing instruction target", "XML 1.1", "UTF-8", "'--' inside a comment",
	"exceeds", "too many", "XML declaration", "XML version", "standalone", "encoding name",
	"missing white space before attribute",
}

// knownLaxer lists, by encoding/xml's error message, where encoding/xml refuses documents we accept: names with
// characters the fifth edition of XML 1.0 allows and encoding/xml's older tables do not.
func knownLaxer(src []byte, goErr error) bool {
	msg := goErr.Error()
	nonASCII := !utf8.Valid(src) || bytes.ContainsFunc(src, func(r rune) bool { return r >= 0x80 })
	return nonASCII && (strings.Contains(msg, "invalid XML name") || strings.Contains(msg, "expected element name") ||
		strings.Contains(msg, "expected attribute name") || strings.Contains(msg, "unexpected end element") ||
		strings.Contains(msg, "invalid character entity"))
}

func checkAgainstEncodingXML(t *testing.T, src []byte) {
	_, oursErr := Parse(src, Limits{MaxBytes: 1 << 20})
	directive, goErr := goVerdict(src)
	switch {
	case oursErr == nil && goErr != nil:
		if !knownLaxer(src, goErr) {
			t.Fatalf("we accept what encoding/xml refuses (%v):\n%q", goErr, src)
		}
	case oursErr != nil && goErr == nil:
		if directive && errors.Is(oursErr, ErrDOCTYPE) {
			return
		}
		for _, k := range knownStricter {
			if strings.Contains(oursErr.Error(), k) {
				return
			}
		}
		t.Fatalf("we refuse what encoding/xml accepts, for no documented reason (%v):\n%q", oursErr, src)
	}
}

// FuzzParseMatchesEncodingXML compares our well-formedness verdict with encoding/xml's, allowing only the
// documented differences (knownStricter, knownLaxer). Seeds: testdata/fuzz/FuzzParseMatchesEncodingXML.
func FuzzParseMatchesEncodingXML(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkAgainstEncodingXML)
}

var differentialSeeds = []string{
	`<a xmlns="u" xmlns:p="v" p:x="1"><b>t&amp;<![CDATA[<]]></b><!--c--><?pi d?></a>`,
	`<?xml version="1.0" encoding="UTF-8"?><r a="&#x9;&#10;"> x &lt; y </r>`,
	"<a>\x01</a>", "<a>&#1;</a>", "<a b='\x7f\u0085'/>", "<a>\r\n\r</a>", `<a:b xmlns:a="u"/>`, `<a:b/>`,
	`<a><!-- - --></a>`, "<\u00e9l\u00e9ment/>", "<a\U00010000/>", `<a x="1" x="2"/>`, `<a>]]></a>`,
}

// xmllint runs xmllint with a canonicalization flag on src; ok is false when xmllint refuses the document.
func xmllint(t testing.TB, flag string, src []byte) (out []byte, ok bool) {
	cmd := exec.Command("xmllint", flag, "-")
	cmd.Stdin = bytes.NewReader(src)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// warnings (a processing instruction target starting with "xml", say) go to stderr with exit status 0
	if err := cmd.Run(); err != nil {
		return nil, false
	}
	return stdout.Bytes(), true
}

var xmllintMethods = []struct {
	flag, ext string
	m         Method
}{
	{"--c14n", ".c14n", Method{WithComments: true}},
	{"--c14n11", ".c14n11", Method{WithComments: true, Version11: true}},
	{"--exc-c14n", ".exc", Method{Exclusive: true, WithComments: true}},
}

func checkAgainstXmllint(t *testing.T, src []byte) {
	doc, err := Parse(src, Limits{MaxBytes: 1 << 16})
	if err != nil {
		return
	}
	for _, x := range xmllintMethods {
		if x.m.Version11 && bytes.Contains(src, []byte("base")) {
			continue // libxml2 drops every empty xml:base under C14N 1.1 (c14n_subset_test.go)
		}
		want, ok := xmllint(t, x.flag, src)
		var buf bytes.Buffer
		err := Canonicalize(&buf, Subset{Doc: doc, Comments: true}, x.m)
		if errors.Is(err, ErrRelativeNamespace) {
			if ok {
				t.Fatalf("xmllint %s canonicalizes a relative namespace URI, we refuse it:\n%q", x.flag, src)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Fatalf("xmllint %s refuses a document we accept:\n%q", x.flag, src)
		}
		if got := buf.Bytes(); !bytes.Equal(got, want) {
			t.Fatalf("%s differs from xmllint for %q\n got: %q\nwant: %q", x.flag, src, got, want)
		}
	}
}

// FuzzCanonicalMatchesXmllint compares our canonical forms of whole documents with xmllint's (libxml2). Seeds:
// testdata/c14n/*.xml and testdata/fuzz/FuzzCanonicalMatchesXmllint.
func FuzzCanonicalMatchesXmllint(f *testing.F) {
	if _, err := exec.LookPath("xmllint"); err != nil {
		f.Skip("xmllint is not installed")
	}
	files, _ := filepath.Glob("testdata/c14n/*.xml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(checkAgainstXmllint)
}

// Canonical XML 1.0 section 2: a relative namespace URI is a failure, not a canonical form (xmllint agrees).
func TestCanonicalizeRefusesRelativeNamespaceURIs(t *testing.T) {
	for _, src := range []string{`<a xmlns:p="rel"/>`, `<a xmlns="rel"/>`, `<a xmlns="urn:x"><b xmlns:q="../x"/></a>`, `<a xmlns:p="0"/>`} {
		doc, err := ParseString(src, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []Method{{}, {Version11: true}, {Exclusive: true}} {
			if err := Canonicalize(io.Discard, Subset{Doc: doc}, m); !errors.Is(err, ErrRelativeNamespace) {
				t.Errorf("%s: %v", src, err)
			}
		}
	}
	doc, _ := ParseString(`<a xmlns="" xmlns:p="urn:p" xmlns:h="http://example.org/"/>`, Limits{})
	if err := Canonicalize(io.Discard, Subset{Doc: doc}, Method{}); err != nil {
		t.Errorf("absolute and empty namespaces: %v", err)
	}
}
