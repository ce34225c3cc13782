package profile

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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

// Login checks a login and password (holders and officers share one login namespace) and opens a session.
// Unknown logins cost the same password hash as known ones. Failures are counted per login (whether or not it
// exists): MaxLoginFailures within LoginWindow lock the login for LoginLockout (*ThrottledError). Pending
// applicants and holders of revoked or invalidated profiles cannot log in (ErrInvalidCredentials, like a wrong
// password).
func (s *Service) Login(ctx context.Context, login, password string) (Session, error) {
	key := NormalizeLogin(login)
	if key == "" || len(key) > 64 || len(password) > 4*MaxPasswordLen {
		return Session{}, ErrInvalidCredentials
	}
	now := s.now()
	so := s.o.Sessions
	var (
		role   Role
		id     string
		phc    string
		usable bool
	)
	err := s.st.View(ctx, func(tx *store.Tx) error {
		role, id, phc, usable = "", "", "", false
		lt, err := tx.GetLoginThrottle(key)
		if err != nil {
			return err
		}
		if now.Before(lt.LockedUntil) {
			return throttled("login", lt.LockedUntil.Sub(now))
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
	hashToCheck := phc
	if hashToCheck == "" {
		hashToCheck = s.dummy
	}
	ok, herr := checkPassword(password, hashToCheck)
	ok = ok && herr == nil && phc != "" && usable
	if !ok {
		var out error = ErrInvalidCredentials
		err := s.st.Update(ctx, func(tx *store.Tx) error {
			out = ErrInvalidCredentials
			lt, err := tx.GetLoginThrottle(key)
			if err != nil {
				return err
			}
			lt.Failures = append(prune(lt.Failures, now.Add(-so.LoginWindow)), now)
			if len(lt.Failures) >= so.MaxLoginFailures {
				lt.LockedUntil, lt.Failures = now.Add(so.LoginLockout), nil
				out = throttled("login", so.LoginLockout)
			}
			if err := tx.PutLoginThrottle(lt); err != nil {
				return err
			}
			subject := ""
			if id != "" {
				subject = id
			}
			return tx.Audit(audit.Event{Time: now, Kind: "session.login.fail", Actor: "anonymous", Subject: subject,
				Details: map[string]string{"throttled": boolString(errors.Is(out, ErrThrottled))}})
		})
		if err != nil {
			return Session{}, err
		}
		return Session{}, out
	}
	token, err := s.newSecret("tss_")
	if err != nil {
		return Session{}, err
	}
	sess := store.Session{TokenHash: tokenHash(token), Role: string(role), SubjectID: id, Created: now, LastSeen: now,
		IdleExpires: now.Add(so.IdleTimeout), AbsoluteExpires: now.Add(so.AbsoluteTimeout)}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteLoginThrottle(key); err != nil {
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
	hash, err := hashPassword(password, s.o.Argon2, s.rnd)
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
			found = Status(p.Status) != Pending
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
