package profile

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/store"
)

// allowedTransitions is the life cycle. Pending → active by a confirmation; active → active by an extension;
// active → expired when its time is over; invalid (an administrator, e.g. after a death) is reachable from every
// other status and final; revoked (the holder) from pending and active. A lapsed pending application is deleted,
// not moved to a status.
var allowedTransitions = map[Status][]Status{
	Pending: {Active, Revoked, Invalid},
	Active:  {Active, Expired, Revoked, Invalid},
	Expired: {Invalid},
	Revoked: {Invalid},
	Invalid: {},
}

// CanTransition tells whether the life cycle allows a status change.
func CanTransition(from, to Status) bool {
	for _, s := range allowedTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// transitionIn changes the status in the caller's transaction, with history and audit. Leaving pending/active for
// revoked, invalid or expired also ends the holder's sessions and codes.
func (s *Service) transitionIn(tx *store.Tx, p *store.Profile, to Status, actor, reason string, now time.Time) error {
	from := Status(p.Status)
	if !CanTransition(from, to) {
		return ErrTransition
	}
	p.Status, p.Updated = string(to), now
	p.History = append(p.History, store.Transition{From: string(from), To: string(to), At: now, Actor: actor, Reason: reason})
	if err := tx.UpdateProfile(*p); err != nil {
		return err
	}
	if to == Revoked || to == Invalid || to == Expired {
		if err := tx.DeleteSessionsOf(p.ID); err != nil {
			return err
		}
		for _, purpose := range []string{purposeContact, purposeSign, purposeExtend, purposeReset} {
			if err := tx.DeleteCode(p.ID, purpose); err != nil {
				return err
			}
		}
	}
	d := map[string]string{"from": string(from), "to": string(to)}
	if reason != "" {
		d["reason"] = reason
	}
	return tx.Audit(audit.Event{Time: now, Kind: "profile.status", Actor: actor, Subject: p.ID, Details: d})
}

// DocumentType is an identity document an officer checks.
type DocumentType string

// Identity documents.
const (
	IDCard   DocumentType = "id-card"
	Passport DocumentType = "passport"
)

// IdentityDocument is what the officer saw. Only a keyed hash of the number is stored.
type IdentityDocument struct {
	Type   DocumentType
	Number string
}

var (
	idCardRe   = regexp.MustCompile(`^[A-Z]{3}[0-9]{6}$`)
	passportRe = regexp.MustCompile(`^[A-Z]{2}[0-9]{7}$`)
	foreignRe  = regexp.MustCompile(`^[A-Z0-9]{5,20}$`)
)

func (s *Service) documentHash(d IdentityDocument) ([]byte, error) {
	n := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(d.Number))
	switch d.Type {
	case IDCard:
		if !idCardRe.MatchString(n) {
			return nil, invalidField("documentNumber", "an ID card number is 3 letters and 6 digits")
		}
	case Passport:
		// Polish passports are 2 letters and 7 digits; foreign ones vary.
		if !passportRe.MatchString(n) && !foreignRe.MatchString(n) {
			return nil, invalidField("documentNumber", "a passport number is 5 to 20 letters and digits")
		}
	default:
		return nil, invalidField("documentType", `must be "id-card" or "passport"`)
	}
	return mac(s.keys.document, string(d.Type), n), nil
}

// confirmIn activates a pending application in the caller's transaction.
func (s *Service) confirmIn(tx *store.Tx, p *store.Profile, c store.Confirmation, temporary bool, now time.Time) error {
	if Status(p.Status) != Pending || p.Decoy {
		return ErrTransition // a decoy (filed with a taken login or PESEL) can never become a profile
	}
	if !now.Before(p.ApplicationExpires) {
		return ErrApplicationExpired
	}
	if p.ContactConfirmedAt == nil {
		return ErrContactUnconfirmed
	}
	valid := s.o.ValidFor
	if temporary {
		valid = s.o.TemporaryValidFor
	}
	exp := now.Add(valid)
	at := now
	p.Confirmation, p.Temporary, p.ActivatedAt, p.Expires = &c, temporary, &at, &exp
	p.SharesPESEL = false // it holds the PESEL from now on (ClaimPESEL below)
	if err := s.transitionIn(tx, p, Active, c.By, "confirmed: "+c.Method, now); err != nil {
		return err
	}
	// The confirmed application now holds the PESEL; other applications filed with it while none was confirmed
	// are closed (the check just made says they are not this person's).
	others, err := tx.ClaimPESEL(p.PESELHash, p.ID)
	if errors.Is(err, store.ErrConflict) {
		return ErrTransition // a profile holds the PESEL (the application should have been a decoy)
	}
	if err != nil {
		return err
	}
	for _, o := range others {
		if err := s.transitionIn(tx, &o, Revoked, c.By, "closed: the PESEL was confirmed for application "+p.ApplicationNumber, now); err != nil {
			return err
		}
	}
	d := map[string]string{"method": c.Method, "expires": exp.Format(time.RFC3339)}
	if c.DocumentType != "" {
		d["documentType"] = c.DocumentType
	}
	if len(others) > 0 {
		d["closedApplications"] = strconv.Itoa(len(others))
	}
	for k, v := range c.Details {
		if k == "certificateSHA256" || k == "issuer" || k == "assertionId" {
			d[k] = v
		}
	}
	return tx.Audit(audit.Event{Time: now, Kind: "profile.confirm", Actor: c.By, Subject: p.ID, Details: d})
}

