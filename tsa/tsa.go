// Package tsa is an RFC 3161 time-stamp client and token verifier: Client.Stamp asks one of several time-stamping
// authorities for a token over a message imprint (with failover and bounded time-outs) and checks the answer before
// handing it out; Verify checks a token found in a signature (its own signature, the imprint, the TSA certificate's
// critical id-kp-timeStamping EKU and its chain at the token's time).
//
// It is not a TSA (tsa/devtsa is a development one, served by `trustsign tsa` and the test PKI) and does not fetch
// revocation data for the TSA's chain. Requests are github.com/digitorus/timestamp's; tokens are read by package
// cms, the parser the verifier uses, so a token accepted when signing is one the verifier reads.
package tsa

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/trustsign/trustsign/cms"
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
	oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}
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
	// HTTP is the HTTP client; nil means a shared client without redirects that keeps up to 64 idle keep-alive
	// connections per TSA.
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
		hc = defaultHTTP
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

// defaultHTTP is the HTTP client of every Client without one: no redirects, and keep-alive connections kept for
// as many seals as a service makes at once (http.DefaultTransport keeps 2 per host, so a third concurrent seal would
// open, and then close, a connection of its own every time).
var defaultHTTP = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Transport: func() http.RoundTripper {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 64
		return t
	}(),
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
// The token is parsed once, by the repository's DER CMS reader (package cms), and its signature checked once: the
// client runs this for every seal a B-T service makes, so it is on the signing path's budget.
func verify(der, imprint []byte, hash crypto.Hash, chain bool, roots, inter *x509.CertPool, at time.Time) (*Token, *cms.TSTInfo, error) {
	ts, err := cms.ParseTimeStamp(der)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(ts.SignedData.SignerInfos) != 1 {
		return nil, nil, fmt.Errorf("%w: %d signers, want 1", ErrMalformed, len(ts.SignedData.SignerInfos))
	}
	cert, err := ts.SignedData.SignerCertificate()
	if err != nil || cert == nil {
		return nil, nil, fmt.Errorf("%w: the token carries no TSA certificate", ErrCertificate)
	}
	if err := checkEKU(cert); err != nil {
		return nil, nil, err
	}
	if _, err := ts.VerifySignature(); err != nil {
		if errors.Is(err, cms.ErrTimeStampSigner) {
			return nil, nil, fmt.Errorf("%w: %w", ErrCertificate, err)
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrSignature, err)
	}
	info := &ts.Info
	if info.HashAlgorithm != hash {
		return nil, nil, fmt.Errorf("%w: imprint hash %v, want %v", ErrMismatch, info.HashAlgorithmOID, hash)
	}
	if !bytes.Equal(info.HashedMessage, imprint) {
		return nil, nil, fmt.Errorf("%w: imprint differs", ErrMismatch)
	}
	if info.GenTime.Before(cert.NotBefore) || info.GenTime.After(cert.NotAfter) {
		return nil, nil, fmt.Errorf("%w: token time %v outside the TSA certificate's validity", ErrCertificate, info.GenTime)
	}
	tok := &Token{
		DER: der, Time: info.GenTime, Serial: info.SerialNumber, Policy: info.Policy,
		Certificate: cert, Accuracy: info.Accuracy,
	}
	if !chain {
		return tok, info, nil
	}
	if at.IsZero() {
		at = info.GenTime
	}
	pool := x509.NewCertPool()
	if inter != nil {
		pool = inter.Clone()
	}
	for _, c := range ts.SignedData.Certificates {
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
	return tok, info, nil
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

// VerifyData is Verify for a token over a digest of data made with the token's own imprint algorithm (SHA-256,
// SHA-384 or SHA-512; others are refused), as signature formats use time-stamps: the verifier recomputes the
// imprint from the time-stamped data.
func VerifyData(der, data []byte, o VerifyOptions) (*Token, error) {
	h := crypto.SHA256
	if ts, err := cms.ParseTimeStamp(der); err == nil {
		h = ts.Info.HashAlgorithm
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
