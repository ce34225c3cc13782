package store

import (
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// The two profile statuses the store indexes by time: pending applications by ApplicationExpires and active
// profiles by Expires, so that lapsed ones can be found without a full scan.
const (
	ProfilePending = "pending"
	ProfileActive  = "active"
)

// Login index value prefixes: holders and officers share one login namespace.
const (
	LoginHolder  = "p"
	LoginOfficer = "o"
)

func (tx *Tx) indexProfileTimes(p *Profile) error {
	if p.Status == ProfilePending {
		if err := tx.kv.Put(bAppExpiryIndex, timeKey(p.ApplicationExpires, p.ID), nil); err != nil {
			return err
		}
	}
	if p.Status == ProfileActive && p.Expires != nil {
		if err := tx.kv.Put(bProfileExpiry, timeKey(*p.Expires, p.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) unindexProfileTimes(p *Profile) error {
	if err := tx.kv.Delete(bAppExpiryIndex, timeKey(p.ApplicationExpires, p.ID)); err != nil {
		return err
	}
	if p.Expires != nil {
		return tx.kv.Delete(bProfileExpiry, timeKey(*p.Expires, p.ID))
	}
	return nil
}

// CreateProfile stores a new profile with its unique indexes (login shared with officers, PESEL hash,
// application number). It returns a *ConflictError naming the first taken index, or ErrConflict if the id exists.
// A Decoy takes the login and PESEL indexes only where they are free (never the application number's).
func (tx *Tx) CreateProfile(p Profile) error {
	if p.ID == "" || p.LoginKey == "" || len(p.PESELHash) == 0 || p.ApplicationNumber == "" {
		return invalid("profile needs id, login key, PESEL hash and application number")
	}
	if ok, err := tx.exists(bProfiles, []byte(p.ID)); err != nil || ok {
		return firstErr(err, conflict("id", ""))
	}
	loginTaken, err := tx.exists(bLoginIndex, []byte(p.LoginKey))
	if err != nil || (loginTaken && !p.Decoy) {
		return firstErr(err, conflict("login", ""))
	}
	peselTaken, err := tx.exists(bPESELIndex, p.PESELHash)
	if err != nil || (peselTaken && !p.Decoy && !p.SharesPESEL) {
		return firstErr(err, conflict("pesel", ""))
	}
	if p.SharesPESEL {
		// only with pending applications, and only as a pending application itself
		owner, err := tx.GetProfileByPESELHash(p.PESELHash)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if p.Decoy || p.Status != ProfilePending || (err == nil && owner.Status != ProfilePending) {
			return conflict("pesel", "shared only among pending applications")
		}
	}
	if ok, err := tx.exists(bAppNoIndex, []byte(p.ApplicationNumber)); err != nil || ok {
		return firstErr(err, conflict("applicationNumber", ""))
	}
	for _, kv := range []struct {
		b    string
		k, v []byte
		skip bool
	}{
		{bLoginIndex, []byte(p.LoginKey), []byte(LoginHolder + ":" + p.ID), loginTaken},
		{bPESELIndex, p.PESELHash, []byte(p.ID), peselTaken || p.SharesPESEL},
		{bAppNoIndex, []byte(p.ApplicationNumber), []byte(p.ID), false},
	} {
		if kv.skip {
			continue // a decoy leaves a taken index to its holder (and is found by decoyKey instead)
		}
		if err := tx.kv.Put(kv.b, kv.k, kv.v); err != nil {
			return err
		}
	}
	for _, k := range decoyKeys(&p, loginTaken, peselTaken) {
		if err := tx.kv.Put(bDecoyIndex, k, nil); err != nil {
			return err
		}
	}
	if !p.Decoy && p.Status == ProfilePending {
		if err := tx.kv.Put(bPESELApplicants, append(applicantsPrefix(p.PESELHash), p.ID...), nil); err != nil {
			return err
		}
	}
	if err := tx.indexProfileTimes(&p); err != nil {
		return err
	}
	return tx.putJSON(bProfiles, []byte(p.ID), p)
}

func decoyLoginPrefix(loginKey string) []byte { return append(join("l", loginKey), 0) }
func decoyPESELPrefix(h []byte) []byte        { return append(join("p", hex.EncodeToString(h)), 0) }

// decoyKeys are the decoy-index keys of a decoy's taken login and PESEL.
func decoyKeys(p *Profile, loginTaken, peselTaken bool) [][]byte {
	var out [][]byte
	if loginTaken {
		out = append(out, append(decoyLoginPrefix(p.LoginKey), p.ID...))
	}
	if peselTaken {
		out = append(out, append(decoyPESELPrefix(p.PESELHash), p.ID...))
	}
	return out
}

// DecoysByLogin returns the decoy applications filed with a login key that was taken when they were filed.
func (tx *Tx) DecoysByLogin(loginKey string) ([]Profile, error) {
	return tx.decoys(decoyLoginPrefix(loginKey))
}

// DecoysByPESELHash returns the decoy applications filed with a PESEL that was taken when they were filed.
func (tx *Tx) DecoysByPESELHash(h []byte) ([]Profile, error) {
	return tx.decoys(decoyPESELPrefix(h))
}

func (tx *Tx) decoys(prefix []byte) ([]Profile, error) {
	var ids []string
	if err := tx.kv.Scan(bDecoyIndex, prefix, nil, func(k, _ []byte) (bool, error) {
		ids = append(ids, string(k[len(prefix):]))
		return true, nil
	}); err != nil {
		return nil, err
	}
	out := make([]Profile, 0, len(ids))
	for _, id := range ids {
		p, err := tx.GetProfile(id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func applicantsPrefix(h []byte) []byte { return append([]byte(hex.EncodeToString(h)), 0) }

// NeverConfirmed reports whether p is an application that was never confirmed (an application invalidated or
// revoked before its confirmation): it holds no PESEL, whatever its status.
func (p Profile) NeverConfirmed() bool { return p.Confirmation == nil }

// ClaimPESEL makes profile id the holder of the PESEL index of h (as its confirmation does): the index may be free
// or point to id, to a pending application or to one never confirmed; a *ConflictError ("pesel") when it points to
// any other profile. It
// returns the other pending applications filed with that PESEL (those still pending, which the caller closes) and
// forgets them all as applicants.
func (tx *Tx) ClaimPESEL(h []byte, id string) ([]Profile, error) {
	var ids []string
	cur, err := tx.getString(bPESELIndex, h)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, err
	case cur != id:
		owner, err := tx.GetProfile(cur)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if err == nil && owner.Status != ProfilePending && !owner.NeverConfirmed() {
			return nil, conflict("pesel", "held by a profile that is not pending")
		}
		if err == nil && owner.Status == ProfilePending {
			ids = append(ids, cur)
		}
	}
	prefix := applicantsPrefix(h)
	var keys [][]byte
	if err := tx.kv.Scan(bPESELApplicants, prefix, nil, func(k, _ []byte) (bool, error) {
		keys = append(keys, append([]byte(nil), k...))
		if other := string(k[len(prefix):]); other != id && other != cur {
			ids = append(ids, other)
		}
		return true, nil
	}); err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := tx.kv.Delete(bPESELApplicants, k); err != nil {
			return nil, err
		}
	}
	if err := tx.kv.Put(bPESELIndex, h, []byte(id)); err != nil {
		return nil, err
	}
	var out []Profile
	for _, other := range ids {
		p, err := tx.GetProfile(other)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if p.Status == ProfilePending {
			out = append(out, p)
		}
	}
	return out, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// GetProfile reads a profile by id.
func (tx *Tx) GetProfile(id string) (Profile, error) {
	var p Profile
	err := tx.getJSON(bProfiles, []byte(id), "profile", &p)
	return p, err
}

// ResolveLogin tells whose a login key is: LoginHolder or LoginOfficer and the id, or ErrNotFound.
func (tx *Tx) ResolveLogin(loginKey string) (kind, id string, err error) {
	v, err := tx.getString(bLoginIndex, []byte(loginKey))
	if errors.Is(err, ErrNotFound) {
		return "", "", notFound("login")
	}
	if err != nil {
		return "", "", err
	}
	kind, id, ok := strings.Cut(v, ":")
	if !ok {
		return "", "", ErrCorrupt
	}
	return kind, id, nil
}

// GetProfileByLogin reads the profile holding a login key (ErrNotFound when none, or when an officer holds it).
func (tx *Tx) GetProfileByLogin(loginKey string) (Profile, error) {
	kind, id, err := tx.ResolveLogin(loginKey)
	if err != nil {
		return Profile{}, err
	}
	if kind != LoginHolder {
		return Profile{}, notFound("profile")
	}
	return tx.GetProfile(id)
}

// GetProfileByPESELHash reads the profile the PESEL index points to.
func (tx *Tx) GetProfileByPESELHash(h []byte) (Profile, error) {
	id, err := tx.getString(bPESELIndex, h)
	if err != nil {
		return Profile{}, firstErr(notFoundIf(err, "profile"), err)
	}
	return tx.GetProfile(id)
}

// GetProfileByApplicationNumber reads the profile of an application number.
func (tx *Tx) GetProfileByApplicationNumber(n string) (Profile, error) {
	id, err := tx.getString(bAppNoIndex, []byte(n))
	if err != nil {
		return Profile{}, firstErr(notFoundIf(err, "application"), err)
	}
	return tx.GetProfile(id)
}

func notFoundIf(err error, what string) error {
	if errors.Is(err, ErrNotFound) {
		return notFound(what)
	}
	return nil
}

// ReleasePESEL removes the PESEL index entry if it points to profile id, so that a new application may take the
// PESEL (the old profile stays, no longer found by PESEL). It is the consumer's decision when that is allowed.
func (tx *Tx) ReleasePESEL(h []byte, id string) error {
	cur, err := tx.getString(bPESELIndex, h)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if cur != id {
		return conflict("pesel", "index points to another profile")
	}
	return tx.kv.Delete(bPESELIndex, h)
}

// UpdateProfile replaces a stored profile, keeping its time indexes in step. Id, login, PESEL hash and
// application number are immutable (ErrInvalid).
func (tx *Tx) UpdateProfile(p Profile) error {
	old, err := tx.GetProfile(p.ID)
	if err != nil {
		return err
	}
	if old.LoginKey != p.LoginKey || string(old.PESELHash) != string(p.PESELHash) ||
		old.ApplicationNumber != p.ApplicationNumber {
		return invalid("login, PESEL and application number of a profile cannot change")
	}
	if err := tx.unindexProfileTimes(&old); err != nil {
		return err
	}
	if err := tx.indexProfileTimes(&p); err != nil {
		return err
	}
	return tx.putJSON(bProfiles, []byte(p.ID), p)
}

// DeleteProfile removes a profile, its indexes (those still pointing to it), its codes, counters and sessions.
func (tx *Tx) DeleteProfile(id string) error {
	p, err := tx.GetProfile(id)
	if err != nil {
		return err
	}
	if err := tx.unindexProfileTimes(&p); err != nil {
		return err
	}
	if p.Decoy {
		for _, k := range decoyKeys(&p, true, true) {
			if err := tx.kv.Delete(bDecoyIndex, k); err != nil {
				return err
			}
		}
	}
	if err := tx.kv.Delete(bPESELApplicants, append(applicantsPrefix(p.PESELHash), id...)); err != nil {
		return err
	}
	if v, err := tx.getString(bLoginIndex, []byte(p.LoginKey)); err == nil && v == LoginHolder+":"+id {
		if err := tx.kv.Delete(bLoginIndex, []byte(p.LoginKey)); err != nil {
			return err
		}
	}
	if err := tx.ReleasePESEL(p.PESELHash, id); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	if err := tx.kv.Delete(bAppNoIndex, []byte(p.ApplicationNumber)); err != nil {
		return err
	}
	var codeKeys [][]byte
	if err := tx.kv.Scan(bCodes, append([]byte(id), 0), nil, func(k, _ []byte) (bool, error) {
		codeKeys = append(codeKeys, append([]byte(nil), k...))
		return true, nil
	}); err != nil {
		return err
	}
	for _, k := range codeKeys {
		if err := tx.kv.Delete(bCodes, k); err != nil {
			return err
		}
	}
	if err := tx.kv.Delete(bCodeCounters, []byte(id)); err != nil {
		return err
	}
	if err := tx.DeleteSessionsOf(id); err != nil {
		return err
	}
	return tx.kv.Delete(bProfiles, []byte(id))
}

// ApplicationsExpiredBefore lists pending profiles whose application lapsed at or before t (oldest first, at most
// limit when limit > 0).
func (tx *Tx) ApplicationsExpiredBefore(t time.Time, limit int) ([]Profile, error) {
	return tx.profilesFromIndex(bAppExpiryIndex, t, limit)
}

// ProfilesExpiredBefore lists active profiles whose validity ended at or before t.
func (tx *Tx) ProfilesExpiredBefore(t time.Time, limit int) ([]Profile, error) {
	return tx.profilesFromIndex(bProfileExpiry, t, limit)
}

func (tx *Tx) profilesFromIndex(bucket string, t time.Time, limit int) ([]Profile, error) {
	ids, err := tx.scanTime(bucket, t, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Profile, 0, len(ids))
	for _, id := range ids {
		p, err := tx.GetProfile(id)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// CreateOfficer stores an officer; the login must be free among holders and officers.
func (tx *Tx) CreateOfficer(o Officer) error {
	if o.ID == "" || o.LoginKey == "" {
		return invalid("officer needs id and login key")
	}
	if ok, err := tx.exists(bOfficers, []byte(o.ID)); err != nil || ok {
		return firstErr(err, conflict("id", ""))
	}
	if ok, err := tx.exists(bLoginIndex, []byte(o.LoginKey)); err != nil || ok {
		return firstErr(err, conflict("login", ""))
	}
	if err := tx.kv.Put(bLoginIndex, []byte(o.LoginKey), []byte(LoginOfficer+":"+o.ID)); err != nil {
		return err
	}
	return tx.putJSON(bOfficers, []byte(o.ID), o)
}

// GetOfficer reads an officer by id.
func (tx *Tx) GetOfficer(id string) (Officer, error) {
	var o Officer
	err := tx.getJSON(bOfficers, []byte(id), "officer", &o)
	return o, err
}

// GetOfficerByLogin reads the officer holding a login key.
func (tx *Tx) GetOfficerByLogin(loginKey string) (Officer, error) {
	kind, id, err := tx.ResolveLogin(loginKey)
	if err != nil {
		return Officer{}, err
	}
	if kind != LoginOfficer {
		return Officer{}, notFound("officer")
	}
	return tx.GetOfficer(id)
}

// UpdateOfficer replaces an officer (the login cannot change).
func (tx *Tx) UpdateOfficer(o Officer) error {
	old, err := tx.GetOfficer(o.ID)
	if err != nil {
		return err
	}
	if old.LoginKey != o.LoginKey {
		return invalid("an officer's login cannot change")
	}
	return tx.putJSON(bOfficers, []byte(o.ID), o)
}

// Officers lists every officer in id order.
func (tx *Tx) Officers() ([]Officer, error) {
	var out []Officer
	err := tx.kv.Scan(bOfficers, nil, nil, func(_, v []byte) (bool, error) {
		var o Officer
		if err := jsonDecode(v, &o, "officer"); err != nil {
			return false, err
		}
		out = append(out, o)
		return true, nil
	})
	return out, err
}

// CreateClient stores an integrator client and indexes its key hash.
func (tx *Tx) CreateClient(c Client) error {
	if c.ID == "" || len(c.KeyHash) == 0 {
		return invalid("client needs id and key hash")
	}
	if ok, err := tx.exists(bClients, []byte(c.ID)); err != nil || ok {
		return firstErr(err, conflict("id", ""))
	}
	if ok, err := tx.exists(bClientKeyIndex, c.KeyHash); err != nil || ok {
		return firstErr(err, conflict("key", ""))
	}
	if err := tx.kv.Put(bClientKeyIndex, c.KeyHash, []byte(c.ID)); err != nil {
		return err
	}
	return tx.putJSON(bClients, []byte(c.ID), c)
}

// GetClient reads a client by id.
func (tx *Tx) GetClient(id string) (Client, error) {
	var c Client
	err := tx.getJSON(bClients, []byte(id), "client", &c)
	return c, err
}

// GetClientByKeyHash reads the client whose key hashes to h.
func (tx *Tx) GetClientByKeyHash(h []byte) (Client, error) {
	id, err := tx.getString(bClientKeyIndex, h)
	if err != nil {
		return Client{}, firstErr(notFoundIf(err, "client"), err)
	}
	return tx.GetClient(id)
}

// UpdateClient replaces a client (the key hash cannot change).
func (tx *Tx) UpdateClient(c Client) error {
	old, err := tx.GetClient(c.ID)
	if err != nil {
		return err
	}
	if string(old.KeyHash) != string(c.KeyHash) {
		return invalid("a client's key cannot change; create a new client")
	}
	return tx.putJSON(bClients, []byte(c.ID), c)
}

// Clients lists every client in id order.
func (tx *Tx) Clients() ([]Client, error) {
	var out []Client
	err := tx.kv.Scan(bClients, nil, nil, func(_, v []byte) (bool, error) {
		var c Client
		if err := jsonDecode(v, &c, "client"); err != nil {
			return false, err
		}
		out = append(out, c)
		return true, nil
	})
	return out, err
}
