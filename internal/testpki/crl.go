package testpki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"net/http"
	"time"
)

// CRL returns the DER CRL the server would give now for cert's issuer: the intermediate's CRL for a certificate
// Intermediate issued, the root's for Intermediate itself, in the current mode. Modes that serve no CRL
// (RevocationHTTP500, RevocationSlow, RevocationGarbage, RevocationUnknown, RevocationTryLater) return an error.
func (r *Responders) CRL(cert *x509.Certificate) ([]byte, error) {
	_, ca, err := r.level(cert)
	if err != nil {
		return nil, err
	}
	st := r.state()
	mode := st.leafCRL
	if ca {
		mode = st.caMode
	}
	return r.crlAnswer(st, mode, ca)
}

func (r *Responders) serveCRL(w http.ResponseWriter, req *http.Request, ca bool) {
	st := r.state()
	mode := st.leafCRL
	if ca {
		mode = st.caMode
	}
	switch mode {
	case RevocationHTTP500, RevocationSlow, RevocationGarbage:
		w.Header().Set("Content-Type", "application/pkix-crl")
		r.serveFailure(w, req, mode)
		return
	case RevocationUnknown:
		http.NotFound(w, req)
		return
	case RevocationTryLater:
		w.Header().Set("Retry-After", "60")
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	crl, err := r.crlAnswer(st, mode, ca)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	_, _ = w.Write(crl)
}

// crlAnswer makes the CRL of mode: the intermediate's, or the root's when ca.
func (r *Responders) crlAnswer(st revocationState, mode RevocationMode, ca bool) ([]byte, error) {
	issuer, key := r.Intermediate, crypto.Signer(r.IntermediateKey)
	revoked := st.issued
	if ca {
		issuer, key = r.Root, r.p.RootKey
		revoked = []*big.Int{r.Intermediate.SerialNumber}
	}
	validity := st.validity
	if validity <= 0 {
		validity = DefaultRevocationValidity
	}
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(r.crlNum.Add(1)),
		ThisUpdate: st.now,
		NextUpdate: st.now.Add(validity),
		RevokedCertificateEntries: []x509.RevocationListEntry{{
			SerialNumber: otherSerial, RevocationTime: st.now.Add(-24 * time.Hour), ReasonCode: 4, // superseded
		}},
	}
	switch mode {
	case RevocationGood:
	case RevocationRevoked:
		for _, s := range revoked {
			tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
				x509.RevocationListEntry{SerialNumber: s, RevocationTime: st.revokedAt, ReasonCode: 1}) // keyCompromise
		}
	case RevocationExpired:
		tmpl.ThisUpdate, tmpl.NextUpdate = st.now.Add(-48*time.Hour), st.now.Add(-24*time.Hour)
	case RevocationNotYetValid:
		tmpl.ThisUpdate, tmpl.NextUpdate = st.now.Add(24*time.Hour), st.now.Add(24*time.Hour+validity)
	case RevocationWrongSigner:
		key = r.p.Attacker.Key
	case RevocationNotDelegated:
		key = r.notDel.leaf.Key
		if ca {
			key = r.notDel.ca.Key
		}
	case RevocationWrongSerial:
		return r.crlAnswer(st, RevocationGood, !ca)
	default:
		return nil, fmt.Errorf("%w (%v)", errNoDER, mode)
	}
	return x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
}
