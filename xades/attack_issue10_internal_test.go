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
