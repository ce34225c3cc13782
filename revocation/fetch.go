package revocation

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/digitorus/pkcs7"
)

// Defaults of the Fetcher's bounds.
const (
	// DefaultFetchTimeout bounds each HTTP request (connection, redirects and body).
	DefaultFetchTimeout = 10 * time.Second
	// DefaultMaxBytes bounds each OCSP response and CRL (a CRL may be large).
	DefaultMaxBytes = 10 << 20
	// DefaultMaxURLs bounds the URLs fetched for one certificate: OCSP and CRL URLs for its status, and caIssuers
	// URLs for its issuer, each counted on its own.
	DefaultMaxURLs = 4
	// DefaultCacheTTL is how long an answer without nextUpdate (and a certificate fetched from caIssuers) is reused.
	DefaultCacheTTL = 5 * time.Minute
	// DefaultCacheEntries bounds the cache.
	DefaultCacheEntries = 1024
)

const (
	maxCertBytes = 1 << 20 // a caIssuers file: one certificate or a small PKCS#7 bag
	maxChainLen  = 8
	maxRedirects = 5
	// clockSkew is how far in the future an answer's thisUpdate may lie (the responder's clock running ahead).
	clockSkew = 5 * time.Minute
)

// Errors of Collect, each wrapped with the URL and the certificate it concerns (test them with errors.Is).
var (
	// ErrURLRefused: a URL that is not http or https (ldap, file, ...), has no host, or that AllowURL refused.
	ErrURLRefused = errors.New("revocation: URL not fetched")
	// ErrHTTPStatus: the server answered with another status than 200.
	ErrHTTPStatus = errors.New("revocation: HTTP error")
	// ErrAnswerTooLarge: the answer is larger than MaxBytes.
	ErrAnswerTooLarge = errors.New("revocation: answer too large")
	// ErrAnswerMalformed: the answer does not parse as an OCSP response, a CRL or certificates.
	ErrAnswerMalformed = errors.New("revocation: malformed answer")
	// ErrResponderStatus: the OCSP responder answered with an error status (malformedRequest, tryLater, ...).
	ErrResponderStatus = errors.New("revocation: OCSP responder refused")
	// ErrAnswerSignature: the answer is not signed by the certificate's issuer nor by a responder the issuer
	// delegated (id-kp-OCSPSigning, valid now).
	ErrAnswerSignature = errors.New("revocation: answer not signed by the issuer or its delegate")
	// ErrAnswerWrongCert: the answer is about another certificate: another serial or issuer, or a CRL whose scope
	// does not cover the certificate.
	ErrAnswerWrongCert = errors.New("revocation: answer about another certificate")
	// ErrAnswerUnknown: the OCSP responder does not know the certificate.
	ErrAnswerUnknown = errors.New("revocation: OCSP status unknown")
	// ErrAnswerStale: the answer's nextUpdate has passed.
	ErrAnswerStale = errors.New("revocation: answer expired (nextUpdate passed)")
	// ErrAnswerNotYetValid: the answer's thisUpdate lies in the future.
	ErrAnswerNotYetValid = errors.New("revocation: answer not yet valid (thisUpdate in the future)")
	// ErrIssuerMissing: the certificate's issuer is neither given nor fetchable from its caIssuers URLs.
	ErrIssuerMissing = errors.New("revocation: issuer certificate not found")
)

// CertError is Collect's failure for one certificate: its issuer could not be found, or every source of its status
// failed. Err joins each failure (errors.Join), each naming its URL.
type CertError struct {
	Cert *x509.Certificate
	Err  error
}

func (e *CertError) Error() string {
	msg := e.Err.Error()
	if j, ok := e.Err.(interface{ Unwrap() []error }); ok {
		parts := make([]string, 0, len(j.Unwrap()))
		for _, err := range j.Unwrap() {
			parts = append(parts, err.Error())
		}
		msg = strings.Join(parts, "; ")
	}
	return "revocation: no status for " + describe(e.Cert) + ": " + msg
}

func (e *CertError) Unwrap() error { return e.Err }

func describe(c *x509.Certificate) string {
	name := c.Subject.CommonName
	if name == "" {
		name = c.Subject.String()
	}
	return fmt.Sprintf("%q (serial %x)", name, c.SerialNumber)
}

