package store

import (
	"context"
	"errors"
	"time"
)

// bLeases holds the leases of periodic jobs (see TryLease).
const bLeases = "leases" // name → Lease

// Lease says which process holds a named job until when. Leases are how several service processes on one store
// (nodes on one PostgreSQL) run a periodic job once per interval instead of once per process: the holder renews
// its lease each time it runs the job, the others find it held and skip, and when the holder dies its lease runs
// out and another process takes it.
type Lease struct {
	Name   string    `json:"name"`
	Holder string    `json:"holder"`
	Until  time.Time `json:"until"`
}

// TryLease takes or renews the lease name for holder until now+ttl. It succeeds (true) when nobody holds the lease,
// when the lease ran out (Until at or before now), or when holder already holds it (a renewal); otherwise it
// changes nothing and answers false. Two processes trying at once in concurrent transactions cannot both succeed
// (the store's transactions are serializable). now is the caller's clock: the nodes' clocks must agree to well
// within ttl.
func (tx *Tx) TryLease(name, holder string, now time.Time, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" || ttl <= 0 {
		return false, invalid("a lease needs a name, a holder and a positive duration")
	}
	l, err := tx.Lease(name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	if err == nil && l.Holder != holder && l.Until.After(now) {
		return false, nil
	}
	return true, tx.putJSON(bLeases, []byte(name), Lease{Name: name, Holder: holder, Until: now.Add(ttl)})
}

// ReleaseLease gives up the lease name if holder holds it (a process stopping cleanly, so that another takes the
// job over at once); a lease held by another, or none, is left alone.
func (tx *Tx) ReleaseLease(name, holder string) error {
	l, err := tx.Lease(name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil || l.Holder != holder {
		return err
	}
	return tx.kv.Delete(bLeases, []byte(name))
}

// Lease reads the lease name (ErrNotFound when none was ever taken or it was released; a lease that ran out is
// still returned, with its Until in the past).
func (tx *Tx) Lease(name string) (Lease, error) {
	var l Lease
	err := tx.getJSON(bLeases, []byte(name), "lease", &l)
	return l, err
}

// TryLease runs Tx.TryLease in its own transaction.
func (db *DB) TryLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (ok bool, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		ok, err = tx.TryLease(name, holder, now, ttl)
		return err
	})
	return ok, err
}

// ReleaseLease runs Tx.ReleaseLease in its own transaction.
func (db *DB) ReleaseLease(ctx context.Context, name, holder string) error {
	return db.Update(ctx, func(tx *Tx) error { return tx.ReleaseLease(name, holder) })
}
