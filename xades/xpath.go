package xades

// XPath in ds:Transforms, without a general XPath engine. XPath Filter 2.0 (http://www.w3.org/2002/06/xmldsig-filter2)
// is evaluated for the location paths real signatures use: absolute paths, "//", name tests (prefixes resolved
// against the XPath element's in-scope namespaces, "*", "p:*"), the axes child, descendant, descendant-or-self,
// self, parent, ancestor and ancestor-or-self, predicates [@attr='literal'] and [n], id('x'), here() and union "|".
// XPath 1.0 transforms (http://www.w3.org/TR/1999/REC-xpath-19991116) are recognised by their shape: the signature
// exclusions not(ancestor-or-self::ds:Signature) and the enveloped-signature equivalent with count() and here(),
// and ancestor-or-self::Step / not(ancestor-or-self::Step) selections. Anything else is refused, and the work of an
// evaluation is bounded.

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

// Limits of XPath evaluation.
const (
	maxXPathLen       = 2048    // characters of one expression
	maxXPathSteps     = 32      // location steps of one expression (all its paths)
	maxFilter2XPaths  = 16      // XPath elements in one XPath Filter 2.0 transform
	maxXPathNodeVisit = 4 << 20 // nodes an evaluation may visit
)

var errXPathWork = errors.New("XPath evaluation exceeds the processing limit")

// xpathVisitCost is what visiting one node costs in the verifier's work budget, whose unit is a byte
// canonicalized or hashed: a visit (a test, a set insertion, later a sort) costs about as much as canonicalizing
// a few dozen bytes (measured: a visit takes about as long as canonicalizing 30 to 60 bytes).
const xpathVisitCost = 32

// evalXPath is evalLocationPath charged to the verifier's work budget: every node visit counts, so that the XPath
// work of all references together stays within a multiple of the input, as canonicalization does. Past the
// budget it returns errBudget.
func (v *verifier) evalXPath(doc *xmldoc.Document, ns *xmldoc.Node, expr string) (selection, error) {
	limit := v.digestBudget
	if limit == 0 {
		limit = math.MaxInt64 // a verifier made by hand in a unit test, without VerifyDocument's budget
	}
	return evalLocationPathCharged(doc, ns, expr, &v.digested, limit)
}

// filter2 applies an XPath Filter 2.0 transform to set. It returns how many signature elements it takes out of the
// set (for the description of what is covered) and a note on how it narrows the set ("" if it does not).
func (v *verifier) filter2(set *xmldoc.Subset, t *xmldoc.Node, sig *xmldoc.Node) (int, string, error) {
	xps := t.Elements()
	if len(xps) == 0 {
		return 0, "", fmt.Errorf("XPath Filter 2.0 transform without XPath")
	}
	if len(xps) > maxFilter2XPaths {
		return 0, "", fmt.Errorf("XPath Filter 2.0 transform with %d XPath elements (at most %d)", len(xps), maxFilter2XPaths)
	}
	steps := 0
	for _, f := range set.Filters {
		steps += len(f)
	}
	if steps+len(xps) > xmldoc.MaxFilterSteps {
		return 0, "", fmt.Errorf("too many XPath Filter 2.0 steps")
	}
	var filter xmldoc.Filter
	excluded := 0
	var notes []string
	for _, xp := range xps {
		if !xp.Is(NSFilter2, "XPath") {
			return 0, "", fmt.Errorf("unexpected element in XPath Filter 2.0 transform")
		}
		var op xmldoc.FilterOp
		switch f, _ := xp.Attr("Filter"); f {
		case "intersect":
			op = xmldoc.Intersect
		case "subtract":
			op = xmldoc.Subtract
		case "union":
			op = xmldoc.Union
		default:
			return 0, "", fmt.Errorf("XPath Filter 2.0 Filter=%q is not intersect, subtract or union", f)
		}
		expr := xp.Text()
		sel, err := v.evalXPath(set.Doc, xp, expr) // the input's document: for detached XML, the parsed file
		if err != nil {
			return 0, "", err
		}
		if op != xmldoc.Subtract {
			if err := v.checkPlacement(set, sel.nodes, sig); err != nil {
				return 0, "", err
			}
		}
		if len(sel.nodes) == 0 && !sel.root {
			// selecting nothing is valid XPath, but a Signature name test whose prefix is bound elsewhere is a
			// mistake (or a trick) worth naming rather than a bare digest mismatch
			if p := misboundSignaturePrefix(xp, expr); p != "" {
				return 0, "", fmt.Errorf("XPath prefix %q is not bound to the XML Signature namespace", p)
			}
		}
		filter = append(filter, xmldoc.FilterStep{Op: op, Roots: sel.nodes, Document: sel.root})
		signatures := 0
		for _, n := range sel.nodes {
			if n.Is(NSDSig, "Signature") {
				signatures++
			}
		}
		if op == xmldoc.Subtract && signatures == len(sel.nodes) && !sel.root {
			excluded += signatures
			continue
		}
		if sel.root && op != xmldoc.Subtract {
			continue // intersecting with or adding the whole document changes nothing
		}
		notes = append(notes, fmt.Sprintf("%s %s (%d element(s)%s)", op, strings.Join(strings.Fields(expr), " "),
			len(sel.nodes), v.locations(sel.nodes)))
	}
	if len(filter) == 1 && filter[0].Op == xmldoc.Subtract && !filter[0].Document && len(set.Filters) == 0 {
		// a lone subtract (the real service's and our own shape, /descendant::ds:Signature) takes subtrees out of
		// the input, which is what Exclude means: canonicalization then skips them without a per-node filter walk
		set.Exclude = append(set.Exclude, filter[0].Roots...)
	} else {
		set.Filters = append(set.Filters, filter)
	}
	note := ""
	if len(notes) > 0 {
		note = "filtered by XPath Filter 2.0: " + strings.Join(notes, ", ")
	}
	return excluded, note, nil
}

