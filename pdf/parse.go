package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Errors returned by the reader. Every parse failure wraps ErrMalformed; every exceeded bound wraps ErrLimit.
var (
	ErrMalformed = errors.New("pdf: malformed file")
	ErrLimit     = errors.New("pdf: resource limit exceeded")
	// ErrNotPDF is returned by Open when the input does not start like a PDF file.
	ErrNotPDF = errors.New("pdf: not a PDF file")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func limit(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrLimit, fmt.Sprintf(format, args...))
}

// Limits bounds the work and memory spent on one file. The zero value of a field means its default.
type Limits struct {
	// MaxDepth is the deepest nesting of arrays and dictionaries (default 64).
	MaxDepth int
	// MaxStringLen is the longest string accepted, in bytes (default 8 MiB).
	MaxStringLen int
	// MaxElements is the largest number of array elements or dictionary entries (default 1 << 20).
	MaxElements int
	// MaxObjectNumber is the largest object number accepted (default 8,388,607, the limit of ISO 32000-1 Annex C).
	MaxObjectNumber uint32
	// MaxXrefSections is the largest number of cross-reference sections followed through /Prev (default 4096).
	MaxXrefSections int
	// MaxDecoded is the largest decoded size of one stream the reader decodes (object and cross-reference
	// streams), in bytes (default 32 MiB).
	MaxDecoded int64
	// MaxObjectLoads bounds the number of objects parsed over the reader's lifetime (default 4,000,000).
	MaxObjectLoads int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDepth == 0 {
		l.MaxDepth = 64
	}
	if l.MaxStringLen == 0 {
		l.MaxStringLen = 8 << 20
	}
	if l.MaxElements == 0 {
		l.MaxElements = 1 << 20
	}
	if l.MaxObjectNumber == 0 {
		l.MaxObjectNumber = 8388607
	}
	if l.MaxXrefSections == 0 {
		l.MaxXrefSections = 4096
	}
	if l.MaxDecoded == 0 {
		l.MaxDecoded = 32 << 20
	}
	if l.MaxObjectLoads == 0 {
		l.MaxObjectLoads = 4000000
	}
	return l
}

const chunkSize = 4096

// lexer reads bytes at arbitrary positions of an io.ReaderAt through a small window, or of an in-memory slice.
type lexer struct {
	r    io.ReaderAt
	size int64
	buf  []byte
	base int64
	pos  int64
	mem  bool // positions are offsets into decoded data, not file positions
	err  error
}

func newFileLexer(r io.ReaderAt, size int64) *lexer {
	return &lexer{r: r, size: size, buf: make([]byte, 0, chunkSize)}
}

func newMemLexer(b []byte) *lexer {
	return &lexer{buf: b, size: int64(len(b)), mem: true}
}

func (l *lexer) at(p int64) (byte, bool) {
	if p < 0 || p >= l.size {
		return 0, false
	}
	if p < l.base || p >= l.base+int64(len(l.buf)) {
		if l.r == nil || l.err != nil {
			return 0, false
		}
		n := int64(chunkSize)
		if p+n > l.size {
			n = l.size - p
		}
		l.buf = l.buf[:n]
		m, err := l.r.ReadAt(l.buf, p)
		if int64(m) < n {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			l.err = err
			l.buf = l.buf[:0]
			return 0, false
		}
		l.base = p
	}
	return l.buf[p-l.base], true
}

func (l *lexer) peek() (byte, bool) { return l.at(l.pos) }

func (l *lexer) next() (byte, bool) {
	c, ok := l.at(l.pos)
	if ok {
		l.pos++
	}
	return c, ok
}

// skipWS skips white space and comments.
func (l *lexer) skipWS() {
	for {
		c, ok := l.peek()
		if !ok {
			return
		}
		if isWhite(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for {
				c, ok := l.next()
				if !ok || c == '\n' || c == '\r' {
					break
				}
			}
			continue
		}
		return
	}
}

// keyword reads a run of regular characters.
func (l *lexer) keyword(max int) []byte {
	var out []byte
	for len(out) < max {
		c, ok := l.peek()
		if !ok || isWhite(c) || isDelim(c) {
			break
		}
		out = append(out, c)
		l.pos++
	}
	return out
}

// hasPrefix reports whether the bytes at the current position start with s.
func (l *lexer) hasPrefix(s string) bool {
	for i := 0; i < len(s); i++ {
		c, ok := l.at(l.pos + int64(i))
		if !ok || c != s[i] {
			return false
		}
	}
	return true
}

