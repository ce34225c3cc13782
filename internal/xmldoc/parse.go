// Package xmldoc is trustsign's XML reader for signature processing: a single-pass, allocation-light parser that
// builds a read-only tree with namespace resolution, Id lookup and the byte offsets of every element, and the W3C
// canonicalization algorithms (C14N 1.0/1.1 and exclusive C14N, with or without comments) over a document subset:
// a subtree, minus excluded subtrees, narrowed by XPath Filter 2.0 filters (the node-set type of XML signatures).
// A document read only to be digested need not become a tree: CanonicalizeSource canonicalizes it while parsing
// it. Document.Release hands a tree's memory to later parses.
//
// It is hardened for hostile input: DOCTYPE declarations (and so entities of any kind) are refused, as are
// non-UTF-8 encodings, characters outside XML 1.0's Char production, excessive depth, attribute counts and node
// counts, and a tree that would take more memory than a fixed multiple of the document's size (see
// Limits.MaxTreeFactor), so that a parse costs memory in proportion to its input whatever its shape. It is not a general XML library: no DTDs, no XPath evaluation (callers resolve expressions to elements),
// no editing; documents are built by writing bytes, not by changing the tree.
package xmldoc

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// idEntrySize is about what one Id in the document's index costs (a map entry and its one-element slice).
const idEntrySize = 64

// Limits bound the resources a parse may use. Zero fields take the defaults.
type Limits struct {
	MaxBytes      int // default 12 MiB
	MaxDepth      int // default 256
	MaxAttributes int // per element, default 256
	MaxNodes      int // default 4,000,000
	// MaxNamespaces bounds the namespace declarations in scope at any element (default 256), so that resolving a
	// prefix stays cheap.
	MaxNamespaces int
	// MaxTreeFactor bounds the memory of the tree (nodes, attributes, namespace declarations, decoded text, the Id
	// index) to this many bytes per byte of the document read so far, plus TreeAllowance (default 48). A node
	// costs NodeSize bytes, so the default accepts documents of at least one node per 3.5 bytes on average (such as
	// "<a/>" repeated, or "  <ab>1</ab>" on lines), and refuses denser ones, like "<b/>x" repeated, as soon as
	// they pass the allowance: a parse never holds more than about 48 times its input.
	MaxTreeFactor int
}

// NodeSize is the memory one Node takes (64-bit platforms), which MaxTreeFactor counts.
const NodeSize = int(unsafe.Sizeof(Node{}))

// TreeAllowance is the tree memory every document may use whatever its size (about 6,000 nodes), on top of
// MaxTreeFactor times its size.
const TreeAllowance = 1 << 20

// DefaultLimits are used when a zero Limits is given.
var DefaultLimits = Limits{MaxBytes: 12 << 20, MaxDepth: 256, MaxAttributes: 256, MaxNodes: 4_000_000, MaxNamespaces: 256,
	MaxTreeFactor: 48}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes == 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth == 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxAttributes == 0 {
		l.MaxAttributes = DefaultLimits.MaxAttributes
	}
	if l.MaxNodes == 0 {
		l.MaxNodes = DefaultLimits.MaxNodes
	}
	if l.MaxNamespaces == 0 {
		l.MaxNamespaces = DefaultLimits.MaxNamespaces
	}
	if l.MaxTreeFactor == 0 {
		l.MaxTreeFactor = DefaultLimits.MaxTreeFactor
	}
	return l
}

// Errors for refused input. Parse wraps them in a *SyntaxError with the byte offset.
var (
	ErrDOCTYPE  = errors.New("DOCTYPE declarations are not accepted (no DTDs, no entities)")
	ErrTooLarge = errors.New("document exceeds the size limit")
	ErrTooDeep  = errors.New("element nesting exceeds the depth limit")
	ErrTooMany  = errors.New("too many attributes, namespace declarations or nodes")
	ErrTooDense = errors.New("the document's markup is too dense: its tree would take too much memory for its size")
	ErrEncoding = errors.New("only UTF-8 documents are accepted")
)

// SyntaxError is a parse failure at a byte offset.
type SyntaxError struct {
	Offset int
	Err    error
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("XML error at byte %d: %v", e.Offset, e.Err) }
func (e *SyntaxError) Unwrap() error { return e.Err }

// Kind is the type of a node.
type Kind uint8

// Node kinds.
const (
	ElementNode Kind = iota + 1
	TextNode
	CommentNode
	ProcInstNode
)

// Attr is an attribute that is not a namespace declaration. Value is normalized and entity-decoded.
type Attr struct {
	Prefix, Local, Space, Value string
}

// NS is a namespace declaration: Prefix "" is the default namespace.
type NS struct {
	Prefix, URI string
}

// Node is an element, text, comment or processing instruction. Its fields are ordered to keep it small (NodeSize):
// a document's memory is mostly its nodes.
type Node struct {
	Kind Kind
	// Depth is an element's nesting level (the root element is 1).
	Depth int32
	// Element: Prefix, Local and Space (namespace URI). Processing instruction: Local is the target.
	Prefix, Local, Space string
	// Text: decoded character data. Comment: its content. Processing instruction: its data.
	Data string
	// Attrs excludes namespace declarations, which are in Decls.
	Attrs []Attr
	Decls []NS

	Parent, FirstChild, Next *Node
	// Start is the offset of the element's '<'; End is just past its closing '>'; Inner is the offset of its end
	// tag's '<' (-1 for an empty-element tag).
	Start, Inner, End int
}

