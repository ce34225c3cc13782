package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	tsa "github.com/trustsign/trustsign/tsa/devtsa" // the development TSA (named tsa.Responder before it moved)
)

// TSAMode is a behaviour of the test TSA.
type TSAMode int

// The test TSA's behaviours: TSAGood answers correctly; the others fail one way each.
const (
	TSAGood           TSAMode = iota // a correct token
	TSAHTTP500                       // HTTP 500, no body
	TSASlow                          // answers only after the client gave up (or 30 s)
	TSAWrongImprint                  // a token over another imprint
	TSAWrongNonce                    // a token with another nonce
	TSANoEKU                         // signed by a certificate without an extended key usage
	TSANonCriticalEKU                // signed by a certificate whose id-kp-timeStamping EKU is not critical
	TSAExpired                       // signed by an expired TSA certificate
	TSAGarbage                       // a body of random bytes
	TSARejected                      // a well-formed rejection (status 2)
)

var tsaModeNames = map[TSAMode]string{
	TSAGood: "good", TSAHTTP500: "http500", TSASlow: "slow", TSAWrongImprint: "wrong-imprint",
	TSAWrongNonce: "wrong-nonce", TSANoEKU: "no-eku", TSANonCriticalEKU: "non-critical-eku",
	TSAExpired: "expired", TSAGarbage: "garbage", TSARejected: "rejected",
}

func (m TSAMode) String() string { return tsaModeNames[m] }

// TSAModes lists every mode, for table tests.
func TSAModes() []TSAMode {
	return []TSAMode{TSAGood, TSAHTTP500, TSASlow, TSAWrongImprint, TSAWrongNonce, TSANoEKU, TSANonCriticalEKU,
		TSAExpired, TSAGarbage, TSARejected}
}

var oidEKU = asn1.ObjectIdentifier{2, 5, 29, 37}

type tsaIdentities struct {
	once                              sync.Once
	err                               error
	good, noEKU, nonCritical, expired Identity
}

var tsaIDs = map[*PKI]*tsaIdentities{}
var tsaIDsMu sync.Mutex

// TSAIdentity returns the test TSA's identity for mode (issued by p.Intermediate; P-256 keys, generated once per
// PKI): a critical id-kp-timeStamping EKU for TSAGood, and the broken certificates of TSANoEKU, TSANonCriticalEKU
// and TSAExpired.
func (p *PKI) TSAIdentity(mode TSAMode) (Identity, error) {
	tsaIDsMu.Lock()
	ids := tsaIDs[p]
	if ids == nil {
		ids = &tsaIdentities{}
		tsaIDs[p] = ids
	}
	tsaIDsMu.Unlock()
	ids.once.Do(func() { ids.err = p.makeTSAIdentities(ids) })
	if ids.err != nil {
		return Identity{}, ids.err
	}
	switch mode {
	case TSANoEKU:
		return ids.noEKU, nil
	case TSANonCriticalEKU:
		return ids.nonCritical, nil
	case TSAExpired:
		return ids.expired, nil
	}
	return ids.good, nil
}

func (p *PKI) makeTSAIdentities(ids *tsaIdentities) error {
	ekuValue, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return err
	}
	now := time.Now()
	mk := func(cn string, edit func(*x509.Certificate)) (Identity, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return Identity{}, err
		}
		tmpl := LeafTemplate(name(cn))
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		edit(tmpl)
		return p.IssueIdentity(tmpl, key)
	}
	critical := func(c *x509.Certificate) {
		c.ExtraExtensions = []pkix.Extension{{Id: oidEKU, Critical: true, Value: ekuValue}}
	}
	if ids.good, err = mk("Trustsign Test TSA", critical); err != nil {
		return err
	}
	if ids.noEKU, err = mk("Trustsign Test TSA (no EKU)", func(*x509.Certificate) {}); err != nil {
		return err
	}
	if ids.nonCritical, err = mk("Trustsign Test TSA (non-critical EKU)", func(c *x509.Certificate) {
		c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	}); err != nil {
		return err
	}
	ids.expired, err = mk("Trustsign Test TSA (expired)", func(c *x509.Certificate) {
		critical(c)
		c.NotBefore, c.NotAfter = now.AddDate(-2, 0, 0), now.AddDate(0, 0, -1)
	})
	return err
}

// TSAHandler returns an http.Handler acting as the test TSA in mode.
func (p *PKI) TSAHandler(mode TSAMode) (http.Handler, error) {
	id, err := p.TSAIdentity(mode)
	if err != nil {
		return nil, err
	}
	return tsaHandler(id, mode), nil
}

// tsaHandler is the test TSA in mode signing with id.
func tsaHandler(id Identity, mode TSAMode) http.Handler {
	good := &tsa.Responder{Certificate: id.Cert, Key: id.Key, Accuracy: time.Second}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch mode {
		case TSAHTTP500:
			http.Error(w, "TSA down", http.StatusInternalServerError)
			return
		case TSASlow:
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			return
		case TSAGarbage:
			junk := make([]byte, 200)
			_, _ = rand.Read(junk)
			w.Header().Set("Content-Type", "application/timestamp-reply")
			_, _ = w.Write(junk)
			return
		case TSARejected:
			resp, _ := timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadRequest)
			w.Header().Set("Content-Type", "application/timestamp-reply")
			_, _ = w.Write(resp)
			return
		case TSAWrongImprint, TSAWrongNonce:
			req, err := timestamp.ParseRequest(body)
			if err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			if mode == TSAWrongImprint {
				req.HashedMessage = append([]byte(nil), req.HashedMessage...)
				req.HashedMessage[0] ^= 0xff
			} else if req.Nonce != nil {
				req.Nonce = new(big.Int).Add(req.Nonce, big.NewInt(1))
			}
			if body, err = req.Marshal(); err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
		}
		resp, err := good.Respond(body)
		if err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(resp)
	})
}

// TSA starts the test TSA in mode on loopback for the duration of the test and returns its URL.
func (p *PKI) TSA(t testing.TB, mode TSAMode) string {
	t.Helper()
	h, err := p.TSAHandler(mode)
	if err != nil {
		t.Fatalf("test TSA: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
