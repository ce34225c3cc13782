//go:build cgo

package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/miekg/pkcs11"
)

// PKCS11Available reports whether this build can use PKCS#11 keys (it was built with cgo).
const PKCS11Available = true

// module is one loaded PKCS#11 library, shared by every key that names it: the library's state is per process,
// so initialising it again for one key (to recover from a lost token) re-initialises it for all.
type module struct {
	path string
	mu   sync.RWMutex // held for reading by every operation, for writing to (re)initialise
	ctx  *pkcs11.Ctx
	up   bool      // initialised and not known broken
	gen  uint64    // bumped at each initialisation: sessions and handles of older generations are gone
	last time.Time // the last attempt to initialise
	err  error     // why the last attempt failed
}

var (
	modulesMu sync.Mutex
	modules   = map[string]*module{}
)

// retryEvery bounds how often a broken module is initialised again: a token that is gone makes each attempt fail
// (quickly), and callers (the health check, every sealing) would otherwise retry at their own pace.
const retryEvery = time.Second

// errRecentlyFailed: the module is not initialised again yet (see retryEvery).
var errRecentlyFailed = errors.New("failed less than a second ago")

func loadModule(path string) (*module, error) {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	if m, ok := modules[path]; ok {
		return m, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("%w: cannot load the PKCS#11 module %s", ErrTokenUnavailable, path)
	}
	m := &module{path: path, ctx: ctx}
	modules[path] = m
	return m, nil
}

// ensureUp initialises the module when it is not (first use, or after a failure), at most once per retryEvery.
// It returns the generation now up.
func (m *module) ensureUp() (uint64, error) {
	m.mu.RLock()
	up, gen := m.up, m.gen
	m.mu.RUnlock()
	if up {
		return gen, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.up {
		return m.gen, nil
	}
	if time.Since(m.last) < retryEvery && m.err != nil {
		return 0, fmt.Errorf("%w: %s %w; the last failure: %w", ErrTokenUnavailable, m.path, errRecentlyFailed, m.err)
	}
	m.last = time.Now()
	if err := m.ctx.Initialize(); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		m.err = fmt.Errorf("%w: initialising %s: %v", ErrTokenUnavailable, m.path, err)
		return 0, m.err
	}
	m.up, m.err = true, nil
	m.gen++
	return m.gen, nil
}

// fail marks generation gen broken: the module is finalised (every session of every key closes) and initialised
// again on next use. A token that was removed and put back is found again this way, which a library that caches
// its token list at initialisation (SoftHSM) would not otherwise do.
func (m *module) fail(gen uint64, cause error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.up || m.gen != gen {
		return // already reset
	}
	m.ctx.Finalize() //nolint:errcheck // a broken token may refuse; initialising again is what matters
	m.up, m.err = false, cause
}

// PKCS11Key is a private key in a PKCS#11 token, used through a pool of sessions. It is a crypto.Signer: ECDSA
// keys sign digests (the signature is returned in ASN.1, as crypto/ecdsa does), RSA keys sign with PKCS#1 v1.5,
// or with PSS when the options are *rsa.PSSOptions. Each signature is verified with the public key before it is
// returned (ErrSignatureCheck otherwise).
//
// When an operation fails, the module is initialised again and the operation retried once; while the token is
// unreachable, Sign fails with ErrTokenUnavailable, and it works again once the token is back, without a restart.
type PKCS11Key struct {
	uri  *PKCS11URI
	pin  string
	pub  crypto.PublicKey
	mod  *module
	max  int
	wait time.Duration

	mu       sync.Mutex // guards what follows
	gen      uint64     // the module generation of slot, handle and sessions
	slot     uint
	handle   pkcs11.ObjectHandle
	sessions chan pkcs11.SessionHandle // idle sessions
	open     int                       // sessions open, idle or in use
	freed    chan struct{}             // signalled when a session is returned or closed
	pinErr   error                     // the token refused the PIN: never tried again (it would lock the token)
	closed   bool                      // Close was called: no more signatures, sessions close as they come back
}

// Close closes the key's idle sessions; a signature still running closes its session when done, and Sign fails
// from now on. The module stays loaded for the process's other keys.
func (k *PKCS11Key) Close() error {
	k.mod.mu.RLock()
	defer k.mod.mu.RUnlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if !k.mod.up || k.gen != k.mod.gen {
		return nil // its sessions went with the module's last initialisation
	}
	for {
		select {
		case sh := <-k.sessions:
			k.mod.ctx.CloseSession(sh) //nolint:errcheck // closing is all that is left to do
			k.open--
		default:
			return nil
		}
	}
}

