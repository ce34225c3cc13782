package profile

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

// Role is who a session belongs to.
type Role string

// Roles.
const (
	RoleHolder  Role = "holder"
	RoleOfficer Role = "officer"
)

// Session is an authenticated session. Token is set only when the session is created (Login): it is shown once
// and only its hash is stored.
type Session struct {
	Token     string
	Role      Role
	SubjectID string
	Created   time.Time
	// Expires is the earlier of the idle and the absolute expiry, as of now.
	Expires time.Time
}

// Officer is a confirmation-point official.
type Officer struct {
	ID       string
	Login    string
	Name     string
	Created  time.Time
	Disabled bool
}

// Scope is what an integrator client may do.
type Scope string

// Scopes.
const (
	ScopeSign   Scope = "sign"
	ScopeLookup Scope = "lookup"
	ScopeVerify Scope = "verify"
)

// Client is an integrator API client.
type Client struct {
	ID       string
	Name     string
	Scopes   []Scope
	Created  time.Time
	Disabled bool
}

// Has tells whether the client has a scope.
func (c Client) Has(s Scope) bool {
	for _, x := range c.Scopes {
		if x == s {
			return true
		}
	}
	return false
}

func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// newSecret returns "<prefix>" + 256 random bits in base64url: session tokens and API keys.
func (s *Service) newSecret(prefix string) (string, error) {
	b, err := s.randomBytes(32)
	if err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// Login is LoginFrom with no client address (all such callers share one address bucket).
func (s *Service) Login(ctx context.Context, login, password string) (Session, error) {
	return s.LoginFrom(ctx, "", login, password)
}

// LoginFrom checks a login and password (holders and officers share one login namespace) from a client address
// (the API's and the pages' idea of the caller's IP; "" when unknown) and opens a session.
//
// Unknown logins cost the same password hash as known ones. Failures are throttled per (address, login) with
// growing delays, per address over all logins with a cap (password spraying), and per login (see
// SessionOptions), never by locking the login: an attempt is recorded as a failure and checked against the
// throttles in ONE transaction before the password is hashed, so concurrent attempts from one address cannot all
// pass the check; an attempt the address's own throttles refuse gets a *ThrottledError saying when to retry
// without any hash, and a right password takes its recorded failure back.
//
// The per-login delay (failures from many addresses) cannot refuse the right password: an attempt it delays is
// still checked (within the hashing slots, and within its address's own throttles), and only a wrong one is
// answered with the *ThrottledError. Otherwise an attacker spending one wrong password a minute from anywhere
// keeps the holder out of every address not used before. The trade-off: guesses spread over many addresses are
// bounded by each address's throttles and the hashing slots, not by the per-login delay.
//
// Every attempt that reaches the password check and fails is audited. Holders of revoked or invalidated profiles
// cannot log in (ErrInvalidCredentials, like a wrong password). ErrBusy when no hashing slot frees up in time (the
// attempt is not counted then).
func (s *Service) LoginFrom(ctx context.Context, address, login, password string) (Session, error) {
	key := NormalizeLogin(login)
	if key == "" || len(key) > 64 || strings.ContainsAny(key, "@/") || len(password) > 4*MaxPasswordLen {
		return Session{}, ErrInvalidCredentials
	}
	now := s.now()
	so := s.o.Sessions
	addr := s.addressHash(address)
	addrKey := "@" + addr + "/" + key
	spray := s.rateKey("addr", string(ActionLogin), AddressBucket(address))
	var (
		role    Role
		id      string
		phc     string
		usable  bool
		refused error
		delayed time.Duration // the per-login delay this attempt is under: only a wrong password waits for it
	)
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		role, id, phc, usable, refused, delayed = "", "", "", false, nil, 0
		lt, err := tx.GetLoginThrottle(key)
		if err != nil {
			return err
		}
		at, err := tx.GetLoginThrottle(addrKey)
		if err != nil {
			return err
		}
		lt.Failures = recentFailures(lt.Failures, now.Add(-so.LoginWindow))
		at.Failures = recentFailures(at.Failures, now.Add(-so.LoginWindow))
		if wait := loginDelay(at.Failures, so.MaxLoginFailures, so.MaxLoginDelay, now); wait > 0 {
			refused = throttled("login", wait)
			return nil
		}
		limit, window := s.o.addressLimit(ActionLogin)
		ok, wait, err := takeSlot(tx, spray, limit, window, now)
		if err != nil {
			return err
		}
		if !ok {
			refused = throttled("address", wait)
			return nil
		}
		if !knownAddress(lt, addr, now) {
			delayed = loginDelay(lt.Failures, so.MaxLoginFailuresPerLogin, so.MaxLoginDelayPerLogin, now)
		}
		lt.Failures, at.Failures = append(lt.Failures, now), append(at.Failures, now)
		if err := tx.PutLoginThrottle(lt); err != nil {
			return err
		}
		if err := tx.PutLoginThrottle(at); err != nil {
			return err
		}
		kind, sid, err := tx.ResolveLogin(key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		switch kind {
		case store.LoginHolder:
			p, err := tx.GetProfile(sid)
			if err != nil {
				return err
			}
			role, id, phc = RoleHolder, p.ID, p.PasswordHash
			st := Status(p.Status)
			// a pending application is not an account yet: its login answers like a wrong password, so that
			// logging in cannot tell a fresh application from one filed with a taken login
			usable = st == Active || st == Expired
		case store.LoginOfficer:
			o, err := tx.GetOfficer(sid)
			if err != nil {
				return err
			}
			role, id, phc, usable = RoleOfficer, o.ID, o.PasswordHash, !o.Disabled
		}
		return nil
	})
	if err != nil {
		return Session{}, err
	}
	if refused != nil {
		return Session{}, refused
	}
	hashToCheck := phc
	if hashToCheck == "" {
		hashToCheck = s.dummy
	}
	ok, herr := s.checkPassword(ctx, password, hashToCheck)
	if errors.Is(herr, ErrBusy) || errors.Is(herr, context.Canceled) || errors.Is(herr, context.DeadlineExceeded) {
		// the password was not checked: the attempt does not count (also when the caller has gone)
		takeBack := func(tx *store.Tx) error { return s.takeBackAttempt(tx, key, addrKey, spray, now, "") }
		if err := s.st.Update(context.WithoutCancel(ctx), takeBack); err != nil {
			return Session{}, errors.Join(herr, err)
		}
		return Session{}, herr
	}
	ok = ok && herr == nil && phc != "" && usable
	if !ok {
		err := s.st.Update(ctx, func(tx *store.Tx) error {
			return tx.Audit(audit.Event{Time: now, Kind: "session.login.fail", Actor: "anonymous", Subject: id,
				Details: map[string]string{"address": addr}})
		})
		if err != nil {
			return Session{}, err
		}
		if delayed > 0 {
			return Session{}, throttled("login", delayed)
		}
		return Session{}, ErrInvalidCredentials
	}
	token, err := s.newSecret("tss_")
	if err != nil {
		return Session{}, err
	}
	sess := store.Session{TokenHash: tokenHash(token), Role: string(role), SubjectID: id, Created: now, LastSeen: now,
		IdleExpires: now.Add(so.IdleTimeout), AbsoluteExpires: now.Add(so.AbsoluteTimeout)}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := s.takeBackAttempt(tx, key, addrKey, spray, now, addr); err != nil {
			return err
		}
		if err := tx.CreateSession(sess); err != nil {
			return err
		}
		return tx.Audit(audit.Event{Time: now, Kind: "session.login", Actor: string(role) + ":" + id, Subject: id})
	})
	if err != nil {
		return Session{}, err
	}
	return Session{Token: token, Role: role, SubjectID: id, Created: now, Expires: sess.IdleExpires}, nil
}

