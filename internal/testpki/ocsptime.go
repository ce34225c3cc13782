package testpki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPProducedAt re-signs a DER OCSP response (signed by an ECDSA key with SHA-256) with its producedAt set to at,
// whole seconds: ocsp.CreateResponse writes the wall clock's, rounded down to the minute, which tests with an
// injected clock cannot use.
func OCSPProducedAt(der []byte, at time.Time, key crypto.Signer) ([]byte, error) {
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	var basic struct {
		TBS   asn1.RawValue
		Alg   pkix.AlgorithmIdentifier
		Sig   asn1.BitString
		Certs asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		return nil, fmt.Errorf("OCSP response: %w", err)
	}
	if _, err := asn1.Unmarshal(resp.Bytes.Response, &basic); err != nil {
		return nil, fmt.Errorf("BasicOCSPResponse: %w", err)
	}
	parsed, err := ocsp.ParseResponse(der, nil)
	if err != nil {
		return nil, err
	}
	was, _ := asn1.MarshalWithParams(parsed.ProducedAt.UTC(), "generalized")
	now, _ := asn1.MarshalWithParams(at.UTC().Truncate(time.Second), "generalized")
	tbs := bytes.Replace(basic.TBS.FullBytes, was, now, 1)
	if len(was) != len(now) || bytes.Equal(tbs, basic.TBS.FullBytes) && !bytes.Equal(was, now) {
		return nil, errors.New("producedAt not found")
	}
	digest := sha256.Sum256(tbs)
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	basic.TBS = asn1.RawValue{FullBytes: tbs}
	basic.Alg = pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}} // ecdsa-with-SHA256
	basic.Sig = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	if resp.Bytes.Response, err = asn1.Marshal(basic); err != nil {
		return nil, err
	}
	return asn1.Marshal(resp)
}