// xpath1 applies an XPath 1.0 transform of a recognised form to set, returning as filter2 does.
func (v *verifier) xpath1(set *xmldoc.Subset, t *xmldoc.Node, sig *xmldoc.Node) (int, string, error) {
	xs := t.Elements()
	if len(xs) != 1 || !xs[0].Is(NSDSig, "XPath") {
		return 0, "", fmt.Errorf("XPath 1.0 transform without exactly one ds:XPath")
	}
	xp := xs[0]
	raw := xp.Text()
	expr, err := normalizeXPath(raw)
	if err != nil {
		return 0, "", err
	}
	refuse := fmt.Errorf("XPath 1.0 transform %q is not accepted (only not(ancestor-or-self::ds:Signature), the "+
		"enveloped-signature equivalent and ancestor-or-self selections are)", strings.Join(strings.Fields(raw), " "))
	// count(ancestor-or-self::P:Signature | here()/ancestor::P:Signature[1]) > count(ancestor-or-self::P:Signature):
	// the nodes outside the signature holding the transform
	if rest, ok := strings.CutPrefix(expr, "count(ancestor-or-self::"); ok {
		p1, rest, ok1 := cutSignatureName(rest)
		rest, ok2 := strings.CutPrefix(rest, "|here()/ancestor::")
		p2, rest, ok3 := cutSignatureName(rest)
		rest, ok4 := strings.CutPrefix(rest, "[1])>count(ancestor-or-self::")
		p3, rest, ok5 := cutSignatureName(rest)
		if !(ok1 && ok2 && ok3 && ok4 && ok5 && rest == ")") {
			return 0, "", refuse
		}
		for _, p := range []string{p1, p2, p3} {
			if u, ok := xmldoc.LookupNamespace(xp, p); !ok || u != NSDSig {
				return 0, "", fmt.Errorf("XPath prefix %q is not bound to the XML Signature namespace", p)
			}
		}
		here := nearestSignature(xp)
		if here == nil {
			return 0, "", fmt.Errorf("here()/ancestor::ds:Signature[1] is empty")
		}
		set.Exclude = append(set.Exclude, here)
		return 1, "", nil
	}
	negate := false
	body := expr
	if inner, ok := strings.CutPrefix(expr, "not("); ok && strings.HasSuffix(inner, ")") {
		negate, body = true, inner[:len(inner)-1]
	}
	step, ok := strings.CutPrefix(body, "ancestor-or-self::")
	if !ok {
		return 0, "", refuse
	}
	if strings.ContainsAny(step, "/|() ") || positional(step) {
		return 0, "", refuse
	}
	// the nodes with an ancestor-or-self element matching step are the subtrees of those elements
	sel, err := v.evalXPath(set.Doc, xp, "/descendant-or-self::"+step)
	if err != nil {
		return 0, "", err
	}
	if !negate {
		if err := v.checkPlacement(set, sel.nodes, sig); err != nil {
			return 0, "", err
		}
	}
	allSignatures := true
	for _, n := range sel.nodes {
		if !n.Is(NSDSig, "Signature") {
			allSignatures = false
		}
	}
	if negate && allSignatures {
		// the one form in common use: exclude every signature (nested ones go with their outer one)
		n := 0
		for _, s := range sel.nodes {
			if !hasSignatureAncestor(s) {
				set.Exclude = append(set.Exclude, s)
				n++
			}
		}
		return n, "", nil
	}
	op := xmldoc.Intersect
	if negate {
		op = xmldoc.Subtract
	}
	set.Filters = append(set.Filters, xmldoc.Filter{{Op: op, Roots: sel.nodes}})
	what := "selected"
	if negate {
		what = "removed"
	}
	return 0, fmt.Sprintf("filtered by XPath %s: %d subtree(s) %s%s", strings.Join(strings.Fields(raw), " "), len(sel.nodes),
		what, v.locations(sel.nodes)), nil
}

