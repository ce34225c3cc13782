package audit

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Clock tells the time; tests inject a fixed one.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// HeadLog is a Log that also keeps a copy of every signed head apart from the chain, so that cutting records off
// the end of the chain still leaves a signed head pointing past the cut. store.Tx satisfies it.
type HeadLog interface {
	Log
	AuditPutHead(seq uint64, rec []byte) error
}

// Updater runs fn in one read-write store transaction. store.DB satisfies it.
type Updater interface {
	UpdateAudit(ctx context.Context, fn func(HeadLog) error) error
}

// Sealer signs the head of the chain with the service's seal key. A seal is appended as a record of kind
// KindSeal whose details are: headSeq and headHash (the record before the seal), keyId (hex SHA-256 of the
// PKIX public key), algorithm (RSA-SHA256, ECDSA-SHA256 or Ed25519), publicKey (base64 PKIX DER), certificate
// (base64 DER, when known) and signature (base64) over HeadMessage(headSeq, headHash, time).
type Sealer struct {
	Signer crypto.Signer
	// Certificate, if set, must hold Signer's public key; it is carried in every seal.
	Certificate *x509.Certificate
	// Rand is the randomness for signing (crypto/rand when nil).
	Rand io.Reader
	// Clock gives the seal time (system time when nil).
	Clock Clock
	// Publish, if set, is given every seal after it is committed, to copy the signed head outside the store (a
	// heads file, the log): a head known outside the store makes cutting the log's end show. Its error is
	// reported but the seal stays.
	Publish func(Record) error
}

// Seal reasons, carried in a seal's "reason" detail.
const (
	SealStart    = "start"    // the service started (covers records a crash left unsealed)
	SealInterval = "interval" // the periodic seal, made even when nothing changed, so a missing one shows
	SealShutdown = "shutdown" // the service stopped cleanly after its last write
	// SealNodeStop: one node of several on a shared store stopped cleanly; the others may go on writing, so it
	// does not exempt the log from the seal-age check as a shutdown seal does.
	SealNodeStop = "node-stop"
)

// HeadMessage is the byte string a seal signs (its SHA-256 for RSA and ECDSA, itself for Ed25519).
func HeadMessage(seq uint64, hash, at string) []byte {
	return []byte("trustsign-audit-head-v1\n" + strconv.FormatUint(seq, 10) + "\n" + hash + "\n" + at + "\n")
}

// KeyID is the hex SHA-256 of a public key's PKIX DER encoding.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(der)
	return hex.EncodeToString(s[:]), nil
}

func algorithmOf(pub crypto.PublicKey) (string, error) {
	switch pub.(type) {
	case *rsa.PublicKey:
		return "RSA-SHA256", nil
	case *ecdsa.PublicKey:
		return "ECDSA-SHA256", nil
	case ed25519.PublicKey:
		return "Ed25519", nil
	}
	return "", fmt.Errorf("audit: unsupported seal key type %T", pub)
}

// SealIn seals the current head in the caller's transaction. It does nothing (false) when the log is empty or
// its last record is already a seal.
func (s *Sealer) SealIn(l HeadLog) (Record, bool, error) { return s.sealIn(l, "", false) }

// sealIn seals the head; with always it seals even when the last record is a seal (never an empty log).
func (s *Sealer) sealIn(l HeadLog, reason string, always bool) (Record, bool, error) {
	if s.Signer == nil {
		return Record{}, false, errors.New("audit: sealer without a key")
	}
	seq, raw, err := l.AuditLast()
	if err != nil || raw == nil {
		return Record{}, false, err
	}
	var last Record
	if err := json.Unmarshal(raw, &last); err != nil {
		return Record{}, false, fmt.Errorf("%w: last record unreadable: %v", ErrBroken, err)
	}
	if last.Kind == KindSeal && !always {
		return Record{}, false, nil
	}
	pub := s.Signer.Public()
	if s.Certificate != nil && !publicKeysEqual(s.Certificate.PublicKey, pub) {
		return Record{}, false, errors.New("audit: the seal certificate does not hold the seal key")
	}
	alg, err := algorithmOf(pub)
	if err != nil {
		return Record{}, false, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return Record{}, false, err
	}
	kid, _ := KeyID(pub)
	clock := s.Clock
	if clock == nil {
		clock = systemClock{}
	}
	now := clock.Now().UTC()
	at := now.Format(time.RFC3339Nano)
	msg := HeadMessage(seq, last.Hash, at)
	rnd := s.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	var sig []byte
	if alg == "Ed25519" {
		sig, err = s.Signer.Sign(rnd, msg, crypto.Hash(0))
	} else {
		d := sha256.Sum256(msg)
		sig, err = s.Signer.Sign(rnd, d[:], crypto.SHA256)
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("audit: signing the head: %w", err)
	}
	details := map[string]string{
		"headSeq":   strconv.FormatUint(seq, 10),
		"headHash":  last.Hash,
		"keyId":     kid,
		"algorithm": alg,
		"publicKey": base64.StdEncoding.EncodeToString(pubDER),
		"signature": base64.StdEncoding.EncodeToString(sig),
	}
	if reason != "" {
		details["reason"] = reason
	}
	if s.Certificate != nil {
		details["certificate"] = base64.StdEncoding.EncodeToString(s.Certificate.Raw)
	}
	rec, err := Append(l, Event{Time: now, Kind: KindSeal, Actor: "system", Subject: "audit", Details: details})
	if err != nil {
		return Record{}, false, err
	}
	enc, err := json.Marshal(rec)
	if err != nil {
		return Record{}, false, err
	}
	if err := l.AuditPutHead(rec.Seq, enc); err != nil {
		return Record{}, false, err
	}
	return rec, true, nil
}

