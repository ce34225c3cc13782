// Package devtsa is a minimal RFC 3161 time-stamping authority over HTTP, for tests (internal/testpki) and
// development (`trustsign tsa`). It is not a production TSA: no audit log, no clock discipline, no key protection.
//
// It lives apart from package tsa (the client and token verifier) so that the test PKI, which serves it, does not
// depend on the client and, through it, on package cms, whose own tests use the test PKI.
package devtsa

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// ErrMalformedRequest: the body is not a DER TimeStampReq.
var ErrMalformedRequest = errors.New("devtsa: malformed time-stamp request")

// Responder is a minimal RFC 3161 TSA over HTTP, for tests and development (`trustsign tsa`): it answers every
// well-formed request with a token signed by Key, stamped with Clock's time. It has no audit log, no clock
// discipline and no key protection; it must never be a production TSA.
type Responder struct {
	// Certificate is the TSA certificate (it should carry a critical id-kp-timeStamping EKU); Key its key.
	Certificate *x509.Certificate
	Key         crypto.Signer
	// Policy is the TSA policy OID put in tokens; nil means 1.2.3.4.1 (a test OID).
	Policy asn1.ObjectIdentifier
	// Accuracy is the stated accuracy; zero leaves it out.
	Accuracy time.Duration
	// Clock gives genTime; nil means time.Now.
	Clock func() time.Time
}

// Respond answers one DER TimeStampReq with a DER TimeStampResp.
func (r *Responder) Respond(reqDER []byte) ([]byte, error) {
	req, err := timestamp.ParseRequest(reqDER)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedRequest, err)
	}
	if !req.HashAlgorithm.Available() || len(req.HashedMessage) != req.HashAlgorithm.Size() {
		return timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadAlgorithm)
	}
	now := time.Now
	if r.Clock != nil {
		now = r.Clock
	}
	policy := r.Policy
	if policy == nil {
		policy = asn1.ObjectIdentifier{1, 2, 3, 4, 1}
	}
	ts := &timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              now().UTC().Truncate(time.Second),
		Accuracy:          r.Accuracy,
		Policy:            policy,
		Nonce:             req.Nonce,
		AddTSACertificate: true,
	}
	return ts.CreateResponseWithOpts(r.Certificate, r.Key, crypto.SHA256)
}

// ServeHTTP answers POSTed application/timestamp-query bodies (at most 64 KiB).
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST an application/timestamp-query", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 64<<10))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return
	}
	resp, err := r.Respond(body)
	if err != nil {
		http.Error(w, "bad time-stamp request", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}