// Fetcher retrieves validation data over HTTP from the URLs the certificates name. The zero value is usable; a
// Fetcher is safe for concurrent use and must not be copied after first use (it holds its cache).
type Fetcher struct {
	// Client makes the requests (http.DefaultClient's transport when nil). Redirects are followed at most 5 times
	// and only to http and https URLs that AllowURL accepts, whatever Client.CheckRedirect says.
	Client *http.Client
	// Timeout bounds each request (DefaultFetchTimeout when zero).
	Timeout time.Duration
	// MaxBytes bounds each answer (DefaultMaxBytes when zero); a caIssuers answer is bounded to 1 MiB as well.
	MaxBytes int64
	// MaxURLs bounds the URLs tried for one certificate (DefaultMaxURLs when zero).
	MaxURLs int
	// Certificates help build chains (intermediates, roots); certificates named by AIA caIssuers are fetched
	// when a chain cannot be built from them.
	Certificates []*x509.Certificate
	// Now returns the current time (time.Now when nil); cached answers are used until their nextUpdate.
	Now func() time.Time
	// CacheTTL is how long an answer without nextUpdate is reused (DefaultCacheTTL when zero).
	CacheTTL time.Duration
	// CacheEntries bounds the cache (DefaultCacheEntries when zero; negative disables it).
	CacheEntries int
	// AllowURL, when set, vets every URL before it is fetched (redirect targets included), for example to refuse
	// private addresses when the certificates come from untrusted files. An error refuses the URL.
	AllowURL func(*url.URL) error

	mu    sync.Mutex
	cache map[string]cacheEntry
}