// Seal seals the current head in its own transaction, unless the last record is already a seal.
func (s *Sealer) Seal(ctx context.Context, u Updater) (bool, error) {
	return s.seal(ctx, u, "", false)
}

// SealNow seals the current head in its own transaction even when the last record is a seal (an empty log
// stays empty), with the reason (SealStart, SealInterval, SealShutdown, SealNodeStop) in its details, and publishes it.
func (s *Sealer) SealNow(ctx context.Context, u Updater, reason string) (bool, error) {
	return s.seal(ctx, u, reason, true)
}

func (s *Sealer) seal(ctx context.Context, u Updater, reason string, always bool) (bool, error) {
	var (
		rec    Record
		sealed bool
	)
	err := u.UpdateAudit(ctx, func(l HeadLog) error {
		var err error
		rec, sealed, err = s.sealIn(l, reason, always)
		return err
	})
	if err != nil || !sealed || s.Publish == nil {
		return sealed, err
	}
	if err := s.Publish(rec); err != nil {
		return true, fmt.Errorf("audit: publishing the head of record %d: %w", rec.Seq, err)
	}
	return true, nil
}

// Run seals once at start (covering what a crash left unsealed) and then every interval, even when nothing was
// appended (so that a missing seal shows, see VerifyOptions.SealInterval), until ctx is done. It does not seal
// when ctx ends: the owner stops every writer first and then calls SealNow(ctx, u, SealShutdown), so that no
// record lands after the shutdown seal. Errors go to onErr (may be nil).
func (s *Sealer) Run(ctx context.Context, u Updater, every time.Duration, onErr func(error)) {
	report := func(err error) {
		if err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
	}
	_, err := s.SealNow(ctx, u, SealStart)
	report(err)
	if every <= 0 {
		<-ctx.Done() // no periodic seals
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, err := s.SealNow(ctx, u, SealInterval)
			report(err)
		}
	}
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := a.(equaler); ok {
		return e.Equal(b)
	}
	return false
}

// verifySeal checks a seal record's signed head against the record before it.
func verifySeal(r *Record, trusted []crypto.PublicKey) (keyID string, err error) {
	d := r.Details
	need := func(k string) (string, error) {
		v, ok := d[k]
		if !ok || v == "" {
			return "", fmt.Errorf("seal without %s", k)
		}
		return v, nil
	}
	headSeq, err := need("headSeq")
	if err != nil {
		return "", err
	}
	if headSeq != strconv.FormatUint(r.Seq-1, 10) {
		return "", fmt.Errorf("seal signs head seq %s, not the record before it (%d)", headSeq, r.Seq-1)
	}
	headHash, err := need("headHash")
	if err != nil {
		return "", err
	}
	if headHash != r.PrevHash {
		return "", errors.New("seal signs a head hash other than the previous record's")
	}
	for _, k := range []string{"keyId", "algorithm", "publicKey", "signature"} {
		if _, err := need(k); err != nil {
			return "", err
		}
	}
	pubDER, err := base64.StdEncoding.DecodeString(d["publicKey"])
	if err != nil {
		return "", errors.New("seal public key is not base64")
	}
	pub, err := x509.ParsePKIXPublicKey(pubDER)
	if err != nil {
		return "", errors.New("seal public key cannot be parsed")
	}
	kid, _ := KeyID(pub)
	if kid != d["keyId"] {
		return "", errors.New("seal keyId does not match its public key")
	}
	if c, ok := d["certificate"]; ok {
		der, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return "", errors.New("seal certificate is not base64")
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return "", errors.New("seal certificate cannot be parsed")
		}
		if !publicKeysEqual(cert.PublicKey, pub) {
			return "", errors.New("seal certificate does not hold the seal's public key")
		}
	}
	sig, err := base64.StdEncoding.DecodeString(d["signature"])
	if err != nil {
		return "", errors.New("seal signature is not base64")
	}
	alg, err := algorithmOf(pub)
	if err != nil || alg != d["algorithm"] {
		return "", errors.New("seal algorithm does not match its key")
	}
	msg := HeadMessage(r.Seq-1, headHash, r.Time)
	digest := sha256.Sum256(msg)
	ok := false
	switch k := pub.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(k, crypto.SHA256, digest[:], sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, digest[:], sig)
	case ed25519.PublicKey:
		ok = ed25519.Verify(k, msg, sig)
	}
	if !ok {
		return "", errors.New("seal signature does not verify")
	}
	if len(trusted) > 0 {
		found := false
		for _, t := range trusted {
			if publicKeysEqual(t, pub) {
				found = true
				break
			}
		}
		if !found {
			return "", fmt.Errorf("seal made with key %s, which is not a trusted seal key", kid)
		}
	}
	return kid, nil
}