// maxKnownAddresses bounds the addresses remembered per login.
const maxKnownAddresses = 10

// takeBackAttempt removes the failure recorded at `at` for an attempt that did not fail: from the login's
// throttle and the address's count over all logins (one entry each) and the whole (address, login) throttle.
// When known is set (a successful login), the address joins the login's known addresses.
func (s *Service) takeBackAttempt(tx *store.Tx, key, addrKey, spray string, at time.Time, known string) error {
	w, err := tx.GetRateWindow(spray)
	if err != nil {
		return err
	}
	for i := len(w.Times) - 1; i >= 0; i-- {
		if w.Times[i].Equal(at) {
			w.Times = append(w.Times[:i:i], w.Times[i+1:]...)
			if err := tx.PutRateWindow(w); err != nil {
				return err
			}
			break
		}
	}
	lt, err := tx.GetLoginThrottle(key)
	if err != nil {
		return err
	}
	for i := len(lt.Failures) - 1; i >= 0; i-- {
		if lt.Failures[i].Equal(at) {
			lt.Failures = append(lt.Failures[:i:i], lt.Failures[i+1:]...)
			break
		}
	}
	if known != "" {
		kept := lt.Known[:0:0]
		for _, k := range lt.Known {
			if k != known {
				kept = append(kept, k)
			}
		}
		lt.Known = append(kept, known)
		if n := len(lt.Known); n > maxKnownAddresses {
			lt.Known = lt.Known[n-maxKnownAddresses:]
		}
		lt.KeepUntil = at.Add(s.o.Sessions.KnownAddressTTL)
	}
	if len(lt.Failures) == 0 && len(lt.Known) == 0 {
		err = tx.DeleteLoginThrottle(key)
	} else {
		err = tx.PutLoginThrottle(lt)
	}
	if err != nil {
		return err
	}
	if known != "" {
		return tx.DeleteLoginThrottle(addrKey)
	}
	a, err := tx.GetLoginThrottle(addrKey)
	if err != nil {
		return err
	}
	for i := len(a.Failures) - 1; i >= 0; i-- {
		if a.Failures[i].Equal(at) {
			a.Failures = append(a.Failures[:i:i], a.Failures[i+1:]...)
			break
		}
	}
	if len(a.Failures) == 0 {
		return tx.DeleteLoginThrottle(addrKey)
	}
	return tx.PutLoginThrottle(a)
}

