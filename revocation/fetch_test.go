package revocation_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/tsa"
)

// clock is an injected clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// signer returns Responders in mode and a leaf pointing at them.
func signer(t *testing.T, mode testpki.RevocationMode) (*testpki.Responders, testpki.Identity) {
	t.Helper()
	r := testpki.New().Revocation(t, mode)
	id, err := r.Signer()
	if err != nil {
		t.Fatal(err)
	}
	return r, id
}

// ocspStatus parses one DER response Collect returned and says whose status it is.
func ocspStatus(t *testing.T, der []byte, cert, issuer *x509.Certificate) int {
	t.Helper()
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		t.Fatalf("returned OCSP response: %v", err)
	}
	return resp.Status
}

func certErrorFor(err error, cert *x509.Certificate) *revocation.CertError {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return nil
	}
	for _, e := range j.Unwrap() {
		var ce *revocation.CertError
		if errors.As(e, &ce) && bytes.Equal(ce.Cert.Raw, cert.Raw) {
			return ce
		}
	}
	return nil
}

// wantErr is the error Collect gives when both the OCSP responder and the CRL server of a certificate are in mode
// (nil: the answer is kept).
var wantErr = map[testpki.RevocationMode][]error{
	testpki.RevocationGood:         nil,
	testpki.RevocationRevoked:      nil,
	testpki.RevocationUnknown:      {revocation.ErrAnswerUnknown, revocation.ErrHTTPStatus},
	testpki.RevocationExpired:      {revocation.ErrAnswerStale},
	testpki.RevocationHTTP500:      {revocation.ErrHTTPStatus},
	testpki.RevocationSlow:         {context.DeadlineExceeded},
	testpki.RevocationGarbage:      {revocation.ErrAnswerMalformed},
	testpki.RevocationWrongSigner:  {revocation.ErrAnswerSignature},
	testpki.RevocationNotDelegated: {revocation.ErrAnswerSignature},
	testpki.RevocationWrongSerial:  {revocation.ErrAnswerWrongCert},
	testpki.RevocationTryLater:     {revocation.ErrResponderStatus, revocation.ErrHTTPStatus},
	testpki.RevocationNotYetValid:  {revocation.ErrAnswerNotYetValid},
}

// TestCollectModes runs Collect on a signer's chain with the leaf's status, then the intermediate's, in every mode.
func TestCollectModes(t *testing.T) {
	p := testpki.New()
	r, leaf := signer(t, testpki.RevocationGood)
	levels := []struct {
		name          string
		cert, issuer  *x509.Certificate
		other, otherI *x509.Certificate
		set           func(testpki.RevocationMode)
	}{
		{"leaf", leaf.Cert, r.Intermediate, r.Intermediate, p.Root, r.SetMode},
		{"intermediate", r.Intermediate, p.Root, leaf.Cert, r.Intermediate, r.SetIntermediateMode},
	}
	for _, lv := range levels {
		for _, mode := range testpki.RevocationModes() {
			t.Run(lv.name+"/"+mode.String(), func(t *testing.T) {
				lv.set(mode)
				defer lv.set(testpki.RevocationGood)
				f := &revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}, Timeout: 300 * time.Millisecond}
				d, err := f.Collect(t.Context(), leaf.Chain)
				if len(d.Certificates) != 1 || !d.Certificates[0].Equal(p.Root) {
					t.Errorf("certificates %d, want the root alone", len(d.Certificates))
				}
				if len(d.CRLs) != 0 {
					t.Errorf("%d CRLs, want none (OCSP and CRL fail alike)", len(d.CRLs))
				}
				want := wantErr[mode]
				if want == nil {
					if err != nil {
						t.Fatalf("Collect: %v", err)
					}
					if len(d.OCSP) != 2 {
						t.Fatalf("%d OCSP responses, want 2", len(d.OCSP))
					}
					wantStatus := ocsp.Good
					if mode == testpki.RevocationRevoked {
						wantStatus = ocsp.Revoked
					}
					if s := ocspStatus(t, d.OCSP[0], leaf.Cert, r.Intermediate); lv.name == "leaf" && s != wantStatus {
						t.Errorf("leaf status %d, want %d", s, wantStatus)
					}
					if s := ocspStatus(t, d.OCSP[1], r.Intermediate, p.Root); lv.name == "intermediate" && s != wantStatus {
						t.Errorf("intermediate status %d, want %d", s, wantStatus)
					}
					return
				}
				if err == nil {
					t.Fatal("Collect: no error")
				}
				for _, w := range want {
					if !errors.Is(err, w) {
						t.Errorf("error %q is not %q", err, w)
					}
				}
				ce := certErrorFor(err, lv.cert)
				if ce == nil {
					t.Fatalf("no CertError for %s: %v", lv.name, err)
				}
				if msg := ce.Error(); !strings.Contains(msg, lv.cert.Subject.CommonName) ||
					!strings.Contains(msg, r.URLs.OCSP) || !strings.Contains(msg, "CRL http") {
					t.Errorf("error does not name the certificate and each source: %s", msg)
				}
				if certErrorFor(err, lv.other) != nil {
					t.Errorf("the other certificate failed too: %v", err)
				}
				// What it got is returned alongside: the other certificate's answer.
				if len(d.OCSP) != 1 {
					t.Fatalf("%d OCSP responses, want the other certificate's", len(d.OCSP))
				}
				ocspStatus(t, d.OCSP[0], lv.other, lv.otherI)
			})
		}
	}
}

