package profile

import (
	"context"
	"errors"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/store"
)

// Status is a profile's status. Pending is an application; the other four are the real service's V, I, E, X.
type Status string

// Statuses.
const (
	Pending Status = "pending"
	Active  Status = "active"
	Invalid Status = "invalid"
	Expired Status = "expired"
	Revoked Status = "revoked"
)

// Channel is where a holder's codes go.
type Channel string

// Code channels.
const (
	ChannelSMS   Channel = "sms"
	ChannelEmail Channel = "email"
)

// Application is what an applicant submits.
type Application struct {
	Login      string
	Password   string
	FirstName  string
	SecondName string
	Surname    string
	PESEL      string
	Email      string
	// Phone is a mobile number, +48 assumed when no country code is given.
	Phone       string
	CodeChannel Channel
}

// Registration is the answer to a registration. It has the same shape, and leads to an application that behaves
// the same towards its applicant, whether or not the login or PESEL was already taken (then the application is a
// decoy that can never be confirmed, and the existing holder is told instead).
type Registration struct {
	ID                string
	ApplicationNumber string
	Status            Status
	// Secret is shown once, to the applicant: with the application number it fetches the qualified-signature
	// confirmation document (ConfirmationDocument). Only its keyed hash is stored.
	Secret string
}

// Profile is the domain view of a profile.
type Profile struct {
	ID                 string
	ApplicationNumber  string
	Login              string
	FirstName          string
	SecondName         string
	Surname            string
	PESEL              string
	BirthDate          time.Time
	Email              string
	Phone              string
	CodeChannel        Channel
	Status             Status
	Temporary          bool
	ContactConfirmed   bool
	Created            time.Time
	ApplicationExpires time.Time
	ActivatedAt        *time.Time
	Expires            *time.Time
	Confirmation       *Confirmation
}

// Confirmation tells how a profile was confirmed.
type Confirmation struct {
	Method Method
	At     time.Time
	// By is who or what confirmed: "officer:<id>", the IdP issuer, the certificate's subject.
	By           string
	DocumentType DocumentType
}

// Method is a confirmation path.
type Method string

// Confirmation methods.
const (
	InPerson             Method = "in-person"
	IdentityProvider     Method = "idp"
	QualifiedCertificate Method = "qualified-certificate"
	VideoCall            Method = "video-call"
)

func toDomain(p store.Profile) Profile {
	d := Profile{ID: p.ID, ApplicationNumber: p.ApplicationNumber, Login: p.Login, FirstName: p.FirstName,
		SecondName: p.SecondName, Surname: p.Surname, PESEL: p.PESEL, Email: p.Email, Phone: p.Phone,
		CodeChannel: Channel(p.CodeChannel), Status: Status(p.Status), Temporary: p.Temporary,
		ContactConfirmed: p.ContactConfirmedAt != nil, Created: p.Created, ApplicationExpires: p.ApplicationExpires,
		ActivatedAt: p.ActivatedAt, Expires: p.Expires}
	if ps, err := ParsePESEL(p.PESEL); err == nil {
		d.BirthDate = ps.BirthDate
	}
	if c := p.Confirmation; c != nil {
		d.Confirmation = &Confirmation{Method: Method(c.Method), At: c.At, By: c.By, DocumentType: DocumentType(c.DocumentType)}
	}
	return d
}

var loginRe = regexp.MustCompile(`^[A-Za-z0-9_-]{3,64}$`)

// NormalizeLogin returns the key under which a login is unique (logins are case-insensitive).
func NormalizeLogin(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// ValidateLogin applies the login rule: 3 to 64 letters, digits, "_" or "-".
func ValidateLogin(login string) error {
	if !loginRe.MatchString(login) {
		return invalidField("login", "3 to 64 characters: letters, digits, _ and - only")
	}
	return nil
}

func validName(field, v string, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		if required {
			return "", invalidField(field, "is required")
		}
		return "", nil
	}
	if utf8.RuneCountInString(v) > 64 || !utf8.ValidString(v) {
		return "", invalidField(field, "must have at most 64 characters")
	}
	for _, r := range v {
		if !unicode.IsLetter(r) && r != '-' && r != ' ' && r != '\'' {
			return "", invalidField(field, "may contain letters, spaces, hyphens and apostrophes only")
		}
	}
	return v, nil
}

