package verify

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
)

// Options configures File.
type Options struct {
	// Detached content of detached XML signatures, by file name (see XMLOptions.Detached).
	Detached map[string][]byte
	// MaxXMLBytes bounds an XML document (default DefaultMaxXMLBytes). PDF files are read as a stream, never held
	// in memory, and have no size limit here.
	MaxXMLBytes int
	// MaxWork bounds the work on an XML document's references (see XMLOptions.MaxWork).
	MaxWork int64
}

// Format is what Sniff decided a file is.
type Format int

// Formats.
const (
	FormatXML Format = iota
	FormatPDF
	// FormatUnknown is neither: no markup at the start and no PDF header (an image, JSON, random bytes, an
	// empty file).
	FormatUnknown
)

// pdfHeaderWindow is how far into a file the %PDF- header may start (ISO 32000-2 §7.5.2 lets readers accept leading
// bytes; Acrobat looks in the first 1024).
const pdfHeaderWindow = 1024

// Sniff decides from a file's first bytes whether it is to be read as XML or as PDF: a file whose first
// character (after an optional byte-order mark and white space) is '<' is XML (so is a file with a UTF-16
// byte-order mark, refused later as not UTF-8), otherwise a file with %PDF- in its first 1024 bytes is a PDF,
// otherwise it is FormatUnknown. The CLI, the API and the web page all decide through here, so one file gets one
// verdict everywhere.
func Sniff(head []byte) Format {
	if len(head) > pdfHeaderWindow {
		head = head[:pdfHeaderWindow]
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) > 0 && t[0] == '<' || bytes.HasPrefix(head, []byte("\xfe\xff")) || bytes.HasPrefix(head, []byte("\xff\xfe")) {
		return FormatXML
	}
	if bytes.Contains(head, []byte("%PDF-")) {
		return FormatPDF
	}
	return FormatUnknown
}

// noSignature is the report of a file that cannot hold a signature: NO_SIGNATURE_FOUND, no signatures, and a
// note saying why.
func noSignature(name string, why Message) FileReport {
	return FileReport{File: name, Format: "unknown", Indication: NoSignature, Signatures: []SignatureReport{},
		Note: why.English(), NoteCode: &why}
}

// File validates every signature of one file, XML or PDF (decided once by Sniff), under the policy. r must serve
// size bytes. It is the one entry point the CLI, the API and the web pages use.
func File(ctx context.Context, name string, r io.ReaderAt, size int64, p *Policy, o Options) FileReport {
	head := make([]byte, min(size, pdfHeaderWindow))
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return unreadable(name, "unknown", msg("file.unreadable").withDetail(fromLibrary(err.Error())))
	}
	var rep FileReport
	switch Sniff(head) {
	case FormatUnknown:
		if size == 0 {
			rep = noSignature(name, msg("file.empty"))
		} else {
			rep = noSignature(name, msg("file.notXMLOrPDF"))
		}
	case FormatPDF:
		rep = PDF(ctx, r, size, p)
		rep.File = name
	default:
		maxBytes := o.MaxXMLBytes
		if maxBytes <= 0 {
			maxBytes = DefaultMaxXMLBytes
		}
		if size > int64(maxBytes) {
			rep = unreadable(name, "xades", msg("xml.tooLarge", "size", strconv.FormatInt(size, 10), "limit", strconv.Itoa(maxBytes)))
			break
		}
		data, ok := r.(interface{ Bytes() []byte })
		var buf []byte
		if ok && int64(len(data.Bytes())) == size {
			buf = data.Bytes()
		} else {
			buf = make([]byte, size)
			if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
				rep = unreadable(name, "xades", msg("file.unreadable").withDetail(fromLibrary(err.Error())))
				break
			}
		}
		rep = XMLContext(ctx, name, buf, p, XMLOptions{Detached: o.Detached, MaxBytes: maxBytes, MaxWork: o.MaxWork})
	}
	if rep.Indication == NoSignature && rep.Note == "" {
		why := msg("file.noSignature")
		rep.Note, rep.NoteCode = why.English(), &why
	}
	now := p.now().UTC()
	rep.ValidationTime = &now
	return rep
}

// Bytes is File over a document held in memory.
func Bytes(ctx context.Context, name string, data []byte, p *Policy, o Options) FileReport {
	return File(ctx, name, bytesReaderAt(data), int64(len(data)), p, o)
}

// bytesReaderAt serves a byte slice and hands it over whole to the XML path without a copy.
type bytesReaderAt []byte

func (b bytesReaderAt) Bytes() []byte { return b }

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("verify: negative offset")
	}
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
