package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

// KeyMonitor makes a test signature with a key at regular intervals and remembers the outcome, so that a
// readiness probe can answer without touching the key: a hardware token that became unreachable shows within
// Every (plus Timeout), and its return shows at the next check. A software key always passes.
type KeyMonitor struct {
	// Key is the key checked (change it with SetKey once Run started). When it has a Check() error method (PKCS11Key) that is used; otherwise a test
	// digest is signed and verified with Key.Public().
	Key crypto.Signer
	// Every is the interval between checks (default 10 s).
	Every time.Duration
	// Timeout bounds one check: a check that does not finish in time fails (default 5 s). A call still hung in
	// the token keeps failing the checks until it returns.
	Timeout time.Duration
	// OnChange, when set, is called when the outcome changes (nil: the key signs again).
	OnChange func(err error)

	mu      sync.Mutex
	err     error
	checked bool
	running bool // a check is in the token now
}

// Err is the last check's outcome (nil before the first check).
func (m *KeyMonitor) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// SetKey makes key the one checked from the next check on (the seal was switched), and checks it now.
func (m *KeyMonitor) SetKey(ctx context.Context, key crypto.Signer) error {
	m.mu.Lock()
	m.Key = key
	m.mu.Unlock()
	return m.CheckNow(ctx)
}

// Run checks the key now and then every Every until ctx ends.
func (m *KeyMonitor) Run(ctx context.Context) {
	every := m.Every
	if every <= 0 {
		every = 10 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		m.CheckNow(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckNow runs one check and records its outcome, which it returns.
func (m *KeyMonitor) CheckNow(ctx context.Context) error {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	m.mu.Lock()
	if m.running {
		// the previous check is still in the token: it is stuck
		m.mu.Unlock()
		err := fmt.Errorf("%w: the previous check has not returned", ErrTokenUnavailable)
		m.record(err)
		return err
	}
	m.running = true
	key := m.Key
	m.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		err := checkKey(key)
		m.mu.Lock()
		m.running = false
		m.mu.Unlock()
		done <- err
	}()
	var err error
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err = <-done:
	case <-t.C:
		err = fmt.Errorf("%w: no answer within %s", ErrTokenUnavailable, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	m.record(err)
	return err
}

func (m *KeyMonitor) record(err error) {
	m.mu.Lock()
	changed := !m.checked || (m.err == nil) != (err == nil)
	m.err, m.checked = err, true
	m.mu.Unlock()
	if changed && m.OnChange != nil {
		m.OnChange(err)
	}
}

// checkKey makes and verifies a test signature.
func checkKey(key crypto.Signer) error {
	if c, ok := key.(interface{ Check() error }); ok {
		return c.Check()
	}
	digest := sha256.Sum256([]byte("trustsign key check"))
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	switch pub := key.Public().(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest[:], sig) {
			return ErrSignatureCheck
		}
	case *rsa.PublicKey:
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			return fmt.Errorf("%w: %v", ErrSignatureCheck, err)
		}
	}
	return nil
}