// OpenPKCS11 opens the key uri names (see ParsePKCS11URI) and makes a test signature, which must verify with
// opts.Public (ErrKeyMismatch otherwise). The key must be RSA or ECDSA and match opts.Public's type.
func OpenPKCS11(uri *PKCS11URI, opts PKCS11Options) (*PKCS11Key, error) {
	if opts.Public == nil {
		return nil, fmt.Errorf("%w: no public key (the key's certificate) given", ErrInvalidCertificate)
	}
	if err := CheckKey(opts.Public); err != nil {
		return nil, err
	}
	pin := opts.PIN
	if pin == "" && uri.PINFile != "" {
		var err error
		if pin, err = ReadPINFile(uri.PINFile); err != nil {
			return nil, err
		}
	}
	m, err := loadModule(uri.ModulePath)
	if err != nil {
		return nil, err
	}
	k := &PKCS11Key{uri: uri, pin: pin, pub: opts.Public, mod: m, max: opts.Sessions, wait: opts.SessionWait,
		freed: make(chan struct{}, 1)}
	if k.max <= 0 {
		k.max = min(max(2*runtime.GOMAXPROCS(0), 4), 32)
	}
	if k.wait <= 0 {
		k.wait = 10 * time.Second
	}
	// the first use finds the token and the key, and the test signature proves the key is the certificate's
	err = k.Check()
	if errors.Is(err, errRecentlyFailed) {
		// another key of the module failed a moment ago: this key deserves an attempt of its own
		time.Sleep(retryEvery)
		err = k.Check()
	}
	if err != nil {
		if errors.Is(err, ErrSignatureCheck) {
			return nil, fmt.Errorf("%w: the token's key %s did not make a signature that the certificate's key verifies", ErrKeyMismatch, uri.label())
		}
		return nil, err
	}
	return k, nil
}

// Public returns the key's public key (its certificate's).
func (k *PKCS11Key) Public() crypto.PublicKey { return k.pub }

// URI returns the key's URI (without secrets).
func (k *PKCS11Key) URI() string { return k.uri.String() }

// Check makes a test signature over a fixed digest and verifies it: nil means the token signs now.
func (k *PKCS11Key) Check() error {
	digest := make([]byte, 32)
	copy(digest, "trustsign PKCS#11 key check.....")
	var opts crypto.SignerOpts = crypto.SHA256
	_, err := k.Sign(nil, digest, opts)
	return err
}