// TestCollectFallsBackToCRL: whatever goes wrong with OCSP, a good CRL is fetched and kept instead.
func TestCollectFallsBackToCRL(t *testing.T) {
	p := testpki.New()
	r, leaf := signer(t, testpki.RevocationGood)
	for _, mode := range testpki.RevocationModes() {
		if wantErr[mode] == nil {
			continue
		}
		t.Run(mode.String(), func(t *testing.T) {
			r.SetOCSPMode(mode)
			f := &revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}, Timeout: 300 * time.Millisecond}
			d, err := f.Collect(t.Context(), leaf.Chain)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.CRLs) != 1 || len(d.OCSP) != 1 {
				t.Fatalf("%d CRLs and %d OCSP responses, want one of each", len(d.CRLs), len(d.OCSP))
			}
			crl, err := x509.ParseRevocationList(d.CRLs[0])
			if err != nil || crl.CheckSignatureFrom(r.Intermediate) != nil {
				t.Fatalf("returned CRL: %v", err)
			}
		})
	}
}

// TestCollectChainFromCAIssuers: with no certificates at hand, the intermediate and the root come from the AIA
// caIssuers URLs, as DER or as PKCS#7.
func TestCollectChainFromCAIssuers(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	for _, u := range []string{r.URLs.IntermediateCert, r.URLs.IntermediateP7C} {
		t.Run(u[strings.LastIndex(u, "."):], func(t *testing.T) {
			tmpl := r.Template(testpki.Subject)
			tmpl.IssuingCertificateURL = []string{u}
			leaf, err := r.Issue(tmpl, p.EC256.Key)
			if err != nil {
				t.Fatal(err)
			}
			d, err := (&revocation.Fetcher{}).Collect(t.Context(), []*x509.Certificate{leaf})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Certificates) != 2 || !d.Certificates[0].Equal(r.Intermediate) || !d.Certificates[1].Equal(p.Root) {
				t.Fatalf("certificates %v, want the intermediate and the root", d.Certificates)
			}
			if len(d.OCSP) != 2 {
				t.Fatalf("%d OCSP responses, want 2", len(d.OCSP))
			}
		})
	}
}

// TestCollectNothingToFetch: a chain without revocation pointers gives its root and no data, without error; an OCSP
// responder's certificate (id-pkix-ocsp-nocheck) needs no status.
func TestCollectNothingToFetch(t *testing.T) {
	p := testpki.New()
	d, err := (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}}).Collect(t.Context(), p.RSA.Chain)
	if err != nil || len(d.OCSP)+len(d.CRLs) != 0 || len(d.Certificates) != 1 {
		t.Fatalf("Collect(no pointers) = %d certs, %d OCSP, %d CRLs, %v", len(d.Certificates), len(d.OCSP), len(d.CRLs), err)
	}
	r := p.Revocation(t, testpki.RevocationGood)
	d, err = (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}}).Collect(t.Context(), r.OCSPSigner.Chain)
	if err != nil || len(d.OCSP) != 1 || len(d.CRLs) != 0 {
		t.Fatalf("Collect(OCSP responder) = %d OCSP, %d CRLs, %v; want the intermediate's OCSP alone",
			len(d.OCSP), len(d.CRLs), err)
	}
	ocspStatus(t, d.OCSP[0], r.Intermediate, p.Root)
}