// Collect is a Source: the chains of certs and the revocation data of each certificate in them below the root.
//
// For each certificate it builds the chain up to a self-signed root from certs, f.Certificates and, when an
// issuer is missing, the certificates its AIA caIssuers URLs serve (DER, PEM or PKCS#7 certs-only). For each
// certificate of a chain below the root it asks the AIA OCSP responders (POST, no nonce) and, when none gives a
// usable answer, fetches the CRLs of its http(s) distribution points; the first usable answer is kept. An answer is
// usable when it is about this certificate, signed by its issuer (for OCSP, or by a responder certificate the
// issuer issued with id-kp-OCSPSigning), its thisUpdate is not in the future and its nextUpdate has not passed.
// Good, revoked and on-hold answers are all kept: judging them is Check's work. A certificate carrying
// id-pkix-ocsp-nocheck needs no status; one with neither OCSP nor CRL URLs has nothing to fetch.
//
// The result holds the chain certificates not in certs (the root included) and the DER answers, each once. The
// error joins a *CertError for each certificate whose every source failed, or which has OCSP or CRL URLs but whose
// issuer could not be found (a chain stopping short of a root is otherwise no error: the root may be a local trust
// anchor); Collect then returns what it got alongside.
func (f *Fetcher) Collect(ctx context.Context, certs []*x509.Certificate) (Data, error) {
	var out Data
	input := map[string]bool{}
	for _, c := range certs {
		input[string(c.Raw)] = true
	}
	pool := append(append([]*x509.Certificate(nil), certs...), f.Certificates...)
	listed := map[string]bool{}
	queued := map[string]bool{}
	type job struct{ cert, issuer *x509.Certificate }
	var jobs []job
	var errs []error
	for _, c := range certs {
		chain, chainErr := f.chain(ctx, c, &pool)
		for _, cc := range chain[1:] {
			if k := string(cc.Raw); !input[k] && !listed[k] {
				listed[k] = true
				out.Certificates = append(out.Certificates, cc)
			}
		}
		for i, cc := range chain {
			if selfSigned(cc) || queued[string(cc.Raw)] {
				break
			}
			queued[string(cc.Raw)] = true
			if i+1 < len(chain) {
				jobs = append(jobs, job{cc, chain[i+1]})
			} else if NeedsStatus(cc) {
				errs = append(errs, &CertError{Cert: cc, Err: chainErr})
			}
		}
	}

	type result struct {
		ocsp, crl []byte
		err       error
	}
	results := make([]result, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Go(func() {
			r := &results[i]
			r.ocsp, r.crl, r.err = f.status(ctx, j.cert, j.issuer)
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
		}
		if r.ocsp != nil && !seen[string(r.ocsp)] {
			seen[string(r.ocsp)] = true
			out.OCSP = append(out.OCSP, r.ocsp)
		}
		if r.crl != nil && !seen[string(r.crl)] {
			seen[string(r.crl)] = true
			out.CRLs = append(out.CRLs, r.crl)
		}
	}
	return out, errors.Join(errs...)
}

// chain returns c and its issuers up to a self-signed certificate, as far as they can be found; the error says
// why it stops short of a root. Certificates fetched from caIssuers join pool.
func (f *Fetcher) chain(ctx context.Context, c *x509.Certificate,
	pool *[]*x509.Certificate) ([]*x509.Certificate, error) {
	chain := []*x509.Certificate{c}
	for len(chain) < maxChainLen {
		cur := chain[len(chain)-1]
		if selfSigned(cur) {
			return chain, nil
		}
		issuer := findIssuer(cur, *pool, chain)
		if issuer == nil {
			fetched, err := f.fetchIssuer(ctx, cur)
			*pool = append(*pool, fetched...)
			if issuer = findIssuer(cur, fetched, chain); issuer == nil {
				if err == nil {
					err = fmt.Errorf("%w: no caIssuers URL serves it", ErrIssuerMissing)
				}
				return chain, fmt.Errorf("%w: %w", ErrIssuerMissing, err)
			}
		}
		chain = append(chain, issuer)
	}
	return chain, fmt.Errorf("%w: chain longer than %d certificates", ErrIssuerMissing, maxChainLen)
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawSubject, c.RawIssuer) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// findIssuer returns the candidate that issued c (name and signature), preferring one whose subject key
// identifier matches c's authority key identifier; certificates already in the chain are skipped (loops).
func findIssuer(c *x509.Certificate, candidates, chain []*x509.Certificate) *x509.Certificate {
	var found *x509.Certificate
	for _, cand := range candidates {
		if !bytes.Equal(cand.RawSubject, c.RawIssuer) || contains(chain, cand) || c.CheckSignatureFrom(cand) != nil {
			continue
		}
		if len(c.AuthorityKeyId) > 0 && bytes.Equal(c.AuthorityKeyId, cand.SubjectKeyId) {
			return cand
		}
		if found == nil {
			found = cand
		}
	}
	return found
}

func contains(certs []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range certs {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}

// fetchIssuer fetches the certificates c's caIssuers URLs serve, stopping at the first that holds c's issuer.
func (f *Fetcher) fetchIssuer(ctx context.Context, c *x509.Certificate) ([]*x509.Certificate, error) {
	var all []*x509.Certificate
	var errs []error
	tried := 0
	for _, u := range c.IssuingCertificateURL {
		if tried >= f.maxURLs() {
			break
		}
		if err := f.allowed(u); err != nil {
			errs = append(errs, fmt.Errorf("caIssuers %s: %w", u, err))
			continue
		}
		tried++
		certs, err := f.issuerCerts(ctx, u)
		if err != nil {
			errs = append(errs, fmt.Errorf("caIssuers %s: %w", u, err))
			continue
		}
		all = append(all, certs...)
		if findIssuer(c, certs, []*x509.Certificate{c}) != nil {
			return all, nil
		}
	}
	return all, errors.Join(errs...)
}

func (f *Fetcher) issuerCerts(ctx context.Context, u string) ([]*x509.Certificate, error) {
	key := "certs " + u
	if e, ok := f.cached(key); ok {
		return e.certs, nil
	}
	body, err := f.fetch(ctx, http.MethodGet, u, nil, min(f.maxBytes(), maxCertBytes))
	if err != nil {
		return nil, err
	}
	certs, err := parseCerts(body)
	if err != nil {
		return nil, err
	}
	f.remember(key, cacheEntry{certs: certs, expires: f.now().Add(f.cacheTTL())})
	return certs, nil
}

// parseCerts reads a caIssuers answer: one DER certificate, PEM certificates or a PKCS#7 certs-only bag.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	if c, err := x509.ParseCertificate(b); err == nil {
		return []*x509.Certificate{c}, nil
	}
	var certs []*x509.Certificate
	for rest := b; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrAnswerMalformed, err)
		}
		certs = append(certs, c)
	}
	if len(certs) > 0 {
		return certs, nil
	}
	p7, err := pkcs7.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: neither a certificate nor PKCS#7: %w", ErrAnswerMalformed, err)
	}
	if len(p7.Certificates) == 0 {
		return nil, fmt.Errorf("%w: PKCS#7 without certificates", ErrAnswerMalformed)
	}
	return p7.Certificates, nil
}

