// Package revocation gathers and judges the validation data of certificates: OCSP responses (RFC 6960), CRLs
// (RFC 5280) and the certificates that chain them, as long-term signatures embed them (XAdES CertificateValues and
// RevocationValues, the PDF DSS dictionary).
//
// It knows no signature format, no HTTP server and no store: Fetcher retrieves data from the URLs in the
// certificates themselves (Authority Information Access, CRL Distribution Points) with bounded time-outs and a
// cache kept for each answer's validity; Check judges a certificate's status at a time from data already at hand,
// offline.
package revocation

import (
	"context"
	"crypto/x509"
)

// Data is validation data as a signature carries it: certificates, DER OCSP responses (the whole OCSPResponse,
// as XAdES EncapsulatedOCSPValue and the PDF DSS /OCSPs hold them) and DER CRLs.
type Data struct {
	Certificates []*x509.Certificate
	OCSP         [][]byte
	CRLs         [][]byte
}

// Empty reports whether d holds nothing.
func (d Data) Empty() bool { return len(d.Certificates) == 0 && len(d.OCSP) == 0 && len(d.CRLs) == 0 }

// Source returns the validation data for certs: for each, its chain up to a root (certificates not already in
// certs) and the revocation data of every certificate of that chain below the root. Signing and extending call
// one for the signer's chain and again for each time-stamping authority's chain. Fetcher.Collect is one.
type Source func(ctx context.Context, certs []*x509.Certificate) (Data, error)
