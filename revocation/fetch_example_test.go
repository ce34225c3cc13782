package revocation_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/revocation"
)

func ExampleFetcher_Collect() {
	p := testpki.New()
	responders, err := p.StartRevocation(testpki.RevocationGood) // a loopback OCSP responder and CRL server
	if err != nil {
		panic(err)
	}
	defer responders.Close()
	signer, err := responders.Signer() // its certificate names the responder
	if err != nil {
		panic(err)
	}

	// One Fetcher for the process: its cache keeps each answer until its nextUpdate.
	f := &revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}, Timeout: 5 * time.Second}
	var src revocation.Source = f.Collect
	data, err := src(context.Background(), signer.Chain)
	if err != nil {
		panic(err)
	}
	// The root (the rest of the chain was given), and the OCSP answers about the signer and the intermediate.
	fmt.Println(len(data.Certificates), len(data.OCSP), len(data.CRLs))

	// Asked again within the answers' validity, nothing is fetched.
	before := responders.Requests()
	_, err = f.Collect(context.Background(), signer.Chain)
	fmt.Println(err == nil, responders.Requests() == before)
	// Output:
	// 1 2 0
	// true true
}
