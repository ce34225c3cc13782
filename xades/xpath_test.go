package xades

import (
	"errors"
	"strings"
	"testing"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

const xpathDoc = `<r:root xmlns:r="urn:r" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="root">` +
	`<r:data Id="d1"><r:item Id="i1"/><r:item Id="i2"><r:item Id="i3"/></r:item></r:data>` +
	`<ds:Signature Id="sig1"><ds:SignedInfo><ds:Reference><ds:Transforms><ds:Transform>` +
	`<f:XPath xmlns:f="http://www.w3.org/2002/06/xmldsig-filter2" xmlns:dsig="http://www.w3.org/2000/09/xmldsig#" ` +
	`xmlns:e="http://uri.etsi.org/01903/v1.3.2#">x</f:XPath>` +
	`</ds:Transform></ds:Transforms></ds:Reference></ds:SignedInfo>` +
	`<ds:Object Id="obj1"><e:QualifyingProperties xmlns:e="http://uri.etsi.org/01903/v1.3.2#" Target="#sig1">` +
	`<e:SignedProperties Id="sp1"/></e:QualifyingProperties></ds:Object></ds:Signature>` +
	`<ds:Signature Id="sig2"><ds:Signature Id="sig3"/></ds:Signature><plain Id="p1" r:kind="k"/></r:root>`

func xpathFixture(t *testing.T) (*xmldoc.Document, *xmldoc.Node) {
	t.Helper()
	doc, err := xmldoc.ParseString(xpathDoc, xmldoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var xp *xmldoc.Node
	doc.Root.Descendants(func(n *xmldoc.Node) bool {
		if n.Is(NSFilter2, "XPath") {
			xp = n
		}
		return true
	})
	return doc, xp
}

func ids(sel selection) string {
	var out []string
	if sel.root {
		out = append(out, "/")
	}
	for _, n := range sel.nodes {
		id, _ := n.Attr("Id")
		out = append(out, id)
	}
	return strings.Join(out, " ")
}

// The location paths of XPath Filter 2.0 transforms seen in real signatures, evaluated against the XPath element's
// in-scope namespaces.
func TestXPathLocationPaths(t *testing.T) {
	doc, xp := xpathFixture(t)
	for _, tc := range []struct{ expr, want string }{
		{"/", "/"},
		{" / ", "/"},
		{"//ds:Signature", "sig1 sig2 sig3"},
		{"//dsig:Signature", "sig1 sig2 sig3"},
		{"/descendant::dsig:Signature", "sig1 sig2 sig3"},
		{"here()/ancestor::dsig:Signature[1]", "sig1"},
		{"here()/ancestor::ds:Signature", "sig1"},
		{"here()/ancestor-or-self::r:root", "root"},
		{"id('i2')", "i2"},
		{`id("sp1")`, "sp1"},
		{`//*[@Id="i1"]`, "i1"},
		{"//*[ @Id = 'obj1' ]/e:QualifyingProperties/e:SignedProperties", "sp1"},
		{"//*[@Id='obj1']/e:QualifyingProperties/e:SignedProperties | //*[@Id='d1']", "d1 sp1"},
		{"/r:root/r:data/r:item[2]", "i2"},
		{"//r:item[1]", "i1 i3"},
		{"/descendant::r:item[1]", "i1"},
		{"id('d1')/r:item | id('sig2')", "i1 i2 sig2"},
		{"id('d1')//r:item", "i1 i2 i3"},
		{"//r:*", "root d1 i1 i2 i3"},
		{"//plain", "p1"},
		{"//*[@r:kind='k']", "p1"},
		{"//*['k'=@r:kind]", "p1"},
		{"//r:item[@Id='i3']/ancestor::r:*[1]", "i2"},
		{"//r:item[@Id='i3']/..", "i2"},
		{"id('i3')/parent::r:item/self::r:item", "i2"},
		{"/child::r:root/child::*[1]", "d1"},
		{"//node()[@Id='i3']", "i3"},
		{"//r:item[@Id='nope']", ""},
		{"id('nope')", ""},
		{"/r:root/..", "/"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			sel, err := evalLocationPath(doc, xp, tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(sel); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Anything but the supported location paths is refused, never evaluated: functions, other axes, other predicates,
// arithmetic, attributes and text as results, undeclared prefixes, ambiguous Ids.
func TestXPathRefusesUnsupported(t *testing.T) {
	doc, xp := xpathFixture(t)
	for _, expr := range []string{
		"", "//r:item[contains(@Id,'1')]", "count(//r:item)", "//@Id", "//text()", "//x:item", "//none:item",
		"//*[@Id='a' or @Id='b']", "//r:item/following-sibling::r:item", "id('i1 i2')", "//r:item[last()]", "1+1",
		"'lit'", "document('http://example.org/')", "//r:item[position()=1]", "here()", "//r:item[0]",
		"//*[@Id=concat('i','1')]", "//r:item[", "/r:root/", "//r:item | ", "id(//r:item)", "ancestor::*$",
		"//r:item[@Id='i1'", "//r:item['unterminated]", "namespace::*", "//r:item[1][@Id]",
		// a position over node() counts text and comment nodes, which the evaluator does not produce
		"/child::r:root/child::node()[1]", "/r:root/node()[2]", "/descendant::node()[3]", "id('d1')//node()[1]",
		// and node() as the last step selects them too
		"id('d1')/node()", "/r:root/child::node()", "/descendant-or-self::node()", "id('d1')//node()",
		strings.Repeat("/r:a", maxXPathSteps+1), "/" + strings.Repeat(" ", maxXPathLen),
	} {
		t.Run(expr, func(t *testing.T) {
			if sel, err := evalLocationPath(doc, xp, expr); err == nil {
				t.Errorf("accepted, selecting %q", ids(sel))
			}
		})
	}
	dup, err := xmldoc.ParseString(`<r xmlns:f="`+NSFilter2+`"><a Id="x"/><b Id="x"/><f:XPath/></r>`, xmldoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evalLocationPath(dup, dup.Root.Child(NSFilter2, "XPath"), "id('x')"); err == nil {
		t.Error("id() of an Id carried by two elements (signature wrapping) accepted")
	}
}

// Attack: a document made so that a location path visits nodes a quadratic number of times (nested elements,
// positional predicates that defeat the nesting shortcut) stops at the work limit instead of running on.
func TestXPathWorkIsBoundedOnNestedDocuments(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<a xmlns:f="` + NSFilter2 + `"><f:XPath/>`)
	for i := 0; i < 250; i++ {
		b.WriteString("<a>" + strings.Repeat("<b/>", 100))
	}
	b.WriteString(strings.Repeat("</a>", 251))
	doc, err := xmldoc.ParseString(b.String(), xmldoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	xp := doc.Root.Child(NSFilter2, "XPath")
	_, err = evalLocationPath(doc, xp, "//a/descendant::*[1]/ancestor::*[1]/descendant::*[2]/ancestor::*[1]/descendant::b[3]")
	if !errors.Is(err, errXPathWork) {
		t.Fatalf("got %v, want the work limit", err)
	}
	// the forms real files use stay linear
	sel, err := evalLocationPath(doc, xp, "//*[@Id='x'] | //a//b | /descendant::a/descendant::a")
	if err != nil {
		t.Fatal(err)
	}
	if len(sel.nodes) != 250*100+250 {
		t.Errorf("selected %d nodes", len(sel.nodes))
	}
}

// XPath 1.0 transforms are recognised by shape, with any prefix bound to the right namespace.
func TestXPath1Forms(t *testing.T) {
	const dsigNS = `xmlns:dsig="http://www.w3.org/2000/09/xmldsig#"`
	for _, tc := range []struct {
		name, expr, ns string
		excluded       int
		canonical      string // of the whole document after the transform; "" when refused
	}{
		{"signature exclusion", "not(ancestor-or-self::dsig:Signature)", dsigNS, 1,
			`<w:doc xmlns:w="urn:w"><w:a Id="a">1</w:a><w:b>2</w:b></w:doc>`},
		{"signature exclusion, spaced", " not( ancestor-or-self::dsig:Signature )\n", dsigNS, 1,
			`<w:doc xmlns:w="urn:w"><w:a Id="a">1</w:a><w:b>2</w:b></w:doc>`},
		{"enveloped equivalent", "count(ancestor-or-self::dsig:Signature | here()/ancestor::dsig:Signature[1]) > count(ancestor-or-self::dsig:Signature)", dsigNS, 1,
			`<w:doc xmlns:w="urn:w"><w:a Id="a">1</w:a><w:b>2</w:b></w:doc>`},
		{"select by Id", "ancestor-or-self::*[@Id='a']", "", 0, `<w:a xmlns:w="urn:w" Id="a">1</w:a>`},
		{"select by name", "ancestor-or-self::q:b", `xmlns:q="urn:w"`, 0, `<w:b xmlns:w="urn:w">2</w:b>`},
		{"remove by Id", "not(ancestor-or-self::*[@Id='a'])", "", 0,
			`<w:doc xmlns:w="urn:w"><w:b>2</w:b><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::*[@Id='a'])</ds:XPath></ds:Transform></ds:Signature></w:doc>`},
		// evaluated as XPath: no element of that namespace, so nothing is removed (and the signature stays in)
		{"prefix bound elsewhere", "not(ancestor-or-self::dsig:Signature)", `xmlns:dsig="urn:other"`, 0,
			`<w:doc xmlns:w="urn:w"><w:a Id="a">1</w:a><w:b>2</w:b><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath xmlns:dsig="urn:other">not(ancestor-or-self::dsig:Signature)</ds:XPath></ds:Transform></ds:Signature></w:doc>`},
		{"unbound prefix", "not(ancestor-or-self::nope:Signature)", "", 0, ""},
		{"enveloped with a wrong prefix", "count(ancestor-or-self::dsig:Signature | here()/ancestor::dsig:Signature[1]) > count(ancestor-or-self::dsig:Signature)", `xmlns:dsig="urn:other"`, 0, ""},
		{"positional", "ancestor-or-self::*[1]", "", 0, ""},
		{"general XPath", "self::text()", "", 0, ""},
		{"boolean", "1 = 1", "", 0, ""},
		{"path inside", "ancestor-or-self::*/child::*", "", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := `<w:doc xmlns:w="urn:w"><w:a Id="a">1</w:a><w:b>2</w:b><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">` +
				`<ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath ` + tc.ns + `>` + tc.expr +
				`</ds:XPath></ds:Transform></ds:Signature></w:doc>`
			doc, err := xmldoc.ParseString(src, xmldoc.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			tr := doc.Root.Child(NSDSig, "Signature").Child(NSDSig, "Transform")
			set := &xmldoc.Subset{Doc: doc}
			v := &verifier{doc: doc}
			n, _, err := v.xpath1(set, tr, tr.Parent)
			if tc.canonical == "" {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.excluded {
				t.Errorf("excluded %d signatures, want %d", n, tc.excluded)
			}
			if got := string(xmldoc.AppendCanonical(nil, *set, xmldoc.Method{})); got != tc.canonical {
				t.Errorf("\n got: %s\nwant: %s", got, tc.canonical)
			}
		})
	}
}

// FuzzXPathLocationPath feeds arbitrary expressions to the evaluator: it must not panic, and must either refuse or
// return elements of the document in document order without duplicates.
func FuzzXPathLocationPath(f *testing.F) {
	for _, s := range []string{"/", "//ds:Signature", "here()/ancestor::dsig:Signature[1]", "id('i2')", `//*[@Id="i1"]`,
		"//*[@Id='obj1']/e:QualifyingProperties/e:SignedProperties | //*[@Id='d1']", "/r:root/r:data/r:item[2]",
		"id('d1')//r:item", "//r:item[@Id='i3']/ancestor::r:*[1]", "/child::r:root/child::node()[1]", "..", "//e:*"} {
		f.Add(s)
	}
	doc, err := xmldoc.ParseString(xpathDoc, xmldoc.Limits{})
	if err != nil {
		f.Fatal(err)
	}
	var xp *xmldoc.Node
	doc.Root.Descendants(func(n *xmldoc.Node) bool {
		if n.Is(NSFilter2, "XPath") {
			xp = n
		}
		return true
	})
	f.Fuzz(func(t *testing.T, expr string) {
		sel, err := evalLocationPath(doc, xp, expr)
		if err != nil {
			return
		}
		for i, n := range sel.nodes {
			if n.Kind != xmldoc.ElementNode || (i > 0 && sel.nodes[i-1].Start >= n.Start) {
				t.Fatalf("%q: bad selection %s", expr, ids(sel))
			}
		}
	})
}

// Every node an XPath evaluation visits is charged to the verifier's work budget: repeated walks of the document
// stop at the budget, whatever the per-evaluation and per-reference limits allow.
func TestXPathWorkChargedToBudget(t *testing.T) {
	const elements = 10_000
	src := `<r xmlns:ds="` + NSDSig + `"><ds:Signature><ds:Transform><f:XPath xmlns:f="` + NSFilter2 +
		`" Filter="union">//*</f:XPath></ds:Transform></ds:Signature>` + strings.Repeat("<a/>", elements) + `</r>`
	doc, err := xmldoc.ParseString(src, xmldoc.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	sig := doc.Root.Child(NSDSig, "Signature")
	tr := sig.Child(NSDSig, "Transform")
	const budget = 4 << 20
	v := &verifier{doc: doc, digestBudget: budget}
	walks := 0
	for ; walks < 1000; walks++ {
		_, _, err = v.filter2(&xmldoc.Subset{Doc: doc}, tr, sig)
		if err != nil {
			break
		}
	}
	if !errors.Is(err, errBudget) {
		t.Fatalf("after %d walks: %v, want the work budget", walks, err)
	}
	// a walk visits every element once and adds it to the selection
	if perWalk := 2 * elements * xpathVisitCost; walks > budget/perWalk {
		t.Errorf("%d walks of %d elements within a budget of %d", walks, elements, budget)
	}
	// past the budget by at most one selection (charged when the union of its paths is made)
	if over := v.digested - budget; over > (elements+2)*xpathVisitCost {
		t.Errorf("charged %d, past the budget %d by more than one selection", v.digested, budget)
	}
}

// An element that an XPath Filter 2.0 or XPath 1.0 selection keeps (intersect, union) obeys the placement rule of
// an element referenced by Id: inside a ds:Object, only one of the signature's own. A subtraction selects nothing
// to keep, and is not checked.
func TestXPathSelectionPlacement(t *testing.T) {
	const src = `<w xmlns:ds="` + NSDSig + `"><k Id="fake">1</k>` +
		`<ds:Signature Id="own"><ds:Transform Algorithm="F2"><f:XPath xmlns:f="` + NSFilter2 + `" Filter="FILTER">EXPR</f:XPath></ds:Transform>` +
		`<ds:Transform Algorithm="X1"><ds:XPath>XPATH1</ds:XPath></ds:Transform><ds:Object><k Id="mine">2</k></ds:Object></ds:Signature>` +
		`<ds:Signature Id="other"><ds:Object><k Id="theirs">3</k></ds:Object></ds:Signature>` +
		`<ds:Object><k Id="loose">4</k></ds:Object></w>`
	for _, tc := range []struct {
		filter, id string
		wrapped    bool
	}{
		{"intersect", "fake", false},
		{"intersect", "mine", false},
		{"intersect", "theirs", true},
		{"union", "loose", true},
		{"subtract", "theirs", false},
	} {
		t.Run(tc.filter+" "+tc.id, func(t *testing.T) {
			s := strings.NewReplacer("FILTER", tc.filter, "EXPR", "id('"+tc.id+"')",
				"XPATH1", "ancestor-or-self::*[@Id='"+tc.id+"']").Replace(src)
			doc, err := xmldoc.ParseString(s, xmldoc.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			sig := doc.ByID("own")[0]
			trs := sig.Children(NSDSig, "Transform")
			v := &verifier{doc: doc}
			var placement placementError
			_, note, err := v.filter2(&xmldoc.Subset{Doc: doc}, trs[0], sig)
			if got := errors.As(err, &placement); got != tc.wrapped {
				t.Errorf("filter 2.0: %v (note %q), want wrapping refused: %t", err, note, tc.wrapped)
			}
			if !tc.wrapped && tc.filter != "subtract" && !strings.Contains(note, v.path(doc.ByID(tc.id)[0])) {
				t.Errorf("filter 2.0 note %q does not say where the selected element is", note)
			}
			if tc.filter == "intersect" {
				_, note, err := v.xpath1(&xmldoc.Subset{Doc: doc}, trs[1], sig)
				if got := errors.As(err, &placement); got != tc.wrapped {
					t.Errorf("XPath 1.0: %v (note %q), want wrapping refused: %t", err, note, tc.wrapped)
				}
			}
		})
	}
}