// status returns the first usable OCSP response or CRL for cert; no pointers, or id-pkix-ocsp-nocheck, give
// nothing and no error.
func (f *Fetcher) status(ctx context.Context, cert, issuer *x509.Certificate) (ocspDER, crlDER []byte, err error) {
	if !NeedsStatus(cert) {
		return nil, nil, nil
	}
	// A cached answer from any source first, so that a failing responder is not asked again while a CRL holds.
	if len(cert.OCSPServer) > 0 {
		if e, ok := f.cachedSince(ctx, ocspKey(issuer, cert.SerialNumber)); ok {
			return e.der, nil, nil
		}
	}
	for _, u := range cert.CRLDistributionPoints {
		if der := f.cachedCRL(ctx, u, cert, issuer); der != nil {
			return nil, der, nil
		}
	}
	var errs []error
	tried := 0
	skipped := 0
	try := func(kind, u string, get func(string) ([]byte, error)) []byte {
		if tried >= f.maxURLs() {
			skipped++
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := f.allowed(u); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", kind, u, err))
			return nil
		}
		tried++
		der, err := get(u)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", kind, u, err))
		}
		return der
	}
	for _, u := range cert.OCSPServer {
		if der := try("OCSP", u, func(u string) ([]byte, error) { return f.ocsp(ctx, u, cert, issuer) }); der != nil {
			return der, nil, nil
		}
	}
	for _, u := range cert.CRLDistributionPoints {
		if der := try("CRL", u, func(u string) ([]byte, error) { return f.crl(ctx, u, cert, issuer) }); der != nil {
			return nil, der, nil
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	if skipped > 0 {
		errs = append(errs, fmt.Errorf("%d more URLs not tried (at most %d per certificate)", skipped, f.maxURLs()))
	}
	return nil, nil, &CertError{Cert: cert, Err: errors.Join(errs...)}
}

// allowed vets a URL before it is fetched.
func (f *Fetcher) allowed(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrURLRefused, err)
	}
	return f.allowedURL(u)
}

func (f *Fetcher) allowedURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: scheme %q (only http and https)", ErrURLRefused, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("%w: no host", ErrURLRefused)
	}
	if f.AllowURL != nil {
		if err := f.AllowURL(u); err != nil {
			return fmt.Errorf("%w: %w", ErrURLRefused, err)
		}
	}
	return nil
}

// fetch makes one bounded request (GET when body is nil, else an OCSP POST) and returns the body of a 200 answer.
func (f *Fetcher) fetch(ctx context.Context, method, u string, body []byte, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrURLRefused, err)
	}
	req.Header.Set("User-Agent", "trustsign")
	if body != nil {
		req.Header.Set("Content-Type", "application/ocsp-request")
		req.Header.Set("Accept", "application/ocsp-response")
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s", ErrHTTPStatus, resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes announced, at most %d", ErrAnswerTooLarge, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrAnswerTooLarge, limit)
	}
	return b, nil
}

// client is f.Client (or a client on the default transport) whose redirects are bounded and vetted.
func (f *Fetcher) client() *http.Client {
	var c http.Client
	if f.Client != nil {
		c = *f.Client
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if err := f.allowedURL(req.URL); err != nil {
			return err
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fetcher) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return DefaultFetchTimeout
}

func (f *Fetcher) maxBytes() int64 {
	if f.MaxBytes > 0 {
		return f.MaxBytes
	}
	return DefaultMaxBytes
}

func (f *Fetcher) maxURLs() int {
	if f.MaxURLs > 0 {
		return f.MaxURLs
	}
	return DefaultMaxURLs
}

func (f *Fetcher) cacheTTL() time.Duration {
	if f.CacheTTL > 0 {
		return f.CacheTTL
	}
	return DefaultCacheTTL
}

// ErrNotImplemented was the skeleton's answer; nothing in this package returns it any more.
var ErrNotImplemented = errors.New("revocation: not implemented yet")