var phoneRe = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// NormalizePhone returns a phone number in E.164 form (+48 assumed for 9 digits), or an error.
func NormalizePhone(p string) (string, error) {
	p = strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(strings.TrimSpace(p))
	if strings.HasPrefix(p, "00") {
		p = "+" + p[2:]
	}
	if len(p) == 9 && !strings.HasPrefix(p, "+") {
		p = "+48" + p
	}
	if !phoneRe.MatchString(p) {
		return "", invalidField("phone", "must be a mobile number such as +48500100200")
	}
	return p, nil
}

// NormalizeEmail checks an e-mail address (a bare address, at most 254 characters) and returns it trimmed.
func NormalizeEmail(e string) (string, error) {
	e = strings.TrimSpace(e)
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" || len(e) > 254 || !strings.Contains(e[strings.LastIndexByte(e, '@'):], ".") {
		return "", invalidField("email", "must be an e-mail address such as jan@example.pl")
	}
	return e, nil
}

// CheckPESEL parses a PESEL and checks the holder's minimum age at now.
func CheckPESEL(pesel string, now time.Time, minAge int) (PESEL, error) {
	p, err := ParsePESEL(strings.TrimSpace(pesel))
	if err != nil {
		return PESEL{}, invalidField("pesel", "must be 11 digits with a valid checksum and date of birth")
	}
	if p.BirthDate.After(now) {
		return PESEL{}, invalidField("pesel", "date of birth is in the future")
	}
	if p.BirthDate.AddDate(minAge, 0, 0).After(now) {
		return PESEL{}, invalidField("pesel", "the holder must be at least 13 years old")
	}
	return p, nil
}

type validApplication struct {
	Application
	loginKey string
	pesel    PESEL
}

func (s *Service) validate(a Application) (validApplication, error) {
	v := validApplication{Application: a}
	if err := ValidateLogin(a.Login); err != nil {
		return v, err
	}
	v.loginKey = NormalizeLogin(a.Login)
	var err error
	if v.FirstName, err = validName("firstName", a.FirstName, true); err != nil {
		return v, err
	}
	if v.SecondName, err = validName("secondName", a.SecondName, false); err != nil {
		return v, err
	}
	if v.Surname, err = validName("surname", a.Surname, true); err != nil {
		return v, err
	}
	if v.pesel, err = CheckPESEL(a.PESEL, s.now(), s.o.MinAge); err != nil {
		return v, err
	}
	v.PESEL = v.pesel.Number
	if v.Email, err = NormalizeEmail(a.Email); err != nil {
		return v, err
	}
	if v.Phone, err = NormalizePhone(a.Phone); err != nil {
		return v, err
	}
	if a.CodeChannel != ChannelSMS && a.CodeChannel != ChannelEmail {
		return v, invalidField("codeChannel", `must be "sms" or "email"`)
	}
	extra := append([]string{v.FirstName, v.Surname, v.loginKey}, s.o.BlockedPasswords...)
	if err := CheckPasswordRules(a.Password, a.Login, extra); err != nil {
		return v, err
	}
	return v, nil
}

