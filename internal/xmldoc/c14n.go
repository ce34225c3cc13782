package xmldoc

import (
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// Canonicalization algorithm URIs.
const (
	C14N10             = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
	C14N10Comments     = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
	C14N11             = "http://www.w3.org/2006/12/xml-c14n11"
	C14N11Comments     = "http://www.w3.org/2006/12/xml-c14n11#WithComments"
	ExcC14N            = "http://www.w3.org/2001/10/xml-exc-c14n#"
	ExcC14NComments    = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
	ExcC14NNamespace   = "http://www.w3.org/2001/10/xml-exc-c14n#"
	defaultPrefixToken = "#default"
)

// Method selects a canonicalization algorithm.
type Method struct {
	Exclusive    bool
	WithComments bool
	Version11    bool
	// InclusivePrefixes is the exclusive C14N InclusiveNamespaces PrefixList ("#default" names the default
	// namespace).
	InclusivePrefixes []string
}

// MethodFor returns the Method for an algorithm URI and whether the URI is known.
func MethodFor(uri string) (Method, bool) {
	switch uri {
	case C14N10:
		return Method{}, true
	case C14N10Comments:
		return Method{WithComments: true}, true
	case C14N11:
		return Method{Version11: true}, true
	case C14N11Comments:
		return Method{Version11: true, WithComments: true}, true
	case ExcC14N:
		return Method{Exclusive: true}, true
	case ExcC14NComments:
		return Method{Exclusive: true, WithComments: true}, true
	}
	return Method{}, false
}

// Subset is an XPath node-set of the kinds XML signatures use: a whole document or an element's subtree, minus
// the subtrees of the Exclude elements, with or without comment nodes, and narrowed by Filters.
type Subset struct {
	Doc *Document
	// Apex is the subtree's root element; nil means the whole document.
	Apex     *Node
	Exclude  []*Node
	Comments bool
	// Filters narrow the node-set: a node is in the subset only if every filter keeps it (each XPath Filter 2.0
	// transform, or XPath 1.0 transform of the recognised forms, adds one).
	Filters []Filter
}

// FilterOp is how an XPath Filter 2.0 step combines the subtrees it selects with the filter so far.
type FilterOp uint8

// Filter operations (XPath Filter 2.0, section 3.1).
const (
	Intersect FilterOp = iota + 1
	Subtract
	Union
)

func (o FilterOp) String() string {
	switch o {
	case Intersect:
		return "intersect"
	case Subtract:
		return "subtract"
	case Union:
		return "union"
	}
	return "invalid"
}

// FilterStep is one XPath of a filter: the subtrees rooted at Roots (the whole document, prolog and epilog
// included, when Document is set: the XPath selected the root node "/"). A subtree holds an element, its
// attributes and namespace nodes, and all its descendants.
type FilterStep struct {
	Op       FilterOp
	Roots    []*Node
	Document bool
}

// Filter is an XPath Filter 2.0 filter node-set: it starts as every node of the document, and each step in turn
// intersects it with, subtracts from it or unites it with the subtrees the step selects.
type Filter []FilterStep

// MaxFilterSteps bounds the steps of all the filters of one Subset; Canonicalize refuses more.
const MaxFilterSteps = 64

// ErrTooManyFilterSteps is returned by Canonicalize for a Subset whose filters hold more than MaxFilterSteps steps.
var ErrTooManyFilterSteps = errors.New("too many XPath filter steps")

// ErrRelativeNamespace is returned by Canonicalize for a subset with an element that declares a relative
// namespace URI: Canonical XML 1.0 (section 2, following the XML Plenary decision) requires implementations to
// report failure on them, and libxml2 does. A namespace name that is no URI at all (a space in it, say) is refused
// the same way, as libxml2 refuses it: a signature over it would verify nowhere else.
var ErrRelativeNamespace = errors.New("relative or malformed namespace URIs cannot be canonicalized")

// Contains reports whether element n (and so its attributes and namespace nodes) is in the subset.
func (s Subset) Contains(n *Node) bool {
	if n == nil || n.Kind != ElementNode || (s.Apex != nil && !s.Apex.IsAncestorOf(n)) {
		return false
	}
	c := canon{s: s}
	if c.prepareFilters() != nil {
		return false
	}
	var path []*Node
	for e := n; e != nil; e = e.Parent {
		if len(s.Exclude) > 0 && c.excluded(e) {
			return false
		}
		path = append(path, e)
	}
	mask := c.docMask
	for i := len(path) - 1; i >= 0; i-- {
		mask = c.enter(mask, path[i])
	}
	return c.keep(mask)
}

// Canonicalize writes the canonical form of the subset to w. It returns the first write error.
func Canonicalize(w io.Writer, s Subset, m Method) error {
	c := canon{w: w, m: m, s: s, comments: m.WithComments && s.Comments}
	if err := c.prepareFilters(); err != nil {
		return err
	}
	bp, _ := bufPool.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 16<<10)
		bp = &b
	}
	c.buf = (*bp)[:0]
	c.run()
	if c.bad == nil {
		c.flush()
	}
	if cap(c.buf) <= 64<<10 {
		*bp = c.buf[:0]
		bufPool.Put(bp)
	}
	if c.bad != nil {
		return c.bad
	}
	return c.err
}

