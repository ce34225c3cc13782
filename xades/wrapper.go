package xades

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/trustsign/trustsign/internal/xmldoc"
)

// WrappedFile is a non-XML file carried in trustsign's XML container (docs/wrapper.md).
type WrappedFile struct {
	Name     string
	MIMEType string
	Content  []byte
}

// Wrap puts a non-XML file into the XML container so that it can be signed enveloped:
//
//	<tsw:WrappedFile xmlns:tsw="urn:trustsign:wrapper:1" version="1">
//	  <tsw:FileName>scan.png</tsw:FileName>
//	  <tsw:MimeType>image/png</tsw:MimeType>
//	  <tsw:Size>20000</tsw:Size>
//	  <tsw:Content>BASE64…</tsw:Content>
//	</tsw:WrappedFile>
func Wrap(name, mimeType string, content []byte) []byte {
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	enc := base64.StdEncoding.EncodeToString(content)
	var b strings.Builder
	b.Grow(len(enc) + len(enc)/76 + 512)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<tsw:WrappedFile xmlns:tsw="` + NSWrapper + `" version="1">` + "\n")
	b.WriteString(`  <tsw:FileName>` + escapeText(name) + `</tsw:FileName>` + "\n")
	b.WriteString(`  <tsw:MimeType>` + escapeText(mimeType) + `</tsw:MimeType>` + "\n")
	b.WriteString(`  <tsw:Size>` + strconv.Itoa(len(content)) + `</tsw:Size>` + "\n")
	b.WriteString(`  <tsw:Content>`)
	for i := 0; i < len(enc); i += 76 {
		b.WriteString("\n")
		b.WriteString(enc[i:min(i+76, len(enc))])
	}
	b.WriteString("\n  </tsw:Content>\n</tsw:WrappedFile>\n")
	return []byte(b.String())
}

// ErrNotWrapper is returned by Unwrap for documents that are not trustsign containers.
var ErrNotWrapper = errors.New("xades: not a trustsign wrapped file")

// Unwrap reads a container made by Wrap (signed or not). It reads the document as it is, not what a signature
// verified: for the file a signature covers, use SignatureResult.Wrapped. The container must have exactly the shape
// Wrap writes (ds:Signature elements aside): anything else inside it, such as an element hidden in tsw:Content, is
// refused rather than skipped.
func Unwrap(doc []byte) (*WrappedFile, error) {
	d, err := xmldoc.Parse(doc, xmldoc.Limits{})
	if err != nil {
		return nil, err
	}
	return unwrapNode(d.Root)
}

// unwrapNode reads a container element. Its children are FileName, MimeType?, Size? and Content, each at most once
// and holding only text; ds:Signature elements (enveloped signatures) and whitespace may stand between them.
func unwrapNode(root *xmldoc.Node) (*WrappedFile, error) {
	if !root.Is(NSWrapper, "WrappedFile") {
		return nil, ErrNotWrapper
	}
	parts := map[string]*xmldoc.Node{}
	for c := root.FirstChild; c != nil; c = c.Next {
		switch {
		case c.Kind == xmldoc.TextNode:
			if strings.TrimSpace(c.Data) != "" {
				return nil, errors.New("xades: wrapped file holds text outside its parts")
			}
		case c.Kind == xmldoc.ElementNode && c.Is(NSDSig, "Signature"):
		case c.Kind == xmldoc.ElementNode && c.Space == NSWrapper &&
			(c.Local == "FileName" || c.Local == "MimeType" || c.Local == "Size" || c.Local == "Content"):
			if parts[c.Local] != nil {
				return nil, fmt.Errorf("xades: wrapped file has more than one %s", c.Local)
			}
			for g := c.FirstChild; g != nil; g = g.Next {
				if g.Kind != xmldoc.TextNode {
					return nil, fmt.Errorf("xades: wrapped file's %s holds something other than text", c.Local)
				}
			}
			parts[c.Local] = c
		case c.Kind == xmldoc.ElementNode:
			return nil, fmt.Errorf("xades: unexpected element %s in a wrapped file", qname(c.Prefix, c.Local))
		}
	}
	name, mime, size, content := parts["FileName"], parts["MimeType"], parts["Size"], parts["Content"]
	if name == nil || content == nil {
		return nil, errors.New("xades: wrapped file lacks FileName or Content")
	}
	raw, err := base64.StdEncoding.DecodeString(stripSpace(content.Text()))
	if err != nil {
		return nil, errors.New("xades: wrapped file content is not valid base64")
	}
	if size != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(size.Text())); err != nil || n != len(raw) {
			return nil, errors.New("xades: wrapped file's Size does not match its content")
		}
	}
	w := &WrappedFile{Name: strings.TrimSpace(name.Text()), Content: raw}
	if mime != nil {
		w.MIMEType = strings.TrimSpace(mime.Text())
	}
	return w, nil
}

func stripSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}