// Sign signs digest (already hashed with opts.HashFunc()) in the token. rand is not used: the token draws its
// own randomness.
func (k *PKCS11Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts == nil {
		return nil, fmt.Errorf("signer: PKCS#11 Sign needs options (the hash)")
	}
	mech, data, err := k.mechanism(digest, opts)
	if err != nil {
		return nil, err
	}
	var sig []byte
	for attempt := 0; ; attempt++ {
		sig, err = k.signOnce(mech, data)
		if err == nil || attempt == 1 || !errors.Is(err, ErrTokenUnavailable) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return k.finish(sig, digest, opts)
}

// signOnce signs data with one session of the current module generation. A failure other than of the input
// marks the generation broken, so that the next call starts afresh.
func (k *PKCS11Key) signOnce(mech []*pkcs11.Mechanism, data []byte) ([]byte, error) {
	gen, err := k.mod.ensureUp()
	if err != nil {
		return nil, err
	}
	k.mod.mu.RLock()
	if !k.mod.up || k.mod.gen != gen {
		k.mod.mu.RUnlock()
		return nil, fmt.Errorf("%w: the module was re-initialised meanwhile", ErrTokenUnavailable)
	}
	sig, err := k.signLocked(gen, mech, data)
	k.mod.mu.RUnlock()
	if err != nil {
		if errors.Is(err, ErrTokenUnavailable) {
			k.mod.fail(gen, err) // a wrong PIN or an ambiguous URI is no outage: initialising again changes nothing
		}
		return nil, err
	}
	return sig, nil
}

// signLocked runs under the module's read lock.
func (k *PKCS11Key) signLocked(gen uint64, mech []*pkcs11.Mechanism, data []byte) ([]byte, error) {
	p := k.mod.ctx
	sh, handle, err := k.session(gen)
	if err != nil {
		return nil, err
	}
	if err = p.SignInit(sh, mech, handle); err == nil {
		var sig []byte
		if sig, err = p.Sign(sh, data); err == nil {
			k.release(gen, sh, true)
			return sig, nil
		}
	}
	if refusal(err) {
		// the token is there and answered: this key or mechanism cannot make this signature
		k.release(gen, sh, true)
		return nil, fmt.Errorf("%w: the token refuses this signature with %s: %v", ErrUnsupportedKey, k.uri.label(), err)
	}
	k.release(gen, sh, false)
	return nil, fmt.Errorf("%w: signing with %s: %v", ErrTokenUnavailable, k.uri.label(), err)
}

// refusal tells a token's answer about the request (a mechanism or key it does not allow for this signature)
// from a failure of the token: initialising the module again would change nothing.
func refusal(err error) bool {
	for _, code := range []uint{pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_MECHANISM_PARAM_INVALID, pkcs11.CKR_KEY_TYPE_INCONSISTENT,
		pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED, pkcs11.CKR_DATA_LEN_RANGE, pkcs11.CKR_DATA_INVALID, pkcs11.CKR_KEY_SIZE_RANGE} {
		if errors.Is(err, pkcs11.Error(code)) {
			return true
		}
	}
	return false
}

// session returns an idle session of generation gen (opening one while fewer than max are open, otherwise
// waiting up to k.wait for one), and the key's handle. A new generation first finds the token and the key.
func (k *PKCS11Key) session(gen uint64) (pkcs11.SessionHandle, pkcs11.ObjectHandle, error) {
	deadline := time.Now().Add(k.wait)
	for {
		k.mu.Lock()
		if k.closed {
			k.mu.Unlock()
			return 0, 0, fmt.Errorf("signer: the PKCS#11 key %s was closed", k.uri.label())
		}
		if k.gen != gen {
			// the module was initialised again: every old session and handle is gone
			if err := k.find(gen); err != nil {
				k.mu.Unlock()
				return 0, 0, err
			}
		}
		select {
		case sh := <-k.sessions:
			h := k.handle
			k.mu.Unlock()
			return sh, h, nil
		default:
		}
		if k.open < k.max {
			sh, err := k.openSession()
			if err != nil {
				k.mu.Unlock()
				return 0, 0, err
			}
			k.open++
			h := k.handle
			k.mu.Unlock()
			return sh, h, nil
		}
		k.mu.Unlock()
		left := time.Until(deadline)
		if left <= 0 {
			return 0, 0, fmt.Errorf("%w: all %d sessions busy for %s", ErrTokenUnavailable, k.max, k.wait)
		}
		t := time.NewTimer(min(left, 50*time.Millisecond))
		select {
		case <-k.freed:
		case <-t.C:
		}
		t.Stop()
	}
}

// release gives a session back (ok) or closes it.
func (k *PKCS11Key) release(gen uint64, sh pkcs11.SessionHandle, ok bool) {
	k.mu.Lock()
	if k.gen == gen && ok && !k.closed {
		k.sessions <- sh // never blocks: the channel holds max
	} else {
		if k.gen == gen {
			k.open--
		}
		k.mod.ctx.CloseSession(sh) //nolint:errcheck // the session may already be gone with its token
	}
	k.mu.Unlock()
	select {
	case k.freed <- struct{}{}:
	default:
	}
}

// find (under k.mu) finds the slot and the key for generation gen, logging in with the PIN.
func (k *PKCS11Key) find(gen uint64) error {
	p := k.mod.ctx
	k.sessions, k.open = make(chan pkcs11.SessionHandle, k.max), 0
	slots, err := p.GetSlotList(true)
	if err != nil {
		return fmt.Errorf("%w: listing slots: %v", ErrTokenUnavailable, err)
	}
	var found []uint
	maxSessions := uint(0)
	for _, s := range slots {
		if k.uri.SlotID != nil && *k.uri.SlotID != s {
			continue
		}
		ti, err := p.GetTokenInfo(s)
		if err != nil {
			continue
		}
		if k.uri.Token != "" && strings.TrimRight(ti.Label, " \x00") != k.uri.Token {
			continue
		}
		if k.uri.Serial != "" && strings.TrimRight(ti.SerialNumber, " \x00") != k.uri.Serial {
			continue
		}
		found = append(found, s)
		maxSessions = ti.MaxSessionCount
	}
	switch {
	case len(found) == 0:
		return fmt.Errorf("%w: no token %s in %s", ErrTokenUnavailable, k.uri.tokenLabel(), k.mod.path)
	case len(found) > 1:
		return fmt.Errorf("%w: %d tokens match %s: name it by serial or slot-id", ErrPKCS11URI, len(found), k.uri.tokenLabel())
	}
	const effectivelyInfinite = 0
	if maxSessions != effectivelyInfinite && maxSessions < uint(^uint32(0)) && int(maxSessions) < k.max && maxSessions > 0 {
		k.max = int(maxSessions)
		k.sessions = make(chan pkcs11.SessionHandle, k.max)
	}
	k.slot = found[0]
	sh, err := k.openSession()
	if err != nil {
		return err
	}
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)}
	if k.uri.Object != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, k.uri.Object))
	}
	if len(k.uri.ID) > 0 {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, k.uri.ID))
	}
	handles, err := findObjects(p, sh, tmpl)
	if err != nil {
		p.CloseSession(sh) //nolint:errcheck
		return fmt.Errorf("%w: finding the key: %v", ErrTokenUnavailable, err)
	}
	switch {
	case len(handles) == 0:
		p.CloseSession(sh) //nolint:errcheck
		return fmt.Errorf("%w: no private key %s in the token (logged in: %t)", ErrTokenUnavailable, k.uri.label(), k.pin != "")
	case len(handles) > 1:
		p.CloseSession(sh) //nolint:errcheck
		return fmt.Errorf("%w: %d private keys match %s: name it by object and id", ErrPKCS11URI, len(handles), k.uri.label())
	}
	attrs, err := p.GetAttributeValue(sh, handles[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil)})
	if err != nil || len(attrs) != 1 {
		p.CloseSession(sh) //nolint:errcheck
		return fmt.Errorf("%w: reading the key's type: %v", ErrTokenUnavailable, err)
	}
	kt := bytesToUint(attrs[0].Value)
	switch k.pub.(type) {
	case *ecdsa.PublicKey:
		if kt != pkcs11.CKK_EC {
			p.CloseSession(sh) //nolint:errcheck
			return fmt.Errorf("%w: the certificate's key is ECDSA, the token's key %s is not (type %#x)", ErrKeyMismatch, k.uri.label(), kt)
		}
	case *rsa.PublicKey:
		if kt != pkcs11.CKK_RSA {
			p.CloseSession(sh) //nolint:errcheck
			return fmt.Errorf("%w: the certificate's key is RSA, the token's key %s is not (type %#x)", ErrKeyMismatch, k.uri.label(), kt)
		}
	}
	k.handle, k.gen, k.open = handles[0], gen, 1
	k.sessions <- sh
	return nil
}