// placementError is why an element an XPath selects for a reference is not where signed data may be.
type placementError string

func (e placementError) Error() string { return string(e) }

// outermost returns the elements of nodes (in document order) that are not inside another one of them: the
// subtrees a selection adds to or keeps in a node-set.
func outermost(nodes []*xmldoc.Node) []*xmldoc.Node {
	var out []*xmldoc.Node
	for _, n := range nodes {
		if k := len(out); k > 0 && out[k-1].IsAncestorOf(n) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// checkPlacement applies to the subtrees an intersect or union selection keeps in a node-set of this document the
// rule an Id reference obeys (misplaced): an element selected inside a ds:Object must sit in a ds:Object of this
// signature. Selecting by Id or by path must not be a way around it.
func (v *verifier) checkPlacement(set *xmldoc.Subset, nodes []*xmldoc.Node, sig *xmldoc.Node) error {
	if set.Doc != v.doc {
		return nil // detached XML: no signature of ours in it
	}
	for _, n := range outermost(nodes) {
		if why := v.misplaced(n, sig); why != "" {
			return placementError(why)
		}
	}
	return nil
}

// maxLocations is how many selected subtrees a reference's description names.
const maxLocations = 4

// locations names where the subtrees of a selection are (": /a/b, /a/ds:Signature/ds:Object/c"), so that the
// report says where the signed content is, not only how it was selected.
func (v *verifier) locations(nodes []*xmldoc.Node) string {
	tops := outermost(nodes)
	if len(tops) == 0 {
		return ""
	}
	var parts []string
	for i, n := range tops {
		if i == maxLocations {
			parts = append(parts, fmt.Sprintf("and %d more", len(tops)-maxLocations))
			break
		}
		parts = append(parts, v.path(n))
	}
	return " at " + strings.Join(parts, ", ")
}

// positional reports whether a step has a predicate that is not an attribute comparison.
func positional(step string) bool {
	for {
		i := strings.IndexByte(step, '[')
		if i < 0 {
			return false
		}
		step = step[i+1:]
		if !strings.HasPrefix(step, "@") {
			return true
		}
	}
}

// cutSignatureName reads "P:Signature" (P a prefix) at the start of s.
func cutSignatureName(s string) (prefix, rest string, ok bool) {
	i := strings.Index(s, ":Signature")
	if i <= 0 {
		return "", "", false
	}
	for j := 0; j < i; j++ {
		if !isNCNameByte(s[j]) {
			return "", "", false
		}
	}
	return s[:i], s[i+len(":Signature"):], true
}

// misboundSignaturePrefix returns the prefix of a "P:Signature" name test in expr whose P is not bound to the XML
// Signature namespace at xp, or "".
func misboundSignaturePrefix(xp *xmldoc.Node, expr string) string {
	for rest := expr; ; {
		i := strings.Index(rest, ":Signature")
		if i < 0 {
			return ""
		}
		j := i
		for j > 0 && isNCNameByte(rest[j-1]) {
			j--
		}
		if p := rest[j:i]; p != "" {
			if u, ok := xmldoc.LookupNamespace(xp, p); ok && u != NSDSig {
				return p
			}
		}
		rest = rest[i+len(":Signature"):]
	}
}

func nearestSignature(n *xmldoc.Node) *xmldoc.Node {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Is(NSDSig, "Signature") {
			return p
		}
	}
	return nil
}

// normalizeXPath rewrites an expression as its tokens, with white space only where it separates two tokens that
// would otherwise join (names, numbers, "/" "/"...): the XPath 1.0 forms are recognised on this text, in which
// "ds:Signature or 1" stays three tokens rather than becoming one name.
func normalizeXPath(s string) (string, error) {
	if len(s) > maxXPathLen {
		return "", fmt.Errorf("XPath expression longer than %d characters", maxXPathLen)
	}
	toks, err := lexXPath(s)
	if err != nil {
		return "", err
	}
	// two tokens are written together only where they lex back as the same two tokens
	apart := func(a, b string) bool {
		again, err := lexXPath(a + b)
		return err != nil || len(again) != 2 || again[0] != a || again[1] != b
	}
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && apart(toks[i-1], t) {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String(), nil
}

// selection is the result of a location path: elements in document order, and whether the root node ("/") is in it.
type selection struct {
	root  bool
	nodes []*xmldoc.Node
}

// xctx is a context node: the root node, an element, or the text node holding the expression (here()).
type xctx struct {
	root bool
	n    *xmldoc.Node // the element; for here(), the XPath element holding the text
	here bool
}

type axis uint8

const (
	axisChild axis = iota
	axisDescendant
	axisDescendantOrSelf
	axisSelf
	axisParent
	axisAncestor
	axisAncestorOrSelf
)

var axes = map[string]axis{
	"child": axisChild, "descendant": axisDescendant, "descendant-or-self": axisDescendantOrSelf, "self": axisSelf,
	"parent": axisParent, "ancestor": axisAncestor, "ancestor-or-self": axisAncestorOrSelf,
}

// a name test: any element ("*"), any element of a namespace ("p:*"), or a qualified name; node() matches any
// element and the root node.
type nameTest struct {
	any, anyNode bool
	space, local string
}

type predicate struct {
	position   int // [n], n >= 1
	attrSpace  string
	attrLocal  string
	attrValue  string
	isPosition bool
}

type step struct {
	axis  axis
	test  nameTest
	preds []predicate
}

// a path: its start (the root node, id('x') or here()) and its steps
type path struct {
	start string // "/", "id", "here", or "" for relative (context: the root node)
	id    string
	steps []step
}

type xpathParser struct {
	toks []string
	i    int
	ns   *xmldoc.Node // the element whose in-scope namespaces resolve prefixes
}

func (p *xpathParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *xpathParser) next() string {
	t := p.peek()
	p.i++
	return t
}

func (p *xpathParser) expect(t string) error {
	if got := p.next(); got != t {
		return fmt.Errorf("XPath: expected %q, found %q", t, got)
	}
	return nil
}

// evalLocationPath evaluates expr (a union of location paths of the supported forms) over doc, resolving prefixes
// against the namespaces in scope at ns.
func evalLocationPath(doc *xmldoc.Document, ns *xmldoc.Node, expr string) (selection, error) {
	var spent int64
	return evalLocationPathCharged(doc, ns, expr, &spent, math.MaxInt64)
}

// evalLocationPathCharged is evalLocationPath adding xpathVisitCost per node visited to *spent, and failing with
// errBudget once *spent passes limit (and with errXPathWork past maxXPathNodeVisit visits of this evaluation).
func evalLocationPathCharged(doc *xmldoc.Document, ns *xmldoc.Node, expr string, spent *int64, limit int64) (selection, error) {
	if *spent > limit {
		return selection{}, errBudget
	}
	if len(expr) > maxXPathLen {
		return selection{}, fmt.Errorf("XPath expression longer than %d characters", maxXPathLen)
	}
	toks, err := lexXPath(expr)
	if err != nil {
		return selection{}, err
	}
	p := &xpathParser{toks: toks, ns: ns}
	var paths []path
	nsteps := 0
	for {
		pa, err := p.path()
		if err != nil {
			return selection{}, err
		}
		if k := len(pa.steps); k > 0 {
			// a last node() step on these axes selects text and comment nodes, which a filter of element subtrees
			// cannot hold: refused rather than narrowed to its elements (an attribute predicate keeps only elements)
			if last := pa.steps[k-1]; last.test.anyNode && (last.axis == axisChild || last.axis == axisDescendant ||
				last.axis == axisDescendantOrSelf) && !hasAttrPredicate(last.preds) {
				return selection{}, fmt.Errorf("XPath: node() selects text and comment nodes; only elements are accepted (use *)")
			}
		}
		nsteps += len(pa.steps)
		if nsteps > maxXPathSteps {
			return selection{}, fmt.Errorf("XPath expression with more than %d steps", maxXPathSteps)
		}
		paths = append(paths, pa)
		if p.peek() != "|" {
			break
		}
		p.next()
	}
	if p.i < len(p.toks) {
		return selection{}, fmt.Errorf("XPath: unsupported expression at %q (only location paths are evaluated)", p.peek())
	}
	ev := evaluator{doc: doc, here: ns, spent: spent, limit: limit}
	var sel selection
	seen := map[*xmldoc.Node]bool{}
	for _, pa := range paths {
		ctxs, err := ev.path(pa)
		if err != nil {
			return selection{}, err
		}
		for _, c := range ctxs {
			switch {
			case c.root:
				sel.root = true
			case c.here:
				return selection{}, fmt.Errorf("XPath selects the text node of here(), not elements")
			case len(paths) == 1:
				sel.nodes = append(sel.nodes, c.n) // a step's result has no duplicates
			case !seen[c.n]:
				seen[c.n] = true
				sel.nodes = append(sel.nodes, c.n)
			}
		}
	}
	// the union and its sort
	*spent += int64(len(sel.nodes)) * xpathVisitCost
	if *spent > limit {
		return selection{}, errBudget
	}
	byStart := func(i, j int) bool { return sel.nodes[i].Start < sel.nodes[j].Start }
	if !sort.SliceIsSorted(sel.nodes, byStart) {
		sort.Slice(sel.nodes, byStart)
	}
	return sel, nil
}

func (p *xpathParser) path() (path, error) {
	var pa path
	switch t := p.peek(); {
	case t == "/":
		p.next()
		pa.start = "/"
		if q := p.peek(); q == "" || q == "|" {
			return pa, nil
		}
	case t == "//":
		p.next()
		pa.start = "/"
		pa.steps = append(pa.steps, step{axis: axisDescendantOrSelf, test: nameTest{anyNode: true}})
	case (t == "id" || t == "here") && p.i+1 < len(p.toks) && p.toks[p.i+1] == "(":
		p.next()
		p.next()
		pa.start = t
		if t == "id" {
			lit := p.next()
			if !isLiteral(lit) {
				return pa, fmt.Errorf("XPath: id() takes one string literal")
			}
			pa.id = lit[1 : len(lit)-1]
			if strings.ContainsAny(pa.id, " \t\r\n") {
				return pa, fmt.Errorf("XPath: id() with several Ids is not accepted")
			}
		}
		if err := p.expect(")"); err != nil {
			return pa, err
		}
		if !p.separator(&pa) {
			return pa, nil
		}
	}
	for {
		s, err := p.step()
		if err != nil {
			return pa, err
		}
		pa.steps = append(pa.steps, s)
		if !p.separator(&pa) {
			return pa, nil
		}
	}
}

// separator reads the "/" or "//" before a next step ("//" is /descendant-or-self::node()/) and reports whether
// there was one.
func (p *xpathParser) separator(pa *path) bool {
	switch p.peek() {
	case "/":
		p.next()
	case "//":
		p.next()
		pa.steps = append(pa.steps, step{axis: axisDescendantOrSelf, test: nameTest{anyNode: true}})
	default:
		return false
	}
	return true
}

func (p *xpathParser) step() (step, error) {
	var s step
	t := p.next()
	if t == "." {
		s.axis, s.test.anyNode = axisSelf, true
		return s, nil
	}
	if t == ".." {
		s.axis, s.test.anyNode = axisParent, true
		return s, nil
	}
	if p.peek() == "::" {
		a, ok := axes[t]
		if !ok {
			return s, fmt.Errorf("XPath axis %q is not accepted", t)
		}
		s.axis = a
		p.next()
		t = p.next()
	}
	test, err := p.nameTest(t)
	if err != nil {
		return s, err
	}
	s.test = test
	for p.peek() == "[" {
		p.next()
		pr, err := p.predicate()
		if err != nil {
			return s, err
		}
		s.preds = append(s.preds, pr)
		if err := p.expect("]"); err != nil {
			return s, err
		}
	}
	// node() on these axes matches text, comment and processing-instruction nodes too, which the evaluator does
	// not produce: a position counted over elements only would select another node than XPath does (an attribute
	// predicate first is fine: only elements pass it)
	if s.test.anyNode && (s.axis == axisChild || s.axis == axisDescendant || s.axis == axisDescendantOrSelf) {
		for _, pr := range s.preds {
			if !pr.isPosition {
				break
			}
			return s, fmt.Errorf("XPath: a position over node() counts text and comment nodes; not accepted (use * for elements)")
		}
	}
	return s, nil
}

func (p *xpathParser) nameTest(t string) (nameTest, error) {
	switch {
	case t == "*":
		return nameTest{any: true}, nil
	case t == "node" && p.peek() == "(":
		p.next()
		if err := p.expect(")"); err != nil {
			return nameTest{}, err
		}
		return nameTest{anyNode: true}, nil
	case !isQName(t) && !strings.HasSuffix(t, ":*"):
		return nameTest{}, fmt.Errorf("XPath: %q is not a name test (only element name tests are accepted)", t)
	}
	if p.peek() == "(" {
		return nameTest{}, fmt.Errorf("XPath function or node type %s() is not accepted here", t)
	}
	prefix, local, hasPrefix := strings.Cut(t, ":")
	if !hasPrefix {
		// XPath 1.0: an unprefixed name test is in no namespace
		return nameTest{local: prefix}, nil
	}
	uri, ok := xmldoc.LookupNamespace(p.ns, prefix)
	if !ok || uri == "" {
		return nameTest{}, fmt.Errorf("XPath prefix %q is not declared", prefix)
	}
	if local == "*" {
		return nameTest{space: uri, any: true}, nil
	}
	return nameTest{space: uri, local: local}, nil
}

func (p *xpathParser) predicate() (predicate, error) {
	t := p.next()
	if n, err := strconv.Atoi(t); err == nil {
		if n < 1 || p.peek() != "]" {
			return predicate{}, fmt.Errorf("XPath: unsupported predicate [%s...]", t)
		}
		return predicate{position: n, isPosition: true}, nil
	}
	var name, lit string
	switch {
	case t == "@":
		name = p.next()
		if err := p.expect("="); err != nil {
			return predicate{}, fmt.Errorf("XPath: only [@attr='value'] and [n] predicates are accepted")
		}
		lit = p.next()
	case isLiteral(t):
		lit = t
		if err := p.expect("="); err != nil {
			return predicate{}, err
		}
		if err := p.expect("@"); err != nil {
			return predicate{}, err
		}
		name = p.next()
	default:
		return predicate{}, fmt.Errorf("XPath: only [@attr='value'] and [n] predicates are accepted")
	}
	if !isLiteral(lit) || !isQName(name) {
		return predicate{}, fmt.Errorf("XPath: only [@attr='value'] and [n] predicates are accepted")
	}
	pr := predicate{attrValue: lit[1 : len(lit)-1]}
	prefix, local, hasPrefix := strings.Cut(name, ":")
	if !hasPrefix {
		pr.attrLocal = prefix
		return pr, nil
	}
	uri, ok := xmldoc.LookupNamespace(p.ns, prefix)
	if !ok || uri == "" {
		return predicate{}, fmt.Errorf("XPath prefix %q is not declared", prefix)
	}
	pr.attrSpace, pr.attrLocal = uri, local
	return pr, nil
}

func isLiteral(t string) bool {
	return len(t) >= 2 && (t[0] == '\'' || t[0] == '"') && t[len(t)-1] == t[0]
}

func isNCNameByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c >= 0x80
}

func isQName(t string) bool {
	if t == "" || strings.Count(t, ":") > 1 {
		return false
	}
	for _, part := range strings.Split(t, ":") {
		if part == "" || part[0] == '-' || part[0] == '.' || (part[0] >= '0' && part[0] <= '9') {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !isNCNameByte(part[i]) {
				return false
			}
		}
	}
	return true
}

// lexXPath splits an expression into tokens: "/", "//", "|", "[", "]", "(", ")", "@", "::", "=", ",", "*",
// "<", ">", "!", "+", "-", ".", "..", string literals, numbers and names (a QName or "p:*").
func lexXPath(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '/':
			if strings.HasPrefix(s[i:], "//") {
				toks = append(toks, "//")
				i += 2
			} else {
				toks = append(toks, "/")
				i++
			}
		case c == ':' && strings.HasPrefix(s[i:], "::"):
			toks = append(toks, "::")
			i += 2
		case strings.IndexByte("|[]()@=,*<>!+-", c) >= 0:
			toks = append(toks, string(c))
			i++
		case c == '.':
			if strings.HasPrefix(s[i:], "..") {
				toks = append(toks, "..")
				i += 2
			} else {
				toks = append(toks, ".")
				i++
			}
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated string literal in XPath")
			}
			toks = append(toks, s[i:i+j+2])
			i += j + 2
		case c >= '0' && c <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case isNCNameByte(c):
			j := i
			for j < len(s) && isNCNameByte(s[j]) {
				j++
			}
			// a prefix: "p:name" or "p:*" (not "p::", an axis)
			if j+1 < len(s) && s[j] == ':' && s[j+1] != ':' {
				k := j + 1
				if s[k] == '*' {
					k++
				} else {
					for k < len(s) && isNCNameByte(s[k]) {
						k++
					}
				}
				j = k
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("XPath: unsupported character %q", c)
		}
		if len(toks) > 4*maxXPathSteps+64 {
			return nil, fmt.Errorf("XPath expression too long")
		}
	}
	return toks, nil
}