// maxRecordedFailures bounds the failures kept per throttle: the delay reaches its cap well before.
const maxRecordedFailures = 40

// recentFailures forgets every failure when the newest is older than since (a quiet LoginWindow), and keeps at most
// maxRecordedFailures.
func recentFailures(failures []time.Time, since time.Time) []time.Time {
	n := len(failures)
	if n == 0 || failures[n-1].Before(since) {
		return nil
	}
	if n > maxRecordedFailures {
		return append([]time.Time(nil), failures[n-maxRecordedFailures:]...)
	}
	return failures
}

// loginDelay is how long an attempt must still wait given the failures within the window: nothing below free
// failures, then 1 s, 2 s, 4 s … (at most limit) after the newest failure.
func loginDelay(failures []time.Time, free int, limit time.Duration, now time.Time) time.Duration {
	n := len(failures)
	if n < free {
		return 0
	}
	d := limit
	if k := n - free; k < 30 && time.Second<<k < limit {
		d = time.Second << k
	}
	if wait := failures[n-1].Add(d).Sub(now); wait > 0 {
		return wait
	}
	return 0
}

// knownAddress tells whether the address (hashed) logged in to the login within the KnownAddressTTL.
func knownAddress(lt store.LoginThrottle, addr string, now time.Time) bool {
	if !now.Before(lt.KeepUntil) {
		return false
	}
	for _, k := range lt.Known {
		if k == addr {
			return true
		}
	}
	return false
}

