package revocation

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

var (
	oidOCSPNoCheck       = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	oidOCSPBasic         = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}
	oidCRLNumber         = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDistPoint  = asn1.ObjectIdentifier{2, 5, 29, 28}
	oidAuthorityKeyID    = asn1.ObjectIdentifier{2, 5, 29, 35}
	ocspCertIDHashes     = map[string]crypto.Hash{"1.3.14.3.2.26": crypto.SHA1,
		"2.16.840.1.101.3.4.2.1": crypto.SHA256, "2.16.840.1.101.3.4.2.2": crypto.SHA384,
		"2.16.840.1.101.3.4.2.3": crypto.SHA512}
	errNoSingleResponse    = fmt.Errorf("%w: no status for this serial number and issuer", ErrAnswerWrongCert)
	errFirstForOtherIssuer = fmt.Errorf("%w: the first status for this serial number names another issuer",
		ErrAnswerWrongCert)
)

// noCheck reports whether c carries id-pkix-ocsp-nocheck (an OCSP responder's certificate: trusted for its
// lifetime, no status needed).
func noCheck(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oidOCSPNoCheck) {
			return true
		}
	}
	return false
}

// ocsp asks the responder at u about cert (or takes the cached answer) and returns a checked DER OCSPResponse.
func (f *Fetcher) ocsp(ctx context.Context, u string, cert, issuer *x509.Certificate) ([]byte, error) {
	req, err := ocsp.CreateRequest(cert, issuer, nil) // SHA-1 CertID: what every responder understands
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	key := ocspKey(issuer, cert.SerialNumber)
	if e, ok := f.cached(key); ok {
		return e.der, nil
	}
	body, err := f.fetch(ctx, http.MethodPost, u, req, f.maxBytes())
	if err != nil {
		return nil, err
	}
	now := f.now()
	resp, err := checkOCSP(body, cert, issuer, now)
	if err != nil {
		return nil, err
	}
	f.remember(key, cacheEntry{der: body, expires: f.expiry(resp.NextUpdate, now)})
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

// The OCSP response down to each SingleResponse's CertID, which x/crypto/ocsp does not expose.
type (
	ocspResponseASN1 struct {
		Status   asn1.Enumerated
		Response struct {
			Type  asn1.ObjectIdentifier
			Bytes []byte
		} `asn1:"explicit,tag:0,optional"`
	}
	ocspBasicASN1 struct {
		TBS struct {
			Raw         asn1.RawContent
			Version     int `asn1:"optional,explicit,default:0,tag:0"`
			ResponderID asn1.RawValue
			ProducedAt  time.Time `asn1:"generalized"`
			Responses   []struct {
				CertID struct {
					Hash     pkix.AlgorithmIdentifier
					NameHash []byte
					KeyHash  []byte
					Serial   *big.Int
				} // the status, times and extensions that follow are x/crypto/ocsp's to read
			}
		}
	}
)

// checkOCSP parses a DER OCSPResponse and accepts it for cert when it is successful, about cert (serial and
// issuer hashes), signed by issuer or by its delegated responder valid at now, current at now, and not unknown.
func checkOCSP(der []byte, cert, issuer *x509.Certificate, now time.Time) (*ocsp.Response, error) {
	var outer ocspResponseASN1
	if rest, err := asn1.Unmarshal(der, &outer); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("%w: not an OCSP response", ErrAnswerMalformed)
	}
	if outer.Status != 0 {
		return nil, fmt.Errorf("%w: %v", ErrResponderStatus, ocsp.ResponseStatus(outer.Status))
	}
	if !outer.Response.Type.Equal(oidOCSPBasic) {
		return nil, fmt.Errorf("%w: response type %v", ErrAnswerMalformed, outer.Response.Type)
	}
	var basic ocspBasicASN1
	if _, err := asn1.Unmarshal(outer.Response.Bytes, &basic); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAnswerMalformed, err)
	}
	// x/crypto/ocsp takes the first SingleResponse with the serial: it must be the one naming our issuer.
	found := false
	for _, s := range basic.TBS.Responses {
		if s.CertID.Serial == nil || s.CertID.Serial.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		h, ok := ocspCertIDHashes[s.CertID.Hash.Algorithm.String()]
		if !ok || !h.Available() {
			return nil, fmt.Errorf("%w: CertID hash %v", ErrAnswerMalformed, s.CertID.Hash.Algorithm)
		}
		kh, nh := h.New(), h.New()
		kh.Write(spkiKey(issuer))
		nh.Write(issuer.RawSubject)
		if !bytes.Equal(kh.Sum(nil), s.CertID.KeyHash) || !bytes.Equal(nh.Sum(nil), s.CertID.NameHash) {
			return nil, errFirstForOtherIssuer
		}
		found = true
		break
	}
	if !found {
		return nil, errNoSingleResponse
	}

	resp, err := ocsp.ParseResponseForCert(der, cert, nil) // checks the signature of an embedded responder
	if err != nil {
		if strings.Contains(err.Error(), "signature") {
			return nil, fmt.Errorf("%w: %w", ErrAnswerSignature, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrAnswerMalformed, err)
	}
	switch r := resp.Certificate; {
	case r == nil:
		if err := resp.CheckSignatureFrom(issuer); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrAnswerSignature, err)
		}
	case bytes.Equal(r.Raw, issuer.Raw):
		// signed by the issuer itself (checked against the embedded copy)
	default:
		if err := r.CheckSignatureFrom(issuer); err != nil {
			return nil, fmt.Errorf("%w: responder %q not issued by %q: %w", ErrAnswerSignature,
				r.Subject.CommonName, issuer.Subject.CommonName, err)
		}
		if !hasEKU(r, x509.ExtKeyUsageOCSPSigning) {
			return nil, fmt.Errorf("%w: responder %q has no id-kp-OCSPSigning", ErrAnswerSignature, r.Subject.CommonName)
		}
		if now.Before(r.NotBefore) || now.After(r.NotAfter) {
			return nil, fmt.Errorf("%w: responder %q valid %v to %v", ErrAnswerSignature, r.Subject.CommonName,
				r.NotBefore, r.NotAfter)
		}
	}
	if err := current(resp.ThisUpdate, resp.NextUpdate, now); err != nil {
		return nil, err
	}
	if resp.Status == ocsp.Unknown {
		return nil, ErrAnswerUnknown
	}
	return resp, nil
}

