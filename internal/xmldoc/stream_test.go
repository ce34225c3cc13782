package xmldoc

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const dsigNS = "http://www.w3.org/2000/09/xmldsig#"

// streamCorpus is every document of the package's test data (golden canonicalization inputs, fuzz seeds) and
// documents written for the streaming canonicalizer: namespaces declared, redeclared and undeclared, comments and
// processing instructions in and around the root, CDATA, attributes and text needing escaping, non-ASCII,
// signatures (ds:Signature) at several places, nested, empty, at the root, and malformed or refused documents.
func streamCorpus(t *testing.T) map[string]string {
	t.Helper()
	docs := map[string]string{
		"signature last": `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<a xmlns="urn:a"><b x="1">t</b><ds:Signature xmlns:ds="` + dsigNS + `"><ds:X/></ds:Signature></a>`,
		"signatures everywhere": `<?pi before?><!-- c --><r xmlns:ds="` + dsigNS + `" xmlns:p="urn:p"><ds:Signature Id="s1"><ds:Signature/></ds:Signature>` +
			`<p:e a="&lt;&amp;&quot;&#9;&#10;&#13;" b='x"y'>zażółć &amp; &lt;&gt; &#xD;<![CDATA[<cdata> & ]]>` + "\r\n" + `<ds:Signature/>` +
			`<x:Signature xmlns:x="urn:other"/><Signature xmlns="` + dsigNS + `"><child/></Signature></p:e><?pi inside?><!-- in --></r>` + "\n<!-- after -->\n<?pi after?>\n",
		"root is a signature":  `<?a?><ds:Signature xmlns:ds="` + dsigNS + `"><x/></ds:Signature><?b?>`,
		"empty root":           `<r:root xmlns:r="urn:r" a="zażółć"/>`,
		"namespace redeclared": `<a xmlns="urn:1" xmlns:p="urn:p"><b xmlns="urn:2"><c xmlns="" xmlns:p="urn:p"><d xmlns:p="urn:q" p:x="1"/></c></b></a>`,
		"xml attributes":       `<a xml:lang="pl" xml:space="preserve" xmlns:xml="http://www.w3.org/XML/1998/namespace"><b xml:base="x/"><c xml:id="i"/></b></a>`,
		"attribute order":      `<a xmlns:z="urn:a" xmlns:b="urn:z" z:x="1" b:x="2" y="3" a="4" xmlns="urn:d"/>`,
		"relative namespace":   `<a><b xmlns:p="rel"/></a>`,
		"relative in excluded": `<a><ds:Signature xmlns:ds="` + dsigNS + `" xmlns:p="rel"/></a>`,
		"not closed":           `<a><b></a>`,
		"doctype":              `<!DOCTYPE a><a/>`,
		"text after root":      `<a/>x`,
		"bad character":        "<a>\x01</a>",
		"undeclared prefix":    `<p:a/>`,
		"duplicate attribute":  `<a b="1" b="2"/>`,
		"too deep":             strings.Repeat("<d>", 300) + strings.Repeat("</d>", 300),
		"too dense":            "<r>" + strings.Repeat("<b/>x", 300000) + "</r>",
		"empty":                "",
		"deep and wide":        deepAndWide(),
	}
	for _, pattern := range []string{"testdata/c14n/*.xml", "testdata/c14n-subset/*.xml"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs[f] = string(b)
		}
	}
	seeds, _ := filepath.Glob("testdata/fuzz/*/*")
	for _, f := range seeds {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if q, ok := strings.CutPrefix(line, "[]byte("); ok {
				if v, err := strconv.Unquote(strings.TrimSuffix(q, ")")); err == nil {
					docs[f] = v
				}
			}
		}
	}
	return docs
}

func deepAndWide() string {
	var b strings.Builder
	b.WriteString(`<r xmlns="urn:r">`)
	for i := range 200 {
		fmt.Fprintf(&b, `<l%d xmlns:n%d="urn:n%d" n%d:a="%d">`, i%40, i%3, i, i%3, i)
		if i%17 == 0 {
			b.WriteString(`<ds:Signature xmlns:ds="` + dsigNS + `"><deep><deeper/></deep></ds:Signature>`)
		}
	}
	for i := 199; i >= 0; i-- {
		fmt.Fprintf(&b, `text %d</l%d>`, i, i%40)
	}
	b.WriteString(`</r>`)
	return b.String()
}

