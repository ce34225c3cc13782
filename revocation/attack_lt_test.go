package revocation

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// TestAttackResponderPoolQuadratic: embedded validation data (a PDF DSS appended to any signed file, XAdES
// CertificateValues) holds many OCSP responses about a certificate, signed by no key the issuer certified, and many
// certificates that could be responders. Check must not try every response's signature against every certificate
// of the pool (n×m signature verifications, for each certificate of each chain judged): only the certificates the
// response names as its responder, issued by the issuer, and a few of them. Measured as a ratio in one run: a
// pool of n look-alike responders must cost about what a pool of one does.
func TestAttackResponderPoolQuadratic(t *testing.T) {
	issuer := newCA(t, "CA", nil)
	cert := issuer.leaf(t, nil)
	const n = 120
	// the attacker's responders: the issuer's name as their issuer, id-kp-OCSPSigning, the same subject, the
	// attacker's own keys (not certified by the issuer: the certificate signatures do not verify)
	attacker := newCA(t, "CA", nil)
	var pool []*x509.Certificate
	var keys []*ca
	for range n {
		r := attacker.responder(t, func(c *x509.Certificate) { c.Subject = pkix.Name{CommonName: "OCSP responder"} })
		pool = append(pool, r.cert)
		keys = append(keys, r)
	}
	var answers [][]byte
	for i := range n {
		der, err := ocsp.CreateResponse(issuer.cert, keys[i].cert, ocsp.Response{Status: ocsp.Good,
			SerialNumber: cert.SerialNumber, ThisUpdate: t0, NextUpdate: t0.Add(time.Hour)}, keys[(i+1)%n].key)
		if err != nil {
			t.Fatal(err)
		}
		answers = append(answers, der)
	}
	run := func(pool []*x509.Certificate) time.Duration {
		start := time.Now()
		r := Check(cert, issuer.cert, Data{OCSP: answers, Certificates: pool}, t0)
		if len(r.Answers) != 0 {
			t.Fatalf("%d answers signed by uncertified keys were accepted", len(r.Answers))
		}
		return time.Since(start)
	}
	run(pool[:1]) // warm up
	one, all := run(pool[:1]), run(pool)
	if ratio := float64(all) / float64(one); ratio > 20 {
		t.Errorf("a pool of %d look-alike responders costs %.0f× a pool of one (%v vs %v): every response is tried against every certificate", n, ratio, all, one)
	}
}
