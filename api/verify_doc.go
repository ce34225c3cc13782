package api

import (
	"bytes"
	"context"
	"mime/multipart"

	"github.com/trustsign/trustsign/verify"
)

type multipartFile = multipart.File

// verifyBytes validates an XML or PDF document.
func verifyBytes(name string, data []byte, p *verify.Policy, detached map[string][]byte) verify.FileReport {
	if bytes.HasPrefix(bytes.TrimLeft(data, "\x00\t\r\n "), []byte("%PDF-")) {
		return verifyPDFBytes(name, data, p)
	}
	return verify.XML(name, data, p, verify.XMLOptions{Detached: detached})
}

func verifyPDFBytes(name string, data []byte, p *verify.Policy) verify.FileReport {
	rep := verify.PDF(context.Background(), bytes.NewReader(data), int64(len(data)), p)
	rep.File = name
	return rep
}
