package storetest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

func profile(n int, status string) store.Profile {
	id := fmt.Sprintf("p%03d", n)
	return store.Profile{ID: id, ApplicationNumber: fmt.Sprintf("APP-%03d", n), Login: fmt.Sprintf("User%d", n),
		LoginKey: fmt.Sprintf("user%d", n), PESELHash: []byte(fmt.Sprintf("pesel-hash-%d", n)), Status: status,
		FirstName: "Jan", Surname: "Testowy", Created: t0, Updated: t0, ApplicationExpires: t0.Add(time.Duration(n) * time.Hour)}
}

func conflictOn(t *testing.T, err error, what string) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.What != what || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("error %v, want a conflict on %s", err, what)
	}
}

func testProfileIndexes(t *testing.T, s Suite) {
	db, _ := open(t, s)
	p := profile(1, store.ProfilePending)
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(p) }))
	tests := []struct {
		name   string
		mutate func(*store.Profile)
		what   string
	}{
		{"same id", func(q *store.Profile) { q.ID = p.ID }, "id"},
		{"same login", func(q *store.Profile) { q.LoginKey = p.LoginKey }, "login"},
		{"same PESEL", func(q *store.Profile) { q.PESELHash = p.PESELHash }, "pesel"},
		{"same application number", func(q *store.Profile) { q.ApplicationNumber = p.ApplicationNumber }, "applicationNumber"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := profile(2, store.ProfilePending)
			tc.mutate(&q)
			err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(q) })
			conflictOn(t, err, tc.what)
			// nothing of the failed create may remain
			must(t, db.View(ctx, func(tx *store.Tx) error {
				if tc.what != "id" {
					if _, err := tx.GetProfile("p002"); !errors.Is(err, store.ErrNotFound) {
						t.Errorf("failed create left the record: %v", err)
					}
				}
				if _, err := tx.GetProfileByApplicationNumber("APP-002"); tc.what != "applicationNumber" && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("failed create left an index: %v", err)
				}
				return nil
			}))
		})
	}
	err := db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(store.Profile{ID: "x"}) })
	wantErr(t, err, store.ErrInvalid)
	must(t, db.View(ctx, func(tx *store.Tx) error {
		for name, get := range map[string]func() (store.Profile, error){
			"id":    func() (store.Profile, error) { return tx.GetProfile("p001") },
			"login": func() (store.Profile, error) { return tx.GetProfileByLogin("user1") },
			"pesel": func() (store.Profile, error) { return tx.GetProfileByPESELHash([]byte("pesel-hash-1")) },
			"appno": func() (store.Profile, error) { return tx.GetProfileByApplicationNumber("APP-001") },
		} {
			got, err := get()
			if err != nil || got.ID != "p001" || got.Login != "User1" {
				t.Errorf("by %s: %+v %v", name, got.ID, err)
			}
		}
		_, err := tx.GetProfileByLogin("nobody")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.GetProfileByPESELHash([]byte("nope"))
		wantErr(t, err, store.ErrNotFound)
		kind, id, err := tx.ResolveLogin("user1")
		if err != nil || kind != store.LoginHolder || id != "p001" {
			t.Errorf("ResolveLogin = %s %s %v", kind, id, err)
		}
		return nil
	}))
}