// Document is a parsed XML document.
type Document struct {
	// Src is the source text; node offsets index into it.
	Src string
	// Root is the document element.
	Root *Node
	// Prolog and Epilog are the comments and processing instructions before and after the root element.
	Prolog, Epilog []*Node
	// XMLDecl is the end offset of the XML declaration (0 when absent).
	XMLDecl int
	ids     map[string][]*Node
	nnodes  int
	mem     *arena
}

// arena is the memory of one parse's tree: nodes, attributes and namespace declarations are carved out of chunks,
// so that a parse makes a few allocations rather than one per element, and Release hands the chunks to later parses.
type arena struct {
	nodes chunks[Node]
	attrs chunks[Attr]
	decls chunks[NS]
}

// arenaPool holds the arenas of released documents.
var arenaPool sync.Pool

// maxPooledNodes bounds the nodes an arena keeps for reuse (about 2.7 MB): a released large document gives back
// only this much (and proportionally many attributes and declarations), so that the pool holds a modest tree per
// processor at most.
const maxPooledNodes = 16 << 10

// chunks is a list of slices that one parse carves its values out of: list[:used] hold the current parse's, the
// rest are spare (empty and zeroed) for it to continue into.
type chunks[T any] struct {
	list [][]T
	used int
}

// take returns a slice of length 0 and capacity n (whose elements are zero) from the current chunk, going on to a
// spare chunk or a new one (first elements, doubling up to most) when the current one has less room.
func (c *chunks[T]) take(n, first, most int) []T {
	if c.used == 0 || cap(c.list[c.used-1])-len(c.list[c.used-1]) < n {
		if c.used < len(c.list) && cap(c.list[c.used]) >= n {
			c.used++
		} else {
			size := first
			if c.used > 0 {
				size = min(cap(c.list[c.used-1])*2, most)
			}
			c.list = slices.Insert(c.list, c.used, make([]T, 0, max(size, n)))
			c.used++
		}
	}
	cur := &c.list[c.used-1]
	l := len(*cur)
	*cur = (*cur)[:l+n]
	return (*cur)[l : l : l+n]
}

// reset zeroes what the parse used (so that the pool keeps no document text alive) and keeps chunks of up to keep
// elements in all for the next parse.
func (c *chunks[T]) reset(keep int) {
	total, k := 0, 0
	for _, ch := range c.list {
		clear(ch)
		if total+cap(ch) <= keep {
			total += cap(ch)
			c.list[k] = ch[:0]
			k++
		}
	}
	clear(c.list[k:])
	c.list, c.used = c.list[:k], 0
}

func (a *arena) node() *Node {
	s := a.nodes.take(1, 64, 8192)[:1]
	return &s[0]
}

func (a *arena) reset() {
	a.nodes.reset(maxPooledNodes)
	a.attrs.reset(maxPooledNodes)
	a.decls.reset(maxPooledNodes / 4)
}

// Release gives the document's memory back for later parses. Neither d nor any of its nodes, attributes or
// declarations may be used afterwards (their fields are cleared). Releasing is optional: a document not released
// is collected as usual. Use it for documents whose tree never leaves the function that parsed them.
func (d *Document) Release() {
	if d == nil || d.mem == nil {
		return
	}
	a := d.mem
	*d = Document{}
	a.reset()
	arenaPool.Put(a)
}

// Parse reads a complete document.
func Parse(src []byte, lim Limits) (*Document, error) {
	return ParseString(string(src), lim)
}

// ParseString is Parse over a string (no copy).
func ParseString(src string, lim Limits) (*Document, error) {
	lim = lim.withDefaults()
	if len(src) > lim.MaxBytes {
		return nil, &SyntaxError{lim.MaxBytes, ErrTooLarge}
	}
	mem, _ := arenaPool.Get().(*arena)
	if mem == nil {
		mem = &arena{}
	}
	p := parser{s: src, lim: lim, doc: &Document{Src: src, mem: mem}}
	if err := p.parse(); err != nil {
		p.doc.Release()
		return nil, err
	}
	return p.doc, nil
}

type parser struct {
	s   string
	pos int
	lim Limits
	doc *Document
	cur *Node
	buf []byte
	// nsInScope counts the namespace declarations of the open elements
	nsInScope int
	// last holds the last child of each open element (the innermost last), where the next child is linked
	last []*Node
	// tree is the memory the tree takes so far (see Limits.MaxTreeFactor)
	tree int
	// stream, when set, receives the document as it is read instead of a tree (CanonicalizeSource)
	stream *streamer
}

// grow counts n more bytes of tree memory, failing once the tree passes its bound for the input read so far.
func (p *parser) grow(n int) error {
	p.tree += n
	if p.tree > TreeAllowance+p.lim.MaxTreeFactor*p.pos {
		return p.fail(ErrTooDense)
	}
	return nil
}

