package tsa_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/tsa"
)

// Example time-stamps a digest with failover between two TSAs (the first is down) and verifies the token the way a
// verifier does.
func Example() {
	p := testpki.New()
	h500, _ := p.TSAHandler(testpki.TSAHTTP500)
	good, _ := p.TSAHandler(testpki.TSAGood)
	down, up := serve(h500), serve(good)
	defer down.Close()
	defer up.Close()

	c := &tsa.Client{URLs: []string{down.URL, up.URL}, Hash: crypto.SHA256, Timeout: 5 * time.Second,
		Roots: p.Roots(), Intermediates: p.Intermediates()}
	digest := sha256.Sum256([]byte("<SignatureValue>...</SignatureValue>"))
	tok, err := c.Stamp(context.Background(), digest[:])
	if err != nil {
		fmt.Println(err)
		return
	}
	checked, err := tsa.Verify(tok.DER, digest[:], crypto.SHA256, tsa.VerifyOptions{Roots: p.Roots(), Intermediates: p.Intermediates()})
	fmt.Println(err, checked.Certificate.Subject.CommonName, checked.Time.Equal(tok.Time))
	// Output: <nil> Trustsign Test TSA true
}

func serve(h http.Handler) *httptest.Server { return httptest.NewServer(h) }
