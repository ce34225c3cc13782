package store

import (
	"context"
	"errors"
	"time"

	"github.com/trustsign/trustsign/audit"
)

// Maintenance keeps announced maintenance windows. *DB implements it.
type Maintenance interface {
	// AddMaintenanceWindow stores a window (ErrInvalid when it does not end after it starts or has no id,
	// ErrConflict when the id exists).
	AddMaintenanceWindow(ctx context.Context, w MaintenanceWindow, events ...audit.Event) error
	// MaintenanceWindows lists the windows that end after t (ongoing and upcoming), by start time.
	MaintenanceWindows(ctx context.Context, t time.Time) ([]MaintenanceWindow, error)
	// DeleteMaintenanceWindow removes a window (ErrNotFound when there is none).
	DeleteMaintenanceWindow(ctx context.Context, id string, events ...audit.Event) error
}

var _ Maintenance = (*DB)(nil)

// AddMaintenanceWindow stores a window.
func (tx *Tx) AddMaintenanceWindow(w MaintenanceWindow) error {
	if w.ID == "" || !w.End.After(w.Start) {
		return invalid("a maintenance window needs an id and must end after it starts")
	}
	if ok, err := tx.exists(bMaintenanceByID, []byte(w.ID)); err != nil || ok {
		return firstErr(err, conflict("id", ""))
	}
	k := timeKey(w.Start, w.ID)
	if err := tx.kv.Put(bMaintenanceByID, []byte(w.ID), k); err != nil {
		return err
	}
	return tx.putJSON(bMaintenance, k, w)
}

// MaintenanceWindows lists windows ending after t, by start.
func (tx *Tx) MaintenanceWindows(t time.Time) ([]MaintenanceWindow, error) {
	var out []MaintenanceWindow
	err := tx.kv.Scan(bMaintenance, nil, nil, func(_, v []byte) (bool, error) {
		var w MaintenanceWindow
		if err := jsonDecode(v, &w, "maintenance window"); err != nil {
			return false, err
		}
		if w.End.After(t) {
			out = append(out, w)
		}
		return true, nil
	})
	return out, err
}

// DeleteMaintenanceWindow removes a window.
func (tx *Tx) DeleteMaintenanceWindow(id string) error {
	k, err := tx.kv.Get(bMaintenanceByID, []byte(id))
	if errors.Is(err, ErrNotFound) {
		return notFound("maintenance window")
	}
	if err != nil {
		return err
	}
	k = append([]byte(nil), k...)
	if err := tx.kv.Delete(bMaintenance, k); err != nil {
		return err
	}
	return tx.kv.Delete(bMaintenanceByID, []byte(id))
}

// AddMaintenanceWindow implements Maintenance.
func (db *DB) AddMaintenanceWindow(ctx context.Context, w MaintenanceWindow, events ...audit.Event) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.AddMaintenanceWindow(w); err != nil {
			return err
		}
		return tx.auditAll(events)
	})
}

// MaintenanceWindows implements Maintenance.
func (db *DB) MaintenanceWindows(ctx context.Context, t time.Time) (out []MaintenanceWindow, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		out, err = tx.MaintenanceWindows(t)
		return err
	})
	return out, err
}

// DeleteMaintenanceWindow implements Maintenance.
func (db *DB) DeleteMaintenanceWindow(ctx context.Context, id string, events ...audit.Event) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.DeleteMaintenanceWindow(id); err != nil {
			return err
		}
		return tx.auditAll(events)
	})
}
