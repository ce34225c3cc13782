package revocation

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net/http"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocsp asks the responder at u about cert (or takes the cached answer) and returns a checked DER OCSPResponse.
func (f *Fetcher) ocsp(ctx context.Context, u string, cert, issuer *x509.Certificate) ([]byte, error) {
	req, err := ocsp.CreateRequest(cert, issuer, nil) // SHA-1 CertID: what every responder understands
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	key := ocspKey(issuer, cert.SerialNumber)
	if e, ok := f.cachedSince(ctx, key); ok {
		return e.der, nil
	}
	body, err := f.fetch(ctx, http.MethodPost, u, req, f.maxBytes())
	if err != nil {
		return nil, err
	}
	now := f.now()
	a, err := checkOCSP(body, cert, issuer, nil, now)
	if err := fetched(a, err, now); err != nil {
		return nil, err
	}
	f.remember(key, cacheEntry{der: body, issued: a.Issued(), expires: f.expiry(a.NextUpdate, now)})
	return body, nil
}

// ocspKey is the cache key of cert's OCSP status: its issuer's key hash and its serial.
func ocspKey(issuer *x509.Certificate, serial *big.Int) string {
	h := crypto.SHA1.New()
	h.Write(spkiKey(issuer))
	return fmt.Sprintf("ocsp %x %x", h.Sum(nil), serial)
}

func spkiKey(c *x509.Certificate) []byte {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return c.RawSubjectPublicKeyInfo
	}
	return spki.PublicKey.RightAlign()
}

// fetched accepts an answer Check found usable for what a fetch must give: a known status, current at now.
func fetched(a Answer, err error, now time.Time) error {
	switch {
	case err != nil:
		return err
	case a.Status == Unknown:
		return ErrAnswerUnknown
	case !a.NextUpdate.IsZero() && !now.Before(a.NextUpdate):
		return fmt.Errorf("%w: nextUpdate %v", ErrAnswerStale, a.NextUpdate.UTC())
	}
	return nil
}

// crl fetches the CRL at u (or takes the cached one) and returns it when it covers cert; see checkCRL.
func (f *Fetcher) crl(ctx context.Context, u string, cert, issuer *x509.Certificate) ([]byte, error) {
	if der := f.cachedCRL(ctx, u, cert, issuer); der != nil {
		return der, nil
	}
	body, err := f.fetch(ctx, http.MethodGet, u, nil, f.maxBytes())
	if err != nil {
		return nil, err
	}
	now := f.now()
	a, err := checkCRL(body, cert, issuer, now)
	if err := fetched(a, err, now); err != nil {
		return nil, err
	}
	f.remember("crl "+u, cacheEntry{der: body, issued: a.Issued(), expires: f.expiry(a.NextUpdate, now)})
	return body, nil
}

// cachedCRL returns the cached CRL from u when it is still valid and covers cert.
func (f *Fetcher) cachedCRL(ctx context.Context, u string, cert, issuer *x509.Certificate) []byte {
	e, ok := f.cachedSince(ctx, "crl "+u)
	if !ok {
		return nil
	}
	if a, err := checkCRL(e.der, cert, issuer, f.now()); fetched(a, err, f.now()) != nil {
		return nil
	}
	return e.der
}

// expiry is when an answer with nextUpdate next, fetched at now, leaves the cache.
func (f *Fetcher) expiry(next, now time.Time) time.Time {
	if next.IsZero() {
		return now.Add(f.cacheTTL())
	}
	return next
}

type issuedAfterKey struct{}

// IssuedAfter returns a context under which Collect takes no cached answer issued before t: extending a
// signature whose time-stamp says t needs revocation data issued after t (a verifier reads an older answer as no
// proof of the status at t), so a cached one from before is asked for again. What a source answers is returned as
// it is, even when it is older (an OCSP responder may serve pre-produced responses; a CRL is published on its
// schedule): the verifier then says TRY_LATER, and extending again later helps.
func IssuedAfter(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, issuedAfterKey{}, t)
}

// cachedSince is cached, without the entries issued before the context's IssuedAfter time.
func (f *Fetcher) cachedSince(ctx context.Context, key string) (cacheEntry, bool) {
	e, ok := f.cached(key)
	if t, set := ctx.Value(issuedAfterKey{}).(time.Time); ok && set && e.issued.Before(t) {
		return cacheEntry{}, false
	}
	return e, ok
}
