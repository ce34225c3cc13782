package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
)

// RevocationMode is a behaviour of the test OCSP responder and CRL server (see Responders). Each mode applies to
// one level of the hierarchy at a time: the leaves' status (answered by a delegated OCSP responder and the
// intermediate's CRL) or the intermediate's own status (answered by the root: OCSP signed by the root key and the
// root's CRL).
type RevocationMode int

// The test responders' behaviours: RevocationGood answers correctly; RevocationRevoked and RevocationUnknown answer
// correctly with another status; the others fail one way each.
const (
	// OCSP: good. CRL: signed by the issuer, listing only a serial that is none of ours.
	RevocationGood RevocationMode = iota
	// OCSP: revoked at Responders.RevokedAt (reason keyCompromise). CRL: lists every certificate the issuer
	// issued through the Responders (or the intermediate, on the root's CRL), revoked at RevokedAt.
	RevocationRevoked
	// OCSP: unknown (the responder does not know the certificate). CRL: HTTP 404.
	RevocationUnknown
	// Stale: status good, but thisUpdate two days and nextUpdate one day before the responders' clock.
	RevocationExpired
	// HTTP 500, no DER body.
	RevocationHTTP500
	// Answers only after the client gave up (or after 30 s, or when the Responders close).
	RevocationSlow
	// A body of random bytes with the right content type.
	RevocationGarbage
	// Signed by the Attacker key, which is neither the issuer's nor a delegate's: OCSP embeds the Attacker
	// certificate; the CRL names the real issuer.
	RevocationWrongSigner
	// OCSP: signed by a certificate the issuer did issue, but without id-kp-OCSPSigning. CRL: signed by that
	// certificate's key under the real issuer's name.
	RevocationNotDelegated
	// OCSP: a correctly signed good answer for another serial number. CRL: the other level's correctly signed CRL
	// (the root's CRL at the intermediate's URL and the other way round): valid, but from another issuer.
	RevocationWrongSerial
	// OCSP: responseStatus tryLater (no response bytes). CRL: HTTP 503.
	RevocationTryLater
	// thisUpdate one day after the responders' clock (a responder whose clock runs ahead), status good.
	RevocationNotYetValid
)

var revocationModeNames = map[RevocationMode]string{
	RevocationGood: "good", RevocationRevoked: "revoked", RevocationUnknown: "unknown",
	RevocationExpired: "expired", RevocationHTTP500: "http500", RevocationSlow: "slow",
	RevocationGarbage: "garbage", RevocationWrongSigner: "wrong-signer", RevocationNotDelegated: "not-delegated",
	RevocationWrongSerial: "wrong-serial", RevocationTryLater: "try-later", RevocationNotYetValid: "not-yet-valid",
}

func (m RevocationMode) String() string { return revocationModeNames[m] }

// RevocationModes lists every mode, for table tests.
func RevocationModes() []RevocationMode {
	return []RevocationMode{RevocationGood, RevocationRevoked, RevocationUnknown, RevocationExpired,
		RevocationHTTP500, RevocationSlow, RevocationGarbage, RevocationWrongSigner, RevocationNotDelegated,
		RevocationWrongSerial, RevocationTryLater, RevocationNotYetValid}
}

// RevocationURLs are the addresses of one Responders' running server (loopback, plain HTTP).
type RevocationURLs struct {
	// OCSP is the responder (POST, or GET with the base64 request appended after a slash) for the leaves and
	// for the intermediate: the AIA OCSP of both.
	OCSP string
	// IntermediateCRL is the intermediate's CRL: the leaves' CRL distribution point.
	IntermediateCRL string
	// RootCRL is the root's CRL: the intermediate's CRL distribution point.
	RootCRL string
	// IntermediateCert serves the intermediate certificate (DER): the leaves' AIA caIssuers.
	IntermediateCert string
	// IntermediateP7C serves the intermediate certificate as PKCS#7 certs-only (.p7c), the other caIssuers form.
	IntermediateP7C string
	// RootCert serves the root certificate (DER): the intermediate's AIA caIssuers.
	RootCert string
}