// confirm runs confirmIn for an application number and tells the holder.
func (s *Service) confirm(ctx context.Context, applicationNumber string, temporary bool,
	build func(tx *store.Tx, p store.Profile, now time.Time) (store.Confirmation, error)) (Profile, error) {
	now := s.now()
	var out store.Profile
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		p, err := tx.GetProfileByApplicationNumber(NormalizeApplicationNumber(applicationNumber))
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		c, err := build(tx, p, now)
		if err != nil {
			return err
		}
		c.At = now
		if err := s.confirmIn(tx, &p, c, temporary, now); err != nil {
			return err
		}
		out = p
		return nil
	})
	if err != nil {
		return Profile{}, err
	}
	s.notifyQuietly(ctx, s.statusNotice(out, Active))
	return toDomain(out), nil
}

func (s *Service) notifyQuietly(ctx context.Context, m notify.Message) {
	if m.To != "" {
		_ = s.sendHolder.Send(ctx, m) // a notice of an officer's or the holder's act, not a code: failure changes nothing
	}
}

func (s *Service) officerIn(tx *store.Tx, officerID string) error {
	o, err := tx.GetOfficer(officerID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.Disabled) {
		return ErrForbidden
	}
	return err
}

// ConfirmInPerson confirms an application at a confirmation point: the officer checked the identity document
// (type and number recorded, the number only as a keyed hash) within 14 days of the application. The profile is
// valid for 3 years.
func (s *Service) ConfirmInPerson(ctx context.Context, officerID, applicationNumber string, doc IdentityDocument) (Profile, error) {
	h, err := s.documentHash(doc)
	if err != nil {
		return Profile{}, err
	}
	return s.confirm(ctx, applicationNumber, false, func(tx *store.Tx, p store.Profile, now time.Time) (store.Confirmation, error) {
		if err := s.officerIn(tx, officerID); err != nil {
			return store.Confirmation{}, err
		}
		return store.Confirmation{Method: string(InPerson), By: "officer:" + officerID, DocumentType: string(doc.Type), DocumentHash: h}, nil
	})
}

// ConfirmByVideoCall confirms a temporary profile after a video call with an officer, who checked the identity
// document on camera. The profile is valid for 3 months and cannot be extended (a new application is needed).
func (s *Service) ConfirmByVideoCall(ctx context.Context, officerID, applicationNumber string, doc IdentityDocument) (Profile, error) {
	h, err := s.documentHash(doc)
	if err != nil {
		return Profile{}, err
	}
	return s.confirm(ctx, applicationNumber, true, func(tx *store.Tx, p store.Profile, now time.Time) (store.Confirmation, error) {
		if err := s.officerIn(tx, officerID); err != nil {
			return store.Confirmation{}, err
		}
		return store.Confirmation{Method: string(VideoCall), By: "officer:" + officerID, DocumentType: string(doc.Type), DocumentHash: h}, nil
	})
}

// RequestExtensionCode sends the holder a code to extend the profile's validity. Only an active, non-temporary
// profile within ExtendWithin of its expiry may be extended.
func (s *Service) RequestExtensionCode(ctx context.Context, profileID string) (CodeInfo, error) {
	now := s.now()
	var (
		msg  notify.Message
		info CodeInfo
	)
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		p, err := tx.GetProfile(profileID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := s.canExtend(p, now); err != nil {
			return err
		}
		code, ci, err := s.issueIn(tx, p, purposeExtend, nil, now)
		if err != nil {
			return err
		}
		info, msg = ci, s.extensionMessage(p, code)
		return nil
	})
	if err != nil {
		return CodeInfo{}, err
	}
	if err := s.sendHolder.Send(ctx, msg); err != nil {
		return info, errors.Join(ErrDelivery, err)
	}
	return info, nil
}

func (s *Service) canExtend(p store.Profile, now time.Time) error {
	if !isActive(p, now) {
		return ErrNotActive
	}
	if p.Temporary || p.Expires.Sub(now) > s.o.ExtendWithin {
		return ErrTransition
	}
	return nil
}