type evaluator struct {
	doc    *xmldoc.Document
	here   *xmldoc.Node // the XPath element
	visits int
	// spent is the work budget's counter, charged xpathVisitCost per visit, up to limit
	spent *int64
	limit int64
}

func (ev *evaluator) visit() error {
	ev.visits++
	if ev.visits > maxXPathNodeVisit {
		return errXPathWork
	}
	*ev.spent += xpathVisitCost
	if *ev.spent > ev.limit {
		return errBudget
	}
	return nil
}

func (ev *evaluator) path(pa path) ([]xctx, error) {
	var ctxs []xctx
	switch pa.start {
	case "/", "":
		ctxs = []xctx{{root: true}}
	case "id":
		targets := ev.doc.ByID(pa.id)
		if len(targets) > 1 {
			return nil, fmt.Errorf("XPath id(%q): the Id is carried by %d elements (ambiguous, possible signature wrapping)", pa.id, len(targets))
		}
		for _, n := range targets {
			ctxs = append(ctxs, xctx{n: n})
		}
	case "here":
		ctxs = []xctx{{n: ev.here, here: true}}
	}
	steps := pa.steps
	for i := 0; i < len(steps); i++ {
		s := steps[i]
		// "//x" (descendant-or-self::node()/child::x) is descendant::x when x has no position predicate: one walk
		// instead of a child step from every node
		if i+1 < len(steps) && s.axis == axisDescendantOrSelf && s.test.anyNode && len(s.preds) == 0 &&
			steps[i+1].axis == axisChild && !hasPosition(steps[i+1].preds) {
			i++
			s = step{axis: axisDescendant, test: steps[i].test, preds: steps[i].preds}
		}
		var err error
		if ctxs, err = ev.step(ctxs, s); err != nil {
			return nil, err
		}
	}
	return ctxs, nil
}

