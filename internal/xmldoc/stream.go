package xmldoc

import (
	"io"
	"sync"
)

// CanonicalizeSource parses src as ParseString does (the same checks and limits, refusing the same documents with
// the same errors) and writes to w the canonical form (Canonical XML 1.0, without comments) of the whole document
// minus the subtrees of the elements exclude selects: what Canonicalize writes for the parsed document and
// Subset{Doc: doc, Exclude: those elements}, with Method{}. exclude (nil: none) is called with each element after
// its start tag: its name, namespace, attributes, declarations, depth and ancestors are set, not its content.
//
// It builds no tree, holding only the open elements, so it suits a document read once to be digested (an
// enveloped signature's reference to its whole document). It returns the root element: its name, namespace and
// offsets (Start, Inner, End); no attributes, children or parent. On an error, what was written to w is partial.
func CanonicalizeSource(w io.Writer, src string, lim Limits, exclude func(*Node) bool) (Node, error) {
	lim = lim.withDefaults()
	if len(src) > lim.MaxBytes {
		return Node{}, &SyntaxError{lim.MaxBytes, ErrTooLarge}
	}
	st := streamPool.Get().(*streamer)
	defer st.release()
	st.exclude = exclude
	st.c = canon{w: w, buf: st.c.buf[:0], nsTmp: st.c.nsTmp[:0], atTmp: st.c.atTmp[:0]}
	p := parser{s: src, lim: lim, doc: &Document{Src: src}, stream: st}
	if err := p.parse(); err != nil {
		return Node{}, err
	}
	if st.c.bad != nil {
		return Node{}, st.c.bad
	}
	st.c.flush()
	if st.c.err != nil {
		return Node{}, st.c.err
	}
	r := p.doc.Root
	return Node{Kind: ElementNode, Depth: 1, Prefix: r.Prefix, Local: r.Local, Space: r.Space, Start: r.Start,
		Inner: r.Inner, End: r.End}, nil
}

// streamer is CanonicalizeSource's side of the parser: it writes each part of the document as it is read, and
// keeps the memory of the open elements, one node (and its attributes and declarations) per depth, reused by the
// next element at that depth.
type streamer struct {
	c       canon
	exclude func(*Node) bool
	// skip is the depth of the excluded element being read (0: none)
	skip int32
	// levels[d] holds the node of the open element at depth d+1 (chunks of 32, never moved: children point to
	// their parents)
	levels  [][]Node
	attrs   levelSlices[Attr]
	decls   levelSlices[NS]
	scratch Node // text, comments and processing instructions, one at a time
}

var streamPool = sync.Pool{New: func() any { return &streamer{c: canon{buf: make([]byte, 0, 16<<10)}} }}

// levelSlices are per-depth buffers of attributes or declarations.
type levelSlices[T any] struct{ bufs [][]T }

// take returns a slice of length 0 and capacity at least n for the element at depth: the buffer of the previous
// element at that depth (closed by now), unless it is too small.
func (l *levelSlices[T]) take(depth, n int) []T {
	for len(l.bufs) < depth {
		l.bufs = append(l.bufs, nil)
	}
	b := l.bufs[depth-1]
	if cap(b) < n {
		b = make([]T, 0, max(n, 8))
		l.bufs[depth-1] = b
	}
	// not cleared: the element sets its n (release clears what is left at the end)
	return b[:0]
}

func (l *levelSlices[T]) reset() {
	for i, b := range l.bufs {
		clear(b[:cap(b)])
		l.bufs[i] = b[:0]
	}
	if len(l.bufs) > 64 {
		l.bufs = l.bufs[:64]
	}
}

// node returns the node for an element (the level below parent's) or for anything else (the scratch node).
//
// Reused nodes are not cleared (that would be a write barrier per pointer field while the garbage collector marks):
// the parser sets every field the streamer reads (see setString).
func (s *streamer) node(parent *Node, element bool) *Node {
	if !element {
		return &s.scratch
	}
	d := 0
	if parent != nil {
		d = int(parent.Depth)
	}
	for len(s.levels)*32 <= d {
		s.levels = append(s.levels, make([]Node, 32))
	}
	return &s.levels[d/32][d%32]
}

func (s *streamer) start(n *Node) {
	if s.skip > 0 {
		return
	}
	if s.exclude != nil && s.exclude(n) {
		s.skip = n.Depth
		return
	}
	s.c.startTag(n, n.Parent) // the parent is in the node-set (or n is the root)
}

func (s *streamer) end(n *Node) {
	if s.skip > 0 {
		if n.Depth == s.skip {
			s.skip = 0
		}
		return
	}
	s.c.endTag(n, 0)
	s.c.maybeFlush()
}

// misc writes text, a comment or a processing instruction: outside the root element (before it: prolog) or inside.
func (s *streamer) misc(n *Node, outside, prolog bool) {
	c := &s.c
	switch {
	case outside && prolog:
		if c.misc(n) {
			c.buf = append(c.buf, '\n')
		}
	case outside:
		if n.Kind == ProcInstNode || c.comments {
			c.buf = append(c.buf, '\n')
			c.misc(n)
		}
	case s.skip > 0:
	default:
		c.misc(n)
	}
	c.maybeFlush()
}

// text writes character data inside the root element.
func (s *streamer) text(data string) {
	if s.skip == 0 {
		s.c.setBuf(appendText(s.c.buf, data))
		s.c.maybeFlush()
	}
}

// release clears what refers to the document and puts s back in the pool.
func (s *streamer) release() {
	for _, l := range s.levels {
		clear(l)
	}
	if len(s.levels) > 8 {
		s.levels = s.levels[:8]
	}
	s.attrs.reset()
	s.decls.reset()
	s.scratch = Node{}
	s.exclude, s.skip = nil, 0
	if cap(s.c.buf) > 64<<10 {
		s.c.buf = nil
	}
	clear(s.c.nsTmp[:cap(s.c.nsTmp)])
	clear(s.c.atTmp[:cap(s.c.atTmp)])
	s.c = canon{buf: s.c.buf[:0], nsTmp: s.c.nsTmp[:0], atTmp: s.c.atTmp[:0]}
	streamPool.Put(s)
}