// addressHash is the keyed hash under which a client address is throttled and remembered (no address is stored).
func (s *Service) addressHash(address string) string {
	return hex.EncodeToString(mac(s.keys.token, "login-address", address)[:12])
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Authenticate resolves a session token. It moves the idle expiry forward (writing at most once a minute per
// session) and returns ErrUnauthenticated for an unknown, expired or ended session.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, error) {
	if !strings.HasPrefix(token, "tss_") || len(token) > 100 {
		return Session{}, ErrUnauthenticated
	}
	h := tokenHash(token)
	now := s.now()
	var st store.Session
	err := s.st.View(ctx, func(tx *store.Tx) error {
		var err error
		st, err = tx.GetSession(h)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrUnauthenticated
	}
	if err != nil {
		return Session{}, err
	}
	if !now.Before(st.IdleExpires) || !now.Before(st.AbsoluteExpires) {
		_ = s.st.Update(ctx, func(tx *store.Tx) error { return tx.DeleteSession(h) })
		return Session{}, ErrUnauthenticated
	}
	if now.Sub(st.LastSeen) >= time.Minute {
		st.LastSeen, st.IdleExpires = now, now.Add(s.o.Sessions.IdleTimeout)
		err := s.st.Batch(ctx, func(tx *store.Tx) error {
			cur, err := tx.GetSession(h)
			if err != nil {
				return err
			}
			cur.LastSeen, cur.IdleExpires = st.LastSeen, st.IdleExpires
			return tx.UpdateSession(cur)
		})
		if errors.Is(err, store.ErrNotFound) {
			return Session{}, ErrUnauthenticated
		}
		if err != nil {
			return Session{}, err
		}
	}
	exp := st.IdleExpires
	if st.AbsoluteExpires.Before(exp) {
		exp = st.AbsoluteExpires
	}
	return Session{Role: Role(st.Role), SubjectID: st.SubjectID, Created: st.Created, Expires: exp}, nil
}

// Logout ends a session (no error when it is unknown).
func (s *Service) Logout(ctx context.Context, token string) error {
	now := s.now()
	return s.st.Update(ctx, func(tx *store.Tx) error {
		st, err := tx.GetSession(tokenHash(token))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteSession(st.TokenHash); err != nil {
			return err
		}
		return tx.Audit(audit.Event{Time: now, Kind: "session.logout", Actor: st.Role + ":" + st.SubjectID, Subject: st.SubjectID})
	})
}

// CreateOfficer adds a confirmation-point officer (an administrator's act). The password follows the holders'
// rules. ErrInvalid when the login is taken (by a holder or an officer): administrators may know that.
func (s *Service) CreateOfficer(ctx context.Context, login, password, name string) (Officer, error) {
	if err := ValidateLogin(login); err != nil {
		return Officer{}, err
	}
	if err := CheckPasswordRules(password, login, s.o.BlockedPasswords); err != nil {
		return Officer{}, err
	}
	name, err := validName("name", name, false)
	if err != nil {
		return Officer{}, err
	}
	hash, err := s.hashPassword(ctx, password)
	if err != nil {
		return Officer{}, err
	}
	id, err := s.newID()
	if err != nil {
		return Officer{}, err
	}
	now := s.now()
	o := store.Officer{ID: id, Login: login, LoginKey: NormalizeLogin(login), Name: name, PasswordHash: hash, Created: now}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateOfficer(o); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return invalidField("login", "is taken")
			}
			return err
		}
		return tx.Audit(audit.Event{Time: now, Kind: "officer.create", Actor: "admin", Subject: id,
			Details: map[string]string{"login": o.Login}})
	})
	if err != nil {
		return Officer{}, err
	}
	return Officer{ID: id, Login: login, Name: name, Created: now}, nil
}

// AuthenticateOfficer checks an officer's login and password (with the same throttling as Login) and returns the
// officer without opening a session.
func (s *Service) AuthenticateOfficer(ctx context.Context, login, password string) (Officer, error) {
	sess, err := s.Login(ctx, login, password)
	if err != nil {
		return Officer{}, err
	}
	// Login opened a session; this call only wanted the check.
	_ = s.Logout(ctx, sess.Token)
	if sess.Role != RoleOfficer {
		return Officer{}, ErrInvalidCredentials
	}
	return s.Officer(ctx, sess.SubjectID)
}