func hasAttrPredicate(preds []predicate) bool {
	for _, pr := range preds {
		if !pr.isPosition {
			return true
		}
	}
	return false
}

func hasPosition(preds []predicate) bool {
	for _, pr := range preds {
		if pr.isPosition {
			return true
		}
	}
	return false
}

// step applies one location step to every context node and returns the union, without duplicates.
func (ev *evaluator) step(ctxs []xctx, s step) ([]xctx, error) {
	var out []xctx
	seen := map[*xmldoc.Node]bool{}
	rootSeen := false
	// nested contexts on a descending axis would revisit the same subtrees: skip a context inside the previous one
	descending := s.axis == axisDescendant || s.axis == axisDescendantOrSelf
	for _, pr := range s.preds {
		if pr.isPosition {
			descending = false
		}
	}
	var last *xmldoc.Node
	for _, c := range ctxs {
		if descending && last != nil && c.n != nil && !c.here && c.n.Start > last.Start && c.n.End <= last.End {
			continue
		}
		if descending && c.root {
			last = nil
		} else if descending && !c.here {
			last = c.n
		}
		cands, err := ev.axis(c, s.axis, s.test)
		if err != nil {
			return nil, err
		}
		for _, pr := range s.preds {
			cands = filterPredicate(cands, pr)
		}
		if len(ctxs) == 1 {
			out = cands // one context: its axis has no duplicates
			break
		}
		for _, n := range cands {
			switch {
			case n.root:
				if !rootSeen {
					rootSeen = true
					out = append(out, n)
				}
			case !seen[n.n]:
				seen[n.n] = true
				out = append(out, n)
			}
		}
		if descending && c.root {
			break // the root's descendants are everything
		}
	}
	inOrder := func(i, j int) bool {
		if out[i].root || out[j].root {
			return out[i].root && !out[j].root
		}
		return out[i].n.Start < out[j].n.Start
	}
	if !sort.SliceIsSorted(out, inOrder) {
		sort.SliceStable(out, inOrder)
	}
	return out, nil
}

