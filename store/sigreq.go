package store

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/trustsign/trustsign/audit"
)

// Signing-request statuses: a shared vocabulary for the API. The store itself only compares and sets strings.
const (
	RequestPending   = "pending"
	RequestSigned    = "signed"
	RequestFailed    = "failed"
	RequestExpired   = "expired"
	RequestCancelled = "cancelled"
)

// SigningRequests is what the API needs to keep integrators' signing requests. *DB implements it on any backend.
// Every mutating method takes audit events appended in the same transaction.
type SigningRequests interface {
	// CreateSigningRequest stores a new request with its document (ErrConflict if the id exists).
	CreateSigningRequest(ctx context.Context, r SigningRequest, events ...audit.Event) error
	// GetSigningRequest reads a request's metadata for its client: ErrNotFound when it does not exist or belongs
	// to another client (the two are indistinguishable on purpose).
	GetSigningRequest(ctx context.Context, clientID, id string) (SigningRequest, error)
	// GetSigningRequestForHolder reads a request's metadata and Document, unscoped: for the holder's preview and
	// signing, where the request id in the sign URL is the capability.
	GetSigningRequestForHolder(ctx context.Context, id string) (SigningRequest, error)
	// GetSignedDocument reads metadata and Signed for the request's client; ErrNotFound as above, and a
	// *ConflictError{What: "status"} while the request is not signed.
	GetSignedDocument(ctx context.Context, clientID, id string) (SigningRequest, error)
	// SetSigningRequestStatus moves a request from status from to status to atomically (compare-and-set):
	// a *ConflictError{What: "status", Detail: current} when the status is not from. mutate, if not nil, may
	// change other metadata fields (ProfileID, FailureReason...) in the same transaction.
	SetSigningRequestStatus(ctx context.Context, id, from, to string, mutate func(*SigningRequest), events ...audit.Event) (SigningRequest, error)
	// AttachSignedDocument stores the signed bytes and sets the status from from to RequestSigned (compare-and-set).
	AttachSignedDocument(ctx context.Context, id, from string, signed []byte, contentType string, at time.Time, events ...audit.Event) (SigningRequest, error)
	// ListExpiredSigningRequests lists the metadata of requests whose Expires is at or before t, whatever their status,
	// oldest first, at most limit (all when limit <= 0).
	ListExpiredSigningRequests(ctx context.Context, before time.Time, limit int) ([]SigningRequest, error)
	// ListSigningRequestsInBatch lists a client's requests sharing a batch id, in id order.
	ListSigningRequestsInBatch(ctx context.Context, clientID, batchID string) ([]SigningRequest, error)
	// DeleteSigningRequest removes a request and its documents (no error when it does not exist).
	DeleteSigningRequest(ctx context.Context, id string, events ...audit.Event) error
}

var _ SigningRequests = (*DB)(nil)

