package profile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/store"
)

// purposeReset is the code purpose of password recovery.
const purposeReset = "password-reset"

// RequestPasswordReset starts password recovery for a holder named by login or PESEL: a one-time code goes to
// the profile's confirmed contact channel (with the code rules and throttles of every code). The answer is the
// same whether or not such a profile exists, has a confirmed channel, or is throttled: nil, unless the
// identifier is empty or too long (*ValidationError). Officers' passwords are reset by an administrator.
func (s *Service) RequestPasswordReset(ctx context.Context, identifier string) error {
	identifier = strings.TrimSpace(identifier)
	if identifier == "" || len(identifier) > 64 {
		return invalidField("login", "enter your login or PESEL")
	}
	now := s.now()
	var msg notify.Message
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		msg = notify.Message{}
		p, ok, err := s.resetProfile(tx, identifier)
		if err != nil {
			return err
		}
		details := map[string]string{"sent": "false"}
		if ok {
			code, _, err := s.issueIn(tx, p, purposeReset, nil, now)
			switch {
			case errors.Is(err, ErrThrottled):
				details["throttled"] = "true"
			case err != nil:
				return err
			default:
				msg, details["sent"] = s.resetMessage(p, code), "true"
			}
		}
		return tx.Audit(audit.Event{Time: now, Kind: "password.reset.request", Actor: "anonymous", Subject: p.ID,
			Details: details})
	})
	if err != nil {
		return err
	}
	if msg.To != "" {
		// Delivered in the background: the answer's timing must not tell that a message went out (an SMTP
		// exchange takes a while), and a failed delivery is not told either.
		s.deliveries.Add(1)
		go func() {
			defer s.deliveries.Done()
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			_ = s.send.Send(dctx, msg)
		}()
	}
	return nil
}

// WaitForDeliveries waits until the messages sent in the background (password-reset codes) have been handed to
// the Sender: call it before shutting down, and in tests before reading a code.
func (s *Service) WaitForDeliveries() { s.deliveries.Wait() }

// ResetPassword ends password recovery: with the code sent by RequestPasswordReset (for the same identifier),
// the password becomes newPassword (the registration rules apply), every session of the profile ends, the change
// is audited and the holder is told on the contact channel. A wrong, expired or throttled code and an unknown
// identifier give the same ErrInvalidCode; a *ValidationError says what the password breaks (one naming the login
// only after the right code, which stays usable then).
func (s *Service) ResetPassword(ctx context.Context, identifier, code, newPassword string) error {
	identifier = strings.TrimSpace(identifier)
	if identifier == "" || len(identifier) > 64 {
		return invalidField("login", "enter your login or PESEL")
	}
	if err := CheckPasswordRules(newPassword, "", s.o.BlockedPasswords); err != nil {
		return err
	}
	// hashed for known and unknown identifiers alike
	hash, err := s.hashPassword(ctx, newPassword)
	if err != nil {
		return err
	}
	var (
		profileID string
		found     bool
	)
	err = s.st.View(ctx, func(tx *store.Tx) error {
		p, ok, err := s.resetProfile(tx, identifier)
		profileID, found = p.ID, ok
		return err
	})
	if err != nil {
		return err
	}
	if !found {
		// a write as for a holder's wrong code, so that the time taken does not tell either
		err := s.st.Batch(ctx, func(tx *store.Tx) error {
			return tx.Audit(audit.Event{Time: s.now(), Kind: "password.reset.fail", Actor: "anonymous",
				Details: map[string]string{"reason": "no recoverable profile"}})
		})
		if err != nil {
			return err
		}
		return fmt.Errorf("%w (no recoverable profile)", ErrInvalidCode)
	}
	var msg notify.Message
	err = s.redeem(ctx, profileID, purposeReset, nil, code, func(tx *store.Tx, p *store.Profile, now time.Time) error {
		extra := append([]string{p.FirstName, p.Surname, p.LoginKey}, s.o.BlockedPasswords...)
		if err := CheckPasswordRules(newPassword, p.Login, extra); err != nil {
			return err // rolls the redemption back: the code stays usable
		}
		p.PasswordHash, p.Updated = hash, now
		if err := tx.UpdateProfile(*p); err != nil {
			return err
		}
		if err := tx.DeleteSessionsOf(p.ID); err != nil {
			return err
		}
		// the failed logins before the reset no longer delay the holder (known addresses stay)
		lt, err := tx.GetLoginThrottle(p.LoginKey)
		if err != nil {
			return err
		}
		if len(lt.Failures) > 0 {
			lt.Failures = nil
			if err := tx.PutLoginThrottle(lt); err != nil {
				return err
			}
		}
		msg = s.passwordChangedNotice(*p, now)
		return tx.Audit(audit.Event{Time: now, Kind: "profile.password.reset", Actor: "holder:" + p.ID, Subject: p.ID,
			Details: map[string]string{"sessionsEnded": "true", "channel": p.CodeChannel}})
	})
	if errors.Is(err, ErrThrottled) || errors.Is(err, ErrInvalidCode) {
		// one answer for a wrong, killed or expired code and a throttled profile, as for an unknown identifier
		// (the cause stays in the text, not in the chain)
		return fmt.Errorf("%w (%s)", ErrInvalidCode, err.Error())
	}
	if err != nil {
		return err
	}
	if err := s.send.Send(ctx, msg); err != nil {
		return errors.Join(ErrDelivery, err)
	}
	return nil
}

