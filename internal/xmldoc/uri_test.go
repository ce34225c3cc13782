package xmldoc

import (
	"bytes"
	"errors"
	"html"
	"io"
	"os/exec"
	"testing"
)

// namespaceURIs are namespace names with whether libxml2 2.9 canonicalizes a document declaring them (read off
// xmllint --c14n): it refuses relative references and anything RFC 3986's grammar does not take.
var namespaceURIs = []struct {
	uri string
	ok  bool
}{
	{"http://www.w3.org/2000/09/xmldsig#", true},
	{"urn:example:erecepta:1", true},
	{"HTTP://X/", true},
	{"a+b-c.d:x", true},
	{"x:", true},
	{"http:", true},
	{"http:/x", true},
	{"http:x/y", true},
	{"http:://x", true},
	{"mailto:a@b", true},
	{"http://u:p@x/", true},
	{"http://@x/", true},
	{"http://x:99999/", true},
	{"http://[::1]/", true},
	{"http://[a b]/", true}, // an IP literal is whatever the brackets hold
	{"http://x/a%20b", true},
	{"http://x/%41", true},
	{"http://x/a:b", true},
	{"http://x/?a?b", true},
	{"http://x/#", true},
	{"http://x#f[", true},
	{"http://x/~!$&'()*+,;=:@", true},
	{"rel", false},
	{"../x", false},
	{"1http://x", false},
	{"ht tp://x", false},
	{"http://x/ y", false},
	{"http:// ww.w3.org", false},
	{"http://x/%zz", false},
	{"http://x/%4", false},
	{"http://x/%41%", false},
	{"http://x/é", false},
	{"http://x:/", false},
	{"http://x:port/", false},
	{"http://a@b@c/", false},
	{"http://[a]b/", false},
	{"http://[x/", false},
	{"http://x?q[", false},
	{"http://x#f#", false},
	{"http://x/a|b", false},
	{"http://x/a{b}", false},
	{"http://x/a\\b", false},
	{"http://x/a^b", false},
	{"http://x/a`b", false},
	{"http://x/a>b", false},
}

func TestNamespaceURIRefusedAsLibxml2Does(t *testing.T) {
	xmllint, _ := exec.LookPath("xmllint")
	for _, c := range namespaceURIs {
		src := []byte(`<a xmlns:p="` + html.EscapeString(c.uri) + `"><p:b/></a>`)
		doc, err := Parse(src, Limits{})
		if err != nil {
			t.Fatalf("%q: %v", c.uri, err)
		}
		err = Canonicalize(io.Discard, Subset{Doc: doc}, Method{})
		if got := err == nil; got != c.ok || (err != nil && !errors.Is(err, ErrRelativeNamespace)) {
			t.Errorf("%q: Canonicalize: %v, want accepted %v", c.uri, err, c.ok)
		}
		if xmllint == "" {
			continue
		}
		cmd := exec.Command(xmllint, "--c14n", "-")
		cmd.Stdin = bytes.NewReader(src)
		if got := cmd.Run() == nil; got != c.ok {
			t.Errorf("%q: xmllint --c14n accepts it: %v; the table says %v", c.uri, got, c.ok)
		}
	}
}

// FuzzNamespaceURIMatchesXmllint: for any namespace name, we canonicalize a document declaring it exactly when
// xmllint --c14n does (libxml2 refuses relative and malformed URIs; so must we, or our signatures would verify
// nowhere else, and we must not refuse what it takes).
func FuzzNamespaceURIMatchesXmllint(f *testing.F) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		f.Skip("xmllint is not installed")
	}
	for _, c := range namespaceURIs {
		f.Add(c.uri)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		if uri == "" {
			return
		}
		src := []byte(`<a xmlns:p="` + html.EscapeString(uri) + `"><p:b/></a>`)
		doc, err := Parse(src, Limits{})
		if err != nil {
			return // not an attribute value XML takes
		}
		err = Canonicalize(io.Discard, Subset{Doc: doc}, Method{})
		if err != nil && !errors.Is(err, ErrRelativeNamespace) {
			t.Fatal(err)
		}
		cmd := exec.Command(xmllint, "--c14n", "-")
		cmd.Stdin = bytes.NewReader(src)
		if theirs := cmd.Run() == nil; theirs != (err == nil) {
			t.Fatalf("%q: we accept it: %v, xmllint --c14n: %v", uri, err == nil, theirs)
		}
	})
}