func (t nameTest) matches(c xctx) bool {
	if c.root {
		return t.anyNode
	}
	if c.here {
		return false
	}
	if t.anyNode {
		return true
	}
	n := c.n
	if n.Kind != xmldoc.ElementNode {
		return false
	}
	if t.any {
		return t.space == "" || n.Space == t.space
	}
	return n.Local == t.local && n.Space == t.space
}

// axis returns the nodes of axis a from c that pass test t, in axis order (reverse document order for the
// ancestor axes, as positions count).
func (ev *evaluator) axis(c xctx, a axis, t nameTest) ([]xctx, error) {
	var out []xctx
	add := func(x xctx) error {
		if err := ev.visit(); err != nil {
			return err
		}
		if t.matches(x) {
			out = append(out, x)
		}
		return nil
	}
	var descend func(n *xmldoc.Node) error
	descend = func(n *xmldoc.Node) error {
		for ch := n.FirstChild; ch != nil; ch = ch.Next {
			if ch.Kind != xmldoc.ElementNode {
				continue
			}
			if err := add(xctx{n: ch}); err != nil {
				return err
			}
			if err := descend(ch); err != nil {
				return err
			}
		}
		return nil
	}
	// ancestors: of the root, none; of here() (a text node), the XPath element and up
	ancestors := func(from *xmldoc.Node) error {
		for p := from; p != nil; p = p.Parent {
			if err := add(xctx{n: p}); err != nil {
				return err
			}
		}
		return add(xctx{root: true})
	}
	switch {
	case c.root:
		switch a {
		case axisChild:
			return out, add(xctx{n: ev.doc.Root})
		case axisDescendantOrSelf, axisDescendant:
			if a == axisDescendantOrSelf {
				if err := add(c); err != nil {
					return nil, err
				}
			}
			if err := add(xctx{n: ev.doc.Root}); err != nil {
				return nil, err
			}
			return out, descend(ev.doc.Root)
		case axisSelf, axisAncestorOrSelf:
			return out, add(c)
		}
		return nil, nil
	case c.here:
		switch a {
		case axisParent:
			return out, add(xctx{n: c.n})
		case axisAncestor, axisAncestorOrSelf:
			return out, ancestors(c.n)
		}
		return nil, nil
	}
	n := c.n
	switch a {
	case axisChild:
		for ch := n.FirstChild; ch != nil; ch = ch.Next {
			if ch.Kind == xmldoc.ElementNode {
				if err := add(xctx{n: ch}); err != nil {
					return nil, err
				}
			}
		}
	case axisDescendantOrSelf:
		if err := add(c); err != nil {
			return nil, err
		}
		return out, descend(n)
	case axisDescendant:
		return out, descend(n)
	case axisSelf:
		return out, add(c)
	case axisParent:
		if n.Parent == nil {
			return out, add(xctx{root: true})
		}
		return out, add(xctx{n: n.Parent})
	case axisAncestor:
		if n.Parent == nil {
			return out, add(xctx{root: true})
		}
		return out, ancestors(n.Parent)
	case axisAncestorOrSelf:
		return out, ancestors(n)
	}
	return out, nil
}