// CreateSigningRequest stores a new request, its document, and its expiry and batch indexes.
func (tx *Tx) CreateSigningRequest(r SigningRequest) error {
	if r.ID == "" || r.ClientID == "" || r.Status == "" || r.Expires.IsZero() {
		return invalid("signing request needs id, client id, status and expiry")
	}
	if ok, err := tx.exists(bSigReq, []byte(r.ID)); err != nil || ok {
		return firstErr(err, conflict("id", ""))
	}
	r.DocumentSize = int64(len(r.Document))
	if err := tx.kv.Put(bSigReqDoc, []byte(r.ID), nonNil(r.Document)); err != nil {
		return err
	}
	if len(r.Signed) > 0 {
		r.SignedSize = int64(len(r.Signed))
		if err := tx.kv.Put(bSigReqSigned, []byte(r.ID), r.Signed); err != nil {
			return err
		}
	}
	if err := tx.kv.Put(bSigReqExpiry, timeKey(r.Expires, r.ID), nil); err != nil {
		return err
	}
	if r.BatchID != "" {
		if err := tx.kv.Put(bSigReqBatch, join(r.ClientID, r.BatchID, r.ID), nil); err != nil {
			return err
		}
	}
	return tx.putJSON(bSigReq, []byte(r.ID), r)
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// GetSigningRequest reads a request's metadata (unscoped; Document and Signed are left empty).
func (tx *Tx) GetSigningRequest(id string) (SigningRequest, error) {
	var r SigningRequest
	err := tx.getJSON(bSigReq, []byte(id), "signing request", &r)
	return r, err
}

// SigningRequestDocument reads a request's document bytes.
func (tx *Tx) SigningRequestDocument(id string) ([]byte, error) {
	v, err := tx.kv.Get(bSigReqDoc, []byte(id))
	if err != nil {
		return nil, firstErr(notFoundIf(err, "signing request document"), err)
	}
	return bytes.Clone(v), nil
}

// SignedDocument reads a request's signed bytes (ErrNotFound before they are attached).
func (tx *Tx) SignedDocument(id string) ([]byte, error) {
	v, err := tx.kv.Get(bSigReqSigned, []byte(id))
	if err != nil {
		return nil, firstErr(notFoundIf(err, "signed document"), err)
	}
	return bytes.Clone(v), nil
}

// UpdateSigningRequest replaces a request's metadata (id, client and batch are immutable).
func (tx *Tx) UpdateSigningRequest(r SigningRequest) error {
	old, err := tx.GetSigningRequest(r.ID)
	if err != nil {
		return err
	}
	if old.ClientID != r.ClientID || old.BatchID != r.BatchID {
		return invalid("client and batch of a signing request cannot change")
	}
	if !old.Expires.Equal(r.Expires) {
		if err := tx.kv.Delete(bSigReqExpiry, timeKey(old.Expires, r.ID)); err != nil {
			return err
		}
		if err := tx.kv.Put(bSigReqExpiry, timeKey(r.Expires, r.ID), nil); err != nil {
			return err
		}
	}
	r.DocumentSize, r.SignedSize = old.DocumentSize, old.SignedSize
	return tx.putJSON(bSigReq, []byte(r.ID), r)
}

// CompareAndSetStatus moves a request from one status to another, applying mutate to the metadata.
func (tx *Tx) CompareAndSetStatus(id, from, to string, mutate func(*SigningRequest)) (SigningRequest, error) {
	r, err := tx.GetSigningRequest(id)
	if err != nil {
		return r, err
	}
	if r.Status != from {
		return r, conflict("status", r.Status)
	}
	r.Status = to
	if mutate != nil {
		mutate(&r)
		r.Status = to
	}
	return r, tx.UpdateSigningRequest(r)
}

// AttachSigned stores signed bytes and moves the request from status from to RequestSigned; mutate, when given,
// records more about the seal in the same write (its time-stamps, which seal made it).
func (tx *Tx) AttachSigned(id, from string, signed []byte, contentType string, at time.Time, mutate ...func(*SigningRequest)) (SigningRequest, error) {
	if len(signed) == 0 {
		return SigningRequest{}, invalid("empty signed document")
	}
	r, err := tx.CompareAndSetStatus(id, from, RequestSigned, func(r *SigningRequest) {
		t := at
		r.SignedAt, r.SignedContentType, r.Updated = &t, contentType, at
		for _, m := range mutate {
			m(r)
		}
	})
	if err != nil {
		return r, err
	}
	if err := tx.kv.Put(bSigReqSigned, []byte(id), signed); err != nil {
		return r, err
	}
	r.SignedSize = int64(len(signed))
	return r, tx.putJSON(bSigReq, []byte(id), r)
}

// DeleteSigningRequest removes a request, its documents and indexes (no error when missing).
func (tx *Tx) DeleteSigningRequest(id string) error {
	r, err := tx.GetSigningRequest(id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, d := range []struct {
		b string
		k []byte
	}{
		{bSigReqExpiry, timeKey(r.Expires, id)},
		{bSigReqBatch, join(r.ClientID, r.BatchID, id)},
		{bSigReqDoc, []byte(id)},
		{bSigReqSigned, []byte(id)},
		{bSigReq, []byte(id)},
	} {
		if err := tx.kv.Delete(d.b, d.k); err != nil {
			return err
		}
	}
	return nil
}

// SigningRequestsExpiredBefore lists metadata of requests whose Expires is at or before t.
func (tx *Tx) SigningRequestsExpiredBefore(t time.Time, limit int) ([]SigningRequest, error) {
	ids, err := tx.scanTime(bSigReqExpiry, t, limit)
	if err != nil {
		return nil, err
	}
	out := make([]SigningRequest, 0, len(ids))
	for _, id := range ids {
		r, err := tx.GetSigningRequest(id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// SigningRequestsInBatch lists a client's requests of one batch.
func (tx *Tx) SigningRequestsInBatch(clientID, batchID string) ([]SigningRequest, error) {
	prefix := append(join(clientID, batchID), 0)
	var ids []string
	if err := tx.kv.Scan(bSigReqBatch, prefix, nil, func(k, _ []byte) (bool, error) {
		ids = append(ids, string(k[len(prefix):]))
		return true, nil
	}); err != nil {
		return nil, err
	}
	out := make([]SigningRequest, 0, len(ids))
	for _, id := range ids {
		r, err := tx.GetSigningRequest(id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// CreateSigningRequest implements SigningRequests.
func (db *DB) CreateSigningRequest(ctx context.Context, r SigningRequest, events ...audit.Event) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.CreateSigningRequest(r); err != nil {
			return err
		}
		return tx.auditAll(events)
	})
}

// GetSigningRequest implements SigningRequests.
func (db *DB) GetSigningRequest(ctx context.Context, clientID, id string) (r SigningRequest, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		r, err = tx.GetSigningRequest(id)
		if err == nil && r.ClientID != clientID {
			r, err = SigningRequest{}, notFound("signing request")
		}
		return err
	})
	return r, err
}

// GetSigningRequestForHolder implements SigningRequests.
func (db *DB) GetSigningRequestForHolder(ctx context.Context, id string) (r SigningRequest, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		if r, err = tx.GetSigningRequest(id); err != nil {
			return err
		}
		r.Document, err = tx.SigningRequestDocument(id)
		return err
	})
	return r, err
}

// GetSignedDocument implements SigningRequests.
func (db *DB) GetSignedDocument(ctx context.Context, clientID, id string) (r SigningRequest, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		r, err = tx.GetSigningRequest(id)
		if err == nil && r.ClientID != clientID {
			return notFound("signing request")
		}
		if err != nil {
			return err
		}
		if r.Status != RequestSigned {
			return conflict("status", r.Status)
		}
		r.Signed, err = tx.SignedDocument(id)
		return err
	})
	if err != nil && errors.Is(err, ErrNotFound) {
		r = SigningRequest{}
	}
	return r, err
}

