package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store"
)

// testRateWindows: windows are stored, emptied windows vanish, idle ones are swept, and they survive a reopen
// (message limits must hold across restarts).
func testRateWindows(t *testing.T, s Suite) {
	dir := t.TempDir()
	db := store.New(s.Open(t, dir))
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		w, err := tx.GetRateWindow("dest:a")
		if err != nil || w.Key != "dest:a" || len(w.Times) != 0 {
			t.Errorf("empty window: %+v %v", w, err)
		}
		w.Times = []time.Time{t0, t0.Add(time.Minute)}
		if err := tx.PutRateWindow(w); err != nil {
			return err
		}
		if err := tx.PutRateWindow(store.RateWindow{Key: "dest:b", Times: []time.Time{t0.Add(time.Hour)}}); err != nil {
			return err
		}
		if err := tx.PutRateWindow(store.RateWindow{}); err == nil || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("window without a key: %v", err)
		}
		return nil
	}))
	must(t, db.Close())
	db = store.New(s.Open(t, dir))
	t.Cleanup(func() { db.Close() })
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		w, err := tx.GetRateWindow("dest:a")
		if err != nil || len(w.Times) != 2 || !w.Times[1].Equal(t0.Add(time.Minute)) {
			t.Errorf("window lost across reopen: %+v %v", w, err)
		}
		n, err := tx.DeleteRateWindowsIdleSince(t0.Add(30 * time.Minute))
		if err != nil || n != 1 {
			t.Errorf("idle windows removed: %d %v", n, err)
		}
		if w, _ := tx.GetRateWindow("dest:b"); len(w.Times) != 1 {
			t.Errorf("live window swept: %+v", w)
		}
		return tx.PutRateWindow(store.RateWindow{Key: "dest:b"})
	}))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if w, _ := tx.GetRateWindow("dest:b"); len(w.Times) != 0 {
			t.Errorf("emptied window kept: %+v", w)
		}
		return nil
	}))
}

// testDecoyProfile: a decoy application takes only the free login and PESEL indexes and never displaces their
// holders; deleting it leaves their indexes alone.
func testDecoyProfile(t *testing.T, s Suite) {
	db, _ := open(t, s)
	holder := profile(1, store.ProfileActive)
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(holder) }))
	takenLogin := profile(2, store.ProfilePending)
	takenLogin.LoginKey, takenLogin.Decoy = holder.LoginKey, true
	takenPESEL := profile(3, store.ProfilePending)
	takenPESEL.PESELHash, takenPESEL.Decoy = holder.PESELHash, true
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateProfile(takenLogin); err != nil {
			return err
		}
		return tx.CreateProfile(takenPESEL)
	}))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if p, err := tx.GetProfileByLogin(holder.LoginKey); err != nil || p.ID != holder.ID {
			t.Errorf("login of the holder: %v %v", p.ID, err)
		}
		if p, err := tx.GetProfileByPESELHash(holder.PESELHash); err != nil || p.ID != holder.ID {
			t.Errorf("PESEL of the holder: %v %v", p.ID, err)
		}
		if p, err := tx.GetProfileByPESELHash(takenLogin.PESELHash); err != nil || p.ID != takenLogin.ID {
			t.Errorf("free PESEL of the decoy: %v %v", p.ID, err)
		}
		if p, err := tx.GetProfileByLogin(takenPESEL.LoginKey); err != nil || p.ID != takenPESEL.ID {
			t.Errorf("free login of the decoy: %v %v", p.ID, err)
		}
		if p, err := tx.GetProfileByApplicationNumber(takenLogin.ApplicationNumber); err != nil || !p.Decoy {
			t.Errorf("decoy by application number: %+v %v", p, err)
		}
		return nil
	}))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if ds, err := tx.DecoysByLogin(holder.LoginKey); err != nil || len(ds) != 1 || ds[0].ID != takenLogin.ID {
			t.Errorf("decoys by login: %+v %v", ds, err)
		}
		if ds, err := tx.DecoysByPESELHash(holder.PESELHash); err != nil || len(ds) != 1 || ds[0].ID != takenPESEL.ID {
			t.Errorf("decoys by PESEL: %+v %v", ds, err)
		}
		if ds, err := tx.DecoysByLogin(takenPESEL.LoginKey); err != nil || len(ds) != 0 {
			t.Errorf("a decoy's free login listed as taken: %+v %v", ds, err)
		}
		return nil
	}))
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.DeleteProfile(takenLogin.ID) }))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if p, err := tx.GetProfileByLogin(holder.LoginKey); err != nil || p.ID != holder.ID {
			t.Errorf("deleting a decoy freed the holder's login: %v %v", p.ID, err)
		}
		if ds, err := tx.DecoysByLogin(holder.LoginKey); err != nil || len(ds) != 0 {
			t.Errorf("a deleted decoy still listed: %+v %v", ds, err)
		}
		return nil
	}))
}

// testPESELSharedByPending: pending applications may share a PESEL (SharesPESEL), a profile's PESEL may not be
// shared; the confirmed one claims the PESEL index and gets the other pending applicants back to close.
func testPESELSharedByPending(t *testing.T, s Suite) {
	db, _ := open(t, s)
	first := profile(1, store.ProfilePending)
	second := profile(2, store.ProfilePending)
	second.PESELHash, second.SharesPESEL = first.PESELHash, true
	third := profile(3, store.ProfilePending)
	third.PESELHash = first.PESELHash // not marked: the PESEL index stays unique
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(first) }))
	conflictOn(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(third) }), "pesel")
	must(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(second) }))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if p, err := tx.GetProfileByPESELHash(first.PESELHash); err != nil || p.ID != first.ID {
			t.Errorf("PESEL index after a shared application: %v %v", p.ID, err)
		}
		return nil
	}))
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		others, err := tx.ClaimPESEL(second.PESELHash, second.ID)
		if err != nil {
			return err
		}
		if len(others) != 1 || others[0].ID != first.ID {
			t.Errorf("other applicants: %+v", others)
		}
		second.Status = store.ProfileActive
		second.Confirmation = &store.Confirmation{Method: "in-person", At: second.Created, By: "officer-1"}
		return tx.UpdateProfile(second)
	}))
	must(t, db.View(ctx, func(tx *store.Tx) error {
		if p, err := tx.GetProfileByPESELHash(first.PESELHash); err != nil || p.ID != second.ID {
			t.Errorf("PESEL index after the claim: %v %v", p.ID, err)
		}
		return nil
	}))
	// a claimed PESEL belongs to a profile: neither shared nor claimed by another
	fourth := profile(4, store.ProfilePending)
	fourth.PESELHash, fourth.SharesPESEL = first.PESELHash, true
	conflictOn(t, db.Update(ctx, func(tx *store.Tx) error { return tx.CreateProfile(fourth) }), "pesel")
	err := db.Update(ctx, func(tx *store.Tx) error { _, err := tx.ClaimPESEL(first.PESELHash, first.ID); return err })
	conflictOn(t, err, "pesel")
	// and the claim is repeatable by its holder, with nobody left to close
	must(t, db.Update(ctx, func(tx *store.Tx) error {
		others, err := tx.ClaimPESEL(second.PESELHash, second.ID)
		if len(others) != 0 {
			t.Errorf("applicants after the claim: %+v", others)
		}
		return err
	}))
}