func testProfileUpdate(t *testing.T, s Suite) {
	db, _ := open(t, s)
	for i := 1; i <= 3; i++ {
		p := profile(i, store.ProfilePending)
		must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(p) }))
	}
	list := func(active bool, at time.Time) (ids []string) {
		must(t, db.View(ctx, func(tx *store.Tx) error {
			var ps []store.Profile
			var err error
			if active {
				ps, err = tx.ProfilesExpiredBefore(at, 0)
			} else {
				ps, err = tx.ApplicationsExpiredBefore(at, 0)
			}
			for _, p := range ps {
				ids = append(ids, p.ID)
			}
			return err
		}))
		return ids
	}
	if got := fmt.Sprint(list(false, t0.Add(150*time.Minute))); got != "[p001 p002]" {
		t.Fatalf("applications expired before 2.5 h: %s", got)
	}
	must(t, db.View(ctx, func(tx *store.Tx) error {
		ps, err := tx.ApplicationsExpiredBefore(t0.Add(10*time.Hour), 1)
		if len(ps) != 1 || ps[0].ID != "p001" {
			t.Errorf("limit 1: %v %v", len(ps), err)
		}
		return err
	}))
	// activate p001: leaves the application index, enters the expiry index
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		p, err := tx.GetProfile("p001")
		if err != nil {
			return err
		}
		exp := t0.AddDate(3, 0, 0)
		p.Status, p.Expires = store.ProfileActive, &exp
		return tx.UpdateProfile(p)
	}))
	if got := fmt.Sprint(list(false, t0.Add(150*time.Minute))); got != "[p002]" {
		t.Fatalf("after activation, applications: %s", got)
	}
	if got := fmt.Sprint(list(true, t0.AddDate(3, 0, 1))); got != "[p001]" {
		t.Fatalf("active profiles expiring: %s", got)
	}
	if got := fmt.Sprint(list(true, t0.AddDate(2, 0, 0))); got != "[]" {
		t.Fatalf("active profiles expiring within 2 years: %s", got)
	}
	// extension moves the index entry
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		p, _ := tx.GetProfile("p001")
		exp := t0.AddDate(6, 0, 0)
		p.Expires = &exp
		return tx.UpdateProfile(p)
	}))
	if got := fmt.Sprint(list(true, t0.AddDate(3, 0, 1))); got != "[]" {
		t.Fatalf("old expiry still indexed after extension: %s", got)
	}
	for _, mutate := range []func(*store.Profile){
		func(p *store.Profile) { p.LoginKey = "other" },
		func(p *store.Profile) { p.PESELHash = []byte("other") },
		func(p *store.Profile) { p.ApplicationNumber = "other" },
	} {
		err := db.Update(ctx, func(tx *store.Tx) error {
			p, _ := tx.GetProfile("p002")
			mutate(&p)
			return tx.UpdateProfile(p)
		})
		wantErr(t, err, store.ErrInvalid)
	}
	err := db.Update(ctx, func(tx *store.Tx) error { return tx.UpdateProfile(profile(9, store.ProfilePending)) })
	wantErr(t, err, store.ErrNotFound)
}

func testProfileDelete(t *testing.T, s Suite) {
	db, _ := open(t, s)
	p := profile(1, store.ProfilePending)
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateProfile(p); err != nil {
			return err
		}
		if err := tx.PutCode(store.Code{ProfileID: p.ID, Purpose: "contact", Hash: []byte("h"), Expires: t0}); err != nil {
			return err
		}
		return tx.CreateSession(store.Session{TokenHash: []byte("tok"), Role: "holder", SubjectID: p.ID})
	}))
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteProfile(p.ID) }))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		_, err := tx.GetCode(p.ID, "contact")
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.GetSession([]byte("tok"))
		wantErr(t, err, store.ErrNotFound)
		ps, _ := tx.ApplicationsExpiredBefore(t0.AddDate(1, 0, 0), 0)
		if len(ps) != 0 {
			t.Errorf("deleted profile still in the application index")
		}
		return nil
	}))
	// every index is free again
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(p) }))
	err := db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteProfile("nope") })
	wantErr(t, err, store.ErrNotFound)
}

func testReleasePESEL(t *testing.T, s Suite) {
	db, _ := open(t, s)
	old := profile(1, "expired")
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(old) }))
	err := db.Update(ctx, func(tx *store.Tx) error { return tx.ReleasePESEL(old.PESELHash, "someone-else") })
	conflictOn(t, err, "pesel")
	renewed := profile(2, store.ProfilePending)
	renewed.PESELHash = old.PESELHash
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.ReleasePESEL(old.PESELHash, old.ID); err != nil {
			return err
		}
		return tx.CreateProfile(renewed)
	}))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		p, err := tx.GetProfileByPESELHash(old.PESELHash)
		if err != nil || p.ID != renewed.ID {
			t.Errorf("PESEL index after renewal: %s %v", p.ID, err)
		}
		if _, err := tx.GetProfile(old.ID); err != nil {
			t.Errorf("old profile gone: %v", err)
		}
		return nil
	}))
	// deleting the old profile must not drop the new profile's PESEL entry
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteProfile(old.ID) }))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		_, err := tx.GetProfileByPESELHash(old.PESELHash)
		return err
	}))
}