// Responders is a test OCSP responder and CRL server on loopback, with their own intermediate CA (issued by the
// PKI's root) whose certificates point at them. Certificates issued with Issue, IssueIdentity, Signer and
// TSAIdentity carry AIA OCSP and caIssuers and a CRL distribution point naming the server; so does Intermediate,
// whose status the root answers. Modes switch at run time (SetMode, SetIntermediateMode, ...) and are safe to
// change while requests are served.
//
// Leaves' OCSP answers are signed by a delegated responder (OCSPSigner: id-kp-OCSPSigning and
// id-pkix-ocsp-nocheck, issued by Intermediate, embedded in the answer); the intermediate's are signed by the root
// key itself. Every answer is made fresh on each request from the current mode and clock.
//
// Use one Responders per chain whose status a test controls on its own (for example one for the signer and one
// for the TSA): the mode covers every leaf of its intermediate.
type Responders struct {
	// URLs are where the server answers.
	URLs RevocationURLs
	// Root is the PKI's root; Intermediate is this Responders' CA (ECDSA P-256, issued by Root, path length 0).
	Root, Intermediate *x509.Certificate
	// IntermediateKey is Intermediate's key.
	IntermediateKey crypto.Signer
	// OCSPSigner is the delegated OCSP responder for the leaves, issued by Intermediate.
	OCSPSigner Identity

	p      *PKI
	srv    *httptest.Server
	closed chan struct{}               // ends the slow mode's waits
	notDel struct{ leaf, ca Identity } // issued by Intermediate / Root, without id-kp-OCSPSigning
	crlNum atomic.Int64
	served atomic.Int64

	mu                        sync.Mutex
	leafOCSP, leafCRL, caMode RevocationMode
	revokedAt                 time.Time
	now                       func() time.Time
	validity                  time.Duration
	issued                    []*big.Int
	tsaOnce                   sync.Once
	tsaID                     Identity
	tsaErr                    error
}

// DefaultRevocationValidity is the time from thisUpdate to nextUpdate of the test responders' answers unless
// SetValidity changes it.
const DefaultRevocationValidity = time.Hour

var (
	oidOCSPNoCheck = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 5}
	// otherSerial is listed on every good CRL: a revoked certificate that is none of ours.
	otherSerial = big.NewInt(0x0badc0de)
)

// Revocation starts Responders in mode (for both the leaves' and the intermediate's status) for the duration of
// the test.
func (p *PKI) Revocation(t testing.TB, mode RevocationMode) *Responders {
	t.Helper()
	r, err := p.StartRevocation(mode)
	if err != nil {
		t.Fatalf("test responders: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// StartRevocation starts Responders in mode (for both the leaves' and the intermediate's status); Close stops
// them. RevokedAt starts as the start time truncated to the second, minus one minute.
func (p *PKI) StartRevocation(mode RevocationMode) (*Responders, error) {
	r := &Responders{p: p, Root: p.Root, closed: make(chan struct{}), leafOCSP: mode, leafCRL: mode, caMode: mode,
		now: time.Now, validity: DefaultRevocationValidity}
	r.revokedAt = time.Now().Truncate(time.Second).Add(-time.Minute)
	mux := http.NewServeMux()
	r.srv = httptest.NewServer(mux)
	base := r.srv.URL
	r.URLs = RevocationURLs{
		OCSP:             base + "/ocsp",
		IntermediateCRL:  base + "/crl/intermediate.crl",
		RootCRL:          base + "/crl/root.crl",
		IntermediateCert: base + "/ca/intermediate.cer",
		IntermediateP7C:  base + "/ca/intermediate.p7c",
		RootCert:         base + "/ca/root.cer",
	}
	if err := r.makeCertificates(); err != nil {
		r.srv.Close()
		return nil, err
	}
	p7c, err := pkcs7.DegenerateCertificate(r.Intermediate.Raw)
	if err != nil {
		r.srv.Close()
		return nil, err
	}
	count := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) { r.served.Add(1); h(w, req) }
	}
	mux.HandleFunc("/ocsp", count(r.serveOCSP))
	mux.HandleFunc("/ocsp/", count(r.serveOCSP))
	mux.HandleFunc("/crl/intermediate.crl", count(func(w http.ResponseWriter, req *http.Request) {
		r.serveCRL(w, req, false)
	}))
	mux.HandleFunc("/crl/root.crl", count(func(w http.ResponseWriter, req *http.Request) { r.serveCRL(w, req, true) }))
	serve := func(ct string, b []byte) http.HandlerFunc {
		return count(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", ct)
			_, _ = w.Write(b)
		})
	}
	mux.Handle("/ca/intermediate.cer", serve("application/pkix-cert", r.Intermediate.Raw))
	mux.Handle("/ca/intermediate.p7c", serve("application/pkcs7-mime", p7c))
	mux.Handle("/ca/root.cer", serve("application/pkix-cert", p.Root.Raw))
	return r, nil
}

