package xmldoc

import (
	"io"
	"sort"
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
// the subtrees of the Exclude elements, with or without comment nodes.
type Subset struct {
	Doc *Document
	// Apex is the subtree's root element; nil means the whole document.
	Apex     *Node
	Exclude  []*Node
	Comments bool
}

// Canonicalize writes the canonical form of the subset to w. It returns the first write error.
func Canonicalize(w io.Writer, s Subset, m Method) error {
	c := canon{w: w, m: m, s: s, comments: m.WithComments && s.Comments}
	c.buf = make([]byte, 0, 16<<10)
	if s.Apex == nil {
		c.document()
	} else {
		c.element(s.Apex, true)
	}
	c.flush()
	return c.err
}

// AppendCanonical appends the canonical form of the subset to dst.
func AppendCanonical(dst []byte, s Subset, m Method) []byte {
	c := canon{m: m, s: s, comments: m.WithComments && s.Comments, buf: dst}
	if s.Apex == nil {
		c.document()
	} else {
		c.element(s.Apex, true)
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
	for _, n := range d.Prolog {
		if c.misc(n) {
			c.buf = append(c.buf, '\n')
		}
	}
	c.element(d.Root, false)
	for _, n := range d.Epilog {
		if n.Kind == ProcInstNode || c.comments {
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

// element writes n; apex marks the top of a subtree subset (in-scope namespaces and, for inclusive C14N, xml:*
// attributes are inherited there).
func (c *canon) element(n *Node, apex bool) {
	if len(c.s.Exclude) > 0 && c.excluded(n) {
		return
	}
	mark := len(c.rendered)
	ns := c.nsTmp[:0]
	if c.m.Exclusive {
		ns = c.exclusiveNS(n, ns)
	} else {
		ns = c.inclusiveNS(n, apex, ns)
	}
	attrs := c.atTmp[:0]
	attrs = append(attrs, n.Attrs...)
	if apex && !c.m.Exclusive && n.Parent != nil {
		attrs = c.inheritXMLAttrs(n, attrs)
	}
	sortNS(ns)
	sortAttrs(attrs)

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
	c.buf = b
	c.nsTmp, c.atTmp = ns[:0], attrs[:0]

	for ch := n.FirstChild; ch != nil; ch = ch.Next {
		switch ch.Kind {
		case ElementNode:
			c.element(ch, false)
		case TextNode:
			c.buf = appendText(c.buf, ch.Data)
		case CommentNode, ProcInstNode:
			c.misc(ch)
		}
		c.maybeFlush()
	}
	b = append(c.buf, '<', '/')
	b = appendQName(b, n.Prefix, n.Local)
	c.buf = append(b, '>')
	c.rendered = c.rendered[:mark]
}

func (c *canon) inclusiveNS(n *Node, apex bool, out []NS) []NS {
	if apex {
		// every namespace in scope, nearest declaration first
		for e := n; e != nil; e = e.Parent {
			for i := len(e.Decls) - 1; i >= 0; i-- {
				d := e.Decls[i]
				seen := false
				for _, o := range out {
					if o.Prefix == d.Prefix {
						seen = true
						break
					}
				}
				if seen {
					continue
				}
				out = append(out, d)
			}
		}
		// an empty default namespace is not a namespace node
		k := 0
		for _, d := range out {
			if !(d.Prefix == "" && d.URI == "") {
				out[k] = d
				k++
			}
		}
		return out[:k]
	}
	for _, d := range n.Decls {
		parentURI, _ := LookupNamespace(n.Parent, d.Prefix)
		if parentURI != d.URI {
			out = append(out, d)
		}
	}
	return out
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

// inheritXMLAttrs adds the xml:* attributes in scope from ancestors (C14N 1.0; C14N 1.1 inherits only xml:lang
// and xml:space).
func (c *canon) inheritXMLAttrs(n *Node, attrs []Attr) []Attr {
	for e := n.Parent; e != nil; e = e.Parent {
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
	return attrs
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
