package xades

import (
	"crypto"
	"crypto/x509"
	"sync/atomic"
	"unsafe"
)

// certFacts are what a signature writes about its signer certificate, worked out once per certificate: a seal
// signs with the same certificate many times, and the issuer name's string form alone costs dozens of allocations.
type certFacts struct {
	cert *x509.Certificate
	// raw is cert.Raw when the facts were worked out: a certificate whose Raw was replaced since is looked up afresh
	raw    []byte
	issuer string // cert.Issuer.String()
	serial string // cert.SerialNumber.String()
	v2     string // base64 IssuerSerialV2 ("" when v2Err is set)
	v2Err  error
	hash   crypto.Hash
	digest []byte // hash of raw
}

// certCache holds the facts of the last few signer certificates (a service signs with one or two seals at a time).
// It is only a memo: its entries are never modified once published, and a miss recomputes.
var certCache struct {
	entries [8]atomic.Pointer[certFacts]
	next    atomic.Uint32
}

// factsOf returns the facts of cert, with its digest by h.
func factsOf(cert *x509.Certificate, h crypto.Hash) *certFacts {
	for i := range certCache.entries {
		f := certCache.entries[i].Load()
		if f != nil && f.cert == cert && f.hash == h && len(f.raw) == len(cert.Raw) &&
			unsafe.SliceData(f.raw) == unsafe.SliceData(cert.Raw) {
			return f
		}
	}
	f := &certFacts{cert: cert, raw: cert.Raw, issuer: cert.Issuer.String(), serial: cert.SerialNumber.String(), hash: h}
	f.v2, f.v2Err = issuerSerialV2(cert)
	hw := h.New()
	hw.Write(cert.Raw)
	f.digest = hw.Sum(nil)
	certCache.entries[(certCache.next.Add(1)-1)%uint32(len(certCache.entries))].Store(f)
	return f
}