func testOfficers(t *testing.T, s Suite) {
	db, _ := open(t, s)
	p := profile(1, store.ProfilePending)
	o := store.Officer{ID: "o1", Login: "Urzednik", LoginKey: "urzednik", PasswordHash: "x", Created: t0}
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(p) }))
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateOfficer(o) }))
	err := db.Update(ctx, func(tx *store.Tx) error {
		return tx.CreateOfficer(store.Officer{ID: "o2", LoginKey: p.LoginKey})
	})
	conflictOn(t, err, "login")
	q := profile(2, store.ProfilePending)
	q.LoginKey = "urzednik"
	err = db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(q) })
	conflictOn(t, err, "login")
	must(t, db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.GetOfficerByLogin("urzednik")
		if err != nil || got.ID != "o1" {
			t.Errorf("officer by login: %v %v", got.ID, err)
		}
		if _, err := tx.GetOfficerByLogin(p.LoginKey); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a holder's login found as an officer: %v", err)
		}
		if _, err := tx.GetProfileByLogin("urzednik"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("an officer's login found as a holder: %v", err)
		}
		return nil
	}))
	o.Disabled = true
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.UpdateOfficer(o) }))
	o.LoginKey = "other"
	wantErr(t, db.Update(ctx, func(tx *store.Tx) error { return tx.UpdateOfficer(o) }), store.ErrInvalid)
}

func testOfficersList(t *testing.T, s Suite) {
	db, _ := open(t, s)
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if all, err := tx.Officers(); err != nil || len(all) != 0 {
			t.Errorf("Officers of an empty store: %d %v", len(all), err)
		}
		return nil
	}))
	for _, o := range []store.Officer{{ID: "o2", Login: "B", LoginKey: "b", Created: t0},
		{ID: "o1", Login: "A", LoginKey: "a", Created: t0, Disabled: true}} {
		must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateOfficer(o) }))
	}
	// a holder is not an officer
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(profile(1, store.ProfilePending)) }))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		all, err := tx.Officers()
		if err != nil || len(all) != 2 || all[0].ID != "o1" || !all[0].Disabled || all[1].Login != "B" {
			t.Errorf("Officers: %+v %v", all, err)
		}
		return nil
	}))
}

func testClients(t *testing.T, s Suite) {
	db, _ := open(t, s)
	c := store.Client{ID: "c1", Name: "Apteka", Scopes: []string{"sign"}, KeyHash: []byte("kh1"), Created: t0}
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateClient(c) }))
	err := db.Update(ctx, func(tx *store.Tx) error {
		return tx.CreateClient(store.Client{ID: "c2", KeyHash: []byte("kh1")})
	})
	conflictOn(t, err, "key")
	must(t, db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.GetClientByKeyHash([]byte("kh1"))
		if err != nil || got.Name != "Apteka" || len(got.Scopes) != 1 {
			t.Errorf("client by key: %+v %v", got, err)
		}
		_, err = tx.GetClientByKeyHash([]byte("kh2"))
		wantErr(t, err, store.ErrNotFound)
		all, err := tx.Clients()
		if len(all) != 1 {
			t.Errorf("Clients: %d %v", len(all), err)
		}
		return nil
	}))
	c.Disabled = true
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.UpdateClient(c) }))
}

func testCodes(t *testing.T, s Suite) {
	db, _ := open(t, s)
	c1 := store.Code{ProfileID: "p1", Purpose: "sign", Hash: []byte("h1"), Expires: t0,
		Bindings: []store.Binding{{RequestID: "r1", Digest: []byte{1, 2}}}}
	c2 := c1
	c2.Hash, c2.Expires = []byte("h2"), t0.Add(time.Hour)
	other := store.Code{ProfileID: "p1", Purpose: "contact", Hash: []byte("h3"), Expires: t0.Add(time.Hour)}
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.PutCode(c1) }))
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.PutCode(other); err != nil {
			return err
		}
		return tx.PutCode(c2)
	}))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		got, err := tx.GetCode("p1", "sign")
		if err != nil || string(got.Hash) != "h2" || len(got.Bindings) != 1 || got.Bindings[0].RequestID != "r1" {
			t.Errorf("a second code does not replace the first: %+v %v", got, err)
		}
		_, err = tx.GetCode("p1", "extend")
		wantErr(t, err, store.ErrNotFound)
		cc, err := tx.GetCodeCounters("p9")
		if err != nil || cc.ProfileID != "p9" || len(cc.Failures) != 0 {
			t.Errorf("zero counters: %+v %v", cc, err)
		}
		return nil
	}))
	wantErr(t, db.Update(ctx, func(tx *store.Tx) error { return tx.PutCode(store.Code{ProfileID: "p1"}) }), store.ErrInvalid)
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		return tx.PutCodeCounters(store.CodeCounters{ProfileID: "p1", Failures: []time.Time{t0}})
	}))
	var n int
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteCodesExpiredBefore(t0.Add(2 * time.Hour))
		return err
	}))
	if n != 2 {
		t.Fatalf("expired codes deleted: %d", n)
	}
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteCode("p1", "sign") }))
}

