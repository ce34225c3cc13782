package xades

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

// sigWriter writes the XML of a signature we make, in two forms at once: ser, the XML text that goes into the
// signed document, and can, the exclusive canonical form (Exclusive XML Canonicalization 1.0, without comments) of
// the element marked with canonical, as it stands in the signed document. Producing the canonical form while
// writing spares parsing our own SignedProperties and SignedInfo back to canonicalize them.
//
// It relies on the shape of what we write: every element is prefixed, with a prefix bound by nsURIOf to the same
// URI wherever the text declares it; attributes are unprefixed and given in canonical order (checked). The canonical
// form then differs from the text only by the namespace declarations exclusive C14N renders (an element's own
// prefix where no canonicalized ancestor has that prefix), by empty elements written in full, and by escaping (the
// text escapes as escapeText, the canonical form as xmldoc's canonicalization, after the parser's attribute value
// normalization). TestSigWriterMatchesCanonicalize compares it with xmldoc.Canonicalize over the parsed text.
type sigWriter struct {
	ser []byte
	can []byte
	// open are the elements started and not ended; open[canFrom:] are inside the canonicalized element (canFrom
	// is -1 when no element is being canonicalized)
	open    []openElement
	canFrom int
	// lastAttr is the previous attribute of the open start tag (their order is checked)
	lastAttr string
	err      error
}

type openElement struct{ prefix, local string }

// errSigWriter marks text the signature's XML cannot carry (a character XML does not allow) or a misuse.
var errSigWriter = errors.New("xades: cannot write the signature's XML")

// writerPool holds sigWriters with room for a signature's SignedProperties or SignedInfo, so that writing one
// does not grow its buffers step by step.
var writerPool = sync.Pool{New: func() any {
	return &sigWriter{ser: make([]byte, 0, 4<<10), can: make([]byte, 0, 4<<10), open: make([]openElement, 0, 16), canFrom: -1}
}}

func getWriter() *sigWriter { return writerPool.Get().(*sigWriter) }

func putWriter(w *sigWriter) {
	if cap(w.ser) > 64<<10 || cap(w.can) > 64<<10 {
		return
	}
	*w = sigWriter{ser: w.ser[:0], can: w.can[:0], open: w.open[:0], canFrom: -1}
	writerPool.Put(w)
}

// nsURIOf is the namespace URI of each prefix the signature's XML uses.
func nsURIOf(prefix string) string {
	switch prefix {
	case "ds":
		return NSDSig
	case "xades":
		return NSXAdES
	case "ppZP":
		return NSPPZP
	case "os":
		return NSOsoba
	case "dsig-xpath":
		return NSFilter2
	}
	return ""
}

func (w *sigWriter) fail(msg string) {
	if w.err == nil {
		w.err = errors.Join(errSigWriter, errors.New(msg))
	}
}

func (w *sigWriter) canonical() bool { return w.canFrom >= 0 }

// startCanonical makes the next element the one whose canonical form is written to can (emptied).
func (w *sigWriter) startCanonical() {
	if w.canFrom >= 0 {
		w.fail("nested canonicalization")
		return
	}
	w.canFrom = len(w.open)
	w.can = w.can[:0]
}

// start writes the start of an element's start tag.
func (w *sigWriter) start(prefix, local string) {
	uri := nsURIOf(prefix)
	if uri == "" {
		w.fail("unknown prefix " + prefix)
	}
	w.ser = append(w.ser, '<')
	w.ser = append(w.ser, prefix...)
	w.ser = append(w.ser, ':')
	w.ser = append(w.ser, local...)
	if w.canonical() {
		w.can = append(w.can, '<')
		w.can = append(w.can, prefix...)
		w.can = append(w.can, ':')
		w.can = append(w.can, local...)
		rendered := false
		for _, e := range w.open[w.canFrom:] {
			if e.prefix == prefix {
				rendered = true
				break
			}
		}
		if !rendered {
			w.can = append(w.can, " xmlns:"...)
			w.can = append(w.can, prefix...)
			w.can = append(w.can, `="`...)
			w.can = xmldoc.AppendCanonicalAttr(w.can, uri)
			w.can = append(w.can, '"')
		}
	}
	w.open = append(w.open, openElement{prefix, local})
	w.lastAttr = ""
}

