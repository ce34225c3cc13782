package profile

import (
	"context"
	"errors"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
)

// Client reads an integrator client by id (for showing which service asks for a signature).
func (s *Service) Client(ctx context.Context, id string) (Client, error) {
	var c store.Client
	err := s.st.View(ctx, func(tx *store.Tx) error {
		var err error
		c, err = tx.GetClient(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Client{}, ErrNotFound
	}
	if err != nil {
		return Client{}, err
	}
	return clientToDomain(c), nil
}

// DeclineReason is why an officer did not confirm an application in person.
type DeclineReason string

// Reasons for declining a confirmation.
const (
	DeclineDocumentMismatch DeclineReason = "document-mismatch"
	DeclinePersonMismatch   DeclineReason = "person-mismatch"
	DeclineInvalidDocument  DeclineReason = "invalid-document"
	DeclineOther            DeclineReason = "other"
)

// DeclineInPerson records that an officer refused to confirm an application at a confirmation point (the data do
// not match the identity document, the document is invalid, ...). The application stays pending: the applicant
// may come back with a valid document until it expires. Only the audit log changes.
func (s *Service) DeclineInPerson(ctx context.Context, officerID, applicationNumber string, reason DeclineReason) error {
	switch reason {
	case DeclineDocumentMismatch, DeclinePersonMismatch, DeclineInvalidDocument, DeclineOther:
	default:
		return invalidField("reason", "must be document-mismatch, person-mismatch, invalid-document or other")
	}
	now := s.now()
	return s.st.Update(ctx, func(tx *store.Tx) error {
		if err := s.officerIn(tx, officerID); err != nil {
			return err
		}
		p, err := tx.GetProfileByApplicationNumber(NormalizeApplicationNumber(applicationNumber))
		if errors.Is(err, store.ErrNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if Status(p.Status) != Pending {
			return ErrTransition
		}
		return tx.Audit(audit.Event{Time: now, Kind: "profile.confirm.decline", Actor: "officer:" + officerID, Subject: p.ID,
			Details: map[string]string{"reason": string(reason), "applicationExpires": p.ApplicationExpires.Format(time.RFC3339)}})
	})
}