// TestCollectIssuerMissing: a certificate whose issuer is nowhere gets a CertError saying so.
func TestCollectIssuerMissing(t *testing.T) {
	r, leaf := signer(t, testpki.RevocationGood)
	tmpl := r.Template(testpki.Subject)
	tmpl.IssuingCertificateURL = []string{}
	c, err := r.Issue(tmpl, leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&revocation.Fetcher{}).Collect(t.Context(), []*x509.Certificate{c})
	if !errors.Is(err, revocation.ErrIssuerMissing) || certErrorFor(err, c) == nil {
		t.Fatalf("Collect = %v, want ErrIssuerMissing for the leaf", err)
	}
}

// TestCollectCache: a second Collect within the answers' validity asks nothing; after nextUpdate it asks again.
func TestCollectCache(t *testing.T) {
	p := testpki.New()
	cases := []struct {
		name      string
		validity  time.Duration
		ocspMode  testpki.RevocationMode
		fresh     time.Duration // still cached this long after
		refetched time.Duration // fetched again this long after
	}{
		{"OCSP until nextUpdate", time.Hour, testpki.RevocationGood, 59 * time.Minute, time.Hour},
		{"OCSP without nextUpdate", 0, testpki.RevocationGood, 4 * time.Minute, revocation.DefaultCacheTTL},
		{"CRL until nextUpdate", 2 * time.Hour, testpki.RevocationHTTP500, 119 * time.Minute, 2 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, leaf := signer(t, testpki.RevocationGood)
			clk := newClock()
			r.SetNow(clk.Now)
			r.SetValidity(tc.validity)
			r.SetOCSPMode(tc.ocspMode)
			f := &revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}, Now: clk.Now}
			collect := func() revocation.Data {
				t.Helper()
				d, err := f.Collect(t.Context(), leaf.Chain)
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			first := collect()
			asked := r.Requests()
			if asked == 0 {
				t.Fatal("no request")
			}
			clk.Add(tc.fresh)
			if again := collect(); r.Requests() != asked {
				t.Fatalf("%d requests within validity", r.Requests()-asked)
			} else if !equalData(first, again) {
				t.Fatal("cached answers differ")
			}
			clk.Add(tc.refetched - tc.fresh)
			collect()
			if r.Requests() == asked {
				t.Fatal("no request after nextUpdate")
			}
		})
	}
}

func equalData(a, b revocation.Data) bool {
	if len(a.OCSP) != len(b.OCSP) || len(a.CRLs) != len(b.CRLs) {
		return false
	}
	for i := range a.OCSP {
		if !bytes.Equal(a.OCSP[i], b.OCSP[i]) {
			return false
		}
	}
	for i := range a.CRLs {
		if !bytes.Equal(a.CRLs[i], b.CRLs[i]) {
			return false
		}
	}
	return true
}

// TestCollectConcurrent shares one Fetcher (and its cache) between goroutines (run with -race).
func TestCollectConcurrent(t *testing.T) {
	p := testpki.New()
	_, leaf := signer(t, testpki.RevocationGood)
	f := &revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}, CacheEntries: 2}
	var wg sync.WaitGroup
	var failures atomic.Int32
	for range 8 {
		wg.Go(func() {
			if d, err := f.Collect(t.Context(), leaf.Chain); err != nil || len(d.OCSP) != 2 {
				failures.Add(1)
			}
		})
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d concurrent Collects failed", failures.Load())
	}
}

// server is a loopback server counting its requests.
func server(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); h(w, r) }))
	t.Cleanup(srv.Close)
	return srv, &n
}