func (p *parser) fail(err error) error { return &SyntaxError{p.pos, err} }
func (p *parser) failf(format string, a ...any) error {
	return &SyntaxError{p.pos, fmt.Errorf(format, a...)}
}

// newNode returns a zeroed node for an element (as a child of p.cur) or another kind of node.
func (p *parser) newNode(element bool) (*Node, error) {
	if err := p.countNode(); err != nil {
		return nil, err
	}
	if p.stream != nil {
		return p.stream.node(p.cur, element), nil
	}
	return p.doc.mem.node(), nil
}

// countNode counts one more node against the limits (MaxNodes, MaxTreeFactor), whether it is kept or not.
func (p *parser) countNode() error {
	p.doc.nnodes++
	if p.doc.nnodes > p.lim.MaxNodes {
		return p.fail(ErrTooMany)
	}
	return p.grow(NodeSize)
}

// setString sets *dst to v unless it holds those characters already. The streaming parser reuses a node per depth
// and its attributes: siblings mostly share names, namespaces and parents, and a field left alone costs no write
// barrier while the garbage collector marks.
func setString(dst *string, v string) {
	if *dst != v {
		*dst = v
	}
}

// child adds text, a comment or a processing instruction inside the root element.
func (p *parser) child(n *Node) {
	if p.stream != nil {
		p.stream.misc(n, false, false)
		return
	}
	p.appendChild(n)
}

func (p *parser) appendChild(n *Node) {
	parent := p.cur
	n.Parent = parent
	last := &p.last[len(p.last)-1]
	if *last == nil {
		parent.FirstChild = n
	} else {
		(*last).Next = n
	}
	*last = n
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

func (p *parser) parse() error {
	s := p.s
	if !utf8.ValidString(s) {
		return p.fail(ErrEncoding)
	}
	// XML 1.0 section 2.2: every character of the document is a Char, in text, CDATA, attribute values, comments,
	// processing instructions, names and white space alike; one pass here covers them all (character references
	// are checked where they are expanded)
	if i := nonChar(s); i >= 0 {
		p.pos = i
		r, _ := utf8.DecodeRuneInString(s[i:])
		return p.failf("character %U is not allowed in XML", r)
	}
	if strings.HasPrefix(s, "\uFEFF") {
		p.pos = 3
	}
	if strings.HasPrefix(s[p.pos:], "<?xml") && len(s) > p.pos+5 && isSpace(s[p.pos+5]) {
		end := strings.Index(s[p.pos:], "?>")
		if end < 0 {
			return p.failf("unterminated XML declaration")
		}
		if err := checkXMLDecl(s[p.pos+5 : p.pos+end]); err != nil {
			return p.fail(err)
		}
		p.pos += end + 2
		p.doc.XMLDecl = p.pos
	}
	for p.pos < len(s) {
		c := s[p.pos]
		if c != '<' {
			if p.cur == nil {
				if !isSpace(c) {
					return p.failf("text outside the root element")
				}
				p.pos++
				continue
			}
			if err := p.text(); err != nil {
				return err
			}
			continue
		}
		if p.pos+1 >= len(s) {
			return p.failf("unexpected end of document")
		}
		switch s[p.pos+1] {
		case '/':
			if err := p.endTag(); err != nil {
				return err
			}
		case '?':
			if err := p.procInst(); err != nil {
				return err
			}
		case '!':
			switch {
			case strings.HasPrefix(s[p.pos:], "<!--"):
				if err := p.comment(); err != nil {
					return err
				}
			case strings.HasPrefix(s[p.pos:], "<![CDATA["):
				if p.cur == nil {
					return p.failf("CDATA outside the root element")
				}
				if err := p.cdata(); err != nil {
					return err
				}
			case strings.HasPrefix(s[p.pos:], "<!DOCTYPE"):
				return p.fail(ErrDOCTYPE)
			default:
				return p.failf("markup declarations are not accepted")
			}
		default:
			if p.cur == nil && p.doc.Root != nil {
				return p.failf("more than one root element")
			}
			if err := p.startTag(); err != nil {
				return err
			}
		}
	}
	if p.doc.Root == nil {
		return p.failf("no root element")
	}
	if p.cur != nil {
		return p.failf("element <%s> is not closed", qname(p.cur.Prefix, p.cur.Local))
	}
	return nil
}

// checkXMLDecl checks the inside of an XML declaration (after "<?xml", before "?>") against XML 1.0's
// XMLDecl production: version, then optional encoding and standalone, in that order; only version 1.x other than
// 1.1, and only UTF-8 (or its subset US-ASCII).
func checkXMLDecl(d string) error {
	type pseudoAttr struct{ name, value string }
	var attrs []pseudoAttr
	for {
		rest := strings.TrimLeft(d, " \t\r\n")
		if rest == "" {
			break
		}
		if len(rest) == len(d) {
			return errors.New("missing white space in the XML declaration")
		}
		i := strings.IndexAny(rest, " \t\r\n=")
		if i <= 0 {
			return errors.New("malformed XML declaration")
		}
		name := rest[:i]
		rest = strings.TrimLeft(rest[i:], " \t\r\n")
		if !strings.HasPrefix(rest, "=") {
			return errors.New("malformed XML declaration")
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
			return errors.New("malformed XML declaration")
		}
		j := strings.IndexByte(rest[1:], rest[0])
		if j < 0 {
			return errors.New("malformed XML declaration")
		}
		attrs = append(attrs, pseudoAttr{name, rest[1 : 1+j]})
		d = rest[j+2:]
	}
	if len(attrs) == 0 || attrs[0].name != "version" {
		return errors.New("the XML declaration lacks a version")
	}
	v := attrs[0].value
	if len(v) < 3 || !strings.HasPrefix(v, "1.") || strings.Trim(v[2:], "0123456789") != "" {
		return fmt.Errorf("invalid XML version %q", v)
	}
	if v == "1.1" {
		return errors.New("XML 1.1 is not supported")
	}
	attrs = attrs[1:]
	if len(attrs) > 0 && attrs[0].name == "encoding" {
		enc := attrs[0].value
		if !isEncName(enc) {
			return fmt.Errorf("invalid encoding name %q", enc)
		}
		switch strings.ToUpper(enc) {
		case "UTF-8", "UTF8", "US-ASCII", "ASCII":
		default:
			return ErrEncoding
		}
		attrs = attrs[1:]
	}
	if len(attrs) > 0 && attrs[0].name == "standalone" {
		if attrs[0].value != "yes" && attrs[0].value != "no" {
			return errors.New("standalone must be yes or no")
		}
		attrs = attrs[1:]
	}
	if len(attrs) > 0 {
		return fmt.Errorf("unexpected %q in the XML declaration", attrs[0].name)
	}
	return nil
}

// isEncName matches EncName: [A-Za-z] ([A-Za-z0-9._] | '-')*.
func isEncName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || !(c >= '0' && c <= '9') && c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return s != ""
}

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

