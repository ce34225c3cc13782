// Package tsa is an RFC 3161 time-stamp client and token verifier: Client.Stamp asks one of several time-stamping
// authorities for a token over a message imprint (with failover and bounded time-outs) and checks the answer before
// handing it out; Verify checks a token found in a signature (its own signature, the imprint, the TSA certificate's
// critical id-kp-timeStamping EKU and its chain at the token's time).
//
// It is not a TSA (the test TSA lives in internal/testpki; `trustsign tsa` serves a development one) and does not
// fetch revocation data for the TSA's chain. The ASN.1 is github.com/digitorus/timestamp's; the checks are ours.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // ESS signing-certificate (v1) names the certificate by its SHA-1 hash
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// Errors returned by Stamp and Verify, wrapped with details; test them with errors.Is.
var (
	// ErrUnavailable: no TSA gave an answer (network error, time-out, HTTP error, oversized body).
	ErrUnavailable = errors.New("tsa: no time-stamping authority answered")
	// ErrRejected: the TSA answered with a status other than granted.
	ErrRejected = errors.New("tsa: time-stamp request rejected")
	// ErrMalformed: the answer or token is not a well-formed RFC 3161 response or token.
	ErrMalformed = errors.New("tsa: malformed time-stamp")
	// ErrMismatch: the token is over another imprint, hash algorithm or nonce than asked.
	ErrMismatch = errors.New("tsa: time-stamp does not match the request")
	// ErrSignature: the token's own signature or its signing-certificate attribute does not verify.
	ErrSignature = errors.New("tsa: time-stamp signature invalid")
	// ErrCertificate: the TSA certificate is missing, not a time-stamping certificate, out of its validity or not
	// chained to the trusted roots.
	ErrCertificate = errors.New("tsa: time-stamping certificate not acceptable")
)

// MaxResponseSize bounds the body read from a TSA.
const MaxResponseSize = 1 << 20

// DefaultTimeout is the per-TSA time-out when Client.Timeout is zero.
const DefaultTimeout = 10 * time.Second