// pointing issues a leaf from the Responders' intermediate whose pointers are exactly the given URLs.
func pointing(t *testing.T, r *testpki.Responders, ocspURLs, crlURLs, caIssuers []string) *x509.Certificate {
	t.Helper()
	tmpl := r.Template(testpki.Subject)
	tmpl.OCSPServer, tmpl.CRLDistributionPoints, tmpl.IssuingCertificateURL = ocspURLs, crlURLs, caIssuers
	c, err := r.Issue(tmpl, testpki.New().EC256.Key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAttackOCSPAnswerForAnotherSerial(t *testing.T) {
	p := testpki.New()
	r, leaf := signer(t, testpki.RevocationWrongSerial)
	r.SetCRLMode(testpki.RevocationHTTP500)
	_, err := (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}}).Collect(t.Context(), leaf.Chain)
	if !errors.Is(err, revocation.ErrAnswerWrongCert) {
		t.Fatalf("Collect = %v, want ErrAnswerWrongCert", err)
	}
	// A genuine answer about another certificate of the same issuer, replayed for ours.
	other, err := r.Signer()
	if err != nil {
		t.Fatal(err)
	}
	r.SetMode(testpki.RevocationGood)
	r.SetIntermediateMode(testpki.RevocationGood)
	replay, err := r.OCSPResponse(other.Cert)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := server(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(replay) })
	c := pointing(t, r, []string{srv.URL}, []string{}, nil)
	_, err = (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root, r.Intermediate}}).Collect(t.Context(),
		[]*x509.Certificate{c, r.Intermediate})
	if ce := certErrorFor(err, c); ce == nil || !errors.Is(ce, revocation.ErrAnswerWrongCert) {
		t.Fatalf("replayed answer: %v, want ErrAnswerWrongCert for the leaf", err)
	}
	// Our delegated responder's genuine signature over a status with our serial but another issuer's CertID.
	otherIssuer, err := ocsp.CreateResponse(p.Intermediate, r.OCSPSigner.Cert, ocsp.Response{Status: ocsp.Good,
		SerialNumber: c.SerialNumber, ThisUpdate: time.Now().Add(-time.Minute), NextUpdate: time.Now().Add(time.Hour),
		Certificate: r.OCSPSigner.Cert}, r.OCSPSigner.Key)
	if err != nil {
		t.Fatal(err)
	}
	replay = otherIssuer
	_, err = (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root, r.Intermediate}}).Collect(t.Context(),
		[]*x509.Certificate{c, r.Intermediate})
	if ce := certErrorFor(err, c); ce == nil || !errors.Is(ce, revocation.ErrAnswerWrongCert) {
		t.Fatalf("answer naming another issuer: %v, want ErrAnswerWrongCert for the leaf", err)
	}
}

func TestAttackNonDelegatedResponder(t *testing.T) {
	p := testpki.New()
	for _, mode := range []testpki.RevocationMode{testpki.RevocationNotDelegated, testpki.RevocationWrongSigner} {
		t.Run(mode.String(), func(t *testing.T) {
			_, leaf := signer(t, mode)
			d, err := (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}}).Collect(t.Context(), leaf.Chain)
			if !errors.Is(err, revocation.ErrAnswerSignature) || len(d.OCSP)+len(d.CRLs) != 0 {
				t.Fatalf("Collect = %d OCSP, %d CRLs, %v; want nothing and ErrAnswerSignature", len(d.OCSP), len(d.CRLs), err)
			}
		})
	}
}

func TestAttackHugeBody(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	chunk := bytes.Repeat([]byte{0x30}, 64<<10)
	huge := func(announce bool) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if announce {
				w.Header().Set("Content-Length", "1073741824")
			}
			for range 64 { // 4 MiB, then the handler gives up
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}
	}
	for _, announce := range []bool{true, false} {
		srv, _ := server(t, huge(announce))
		c := pointing(t, r, []string{srv.URL + "/ocsp"}, []string{srv.URL + "/crl"}, nil)
		f := &revocation.Fetcher{Certificates: []*x509.Certificate{p.Root, r.Intermediate}, MaxBytes: 1 << 20}
		d, err := f.Collect(t.Context(), []*x509.Certificate{c})
		if !errors.Is(err, revocation.ErrAnswerTooLarge) || len(d.CRLs) != 0 {
			t.Errorf("announced %v: Collect = %v, want ErrAnswerTooLarge", announce, err)
		}
	}
}

