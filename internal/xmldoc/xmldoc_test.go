package xmldoc

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The golden files next to each testdata/c14n/*.xml were written by libxml2's xmllint (--c14n, --c14n11,
// --exc-c14n, all with comments): an implementation we did not write.
func TestCanonicalizeMatchesXmllint(t *testing.T) {
	files, _ := filepath.Glob("testdata/c14n/*.xml")
	if len(files) == 0 {
		t.Fatal("no test documents")
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := Parse(src, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tc := range []struct {
			ext string
			m   Method
		}{
			{".c14n", Method{WithComments: true}},
			{".c14n11", Method{WithComments: true, Version11: true}},
			{".exc", Method{Exclusive: true, WithComments: true}},
		} {
			t.Run(filepath.Base(f)+tc.ext, func(t *testing.T) {
				want, err := os.ReadFile(strings.TrimSuffix(f, ".xml") + tc.ext)
				if err != nil {
					t.Skip("no golden")
				}
				var got bytes.Buffer
				if err := Canonicalize(&got, Subset{Doc: doc, Comments: true}, tc.m); err != nil {
					t.Fatal(err)
				}
				if got.String() != string(want) {
					t.Errorf("canonical form differs\n got: %q\nwant: %q", got.String(), want)
				}
			})
		}
	}
}

func TestSubsetCanonicalization(t *testing.T) {
	src := `<a:root xmlns:a="urn:a" xmlns="urn:default" xmlns:unused="urn:u" xml:lang="pl">` +
		`<a:child Id="c1" attr="v"><inner xmlns:b="urn:b" b:x="1">t<!--c--></inner></a:child>` +
		`<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X/></ds:Signature>tail</a:root>`
	doc, err := ParseString(src, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	child := doc.ByID("c1")[0]
	sig := doc.Root.Child("http://www.w3.org/2000/09/xmldsig#", "Signature")
	tests := []struct {
		name string
		s    Subset
		m    Method
		want string
	}{
		{"inclusive subtree inherits namespaces and xml attrs", Subset{Doc: doc, Apex: child}, Method{},
			`<a:child xmlns="urn:default" xmlns:a="urn:a" xmlns:unused="urn:u" Id="c1" attr="v" xml:lang="pl"><inner xmlns:b="urn:b" b:x="1">t</inner></a:child>`},
		{"exclusive subtree renders only used namespaces", Subset{Doc: doc, Apex: child}, Method{Exclusive: true},
			`<a:child xmlns:a="urn:a" Id="c1" attr="v"><inner xmlns="urn:default" xmlns:b="urn:b" b:x="1">t</inner></a:child>`},
		{"exclusive with comments", Subset{Doc: doc, Apex: child, Comments: true}, Method{Exclusive: true, WithComments: true},
			`<a:child xmlns:a="urn:a" Id="c1" attr="v"><inner xmlns="urn:default" xmlns:b="urn:b" b:x="1">t<!--c--></inner></a:child>`},
		{"exclusive inclusive-prefix list", Subset{Doc: doc, Apex: child}, Method{Exclusive: true, InclusivePrefixes: []string{"unused", "#default"}},
			`<a:child xmlns="urn:default" xmlns:a="urn:a" xmlns:unused="urn:u" Id="c1" attr="v"><inner xmlns:b="urn:b" b:x="1">t</inner></a:child>`},
		{"document minus signature", Subset{Doc: doc, Exclude: []*Node{sig}}, Method{},
			`<a:root xmlns="urn:default" xmlns:a="urn:a" xmlns:unused="urn:u" xml:lang="pl"><a:child Id="c1" attr="v"><inner xmlns:b="urn:b" b:x="1">t</inner></a:child>tail</a:root>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AppendCanonical(nil, tc.s, tc.m))
			if got != tc.want {
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestParseRefusesHostileInput(t *testing.T) {
	deep := strings.Repeat("<a>", 5000) + strings.Repeat("</a>", 5000)
	manyAttrs := "<a"
	for i := 0; i < 1000; i++ {
		manyAttrs += " a" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + strings.Repeat("y", i/26) + `="1"`
	}
	manyAttrs += "/>"
	tests := []struct {
		name string
		src  string
		want error
	}{
		{"doctype", `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`, ErrDOCTYPE},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>`, ErrDOCTYPE},
		{"external entity", `<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>`, ErrDOCTYPE},
		{"depth", deep, ErrTooDeep},
		{"attribute count", manyAttrs, ErrTooMany},
		{"non UTF-8 encoding", `<?xml version="1.0" encoding="ISO-8859-2"?><a/>`, ErrEncoding},
		{"invalid UTF-8", "<a>\xff</a>", ErrEncoding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseString(tc.src, Limits{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := ParseString(strings.Repeat(" ", 100)+"<a/>", Limits{MaxBytes: 50}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("size limit: %v", err)
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	for _, src := range []string{
		``, `<a>`, `<a></b>`, `<a/><b/>`, `text<a/>`, `<a x="1" x="2"/>`, `<a p:x="1"/>`, `<p:a/>`,
		`<a x=1/>`, `<a>&unknown;</a>`, `<a>&#0;</a>`, `<a x="<"/>`, `<a><!-- -- --></a>`, `<a>]]></a>`,
		`<a xmlns:p="u" xmlns:q="u" p:x="1" q:x="2"/>`, `<a xmlns:xmlns="u"/>`, `<a><![CDATA[x</a>`,
		`<?xml version="1.1"?><a/>`, `<a b="1"c="2"/>`,
	} {
		if _, err := ParseString(src, Limits{}); err == nil {
			t.Errorf("accepted malformed %q", src)
		}
	}
}

func TestOffsetsAndIDs(t *testing.T) {
	src := `<?xml version="1.0"?>` + "\n" + `<r><x Id="a"/><y ID="b">t</y><z id="a"/></r>`
	doc, err := ParseString(src, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := src[doc.Root.Inner:doc.Root.End]; got != "</r>" {
		t.Errorf("root end tag %q", got)
	}
	if n := len(doc.ByID("a")); n != 2 {
		t.Errorf("duplicate ids: %d", n)
	}
	y := doc.ByID("b")[0]
	if got := src[y.Start:y.End]; got != `<y ID="b">t</y>` {
		t.Errorf("element bytes %q", got)
	}
	if y.Path() != "/r/y" {
		t.Errorf("path %s", y.Path())
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<a xmlns="urn:u" xmlns:p="urn:v" p:x="1"><b>t&amp;<![CDATA[<]]></b><!--c--><?pi d?></a>`))
	f.Add([]byte(`<?xml version="1.0"?><r><x Id="a"/></r>`))
	f.Fuzz(func(t *testing.T, src []byte) {
		doc, err := Parse(src, Limits{MaxBytes: 1 << 16})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := Canonicalize(&buf, Subset{Doc: doc, Comments: true}, Method{WithComments: true}); err != nil {
			if !errors.Is(err, ErrRelativeNamespace) {
				t.Fatal(err)
			}
			return
		}
		out := buf.Bytes()
		// canonical XML is itself well-formed and a fixed point
		doc2, err := Parse(out, Limits{})
		if err != nil {
			t.Fatalf("canonical output does not parse: %v\n%s", err, out)
		}
		out2 := AppendCanonical(nil, Subset{Doc: doc2, Comments: true}, Method{WithComments: true})
		if !bytes.Equal(out, out2) {
			t.Fatalf("canonicalization is not idempotent\n%s\n%s", out, out2)
		}
	})
}
