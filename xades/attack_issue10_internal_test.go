package xades

import (
	"testing"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

// node() matches every kind of node in XPath, text and comments included, but the evaluator only ever produces
// elements: node()[1] then selects the first element child where libxml2 (xmlsec1) and Santuario select the first
// child node, here the white space before it. The intersect filter then covers a whole element the other
// verifiers leave out. A position over node() (or any test that could match a non-element) must be evaluated over
// all child nodes or refused.
func TestAttackXPathNodeTestPositionCountsOnlyElements(t *testing.T) {
	doc, err := xmldoc.ParseString(`<r:root xmlns:r="urn:r">
  <r:a Id="a"/><!--c--><r:b Id="b"/></r:root>`, xmldoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, expr := range []string{"/r:root/node()[1]", "/r:root/node()[2]", "/r:root/child::node()[3]"} {
		sel, err := evalLocationPath(doc, doc.Root, expr)
		if err != nil {
			continue // refusing is fine
		}
		if len(sel.nodes) > 0 {
			id, _ := sel.nodes[0].Attr("Id")
			t.Errorf("%s selects element %s; in XPath it is a text or comment node", expr, id)
		}
	}
}

// compactXPath removes all white space outside literals before the XPath 1.0 forms are recognised, which joins
// tokens: "not(ancestor-or-self::ds:Signature or 1)" (false for every node: the empty node-set in XPath) becomes
// the name test ds:Signatureor1, and the transform is taken as "exclude every signature" of none, i.e. the whole
// document. An expression of another meaning must be refused, not read as a different recognised form.
func TestAttackXPath1WhitespaceJoinsTokens(t *testing.T) {
	for _, expr := range []string{
		"not(ancestor-or-self::ds:Signature or 1)",
		"not(ancestor-or-self::ds:Signature and 0)",
		"ancestor-or-self::ds:Signature or 1",
	} {
		src := `<r xmlns:ds="` + NSDSig + `"><a/><ds:Signature><ds:Transform><ds:XPath>` + expr +
			`</ds:XPath></ds:Transform></ds:Signature></r>`
		doc, err := xmldoc.ParseString(src, xmldoc.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		var tr, sig *xmldoc.Node
		doc.Root.Descendants(func(n *xmldoc.Node) bool {
			switch {
			case n.Is(NSDSig, "Transform"):
				tr = n
			case n.Is(NSDSig, "Signature"):
				sig = n
			}
			return true
		})
		v := &verifier{doc: doc}
		set := &xmldoc.Subset{Doc: doc}
		if _, _, err := v.xpath1(set, tr, sig); err == nil {
			t.Errorf("%q accepted (filters %d, excluded %d): it is not a recognised form", expr, len(set.Filters), len(set.Exclude))
		}
	}
}
