package cms_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/testpki"
)

// exampleTSA stands for an RFC 3161 time-stamping authority: a certificate with the critical id-kp-timeStamping
// EKU and a token maker (digitorus/timestamp here; in the product, a TSA over HTTP).
func exampleTSA() func(ctx context.Context, imprint []byte) ([]byte, error) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	tmpl := testpki.LeafTemplate(pkix.Name{CommonName: "Example TSA"})
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}
	cert, err := testpki.New().Issue(tmpl, key)
	if err != nil {
		panic(err)
	}
	return func(_ context.Context, imprint []byte) ([]byte, error) {
		h := map[int]crypto.Hash{32: crypto.SHA256, 48: crypto.SHA384, 64: crypto.SHA512}[len(imprint)]
		ts := timestamp.Timestamp{HashAlgorithm: h, HashedMessage: imprint, Time: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC),
			Policy: asn1.ObjectIdentifier{1, 2, 3, 4, 1}, AddTSACertificate: true}
		resp, err := ts.CreateResponseWithOpts(cert, key, crypto.SHA256)
		if err != nil {
			return nil, err
		}
		parsed, err := timestamp.ParseResponse(resp)
		if err != nil {
			return nil, err
		}
		return parsed.RawToken, nil
	}
}

// A time-stamp token over some data: parse it, then check it proves that data (imprint) and was made by a TSA.
func ExampleTimeStamp_Verify() {
	data := []byte("a signature value")
	imprint := sha256.Sum256(data)
	der, _ := exampleTSA()(context.Background(), imprint[:])

	ts, err := cms.ParseTimeStamp(der)
	if err != nil {
		fmt.Println(err)
		return
	}
	tsa, err := ts.Verify(imprint[:], crypto.SHA256)
	fmt.Println(ts.Info.GenTime, tsa.Subject.CommonName, err)

	other := sha256.Sum256([]byte("other data"))
	_, err = ts.Verify(other[:], crypto.SHA256)
	fmt.Println(err != nil)
	// Output:
	// 2026-12-03 12:00:00 +0000 UTC Example TSA <nil>
	// true
}

// A CAdES/PAdES B-T signature: SignOptions.TimeStamp gets a token over the signature value, which lands in the
// SignerInfo's unsigned attributes; Verify reports it in Result.TimeStamps.
func ExampleSignDetachedContext() {
	pki := testpki.New()
	sum := sha256.Sum256(byteRange)
	der, err := cms.SignDetachedContext(context.Background(), sum[:], cms.SignOptions{
		Signer: pki.EC256.Key, Certificate: pki.EC256.Cert, PAdES: true, TimeStamp: exampleTSA(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	sd, _ := cms.Parse(der)
	res, _ := sd.Verify(cms.DigestOf(byteRange))
	st := res.TimeStamps[0]
	fmt.Println(res.Problems(), st.Time, st.Signer.Subject.CommonName, st.Err)
	// Output: [] 2026-12-03 12:00:00 +0000 UTC Example TSA <nil>
}