// bufPool holds Canonicalize's output buffers (what it writes is copied out by w.Write).
var bufPool sync.Pool

// AppendCanonical appends the canonical form of the subset to dst (dst unchanged for a subset Canonicalize
// refuses).
func AppendCanonical(dst []byte, s Subset, m Method) []byte {
	c := canon{m: m, s: s, comments: m.WithComments && s.Comments, buf: dst}
	if c.prepareFilters() != nil {
		return dst
	}
	c.run()
	if c.bad != nil {
		return dst
	}
	return c.buf
}

type canon struct {
	w        io.Writer
	err      error
	buf      []byte
	m        Method
	s        Subset
	comments bool
	rendered []NS // exclusive mode: namespace declarations rendered by output ancestors
	// excludeSet holds s.Exclude when it is long
	excludeSet map[*Node]struct{}
	nsTmp      []NS
	atTmp      []Attr

	// the filters' steps, flattened: bit k of a mask says a node is inside a subtree that step k selected
	steps     []FilterStep
	filterEnd []int                // index in steps just past each filter
	rootSets  []map[*Node]struct{} // per step with many roots
	docMask   uint64               // the steps that selected the whole document
	bad       error                // why the subset cannot be canonicalized
}

func (c *canon) prepareFilters() error {
	if len(c.s.Filters) == 0 {
		return nil
	}
	for _, f := range c.s.Filters {
		c.steps = append(c.steps, f...)
		c.filterEnd = append(c.filterEnd, len(c.steps))
	}
	if len(c.steps) > MaxFilterSteps {
		return ErrTooManyFilterSteps
	}
	c.rootSets = make([]map[*Node]struct{}, len(c.steps))
	for k, st := range c.steps {
		if st.Document {
			c.docMask |= 1 << k
		}
		if len(st.Roots) > 4 {
			m := make(map[*Node]struct{}, len(st.Roots))
			for _, r := range st.Roots {
				m[r] = struct{}{}
			}
			c.rootSets[k] = m
		}
	}
	return nil
}

// enter returns the mask of element n given its parent's.
func (c *canon) enter(mask uint64, n *Node) uint64 {
	for k := range c.steps {
		if mask&(1<<k) != 0 {
			continue
		}
		if set := c.rootSets[k]; set != nil {
			if _, ok := set[n]; ok {
				mask |= 1 << k
			}
			continue
		}
		for _, r := range c.steps[k].Roots {
			if r == n {
				mask |= 1 << k
				break
			}
		}
	}
	return mask
}