func TestAttackRedirectLoop(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	var srv *httptest.Server
	srv, n := server(t, func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, srv.URL+req.URL.Path, http.StatusFound)
	})
	c := pointing(t, r, []string{}, []string{srv.URL + "/crl"}, nil)
	_, err := (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root, r.Intermediate}}).Collect(t.Context(),
		[]*x509.Certificate{c})
	if err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("Collect = %v, want a redirect error", err)
	}
	if n.Load() > 6 {
		t.Errorf("%d requests for one redirect loop", n.Load())
	}
}

func TestAttackURLScheme(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	srv, n := server(t, func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, "file:///etc/passwd", http.StatusFound)
	})
	cases := []struct {
		name                 string
		ocsp, crl, caIssuers []string
	}{
		{"file OCSP", []string{"file:///etc/passwd"}, []string{}, nil},
		{"ftp and ldap CRL", []string{}, []string{"ftp://example.org/x.crl", "ldap://example.org/cn=CA?crl"}, nil},
		{"no host", []string{"http:///ocsp"}, []string{"http:/relative"}, nil},
		{"gopher", []string{"gopher://127.0.0.1:70/"}, []string{}, nil},
		{"redirect to file", []string{srv.URL}, []string{}, nil},
		{"file caIssuers", []string{r.URLs.OCSP}, []string{}, []string{"file:///etc/passwd"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := pointing(t, r, tc.ocsp, tc.crl, tc.caIssuers)
			certs := []*x509.Certificate{p.Root, r.Intermediate}
			if tc.caIssuers != nil {
				certs = []*x509.Certificate{p.Root}
			}
			_, err := (&revocation.Fetcher{Certificates: certs}).Collect(t.Context(), []*x509.Certificate{c})
			if !errors.Is(err, revocation.ErrURLRefused) || certErrorFor(err, c) == nil {
				t.Fatalf("Collect = %v, want ErrURLRefused for the leaf", err)
			}
		})
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1 (the redirect)", n.Load())
	}
	// AllowURL vets every URL: here it refuses them all, and nothing is asked.
	before := r.Requests()
	_, leaf := signer(t, testpki.RevocationGood)
	f := &revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}, AllowURL: func(*url.URL) error {
		return errors.New("private address")
	}}
	if _, err := f.Collect(t.Context(), leaf.Chain); !errors.Is(err, revocation.ErrURLRefused) {
		t.Fatalf("AllowURL refusing: %v", err)
	}
	if r.Requests() != before {
		t.Error("a refused URL was fetched")
	}
}

func TestAttackCAIssuers(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	cases := []struct {
		name string
		body []byte
		want error
	}{
		{"huge", bytes.Repeat([]byte{0x30}, 2<<20), revocation.ErrAnswerTooLarge},
		{"garbage", []byte("<html>not a certificate</html>"), revocation.ErrAnswerMalformed},
		{"unrelated certificate", p.Attacker.Cert.Raw, revocation.ErrIssuerMissing},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := server(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(tc.body) })
			c := pointing(t, r, nil, nil, []string{srv.URL + "/ca.cer"})
			_, err := (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}}).Collect(t.Context(),
				[]*x509.Certificate{c})
			if !errors.Is(err, revocation.ErrIssuerMissing) || !errors.Is(err, tc.want) {
				t.Fatalf("Collect = %v, want ErrIssuerMissing and %v", err, tc.want)
			}
		})
	}
}

// TestAttackSlowServerCancel: a responder that never answers is left when the caller's context ends, well before
// the Fetcher's own timeout.
func TestAttackSlowServerCancel(t *testing.T) {
	p := testpki.New()
	_, leaf := signer(t, testpki.RevocationSlow)
	ctx, cancel := context.WithCancel(t.Context())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	f := &revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}, Timeout: time.Minute}
	_, err := f.Collect(ctx, leaf.Chain)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Collect = %v, want context.Canceled", err)
	}
}

