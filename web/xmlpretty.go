package web

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
)

// prettyXML indents an XML document for reading, keeping prefixes, attributes, comments and processing
// instructions as written; text is re-escaped, so the result is XML text (the template escapes it again for
// HTML). A document that does not parse is returned as it is (as valid UTF-8 text).
func prettyXML(data []byte) string {
	out, err := indentXML(data)
	if err != nil {
		return strings.ToValidUTF8(string(data), "\uFFFD")
	}
	return out
}

const maxXMLDepth = 256

func indentXML(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var b strings.Builder
	depth := 0
	var pending *xml.StartElement // a start tag not yet closed with '>', to write <a/> for empty elements
	inlineText := false           // the last thing written was text right after a start tag
	newline := func() {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat("  ", depth))
	}
	flush := func() {
		if pending != nil {
			b.WriteByte('>')
			pending = nil
			depth++
		}
	}
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			flush()
			if depth >= maxXMLDepth {
				return "", errTooDeep
			}
			newline()
			b.WriteByte('<')
			b.WriteString(qname(t.Name))
			for _, a := range t.Attr {
				b.WriteByte(' ')
				b.WriteString(qname(a.Name))
				b.WriteString(`="`)
				b.WriteString(escapeXML(a.Value, true))
				b.WriteByte('"')
			}
			st := t.Copy()
			pending = &st
			inlineText = false
		case xml.EndElement:
			if pending != nil {
				b.WriteString("/>")
				pending = nil
				inlineText = false
				continue
			}
			depth--
			if !inlineText {
				newline()
			}
			b.WriteString("</" + qname(t.Name) + ">")
			inlineText = false
		case xml.CharData:
			text := string(t)
			if strings.TrimSpace(text) == "" {
				continue
			}
			if pending != nil {
				flush()
				b.WriteString(escapeXML(strings.TrimSpace(text), false))
				inlineText = true
				continue
			}
			newline()
			b.WriteString(escapeXML(strings.TrimSpace(text), false))
			inlineText = false
		case xml.Comment:
			flush()
			newline()
			b.WriteString("<!--" + string(t) + "-->")
			inlineText = false
		case xml.ProcInst:
			flush()
			newline()
			b.WriteString("<?" + t.Target)
			if len(t.Inst) > 0 {
				b.WriteString(" " + string(t.Inst))
			}
			b.WriteString("?>")
			inlineText = false
		case xml.Directive:
			flush()
			newline()
			b.WriteString("<!" + string(t) + ">")
			inlineText = false
		}
	}
	if pending != nil || depth != 0 {
		return "", io.ErrUnexpectedEOF
	}
	return b.String(), nil
}

type xmlErr string

func (e xmlErr) Error() string { return string(e) }

const errTooDeep = xmlErr("web: XML nested too deeply to show")

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func escapeXML(s string, attr bool) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	if attr {
		r = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#xA;", "\t", "&#x9;", "\r", "&#xD;")
	}
	return r.Replace(s)
}