func testSessions(t *testing.T, s Suite) {
	db, _ := open(t, s)
	mk := func(tok, subj string, idle time.Time) store.Session {
		return store.Session{TokenHash: []byte(tok), Role: "holder", SubjectID: subj, Created: t0, LastSeen: t0,
			IdleExpires: idle, AbsoluteExpires: t0.Add(12 * time.Hour)}
	}
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		for _, s := range []store.Session{mk("a", "p1", t0.Add(time.Hour)), mk("b", "p1", t0.Add(time.Minute)), mk("c", "p2", t0.Add(time.Hour))} {
			if err := tx.CreateSession(s); err != nil {
				return err
			}
		}
		return nil
	}))
	conflictOn(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateSession(mk("a", "p3", t0)) }), "session")
	var n int
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteSessionsExpiredBefore(t0.Add(30 * time.Minute))
		return err
	}))
	if n != 1 {
		t.Fatalf("idle-expired sessions deleted: %d", n)
	}
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		s, err := tx.GetSession([]byte("a"))
		if err != nil {
			return err
		}
		s.LastSeen = t0.Add(time.Minute)
		return tx.UpdateSession(s)
	}))
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteSessionsOf("p1") }))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		_, err := tx.GetSession([]byte("a"))
		wantErr(t, err, store.ErrNotFound)
		_, err = tx.GetSession([]byte("c"))
		return err
	}))
	wantErr(t, db.Update(ctx, func(tx *store.Tx) error { return tx.UpdateSession(mk("zz", "p1", t0)) }), store.ErrNotFound)
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteSession([]byte("zz")) }))
}

func testLoginThrottle(t *testing.T, s Suite) {
	db, _ := open(t, s)
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		lt, err := tx.GetLoginThrottle("jan")
		if err != nil || lt.LoginKey != "jan" || len(lt.Failures) != 0 {
			t.Errorf("zero throttle: %+v %v", lt, err)
		}
		lt.Failures = append(lt.Failures, t0)
		if err := tx.PutLoginThrottle(lt); err != nil {
			return err
		}
		return tx.PutLoginThrottle(store.LoginThrottle{LoginKey: "ewa", Known: []string{"a1"}, KeepUntil: t0.Add(time.Hour)})
	}))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		lt, err := tx.GetLoginThrottle("ewa")
		if err != nil || len(lt.Known) != 1 || lt.Known[0] != "a1" || !lt.KeepUntil.Equal(t0.Add(time.Hour)) {
			t.Errorf("stored throttle: %+v %v", lt, err)
		}
		return nil
	}))
	var n int
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.DeleteLoginThrottlesIdleSince(t0.Add(time.Minute))
		return err
	}))
	if n != 1 {
		t.Fatalf("idle throttles removed: %d", n)
	}
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteLoginThrottle("ewa") }))
}

// testLoginThrottleConcurrentAttempts: the profile service records a login attempt and checks the limit in one
// Update (read, check, write); concurrent Updates must not lose a recorded attempt, nor let more than the limit
// pass the check.
func testLoginThrottleConcurrentAttempts(t *testing.T, s Suite) {
	db, _ := open(t, s)
	const attempts, limit = 40, 5
	var (
		wg     sync.WaitGroup
		passed atomic.Int32
	)
	for i := 0; i < attempts; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			err := db.Update(ctx, func(tx *store.Tx) error {
				ok = false
				lt, err := tx.GetLoginThrottle("jan")
				if err != nil {
					return err
				}
				if len(lt.Failures) >= limit {
					return nil
				}
				lt.Failures, ok = append(lt.Failures, t0.Add(time.Duration(i)*time.Second)), true
				return tx.PutLoginThrottle(lt)
			})
			if err != nil {
				t.Error(err)
			}
			if ok {
				passed.Add(1)
			}
		}()
	}
	wg.Wait()
	must(t, db.View(ctx, func(tx *store.Tx) error {
		lt, err := tx.GetLoginThrottle("jan")
		if err != nil {
			return err
		}
		if passed.Load() != limit || len(lt.Failures) != limit {
			t.Errorf("%d attempts passed the check, %d recorded; want %d", passed.Load(), len(lt.Failures), limit)
		}
		return nil
	}))
}