// resetProfile finds the holder a recovery identifier (login or PESEL) names, when it may recover its password:
// a profile that can log in (active or expired, as LoginFrom admits) with a confirmed contact channel. A pending
// application is not an account: it answers like an unknown identifier (nothing sent, the same work), because an
// application filed with a taken login or PESEL holds neither, so a code reaching the applicant's own address
// for its login or PESEL would tell a fresh identity from a taken one.
func (s *Service) resetProfile(tx *store.Tx, identifier string) (store.Profile, bool, error) {
	var (
		p   store.Profile
		err error
	)
	if ps, perr := ParsePESEL(identifier); perr == nil {
		p, err = tx.GetProfileByPESELHash(s.peselIndex(ps.Number))
	} else {
		var kind, id string
		kind, id, err = tx.ResolveLogin(NormalizeLogin(identifier))
		if err == nil && kind != store.LoginHolder {
			return store.Profile{}, false, nil
		}
		if err == nil {
			p, err = tx.GetProfile(id)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.Profile{}, false, nil
	}
	if err != nil {
		return store.Profile{}, false, err
	}
	st := Status(p.Status)
	if p.ContactConfirmedAt == nil || (st != Active && st != Expired) {
		return store.Profile{}, false, nil
	}
	return p, true, nil
}

func (s *Service) resetMessage(p store.Profile, code string) notify.Message {
	email := fmt.Sprintf(`Dzień dobry,

otrzymaliśmy prośbę o ustawienie nowego hasła do profilu zaufanego (login %s).
Aby ustawić nowe hasło, wpisz kod:

%s

Kod jest ważny %d minut. %s
Jeśli to nie Ty prosisz o nowe hasło, zignoruj tę wiadomość: hasło się nie zmieni.
`, p.Login, code, minutes(s), warning)
	sms := fmt.Sprintf("Profil zaufany: kod do ustawienia nowego hasla %s (wazny %d min). Nie podawaj go nikomu.", code, minutes(s))
	return s.message(p, "Profil zaufany – kod do ustawienia nowego hasła", email, sms, code)
}

func (s *Service) passwordChangedNotice(p store.Profile, at time.Time) notify.Message {
	email := fmt.Sprintf(`Dzień dobry,

hasło do Twojego profilu zaufanego (login %s) zostało zmienione %s UTC kodem wysłanym na ten kanał.
Wszystkie sesje zostały zakończone.
Jeśli to nie Ty, natychmiast ustaw nowe hasło i skontaktuj się z punktem potwierdzającym.
`, p.Login, at.UTC().Format("2006-01-02 15:04"))
	sms := "Profil zaufany: haslo zostalo zmienione, wszystkie sesje zakonczone. Jesli to nie Ty, ustaw nowe haslo i skontaktuj sie z punktem potwierdzajacym."
	return s.message(p, "Profil zaufany – hasło zostało zmienione", email, sms, "")
}