// keep applies every filter's set algebra to a node inside the subtrees of mask.
func (c *canon) keep(mask uint64) bool {
	k := 0
	for _, end := range c.filterEnd {
		in := true
		for ; k < end; k++ {
			sel := mask&(1<<k) != 0
			switch c.steps[k].Op {
			case Intersect:
				in = in && sel
			case Subtract:
				in = in && !sel
			case Union:
				in = in || sel
			default:
				in = false
			}
		}
		if !in {
			return false
		}
	}
	return true
}

func (c *canon) run() {
	if c.s.Apex == nil {
		c.document()
		return
	}
	mask := c.docMask
	if len(c.steps) > 0 {
		var path []*Node
		for e := c.s.Apex.Parent; e != nil; e = e.Parent {
			path = append(path, e)
		}
		for i := len(path) - 1; i >= 0; i-- {
			mask = c.enter(mask, path[i])
		}
	}
	c.element(c.s.Apex, nil, mask)
}

func (c *canon) flush() {
	if c.w != nil && len(c.buf) > 0 && c.err == nil {
		_, c.err = c.w.Write(c.buf)
	}
	c.buf = c.buf[:0]
}

func (c *canon) maybeFlush() {
	if c.w != nil && len(c.buf) >= 32<<10 {
		c.flush()
	}
}

func (c *canon) document() {
	d := c.s.Doc
	top := c.keep(c.docMask)
	for _, n := range d.Prolog {
		if top && c.misc(n) {
			c.buf = append(c.buf, '\n')
		}
	}
	c.element(d.Root, nil, c.docMask)
	for _, n := range d.Epilog {
		if top && (n.Kind == ProcInstNode || c.comments) {
			c.buf = append(c.buf, '\n')
			c.misc(n)
		}
	}
}

func (c *canon) misc(n *Node) bool {
	switch n.Kind {
	case CommentNode:
		if !c.comments {
			return false
		}
		c.buf = append(c.buf, "<!--"...)
		c.buf = append(c.buf, n.Data...)
		c.buf = append(c.buf, "-->"...)
	case ProcInstNode:
		c.buf = append(c.buf, "<?"...)
		c.buf = append(c.buf, n.Local...)
		if n.Data != "" {
			c.buf = append(c.buf, ' ')
			c.buf = append(c.buf, n.Data...)
		}
		c.buf = append(c.buf, "?>"...)
	}
	return true
}

func (c *canon) excluded(n *Node) bool {
	if len(c.s.Exclude) > 8 {
		// a set, so that many excluded subtrees (a document full of signatures) keep canonicalization linear
		if c.excludeSet == nil {
			c.excludeSet = make(map[*Node]struct{}, len(c.s.Exclude))
			for _, e := range c.s.Exclude {
				c.excludeSet[e] = struct{}{}
			}
		}
		_, ok := c.excludeSet[n]
		return ok
	}
	for _, e := range c.s.Exclude {
		if e == n {
			return true
		}
	}
	return false
}

func (c *canon) lookupRendered(prefix string) (string, bool) {
	for i := len(c.rendered) - 1; i >= 0; i-- {
		if c.rendered[i].Prefix == prefix {
			return c.rendered[i].URI, true
		}
	}
	return "", false
}

// element writes n and its subtree. out is n's nearest ancestor in the node-set (nil if none: n is at the top of
// what is output); mask says which filter steps' subtrees n's parent is in.
func (c *canon) element(n *Node, out *Node, mask uint64) {
	if len(c.s.Exclude) > 0 && c.excluded(n) {
		return
	}
	if len(c.steps) > 0 {
		mask = c.enter(mask, n)
		if !c.keep(mask) {
			// n, its attributes, namespace nodes and other children are outside the node-set; its element
			// descendants may be inside
			for ch := n.FirstChild; ch != nil; ch = ch.Next {
				if ch.Kind == ElementNode {
					c.element(ch, out, mask)
				}
			}
			return
		}
	}
	mark := c.startTag(n, out)
	for ch := n.FirstChild; ch != nil; ch = ch.Next {
		switch ch.Kind {
		case ElementNode:
			c.element(ch, n, mask)
		case TextNode:
			c.buf = appendText(c.buf, ch.Data)
		case CommentNode, ProcInstNode:
			c.misc(ch)
		}
		c.maybeFlush()
	}
	c.endTag(n, mark)
}