// Officer reads an officer by id.
func (s *Service) Officer(ctx context.Context, id string) (Officer, error) {
	var o store.Officer
	err := s.st.View(ctx, func(tx *store.Tx) error {
		var err error
		o, err = tx.GetOfficer(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Officer{}, ErrNotFound
	}
	return Officer{ID: o.ID, Login: o.Login, Name: o.Name, Created: o.Created, Disabled: o.Disabled}, err
}

// ParseScopes parses "sign,lookup" into scopes (sorted, deduplicated).
func ParseScopes(s string) ([]Scope, error) {
	seen := map[Scope]bool{}
	var out []Scope
	for _, f := range strings.Split(s, ",") {
		sc := Scope(strings.TrimSpace(f))
		switch sc {
		case ScopeSign, ScopeLookup, ScopeVerify:
		default:
			return nil, invalidField("scopes", "each scope is sign, lookup or verify")
		}
		if !seen[sc] {
			seen[sc] = true
			out = append(out, sc)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// CreateClient registers an integrator and returns its API key, shown this once: "tsk_" + 256 random bits.
// Only the key's SHA-256 is stored.
func (s *Service) CreateClient(ctx context.Context, name string, scopes []Scope) (Client, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || strings.ContainsAny(name, "\r\n\t") {
		return Client{}, "", invalidField("name", "1 to 100 characters on one line")
	}
	if len(scopes) == 0 {
		return Client{}, "", invalidField("scopes", "at least one scope")
	}
	var ss []string
	for _, sc := range scopes {
		if sc != ScopeSign && sc != ScopeLookup && sc != ScopeVerify {
			return Client{}, "", invalidField("scopes", "each scope is sign, lookup or verify")
		}
		ss = append(ss, string(sc))
	}
	key, err := s.newSecret("tsk_")
	if err != nil {
		return Client{}, "", err
	}
	id, err := s.newID()
	if err != nil {
		return Client{}, "", err
	}
	now := s.now()
	c := store.Client{ID: id, Name: name, Scopes: ss, KeyHash: tokenHash(key), Created: now}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateClient(c); err != nil {
			return err
		}
		return tx.Audit(audit.Event{Time: now, Kind: "client.create", Actor: "admin", Subject: id,
			Details: map[string]string{"name": name, "scopes": strings.Join(ss, ",")}})
	})
	if err != nil {
		return Client{}, "", err
	}
	return Client{ID: id, Name: name, Scopes: scopes, Created: now}, key, nil
}

// AuthenticateClient resolves an API key: ErrUnauthenticated for an unknown key, ErrForbidden for a disabled
// client.
func (s *Service) AuthenticateClient(ctx context.Context, key string) (Client, error) {
	if !strings.HasPrefix(key, "tsk_") || len(key) > 100 {
		return Client{}, ErrUnauthenticated
	}
	var c store.Client
	err := s.st.View(ctx, func(tx *store.Tx) error {
		var err error
		c, err = tx.GetClientByKeyHash(tokenHash(key))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Client{}, ErrUnauthenticated
	}
	if err != nil {
		return Client{}, err
	}
	if c.Disabled {
		return Client{}, ErrForbidden
	}
	return clientToDomain(c), nil
}

func clientToDomain(c store.Client) Client {
	out := Client{ID: c.ID, Name: c.Name, Created: c.Created, Disabled: c.Disabled}
	for _, s := range c.Scopes {
		out.Scopes = append(out.Scopes, Scope(s))
	}
	return out
}

// DisableClient stops a client's key from working.
func (s *Service) DisableClient(ctx context.Context, actor, clientID string) error {
	now := s.now()
	return s.st.Update(ctx, func(tx *store.Tx) error {
		c, err := tx.GetClient(clientID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		c.Disabled = true
		if err := tx.UpdateClient(c); err != nil {
			return err
		}
		return tx.Audit(audit.Event{Time: now, Kind: "client.disable", Actor: "admin:" + actor, Subject: clientID})
	})
}

// LookupResult is what an integrator learns about a PESEL (the real service's TrustedProfileInfoForPESEL).
type LookupResult struct {
	Status             Status
	ProfileID          string
	Login              string
	FirstName          string
	SecondName         string
	Surname            string
	PESEL              string
	Email              string
	Phone              string
	ConfirmationMethod Method
	Temporary          bool
	Created            time.Time
	Expires            *time.Time
}

// LookupByPESEL finds the current profile of a PESEL for an integrator with the lookup scope. Every call is
// audited with the client (the PESEL only as a keyed hash), found or not. Pending applications are not profiles:
// ErrNotFound. ErrForbidden without the scope.
func (s *Service) LookupByPESEL(ctx context.Context, client Client, pesel string) (LookupResult, error) {
	if !client.Has(ScopeLookup) || client.Disabled {
		return LookupResult{}, ErrForbidden
	}
	ps, err := ParsePESEL(strings.TrimSpace(pesel))
	if err != nil {
		return LookupResult{}, invalidField("pesel", "must be 11 digits with a valid checksum and date of birth")
	}
	now := s.now()
	var (
		p     store.Profile
		found bool
	)
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		found = false
		var err error
		p, err = tx.GetProfileByPESELHash(s.peselIndex(ps.Number))
		switch {
		case err == nil:
			// an application is not a profile: pending, or invalidated or revoked before its confirmation
			found = Status(p.Status) != Pending && !p.NeverConfirmed()
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		subject := ""
		if found {
			subject = p.ID
		}
		return tx.Audit(audit.Event{Time: now, Kind: "lookup.pesel", Actor: "client:" + client.ID, Subject: subject,
			Details: map[string]string{"peselHash": s.auditPESEL(ps.Number), "found": boolString(found)}})
	})
	if err != nil {
		return LookupResult{}, err
	}
	if !found {
		return LookupResult{}, ErrNotFound
	}
	r := LookupResult{Status: Status(p.Status), ProfileID: p.ID, Login: p.Login, FirstName: p.FirstName,
		SecondName: p.SecondName, Surname: p.Surname, PESEL: p.PESEL, Email: p.Email, Phone: p.Phone,
		Temporary: p.Temporary, Created: p.Created, Expires: p.Expires}
	if Status(p.Status) == Active && p.Expires != nil && !now.Before(*p.Expires) {
		r.Status = Expired // not swept yet
	}
	if p.Confirmation != nil {
		r.ConfirmationMethod = Method(p.Confirmation.Method)
	}
	return r, nil
}
