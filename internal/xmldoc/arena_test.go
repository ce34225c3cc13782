package xmldoc

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Released documents hand their memory to later parses. Parsing the golden documents over and over in a shuffled
// order, releasing each, must give the canonical forms xmllint gave for each of them, whatever a reused arena held
// before (a node, attribute or declaration left over from another document would show up here), and a document
// kept alive meanwhile must be untouched by the parses that reuse released memory.
func TestReleasedMemoryIsReusedCleanly(t *testing.T) {
	files, _ := filepath.Glob("testdata/c14n/*.xml")
	type golden struct {
		name      string
		src, want []byte
	}
	var docs []golden
	for _, f := range files {
		want, err := os.ReadFile(strings.TrimSuffix(f, ".xml") + ".c14n")
		if err != nil {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, golden{filepath.Base(f), src, want})
	}
	// a large document (several node chunks) and ones with many attributes and declarations
	var big strings.Builder
	big.WriteString(`<r xmlns="urn:r" xmlns:p="urn:p">`)
	for i := range 3000 {
		big.WriteString(`<p:e a="1" b="&lt;2" xmlns:q="urn:q"><q:f>zażółć &amp; ` + strings.Repeat("x", i%7) + `</q:f></p:e>`)
	}
	big.WriteString(`</r>`)
	kept, err := ParseString(big.String(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var keptWant bytes.Buffer
	if err := Canonicalize(&keptWant, Subset{Doc: kept}, Method{}); err != nil {
		t.Fatal(err)
	}
	bigDoc, _ := ParseString(big.String(), Limits{})
	var bigWant bytes.Buffer
	Canonicalize(&bigWant, Subset{Doc: bigDoc}, Method{WithComments: true})
	docs = append(docs, golden{"big", []byte(big.String()), bigWant.Bytes()})

	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 20 {
		for _, i := range rng.Perm(len(docs)) {
			g := docs[i]
			doc, err := Parse(g.src, Limits{})
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, g.name, err)
			}
			var got bytes.Buffer
			if err := Canonicalize(&got, Subset{Doc: doc, Comments: true}, Method{WithComments: true}); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), g.want) {
				t.Fatalf("round %d, %s after reused memory:\n got %q\nwant %q", round, g.name, got.Bytes(), g.want)
			}
			root := doc.Root
			doc.Release()
			if doc.Root != nil || root.Local != "" || root.FirstChild != nil || root.Attrs != nil {
				t.Fatalf("%s: Release left the tree in place", g.name)
			}
			doc.Release() // twice is harmless
		}
	}
	var got bytes.Buffer
	if err := Canonicalize(&got, Subset{Doc: kept}, Method{}); err != nil || !bytes.Equal(got.Bytes(), keptWant.Bytes()) {
		t.Fatalf("a document not released changed while released memory was reused (%v)", err)
	}
	// a refused document's memory goes back too, and the next parse is clean
	if _, err := ParseString(`<a b="1"><c xmlns:p="urn:p" p:d="2">`, Limits{}); err == nil {
		t.Fatal("unclosed elements accepted")
	}
	doc, err := ParseString(`<x/>`, Limits{})
	if err != nil || doc.Root.Local != "x" || doc.Root.FirstChild != nil || doc.Root.Attrs != nil || doc.Root.Decls != nil {
		t.Fatalf("parse after a refused one: %+v, %v", doc.Root, err)
	}
}

// BenchmarkParseC14NReleased10K is BenchmarkParseC14N10K releasing each document, as signing does.
func BenchmarkParseC14NReleased10K(b *testing.B) {
	src := benchDoc(60)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := ParseString(src, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		if err := Canonicalize(sha256.New(), Subset{Doc: doc}, Method{}); err != nil {
			b.Fatal(err)
		}
		doc.Release()
	}
}