func sigreq(id, client string) store.SigningRequest {
	return store.SigningRequest{ID: id, ClientID: client, Status: store.RequestPending, FileName: "recepta.xml",
		Format: "xades", Digest: []byte{0xde, 0xad}, Document: []byte("<recepta/>"), Created: t0, Updated: t0,
		Expires: t0.Add(time.Hour), SuccessURL: "https://rx.example/ok"}
}

func ev(kind string) audit.Event {
	return audit.Event{Time: t0, Kind: kind, Actor: "client:c1", Subject: "r"}
}

// chained moves the events a backend queued (store.AuditQueue) into the chain, and checks that none is left.
func chained(t *testing.T, db *store.DB) {
	t.Helper()
	_, err := db.ChainAudit(ctx)
	must(t, err)
	n, _, err := db.AuditPending(ctx)
	must(t, err)
	if n != 0 {
		t.Fatalf("%d audit events still queued after ChainAudit", n)
	}
}

func auditCount(t *testing.T, db *store.DB) int {
	chained(t, db)
	n := 0
	must(t, db.ScanAudit(ctx, 1, func(uint64, []byte) error { n++; return nil }))
	return n
}

func testSigReqScoped(t *testing.T, s Suite) {
	db, _ := open(t, s)
	must(t, db.CreateSigningRequest(ctx, sigreq("r1", "c1"), ev("signing.request.create")))
	conflictOn(t, db.CreateSigningRequest(ctx, sigreq("r1", "c1"), ev("x")), "id")
	if n := auditCount(t, db); n != 1 {
		t.Fatalf("audit records: %d (a failed create must not leave its event)", n)
	}
	got, err := db.GetSigningRequest(ctx, "c1", "r1")
	must(t, err)
	if got.FileName != "recepta.xml" || got.DocumentSize != 10 || got.Document != nil || got.Status != store.RequestPending {
		t.Fatalf("metadata: %+v", got)
	}
	_, err = db.GetSigningRequest(ctx, "c2", "r1")
	wantErr(t, err, store.ErrNotFound)
	_, err = db.GetSigningRequest(ctx, "c1", "r9")
	wantErr(t, err, store.ErrNotFound)
	h, err := db.GetSigningRequestForHolder(ctx, "r1")
	if err != nil || string(h.Document) != "<recepta/>" {
		t.Fatalf("holder read: %q %v", h.Document, err)
	}
	_, err = db.GetSignedDocument(ctx, "c1", "r1")
	conflictOn(t, err, "status")
	_, err = db.GetSignedDocument(ctx, "c2", "r1")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, db.CreateSigningRequest(ctx, store.SigningRequest{ID: "x"}), store.ErrInvalid)
}

func testSigReqCAS(t *testing.T, s Suite) {
	db, _ := open(t, s)
	must(t, db.CreateSigningRequest(ctx, sigreq("r1", "c1")))
	var wins atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			_, err := db.SetSigningRequestStatus(ctx, "r1", store.RequestPending, "confirmed",
				func(r *store.SigningRequest) { r.ProfileID = fmt.Sprintf("p%d", g) }, ev("signing.confirm"))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrConflict):
			default:
				t.Error(err)
			}
		}(g)
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent compare-and-sets from pending succeeded, want exactly 1", wins.Load())
	}
	if n := auditCount(t, db); n != 1 {
		t.Fatalf("audit records: %d, want 1 (losers roll back their events)", n)
	}
	r, _ := db.GetSigningRequest(ctx, "c1", "r1")
	if r.Status != "confirmed" || r.ProfileID == "" {
		t.Fatalf("after CAS: %+v", r)
	}
	_, err := db.SetSigningRequestStatus(ctx, "r1", store.RequestPending, store.RequestFailed, nil)
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Detail != "confirmed" {
		t.Fatalf("CAS from a stale status: %v", err)
	}
	_, err = db.SetSigningRequestStatus(ctx, "nope", store.RequestPending, store.RequestFailed, nil)
	wantErr(t, err, store.ErrNotFound)
}