// SetSigningRequestStatus implements SigningRequests.
func (db *DB) SetSigningRequestStatus(ctx context.Context, id, from, to string, mutate func(*SigningRequest), events ...audit.Event) (r SigningRequest, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		if r, err = tx.CompareAndSetStatus(id, from, to, mutate); err != nil {
			return err
		}
		return tx.auditAll(events)
	})
	return r, err
}

// AttachSignedDocument implements SigningRequests.
func (db *DB) AttachSignedDocument(ctx context.Context, id, from string, signed []byte, contentType string, at time.Time, events ...audit.Event) (r SigningRequest, err error) {
	err = db.Update(ctx, func(tx *Tx) error {
		if r, err = tx.AttachSigned(id, from, signed, contentType, at); err != nil {
			return err
		}
		return tx.auditAll(events)
	})
	return r, err
}

// ListExpiredSigningRequests implements SigningRequests.
func (db *DB) ListExpiredSigningRequests(ctx context.Context, before time.Time, limit int) (out []SigningRequest, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		out, err = tx.SigningRequestsExpiredBefore(before, limit)
		return err
	})
	return out, err
}

// ListSigningRequestsInBatch implements SigningRequests.
func (db *DB) ListSigningRequestsInBatch(ctx context.Context, clientID, batchID string) (out []SigningRequest, err error) {
	err = db.View(ctx, func(tx *Tx) error {
		out, err = tx.SigningRequestsInBatch(clientID, batchID)
		return err
	})
	return out, err
}

// DeleteSigningRequest implements SigningRequests.
func (db *DB) DeleteSigningRequest(ctx context.Context, id string, events ...audit.Event) error {
	return db.Update(ctx, func(tx *Tx) error {
		if err := tx.DeleteSigningRequest(id); err != nil {
			return err
		}
		return tx.auditAll(events)
	})
}
