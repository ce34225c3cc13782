package pdf

import (
	"bytes"
	"fmt"
	"io"
	"sort"
)

// XrefKind is the form of a cross-reference section.
type XrefKind int

// Cross-reference section forms.
const (
	XrefTable  XrefKind = iota // classic "xref" table and "trailer" dictionary
	XrefStream                 // cross-reference stream (PDF 1.5)
)

func (k XrefKind) String() string {
	if k == XrefStream {
		return "stream"
	}
	return "table"
}

type xrefEntry struct {
	typ uint8 // 0 free, 1 at offset, 2 in an object stream
	gen uint16
	off int64 // type 1: file offset; type 2: object stream number
	idx int32 // type 2: index in the object stream
}

type section struct {
	off     int64
	kind    XrefKind
	entries map[uint32]xrefEntry
	trailer Dict
	end     int64
	prev    int64
	hasPrev bool
}

// Revision is one version of the document: the original file or one incremental update. Revisions are numbered
// from 1 (the original) upwards; revision k spans bytes [Start, End) of the file.
type Revision struct {
	Number int
	// Kind is the form of the revision's (newest) cross-reference section.
	Kind XrefKind
	// XrefOffsets are the offsets of the revision's cross-reference sections (several for a linearized file).
	XrefOffsets []int64
	// Trailer is the trailer dictionary of the revision (for a cross-reference stream, its dictionary).
	Trailer Dict
	// Start is where the revision's bytes begin (the previous revision's End, 0 for the first).
	Start int64
	// EOF is the offset of the "%%EOF" marker closing the revision, -1 if there is none.
	EOF int64
	// End is the offset just after "%%EOF" and one end-of-line marker; -1 if there is no marker.
	End int64

	entries map[uint32]xrefEntry
}