func testSigReqAttach(t *testing.T, s Suite) {
	db, _ := open(t, s)
	must(t, db.CreateSigningRequest(ctx, sigreq("r1", "c1")))
	_, err := db.AttachSignedDocument(ctx, "r1", "confirmed", []byte("<signed/>"), "application/xml", t0)
	conflictOn(t, err, "status")
	_, err = db.AttachSignedDocument(ctx, "r1", store.RequestPending, nil, "application/xml", t0)
	wantErr(t, err, store.ErrInvalid)
	r, err := db.AttachSignedDocument(ctx, "r1", store.RequestPending, []byte("<signed/>"), "application/xml", t0.Add(time.Minute), ev("signature.create"))
	must(t, err)
	if r.Status != store.RequestSigned || r.SignedAt == nil || r.SignedSize != 9 {
		t.Fatalf("after attach: %+v", r)
	}
	got, err := db.GetSignedDocument(ctx, "c1", "r1")
	if err != nil || string(got.Signed) != "<signed/>" || got.SignedContentType != "application/xml" {
		t.Fatalf("signed read: %q %v", got.Signed, err)
	}
	_, err = db.AttachSignedDocument(ctx, "r1", store.RequestPending, []byte("<again/>"), "application/xml", t0)
	conflictOn(t, err, "status")
	must(t, db.DeleteSigningRequest(ctx, "r1", ev("signing.request.delete")))
	_, err = db.GetSigningRequestForHolder(ctx, "r1")
	wantErr(t, err, store.ErrNotFound)
	must(t, db.DeleteSigningRequest(ctx, "r1"))
}

func testSigReqExpired(t *testing.T, s Suite) {
	db, _ := open(t, s)
	for i, exp := range []time.Duration{3 * time.Hour, time.Hour, 2 * time.Hour} {
		r := sigreq(fmt.Sprintf("r%d", i), "c1")
		r.Expires, r.BatchID = t0.Add(exp), "b1"
		if i == 2 {
			r.ClientID = "c2"
		}
		must(t, db.CreateSigningRequest(ctx, r))
	}
	got, err := db.ListExpiredSigningRequests(ctx, t0.Add(150*time.Minute), 0)
	must(t, err)
	if len(got) != 2 || got[0].ID != "r1" || got[1].ID != "r2" {
		t.Fatalf("expired: %v", got)
	}
	got, _ = db.ListExpiredSigningRequests(ctx, t0.Add(150*time.Minute), 1)
	if len(got) != 1 {
		t.Fatalf("limit: %d", len(got))
	}
	b, err := db.ListSigningRequestsInBatch(ctx, "c1", "b1")
	if err != nil || len(b) != 2 || b[0].ID != "r0" || b[1].ID != "r1" {
		t.Fatalf("batch of c1: %v %v", b, err)
	}
	must(t, db.DeleteSigningRequest(ctx, "r1"))
	got, _ = db.ListExpiredSigningRequests(ctx, t0.Add(150*time.Minute), 0)
	if len(got) != 1 {
		t.Fatalf("deleted request still listed: %v", got)
	}
}

func testSigReqLarge(t *testing.T, s Suite) {
	db, _ := open(t, s)
	r := sigreq("big", "c1")
	r.Document = bytes.Repeat([]byte("0123456789abcdef"), 10<<20/16)
	if _, err := rand.Read(r.Document[:4096]); err != nil {
		t.Fatal(err)
	}
	must(t, db.CreateSigningRequest(ctx, r))
	got, err := db.GetSigningRequestForHolder(ctx, "big")
	must(t, err)
	if !bytes.Equal(got.Document, r.Document) || got.DocumentSize != 10<<20 {
		t.Fatal("10 MB document did not round-trip")
	}
}

func testMaintenance(t *testing.T, s Suite) {
	db, _ := open(t, s)
	w := func(id string, start, end time.Duration) store.MaintenanceWindow {
		return store.MaintenanceWindow{ID: id, Start: t0.Add(start), End: t0.Add(end), Message: "Prace serwisowe", Created: t0}
	}
	must(t, db.AddMaintenanceWindow(ctx, w("late", 48*time.Hour, 60*time.Hour), ev("maintenance.add")))
	must(t, db.AddMaintenanceWindow(ctx, w("past", -5*time.Hour, -time.Hour)))
	must(t, db.AddMaintenanceWindow(ctx, w("now", -time.Hour, time.Hour)))
	wantErr(t, db.AddMaintenanceWindow(ctx, w("bad", time.Hour, time.Hour)), store.ErrInvalid)
	conflictOn(t, db.AddMaintenanceWindow(ctx, w("now", 70*time.Hour, 71*time.Hour)), "id")
	got, err := db.MaintenanceWindows(ctx, t0)
	must(t, err)
	if len(got) != 2 || got[0].ID != "now" || got[1].ID != "late" || got[1].Message != "Prace serwisowe" {
		t.Fatalf("upcoming windows: %v", got)
	}
	must(t, db.DeleteMaintenanceWindow(ctx, "now"))
	wantErr(t, db.DeleteMaintenanceWindow(ctx, "now"), store.ErrNotFound)
	got, _ = db.MaintenanceWindows(ctx, t0)
	if len(got) != 1 {
		t.Fatalf("after delete: %v", got)
	}
}