// Close stops the server, ending the waits of the slow mode. It must be called once.
func (r *Responders) Close() {
	close(r.closed)
	r.srv.Close()
}

// Requests returns how many HTTP requests the server has received (OCSP, CRL and certificates alike).
func (r *Responders) Requests() int { return int(r.served.Load()) }

// SetMode sets the mode of the leaves' status, OCSP and CRL alike.
func (r *Responders) SetMode(m RevocationMode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leafOCSP, r.leafCRL = m, m
}

// SetOCSPMode sets the mode of the leaves' OCSP answers only.
func (r *Responders) SetOCSPMode(m RevocationMode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leafOCSP = m
}

// SetCRLMode sets the mode of the intermediate's CRL (the leaves' CRL) only.
func (r *Responders) SetCRLMode(m RevocationMode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.leafCRL = m
}

// SetIntermediateMode sets the mode of the intermediate's own status: the root-signed OCSP answers about it and
// the root's CRL.
func (r *Responders) SetIntermediateMode(m RevocationMode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.caMode = m
}

// SetRevokedAt sets the revocation time RevocationRevoked reports.
func (r *Responders) SetRevokedAt(at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revokedAt = at
}

// RevokedAt returns the revocation time RevocationRevoked reports.
func (r *Responders) RevokedAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.revokedAt
}

// SetNow sets the responders' clock (thisUpdate of every answer); nil means time.Now.
func (r *Responders) SetNow(now func() time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	r.now = now
}

// SetValidity sets the time from thisUpdate to nextUpdate (DefaultRevocationValidity at first). Zero leaves
// nextUpdate out of OCSP answers; CRLs always carry one (DefaultRevocationValidity then).
func (r *Responders) SetValidity(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.validity = d
}

type revocationState struct {
	leafOCSP, leafCRL, caMode RevocationMode
	revokedAt, now            time.Time
	validity                  time.Duration
	issued                    []*big.Int
}

func (r *Responders) state() revocationState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return revocationState{leafOCSP: r.leafOCSP, leafCRL: r.leafCRL, caMode: r.caMode, revokedAt: r.revokedAt,
		now: r.now().Truncate(time.Second), validity: r.validity, issued: append([]*big.Int(nil), r.issued...)}
}

// Template returns LeafTemplate(subject) pointing at the responders: AIA OCSP and caIssuers, and the CRL
// distribution point.
func (r *Responders) Template(subject pkix.Name) *x509.Certificate {
	t := LeafTemplate(subject)
	r.point(t, false)
	return t
}

// point fills the revocation pointers of tmpl that are unset: to the intermediate's CRL and caIssuers, or to the
// root's when ca.
func (r *Responders) point(tmpl *x509.Certificate, ca bool) {
	crl, issuer := r.URLs.IntermediateCRL, r.URLs.IntermediateCert
	if ca {
		crl, issuer = r.URLs.RootCRL, r.URLs.RootCert
	}
	if tmpl.OCSPServer == nil {
		tmpl.OCSPServer = []string{r.URLs.OCSP}
	}
	if tmpl.IssuingCertificateURL == nil {
		tmpl.IssuingCertificateURL = []string{issuer}
	}
	if tmpl.CRLDistributionPoints == nil {
		tmpl.CRLDistributionPoints = []string{crl}
	}
}

// Issue makes a certificate for key's public key from a copy of tmpl, issued by r.Intermediate, with the
// responders' OCSP, caIssuers and CRL URLs filled in where tmpl leaves OCSPServer, IssuingCertificateURL or
// CRLDistributionPoints nil (set them to an empty, non-nil slice to leave a pointer out). A nil SerialNumber and
// zero validity are filled as PKI.Issue does. The serial is listed on the CRL in RevocationRevoked.
func (r *Responders) Issue(tmpl *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	t := *tmpl
	r.point(&t, false)
	cert, err := create(&t, r.Intermediate, key.Public(), r.IntermediateKey)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.issued = append(r.issued, cert.SerialNumber)
	r.mu.Unlock()
	return cert, nil
}