func (p *parser) misc(n *Node) {
	if p.stream != nil {
		p.stream.misc(n, p.cur == nil, p.doc.Root == nil)
		return
	}
	if p.cur == nil {
		if p.doc.Root == nil {
			p.doc.Prolog = append(p.doc.Prolog, n)
		} else {
			p.doc.Epilog = append(p.doc.Epilog, n)
		}
		return
	}
	p.appendChild(n)
}

func (p *parser) comment() error {
	start := p.pos
	end := strings.Index(p.s[p.pos+4:], "-->")
	if end < 0 {
		return p.failf("unterminated comment")
	}
	body := p.s[p.pos+4 : p.pos+4+end]
	if strings.Contains(body, "--") || strings.HasSuffix(body, "-") {
		return p.failf("'--' inside a comment")
	}
	n, err := p.newNode(false)
	if err != nil {
		return err
	}
	n.Kind, n.Data, n.Start = CommentNode, normalizeEOL(body), start
	p.pos += 4 + end + 3
	n.End, n.Inner = p.pos, p.pos
	p.misc(n)
	return nil
}

func (p *parser) procInst() error {
	start := p.pos
	end := strings.Index(p.s[p.pos+2:], "?>")
	if end < 0 {
		return p.failf("unterminated processing instruction")
	}
	body := p.s[p.pos+2 : p.pos+2+end]
	i := 0
	for i < len(body) && !isSpace(body[i]) {
		i++
	}
	target := body[:i]
	if !isName(target) || strings.EqualFold(target, "xml") {
		return p.failf("invalid processing instruction target %q", target)
	}
	for i < len(body) && isSpace(body[i]) {
		i++
	}
	n, err := p.newNode(false)
	if err != nil {
		return err
	}
	n.Kind, n.Local, n.Data, n.Start = ProcInstNode, target, normalizeEOL(body[i:]), start
	p.pos += 2 + end + 2
	n.End, n.Inner = p.pos, p.pos
	p.misc(n)
	return nil
}

func (p *parser) cdata() error {
	start := p.pos
	end := strings.Index(p.s[p.pos+9:], "]]>")
	if end < 0 {
		return p.failf("unterminated CDATA section")
	}
	if p.stream != nil {
		if err := p.countNode(); err != nil {
			return err
		}
		p.stream.text(normalizeEOL(p.s[p.pos+9 : p.pos+9+end]))
		p.pos += 9 + end + 3
		return nil
	}
	n, err := p.newNode(false)
	if err != nil {
		return err
	}
	n.Kind, n.Data, n.Start = TextNode, normalizeEOL(p.s[p.pos+9:p.pos+9+end]), start
	p.pos += 9 + end + 3
	n.End, n.Inner = p.pos, p.pos
	p.child(n)
	return nil
}