func filterPredicate(cands []xctx, pr predicate) []xctx {
	if pr.isPosition {
		if pr.position <= len(cands) {
			return cands[pr.position-1 : pr.position]
		}
		return nil
	}
	k := 0
	for _, c := range cands {
		if c.root || c.here {
			continue
		}
		for _, a := range c.n.Attrs {
			if a.Local == pr.attrLocal && a.Space == pr.attrSpace && a.Value == pr.attrValue {
				cands[k] = c
				k++
				break
			}
		}
	}
	return cands[:k]
}

// selectsExactly reports whether set renders exactly as the subtree of n: how a reference through an XPath
// transform (URI="" intersected with //*[@Id='…']/etsi:QualifyingProperties/etsi:SignedProperties, as XAdES 1.1.1
// qualified signatures do) is known to cover the SignedProperties and nothing else. Its canonicalizations are
// charged to the work budget; past it, the answer is no (and the reference is refused when it is digested).
func (v *verifier) selectsExactly(set *xmldoc.Subset, n *xmldoc.Node) bool {
	if set == nil || n == nil {
		return false
	}
	top := n
	for top.Parent != nil {
		top = top.Parent
	}
	if top != set.Doc.Root {
		return false
	}
	limit := v.digestBudget
	if limit == 0 {
		limit = math.MaxInt64 // a verifier made by hand in a unit test
	}
	want := xmldoc.Subset{Doc: set.Doc, Apex: n, Comments: set.Comments}
	var got, exact bytes.Buffer
	if xmldoc.Canonicalize(budgetWriter{&exact, &v.digested, limit}, want, xmldoc.Method{}) != nil {
		return false
	}
	// the filtered set renders as the subtree only if it is no longer: stop writing it past that
	v.chargeFilters(set)
	if xmldoc.Canonicalize(budgetWriter{&got, &v.digested, min(limit, v.digested+int64(exact.Len())+1)}, *set, xmldoc.Method{}) != nil {
		return false
	}
	v.chargeWalk(set, got.Len())
	return v.digested <= limit && bytes.Equal(got.Bytes(), exact.Bytes())
}
