package signing_test

import (
	"errors"
	"testing"
	"time"

	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
)

// TestAttackUnsealableXMLIsNotAnOutage: an XML document that parses but can never be sealed (a relative namespace
// URI, which canonicalization refuses) passes submission and then answers every confirmation with
// ErrSealUnavailable (a 503 "try again later", audited as signature.unavailable): the holder retries a request that
// can never be signed, and a permanent document fault is reported as a seal outage. It should be refused at
// submission as unsealable PDFs are.
func TestAttackUnsealableXMLIsNotAnOutage(t *testing.T) {
	e := newEnv(t)
	anna := e.holder(t, "anna", "44051401359")
	doc := `<?xml version="1.0" encoding="UTF-8"?><recepta xmlns="wzgledna/przestrzen"><lek>Amoxicillinum</lek></recepta>`
	req, err := e.sign.Submit(ctx, "client-1", signing.Submission{Document: []byte(doc), FileName: "recepta.xml",
		SuccessURL: "https://rx.example/ok", FailureURL: "https://rx.example/fail"})
	if err != nil {
		t.Logf("refused at submission (good): %v", err)
		return
	}
	if _, err := e.sign.RequestCode(ctx, anna, req.ID); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_, err = e.sign.Confirm(ctx, anna, req.ID, e.code(t, "anna"))
		if !errors.Is(err, signing.ErrSealUnavailable) {
			break
		}
	}
	if errors.Is(err, signing.ErrSealUnavailable) {
		t.Fatalf("a document that can never be sealed was accepted and answers as a seal outage every time: %v", err)
	}
}

// TestAttackBigBinaryIsNotAnOutage: a 9.5 MB non-XML file (within the 10 MiB document limit) is wrapped in the XML
// container at sealing; base64 makes the container larger than the XML reader's 12 MiB limit, so every
// confirmation answers ErrSealUnavailable although the document can never be sealed.
func TestAttackBigBinaryIsNotAnOutage(t *testing.T) {
	e := newEnv(t)
	anna := e.holder(t, "anna", "44051401359")
	doc := make([]byte, 9_500_000)
	for i := range doc {
		doc[i] = byte(i*7 + i>>8)
	}
	req, err := e.sign.Submit(ctx, "client-1", signing.Submission{Document: doc, FileName: "skan.bin",
		SuccessURL: "https://rx.example/ok", FailureURL: "https://rx.example/fail"})
	if err != nil {
		t.Logf("refused at submission (good): %v", err)
		return
	}
	if _, err := e.sign.RequestCode(ctx, anna, req.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.sign.Confirm(ctx, anna, req.ID, e.code(t, "anna"))
	if errors.Is(err, signing.ErrSealUnavailable) {
		t.Fatalf("a file within the document limit can never be sealed and answers as a seal outage: %v", err)
	}
}

// TestAttackInvisibleCharactersInShownNames: Shown makes controls and bidi controls visible, but other invisible
// format characters pass unchanged, so two different file names look identical where shown ("umowa.pdf" with a
// zero-width space, a soft hyphen, a word joiner or a BOM inside).
func TestAttackInvisibleCharactersInShownNames(t *testing.T) {
	for _, r := range []rune{'\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u180e', '\u034f'} {
		name := "umo" + string(r) + "wa.pdf"
		if got := signing.Shown(name); got == name {
			t.Errorf("U+%04X passes Shown unchanged: %q", r, got)
		}
	}
}

// TestAttackDisabledClientIsNotSignedNorNotified: once an administrator disables a client, the requests it filed
// before are closed when a holder comes to them (no code, no signature) and nothing is sent to it, not even when a
// request expires.
func TestAttackDisabledClientIsNotSignedNorNotified(t *testing.T) {
	e := newEnv(t)
	anna := e.holder(t, "anna", "44051401359")
	c, _, err := e.profiles.CreateClient(ctx, "apteka", []profile.Scope{profile.ScopeSign})
	if err != nil {
		t.Fatal(err)
	}
	sub := signing.Submission{Document: []byte(prescription), FileName: "recepta.xml", Webhook: true,
		SuccessURL: "https://rx.example/ok", FailureURL: "https://rx.example/fail"}
	first, err := e.sign.Submit(ctx, c.ID, sub)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.sign.Submit(ctx, c.ID, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sign.RequestCode(ctx, anna, first.ID); err != nil {
		t.Fatal(err)
	}
	code := e.code(t, "anna")
	if err := e.profiles.DisableClient(ctx, "test", c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sign.Confirm(ctx, anna, first.ID, code); !errors.Is(err, signing.ErrClosed) {
		t.Fatalf("confirming a disabled client's request: %v", err)
	}
	if _, err := e.sign.RequestCode(ctx, anna, second.ID); !errors.Is(err, signing.ErrClosed) {
		t.Fatalf("a code for a disabled client's request: %v", err)
	}
	for _, id := range []string{first.ID, second.ID} {
		if got, err := e.sign.Get(ctx, c.ID, id); err != nil || got.Status != store.RequestFailed {
			t.Fatalf("%s: %+v %v", id, got, err)
		}
	}
	third, err := e.sign.Submit(ctx, c.ID, sub) // filed just before the client was disabled (its key now refused)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour)
	if n, _, err := e.sign.Sweep(ctx, time.Hour); err != nil || n != 1 {
		t.Fatalf("sweep of %s: %d %v", third.ID, n, err)
	}
	if n := e.notified.Load(); n != 0 {
		t.Fatalf("%d notifications sent to a disabled client", n)
	}
}