// Register files an application: it validates the data, hashes the password (argon2id), stores a pending profile
// with a new application number and secret, and sends one contact-confirmation code to the preferred channel.
//
// No enumeration: when the login or the PESEL is already taken (by a live profile), the application is stored as
// a decoy that takes only the free indexes and can never be confirmed; its applicant meets the same answers,
// codes, resends, limits and confirmation document as with a fresh identity, and the existing holder is told by
// message (at most once per Messages.DuplicateNoticeEvery). A PESEL whose profile expired or was revoked may apply
// again. Pending applications cannot log in, so logging in does not tell them apart either.
//
// A *ValidationError names a rule the data break. ErrDelivery means the application was stored but the code
// could not be sent (ResendContactCode sends another); the Registration is valid then. A destination past its
// message limit gets no code and the answer does not say so.
func (s *Service) Register(ctx context.Context, a Application) (Registration, error) {
	v, err := s.validate(a)
	if err != nil {
		return Registration{}, err
	}
	hash, err := s.hashPassword(ctx, a.Password)
	if err != nil {
		return Registration{}, err
	}
	id, err := s.newID()
	if err != nil {
		return Registration{}, err
	}
	appNo, err := s.newApplicationNumber()
	if err != nil {
		return Registration{}, err
	}
	secret, err := s.newSecret("tsa_")
	if err != nil {
		return Registration{}, err
	}
	now := s.now()
	peselKey := s.peselIndex(v.PESEL)
	var (
		msg     notify.Message
		notices []notify.Message
	)
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		msg, notices = notify.Message{}, nil
		decoy := false
		// tellHolder queues the "someone tried to register with your data" notice, at most one per holder and
		// DuplicateNoticeEvery (so also one when the login and the PESEL are the same holder's)
		tellHolder := func(holder store.Profile, what string) error {
			if Status(holder.Status) == Invalid {
				return nil
			}
			due, err := s.duplicateNoticeDue(tx, holder.ID, now)
			if due {
				notices = append(notices, s.duplicateNotice(holder, what))
			}
			return err
		}
		// Is the login taken (by a holder or an officer)?
		kind, holderID, err := tx.ResolveLogin(v.loginKey)
		switch {
		case err == nil:
			decoy = true
			if kind == store.LoginHolder {
				if p, err := tx.GetProfile(holderID); err == nil {
					if err := tellHolder(p, "login"); err != nil {
						return err
					}
				}
			}
			if err := tx.Audit(audit.Event{Time: now, Kind: "profile.register.duplicate", Actor: "anonymous",
				Subject: holderID, Details: map[string]string{"taken": "login", "peselHash": s.auditPESEL(v.PESEL),
					"decoy": id}}); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		// Decoys filed with this login (when it was taken) hear of it as a real application holding it would,
		// but only the most recent ones: N decoys must not make one registration N messages.
		decoys, err := tx.DecoysByLogin(v.loginKey)
		if err != nil {
			return err
		}
		for _, d := range mostRecent(decoys, decoyNotices) {
			if err := tellHolder(d, "login"); err != nil {
				return err
			}
		}
		// Is the PESEL held by a live (active) or invalidated confirmed profile? A pending application does not own it: the
		// new one is a real application too (the officer's or the IdP's check decides who is real, and the
		// confirmation closes the others), and the pending applicant hears nothing of it.
		old, err := tx.GetProfileByPESELHash(peselKey)
		peselHeld, sharesPESEL := false, false
		switch {
		case err == nil:
			st := Status(old.Status)
			if st == Pending && now.Before(old.ApplicationExpires) {
				sharesPESEL = true
			} else if st == Active || (st == Invalid && !old.NeverConfirmed()) {
				// (an application invalidated before any confirmation, e.g. an impostor's, holds no PESEL)
				decoy, peselHeld = true, true
				if err := tellHolder(old, "pesel"); err != nil {
					return err
				}
				if err := tx.Audit(audit.Event{Time: now, Kind: "profile.register.duplicate", Actor: "anonymous",
					Subject: old.ID, Details: map[string]string{"taken": "pesel", "peselHash": s.auditPESEL(v.PESEL),
						"decoy": id}}); err != nil {
					return err
				}
			} else if err := tx.ReleasePESEL(peselKey, old.ID); err != nil {
				return err
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		// and so do decoys filed with this PESEL while a profile held it
		if peselHeld {
			if decoys, err = tx.DecoysByPESELHash(peselKey); err != nil {
				return err
			}
			for _, d := range mostRecent(decoys, decoyNotices) {
				if err := tellHolder(d, "pesel"); err != nil {
					return err
				}
			}
		}
		p := store.Profile{ID: id, ApplicationNumber: appNo, Login: v.Login, LoginKey: v.loginKey, PasswordHash: hash,
			FirstName: v.FirstName, SecondName: v.SecondName, Surname: v.Surname, PESEL: v.PESEL, PESELHash: peselKey,
			Email: v.Email, Phone: v.Phone, CodeChannel: string(v.CodeChannel), Status: string(Pending), Decoy: decoy,
			SharesPESEL: sharesPESEL && !decoy,
			Created:     now, Updated: now, ApplicationExpires: now.Add(s.o.ApplicationTTL),
			ApplicationSecretHash: s.applicationSecretHash(appNo, secret), History: []store.Transition{{From: "",
				To: string(Pending), At: now, Actor: "holder:" + id}}}
		if err := tx.CreateProfile(p); err != nil {
			return err
		}
		event := "profile.register"
		if decoy {
			event = "profile.register.decoy"
		}
		if err := tx.Audit(audit.Event{Time: now, Kind: event, Actor: "holder:" + id, Subject: id,
			Details: map[string]string{"applicationNumber": appNo, "peselHash": s.auditPESEL(v.PESEL),
				"codeChannel": string(v.CodeChannel)}}); err != nil {
			return err
		}
		code, info, err := s.issueIn(tx, p, purposeContact, nil, now)
		if err != nil {
			return err
		}
		msg = s.contactMessage(p, code, info)
		return nil
	})
	if err != nil {
		return Registration{}, err
	}
	reg := Registration{ID: id, ApplicationNumber: appNo, Status: Pending, Secret: secret}
	err = s.sendAnonymous(ctx, msg)
	// Notices to others go in the background, after the applicant's code (one order whatever the identity):
	// neither their fate nor their delivery time may change this answer (a fresh identity sends none).
	s.deliverInBackground(ctx, notices...)
	if err != nil {
		return reg, err
	}
	return reg, nil
}

// decoyNotices is how many of the decoys filed with one login (and with one PESEL) hear of a later registration
// with it: the most recent one, as a real application holding it would.
const decoyNotices = 1

// mostRecent returns at most n of ps, the most recently created first.
func mostRecent(ps []store.Profile, n int) []store.Profile {
	slices.SortFunc(ps, func(a, b store.Profile) int { return b.Created.Compare(a.Created) })
	return ps[:min(n, len(ps))]
}

// deliverInBackground hands msgs to the (per-destination limited) Sender after the caller has answered, so that
// the answer's timing tells nothing of them; failures are dropped. WaitForDeliveries waits for them.
func (s *Service) deliverInBackground(ctx context.Context, msgs ...notify.Message) {
	if len(msgs) == 0 {
		return
	}
	s.deliveries.Add(1)
	go func() {
		defer s.deliveries.Done()
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, m := range msgs {
			_ = s.send.Send(dctx, m)
		}
	}()
}

// sendAnonymous sends a code asked for without authentication. A destination past its limit gets nothing and
// the caller is not told (the limit counts messages to others too, which must not show); a failed delivery is
// ErrDelivery.
func (s *Service) sendAnonymous(ctx context.Context, msg notify.Message) error {
	if msg.To == "" {
		return nil
	}
	err := s.send.Send(ctx, msg)
	switch {
	case err == nil, errors.Is(err, errDestinationLimit):
		return nil
	}
	return errors.Join(ErrDelivery, err)
}

// applicationSecretHash is the stored form of an application's secret, bound to its number.
func (s *Service) applicationSecretHash(applicationNumber, secret string) []byte {
	return mac(s.keys.token, "application-secret", applicationNumber, secret)
}

// ConfirmContact confirms the applicant's contact channel with the code sent at registration. An unknown
// profile id answers like a wrong code (ErrInvalidCode).
func (s *Service) ConfirmContact(ctx context.Context, profileID, code string) error {
	return s.redeem(ctx, profileID, purposeContact, nil, code, func(tx *store.Tx, p *store.Profile, now time.Time) error {
		if p.ContactConfirmedAt == nil {
			t := now
			p.ContactConfirmedAt = &t
			p.Updated = now
			if err := tx.UpdateProfile(*p); err != nil {
				return err
			}
		}
		return tx.Audit(audit.Event{Time: now, Kind: "profile.contact.confirm", Actor: "holder:" + p.ID, Subject: p.ID,
			Details: map[string]string{"channel": p.CodeChannel}})
	})
}

// ResendContactCode sends a new contact-confirmation code, invalidating the previous one. For an unknown id, or a
// profile whose contact is confirmed or which is no longer pending, it does nothing and returns nil (no
// enumeration). Per-profile limits apply (*ThrottledError); a destination past its message limit gets nothing,
// unannounced.
func (s *Service) ResendContactCode(ctx context.Context, profileID string) error {
	now := s.now()
	var msg notify.Message
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		msg = notify.Message{}
		p, err := tx.GetProfile(profileID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if Status(p.Status) != Pending || p.ContactConfirmedAt != nil || !now.Before(p.ApplicationExpires) {
			return nil
		}
		code, info, err := s.issueIn(tx, p, purposeContact, nil, now)
		if err != nil {
			return err
		}
		msg = s.contactMessage(p, code, info)
		return nil
	})
	if err != nil {
		return err
	}
	return s.sendAnonymous(ctx, msg)
}

// Get returns a profile by id.
func (s *Service) Get(ctx context.Context, profileID string) (Profile, error) {
	var p store.Profile
	err := s.st.View(ctx, func(tx *store.Tx) error {
		var err error
		p, err = tx.GetProfile(profileID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Profile{}, ErrNotFound
	}
	return toDomain(p), err
}

// GetByApplicationNumber returns the profile of an application number (for officers).
func (s *Service) GetByApplicationNumber(ctx context.Context, applicationNumber string) (Profile, error) {
	var p store.Profile
	err := s.st.View(ctx, func(tx *store.Tx) error {
		var err error
		p, err = tx.GetProfileByApplicationNumber(NormalizeApplicationNumber(applicationNumber))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Profile{}, ErrNotFound
	}
	return toDomain(p), err
}
