package main

import (
	"context"
	"encoding/base64"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/signer"
)

// TestAuditHeadsSealedByTheCurrentSeal: after a seal switch (SIGHUP with --seal-config) the audit log's heads are
// sealed by the new current seal, as the signed documents are, so that a retired seal key is not needed by the log
// (it was: the sealer kept the start-up seal until a restart).
func TestAuditHeadsSealedByTheCurrentSeal(t *testing.T) {
	ctx := context.Background()
	db, err := openStore(ctx, t.TempDir(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pki := testpki.New()
	first, err := signer.NewSeal(pki.EC256.Key, pki.EC256.Chain)
	if err != nil {
		t.Fatal(err)
	}
	second, err := signer.NewSeal(pki.RSA.Key, pki.RSA.Chain)
	if err != nil {
		t.Fatal(err)
	}
	sw := &sealSwitch{started: first, current: first}
	var published []audit.Record
	sealer := &rotatingAuditSealer{seal: sw.seal, publish: func(r audit.Record) error { published = append(published, r); return nil }}
	sealOne := func(reason string) {
		t.Helper()
		if err := db.AppendAudit(ctx, audit.Event{Time: time.Now(), Kind: "test.event", Actor: "system", Subject: reason}); err != nil {
			t.Fatal(err)
		}
		if ok, err := sealer.SealNow(ctx, db, reason); err != nil || !ok {
			t.Fatalf("seal %s: %v, %v", reason, ok, err)
		}
	}
	sealOne(audit.SealStart)
	sw.mu.Lock()
	sw.current = second // what reload does
	sw.mu.Unlock()
	sealOne(audit.SealShutdown)

	certOf := func(r audit.Record) string {
		switch r.Details["certificate"] {
		case base64.StdEncoding.EncodeToString(first.Certificate.Raw):
			return "first"
		case base64.StdEncoding.EncodeToString(second.Certificate.Raw):
			return "second"
		}
		return "unknown"
	}
	if len(published) != 2 || certOf(published[0]) != "first" || certOf(published[1]) != "second" {
		t.Fatalf("%d heads; sealed by %v", len(published), func() (s []string) {
			for _, r := range published {
				s = append(s, r.Details["reason"]+":"+certOf(r))
			}
			return
		}())
	}
	// both heads verify, each with the certificate it carries
	if _, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{}); err != nil {
		t.Fatalf("the log after a seal switch: %v", err)
	}
}