// treeCanonical is what CanonicalizeSource must equal: parse, collect the excluded elements, canonicalize.
func treeCanonical(src string, lim Limits, exclude func(*Node) bool) ([]byte, *Node, error) {
	doc, err := ParseString(src, lim)
	if err != nil {
		return nil, nil, err
	}
	var ex []*Node
	if exclude(doc.Root) {
		ex = []*Node{doc.Root}
	} else {
		doc.Root.Descendants(func(n *Node) bool {
			if exclude(n) {
				ex = append(ex, n)
				return false
			}
			return true
		})
	}
	var b bytes.Buffer
	if err := Canonicalize(&b, Subset{Doc: doc, Exclude: ex}, Method{}); err != nil {
		return nil, nil, err
	}
	return b.Bytes(), doc.Root, nil
}

// CanonicalizeSource gives, for every document of the corpus, exactly what parsing then canonicalizing gives (the
// same octets, or the same error), excluding signatures, excluding other elements, or excluding nothing; and the
// same root element offsets. The corpus is run several times in a shuffled order, so reused memory is exercised.
func TestCanonicalizeSourceMatchesTree(t *testing.T) {
	docs := streamCorpus(t)
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	excludes := map[string]func(*Node) bool{
		"signatures": func(n *Node) bool { return n.Is(dsigNS, "Signature") },
		"nothing":    func(*Node) bool { return false },
		"by name":    func(n *Node) bool { return n.Local == "b" || n.Local == "e1" || strings.HasPrefix(n.Local, "l3") },
		"by attribute": func(n *Node) bool {
			_, ok := n.Attr("Id")
			return ok || (n.Parent != nil && n.Parent.Local == "doc")
		},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	compared, refused := 0, 0
	for round := range 3 {
		rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		for _, name := range names {
			src := docs[name]
			for ename, exclude := range excludes {
				want, wantRoot, wantErr := treeCanonical(src, Limits{}, exclude)
				var got bytes.Buffer
				root, err := CanonicalizeSource(&got, src, Limits{}, exclude)
				switch {
				case (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()):
					t.Fatalf("round %d, %s, excluding %s: error %v, tree error %v", round, name, ename, err, wantErr)
				case err != nil:
					refused++
				case !bytes.Equal(got.Bytes(), want):
					t.Fatalf("round %d, %s, excluding %s:\nstream %q\n  tree %q", round, name, ename, got.Bytes(), want)
				case root.Prefix != wantRoot.Prefix || root.Local != wantRoot.Local || root.Space != wantRoot.Space ||
					root.Start != wantRoot.Start || root.Inner != wantRoot.Inner || root.End != wantRoot.End:
					t.Fatalf("%s: root %+v, tree root %+v", name, root, *wantRoot)
				default:
					compared++
				}
			}
		}
	}
	t.Logf("%d documents: %d canonical forms compared, %d refusals compared", len(docs), compared, refused)
	if compared < 100 || refused < 20 {
		t.Errorf("the corpus is too small")
	}
}

// Limits refuse the same documents, with the same errors, whether a tree is built or not (the memory bound counts
// the tree a parse would build).
func TestCanonicalizeSourceKeepsLimits(t *testing.T) {
	src := `<r xmlns:a="urn:a" xmlns:b="urn:b">` + strings.Repeat(`<e Id="x" a:y="1" b:z="2">text</e>`, 500) + `</r>`
	for _, lim := range []Limits{{MaxBytes: 100}, {MaxDepth: 1}, {MaxAttributes: 2}, {MaxNodes: 999}, {MaxNamespaces: 1},
		{MaxTreeFactor: 1}, {MaxTreeFactor: 20}} {
		_, _, want := treeCanonical(src, lim, func(*Node) bool { return false })
		_, err := CanonicalizeSource(&bytes.Buffer{}, src, lim, nil)
		if (err == nil) != (want == nil) || (err != nil && err.Error() != want.Error()) {
			t.Errorf("%+v: %v, tree %v", lim, err, want)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// A write error is returned (the first one).
func TestCanonicalizeSourceWriteError(t *testing.T) {
	if _, err := CanonicalizeSource(failingWriter{}, `<a>x</a>`, Limits{}, nil); err == nil || err.Error() != "disk full" {
		t.Errorf("%v", err)
	}
}

// BenchmarkCanonicalizeSource10K is BenchmarkParseC14N10K without a tree.
func BenchmarkCanonicalizeSource10K(b *testing.B) {
	src := benchDoc(60)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CanonicalizeSource(sha256.New(), src, Limits{}, func(n *Node) bool { return n.Is(dsigNS, "Signature") }); err != nil {
			b.Fatal(err)
		}
	}
}
