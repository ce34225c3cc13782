package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

func jsonDecode(raw []byte, v any, what string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, what, err)
	}
	return nil
}

func codeKey(profileID, purpose string) []byte { return join(profileID, purpose) }

// GetCode reads the live code of a profile for a purpose.
func (tx *Tx) GetCode(profileID, purpose string) (Code, error) {
	var c Code
	err := tx.getJSON(bCodes, codeKey(profileID, purpose), "code", &c)
	return c, err
}

// PutCode stores a code, replacing (and so invalidating) any previous code of the same profile and purpose.
func (tx *Tx) PutCode(c Code) error {
	if c.ProfileID == "" || c.Purpose == "" || len(c.Hash) == 0 {
		return invalid("code needs profile id, purpose and hash")
	}
	return tx.putJSON(bCodes, codeKey(c.ProfileID, c.Purpose), c)
}

// DeleteCode removes the code of a profile and purpose (no error when there is none).
func (tx *Tx) DeleteCode(profileID, purpose string) error {
	return tx.kv.Delete(bCodes, codeKey(profileID, purpose))
}

// DeleteCodesExpiredBefore removes codes that expired before t and returns how many.
func (tx *Tx) DeleteCodesExpiredBefore(t time.Time) (int, error) {
	var keys [][]byte
	err := tx.kv.Scan(bCodes, nil, nil, func(k, v []byte) (bool, error) {
		var c Code
		if err := jsonDecode(v, &c, "code"); err != nil {
			return false, err
		}
		if c.Expires.Before(t) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := tx.kv.Delete(bCodes, k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// GetCodeCounters reads a profile's rate-limit counters (zero counters when none are stored).
func (tx *Tx) GetCodeCounters(profileID string) (CodeCounters, error) {
	var c CodeCounters
	err := tx.getJSON(bCodeCounters, []byte(profileID), "code counters", &c)
	if errors.Is(err, ErrNotFound) {
		return CodeCounters{ProfileID: profileID}, nil
	}
	return c, err
}

// PutCodeCounters stores a profile's rate-limit counters.
func (tx *Tx) PutCodeCounters(c CodeCounters) error {
	if c.ProfileID == "" {
		return invalid("code counters need a profile id")
	}
	return tx.putJSON(bCodeCounters, []byte(c.ProfileID), c)
}

// CreateSession stores a new session.
func (tx *Tx) CreateSession(s Session) error {
	if len(s.TokenHash) == 0 || s.SubjectID == "" {
		return invalid("session needs token hash and subject")
	}
	if ok, err := tx.exists(bSessions, s.TokenHash); err != nil || ok {
		return firstErr(err, conflict("session", ""))
	}
	if err := tx.kv.Put(bSessionSubject, append(append([]byte(s.SubjectID), 0), s.TokenHash...), nil); err != nil {
		return err
	}
	return tx.putJSON(bSessions, s.TokenHash, s)
}

// GetSession reads a session by token hash.
func (tx *Tx) GetSession(tokenHash []byte) (Session, error) {
	var s Session
	err := tx.getJSON(bSessions, tokenHash, "session", &s)
	return s, err
}

// UpdateSession replaces a stored session (it must exist).
func (tx *Tx) UpdateSession(s Session) error {
	if ok, err := tx.exists(bSessions, s.TokenHash); err != nil || !ok {
		return firstErr(err, notFound("session"))
	}
	return tx.putJSON(bSessions, s.TokenHash, s)
}

// DeleteSession removes a session (no error when there is none).
func (tx *Tx) DeleteSession(tokenHash []byte) error {
	s, err := tx.GetSession(tokenHash)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := tx.kv.Delete(bSessionSubject, append(append([]byte(s.SubjectID), 0), tokenHash...)); err != nil {
		return err
	}
	return tx.kv.Delete(bSessions, tokenHash)
}

// DeleteSessionsOf removes every session of a subject (logout everywhere, revocation).
func (tx *Tx) DeleteSessionsOf(subjectID string) error {
	prefix := append([]byte(subjectID), 0)
	var hashes [][]byte
	if err := tx.kv.Scan(bSessionSubject, prefix, nil, func(k, _ []byte) (bool, error) {
		hashes = append(hashes, append([]byte(nil), k[len(prefix):]...))
		return true, nil
	}); err != nil {
		return err
	}
	for _, h := range hashes {
		if err := tx.DeleteSession(h); err != nil {
			return err
		}
	}
	return nil
}

// DeleteSessionsExpiredBefore removes sessions whose idle or absolute expiry is before t.
func (tx *Tx) DeleteSessionsExpiredBefore(t time.Time) (int, error) {
	var hashes [][]byte
	err := tx.kv.Scan(bSessions, nil, nil, func(k, v []byte) (bool, error) {
		var s Session
		if err := jsonDecode(v, &s, "session"); err != nil {
			return false, err
		}
		if s.IdleExpires.Before(t) || s.AbsoluteExpires.Before(t) {
			hashes = append(hashes, append([]byte(nil), k...))
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, h := range hashes {
		if err := tx.DeleteSession(h); err != nil {
			return 0, err
		}
	}
	return len(hashes), nil
}

// GetLoginThrottle reads the failure counter of a login key (a zero counter when none is stored).
func (tx *Tx) GetLoginThrottle(loginKey string) (LoginThrottle, error) {
	var t LoginThrottle
	err := tx.getJSON(bLoginThrottle, []byte(loginKey), "login throttle", &t)
	if errors.Is(err, ErrNotFound) {
		return LoginThrottle{LoginKey: loginKey}, nil
	}
	return t, err
}

// PutLoginThrottle stores the failure counter of a login key.
func (tx *Tx) PutLoginThrottle(t LoginThrottle) error {
	if t.LoginKey == "" {
		return invalid("login throttle needs a login key")
	}
	return tx.putJSON(bLoginThrottle, []byte(t.LoginKey), t)
}

// DeleteLoginThrottle forgets the failure counter of a login key.
func (tx *Tx) DeleteLoginThrottle(loginKey string) error {
	return tx.kv.Delete(bLoginThrottle, []byte(loginKey))
}

// DeleteLoginThrottlesIdleSince removes counters with no failure after t whose KeepUntil is not after t.
func (tx *Tx) DeleteLoginThrottlesIdleSince(t time.Time) (int, error) {
	var keys [][]byte
	err := tx.kv.Scan(bLoginThrottle, nil, nil, func(k, v []byte) (bool, error) {
		var lt LoginThrottle
		if err := jsonDecode(v, &lt, "login throttle"); err != nil {
			return false, err
		}
		last := lt.KeepUntil
		if n := len(lt.Failures); n > 0 && lt.Failures[n-1].After(last) {
			last = lt.Failures[n-1]
		}
		if last.Before(t) {
			keys = append(keys, append([]byte(nil), k...))
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := tx.kv.Delete(bLoginThrottle, k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
