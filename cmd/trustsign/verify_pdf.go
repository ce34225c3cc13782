package main

import (
	"context"
	"crypto/x509"
	"os"

	"github.com/trustsign/trustsign/verify"
)

type verifyCert struct{ *x509.Certificate }

// verifyPDF validates a PDF's signatures.
func verifyPDF(name string, f *os.File, size int64, p *verify.Policy) verify.FileReport {
	rep := verify.PDF(context.Background(), f, size, p)
	rep.File = name
	return rep
}