// openSession (under k.mu) opens a session with the token and logs in (once per token and process: a second
// login answers CKR_USER_ALREADY_LOGGED_IN).
func (k *PKCS11Key) openSession() (pkcs11.SessionHandle, error) {
	p := k.mod.ctx
	sh, err := p.OpenSession(k.slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return 0, fmt.Errorf("%w: opening a session: %v", ErrTokenUnavailable, err)
	}
	if k.pinErr != nil {
		p.CloseSession(sh) //nolint:errcheck
		return 0, k.pinErr
	}
	if k.pin != "" {
		if err := p.Login(sh, pkcs11.CKU_USER, k.pin); err != nil && !errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)) {
			p.CloseSession(sh) //nolint:errcheck
			if errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_INCORRECT)) || errors.Is(err, pkcs11.Error(pkcs11.CKR_PIN_LOCKED)) {
				// never tried again: each try would count against the PIN, until the token locks it
				k.pinErr = fmt.Errorf("%w: the token refused the PIN: %v (check the PIN file, then restart or reload)", ErrPINFile, err)
				return 0, k.pinErr
			}
			return 0, fmt.Errorf("%w: logging in: %v", ErrTokenUnavailable, err)
		}
	}
	return sh, nil
}

func findObjects(p *pkcs11.Ctx, sh pkcs11.SessionHandle, tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := p.FindObjectsInit(sh, tmpl); err != nil {
		return nil, err
	}
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := p.FindObjects(sh, 16)
		if err != nil {
			p.FindObjectsFinal(sh) //nolint:errcheck
			return nil, err
		}
		all = append(all, hs...)
		if len(hs) == 0 || len(all) > 16 {
			break
		}
	}
	return all, p.FindObjectsFinal(sh)
}