func normalizeEOL(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func (p *parser) text() error {
	start := p.pos
	end := strings.IndexByte(p.s[p.pos:], '<')
	if end < 0 {
		end = len(p.s) - p.pos
	}
	raw := p.s[p.pos : p.pos+end]
	if strings.IndexByte(raw, '>') >= 0 && strings.Contains(raw, "]]>") {
		return p.failf("']]>' in character data")
	}
	data := raw
	if strings.IndexByte(raw, '&') >= 0 || strings.IndexByte(raw, '\r') >= 0 {
		var err error
		data, err = p.decode(raw, false)
		if err != nil {
			return err
		}
		if err := p.grow(len(data)); err != nil {
			return err
		}
	}
	p.pos += end
	if p.stream != nil {
		if err := p.countNode(); err != nil {
			return err
		}
		p.stream.text(data)
		return nil
	}
	// Adjacent text (after a CDATA section) is kept as separate nodes; canonical output is the same.
	n, err := p.newNode(false)
	if err != nil {
		return err
	}
	n.Kind, n.Data, n.Start, n.End, n.Inner = TextNode, data, start, p.pos, p.pos
	p.child(n)
	return nil
}

// decode expands references and normalizes line ends (and, in attribute values, white space).
func (p *parser) decode(raw string, attr bool) (string, error) {
	b := p.buf[:0]
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '&':
			j := strings.IndexByte(raw[i:], ';')
			if j < 0 || j > 12 {
				return "", p.failf("unterminated character or entity reference")
			}
			ref := raw[i+1 : i+j]
			switch ref {
			case "lt":
				b = append(b, '<')
			case "gt":
				b = append(b, '>')
			case "amp":
				b = append(b, '&')
			case "apos":
				b = append(b, '\'')
			case "quot":
				b = append(b, '"')
			default:
				if len(ref) < 2 || ref[0] != '#' {
					return "", p.failf("undefined entity &%s;", ref)
				}
				var r rune
				var ok bool
				if ref[1] == 'x' {
					r, ok = parseRune(ref[2:], 16)
				} else {
					r, ok = parseRune(ref[1:], 10)
				}
				if !ok || !isXMLChar(r) {
					return "", p.failf("invalid character reference &%s;", ref)
				}
				b = utf8.AppendRune(b, r)
			}
			i += j
		case c == '\r':
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
			if attr {
				b = append(b, ' ')
			} else {
				b = append(b, '\n')
			}
		case attr && (c == '\n' || c == '\t'):
			b = append(b, ' ')
		case c < 0x20 && c != '\n' && c != '\t':
			return "", p.failf("control character %#x", c)
		default:
			b = append(b, c)
		}
	}
	p.buf = b
	return string(b), nil
}

func parseRune(s string, base int) (rune, bool) {
	if s == "" || len(s) > 8 {
		return 0, false
	}
	var r rune
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d int
		switch {
		case c >= '0' && c <= '9':
			d = int(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			d = int(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			d = int(c-'A') + 10
		default:
			return 0, false
		}
		r = r*rune(base) + rune(d)
		if r > 0x10FFFF {
			return 0, false
		}
	}
	return r, true
}

// nonChar returns the offset of the first character of s (valid UTF-8) that is not an XML Char, or -1. In UTF-8
// only the C0 controls and U+FFFE and U+FFFF need looking for: surrogates are not valid UTF-8 and everything else up
// to U+10FFFF is a Char.
func nonChar(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		// eight bytes at a time: any byte below 0x20 (white space included) or equal to 0xEF sends the word
		// through the byte loop below
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		y := x ^ 0xEF*ones
		if (x-0x20*ones)&^x&highs|(y-ones)&^y&highs == 0 {
			continue
		}
		if j := nonCharBytes(s, i, i+8); j >= 0 {
			return j
		}
	}
	return nonCharBytes(s, i, len(s))
}

// nonCharBytes is nonChar over s[from:to] (looking past to for U+FFFE and U+FFFF).
func nonCharBytes(s string, from, to int) int {
	for i := from; i < to; i++ {
		c := s[i]
		switch {
		case c < 0x20:
			if c != '\t' && c != '\n' && c != '\r' {
				return i
			}
		case c == 0xEF:
			if i+2 < len(s) && s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF) {
				return i
			}
		}
	}
	return -1
}

func isXMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// isName reports whether s matches the Name production of XML 1.0 (fifth edition, section 2.3).
func isName(s string) bool {
	if s == "" {
		return false
	}
	// ASCII names (nearly all) by table
	if c := s[0]; c < 0x80 && asciiName[c]&nameStart != 0 {
		i := 1
		for i < len(s) && s[i] < 0x80 && asciiName[s[i]] != 0 {
			i++
		}
		if i == len(s) {
			return true
		}
	}
	for i, r := range s {
		if i == 0 && !isNameStartChar(r) || !isNameStartChar(r) && !isNameChar(r) {
			return false
		}
	}
	return true
}

// asciiName classifies the ASCII characters for names: nameStart for NameStartChar, nameChar for the other
// NameChars.
var asciiName = func() (t [0x80]uint8) {
	for c := rune(0); c < 0x80; c++ {
		switch {
		case isNameStartChar(c):
			t[c] = nameStart
		case isNameChar(c):
			t[c] = nameChar
		}
	}
	return t
}()

const (
	nameStart = 1 << iota
	nameChar
)

// ncNameStart reports whether the local part of a prefixed name starts as an NCName must (Namespaces in XML).
func ncNameStart(local string) bool {
	r, _ := utf8.DecodeRuneInString(local)
	return isNameStartChar(r)
}