var (
	oidExtKeyUsage        = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidSigningCertificate = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidSigningCertV2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512             = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// Token is a checked time-stamp token.
type Token struct {
	// DER is the TimeStampToken (a CMS ContentInfo), as embedded in signatures.
	DER []byte
	// Time is the TSA's genTime.
	Time time.Time
	// Serial is the token's serial number.
	Serial *big.Int
	// Policy is the TSA policy the token was issued under.
	Policy asn1.ObjectIdentifier
	// Certificate is the TSA certificate that signed the token.
	Certificate *x509.Certificate
	// Accuracy is the TSA's stated accuracy (zero when absent).
	Accuracy time.Duration
}

// Client asks RFC 3161 TSAs for time-stamps. The zero value is not usable: URLs must hold at least one TSA.
type Client struct {
	// URLs are the TSAs, tried in order until one gives an acceptable token.
	URLs []string
	// Hash is the imprint's hash algorithm; zero means SHA-256.
	Hash crypto.Hash
	// Timeout bounds each TSA's exchange; zero means DefaultTimeout.
	Timeout time.Duration
	// HTTP is the HTTP client; nil means a client without redirects.
	HTTP *http.Client
	// Roots, when set, are the trust anchors the TSA certificate must chain to (now and at the token's time);
	// Intermediates helps build that chain besides the token's own certificates.
	Roots, Intermediates *x509.CertPool
}

// VerifyOptions are a verifier's trust settings for Verify.
type VerifyOptions struct {
	// Roots are the trust anchors for the TSA certificate; nil means the system roots.
	Roots *x509.CertPool
	// Intermediates helps build the TSA's chain besides the token's own certificates.
	Intermediates *x509.CertPool
	// At is when the chain must be valid; zero means at the token's time.
	At time.Time
}

// Stamp asks the TSAs in order for a token over imprint (a digest made with c.Hash) and returns the first that
// passes every check: granted status, our random nonce, our imprint and hash algorithm, a valid signature by a
// certificate whose only EKU is a critical id-kp-timeStamping, valid now and at the token's time and, when Roots is
// set, chained to them. The error of the last TSA tried is returned when none does.
func (c *Client) Stamp(ctx context.Context, imprint []byte) (*Token, error) {
	if len(c.URLs) == 0 {
		return nil, fmt.Errorf("%w: no TSA URL configured", ErrUnavailable)
	}
	h := c.hash()
	if !h.Available() || len(imprint) != h.Size() {
		return nil, fmt.Errorf("%w: imprint of %d bytes for %v", ErrMismatch, len(imprint), h)
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, fmt.Errorf("tsa: nonce: %w", err)
	}
	req, err := (&timestamp.Request{HashAlgorithm: h, HashedMessage: imprint, Certificates: true, Nonce: nonce}).Marshal()
	if err != nil {
		return nil, fmt.Errorf("tsa: request: %w", err)
	}
	var errs []error
	for _, u := range c.URLs {
		tok, err := c.stampOne(ctx, u, req, imprint, h, nonce)
		if err == nil {
			return tok, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", u, err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, joinedError(errs)
}

// joinedError is every TSA's failure on one line (errors.Is sees each).
type joinedError []error

func (e joinedError) Error() string {
	parts := make([]string, len(e))
	for i, err := range e {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

func (e joinedError) Unwrap() []error { return e }

func (c *Client) hash() crypto.Hash {
	if c.Hash == 0 {
		return crypto.SHA256
	}
	return c.Hash
}

func (c *Client) stampOne(ctx context.Context, url string, req, imprint []byte, h crypto.Hash, nonce *big.Int) (*Token, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := c.post(ctx, url, req)
	if err != nil {
		return nil, err
	}
	der, err := tokenFromResponse(body)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tok, ts, err := verify(der, imprint, h, c.Roots != nil, c.Roots, c.Intermediates, now)
	if err != nil {
		return nil, err
	}
	if ts.Nonce == nil || ts.Nonce.Cmp(nonce) != 0 {
		return nil, fmt.Errorf("%w: nonce %v, want %v", ErrMismatch, ts.Nonce, nonce)
	}
	if c.Roots == nil { // the chain check covered the validity window otherwise
		cert := tok.Certificate
		if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
			return nil, fmt.Errorf("%w: TSA certificate valid %v to %v", ErrCertificate, cert.NotBefore, cert.NotAfter)
		}
	}
	return tok, nil
}

func (c *Client) post(ctx context.Context, url string, req []byte) ([]byte, error) {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hr.Header.Set("Accept", "application/timestamp-reply")
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP %s", ErrUnavailable, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/timestamp-re") {
		return nil, fmt.Errorf("%w: content type %q", ErrMalformed, ct)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if len(body) > MaxResponseSize {
		return nil, fmt.Errorf("%w: answer over %d bytes", ErrUnavailable, MaxResponseSize)
	}
	return body, nil
}

// timeStampResp is RFC 3161 TimeStampResp.
type timeStampResp struct {
	Status struct {
		Status       int
		StatusString []asn1.RawValue `asn1:"optional"`
		FailInfo     asn1.BitString  `asn1:"optional"`
	}
	TimeStampToken asn1.RawValue `asn1:"optional"`
}

func tokenFromResponse(body []byte) ([]byte, error) {
	var resp timeStampResp
	rest, err := asn1.Unmarshal(body, &resp)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: trailing bytes after the response", ErrMalformed)
	}
	if s := timestamp.Status(resp.Status.Status); s != timestamp.Granted && s != timestamp.GrantedWithMods {
		return nil, fmt.Errorf("%w: status %v", ErrRejected, s)
	}
	if len(resp.TimeStampToken.FullBytes) == 0 {
		return nil, fmt.Errorf("%w: granted without a token", ErrMalformed)
	}
	return resp.TimeStampToken.FullBytes, nil
}

// Verify checks a TimeStampToken found in a signature: it must be over imprint made with hash, carry the TSA
// certificate, be signed by it (with a signing-certificate attribute naming it), that certificate's only EKU must be
// a critical id-kp-timeStamping, and it must chain to o.Roots at o.At (the token's time when zero).
func Verify(der []byte, imprint []byte, hash crypto.Hash, o VerifyOptions) (*Token, error) {
	tok, _, err := verify(der, imprint, hash, true, o.Roots, o.Intermediates, o.At)
	return tok, err
}

// verify checks a token; chain says whether to build the TSA certificate's chain to roots (nil: the system roots).
func verify(der, imprint []byte, hash crypto.Hash, chain bool, roots, inter *x509.CertPool, at time.Time) (*Token, *timestamp.Timestamp, error) {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(p7.Signers) != 1 {
		return nil, nil, fmt.Errorf("%w: %d signers, want 1", ErrMalformed, len(p7.Signers))
	}
	cert := p7.GetOnlySigner()
	if cert == nil {
		return nil, nil, fmt.Errorf("%w: the token carries no TSA certificate", ErrCertificate)
	}
	if err := checkEKU(cert); err != nil {
		return nil, nil, err
	}
	if err := p7.Verify(); err != nil {
		if strings.Contains(err.Error(), "outside of certificate validity") { // pkcs7 checks signingTime
			return nil, nil, fmt.Errorf("%w: %w", ErrCertificate, err)
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	ts, err := timestamp.Parse(der) // the TSTInfo; it checks the signature again
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := checkSigningCertificate(p7, cert); err != nil {
		return nil, nil, err
	}
	if ts.HashAlgorithm != hash {
		return nil, nil, fmt.Errorf("%w: imprint hash %v, want %v", ErrMismatch, ts.HashAlgorithm, hash)
	}
	if !bytes.Equal(ts.HashedMessage, imprint) {
		return nil, nil, fmt.Errorf("%w: imprint differs", ErrMismatch)
	}
	if ts.Time.Before(cert.NotBefore) || ts.Time.After(cert.NotAfter) {
		return nil, nil, fmt.Errorf("%w: token time %v outside the TSA certificate's validity", ErrCertificate, ts.Time)
	}
	tok := &Token{
		DER: der, Time: ts.Time, Serial: ts.SerialNumber, Policy: ts.Policy,
		Certificate: cert, Accuracy: ts.Accuracy,
	}
	if !chain {
		return tok, ts, nil
	}
	if at.IsZero() {
		at = ts.Time
	}
	pool := x509.NewCertPool()
	if inter != nil {
		pool = inter.Clone()
	}
	for _, c := range p7.Certificates {
		if c != cert {
			pool.AddCert(c)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: pool, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCertificate, err)
	}
	return tok, ts, nil
}

// checkEKU requires the extended key usage extension to be critical and to hold id-kp-timeStamping only
// (RFC 3161 2.3).
func checkEKU(cert *x509.Certificate) error {
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidExtKeyUsage) {
			if !e.Critical {
				return fmt.Errorf("%w: extended key usage not critical", ErrCertificate)
			}
			if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(cert.UnknownExtKeyUsage) > 0 {
				return fmt.Errorf("%w: extended key usage is not id-kp-timeStamping alone", ErrCertificate)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: no extended key usage", ErrCertificate)
}

// checkSigningCertificate requires the ESS signing-certificate(-v2) signed attribute and its first entry to name
// the signer's certificate (RFC 3161 2.4.1, RFC 5816), so the certificate cannot be swapped for another with the
// same key.
func checkSigningCertificate(p7 *pkcs7.PKCS7, cert *x509.Certificate) error {
	var v2 struct {
		Certs []asn1.RawValue
		Rest  asn1.RawValue `asn1:"optional"`
	}
	if err := p7.UnmarshalSignedAttribute(oidSigningCertV2, &v2); err == nil && len(v2.Certs) > 0 {
		var id []asn1.RawValue
		if _, err := asn1.Unmarshal(v2.Certs[0].FullBytes, &id); err != nil || len(id) == 0 {
			return fmt.Errorf("%w: malformed ESSCertIDv2", ErrSignature)
		}
		h, i := crypto.SHA256, 0
		if id[0].Tag == asn1.TagSequence { // hashAlgorithm present (DEFAULT sha256)
			var alg pkix.AlgorithmIdentifier
			if _, err := asn1.Unmarshal(id[0].FullBytes, &alg); err != nil {
				return fmt.Errorf("%w: malformed ESSCertIDv2 algorithm", ErrSignature)
			}
			switch {
			case alg.Algorithm.Equal(oidSHA256):
			case alg.Algorithm.Equal(oidSHA384):
				h = crypto.SHA384
			case alg.Algorithm.Equal(oidSHA512):
				h = crypto.SHA512
			default:
				return fmt.Errorf("%w: ESSCertIDv2 hash %v not supported", ErrSignature, alg.Algorithm)
			}
			i = 1
		}
		if len(id) <= i || id[i].Tag != asn1.TagOctetString {
			return fmt.Errorf("%w: malformed ESSCertIDv2 hash", ErrSignature)
		}
		d := h.New()
		d.Write(cert.Raw)
		if !bytes.Equal(d.Sum(nil), id[i].Bytes) {
			return fmt.Errorf("%w: signing-certificate-v2 names another certificate", ErrSignature)
		}
		return nil
	}
	var v1 struct {
		Certs []struct {
			CertHash []byte
			Rest     asn1.RawValue `asn1:"optional"`
		}
		Rest asn1.RawValue `asn1:"optional"`
	}
	if err := p7.UnmarshalSignedAttribute(oidSigningCertificate, &v1); err == nil && len(v1.Certs) > 0 {
		sum := sha1.Sum(cert.Raw) //nolint:gosec // ESS v1 is defined over SHA-1
		if !bytes.Equal(sum[:], v1.Certs[0].CertHash) {
			return fmt.Errorf("%w: signing-certificate names another certificate", ErrSignature)
		}
		return nil
	}
	return fmt.Errorf("%w: no signing-certificate attribute", ErrSignature)
}

// VerifyData is Verify for a token over a digest of data made with the token's own imprint algorithm (SHA-256,
// SHA-384 or SHA-512; others are refused), as signature formats use time-stamps: the verifier recomputes the
// imprint from the time-stamped data.
func VerifyData(der, data []byte, o VerifyOptions) (*Token, error) {
	h := crypto.SHA256
	if ts, err := timestamp.Parse(der); err == nil {
		h = ts.HashAlgorithm
	}
	switch h {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
	default:
		return nil, fmt.Errorf("%w: imprint hash %v not accepted", ErrMismatch, h)
	}
	d := h.New()
	d.Write(data)
	return Verify(der, d.Sum(nil), h, o)
}