func hasEKU(c *x509.Certificate, want x509.ExtKeyUsage) bool {
	for _, u := range c.ExtKeyUsage {
		if u == want {
			return true
		}
	}
	return false
}

// current checks an answer's validity window at now (a zero nextUpdate means none).
func current(thisUpdate, nextUpdate, now time.Time) error {
	if thisUpdate.After(now.Add(clockSkew)) {
		return fmt.Errorf("%w: thisUpdate %v", ErrAnswerNotYetValid, thisUpdate.UTC())
	}
	if !nextUpdate.IsZero() && !now.Before(nextUpdate) {
		return fmt.Errorf("%w: nextUpdate %v", ErrAnswerStale, nextUpdate.UTC())
	}
	return nil
}

// crl fetches the CRL at u (or takes the cached one) and returns it when it covers cert; see checkCRL.
func (f *Fetcher) crl(ctx context.Context, u string, cert, issuer *x509.Certificate) ([]byte, error) {
	if der := f.cachedCRL(u, cert, issuer); der != nil {
		return der, nil
	}
	body, err := f.fetch(ctx, http.MethodGet, u, nil, f.maxBytes())
	if err != nil {
		return nil, err
	}
	crl, err := x509.ParseRevocationList(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAnswerMalformed, err)
	}
	now := f.now()
	if err := checkCRL(crl, cert, issuer, now); err != nil {
		return nil, err
	}
	f.remember("crl "+u, cacheEntry{der: body, crl: crl, expires: f.expiry(crl.NextUpdate, now)})
	return body, nil
}

// cachedCRL returns the cached CRL from u when it is still valid and covers cert.
func (f *Fetcher) cachedCRL(u string, cert, issuer *x509.Certificate) []byte {
	if e, ok := f.cached("crl " + u); ok && checkCRL(e.crl, cert, issuer, f.now()) == nil {
		return e.der
	}
	return nil
}

// issuingDistributionPoint is RFC 5280's IssuingDistributionPoint, without the name.
type issuingDistributionPoint struct {
	DistributionPoint asn1.RawValue  `asn1:"optional,tag:0"`
	OnlyUser          bool           `asn1:"optional,tag:1"`
	OnlyCA            bool           `asn1:"optional,tag:2"`
	OnlySomeReasons   asn1.BitString `asn1:"optional,tag:3"`
	Indirect          bool           `asn1:"optional,tag:4"`
	OnlyAttribute     bool           `asn1:"optional,tag:5"`
}

// checkCRL accepts crl for cert when issuer issued and signed it, it is current at now, it is a complete CRL
// (not a delta) and its scope covers cert (no user/CA-only mismatch, no reason subset, not indirect).
func checkCRL(crl *x509.RevocationList, cert, issuer *x509.Certificate, now time.Time) error {
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return fmt.Errorf("%w: CRL issued by %q, not %q", ErrAnswerWrongCert, crl.Issuer.CommonName,
			issuer.Subject.CommonName)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return fmt.Errorf("%w: %w", ErrAnswerSignature, err)
	}
	for _, e := range crl.Extensions {
		switch {
		case e.Id.Equal(oidDeltaCRLIndicator):
			return fmt.Errorf("%w: a delta CRL", ErrAnswerWrongCert)
		case e.Id.Equal(oidIssuingDistPoint):
			var idp issuingDistributionPoint
			if rest, err := asn1.Unmarshal(e.Value, &idp); err != nil || len(rest) > 0 {
				return fmt.Errorf("%w: issuing distribution point", ErrAnswerMalformed)
			}
			if idp.OnlyUser && cert.IsCA || idp.OnlyCA && !cert.IsCA || idp.OnlySomeReasons.BitLength > 0 ||
				idp.Indirect || idp.OnlyAttribute {
				return fmt.Errorf("%w: the CRL's scope leaves the certificate out", ErrAnswerWrongCert)
			}
		case e.Id.Equal(oidCRLNumber), e.Id.Equal(oidAuthorityKeyID):
		case e.Critical:
			return fmt.Errorf("%w: unknown critical CRL extension %v", ErrAnswerMalformed, e.Id)
		}
	}
	return current(crl.ThisUpdate, crl.NextUpdate, now)
}

// expiry is when an answer with nextUpdate next, fetched at now, leaves the cache.
func (f *Fetcher) expiry(next, now time.Time) time.Time {
	if next.IsZero() {
		return now.Add(f.cacheTTL())
	}
	return next
}
