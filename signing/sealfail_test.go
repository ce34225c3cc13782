package signing_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
)

// storeTrouble is the profile service over a store whose next commits of a signature fail (the disk is full).
type storeTrouble struct {
	*profile.Service
	fails atomic.Int32
}

func (p *storeTrouble) RedeemBatchSigningCodeAnd(ctx context.Context, profileID string, docs []profile.SigningDocument,
	code string, record func(tx *store.Tx) error) error {
	if p.fails.Add(-1) >= 0 {
		return errors.New("bbolt: write: no space left on device")
	}
	return p.Service.RedeemBatchSigningCodeAnd(ctx, profileID, docs, code, record)
}

// TestAttackSealNotStoredKeepsRequestPending: the signatures are made but the transaction that would store them
// and spend the code does not commit. The confirmation is ErrSealUnavailable, the request stays pending with no
// signed document, and the same code signs it on the next try, once.
func TestAttackSealNotStoredKeepsRequestPending(t *testing.T) {
	e := newEnv(t)
	anna := e.holder(t, "anna", "44051401359")
	flaky := &storeTrouble{Service: e.profiles}
	flaky.fails.Store(2)
	svc := signing.New(e.db, flaky, e.seal, signing.Options{Clock: e.clock})
	req, err := svc.Submit(ctx, "client-1", signing.Submission{Document: []byte(prescription), FileName: "recepta.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RequestCode(ctx, anna, req.ID); err != nil {
		t.Fatal(err)
	}
	code := e.code(t, "anna")
	for i := 0; i < 2; i++ {
		if _, err := svc.Confirm(ctx, anna, req.ID, code); !errors.Is(err, signing.ErrSealUnavailable) {
			t.Fatalf("try %d with the store failing: %v", i, err)
		}
		if st, err := svc.Get(ctx, "client-1", req.ID); err != nil || st.Status != store.RequestPending {
			t.Fatalf("try %d: %+v %v (want pending)", i, st, err)
		}
		if _, _, err := svc.SignedDocument(ctx, "client-1", req.ID); !errors.Is(err, signing.ErrNotReady) {
			t.Fatalf("try %d: a signed document without its code spent: %v", i, err)
		}
	}
	done, err := svc.Confirm(ctx, anna, req.ID, code)
	if err != nil || len(done) != 1 || done[0].Status != store.RequestSigned {
		t.Fatalf("once the store is back: %+v %v", done, err)
	}
	if _, err := svc.Confirm(ctx, anna, req.ID, code); err == nil {
		t.Fatal("the code signed twice")
	}
}

// TestSlowPDFPreparationRefused: a submission whose PDFs are not prepared within PrepareTimeout is refused as
// invalid (422), naming the document; XML is prepared too (parsed and canonicalized as the seal does), within the
// same time.
func TestSlowPDFPreparationRefused(t *testing.T) {
	e := newEnv(t)
	svc := signing.New(e.db, e.profiles, e.seal, signing.Options{Clock: e.clock, PrepareTimeout: time.Nanosecond})
	_, err := svc.Submit(ctx, "client-1", signing.Submission{Document: pdftest.Build(pdftest.Simple(1, "x"), 1, pdftest.Options{}), FileName: "a.pdf"})
	var fe *signing.FieldError
	if !errors.As(err, &fe) || fe.Field != "document" || !strings.Contains(fe.Reason, "too long") {
		t.Fatalf("a PDF past the preparation time: %v", err)
	}
	_, err = svc.Submit(ctx, "client-1", signing.Submission{Document: []byte(prescription), FileName: "r.xml"})
	if !errors.As(err, &fe) || fe.Field != "document" || !strings.Contains(fe.Reason, "too long") {
		t.Fatalf("XML past the preparation time: %v", err)
	}
}
