package store

import (
	"bytes"
	"time"
	"unicode/utf8"
)

// Typed deep copies of the record types the decoded cache keeps (decoded.go). They replace a reflection walk that
// cost a third of what the cache saved. A copy starts from the whole struct and then copies again each field that
// holds a pointer, slice or map, so that a field added later is copied (TestRecordCopyIsDeep finds it shared if it
// holds one and is left out here).
//
// With norm set, a copy is also made into what decoding the record's JSON gives, so that a record just written
// can be cached without decoding it: monotonic clock readings are dropped, times are put in UTC, and an empty
// slice, map or byte string of an omitempty field becomes nil. A record that its JSON would change in another way
// (a string that is not UTF-8, which encoding replaces; a time not at offset zero, which decodes into another
// location) sets bad, and is not cached. TestNormalizedCopyIsWhatDecodeGives holds this to json.Unmarshal.
type copier struct {
	norm bool
	bad  bool
}

func (c *copier) str(s string) string {
	if c.norm && !utf8.ValidString(s) {
		c.bad = true
	}
	return s
}

func (c *copier) time(t time.Time) time.Time {
	if !c.norm {
		return t
	}
	if _, off := t.Zone(); off != 0 {
		c.bad = true
		return t
	}
	return t.UTC() // which drops the monotonic reading too
}

func (c *copier) timePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := c.time(*t)
	return &v
}

// bytes copies b; omitEmpty: the field is omitempty (an empty b is not written, and decodes as nil).
func (c *copier) bytes(b []byte, omitEmpty bool) []byte {
	if b == nil || (len(b) == 0 && omitEmpty && c.norm) {
		return nil
	}
	return bytes.Clone(b)
}

func (c *copier) times(ts []time.Time, omitEmpty bool) []time.Time {
	if ts == nil || (len(ts) == 0 && omitEmpty && c.norm) {
		return nil
	}
	out := make([]time.Time, len(ts))
	for i, t := range ts {
		out[i] = c.time(t)
	}
	return out
}

func (c *copier) strs(ss []string, omitEmpty bool) []string {
	if ss == nil || (len(ss) == 0 && omitEmpty && c.norm) {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = c.str(s)
	}
	return out
}

func (c *copier) profile(p *Profile) Profile {
	out := *p
	if c.norm {
		for _, s := range []string{p.ID, p.ApplicationNumber, p.Login, p.LoginKey, p.PasswordHash, p.FirstName,
			p.SecondName, p.Surname, p.PESEL, p.Email, p.Phone, p.CodeChannel, p.Status} {
			c.str(s)
		}
	}
	out.PESELHash = c.bytes(p.PESELHash, false)
	out.ApplicationSecretHash = c.bytes(p.ApplicationSecretHash, true)
	out.ContactConfirmedAt = c.timePtr(p.ContactConfirmedAt)
	out.Created, out.Updated = c.time(p.Created), c.time(p.Updated)
	out.ApplicationExpires = c.time(p.ApplicationExpires)
	out.ActivatedAt = c.timePtr(p.ActivatedAt)
	out.Expires = c.timePtr(p.Expires)
	if p.Confirmation != nil {
		cf := *p.Confirmation
		c.str(cf.Method)
		c.str(cf.By)
		c.str(cf.DocumentType)
		cf.At = c.time(cf.At)
		cf.DocumentHash = c.bytes(cf.DocumentHash, true)
		if cf.Details != nil && (len(cf.Details) > 0 || !c.norm) {
			d := make(map[string]string, len(cf.Details))
			for k, v := range cf.Details {
				d[c.str(k)] = c.str(v)
			}
			cf.Details = d
		} else {
			cf.Details = nil
		}
		out.Confirmation = &cf
	}
	if p.History != nil && (len(p.History) > 0 || !c.norm) {
		out.History = make([]Transition, len(p.History))
		for i, t := range p.History {
			c.str(t.From)
			c.str(t.To)
			c.str(t.Actor)
			c.str(t.Reason)
			t.At = c.time(t.At)
			out.History[i] = t
		}
	} else {
		out.History = nil
	}
	return out
}

func (c *copier) client(cl *Client) Client {
	out := *cl
	c.str(cl.ID)
	c.str(cl.Name)
	out.Scopes = c.strs(cl.Scopes, false)
	out.KeyHash = c.bytes(cl.KeyHash, false)
	out.Created = c.time(cl.Created)
	return out
}

func (c *copier) session(s *Session) Session {
	out := *s
	c.str(s.Role)
	c.str(s.SubjectID)
	out.TokenHash = c.bytes(s.TokenHash, false)
	out.Created, out.LastSeen = c.time(s.Created), c.time(s.LastSeen)
	out.IdleExpires, out.AbsoluteExpires = c.time(s.IdleExpires), c.time(s.AbsoluteExpires)
	return out
}

