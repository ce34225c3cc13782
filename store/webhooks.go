package store

import (
	"encoding/binary"
	"errors"
	"time"
)

// Webhook deliveries owed: recorded in the transaction that ends a signing request, claimed and deleted by
// whichever process delivers them.
const (
	bWebhooks    = "webhooks"    // be64(due)+id → WebhookDelivery (by due time; a claimed one is due when its claim runs out)
	bWebhookByID = "idx_webhook" // id → be64(due)+id
)

// WebhookDelivery is a webhook notification owed to an integrator. The store keeps it by due time; it does not
// know what the body says.
type WebhookDelivery struct {
	// ID identifies the delivery on every attempt (the integrator deduplicates on it).
	ID        string `json:"id"`
	RequestID string `json:"requestId"`
	ClientID  string `json:"clientId"`
	// URL is where the body is POSTed (an integrator's URL: never logged whole).
	URL     string    `json:"url"`
	Body    []byte    `json:"body"`
	Created time.Time `json:"created"`
	// Due is when the next attempt may start.
	Due time.Time `json:"due"`
	// Attempts counts the claims so far, the running one included.
	Attempts int `json:"attempts"`
	// ClaimedUntil is the end of the running attempt's claim (zero when none runs): a process that claimed the
	// delivery posts it before then, and once it has passed the delivery is due again (the claimer died).
	ClaimedUntil time.Time `json:"claimedUntil,omitzero"`
	// LastError says why the previous attempt failed (no URL in it).
	LastError string `json:"lastError,omitempty"`
}

// AddWebhookDelivery records a delivery owed (ErrInvalid without an id, a request id, a URL or a due time;
// ErrConflict when the id exists).
func (tx *Tx) AddWebhookDelivery(d WebhookDelivery) error {
	if d.ID == "" || d.RequestID == "" || d.URL == "" || d.Due.IsZero() {
		return invalid("a webhook delivery needs an id, a request id, a URL and a due time")
	}
	if ok, err := tx.exists(bWebhookByID, []byte(d.ID)); err != nil || ok {
		return firstErr(err, conflict("id", ""))
	}
	return tx.putWebhook(d)
}

func (tx *Tx) putWebhook(d WebhookDelivery) error {
	k := timeKey(d.Due, d.ID)
	if err := tx.kv.Put(bWebhookByID, []byte(d.ID), k); err != nil {
		return err
	}
	return tx.putJSON(bWebhooks, k, d)
}

// webhookKey is the current key of delivery id in bWebhooks.
func (tx *Tx) webhookKey(id string) ([]byte, error) {
	k, err := tx.kv.Get(bWebhookByID, []byte(id))
	if errors.Is(err, ErrNotFound) {
		return nil, notFound("webhook delivery")
	}
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), k...), nil
}

// WebhookDelivery reads a delivery owed by its id (ErrNotFound when it was delivered or given up).
func (tx *Tx) WebhookDelivery(id string) (WebhookDelivery, error) {
	k, err := tx.webhookKey(id)
	if err != nil {
		return WebhookDelivery{}, err
	}
	var d WebhookDelivery
	err = tx.getJSON(bWebhooks, k, "webhook delivery", &d)
	return d, err
}

// DeleteWebhookDelivery removes a delivery (delivered, or given up); a missing one is not an error.
func (tx *Tx) DeleteWebhookDelivery(id string) error {
	k, err := tx.webhookKey(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := tx.kv.Delete(bWebhooks, k); err != nil {
		return err
	}
	return tx.kv.Delete(bWebhookByID, []byte(id))
}

// moveWebhook re-keys a delivery under its new due time.
func (tx *Tx) moveWebhook(oldKey []byte, d WebhookDelivery) error {
	if err := tx.kv.Delete(bWebhooks, oldKey); err != nil {
		return err
	}
	return tx.putWebhook(d)
}

// ClaimWebhookDeliveries claims up to limit deliveries due at or before now, oldest first, until until: each one's
// Attempts grows by one and it is not due again before until (so another process claiming at the same time skips
// it, and a claimer that dies leaves it due again then). It returns the claimed deliveries as now stored.
func (tx *Tx) ClaimWebhookDeliveries(now, until time.Time, limit int) ([]WebhookDelivery, error) {
	if !until.After(now) {
		return nil, invalid("a claim must end after it starts")
	}
	type due struct {
		k []byte
		d WebhookDelivery
	}
	var list []due
	end := now.UnixNano()
	err := tx.kv.Scan(bWebhooks, nil, nil, func(k, v []byte) (bool, error) {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) > end || (limit > 0 && len(list) >= limit) {
			return false, nil
		}
		var d WebhookDelivery
		if err := jsonDecode(v, &d, "webhook delivery"); err != nil {
			return false, err
		}
		list = append(list, due{append([]byte(nil), k...), d})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]WebhookDelivery, 0, len(list))
	for _, e := range list {
		d := e.d
		d.Attempts++
		d.Due, d.ClaimedUntil = until, until
		if err := tx.moveWebhook(e.k, d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// RescheduleWebhookDelivery ends a failed attempt: the delivery claimed until claimedUntil becomes due at due,
// unclaimed, with lastError. A *ConflictError{What: "claim"} when the claim is no longer the caller's (it ran out
// and another process claimed the delivery), ErrNotFound when the delivery is gone.
func (tx *Tx) RescheduleWebhookDelivery(id string, claimedUntil, due time.Time, lastError string) error {
	k, err := tx.webhookKey(id)
	if err != nil {
		return err
	}
	var d WebhookDelivery
	if err := tx.getJSON(bWebhooks, k, "webhook delivery", &d); err != nil {
		return err
	}
	if !d.ClaimedUntil.Equal(claimedUntil) {
		return conflict("claim", "")
	}
	d.Due, d.ClaimedUntil, d.LastError = due, time.Time{}, lastError
	return tx.moveWebhook(k, d)
}

// NextWebhookDue is the due time of the first delivery owed (ErrNotFound when none is).
func (tx *Tx) NextWebhookDue() (time.Time, error) {
	var next time.Time
	found := false
	err := tx.kv.Scan(bWebhooks, nil, nil, func(k, _ []byte) (bool, error) {
		if len(k) >= 8 {
			next, found = time.Unix(0, int64(binary.BigEndian.Uint64(k[:8]))), true
		}
		return false, nil
	})
	if err == nil && !found {
		err = notFound("webhook delivery")
	}
	return next, err
}

// WebhookDeliveries lists the deliveries owed by due time (at most limit when limit > 0).
func (tx *Tx) WebhookDeliveries(limit int) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	err := tx.kv.Scan(bWebhooks, nil, nil, func(_, v []byte) (bool, error) {
		if limit > 0 && len(out) >= limit {
			return false, nil
		}
		var d WebhookDelivery
		if err := jsonDecode(v, &d, "webhook delivery"); err != nil {
			return false, err
		}
		out = append(out, d)
		return true, nil
	})
	return out, err
}