// startTag writes the start tag of element n, which is in the node-set, out being its nearest output ancestor (nil
// if none). It returns what endTag needs.
func (c *canon) startTag(n, out *Node) int {
	for _, d := range n.Decls {
		if d.URI != "" && c.bad == nil && !absoluteURI(d.URI) {
			c.bad = ErrRelativeNamespace
		}
	}
	mark := len(c.rendered)
	ns := c.nsTmp[:0]
	if c.m.Exclusive {
		ns = c.exclusiveNS(n, ns)
	} else {
		ns = c.inclusiveNS(n, out, ns)
	}
	attrs := n.Attrs // written as they are when no attribute is inherited and they are in canonical order already
	if inherit := !c.m.Exclusive && n.Parent != nil && n.Parent != out; inherit || !attrsSorted(attrs) {
		attrs = append(c.atTmp[:0], n.Attrs...)
		if inherit {
			// the parent is not in the node-set
			attrs = c.inheritXMLAttrs(n, out, attrs)
		}
		sortAttrs(attrs)
		c.atTmp = attrs[:0]
	}
	sortNS(ns)

	b := append(c.buf, '<')
	b = appendQName(b, n.Prefix, n.Local)
	for _, d := range ns {
		if d.Prefix == "" {
			b = append(b, " xmlns=\""...)
		} else {
			b = append(b, " xmlns:"...)
			b = append(b, d.Prefix...)
			b = append(b, '=', '"')
		}
		b = appendAttrValue(b, d.URI)
		b = append(b, '"')
	}
	for _, a := range attrs {
		b = append(b, ' ')
		b = appendQName(b, a.Prefix, a.Local)
		b = append(b, '=', '"')
		b = appendAttrValue(b, a.Value)
		b = append(b, '"')
	}
	b = append(b, '>')
	c.setBuf(b)
	if len(ns) > 0 {
		c.nsTmp = ns[:0]
	}
	return mark
}

// endTag writes n's end tag; mark is what startTag returned.
func (c *canon) endTag(n *Node, mark int) {
	b := append(c.buf, '<', '/')
	b = appendQName(b, n.Prefix, n.Local)
	c.setBuf(append(b, '>'))
	c.rendered = c.rendered[:mark]
}

// setBuf stores b, c.buf appended to: only its length when it has not moved, so that no pointer is written (and no
// write barrier runs while the garbage collector marks).
func (c *canon) setBuf(b []byte) {
	if unsafe.SliceData(b) == unsafe.SliceData(c.buf) {
		c.buf = c.buf[:len(b)]
	} else {
		c.buf = b
	}
}

// inclusiveNS returns the namespace declarations inclusive C14N renders on n: those in scope at n that the nearest
// output ancestor out does not have in scope with the same value (all of them when out is nil); an empty default
// namespace only to undeclare a non-empty one of out.
func (c *canon) inclusiveNS(n, out *Node, ns []NS) []NS {
	if out != nil && out == n.Parent {
		for _, d := range n.Decls {
			parentURI, _ := LookupNamespace(n.Parent, d.Prefix)
			if parentURI != d.URI {
				ns = append(ns, d)
			}
		}
		return ns
	}
	// every namespace in scope, nearest declaration first
	for e := n; e != nil; e = e.Parent {
		for i := len(e.Decls) - 1; i >= 0; i-- {
			d := e.Decls[i]
			seen := false
			for _, o := range ns {
				if o.Prefix == d.Prefix {
					seen = true
					break
				}
			}
			if !seen {
				ns = append(ns, d)
			}
		}
	}
	k := 0
	for _, d := range ns {
		var have string
		if out != nil {
			have, _ = LookupNamespace(out, d.Prefix)
		}
		if have != d.URI {
			ns[k] = d
			k++
		}
	}
	return ns[:k]
}