func (c *copier) code(cd *Code) Code {
	out := *cd
	c.str(cd.ProfileID)
	c.str(cd.Purpose)
	out.Hash = c.bytes(cd.Hash, false)
	if cd.Bindings != nil && (len(cd.Bindings) > 0 || !c.norm) {
		out.Bindings = make([]Binding, len(cd.Bindings))
		for i, b := range cd.Bindings {
			c.str(b.RequestID)
			c.str(b.DocName)
			b.Digest = c.bytes(b.Digest, false)
			out.Bindings[i] = b
		}
	} else {
		out.Bindings = nil
	}
	out.Created, out.Expires = c.time(cd.Created), c.time(cd.Expires)
	return out
}

func (c *copier) codeCounters(cc *CodeCounters) CodeCounters {
	out := *cc
	c.str(cc.ProfileID)
	if cc.Issued != nil && (len(cc.Issued) > 0 || !c.norm) {
		out.Issued = make(map[string][]time.Time, len(cc.Issued))
		for k, ts := range cc.Issued {
			out.Issued[c.str(k)] = c.times(ts, false)
		}
	} else {
		out.Issued = nil
	}
	out.Failures = c.times(cc.Failures, true)
	return out
}

func (c *copier) rateWindow(w *RateWindow) RateWindow {
	out := *w
	c.str(w.Key)
	out.Times = c.times(w.Times, true)
	return out
}

func (c *copier) signingRequest(r *SigningRequest) SigningRequest {
	out := *r
	if c.norm {
		for _, s := range []string{r.ID, r.ClientID, r.BatchID, r.Status, r.FileName, r.Format, r.ContentType,
			r.ProfileID, r.SuccessURL, r.FailureURL, r.AdditionalInfo, r.SignedContentType, r.FailureReason,
			r.Level, r.SealFingerprint, r.SealSubject} {
			c.str(s)
		}
	}
	out.Digest = c.bytes(r.Digest, false)
	out.Created, out.Updated, out.Expires = c.time(r.Created), c.time(r.Updated), c.time(r.Expires)
	out.SignedAt = c.timePtr(r.SignedAt)
	if r.TimeStamps != nil && (len(r.TimeStamps) > 0 || !c.norm) {
		out.TimeStamps = make([]SealTimeStamp, len(r.TimeStamps))
		for i, ts := range r.TimeStamps {
			c.str(ts.Kind)
			c.str(ts.TSA)
			ts.Time = c.time(ts.Time)
			out.TimeStamps[i] = ts
		}
	} else {
		out.TimeStamps = nil
	}
	if c.norm { // not in the JSON (json:"-"): the store keeps them apart
		out.Document, out.Signed = nil, nil
	} else {
		out.Document, out.Signed = c.bytes(r.Document, false), c.bytes(r.Signed, false)
	}
	return out
}

// copyAs sets *dst (a *T) to f's copy of src; false when dst is not a *T.
func copyAs[T any](dst any, src *T, c *copier, f func(*copier, *T) T) bool {
	d, ok := dst.(*T)
	if ok {
		*d = f(c, src)
	}
	return ok
}

// copyRecord sets dst, a pointer to a cached record type, to a copy of src (that type, or a pointer to it); false
// when the types differ or are not cached ones.
func copyRecord(dst, src any, c *copier) bool {
	switch s := src.(type) {
	case *Profile:
		return copyAs(dst, s, c, (*copier).profile)
	case Profile:
		return copyAs(dst, &s, c, (*copier).profile)
	case *Client:
		return copyAs(dst, s, c, (*copier).client)
	case Client:
		return copyAs(dst, &s, c, (*copier).client)
	case *Session:
		return copyAs(dst, s, c, (*copier).session)
	case Session:
		return copyAs(dst, &s, c, (*copier).session)
	case *Code:
		return copyAs(dst, s, c, (*copier).code)
	case Code:
		return copyAs(dst, &s, c, (*copier).code)
	case *CodeCounters:
		return copyAs(dst, s, c, (*copier).codeCounters)
	case CodeCounters:
		return copyAs(dst, &s, c, (*copier).codeCounters)
	case *RateWindow:
		return copyAs(dst, s, c, (*copier).rateWindow)
	case RateWindow:
		return copyAs(dst, &s, c, (*copier).rateWindow)
	case *SigningRequest:
		return copyAs(dst, s, c, (*copier).signingRequest)
	case SigningRequest:
		return copyAs(dst, &s, c, (*copier).signingRequest)
	}
	return false
}

// newRecord returns a new zero record of v's type (v: a cached record type or a pointer to one), nil for another
// type.
func newRecord(v any) any {
	switch v.(type) {
	case Profile, *Profile:
		return new(Profile)
	case Client, *Client:
		return new(Client)
	case Session, *Session:
		return new(Session)
	case Code, *Code:
		return new(Code)
	case CodeCounters, *CodeCounters:
		return new(CodeCounters)
	case RateWindow, *RateWindow:
		return new(RateWindow)
	case SigningRequest, *SigningRequest:
		return new(SigningRequest)
	}
	return nil
}
