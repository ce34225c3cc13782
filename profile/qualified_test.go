package profile_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/xades"
)

func qualifiedSigner(t *testing.T, pki *testpki.PKI, serial string) testpki.Identity {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id, err := pki.IssueIdentity(testpki.LeafTemplate(pkix.Name{Country: []string{"PL"}, CommonName: "Jan Próbny",
		SerialNumber: serial}), key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func signXML(t *testing.T, doc []byte, id testpki.Identity) []byte {
	t.Helper()
	out, err := xades.Sign(doc, xades.SignOptions{Format: xades.Enveloped, Signer: id.Key, Certificate: id.Cert, Chain: id.Chain[1:]})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestQualifiedCertificateConfirmation(t *testing.T) {
	pki := testpki.New()
	e := newEnv(t, func(o *profile.Options) {
		o.QualifiedRoots = []*x509.Certificate{pki.Root}
		o.QualifiedIntermediates = []*x509.Certificate{pki.Intermediate}
	})
	e.clock.t = time.Now().UTC() // the test PKI is valid around the real time
	r := e.register(t, "jan_ok", pesel)
	e.svc.ConfirmContact(ctx, r.ID, e.lastCode(t, "jan_ok@example.test"))
	other := e.register(t, "ewa_ok", "02211307589")
	doc, err := e.svc.ConfirmationDocument(ctx, r.ApplicationNumber, r.Secret)
	if err != nil {
		t.Fatal(err)
	}
	otherDoc, _ := e.svc.ConfirmationDocument(ctx, other.ApplicationNumber, other.Secret)
	good := qualifiedSigner(t, pki, "PNOPL-"+pesel)
	bare := qualifiedSigner(t, pki, pesel)
	wrong := qualifiedSigner(t, pki, "PNOPL-02211307589")
	attackerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := testpki.LeafTemplate(pkix.Name{CommonName: "Jan Próbny", SerialNumber: "PNOPL-" + pesel})
	tmpl.SerialNumber, _ = testpki.SerialNumber()
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, attackerKey.Public(), attackerKey)
	selfCert, _ := x509.ParseCertificate(der)
	selfSigned := testpki.Identity{Cert: selfCert, Key: attackerKey, Chain: []*x509.Certificate{selfCert}}

	signed := signXML(t, doc, good)
	tests := []struct {
		name string
		doc  []byte
		want error
	}{
		{"certificate of another person", signXML(t, doc, wrong), profile.ErrAssertion},
		{"self-signed certificate", signXML(t, doc, selfSigned), profile.ErrAssertion},
		{"document of another application", signXML(t, otherDoc, good), profile.ErrAssertion},
		{"changed after signing", bytes.Replace(signed, []byte("Próbny"), []byte("Probny"), 1), profile.ErrAssertion},
		{"not signed", doc, profile.ErrAssertion},
		{"not XML", []byte("%PDF-1.7"), profile.ErrAssertion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.ConfirmWithQualifiedSignature(ctx, r.ApplicationNumber, tc.doc)
			wantErr(t, err, tc.want)
		})
	}
	p, err := e.svc.ConfirmWithQualifiedSignature(ctx, r.ApplicationNumber, signed)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != profile.Active || p.Confirmation.Method != profile.QualifiedCertificate {
		t.Fatalf("%+v", p)
	}
	// a bare PESEL in serialNumber is accepted too
	e.svc.ConfirmContact(ctx, other.ID, e.lastCode(t, "ewa_ok@example.test"))
	_, err = e.svc.ConfirmWithQualifiedSignature(ctx, other.ApplicationNumber, signXML(t, otherDoc, bare))
	wantErr(t, err, profile.ErrAssertion) // bare holds jan's PESEL, not ewa's
	ewa := qualifiedSigner(t, pki, "02211307589")
	if _, err := e.svc.ConfirmWithQualifiedSignature(ctx, other.ApplicationNumber, signXML(t, otherDoc, ewa)); err != nil {
		t.Fatal(err)
	}
	for _, rec := range e.auditRecords(t) {
		for _, v := range rec.Details {
			if bytes.Contains([]byte(v), []byte(pesel)) {
				t.Fatalf("PESEL in audit record %+v", rec)
			}
		}
	}
	if _, err := e.svc.ConfirmationDocument(ctx, r.ApplicationNumber, r.Secret); !errors.Is(err, profile.ErrTransition) {
		t.Fatalf("confirmation document of an active profile: %v", err)
	}
}
