package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signing"
)

// loadSeal loads a seal whose key is a PEM file or a PKCS#11 URI (signer.LoadSeal), with the exit status of its
// failure: a usage error for a URI trustsign cannot use; 1 for a build without cgo, a token that cannot be
// reached or a PIN file that cannot be used; a data error otherwise.
func loadSeal(key, cert string, chain ...string) (*signer.Seal, error) {
	seal, err := signer.LoadSeal(key, cert, chain...)
	switch {
	case err == nil:
		return seal, nil
	case errors.Is(err, signer.ErrPKCS11URI):
		return nil, usageErr("%v", err)
	case errors.Is(err, signer.ErrPKCS11Unavailable), errors.Is(err, signer.ErrTokenUnavailable), errors.Is(err, signer.ErrPINFile):
		return nil, failErr(exitFailed, err)
	}
	return nil, failErr(exitDataErr, err)
}

// sealConfigJSON is the --seal-config file: every seal the service knows, and which one signs.
//
//	{"current": "2027",
//	 "seals": [
//	   {"id": "2026", "cert": "/etc/trustsign/seal-2026.pem", "chain": ["/etc/trustsign/ca.pem"]},
//	   {"id": "2027", "key": "pkcs11:token=trustsign;object=seal-2027?module-path=…&pin-source=file:…",
//	    "cert": "/etc/trustsign/seal-2027.pem", "chain": ["/etc/trustsign/ca.pem"]}]}
//
// Only the current seal's key is opened; the others' certificates are trusted for verification, so that what the
// previous seals signed keeps verifying. SIGHUP reads the file again and switches to its current seal.
type sealConfigJSON struct {
	Current string          `json:"current"`
	Seals   []sealEntryJSON `json:"seals"`
}

type sealEntryJSON struct {
	ID    string   `json:"id"`
	Key   string   `json:"key,omitempty"`
	Cert  string   `json:"cert"`
	Chain []string `json:"chain,omitempty"`
}

// sealSet is the service's seals: the one it signs with and the chains of all it knows (current first).
type sealSet struct {
	current *signer.Seal
	id      string // the current seal's id: its --seal-config id, or "sha256:" and its certificate's fingerprint
	chains  [][]*x509.Certificate
}

// sealID names a seal by its certificate's SHA-256 fingerprint (the first 16 hex digits).
func sealID(seal *signer.Seal) string {
	sum := sha256.Sum256(seal.Certificate.Raw)
	return "sha256:" + hex.EncodeToString(sum[:8])
}

// certificates is every certificate of every seal, for chain building (revocation data) and verification.
func (s *sealSet) certificates() []*x509.Certificate {
	var out []*x509.Certificate
	for _, ch := range s.chains {
		out = append(out, ch...)
	}
	return out
}

// readSeals reads the seal configuration: --seal-config, or --seal-key and --seal-cert, or else the development
// seal in DATA/dev-seal (created on first use).
func readSeals(c *serveConfig, logger *slog.Logger) (*sealSet, error) {
	if c.sealConfig == "" {
		seal, err := loadOrCreateSeal(c, logger)
		if err != nil {
			return nil, err
		}
		return &sealSet{current: seal, id: sealID(seal), chains: [][]*x509.Certificate{seal.Chain}}, nil
	}
	if c.sealKey != "" || c.sealCert != "" || len(c.sealChain) > 0 {
		return nil, usageErr("--seal-config replaces --seal-key, --seal-cert and --seal-chain: give one or the other")
	}
	raw, err := os.ReadFile(c.sealConfig)
	if err != nil {
		return nil, failErr(exitNoInput, fmt.Errorf("seal configuration: %w", err))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var cfg sealConfigJSON
	if err := dec.Decode(&cfg); err != nil {
		return nil, failErr(exitDataErr, fmt.Errorf("seal configuration %s: %w", c.sealConfig, err))
	}
	set := &sealSet{id: cfg.Current}
	seen := map[string]bool{}
	for _, e := range cfg.Seals {
		if e.ID == "" || e.Cert == "" || seen[e.ID] {
			return nil, failErr(exitDataErr, fmt.Errorf("seal configuration %s: every seal needs an id of its own and a cert (%q)", c.sealConfig, e.ID))
		}
		seen[e.ID] = true
		if e.ID != cfg.Current {
			chain, err := signer.LoadCertificateFiles(append([]string{e.Cert}, e.Chain...)...)
			if err != nil {
				return nil, failErr(exitDataErr, fmt.Errorf("seal %s: %w", e.ID, err))
			}
			set.chains = append(set.chains, chain)
			continue
		}
		if e.Key == "" {
			return nil, failErr(exitDataErr, fmt.Errorf("seal configuration %s: the current seal %s has no key", c.sealConfig, e.ID))
		}
		seal, err := loadSeal(e.Key, e.Cert, e.Chain...)
		if err != nil {
			return nil, fmt.Errorf("seal %s: %w", e.ID, err)
		}
		set.current = seal
		set.chains = append([][]*x509.Certificate{seal.Chain}, set.chains...)
	}
	if set.current == nil {
		return nil, failErr(exitDataErr, fmt.Errorf("seal configuration %s: no seal with the current id %q", c.sealConfig, cfg.Current))
	}
	return set, nil
}

// sealCloseGrace is how long a replaced seal's token key stays open after a switch: longer than any one seal
// takes (preparation, time-stamp and validation data each time out well within it).
const sealCloseGrace = 2 * time.Minute

// sealSwitch switches the running service's seal (SIGHUP): the signing flow signs with the new seal from the
// next signature on, and the key monitor checks the new key.
type sealSwitch struct {
	c       *serveConfig
	logger  *slog.Logger
	flow    *signing.Service
	monitor *signer.KeyMonitor
	mu      sync.Mutex
	id      string
	started *signer.Seal // the seal the service started with (its key stays open: the caller owns it)
	current *signer.Seal
}

// seal is the seal in use now: the signing flow's and the audit log's.
func (s *sealSwitch) seal() *signer.Seal {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current
}

// reload reads the seal configuration again and switches to its current seal. On failure the service keeps
// sealing with the seal it has.
func (s *sealSwitch) reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	set, err := readSeals(s.c, s.logger)
	if err != nil {
		s.logger.Error("seal reload failed: still sealing with the previous seal", "seal", s.id, "error", err.Error())
		return err
	}
	s.flow.SetSeal(set.current)
	err = s.monitor.SetKey(ctx, set.current.Key)
	if old := s.current; old != nil && old != s.started {
		// a token key's sessions are not left open by every reload; after a grace period, so that a seal (of a
		// document or of the audit log's head) that took the old seal just before the switch finishes
		if c, ok := old.Key.(interface{ Close() error }); ok {
			time.AfterFunc(sealCloseGrace, func() { c.Close() }) //nolint:errcheck // nothing to do about a session that does not close
		}
	}
	s.current = set.current
	s.logger.Info("seal reloaded", "previous", s.id, "seal", set.id, "fingerprint", sealID(set.current),
		"subject", set.current.Certificate.Subject.String(), "check", errString(err))
	s.id = set.id
	return nil
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}