// IssueIdentity is Issue returning an Identity whose chain is the new certificate and r.Intermediate.
func (r *Responders) IssueIdentity(tmpl *x509.Certificate, key crypto.Signer) (Identity, error) {
	cert, err := r.Issue(tmpl, key)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Cert: cert, Key: key, Chain: []*x509.Certificate{cert, r.Intermediate}}, nil
}

// Signer issues a signer identity (a new ECDSA P-256 key, subject "Pieczęć podpisu zaufanego (test OCSP)")
// pointing at the responders.
func (r *Responders) Signer() (Identity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Identity{}, err
	}
	return r.IssueIdentity(r.Template(name("Pieczęć podpisu zaufanego (test OCSP)")), key)
}

// TSAIdentity returns a time-stamping identity (ECDSA P-256, critical id-kp-timeStamping EKU, made once per
// Responders) pointing at the responders, so that the TSA's chain has revocation data too.
func (r *Responders) TSAIdentity() (Identity, error) {
	r.tsaOnce.Do(func() {
		ekuValue, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		if err != nil {
			r.tsaErr = err
			return
		}
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			r.tsaErr = err
			return
		}
		tmpl := r.Template(name("Trustsign Test TSA (OCSP)"))
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidEKU, Critical: true, Value: ekuValue}}
		r.tsaID, r.tsaErr = r.IssueIdentity(tmpl, key)
	})
	return r.tsaID, r.tsaErr
}

// TSA starts a test TSA in mode on loopback for the duration of the test and returns its URL. It signs with
// TSAIdentity, except in TSANoEKU, TSANonCriticalEKU and TSAExpired, which need the PKI's broken TSA certificates
// (PKI.TSAIdentity) and so have no revocation pointers.
func (r *Responders) TSA(t testing.TB, mode TSAMode) string {
	t.Helper()
	var id Identity
	var err error
	switch mode {
	case TSANoEKU, TSANonCriticalEKU, TSAExpired:
		id, err = r.p.TSAIdentity(mode)
	default:
		id, err = r.TSAIdentity()
	}
	if err != nil {
		t.Fatalf("test TSA: %v", err)
	}
	srv := httptest.NewServer(tsaHandler(id, mode))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (r *Responders) makeCertificates() error {
	p := r.p
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	inter := &x509.Certificate{
		Subject:               name("Trustsign Test Intermediate CA (OCSP)"),
		NotBefore:             p.Intermediate.NotBefore,
		NotAfter:              p.Intermediate.NotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	r.point(inter, true)
	if r.Intermediate, err = create(inter, p.Root, key.Public(), p.RootKey); err != nil {
		return fmt.Errorf("intermediate CA: %w", err)
	}
	r.IntermediateKey = key

	mk := func(cn string, parent *x509.Certificate, parentKey crypto.Signer,
		edit func(*x509.Certificate)) (Identity, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return Identity{}, err
		}
		tmpl := LeafTemplate(name(cn))
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		edit(tmpl)
		cert, err := create(tmpl, parent, key.Public(), parentKey)
		if err != nil {
			return Identity{}, err
		}
		return Identity{Cert: cert, Key: key, Chain: []*x509.Certificate{cert, parent}}, nil
	}
	if r.OCSPSigner, err = mk("Trustsign Test OCSP Responder", r.Intermediate, key, func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
		c.ExtraExtensions = []pkix.Extension{{Id: oidOCSPNoCheck, Value: asn1.NullBytes}}
	}); err != nil {
		return fmt.Errorf("OCSP responder: %w", err)
	}
	if r.notDel.leaf, err = mk("Trustsign Test OCSP (not delegated)", r.Intermediate, key,
		func(*x509.Certificate) {}); err != nil {
		return err
	}
	r.notDel.ca, err = mk("Trustsign Test Root OCSP (not delegated)", p.Root, p.RootKey, func(*x509.Certificate) {})
	return err
}

var errNoDER = errors.New("testpki: this mode serves no DER answer")