func testAuditChain(t *testing.T, s Suite) {
	db, _ := open(t, s)
	for i := 0; i < 5; i++ {
		must(t, db.AppendAudit(ctx, audit.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: "test.event", Actor: "system", Subject: fmt.Sprint(i)}))
	}
	boom := errors.New("boom")
	err := db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.Audit(ev("rolled.back")); err != nil {
			return err
		}
		return boom
	})
	wantErr(t, err, boom)
	conflictOn(t, db.Update(ctx, func(tx *store.Tx) error { return tx.AuditPut(9, []byte("{}")) }), "audit")
	chained(t, db)
	rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{})
	must(t, err)
	if rep.Records != 5 || rep.LastSeq != 5 || rep.Pending != 0 {
		t.Fatalf("report: %+v", rep)
	}
	var buf bytes.Buffer
	n, err := audit.Export(ctx, db, &buf)
	must(t, err)
	if n != 5 {
		t.Fatalf("exported %d", n)
	}
	if _, err := audit.VerifyJSONLines(&buf, audit.VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func testAuditConcurrent(t *testing.T, s Suite) {
	db, _ := open(t, s)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				run := db.Update
				if i%2 == 0 {
					run = db.Batch
				}
				if err := run(ctx, func(tx *store.Tx) error {
					return tx.Audit(audit.Event{Time: t0, Kind: "test.concurrent", Actor: fmt.Sprintf("g%d", g), Subject: fmt.Sprint(i)})
				}); err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	chained(t, db)
	rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{})
	must(t, err)
	if rep.Records != 80 {
		t.Fatalf("records: %d", rep.Records)
	}
}

func testAuditSeal(t *testing.T, s Suite) {
	db, _ := open(t, s)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sealer := &audit.Sealer{Signer: key}
	sealed, err := sealer.Seal(ctx, db)
	if err != nil || sealed {
		t.Fatalf("sealing an empty log: %v %v", sealed, err)
	}
	for i := 0; i < 3; i++ {
		must(t, db.AppendAudit(ctx, ev("test.event")))
	}
	sealed, err = sealer.Seal(ctx, db)
	if err != nil || !sealed {
		t.Fatalf("seal: %v %v", sealed, err)
	}
	if sealed, _ = sealer.Seal(ctx, db); sealed {
		t.Fatal("sealed twice with nothing new")
	}
	must(t, db.AppendAudit(ctx, ev("test.after")))
	chained(t, db)
	rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{TrustedKeys: []crypto.PublicKey{key.Public()}})
	must(t, err)
	if rep.Seals != 1 || rep.SealedSeq != 4 || rep.Unsealed != 1 {
		t.Fatalf("report: %+v", rep)
	}
	heads := 0
	must(t, db.ScanAuditHeads(ctx, func(seq uint64, _ []byte) error {
		if seq != 4 {
			t.Errorf("head copy at %d", seq)
		}
		heads++
		return nil
	}))
	if heads != 1 {
		t.Fatalf("head copies: %d", heads)
	}
	// cutting the sealed records off the chain shows through the head copy
	must(t, db.Backend().Update(ctx, func(tx store.KVTx) error {
		for seq := uint64(3); seq <= 5; seq++ {
			if err := tx.Delete("audit", audit.SeqKey(seq)); err != nil {
				return err
			}
		}
		return nil
	}))
	_, err = audit.VerifyStore(ctx, db, audit.VerifyOptions{})
	var be *audit.BrokenError
	if !errors.As(err, &be) || be.Seq != 3 {
		t.Fatalf("truncation after a signed head: %v", err)
	}
}