func (c *canon) exclusiveNS(n *Node, out []NS) []NS {
	consider := func(prefix string) {
		for _, o := range out {
			if o.Prefix == prefix {
				return
			}
		}
		uri, _ := LookupNamespace(n, prefix)
		have, ok := c.lookupRendered(prefix)
		if prefix == "" && uri == "" {
			if ok && have != "" {
				out = append(out, NS{"", ""})
			}
			return
		}
		if uri == "" { // prefix not in scope (only possible for the inclusive list)
			return
		}
		if !ok || have != uri {
			out = append(out, NS{prefix, uri})
		}
	}
	consider(n.Prefix)
	for _, a := range n.Attrs {
		if a.Prefix != "" && a.Prefix != "xml" {
			consider(a.Prefix)
		}
	}
	for _, p := range c.m.InclusivePrefixes {
		if p == defaultPrefixToken {
			p = ""
		}
		if p == "" {
			// the default namespace from the list is rendered when in scope, like inclusive C14N
			uri, _ := LookupNamespace(n, "")
			have, _ := c.lookupRendered("")
			if uri != have {
				seen := false
				for _, o := range out {
					if o.Prefix == "" {
						seen = true
					}
				}
				if !seen {
					out = append(out, NS{"", uri})
				}
			}
			continue
		}
		consider(p)
	}
	c.rendered = append(c.rendered, out...)
	return out
}

// inheritXMLAttrs adds, for an element whose parent is not in the node-set, the attributes in the xml namespace
// that it inherits (C14N 1.0 and 1.1, section 2.4): from the nearest ancestor that has each, unless n has its own.
// C14N 1.0 inherits every xml:* attribute, from any ancestor; C14N 1.1 only xml:lang and xml:space, from the
// omitted ancestors below out (the nearest output ancestor), never xml:id, and fixes up xml:base by joining the
// values of those omitted ancestors.
func (c *canon) inheritXMLAttrs(n, out *Node, attrs []Attr) []Attr {
	for e := n.Parent; e != nil; e = e.Parent {
		if c.m.Version11 && e == out {
			// C14N 1.1 looks only at the omitted ancestors (as libxml2 does): out renders its own
			break
		}
		for _, a := range e.Attrs {
			if a.Space != xmlNS {
				continue
			}
			if c.m.Version11 && a.Local != "lang" && a.Local != "space" {
				continue
			}
			dup := false
			for _, b := range attrs {
				if b.Space == xmlNS && b.Local == a.Local {
					dup = true
					break
				}
			}
			if !dup {
				attrs = append(attrs, a)
			}
		}
	}
	if c.m.Version11 {
		attrs = xmlBaseFixup(n, out, attrs)
	}
	return attrs
}

// xmlBaseFixup is C14N 1.1's xml:base fix-up (section 2.4): when an omitted ancestor between n and out carries
// xml:base, n's xml:base becomes the join of those values (outermost first) with its own, and is not rendered when
// the result is empty.
func xmlBaseFixup(n, out *Node, attrs []Attr) []Attr {
	own := -1
	for i, a := range attrs {
		if a.Space == xmlNS && a.Local == "base" {
			own = i
		}
	}
	var value string
	have, fixed := own >= 0, false
	if have {
		value = attrs[own].Value
	}
	for e := n.Parent; e != nil && e != out; e = e.Parent {
		for _, a := range e.Attrs {
			if a.Space == xmlNS && a.Local == "base" {
				if have {
					value = joinURIReferences(a.Value, value)
				} else {
					value, have = a.Value, true
				}
				fixed = true
			}
		}
	}
	if !fixed {
		return attrs
	}
	if own >= 0 {
		if value == "" {
			return append(attrs[:own], attrs[own+1:]...)
		}
		attrs[own].Value = value
		return attrs
	}
	if value == "" {
		return attrs
	}
	return append(attrs, Attr{Prefix: "xml", Local: "base", Space: xmlNS, Value: value})
}