// Extend extends an active profile by another validity period (from its current expiry), confirmed with the
// extension code.
func (s *Service) Extend(ctx context.Context, profileID, code string) (Profile, error) {
	var out store.Profile
	err := s.redeem(ctx, profileID, purposeExtend, nil, code, func(tx *store.Tx, p *store.Profile, now time.Time) error {
		if err := s.canExtend(*p, now); err != nil {
			return err
		}
		exp := p.Expires.Add(s.o.ValidFor)
		p.Expires = &exp
		if err := s.transitionIn(tx, p, Active, "holder:"+p.ID, "extended to "+exp.Format(time.DateOnly), now); err != nil {
			return err
		}
		out = *p
		return nil
	})
	if err != nil {
		return Profile{}, err
	}
	return toDomain(out), nil
}

// Revoke ends a profile (or withdraws an application) at the holder's request. Sessions and codes end with it.
func (s *Service) Revoke(ctx context.Context, profileID string) error {
	return s.changeStatus(ctx, profileID, Revoked, "holder:"+profileID, "revoked by the holder")
}

// Invalidate ends a profile by an administrator's decision (for example the register reports the holder's
// death). actor names the administrator; reason is recorded (no personal data in it).
func (s *Service) Invalidate(ctx context.Context, actor, profileID, reason string) error {
	if actor == "" || reason == "" {
		return invalidField("reason", "an administrator and a reason are required")
	}
	return s.changeStatus(ctx, profileID, Invalid, "admin:"+actor, reason)
}

func (s *Service) changeStatus(ctx context.Context, profileID string, to Status, actor, reason string) error {
	now := s.now()
	var p store.Profile
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		p, err = tx.GetProfile(profileID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return s.transitionIn(tx, &p, to, actor, reason, now)
	})
	if err == nil && to != Invalid {
		s.notifyQuietly(ctx, s.statusNotice(p, to))
	}
	return err
}

// SweepResult counts what Sweep did.
type SweepResult struct {
	ExpiredProfiles     int
	DeletedApplications int
	DeletedCodes        int
	DeletedSessions     int
	DeletedThrottles    int
	DeletedRateWindows  int
	// DeletedCounterWindows and DeletedReports are the store's other short-lived records: the API's shared rate
	// limit windows that have ended, and verification reports kept for their download link that have expired.
	DeletedCounterWindows int
	DeletedReports        int
}

// Sweep applies time: active profiles past their expiry become expired, applications older than the
// confirmation period are deleted (each audited), and expired codes, sessions and stale login counters go, as do
// the store's other short-lived records (ended rate-limit windows, expired verification reports). Run it
// periodically (every minute is plenty); it works in bounded batches.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var r SweepResult
	now := s.now()
	for {
		n := 0
		err := s.st.Update(ctx, func(tx *store.Tx) error {
			n = 0
			ps, err := tx.ProfilesExpiredBefore(now, 100)
			if err != nil {
				return err
			}
			for i := range ps {
				if Status(ps[i].Status) != Active {
					continue
				}
				if err := s.transitionIn(tx, &ps[i], Expired, "system", "validity ended", now); err != nil {
					return err
				}
				n++
			}
			apps, err := tx.ApplicationsExpiredBefore(now, 100)
			if err != nil {
				return err
			}
			for _, p := range apps {
				if err := tx.DeleteProfile(p.ID); err != nil {
					return err
				}
				if err := tx.Audit(audit.Event{Time: now, Kind: "profile.application.delete", Actor: "system", Subject: p.ID,
					Details: map[string]string{"reason": "not confirmed within the confirmation period", "applicationNumber": p.ApplicationNumber}}); err != nil {
					return err
				}
			}
			r.DeletedApplications += len(apps)
			r.ExpiredProfiles += n
			n += len(apps)
			return nil
		})
		if err != nil {
			return r, err
		}
		if n == 0 {
			break
		}
	}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		if r.DeletedCodes, err = tx.DeleteCodesExpiredBefore(now); err != nil {
			return err
		}
		if r.DeletedSessions, err = tx.DeleteSessionsExpiredBefore(now); err != nil {
			return err
		}
		r.DeletedThrottles, err = tx.DeleteLoginThrottlesIdleSince(now.Add(-s.o.Sessions.LoginWindow))
		if err != nil {
			return err
		}
		r.DeletedRateWindows, err = tx.DeleteRateWindowsIdleSince(now.Add(-max(s.o.Messages.longest(),
			s.o.Sessions.LoginWindow, s.o.Recovery.AddressWindow)))
		if err != nil {
			return err
		}
		r.DeletedReports, err = tx.DeleteVerifyReportsExpiredBefore(now)
		return err
	})
	if err != nil {
		return r, err
	}
	// ended counter windows, in batches: keys an attacker rotates all go, however many
	for {
		var n int
		err := s.st.Update(ctx, func(tx *store.Tx) (err error) {
			n, err = tx.DeleteCounterWindowsEndedBefore(now, sweepBatch)
			return err
		})
		r.DeletedCounterWindows += n
		if err != nil || n < sweepBatch {
			return r, err
		}
	}
}

// sweepBatch bounds the records one sweep transaction deletes.
const sweepBatch = 1000
