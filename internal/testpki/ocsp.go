package testpki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPResponse returns the DER OCSPResponse the responder would give now about cert (a certificate issued by
// Intermediate, or Intermediate itself), in the current mode, with a SHA-1 CertID (what clients send). Modes that
// answer no DER (RevocationHTTP500, RevocationSlow, RevocationGarbage) return an error; RevocationTryLater returns
// the unsigned tryLater response.
func (r *Responders) OCSPResponse(cert *x509.Certificate) ([]byte, error) {
	issuer, ca, err := r.level(cert)
	if err != nil {
		return nil, err
	}
	st := r.state()
	mode := st.leafOCSP
	if ca {
		mode = st.caMode
	}
	if mode == RevocationTryLater {
		return ocsp.TryLaterErrorResponse, nil
	}
	return r.ocspAnswer(st, mode, issuer, ca, cert.SerialNumber, crypto.SHA1)
}

// level tells which of the responders' issuers answers for cert: Intermediate for its leaves, the root (ca) for
// Intermediate.
func (r *Responders) level(cert *x509.Certificate) (issuer *x509.Certificate, ca bool, err error) {
	switch {
	case bytes.Equal(cert.Raw, r.Intermediate.Raw):
		return r.Root, true, nil
	case bytes.Equal(cert.RawIssuer, r.Intermediate.RawSubject):
		return r.Intermediate, false, nil
	}
	return nil, false, fmt.Errorf("testpki: %q is not issued by the responders' CA", cert.Subject.CommonName)
}

func (r *Responders) serveOCSP(w http.ResponseWriter, req *http.Request) {
	var der []byte
	var err error
	switch req.Method {
	case http.MethodPost:
		der, err = io.ReadAll(http.MaxBytesReader(w, req.Body, 64<<10))
	case http.MethodGet:
		var s string
		if s, err = url.PathUnescape(strings.TrimPrefix(req.URL.EscapedPath(), "/ocsp/")); err == nil {
			der, err = base64.StdEncoding.DecodeString(s)
		}
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	ocspReq, err := ocsp.ParseRequest(der)
	if err != nil {
		_, _ = w.Write(ocsp.MalformedRequestErrorResponse)
		return
	}
	var issuer *x509.Certificate
	ca := false
	switch {
	case idMatches(ocspReq, r.Intermediate):
		issuer = r.Intermediate
	case idMatches(ocspReq, r.Root):
		issuer, ca = r.Root, true
	default:
		_, _ = w.Write(ocsp.UnauthorizedErrorResponse)
		return
	}
	st := r.state()
	mode := st.leafOCSP
	if ca {
		mode = st.caMode
	}
	switch mode {
	case RevocationHTTP500, RevocationSlow, RevocationGarbage:
		r.serveFailure(w, req, mode)
		return
	case RevocationTryLater:
		_, _ = w.Write(ocsp.TryLaterErrorResponse)
		return
	}
	resp, err := r.ocspAnswer(st, mode, issuer, ca, ocspReq.SerialNumber, ocspReq.HashAlgorithm)
	if err != nil {
		w.Header().Del("Content-Type")
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(resp)
}

// serveFailure answers in the modes that give no DER: HTTP 500, slow, garbage.
func (r *Responders) serveFailure(w http.ResponseWriter, req *http.Request, mode RevocationMode) {
	switch mode {
	case RevocationHTTP500:
		w.Header().Del("Content-Type")
		http.Error(w, "responder down", http.StatusInternalServerError)
	case RevocationSlow:
		select {
		case <-req.Context().Done():
		case <-r.closed:
		case <-time.After(30 * time.Second):
		}
	case RevocationGarbage:
		junk := make([]byte, 300)
		_, _ = rand.Read(junk)
		_, _ = w.Write(junk)
	}
}

// idMatches reports whether the request's CertID names issuer (name and key hash).
func idMatches(req *ocsp.Request, issuer *x509.Certificate) bool {
	h := req.HashAlgorithm
	if !h.Available() {
		return false
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	kh := h.New()
	kh.Write(spki.PublicKey.RightAlign())
	nh := h.New()
	nh.Write(issuer.RawSubject)
	return bytes.Equal(kh.Sum(nil), req.IssuerKeyHash) && bytes.Equal(nh.Sum(nil), req.IssuerNameHash)
}

// ocspAnswer makes the signed answer of mode about serial.
func (r *Responders) ocspAnswer(st revocationState, mode RevocationMode, issuer *x509.Certificate, ca bool,
	serial *big.Int, h crypto.Hash) ([]byte, error) {
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: serial, ThisUpdate: st.now, IssuerHash: h}
	if st.validity > 0 {
		tmpl.NextUpdate = st.now.Add(st.validity)
	}
	signer := r.OCSPSigner
	tmpl.Certificate = signer.Cert
	if ca { // the root answers for the intermediate itself, with its own key and no certificate
		signer, tmpl.Certificate = Identity{Cert: r.Root, Key: r.p.RootKey}, nil
	}
	switch mode {
	case RevocationGood:
	case RevocationRevoked:
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, st.revokedAt, ocsp.KeyCompromise
	case RevocationUnknown:
		tmpl.Status = ocsp.Unknown
	case RevocationExpired:
		tmpl.ThisUpdate, tmpl.NextUpdate = st.now.Add(-48*time.Hour), st.now.Add(-24*time.Hour)
	case RevocationNotYetValid:
		tmpl.ThisUpdate = st.now.Add(24 * time.Hour)
		if st.validity > 0 {
			tmpl.NextUpdate = tmpl.ThisUpdate.Add(st.validity)
		}
	case RevocationWrongSerial:
		tmpl.SerialNumber = new(big.Int).Add(serial, big.NewInt(1))
	case RevocationWrongSigner:
		signer = r.p.Attacker
		tmpl.Certificate = signer.Cert
	case RevocationNotDelegated:
		signer = r.notDel.leaf
		if ca {
			signer = r.notDel.ca
		}
		tmpl.Certificate = signer.Cert
	default:
		return nil, fmt.Errorf("%w (%v)", errNoDER, mode)
	}
	return ocsp.CreateResponse(issuer, signer.Cert, tmpl, signer.Key)
}
