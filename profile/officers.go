package profile

import (
	"context"
	"errors"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

// Administrators' acts on officers and integrator clients (the admin commands): listing them, disabling an
// officer and resetting an officer's password. Creating them and disabling a client are in auth.go.

// Officers lists every officer (disabled ones too), in id order.
func (s *Service) Officers(ctx context.Context) ([]Officer, error) {
	var all []store.Officer
	err := s.st.View(ctx, func(tx *store.Tx) error {
		var err error
		all, err = tx.Officers()
		return err
	})
	out := make([]Officer, 0, len(all))
	for _, o := range all {
		out = append(out, Officer{ID: o.ID, Login: o.Login, Name: o.Name, Created: o.Created, Disabled: o.Disabled})
	}
	return out, err
}

// Clients lists every integrator client (disabled ones too), in id order. Keys are never listed: only their
// hashes are stored.
func (s *Service) Clients(ctx context.Context) ([]Client, error) {
	var all []store.Client
	err := s.st.View(ctx, func(tx *store.Tx) error {
		var err error
		all, err = tx.Clients()
		return err
	})
	out := make([]Client, 0, len(all))
	for _, c := range all {
		out = append(out, clientToDomain(c))
	}
	return out, err
}

// DisableOfficer stops an officer from logging in and ends the officer's open sessions, in one transaction.
// ErrNotFound when no officer holds the login.
func (s *Service) DisableOfficer(ctx context.Context, actor, login string) error {
	now := s.now()
	return s.st.Update(ctx, func(tx *store.Tx) error {
		o, err := officerByLogin(tx, login)
		if err != nil {
			return err
		}
		o.Disabled = true
		if err := tx.UpdateOfficer(o); err != nil {
			return err
		}
		if err := tx.DeleteSessionsOf(o.ID); err != nil {
			return err
		}
		return tx.Audit(audit.Event{Time: now, Kind: "officer.disable", Actor: "admin:" + actor, Subject: o.ID,
			Details: map[string]string{"login": o.Login}})
	})
}

// ResetOfficerPassword sets a new password for an officer (the holders' password rules apply), ends the
// officer's open sessions and clears the login's failure count, in one transaction. A disabled officer stays
// disabled. ErrNotFound when no officer holds the login; *ValidationError for a password the rules refuse.
func (s *Service) ResetOfficerPassword(ctx context.Context, actor, login, password string) error {
	if err := CheckPasswordRules(password, login, s.o.BlockedPasswords); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password) // within the hashing slots, as every other hash
	if err != nil {
		return err
	}
	now := s.now()
	return s.st.Update(ctx, func(tx *store.Tx) error {
		o, err := officerByLogin(tx, login)
		if err != nil {
			return err
		}
		o.PasswordHash = hash
		if err := tx.UpdateOfficer(o); err != nil {
			return err
		}
		if err := tx.DeleteSessionsOf(o.ID); err != nil {
			return err
		}
		if err := tx.DeleteLoginThrottle(o.LoginKey); err != nil {
			return err
		}
		return tx.Audit(audit.Event{Time: now, Kind: "officer.password.reset", Actor: "admin:" + actor, Subject: o.ID,
			Details: map[string]string{"login": o.Login}})
	})
}

func officerByLogin(tx *store.Tx, login string) (store.Officer, error) {
	key := NormalizeLogin(login)
	if key == "" {
		return store.Officer{}, ErrNotFound
	}
	o, err := tx.GetOfficerByLogin(key)
	if errors.Is(err, store.ErrNotFound) {
		return store.Officer{}, ErrNotFound
	}
	return o, err
}