func isNameStartChar(r rune) bool {
	switch {
	case r < 0x80:
		return r == ':' || r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
	}
	return (r >= 0xC0 && r <= 0xD6) || (r >= 0xD8 && r <= 0xF6) || (r >= 0xF8 && r <= 0x2FF) ||
		(r >= 0x370 && r <= 0x37D) || (r >= 0x37F && r <= 0x1FFF) || (r >= 0x200C && r <= 0x200D) ||
		(r >= 0x2070 && r <= 0x218F) || (r >= 0x2C00 && r <= 0x2FEF) || (r >= 0x3001 && r <= 0xD7FF) ||
		(r >= 0xF900 && r <= 0xFDCF) || (r >= 0xFDF0 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0xEFFFF)
}

// isNameChar is NameChar minus NameStartChar.
func isNameChar(r rune) bool {
	return r == '-' || r == '.' || (r >= '0' && r <= '9') || r == 0xB7 || (r >= 0x300 && r <= 0x36F) ||
		(r >= 0x203F && r <= 0x2040)
}

// name delimiters: white space and markup characters
func isNameEnd(c byte) bool { return nameEnd[c] }

var nameEnd = func() (t [256]bool) {
	for _, c := range []byte(" \t\n\r/>=<\"'") {
		t[c] = true
	}
	return t
}()

func (p *parser) name() (prefix, local string, err error) {
	start := p.pos
	colon := -1
	for p.pos < len(p.s) && !isNameEnd(p.s[p.pos]) {
		if p.s[p.pos] == ':' {
			if colon >= 0 {
				return "", "", p.failf("invalid name")
			}
			colon = p.pos
		}
		p.pos++
	}
	if p.pos == start {
		return "", "", p.failf("missing name")
	}
	if colon == start || colon == p.pos-1 || !isName(p.s[start:p.pos]) || (colon >= 0 && !ncNameStart(p.s[colon+1:p.pos])) {
		return "", "", p.failf("invalid name %q", p.s[start:p.pos])
	}
	if colon < 0 {
		return "", p.s[start:p.pos], nil
	}
	return p.s[start:colon], p.s[colon+1 : p.pos], nil
}

const xmlNS = "http://www.w3.org/XML/1998/namespace"
const xmlnsNS = "http://www.w3.org/2000/xmlns/"

