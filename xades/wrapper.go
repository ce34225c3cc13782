package xades

import (
	"encoding/base64"
	"errors"
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

// Unwrap reads a container made by Wrap (signed or not).
func Unwrap(doc []byte) (*WrappedFile, error) {
	d, err := xmldoc.Parse(doc, xmldoc.Limits{})
	if err != nil {
		return nil, err
	}
	return unwrapNode(d.Root)
}

func unwrapNode(root *xmldoc.Node) (*WrappedFile, error) {
	if !root.Is(NSWrapper, "WrappedFile") {
		return nil, ErrNotWrapper
	}
	name, mime, content := root.Child(NSWrapper, "FileName"), root.Child(NSWrapper, "MimeType"), root.Child(NSWrapper, "Content")
	if name == nil || content == nil {
		return nil, errors.New("xades: wrapped file lacks FileName or Content")
	}
	raw, err := base64.StdEncoding.DecodeString(stripSpace(content.Text()))
	if err != nil {
		return nil, errors.New("xades: wrapped file content is not valid base64")
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
