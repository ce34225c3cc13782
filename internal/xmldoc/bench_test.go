package xmldoc

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
)

func benchDoc(rows int) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<wniosek xmlns="urn:example:wniosek">` + "\n")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, `  <poz nr="%d"><nazwa>Pozycja %d zażółć gęślą jaźń</nazwa><kwota>%d.50</kwota><opis>%s</opis></poz>`+"\n", i, i, i*7, strings.Repeat("x", 80))
	}
	b.WriteString("</wniosek>\n")
	return b.String()
}

func benchmarkParseC14N(b *testing.B, rows int) {
	src := benchDoc(rows)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := ParseString(src, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		h := sha256.New()
		if err := Canonicalize(h, Subset{Doc: doc}, Method{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseC14N10K parses and canonicalizes a 10 KB document (the signing speed goal's size).
func BenchmarkParseC14N10K(b *testing.B) { benchmarkParseC14N(b, 60) }

// BenchmarkParseC14N1M parses and canonicalizes a 1 MB document (the verification speed goal's size).
func BenchmarkParseC14N1M(b *testing.B) { benchmarkParseC14N(b, 6000) }