func (p *parser) startTag() error {
	start := p.pos
	p.pos++
	prefix, local, err := p.name()
	if err != nil {
		return err
	}
	n, err := p.newNode(true)
	if err != nil {
		return err
	}
	n.Kind, n.Start = ElementNode, start
	setString(&n.Prefix, prefix)
	setString(&n.Local, local)
	type rawAttr struct{ prefix, local, value string }
	var attrs [8]rawAttr
	list := attrs[:0]
	empty := false
	for {
		hadSpace := p.pos < len(p.s) && isSpace(p.s[p.pos])
		p.skipSpace()
		if p.pos >= len(p.s) {
			return p.failf("unterminated start tag")
		}
		c := p.s[p.pos]
		if c == '>' {
			p.pos++
			break
		}
		if c == '/' {
			if p.pos+1 >= len(p.s) || p.s[p.pos+1] != '>' {
				return p.failf("expected '/>'")
			}
			p.pos += 2
			empty = true
			break
		}
		if !hadSpace {
			return p.failf("missing white space before attribute")
		}
		ap, al, err := p.name()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.s) || p.s[p.pos] != '=' {
			return p.failf("expected '=' after attribute name")
		}
		p.pos++
		p.skipSpace()
		if p.pos >= len(p.s) || (p.s[p.pos] != '"' && p.s[p.pos] != '\'') {
			return p.failf("attribute value must be quoted")
		}
		q := p.s[p.pos]
		end := strings.IndexByte(p.s[p.pos+1:], q)
		if end < 0 {
			return p.failf("unterminated attribute value")
		}
		raw := p.s[p.pos+1 : p.pos+1+end]
		if strings.IndexByte(raw, '<') >= 0 {
			return p.failf("'<' in attribute value")
		}
		val := raw
		if strings.IndexByte(raw, '&') >= 0 || strings.ContainsAny(raw, "\r\n\t") {
			val, err = p.decode(raw, true)
			if err != nil {
				return err
			}
			if err := p.grow(len(val)); err != nil {
				return err
			}
		}
		p.pos += end + 2
		if len(list) >= p.lim.MaxAttributes {
			return p.fail(ErrTooMany)
		}
		for _, a := range list {
			if a.prefix == ap && a.local == al {
				return p.failf("duplicate attribute %s", qname(ap, al))
			}
		}
		list = append(list, rawAttr{ap, al, val})
	}
	// namespace declarations first
	nd := 0
	for _, a := range list {
		if a.prefix == "xmlns" || (a.prefix == "" && a.local == "xmlns") {
			nd++
		}
	}
	if p.nsInScope+nd > p.lim.MaxNamespaces {
		return p.fail(ErrTooMany)
	}
	if err := p.grow(nd*int(unsafe.Sizeof(NS{})) + (len(list)-nd)*int(unsafe.Sizeof(Attr{}))); err != nil {
		return err
	}
	if nd > 0 {
		if p.stream != nil {
			if b := p.stream.decls.take(int(p.depth()), nd); unsafe.SliceData(b) == unsafe.SliceData(n.Decls) {
				n.Decls = n.Decls[:0] // the same buffer: no pointer written
			} else {
				n.Decls = b
			}
		} else {
			n.Decls = p.doc.mem.decls.take(nd, 16, 1024)
		}
		for _, a := range list {
			switch {
			case a.prefix == "" && a.local == "xmlns":
				if a.value == xmlNS || a.value == xmlnsNS {
					return p.failf("reserved namespace bound to the default prefix")
				}
				n.Decls = append(n.Decls, NS{"", a.value})
			case a.prefix == "xmlns":
				if a.local == "xmlns" || (a.local == "xml" && a.value != xmlNS) || (a.local != "xml" && a.value == xmlNS) {
					return p.failf("invalid declaration of prefix %s", a.local)
				}
				if a.value == "" {
					return p.failf("namespace prefix %s undeclared (XML 1.1 only)", a.local)
				}
				n.Decls = append(n.Decls, NS{a.local, a.value})
			}
		}
	} else if len(n.Decls) > 0 {
		n.Decls = n.Decls[:0] // a reused node (streaming)
	}
	if n.Parent != p.cur {
		n.Parent = p.cur
	}
	space, err := p.resolve(n, prefix, true)
	if err != nil {
		return err
	}
	setString(&n.Space, space)
	if len(list)-nd == 0 && len(n.Attrs) > 0 {
		n.Attrs = n.Attrs[:0] // a reused node (streaming)
	}
	if len(list)-nd > 0 {
		if p.stream != nil {
			if b := p.stream.attrs.take(int(p.depth()), len(list)-nd); unsafe.SliceData(b) == unsafe.SliceData(n.Attrs) {
				n.Attrs = n.Attrs[:0] // the same buffer: no pointer written
			} else {
				n.Attrs = b
			}
		} else {
			n.Attrs = p.doc.mem.attrs.take(len(list)-nd, 32, 1024)
		}
		for _, a := range list {
			if a.prefix == "xmlns" || (a.prefix == "" && a.local == "xmlns") {
				continue
			}
			sp := ""
			if a.prefix != "" {
				if sp, err = p.resolve(n, a.prefix, false); err != nil {
					return err
				}
			}
			for _, b := range n.Attrs {
				if b.Space == sp && b.Local == a.local && sp != "" {
					return p.failf("duplicate attribute {%s}%s", sp, a.local)
				}
			}
			k := len(n.Attrs)
			n.Attrs = n.Attrs[:k+1] // within the capacity taken for them
			at := &n.Attrs[k]
			setString(&at.Prefix, a.prefix)
			setString(&at.Local, a.local)
			setString(&at.Space, sp)
			setString(&at.Value, a.value)
			if (a.prefix == "" && (a.local == "Id" || a.local == "ID" || a.local == "id")) || (sp == xmlNS && a.local == "id") {
				if err := p.grow(idEntrySize); err != nil {
					return err
				}
				if p.stream == nil {
					if p.doc.ids == nil {
						p.doc.ids = make(map[string][]*Node)
					}
					p.doc.ids[a.value] = append(p.doc.ids[a.value], n)
				}
			}
		}
	}
	if p.cur == nil {
		n.Depth = 1
		p.doc.Root = n
	} else {
		n.Depth = p.cur.Depth + 1
		if int(n.Depth) > p.lim.MaxDepth {
			return p.fail(ErrTooDeep)
		}
		if p.stream == nil {
			p.appendChild(n)
		}
	}
	if p.stream != nil {
		p.stream.start(n)
	}
	if empty {
		n.Inner, n.End = -1, p.pos // an empty-element tag has no end tag
		if p.stream != nil {
			p.stream.end(n)
		}
		return nil
	}
	p.cur = n
	if p.stream == nil {
		p.last = append(p.last, nil)
	}
	p.nsInScope += len(n.Decls)
	return nil
}

// depth is the depth of the element whose start tag is being read.
func (p *parser) depth() int32 {
	if p.cur == nil {
		return 1
	}
	return p.cur.Depth + 1
}

// resolve finds the namespace URI bound to prefix at n (n's own declarations included).
func (p *parser) resolve(n *Node, prefix string, element bool) (string, error) {
	if prefix == "xml" {
		return xmlNS, nil
	}
	if prefix == "xmlns" {
		return "", p.failf("element or attribute uses the reserved prefix xmlns")
	}
	if p.nsInScope == 0 && len(n.Decls) == 0 {
		// nothing declared in scope: no walk up the ancestors
		if prefix != "" {
			return "", p.failf("undeclared namespace prefix %q", prefix)
		}
		return "", nil
	}
	uri, ok := LookupNamespace(n, prefix)
	if !ok && prefix != "" {
		return "", p.failf("undeclared namespace prefix %q", prefix)
	}
	return uri, nil
}

// LookupNamespace returns the namespace URI bound to prefix in scope at element n.
func LookupNamespace(n *Node, prefix string) (string, bool) {
	if prefix == "xml" {
		return xmlNS, true
	}
	for e := n; e != nil; e = e.Parent {
		for i := len(e.Decls) - 1; i >= 0; i-- {
			if e.Decls[i].Prefix == prefix {
				return e.Decls[i].URI, true
			}
		}
	}
	return "", false
}