// expectKeyword consumes keyword kw (which must end at a delimiter, white space or the end).
func (l *lexer) expectKeyword(kw string) bool {
	save := l.pos
	l.skipWS()
	if !l.hasPrefix(kw) {
		l.pos = save
		return false
	}
	c, ok := l.at(l.pos + int64(len(kw)))
	if ok && !isWhite(c) && !isDelim(c) {
		l.pos = save
		return false
	}
	l.pos += int64(len(kw))
	return true
}

// uint reads an unsigned decimal integer of at most 19 digits.
func (l *lexer) uint() (int64, bool) {
	var v int64
	n := 0
	for {
		c, ok := l.peek()
		if !ok || c < '0' || c > '9' {
			break
		}
		if n >= 18 {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		n++
		l.pos++
	}
	return v, n > 0
}

// parser parses objects from a lexer.
type parser struct {
	*lexer
	lim *Limits
}

func (p *parser) pos64() int64 {
	if p.mem {
		return -1
	}
	return p.pos
}

// object parses one direct object (or reference) at the current position.
func (p *parser) object(depth int) (Object, error) {
	if depth > p.lim.MaxDepth {
		return nil, limit("nesting deeper than %d at offset %d", p.lim.MaxDepth, p.pos)
	}
	p.skipWS()
	start := p.pos
	c, ok := p.peek()
	if !ok {
		if p.err != nil {
			return nil, fmt.Errorf("pdf: read: %w", p.err)
		}
		return nil, malformed("unexpected end of data at offset %d", p.pos)
	}
	switch {
	case c == '/':
		p.pos++
		return p.name()
	case c == '(':
		p.pos++
		b, err := p.literal()
		if err != nil {
			return nil, err
		}
		return String{Value: b, Pos: p.span(start)}, nil
	case c == '<':
		if c2, _ := p.at(p.pos + 1); c2 == '<' {
			p.pos += 2
			return p.dict(depth)
		}
		p.pos++
		b, err := p.hex()
		if err != nil {
			return nil, err
		}
		return String{Value: b, Hex: true, Pos: p.span(start)}, nil
	case c == '[':
		p.pos++
		return p.array(depth)
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return p.number()
	}
	kw := p.keyword(16)
	switch string(kw) {
	case "true":
		return Bool(true), nil
	case "false":
		return Bool(false), nil
	case "null":
		return nil, nil
	}
	if len(kw) == 0 {
		return nil, malformed("unexpected %q at offset %d", c, start)
	}
	return nil, malformed("unexpected keyword %q at offset %d", kw, start)
}

func (p *parser) span(start int64) Span {
	if p.mem {
		return Span{-1, -1}
	}
	return Span{start, p.pos}
}

func (p *parser) name() (Object, error) {
	var b []byte
	for len(b) < 4096 {
		c, ok := p.peek()
		if !ok || isWhite(c) || isDelim(c) {
			return Name(b), nil
		}
		p.pos++
		if c == '#' {
			h1, ok1 := p.at(p.pos)
			h2, ok2 := p.at(p.pos + 1)
			if ok1 && ok2 && isHex(h1) && isHex(h2) {
				b = append(b, unhex(h1)<<4|unhex(h2))
				p.pos += 2
				continue
			}
		}
		b = append(b, c)
	}
	return nil, limit("name longer than 4096 bytes at offset %d", p.pos)
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func (p *parser) literal() ([]byte, error) {
	var b []byte
	nest := 1
	for {
		if len(b) > p.lim.MaxStringLen {
			return nil, limit("string longer than %d bytes", p.lim.MaxStringLen)
		}
		c, ok := p.next()
		if !ok {
			return nil, malformed("unterminated string")
		}
		switch c {
		case '(':
			nest++
			b = append(b, c)
		case ')':
			nest--
			if nest == 0 {
				return b, nil
			}
			b = append(b, c)
		case '\r':
			if c2, _ := p.peek(); c2 == '\n' {
				p.pos++
			}
			b = append(b, '\n')
		case '\\':
			e, ok := p.next()
			if !ok {
				return nil, malformed("unterminated string")
			}
			switch e {
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case '\r':
				if c2, _ := p.peek(); c2 == '\n' {
					p.pos++
				}
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2; i++ {
						d, ok := p.peek()
						if !ok || d < '0' || d > '7' {
							break
						}
						v = v*8 + int(d-'0')
						p.pos++
					}
					b = append(b, byte(v))
				} else {
					b = append(b, e)
				}
			}
		default:
			b = append(b, c)
		}
	}
}

func (p *parser) hex() ([]byte, error) {
	var b []byte
	var hi byte
	half := false
	for {
		c, ok := p.next()
		if !ok {
			return nil, malformed("unterminated hex string")
		}
		if c == '>' {
			if half {
				b = append(b, hi<<4)
			}
			return b, nil
		}
		if isWhite(c) {
			continue
		}
		if !isHex(c) {
			return nil, malformed("bad character %q in hex string at offset %d", c, p.pos-1)
		}
		if half {
			b = append(b, hi<<4|unhex(c))
			if len(b) > p.lim.MaxStringLen {
				return nil, limit("string longer than %d bytes", p.lim.MaxStringLen)
			}
		} else {
			hi = unhex(c)
		}
		half = !half
	}
}

func (p *parser) number() (Object, error) {
	start := p.pos
	var s []byte
	for len(s) < 64 {
		c, ok := p.peek()
		if !ok || !(c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9')) {
			break
		}
		s = append(s, c)
		p.pos++
	}
	str := string(s)
	if !bytes.ContainsAny(s, ".") {
		v, err := strconv.ParseInt(str, 10, 64)
		if err != nil {
			if f, ferr := strconv.ParseFloat(str, 64); ferr == nil {
				return Real(f), nil
			}
			return nil, malformed("bad number %q at offset %d", str, start)
		}
		if str[0] != '+' && str[0] != '-' {
			if ref, ok := p.tryRef(v); ok {
				return ref, nil
			}
		}
		return Integer(v), nil
	}
	// Reals: tolerate forms such as "4." and "-.5"; reject anything else.
	f, err := strconv.ParseFloat(str, 64)
	if err != nil {
		if str == "-" || str == "." || str == "+" || str == "-." {
			return Real(0), nil
		}
		return nil, malformed("bad number %q at offset %d", str, start)
	}
	return Real(f), nil
}

// tryRef checks whether "num" is followed by "gen R".
func (p *parser) tryRef(num int64) (Object, bool) {
	save := p.pos
	p.skipWS()
	gen, ok := p.uint()
	if ok {
		p.skipWS()
		if c, _ := p.peek(); c == 'R' {
			c2, ok2 := p.at(p.pos + 1)
			if !ok2 || isWhite(c2) || isDelim(c2) {
				p.pos++
				if num < 0 || num > int64(p.lim.MaxObjectNumber) || gen > 65535 {
					// A reference to an impossible object is a reference to nothing: null.
					return nil, true
				}
				return Ref{Num: uint32(num), Gen: uint16(gen)}, true
			}
		}
	}
	p.pos = save
	return nil, false
}

func (p *parser) array(depth int) (Object, error) {
	var a Array
	for {
		p.skipWS()
		c, ok := p.peek()
		if !ok {
			return nil, malformed("unterminated array")
		}
		if c == ']' {
			p.pos++
			if a == nil {
				a = Array{}
			}
			return a, nil
		}
		if len(a) >= p.lim.MaxElements {
			return nil, limit("array with more than %d elements", p.lim.MaxElements)
		}
		o, err := p.object(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, o)
	}
}

// ErrDuplicateKey is wrapped by errors for dictionaries that repeat a key (an ambiguous shape).
var ErrDuplicateKey = errors.New("pdf: duplicate dictionary key")

func (p *parser) dict(depth int) (Object, error) {
	d := Dict{}
	for {
		p.skipWS()
		c, ok := p.peek()
		if !ok {
			return nil, malformed("unterminated dictionary")
		}
		if c == '>' {
			if c2, _ := p.at(p.pos + 1); c2 == '>' {
				p.pos += 2
				return d, nil
			}
			return nil, malformed("bad dictionary end at offset %d", p.pos)
		}
		if c != '/' {
			return nil, malformed("dictionary key is not a name at offset %d", p.pos)
		}
		p.pos++
		k, err := p.name()
		if err != nil {
			return nil, err
		}
		key := k.(Name)
		if len(d) >= p.lim.MaxElements {
			return nil, limit("dictionary with more than %d entries", p.lim.MaxElements)
		}
		v, err := p.object(depth + 1)
		if err != nil {
			return nil, err
		}
		if _, dup := d[key]; dup {
			return nil, fmt.Errorf("%w: %w /%s at offset %d", ErrMalformed, ErrDuplicateKey, key, p.pos)
		}
		d[key] = v
	}
}

// ParseObject parses a single object from b (for tests and tools).
func ParseObject(b []byte) (Object, error) {
	lim := Limits{}.withDefaults()
	p := &parser{lexer: newMemLexer(b), lim: &lim}
	return p.object(0)
}