// ObjectNumbers returns the object numbers the revision's cross-reference sections list (in use or freed),
// sorted.
func (rv *Revision) ObjectNumbers() []uint32 {
	out := make([]uint32, 0, len(rv.entries))
	for n := range rv.entries {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Reader reads a PDF file through an io.ReaderAt: only the cross-reference data and the objects asked for are
// read. It is not safe for concurrent use. Objects it returns are shared with its cache and must not be modified
// (use Dict.Clone).
type Reader struct {
	r       io.ReaderAt
	size    int64
	lim     Limits
	version string
	revs    []*Revision // oldest first
	newest  *section
	maxNum  uint32

	cache    map[locKey]Object
	objstms  map[int64]*objStm
	stmBytes int64
	busy     map[int64]bool
	loads    int
	depth    int

	enc    *securityHandler // nil for an unencrypted document
	encErr error            // why an encrypted document cannot be decrypted
}

// locKey identifies a stored object: its offset, or its object stream's offset and its index there.
type locKey struct {
	typ uint8
	off int64
	idx int32
	num uint32
}

// Open reads the cross-reference structure of a PDF file of the given size. lim may be nil for the defaults.
func Open(r io.ReaderAt, size int64, lim *Limits) (*Reader, error) {
	rd := &Reader{r: r, size: size, cache: map[locKey]Object{}, objstms: map[int64]*objStm{}, busy: map[int64]bool{}}
	if lim != nil {
		rd.lim = *lim
	}
	rd.lim = rd.lim.withDefaults()
	if err := rd.header(); err != nil {
		return nil, err
	}
	start, err := rd.findStartXref()
	if err != nil {
		return nil, err
	}
	if err := rd.readSections(start); err != nil {
		return nil, err
	}
	rd.setupEncryption()
	return rd, nil
}

func (r *Reader) header() error {
	n := int64(1024)
	if n > r.size {
		n = r.size
	}
	b := make([]byte, n)
	if _, err := r.r.ReadAt(b, 0); err != nil && err != io.EOF {
		return fmt.Errorf("pdf: read: %w", err)
	}
	i := bytes.Index(b, []byte("%PDF-"))
	if i < 0 {
		return ErrNotPDF
	}
	v := b[i+5:]
	j := 0
	for j < len(v) && j < 4 && (v[j] == '.' || (v[j] >= '0' && v[j] <= '9')) {
		j++
	}
	r.version = string(v[:j])
	return nil
}

// findStartXref finds the last "startxref" keyword and returns the offset after it.
func (r *Reader) findStartXref() (int64, error) {
	const window = 64 << 10
	const maxBack = 1 << 20
	kw := []byte("startxref")
	end := r.size
	buf := make([]byte, window+len(kw))
	for scanned := int64(0); end > 0 && scanned < maxBack; {
		start := end - window
		if start < 0 {
			start = 0
		}
		n := end - start + int64(len(kw))
		if start+n > r.size {
			n = r.size - start
		}
		b := buf[:n]
		if _, err := r.r.ReadAt(b, start); err != nil && err != io.EOF {
			return 0, fmt.Errorf("pdf: read: %w", err)
		}
		if i := bytes.LastIndex(b, kw); i >= 0 {
			l := newFileLexer(r.r, r.size)
			l.pos = start + int64(i) + int64(len(kw))
			l.skipWS()
			off, ok := l.uint()
			if !ok || off < 0 || off >= r.size {
				return 0, malformed("bad startxref")
			}
			return off, nil
		}
		scanned += end - start
		end = start
	}
	return 0, malformed("no startxref")
}

func (r *Reader) readSections(start int64) error {
	var chain []*section
	seen := map[int64]bool{}
	off := start
	for {
		if seen[off] {
			return malformed("cross-reference /Prev loop at offset %d", off)
		}
		seen[off] = true
		if len(chain) >= r.lim.MaxXrefSections {
			return limit("more than %d cross-reference sections", r.lim.MaxXrefSections)
		}
		s, err := r.readSection(off, true)
		if err != nil {
			return err
		}
		chain = append(chain, s)
		if !s.hasPrev {
			break
		}
		off = s.prev
	}
	r.newest = chain[0]
	// Group sections into revisions: a /Prev pointing forward (a linearized file's first-page section pointing to
	// the main one) stays in the same revision.
	var groups [][]*section
	for i, s := range chain {
		if i > 0 && s.off > chain[i-1].off {
			groups[len(groups)-1] = append(groups[len(groups)-1], s)
			continue
		}
		groups = append(groups, []*section{s})
	}
	for i := len(groups) - 1; i >= 0; i-- {
		g := groups[i]
		rv := &Revision{Kind: g[0].kind, Trailer: g[0].trailer, entries: map[uint32]xrefEntry{}, EOF: -1, End: -1}
		last := g[0]
		for _, s := range g {
			rv.XrefOffsets = append(rv.XrefOffsets, s.off)
			for n, e := range s.entries {
				if _, ok := rv.entries[n]; !ok {
					rv.entries[n] = e
				}
			}
			if s.off > last.off {
				last = s
			}
		}
		rv.EOF, rv.End = r.findEOF(last.end)
		rv.Number = len(r.revs) + 1
		r.revs = append(r.revs, rv)
	}
	prevEnd := int64(0)
	for _, rv := range r.revs {
		rv.Start = prevEnd
		if rv.End >= 0 {
			if rv.End <= prevEnd && rv.Number > 1 {
				return malformed("revision %d ends before revision %d", rv.Number, rv.Number-1)
			}
			prevEnd = rv.End
		}
	}
	for _, s := range chain {
		if sz, ok := s.trailer.Int("Size"); ok && sz > 0 && sz-1 <= int64(r.lim.MaxObjectNumber) && uint32(sz-1) > r.maxNum {
			r.maxNum = uint32(sz - 1)
		}
		for n := range s.entries {
			if n > r.maxNum {
				r.maxNum = n
			}
		}
	}
	return nil
}

// findEOF looks for "startxref N %%EOF" right after a cross-reference section.
func (r *Reader) findEOF(from int64) (eof, end int64) {
	l := newFileLexer(r.r, r.size)
	l.pos = from
	l.skipWS()
	if !l.expectKeyword("startxref") {
		return -1, -1
	}
	l.skipWSNoComment()
	if _, ok := l.uint(); !ok {
		return -1, -1
	}
	l.skipWSNoComment()
	if !l.hasPrefix("%%EOF") {
		return -1, -1
	}
	eof = l.pos
	end = eof + 5
	if c, ok := l.at(end); ok && c == '\r' {
		end++
		if c, ok := l.at(end); ok && c == '\n' {
			end++
		}
	} else if ok && c == '\n' {
		end++
	}
	return eof, end
}

// hasPrefixAfterWS reports whether s follows the current position after white space, without consuming.
func (l *lexer) hasPrefixAfterWS(s string) bool {
	save := l.pos
	l.skipWSNoComment()
	ok := l.hasPrefix(s)
	l.pos = save
	return ok
}

func (l *lexer) skipWSNoComment() {
	for {
		c, ok := l.peek()
		if !ok || !isWhite(c) {
			return
		}
		l.pos++
	}
}

func (r *Reader) readSection(off int64, top bool) (*section, error) {
	l := newFileLexer(r.r, r.size)
	l.pos = off
	l.skipWS()
	if l.expectKeyword("xref") {
		s, err := r.readTable(l, off)
		if err != nil {
			return nil, err
		}
		if top {
			if xs, ok := s.trailer.Int("XRefStm"); ok {
				if xs <= 0 || xs >= r.size {
					return nil, malformed("bad /XRefStm")
				}
				hs, err := r.readSection(xs, false)
				if err != nil {
					return nil, fmt.Errorf("hybrid cross-reference stream: %w", err)
				}
				for n, e := range hs.entries {
					if old, ok := s.entries[n]; !ok || old.typ == 0 {
						s.entries[n] = e
					}
				}
			}
		}
		return s, nil
	}
	return r.readXrefStream(off)
}

func (r *Reader) readTable(l *lexer, off int64) (*section, error) {
	s := &section{off: off, kind: XrefTable, entries: map[uint32]xrefEntry{}}
	p := &parser{lexer: l, lim: &r.lim}
	total := 0
	for {
		l.skipWS()
		if l.expectKeyword("trailer") {
			break
		}
		first, ok1 := l.uint()
		l.skipWS()
		count, ok2 := l.uint()
		if !ok1 || !ok2 {
			return nil, malformed("bad cross-reference subsection at offset %d", l.pos)
		}
		if first+count-1 > int64(r.lim.MaxObjectNumber) || count*18 > r.size-l.pos {
			return nil, limit("cross-reference subsection %d+%d out of bounds", first, count)
		}
		total += int(count)
		if total > int(r.lim.MaxObjectNumber)+1 {
			return nil, limit("too many cross-reference entries")
		}
		// A common writer bug numbers the first subsection from 1 while its first entry is object 0's
		// "0000000000 65535 f": read it as starting at 0.
		if first == 1 && len(s.entries) == 0 && l.hasPrefixAfterWS("0000000000 65535 f") {
			first = 0
		}
		for i := int64(0); i < count; i++ {
			l.skipWS()
			o, ok1 := l.uint()
			l.skipWS()
			g, ok2 := l.uint()
			l.skipWS()
			t, ok3 := l.next()
			if !ok1 || !ok2 || !ok3 || (t != 'n' && t != 'f') || g > 65535 {
				return nil, malformed("bad cross-reference entry at offset %d", l.pos)
			}
			n := uint32(first + i)
			if _, dup := s.entries[n]; dup {
				continue
			}
			e := xrefEntry{typ: 1, gen: uint16(g), off: o}
			if t == 'f' || o == 0 {
				e = xrefEntry{typ: 0, gen: uint16(g)}
			}
			s.entries[n] = e
		}
	}
	t, err := p.object(0)
	if err != nil {
		return nil, fmt.Errorf("trailer: %w", err)
	}
	d, ok := t.(Dict)
	if !ok {
		return nil, malformed("trailer is not a dictionary")
	}
	s.trailer = d
	s.end = l.pos
	return s, s.setPrev()
}

func (s *section) setPrev() error {
	if v, ok := s.trailer["Prev"]; ok && v != nil {
		switch p := v.(type) {
		case Integer:
			s.prev, s.hasPrev = int64(p), true
		case Real:
			s.prev, s.hasPrev = int64(p), true
		default:
			return malformed("bad /Prev")
		}
		if s.prev < 0 {
			return malformed("bad /Prev")
		}
	}
	return nil
}

func (r *Reader) readXrefStream(off int64) (*section, error) {
	_, _, obj, end, err := r.parseIndirect(off, View{r: r, rev: 0})
	if err != nil {
		return nil, fmt.Errorf("cross-reference at offset %d: %w", off, err)
	}
	st, ok := obj.(*Stream)
	if !ok {
		return nil, malformed("no cross-reference at offset %d", off)
	}
	if t, _ := st.Dict.Name("Type"); t != "XRef" {
		return nil, malformed("cross-reference stream at offset %d has /Type /%s", off, t)
	}
	s := &section{off: off, kind: XrefStream, entries: map[uint32]xrefEntry{}, trailer: st.Dict, end: end}
	if err := s.setPrev(); err != nil {
		return nil, err
	}
	data, err := r.decodeStream(st, View{r: r, rev: 0})
	if err != nil {
		return nil, fmt.Errorf("cross-reference stream: %w", err)
	}
	wa, ok := st.Dict["W"].(Array)
	if !ok || len(wa) != 3 {
		return nil, malformed("bad /W in cross-reference stream")
	}
	var w [3]int
	for i := range w {
		v, ok := wa[i].(Integer)
		if !ok || v < 0 || v > 8 {
			return nil, malformed("bad /W in cross-reference stream")
		}
		w[i] = int(v)
	}
	size, ok := st.Dict.Int("Size")
	if !ok || size < 0 || size-1 > int64(r.lim.MaxObjectNumber) {
		return nil, malformed("bad /Size in cross-reference stream")
	}
	index := Array{Integer(0), Integer(size)}
	if ia, ok := st.Dict["Index"].(Array); ok {
		index = ia
	}
	if len(index)%2 != 0 {
		return nil, malformed("bad /Index in cross-reference stream")
	}
	rowLen := w[0] + w[1] + w[2]
	if rowLen == 0 {
		return nil, malformed("empty /W in cross-reference stream")
	}
	pos := 0
	field := func(n int, def int64) int64 {
		if n == 0 {
			return def
		}
		var v int64
		for i := 0; i < n; i++ {
			v = v<<8 | int64(data[pos+i])
		}
		pos += n
		return v
	}
	for i := 0; i < len(index); i += 2 {
		first, ok1 := index[i].(Integer)
		count, ok2 := index[i+1].(Integer)
		if !ok1 || !ok2 || first < 0 || count < 0 || int64(first)+int64(count)-1 > int64(r.lim.MaxObjectNumber) {
			return nil, limit("cross-reference stream /Index out of bounds")
		}
		if int64(count)*int64(rowLen) > int64(len(data)-pos) {
			return nil, malformed("cross-reference stream shorter than its /Index")
		}
		for j := int64(0); j < int64(count); j++ {
			t := field(w[0], 1)
			f2 := field(w[1], 0)
			f3 := field(w[2], 0)
			n := uint32(int64(first) + j)
			if _, dup := s.entries[n]; dup {
				continue
			}
			switch t {
			case 0:
				s.entries[n] = xrefEntry{typ: 0, gen: uint16(f3)}
			case 1:
				if f3 > 65535 || f2 < 0 {
					return nil, malformed("bad cross-reference stream entry")
				}
				e := xrefEntry{typ: 1, gen: uint16(f3), off: f2}
				if f2 == 0 {
					e = xrefEntry{typ: 0}
				}
				s.entries[n] = e
			case 2:
				if f2 > int64(r.lim.MaxObjectNumber) || f3 > 1<<30 {
					return nil, malformed("bad compressed object entry")
				}
				s.entries[n] = xrefEntry{typ: 2, off: f2, idx: int32(f3)}
			default:
				// Unknown types are references to the null object.
			}
		}
	}
	return s, nil
}

// Size returns the file size.
func (r *Reader) Size() int64 { return r.size }

// Version returns the version in the file header, e.g. "1.7".
func (r *Reader) Version() string { return r.version }

// Revisions returns the document's revisions, oldest first.
func (r *Reader) Revisions() []*Revision { return r.revs }

// NextObjectNumber returns the first object number not used by any revision (the new /Size).
func (r *Reader) NextObjectNumber() uint32 { return r.maxNum + 1 }

// LastXref returns the offset and kind of the newest cross-reference section (the one startxref points to).
func (r *Reader) LastXref() (int64, XrefKind) { return r.newest.off, r.newest.kind }

// Trailer returns the newest trailer dictionary.
func (r *Reader) Trailer() Dict { return r.newest.trailer }

// Encrypted reports whether the document is encrypted (whether or not the reader can decrypt it).
func (r *Reader) Encrypted() bool { return r.enc != nil || r.encErr != nil }

// DecryptErr tells why the objects of an encrypted document cannot be read: it wraps ErrUserPassword (opening it
// needs a password other than the empty one) or ErrUnsupportedEncryption. It is nil for an unencrypted document and
// for one encrypted by the standard security handler with the empty user password, whose strings and streams the
// reader decrypts as it reads them.
func (r *Reader) DecryptErr() error { return r.encErr }

// Latest returns a view of the document as of its newest revision.
func (r *Reader) Latest() View { return View{r: r, rev: len(r.revs)} }

// At returns a view of the document as of revision rev (1-based).
func (r *Reader) At(rev int) View {
	if rev < 1 {
		rev = 1
	}
	if rev > len(r.revs) {
		rev = len(r.revs)
	}
	return View{r: r, rev: rev}
}

// View is the document as of one revision.
type View struct {
	r   *Reader
	rev int
}

// Revision returns the number of the revision this view shows.
func (v View) Revision() int { return v.rev }

// Reader returns the reader behind the view.
func (v View) Reader() *Reader { return v.r }

// Trailer returns the trailer of the view's revision.
func (v View) Trailer() Dict {
	if v.rev < 1 {
		return nil
	}
	return v.r.revs[v.rev-1].Trailer
}

func (v View) lookup(num uint32) (xrefEntry, bool) {
	for i := v.rev - 1; i >= 0; i-- {
		if e, ok := v.r.revs[i].entries[num]; ok {
			return e, e.typ != 0
		}
	}
	return xrefEntry{}, false
}

// Location identifies where an object's current version is stored: equal locations mean the same stored object.
type Location struct {
	Kind   uint8 // 0 absent or free, 1 at Offset, 2 in object stream Offset at Index
	Offset int64
	Index  int32
	Gen    uint16
}

// Location returns where the view finds object num.
func (v View) Location(num uint32) Location {
	e, ok := v.lookup(num)
	if !ok {
		return Location{}
	}
	return Location{Kind: e.typ, Offset: e.off, Index: e.idx, Gen: e.gen}
}

// Get returns the object ref refers to, or nil when it does not exist (a reference to a missing or free object is
// a reference to null).
func (v View) Get(ref Ref) (Object, error) {
	e, ok := v.lookup(ref.Num)
	if !ok || e.gen != ref.Gen {
		return nil, nil
	}
	return v.r.load(ref, e, v)
}

// Resolve follows references until o is a direct object.
func (v View) Resolve(o Object) (Object, error) {
	for i := 0; i < 32; i++ {
		ref, ok := o.(Ref)
		if !ok {
			return o, nil
		}
		var err error
		if o, err = v.Get(ref); err != nil {
			return nil, err
		}
	}
	return nil, malformed("reference chain too long")
}

// Dict resolves o and returns it as a dictionary (the dictionary of a stream too), or nil.
func (v View) Dict(o Object) (Dict, error) {
	o, err := v.Resolve(o)
	if err != nil {
		return nil, err
	}
	switch d := o.(type) {
	case Dict:
		return d, nil
	case *Stream:
		return d.Dict, nil
	}
	return nil, nil
}

// Catalog returns the document catalog and its reference. A trailer without /Root inherits it from the
// revision before.
func (v View) Catalog() (Dict, Ref, error) {
	var ref Ref
	ok := false
	for i := v.rev; i >= 1 && !ok; i-- {
		ref, ok = v.r.revs[i-1].Trailer["Root"].(Ref)
	}
	if !ok {
		return nil, Ref{}, malformed("trailer has no /Root reference")
	}
	o, err := v.Get(ref)
	if err != nil {
		return nil, ref, fmt.Errorf("catalog: %w", err)
	}
	d, ok := o.(Dict)
	if !ok {
		return nil, ref, malformed("catalog %v is not a dictionary", ref)
	}
	return d, ref, nil
}

func (r *Reader) load(ref Ref, e xrefEntry, v View) (Object, error) {
	key := locKey{typ: e.typ, off: e.off, idx: e.idx, num: ref.Num}
	if e.typ == 2 {
		// Key by the object stream's own location in this view, not by its number.
		se, ok := v.lookup(uint32(e.off))
		if !ok || se.typ != 1 {
			return nil, fmt.Errorf("object %v: %w", ref, malformed("object stream %d missing or itself compressed (object stream cycle)", e.off))
		}
		key.off = se.off
	}
	if o, ok := r.cache[key]; ok {
		return o, nil
	}
	r.loads++
	if r.loads > r.lim.MaxObjectLoads {
		return nil, limit("more than %d object loads", r.lim.MaxObjectLoads)
	}
	if r.depth > 16 {
		return nil, limit("object resolution nested too deeply")
	}
	r.depth++
	defer func() { r.depth-- }()
	var o Object
	switch e.typ {
	case 1:
		if r.encErr != nil {
			return nil, r.encErr
		}
		num, gen, obj, _, err := r.parseIndirect(e.off, v)
		if err != nil {
			return nil, fmt.Errorf("object %v: %w", ref, err)
		}
		if num != ref.Num || gen != ref.Gen {
			return nil, malformed("cross-reference for %v points to object %d %d", ref, num, gen)
		}
		if o, err = r.decryptIndirect(ref, obj); err != nil {
			return nil, fmt.Errorf("object %v: %w", ref, err)
		}
	case 2:
		st, err := r.loadObjStm(uint32(e.off), v)
		if err != nil {
			return nil, fmt.Errorf("object %v: %w", ref, err)
		}
		if o, err = st.object(ref.Num, int(e.idx), &r.lim); err != nil {
			return nil, fmt.Errorf("object %v: %w", ref, err)
		}
	}
	if len(r.cache) > 200000 {
		clear(r.cache)
	}
	r.cache[key] = o
	return o, nil
}

// parseIndirect parses "num gen obj ... endobj" at off. v resolves an indirect /Length.
func (r *Reader) parseIndirect(off int64, v View) (num uint32, gen uint16, obj Object, end int64, err error) {
	if off < 0 || off >= r.size {
		return 0, 0, nil, 0, malformed("object offset %d outside the file", off)
	}
	l := newFileLexer(r.r, r.size)
	l.pos = off
	p := &parser{lexer: l, lim: &r.lim}
	l.skipWS()
	n, ok1 := l.uint()
	l.skipWS()
	g, ok2 := l.uint()
	if !ok1 || !ok2 || !l.expectKeyword("obj") || n > int64(r.lim.MaxObjectNumber) || g > 65535 {
		return 0, 0, nil, 0, malformed("no object at offset %d", off)
	}
	obj, err = p.object(0)
	if err != nil {
		return 0, 0, nil, 0, err
	}
	if d, ok := obj.(Dict); ok && l.expectKeyword("stream") {
		st, err := r.streamAt(l, d, v)
		if err != nil {
			return 0, 0, nil, 0, err
		}
		obj = st
	}
	l.expectKeyword("endobj")
	return uint32(n), uint16(g), obj, l.pos, nil
}

func (r *Reader) streamAt(l *lexer, d Dict, v View) (*Stream, error) {
	if c, ok := l.peek(); ok && c == '\r' {
		l.pos++
		if c, ok := l.peek(); ok && c == '\n' {
			l.pos++
		}
	} else if ok && c == '\n' {
		l.pos++
	}
	start := l.pos
	length := int64(-1)
	switch lv := d["Length"].(type) {
	case Integer:
		length = int64(lv)
	case Ref:
		if v.rev > 0 {
			if o, err := v.Get(lv); err == nil {
				if n, ok := o.(Integer); ok {
					length = int64(n)
				}
			}
		}
	}
	if length >= 0 && start+length <= r.size {
		l.pos = start + length
		if l.expectKeyword("endstream") {
			return &Stream{Dict: d, Data: Span{start, start + length}}, nil
		}
	}
	// The length is missing or wrong: find "endstream".
	at, err := r.find([]byte("endstream"), start)
	if err != nil {
		return nil, err
	}
	e := at
	if c, ok := l.at(e - 1); ok && c == '\n' && e-1 >= start {
		e--
		if c, ok := l.at(e - 1); ok && c == '\r' && e-1 >= start {
			e--
		}
	} else if ok && c == '\r' && e-1 >= start {
		e--
	}
	l.pos = at + int64(len("endstream"))
	return &Stream{Dict: d, Data: Span{start, e}}, nil
}

// find returns the offset of the first occurrence of pat at or after from.
func (r *Reader) find(pat []byte, from int64) (int64, error) {
	const window = 64 << 10
	buf := make([]byte, window+len(pat))
	for pos := from; pos < r.size; pos += window {
		n := int64(len(buf))
		if pos+n > r.size {
			n = r.size - pos
		}
		b := buf[:n]
		if _, err := r.r.ReadAt(b, pos); err != nil && err != io.EOF {
			return 0, fmt.Errorf("pdf: read: %w", err)
		}
		if i := bytes.Index(b, pat); i >= 0 {
			return pos + int64(i), nil
		}
	}
	return 0, malformed("unterminated stream at offset %d", from)
}

// RawStream returns the raw (still encoded, but decrypted) data of a stream, refusing more than max bytes (0: the
// reader's MaxDecoded limit).
func (r *Reader) RawStream(s *Stream, max int64) ([]byte, error) {
	if s.Data.Start < 0 {
		return s.Raw, nil
	}
	b, err := r.fileStream(s, max)
	if err != nil || s.crypt == nil {
		return b, err
	}
	return s.crypt.h.decrypt(s.crypt.ref, s.crypt.m, b)
}

func (r *Reader) fileStream(s *Stream, max int64) ([]byte, error) {
	if max <= 0 {
		max = r.lim.MaxDecoded
	}
	n := s.Data.End - s.Data.Start
	if n < 0 || s.Data.End > r.size {
		return nil, malformed("stream data outside the file")
	}
	if n > max {
		return nil, limit("stream of %d bytes larger than %d", n, max)
	}
	b := make([]byte, n)
	if _, err := r.r.ReadAt(b, s.Data.Start); err != nil && !(err == io.EOF && int64(len(b)) == n) {
		return nil, fmt.Errorf("pdf: read: %w", err)
	}
	return b, nil
}

// DecodeStream returns the decoded data of a stream (FlateDecode only), bounded by the MaxDecoded limit.
func (r *Reader) DecodeStream(s *Stream, v View) ([]byte, error) { return r.decodeStream(s, v) }

func (r *Reader) decodeStream(s *Stream, v View) ([]byte, error) {
	raw, err := r.RawStream(s, 0)
	if err != nil {
		return nil, err
	}
	resolve := func(o Object) Object {
		if v.rev == 0 {
			if _, ok := o.(Ref); ok {
				return nil
			}
			return o
		}
		x, err := v.Resolve(o)
		if err != nil {
			return nil
		}
		return x
	}
	return decode(s.Dict, raw, r.lim.MaxDecoded, resolve)
}

// StreamsEqual compares the raw (decrypted) data of two streams, without holding them in memory unless they are
// encrypted.
func (r *Reader) StreamsEqual(a, b *Stream) (bool, error) {
	if a.Data.Start < 0 || b.Data.Start < 0 || a.crypt != nil || b.crypt != nil {
		ra, err := r.RawStream(a, 0)
		if err != nil {
			return false, err
		}
		rb, err := r.RawStream(b, 0)
		if err != nil {
			return false, err
		}
		return bytes.Equal(ra, rb), nil
	}
	n := a.Data.End - a.Data.Start
	if n != b.Data.End-b.Data.Start {
		return false, nil
	}
	if a.Data.Start == b.Data.Start {
		return true, nil
	}
	const chunk = 64 << 10
	ba, bb := make([]byte, chunk), make([]byte, chunk)
	for off := int64(0); off < n; off += chunk {
		m := int64(chunk)
		if off+m > n {
			m = n - off
		}
		if _, err := r.r.ReadAt(ba[:m], a.Data.Start+off); err != nil && err != io.EOF {
			return false, err
		}
		if _, err := r.r.ReadAt(bb[:m], b.Data.Start+off); err != nil && err != io.EOF {
			return false, err
		}
		if !bytes.Equal(ba[:m], bb[:m]) {
			return false, nil
		}
	}
	return true, nil
}

type objStm struct {
	nums  []uint32
	offs  []int64
	data  []byte
	first int64
}

func (r *Reader) loadObjStm(num uint32, v View) (*objStm, error) {
	e, ok := v.lookup(num)
	if !ok {
		return nil, malformed("object stream %d does not exist", num)
	}
	if e.typ != 1 {
		return nil, malformed("object stream %d is itself compressed (object stream cycle)", num)
	}
	if st, ok := r.objstms[e.off]; ok {
		return st, nil
	}
	if r.busy[e.off] {
		return nil, malformed("object stream %d depends on itself", num)
	}
	r.busy[e.off] = true
	defer delete(r.busy, e.off)
	if r.encErr != nil {
		return nil, r.encErr
	}
	n, g, obj, _, err := r.parseIndirect(e.off, v)
	if err != nil {
		return nil, err
	}
	s, ok := obj.(*Stream)
	if !ok || n != num {
		return nil, malformed("object stream %d is not a stream", num)
	}
	if _, err := r.decryptIndirect(Ref{Num: n, Gen: g}, s); err != nil {
		return nil, fmt.Errorf("object stream %d: %w", num, err)
	}
	cnt, ok1 := s.Dict.Int("N")
	first, ok2 := s.Dict.Int("First")
	if !ok1 || !ok2 || cnt < 0 || first < 0 || cnt > int64(r.lim.MaxElements) {
		return nil, malformed("object stream %d: bad /N or /First", num)
	}
	data, err := r.decodeStream(s, v)
	if err != nil {
		return nil, fmt.Errorf("object stream %d: %w", num, err)
	}
	if first > int64(len(data)) || cnt*4 > int64(len(data))+4 {
		return nil, malformed("object stream %d: header out of bounds", num)
	}
	st := &objStm{data: data, first: first}
	l := newMemLexer(data[:first])
	for i := int64(0); i < cnt; i++ {
		l.skipWS()
		on, ok1 := l.uint()
		l.skipWS()
		oo, ok2 := l.uint()
		if !ok1 || !ok2 || on > int64(r.lim.MaxObjectNumber) || first+oo > int64(len(data)) {
			return nil, malformed("object stream %d: bad header", num)
		}
		st.nums = append(st.nums, uint32(on))
		st.offs = append(st.offs, oo)
	}
	r.stmBytes += int64(len(data))
	if r.stmBytes > r.lim.MaxDecoded {
		clear(r.objstms)
		r.stmBytes = int64(len(data))
	}
	r.objstms[e.off] = st
	return st, nil
}

func (st *objStm) object(num uint32, idx int, lim *Limits) (Object, error) {
	if idx < 0 || idx >= len(st.nums) || st.nums[idx] != num {
		idx = -1
		for i, n := range st.nums {
			if n == num {
				idx = i
				break
			}
		}
		if idx < 0 {
			return nil, malformed("object %d not in its object stream", num)
		}
	}
	p := &parser{lexer: newMemLexer(st.data[st.first+st.offs[idx]:]), lim: lim}
	return p.object(0)
}

// ReadAt reads raw bytes of the file.
func (r *Reader) ReadAt(b []byte, off int64) (int, error) { return r.r.ReadAt(b, off) }