func bytesToUint(b []byte) uint {
	// CK_ULONG in the platform's byte order, which is little-endian on every platform trustsign builds for
	var n uint
	for i := len(b) - 1; i >= 0; i-- {
		n = n<<8 | uint(b[i])
	}
	return n
}

// DigestInfo prefixes of PKCS#1 v1.5 (RFC 8017, 9.2 note 1): CKM_RSA_PKCS signs the DigestInfo as given.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

var pssHash = map[crypto.Hash][2]uint{
	crypto.SHA256: {pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256},
	crypto.SHA384: {pkcs11.CKM_SHA384, pkcs11.CKG_MGF1_SHA384},
	crypto.SHA512: {pkcs11.CKM_SHA512, pkcs11.CKG_MGF1_SHA512},
}

// mechanism chooses the token's mechanism and the data it signs for digest and opts.
func (k *PKCS11Key) mechanism(digest []byte, opts crypto.SignerOpts) ([]*pkcs11.Mechanism, []byte, error) {
	h := opts.HashFunc()
	if h != 0 && len(digest) != h.Size() {
		return nil, nil, fmt.Errorf("signer: a %s digest is %d bytes, not %d", h, h.Size(), len(digest))
	}
	switch k.pub.(type) {
	case *ecdsa.PublicKey:
		return []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)}, digest, nil
	case *rsa.PublicKey:
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			ph, ok := pssHash[h]
			if !ok {
				return nil, nil, fmt.Errorf("%w: RSA-PSS with %s", ErrUnsupportedKey, h)
			}
			params := pkcs11.NewPSSParams(ph[0], ph[1], uint(pssSalt(pss, h)))
			return []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_PSS, params)}, digest, nil
		}
		prefix, ok := digestInfoPrefix[h]
		if !ok {
			return nil, nil, fmt.Errorf("%w: RSA PKCS#1 v1.5 with %s", ErrUnsupportedKey, h)
		}
		return []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}, append(append([]byte(nil), prefix...), digest...), nil
	}
	return nil, nil, fmt.Errorf("%w: %s", ErrUnsupportedKey, describeKey(k.pub))
}

// pssSalt is the salt length a PSS signature is made with: the hash's size unless a length is given (the size
// XML-DSig's RSA-MGF1 methods and most verifiers expect; crypto/rsa's "auto" would use the largest).
func pssSalt(o *rsa.PSSOptions, h crypto.Hash) int {
	if o.SaltLength > 0 {
		return o.SaltLength
	}
	return h.Size()
}

// finish turns the token's signature into crypto.Signer's form and checks it with the public key.
func (k *PKCS11Key) finish(sig, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	switch pub := k.pub.(type) {
	case *ecdsa.PublicKey:
		// PKCS#11 gives r || s, each as long as the order; crypto.Signer gives ASN.1
		if len(sig) == 0 || len(sig)%2 != 0 {
			return nil, fmt.Errorf("%w: an ECDSA signature of %d bytes", ErrSignatureCheck, len(sig))
		}
		n := len(sig) / 2
		der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
		if err != nil {
			return nil, err
		}
		if !ecdsa.VerifyASN1(pub, digest, der) {
			return nil, fmt.Errorf("%w (%s)", ErrSignatureCheck, k.uri.label())
		}
		return der, nil
	case *rsa.PublicKey:
		var err error
		if pss, ok := opts.(*rsa.PSSOptions); ok {
			err = rsa.VerifyPSS(pub, opts.HashFunc(), digest, sig, &rsa.PSSOptions{SaltLength: pssSalt(pss, opts.HashFunc())})
		} else {
			err = rsa.VerifyPKCS1v15(pub, opts.HashFunc(), digest, sig)
		}
		if err != nil {
			return nil, fmt.Errorf("%w (%s): %v", ErrSignatureCheck, k.uri.label(), err)
		}
		return sig, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedKey, describeKey(k.pub))
}