// TestAttackManyURLs: a certificate naming many failing URLs costs at most MaxURLs requests.
func TestAttackManyURLs(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	srv, n := server(t, func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusNotFound) })
	var urls []string
	for i := range 20 {
		urls = append(urls, srv.URL+"/"+string(rune('a'+i)))
	}
	c := pointing(t, r, urls, urls, nil)
	_, err := (&revocation.Fetcher{Certificates: []*x509.Certificate{p.Root, r.Intermediate}}).Collect(t.Context(),
		[]*x509.Certificate{c})
	if !errors.Is(err, revocation.ErrHTTPStatus) {
		t.Fatalf("Collect = %v", err)
	}
	if n.Load() != revocation.DefaultMaxURLs {
		t.Errorf("%d requests, want %d", n.Load(), revocation.DefaultMaxURLs)
	}
}

// TestCollectTSAChain: the TSA's chain, as a signer collects it after time-stamping, has its own revocation data.
func TestCollectTSAChain(t *testing.T) {
	p := testpki.New()
	r := p.Revocation(t, testpki.RevocationGood)
	c := &tsa.Client{URLs: []string{r.TSA(t, testpki.TSAGood)}, Roots: p.Roots(), Intermediates: pool(r.Intermediate)}
	imprint := sha256.Sum256([]byte("dokument"))
	tok, err := c.Stamp(t.Context(), imprint[:])
	if err != nil {
		t.Fatal(err)
	}
	r.SetMode(testpki.RevocationRevoked)
	d, err := (&revocation.Fetcher{}).Collect(t.Context(), []*x509.Certificate{tok.Certificate})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Certificates) != 2 || len(d.OCSP) != 2 {
		t.Fatalf("%d certificates, %d OCSP responses; want the intermediate and root, and two answers",
			len(d.Certificates), len(d.OCSP))
	}
	if s := ocspStatus(t, d.OCSP[0], tok.Certificate, r.Intermediate); s != ocsp.Revoked {
		t.Errorf("TSA status %d, want revoked", s)
	}
}

func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// TestCollectIssuedAfter: extending a signature time-stamped at t needs answers issued after t, so a cached answer
// from before t is asked for again; without IssuedAfter it is reused.
func TestCollectIssuedAfter(t *testing.T) {
	p := testpki.New()
	r, leaf := signer(t, testpki.RevocationGood)
	clk := newClock()
	r.SetNow(clk.Now)
	r.SetValidity(time.Hour)
	f := &revocation.Fetcher{Certificates: []*x509.Certificate{p.Root}, Now: clk.Now}
	if _, err := f.Collect(t.Context(), leaf.Chain); err != nil {
		t.Fatal(err)
	}
	asked := r.Requests()
	clk.Add(time.Minute)
	stamped := clk.Now() // the signature's time-stamp, after the cached answer
	clk.Add(time.Second)
	if _, err := f.Collect(t.Context(), leaf.Chain); err != nil || r.Requests() != asked {
		t.Fatalf("without IssuedAfter: %d new requests, err %v; want the cached answer", r.Requests()-asked, err)
	}
	d, err := f.Collect(revocation.IssuedAfter(t.Context(), stamped), leaf.Chain)
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests() == asked {
		t.Fatal("IssuedAfter: the answer from before the time-stamp came from the cache")
	}
	for _, der := range d.OCSP {
		res := revocation.Check(leaf.Chain[0], leaf.Chain[1], revocation.Data{OCSP: [][]byte{der}}, clk.Now())
		for _, a := range res.Answers {
			if a.Issued().Before(stamped) {
				t.Errorf("answer issued %v, before the time-stamp %v", a.Issued(), stamped)
			}
		}
	}
	asked = r.Requests()
	if _, err := f.Collect(revocation.IssuedAfter(t.Context(), stamped), leaf.Chain); err != nil || r.Requests() != asked {
		t.Fatalf("the fresh answer was not cached: %d new requests, err %v", r.Requests()-asked, err)
	}
}
