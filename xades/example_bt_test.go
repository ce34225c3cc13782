package xades_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/xades"
)

// Sign at XAdES B-T: SignOptions.TimeStamp asks a TSA (here the in-process test TSA) for a token over the
// signature value; the verifier then checks that token with tsa.VerifyData under its own trust anchors.
func ExampleSignContext() {
	p := testpki.New()
	h, _ := p.TSAHandler(testpki.TSAGood)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &tsa.Client{URLs: []string{srv.URL}, Roots: p.Roots(), Intermediates: p.Intermediates()}

	signed, err := xades.SignContext(context.Background(), []byte(`<recepta xmlns="urn:example"><lek>Amoxicillinum</lek></recepta>`),
		xades.SignOptions{Signer: p.RSA.Key, Certificate: p.RSA.Cert,
			TimeStamp: func(ctx context.Context, imprint []byte) ([]byte, error) {
				tok, err := client.Stamp(ctx, imprint)
				if err != nil {
					return nil, err
				}
				return tok.DER, nil
			}})
	if err != nil {
		panic(err)
	}
	res, _ := xades.Verify(signed, xades.VerifyOptions{})
	st := res.Signatures[0].SignatureTimeStamps[0]
	tok, err := tsa.VerifyData(st.Token, st.Covered, tsa.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates()})
	fmt.Println(res.Signatures[0].SignatureValid, err, tok.Certificate.Subject.CommonName)
	// Output: true <nil> Trustsign Test TSA
}
