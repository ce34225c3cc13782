package xades_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"net/http/httptest"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/xades"
)

// Extend a B-B signature to B-LTA: a signature time-stamp, the validation data of the signer's and the TSA's
// chains, and an archive time-stamp over all of it. A real deployment passes revocation.Fetcher.Collect as the
// source; here it returns the test PKI's chain without revocation data.
func ExampleExtend() {
	p := testpki.New()
	h, _ := p.TSAHandler(testpki.TSAGood)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &tsa.Client{URLs: []string{srv.URL}, Roots: p.Roots(), Intermediates: p.Intermediates()}

	signed, err := xades.Sign([]byte(`<recepta xmlns="urn:example"><lek>Amoxicillinum</lek></recepta>`),
		xades.SignOptions{Signer: p.RSA.Key, Certificate: p.RSA.Cert})
	if err != nil {
		panic(err)
	}
	lta, err := xades.Extend(context.Background(), signed, xades.ExtendOptions{
		Level: "b-lta",
		TimeStamp: func(ctx context.Context, imprint []byte) ([]byte, error) {
			tok, err := client.Stamp(ctx, imprint)
			if err != nil {
				return nil, err
			}
			return tok.DER, nil
		},
		Validation: func(ctx context.Context, certs []*x509.Certificate) (revocation.Data, error) {
			return revocation.Data{Certificates: []*x509.Certificate{p.Intermediate, p.Root}}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	res, _ := xades.Verify(lta, xades.VerifyOptions{})
	s := res.Signatures[0]
	at := s.ArchiveTimeStamps[0]
	tok, err := tsa.VerifyData(at.Token, at.Covered, tsa.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates()})
	fmt.Println(s.SignatureValid, len(s.SignatureTimeStamps), len(s.Validation.Certificates), err, tok.Certificate.Subject.CommonName)
	// Output: true 1 3 <nil> Trustsign Test TSA
}
