//go:build cgo

package signing_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signer/softhsmtest"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/verify"
)

// TestHSMSealOutageKeepsRequestPending: the seal key is in a SoftHSM2 token. With the token directory moved away
// a confirmation is ErrSealUnavailable (the API's 503) and the request stays pending with its code unspent; once
// the token is back the same code seals it, without a new seal or service.
func TestHSMSealOutageKeepsRequestPending(t *testing.T) {
	tok := softhsmtest.New(t)
	pki := testpki.New()
	tok.Import(t, "seal", "01", pki.EC256.Key)
	uri, err := signer.ParsePKCS11URI(tok.URI("seal"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := signer.OpenPKCS11(uri, signer.PKCS11Options{Public: pki.EC256.Cert.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	seal, err := signer.NewSeal(key, pki.EC256.Chain)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.sign = signing.New(e.db, e.profiles, seal, signing.Options{Clock: e.clock})
	anna := e.holder(t, "anna", "44051401359")
	req, err := e.sign.Submit(ctx, "client-1", signing.Submission{Document: []byte(prescription), FileName: "recepta.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sign.RequestCode(ctx, anna, req.ID); err != nil {
		t.Fatal(err)
	}
	code := e.code(t, "anna")
	tok.Remove(t)
	if _, err := e.sign.Confirm(ctx, anna, req.ID, code); !errors.Is(err, signing.ErrSealUnavailable) {
		t.Fatalf("token away: %v, want ErrSealUnavailable", err)
	}
	if st, err := e.sign.Get(ctx, "client-1", req.ID); err != nil || st.Status != store.RequestPending {
		t.Fatalf("token away: %+v %v, want pending", st, err)
	}
	tok.Restore(t)
	// the module is initialised again at most once a second: the first try may come too early
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		_, err = e.sign.Confirm(ctx, anna, req.ID, code)
		if err == nil || !errors.Is(err, signing.ErrSealUnavailable) || time.Now().After(end) {
			break
		}
	}
	if err != nil {
		t.Fatalf("token back: %v", err)
	}
	signed, _, err := e.sign.SignedDocument(ctx, "client-1", req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep := verify.XML("recepta.xml", signed, e.policy, verify.XMLOptions{}); rep.Indication != verify.TotalPassed {
		t.Fatalf("sealed in the token: %+v", rep)
	}
}

// TestSetSealRotates: after SetSeal the next signatures are made with the new seal, and what the previous seal
// signed still verifies (its certificate is in its signature); each request names the seal that signed it.
func TestSetSealRotates(t *testing.T) {
	e := newEnv(t)
	anna := e.holder(t, "anna", "44051401359")
	pki := testpki.New()
	sealedBy := map[string]string{} // file name -> the request's seal fingerprint and subject
	sealOne := func(doc []byte, name string) []byte {
		t.Helper()
		req, err := e.sign.Submit(ctx, "client-1", signing.Submission{Document: doc, FileName: name})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(2 * time.Minute) // past the throttle of code messages
		if _, err := e.sign.RequestCode(ctx, anna, req.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.sign.Confirm(ctx, anna, req.ID, e.code(t, "anna")); err != nil {
			t.Fatal(err)
		}
		signed, _, err := e.sign.SignedDocument(ctx, "client-1", req.ID)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.sign.Get(ctx, "client-1", req.ID)
		if err != nil {
			t.Fatal(err)
		}
		sealedBy[name] = r.SealFingerprint + " " + r.SealSubject
		return signed
	}
	pdfDoc := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	oldXML, oldPDF := sealOne([]byte(prescription), "a.xml"), sealOne(pdfDoc, "a.pdf")
	next, err := signer.NewSeal(pki.RSA.Key, pki.RSA.Chain)
	if err != nil {
		t.Fatal(err)
	}
	e.sign.SetSeal(next)
	newXML, newPDF := sealOne([]byte(prescription), "b.xml"), sealOne(pdfDoc, "b.pdf")
	for _, tc := range []struct {
		name string
		rep  verify.FileReport
		want string
	}{
		{"XML before", verify.XML("a.xml", oldXML, e.policy, verify.XMLOptions{}), pki.EC256.Cert.Subject.String()},
		{"PDF before", verify.PDF(ctx, bytes.NewReader(oldPDF), int64(len(oldPDF)), e.policy), pki.EC256.Cert.Subject.String()},
		{"XML after", verify.XML("b.xml", newXML, e.policy, verify.XMLOptions{}), pki.RSA.Cert.Subject.String()},
		{"PDF after", verify.PDF(ctx, bytes.NewReader(newPDF), int64(len(newPDF)), e.policy), pki.RSA.Cert.Subject.String()},
	} {
		if tc.rep.Indication != verify.TotalPassed || len(tc.rep.Signatures) != 1 {
			t.Errorf("%s: %+v", tc.name, tc.rep)
			continue
		}
		if sg := tc.rep.Signatures[0].Signer; sg == nil || sg.Subject != tc.want {
			t.Errorf("%s: signed by %+v, want %q", tc.name, sg, tc.want)
		}
	}
	named := func(c *x509.Certificate) string {
		sum := sha256.Sum256(c.Raw)
		return "sha256:" + hex.EncodeToString(sum[:]) + " " + c.Subject.String()
	}
	for name, want := range map[string]string{"a.xml": named(pki.EC256.Cert), "a.pdf": named(pki.EC256.Cert),
		"b.xml": named(pki.RSA.Cert), "b.pdf": named(pki.RSA.Cert)} {
		if sealedBy[name] != want {
			t.Errorf("request %s names the seal %q, want %q", name, sealedBy[name], want)
		}
	}
}