// decl writes a namespace declaration into the text (before any attribute). The canonical form renders
// declarations itself.
func (w *sigWriter) decl(prefix string) {
	if w.lastAttr != "" {
		w.fail("namespace declaration after an attribute")
	}
	w.ser = append(w.ser, " xmlns:"...)
	w.ser = append(w.ser, prefix...)
	w.ser = append(w.ser, `="`...)
	w.ser = appendEscaped(w.ser, nsURIOf(prefix))
	w.ser = append(w.ser, '"')
}

// attr writes an unprefixed attribute whose value is the concatenation of parts. Attributes come in canonical
// order (by name).
func (w *sigWriter) attr(name string, parts ...string) {
	if name <= w.lastAttr {
		w.fail("attribute " + name + " out of canonical order")
	}
	w.lastAttr = name
	w.ser = append(w.ser, ' ')
	w.ser = append(w.ser, name...)
	w.ser = append(w.ser, `="`...)
	if w.canonical() {
		w.can = append(w.can, ' ')
		w.can = append(w.can, name...)
		w.can = append(w.can, `="`...)
	}
	for _, v := range parts {
		if !xmldoc.ValidText(v) {
			w.fail("a character XML does not allow in attribute " + name)
		}
		w.ser = appendEscaped(w.ser, v)
		if w.canonical() {
			// the parser turns a literal TAB or LF of an attribute value into a space (CR is escaped in the text)
			if strings.ContainsAny(v, "\t\n") {
				v = strings.NewReplacer("\t", " ", "\n", " ").Replace(v)
			}
			w.can = xmldoc.AppendCanonicalAttr(w.can, v)
		}
	}
	w.ser = append(w.ser, '"')
	if w.canonical() {
		w.can = append(w.can, '"')
	}
}

// enter ends a start tag.
func (w *sigWriter) enter() {
	w.ser = append(w.ser, '>')
	if w.canonical() {
		w.can = append(w.can, '>')
	}
}

// empty ends a start tag as an empty element: "/>" in the text, an end tag in the canonical form.
func (w *sigWriter) empty() {
	w.ser = append(w.ser, '/', '>')
	e := w.pop()
	if w.canonical() {
		w.can = append(w.can, '>')
		w.can = appendEndTag(w.can, e)
	}
	w.doneCanonical()
}

// end writes the end tag of the innermost open element.
func (w *sigWriter) end() {
	e := w.pop()
	w.ser = appendEndTag(w.ser, e)
	if w.canonical() {
		w.can = appendEndTag(w.can, e)
	}
	w.doneCanonical()
}

func (w *sigWriter) pop() openElement {
	if len(w.open) == 0 {
		w.fail("end tag without a start tag")
		return openElement{}
	}
	e := w.open[len(w.open)-1]
	w.open = w.open[:len(w.open)-1]
	return e
}

func (w *sigWriter) doneCanonical() {
	if w.canFrom >= 0 && len(w.open) == w.canFrom {
		w.canFrom = -1
	}
}

func appendEndTag(b []byte, e openElement) []byte {
	b = append(b, '<', '/')
	b = append(b, e.prefix...)
	b = append(b, ':')
	b = append(b, e.local...)
	return append(b, '>')
}

// text writes character data.
func (w *sigWriter) text(v string) {
	if !xmldoc.ValidText(v) {
		w.fail("a character XML does not allow in text")
	}
	w.ser = appendEscaped(w.ser, v)
	if w.canonical() {
		w.can = xmldoc.AppendCanonicalText(w.can, v)
	}
}

// base64 writes the base64 encoding of b as character data (the same in both forms).
func (w *sigWriter) base64(b []byte) {
	w.ser = base64.StdEncoding.AppendEncode(w.ser, b)
	if w.canonical() {
		w.can = base64.StdEncoding.AppendEncode(w.can, b)
	}
}

// element writes <prefix:local>text</prefix:local>.
func (w *sigWriter) element(prefix, local, text string) {
	w.start(prefix, local)
	w.enter()
	w.text(text)
	w.end()
}

// emptyElement writes <prefix:local name="value"/> (one attribute).
func (w *sigWriter) emptyElement(prefix, local, name, value string) {
	w.start(prefix, local)
	w.attr(name, value)
	w.empty()
}

// raw appends XML text written earlier by another sigWriter (complete elements, outside any canonicalization).
func (w *sigWriter) raw(b []byte) {
	if w.canonical() {
		w.fail("raw text inside a canonicalized element")
	}
	w.ser = append(w.ser, b...)
}

// appendEscaped is escapeText appending to b.
func appendEscaped(b []byte, s string) []byte {
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
		case '"':
			esc = "&quot;"
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