func sortNS(ns []NS) {
	if len(ns) < 2 {
		return
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].Prefix < ns[j].Prefix })
}

func sortAttrs(a []Attr) {
	if len(a) < 2 {
		return
	}
	sort.SliceStable(a, func(i, j int) bool {
		if a[i].Space != a[j].Space {
			return a[i].Space < a[j].Space
		}
		return a[i].Local < a[j].Local
	})
}

// attrsSorted reports whether a is in the order sortAttrs puts it in.
func attrsSorted(a []Attr) bool {
	for i := 1; i < len(a); i++ {
		if a[i].Space < a[i-1].Space || (a[i].Space == a[i-1].Space && a[i].Local < a[i-1].Local) {
			return false
		}
	}
	return true
}

func appendQName(b []byte, prefix, local string) []byte {
	if prefix != "" {
		b = append(b, prefix...)
		b = append(b, ':')
	}
	return append(b, local...)
}

func appendText(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		// eight bytes at a time while none of them needs escaping
		for i+8 <= len(s) && !textSpecialIn(s[i:i+8]) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// textSpecialIn reports whether w (eight bytes) holds '&', '<', '>' or CR, the characters appendText escapes.
func textSpecialIn(w string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
	zero := func(v uint64) uint64 { return (v - ones) &^ v & highs } // a zero byte in v
	return zero(x^('&'*ones))|zero(x^('<'*ones))|zero(x^('>'*ones))|zero(x^('\r'*ones)) != 0
}

func appendAttrValue(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '"':
			esc = "&quot;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// Text returns the string-value of the subset's text nodes, in document order: what the base64 transform decodes
// (XMLDSig section 6.6.2) when its input is a node-set. Text outside the subset (in excluded subtrees, or in
// elements a filter leaves out) is not read.
func (s Subset) Text() (string, error) {
	c := canon{s: s}
	if err := c.prepareFilters(); err != nil {
		return "", err
	}
	var b strings.Builder
	var walk func(n *Node, mask uint64)
	walk = func(n *Node, mask uint64) {
		if len(s.Exclude) > 0 && c.excluded(n) {
			return
		}
		in := true
		if len(c.steps) > 0 {
			mask = c.enter(mask, n)
			in = c.keep(mask)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.Next {
			switch {
			case ch.Kind == ElementNode:
				walk(ch, mask)
			case ch.Kind == TextNode && in:
				b.WriteString(ch.Data)
			}
		}
	}
	top, mask := s.Apex, c.docMask
	if top == nil {
		top = s.Doc.Root
	} else if len(c.steps) > 0 {
		var path []*Node
		for e := top.Parent; e != nil; e = e.Parent {
			path = append(path, e)
		}
		for i := len(path) - 1; i >= 0; i-- {
			mask = c.enter(mask, path[i])
		}
	}
	walk(top, mask)
	return b.String(), nil
}

// AppendCanonicalText appends character data s (as the parser decodes it) in its canonical form: '&', '<', '>' and
// CR escaped. Writers that produce canonical XML directly use it to escape exactly as Canonicalize does.
func AppendCanonicalText(b []byte, s string) []byte { return appendText(b, s) }

// AppendCanonicalAttr appends an attribute value s (normalized, as the parser decodes it) in its canonical form:
// '&', '<', '"', TAB, LF and CR escaped.
func AppendCanonicalAttr(b []byte, s string) []byte { return appendAttrValue(b, s) }