// testAuditKeyedChain: with a chain key every appended record is keyed, the store verifies with its own key, and a
// record removed from the middle with the chain after it recomputed unkeyed (what someone holding only the store can
// do) is found.
func testAuditKeyedChain(t *testing.T, s Suite) {
	db, _ := open(t, s)
	key, err := audit.NewChainKey(nil, 1)
	must(t, err)
	db.SetAuditChainKey(key)
	for i := 0; i < 6; i++ {
		must(t, db.AppendAudit(ctx, audit.Event{Time: t0.Add(time.Duration(i) * time.Second), Kind: "test.event", Actor: "system", Subject: fmt.Sprint(i)}))
	}
	chained(t, db)
	rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{})
	must(t, err)
	if rep.Keyed != 6 {
		t.Fatalf("report: %+v", rep)
	}
	// delete record 3, renumber 4..6 as 3..5 and recompute their hashes without the key
	var recs []audit.Record
	must(t, db.ScanAudit(ctx, 1, func(_ uint64, raw []byte) error {
		var r audit.Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		recs = append(recs, r)
		return nil
	}))
	recs = append(recs[:2], recs[3:]...)
	must(t, db.Backend().Update(ctx, func(tx store.KVTx) error {
		for seq := uint64(3); seq <= 6; seq++ {
			if err := tx.Delete("audit", audit.SeqKey(seq)); err != nil {
				return err
			}
		}
		prev := recs[1].Hash
		for i := 2; i < len(recs); i++ {
			r := recs[i]
			r.Seq, r.PrevHash = uint64(i+1), prev
			r.Hash = r.ComputeHash()
			prev = r.Hash
			raw, _ := json.Marshal(r)
			if err := tx.Put("audit", audit.SeqKey(r.Seq), raw); err != nil {
				return err
			}
		}
		return nil
	}))
	_, err = audit.VerifyStore(ctx, db, audit.VerifyOptions{})
	var be *audit.BrokenError
	if !errors.As(err, &be) || be.Seq != 3 {
		t.Fatalf("recomputed chain: %v", err)
	}
}

// testAuditEventsCommitWithTheirTransaction: whether a backend chains an event in its transaction or queues it for
// the chainer (store.AuditQueue), the event commits and rolls back with the transaction, a bad event fails its own
// transaction, and once chained every committed event is in the chain exactly once, in transaction order.
func testAuditEventsCommitWithTheirTransaction(t *testing.T, s Suite) {
	db, _ := open(t, s)
	for i := 0; i < 3; i++ {
		must(t, db.Update(ctx, func(tx *store.Tx) error {
			for j := 0; j < 2; j++ {
				if err := tx.Audit(audit.Event{Time: t0, Kind: "test.tx", Actor: "system", Subject: fmt.Sprintf("%d.%d", i, j)}); err != nil {
					return err
				}
			}
			return tx.KV().Put("t", []byte(fmt.Sprint(i)), []byte("v"))
		}))
	}
	wantErr(t, db.Update(ctx, func(tx *store.Tx) error {
		must(t, tx.KV().Put("t", []byte("bad"), []byte("v")))
		return tx.Audit(audit.Event{Time: t0, Kind: "test.pesel", Actor: "system", Subject: "44051401359"})
	}), audit.ErrSensitive)
	wantErr(t, db.Update(ctx, func(tx *store.Tx) error {
		return tx.Audit(audit.Event{Kind: "test.notime", Actor: "system"})
	}), audit.ErrEvent)
	if err := db.Backend().View(ctx, func(tx store.KVTx) error { _, err := tx.Get("t", []byte("bad")); return err }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the write of a transaction with a bad event: %v", err)
	}
	// an event appended, then its transaction failing: the next event chains on the last one committed (not on the
	// one the store appended last, which it remembers to spare decoding it)
	errLater := errors.New("fails after its event")
	wantErr(t, db.Update(ctx, func(tx *store.Tx) error {
		must(t, tx.Audit(audit.Event{Time: t0, Kind: "test.tx", Actor: "system", Subject: "rolled back"}))
		return errLater
	}), errLater)
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		return tx.Audit(audit.Event{Time: t0, Kind: "test.tx", Actor: "system", Subject: "3.0"})
	}))
	chained(t, db)
	var got []string
	must(t, db.ScanAudit(ctx, 1, func(_ uint64, raw []byte) error {
		var r audit.Record
		must(t, json.Unmarshal(raw, &r))
		got = append(got, r.Subject)
		return nil
	}))
	if want := []string{"0.0", "0.1", "1.0", "1.1", "2.0", "2.1", "3.0"}; !slices.Equal(got, want) {
		t.Fatalf("chain subjects %v, want %v", got, want)
	}
	rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{})
	must(t, err)
	if rep.Records != 7 || rep.Pending != 0 || rep.OldestPending != "" {
		t.Fatalf("report: %+v", rep)
	}
}