func (p *parser) endTag() error {
	start := p.pos
	p.pos += 2
	var prefix, local string
	if cur := p.cur; cur != nil && p.closes(cur) {
		// the open element's name (checked by its start tag)
		prefix, local = cur.Prefix, cur.Local
	} else {
		var err error
		if prefix, local, err = p.name(); err != nil {
			return err
		}
	}
	p.skipSpace()
	if p.pos >= len(p.s) || p.s[p.pos] != '>' {
		return p.failf("expected '>' in end tag")
	}
	p.pos++
	if p.cur == nil || p.cur.Prefix != prefix || p.cur.Local != local {
		return p.failf("end tag </%s> does not match", qname(prefix, local))
	}
	p.cur.Inner, p.cur.End = start, p.pos
	if p.stream != nil {
		p.stream.end(p.cur)
	}
	p.nsInScope -= len(p.cur.Decls)
	p.cur = p.cur.Parent
	if p.stream == nil {
		p.last = p.last[:len(p.last)-1]
	}
	return nil
}

// closes reports whether the name at p.pos is n's qualified name, and if so moves past it.
func (p *parser) closes(n *Node) bool {
	rest := p.s[p.pos:]
	k := 0
	if n.Prefix != "" {
		if !strings.HasPrefix(rest, n.Prefix) || len(rest) <= len(n.Prefix) || rest[len(n.Prefix)] != ':' {
			return false
		}
		k = len(n.Prefix) + 1
	}
	if !strings.HasPrefix(rest[k:], n.Local) {
		return false
	}
	k += len(n.Local)
	if k >= len(rest) || !isNameEnd(rest[k]) {
		return false
	}
	p.pos += k
	return true
}

// ByID returns the elements whose Id, ID, id or xml:id attribute equals id.
func (d *Document) ByID(id string) []*Node { return d.ids[id] }

// Attr returns the value of the unqualified attribute name and whether it is present.
func (n *Node) Attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Space == "" && a.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// Is reports whether n is an element with the given namespace and local name.
func (n *Node) Is(space, local string) bool {
	return n != nil && n.Kind == ElementNode && n.Local == local && n.Space == space
}

// Elements returns n's child elements.
func (n *Node) Elements() []*Node {
	var out []*Node
	for c := n.FirstChild; c != nil; c = c.Next {
		if c.Kind == ElementNode {
			out = append(out, c)
		}
	}
	return out
}

// Child returns the first child element with the namespace and local name, or nil.
func (n *Node) Child(space, local string) *Node {
	for c := n.FirstChild; c != nil; c = c.Next {
		if c.Kind == ElementNode && c.Local == local && c.Space == space {
			return c
		}
	}
	return nil
}

// Children returns the child elements with the namespace and local name.
func (n *Node) Children(space, local string) []*Node {
	var out []*Node
	for c := n.FirstChild; c != nil; c = c.Next {
		if c.Kind == ElementNode && c.Local == local && c.Space == space {
			out = append(out, c)
		}
	}
	return out
}

// Text returns the concatenated character data of n's descendants.
func (n *Node) Text() string {
	if n.Kind == TextNode {
		return n.Data
	}
	if n.FirstChild != nil && n.FirstChild.Next == nil && n.FirstChild.Kind == TextNode {
		return n.FirstChild.Data
	}
	var b strings.Builder
	var walk func(*Node)
	walk = func(m *Node) {
		for c := m.FirstChild; c != nil; c = c.Next {
			switch c.Kind {
			case TextNode:
				b.WriteString(c.Data)
			case ElementNode:
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

// Descendants calls fn for every element below n (n excluded) in document order; fn returning false skips the
// element's subtree.
func (n *Node) Descendants(fn func(*Node) bool) {
	for c := n.FirstChild; c != nil; c = c.Next {
		if c.Kind == ElementNode && fn(c) {
			c.Descendants(fn)
		}
	}
}

// IsAncestorOf reports whether n is m or an ancestor of m.
func (n *Node) IsAncestorOf(m *Node) bool {
	for ; m != nil; m = m.Parent {
		if m == n {
			return true
		}
	}
	return false
}

// Path returns a short location of the element, like /wniosek/ds:Signature[2].
func (n *Node) Path() string {
	if n == nil {
		return ""
	}
	var parts []string
	for e := n; e != nil; e = e.Parent {
		name := qname(e.Prefix, e.Local)
		if e.Parent != nil {
			idx, count := 0, 0
			for c := e.Parent.FirstChild; c != nil; c = c.Next {
				if c.Kind == ElementNode && c.Local == e.Local && c.Space == e.Space {
					count++
					if c == e {
						idx = count
					}
				}
			}
			if count > 1 {
				name = fmt.Sprintf("%s[%d]", name, idx)
			}
		}
		parts = append(parts, name)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

// ValidText reports whether s is valid UTF-8 made only of characters XML 1.0 allows (the Char production), so that
// it can be written into a document as text or an attribute value (escaped) and parsed back.
func ValidText(s string) bool { return utf8.ValidString(s) && nonChar(s) < 0 }
