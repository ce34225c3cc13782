package profile

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/verify"
)

// ConfirmationNamespace is the namespace of the self-confirmation document.
const ConfirmationNamespace = "urn:trustsign:profile-confirmation:v1"

// maxConfirmationBytes bounds a signed confirmation document.
const maxConfirmationBytes = 1 << 20

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// ConfirmationDocument returns the XML an applicant signs with a qualified electronic signature (enveloped
// XAdES) to confirm the application without visiting a confirmation point:
//
//	<PotwierdzenieProfiluZaufanego xmlns="urn:trustsign:profile-confirmation:v1">
//	  <NumerWniosku>PZ-…</NumerWniosku><PESEL>…</PESEL><Imie>…</Imie><Nazwisko>…</Nazwisko><Login>…</Login>
//	  <Oswiadczenie>…</Oswiadczenie>
//	</PotwierdzenieProfiluZaufanego>
//
// The document carries personal data, so it is given only with the application's secret (Registration.Secret):
// an unknown number and a wrong secret are both ErrNotFound.
func (s *Service) ConfirmationDocument(ctx context.Context, applicationNumber, secret string) ([]byte, error) {
	number := NormalizeApplicationNumber(applicationNumber)
	var sp store.Profile
	err := s.st.View(ctx, func(tx *store.Tx) error {
		var err error
		sp, err = tx.GetProfileByApplicationNumber(number)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if len(sp.ApplicationSecretHash) == 0 || !hmac.Equal(sp.ApplicationSecretHash, s.applicationSecretHash(sp.ApplicationNumber, secret)) {
		return nil, ErrNotFound
	}
	p := toDomain(sp)
	if p.Status != Pending {
		return nil, ErrTransition
	}
	doc := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<PotwierdzenieProfiluZaufanego xmlns="` + ConfirmationNamespace + `">` +
		`<NumerWniosku>` + xmlText(p.ApplicationNumber) + `</NumerWniosku>` +
		`<PESEL>` + xmlText(p.PESEL) + `</PESEL>` +
		`<Imie>` + xmlText(p.FirstName) + `</Imie>` +
		`<Nazwisko>` + xmlText(p.Surname) + `</Nazwisko>` +
		`<Login>` + xmlText(p.Login) + `</Login>` +
		`<Oswiadczenie>Potwierdzam wniosek o założenie profilu zaufanego.</Oswiadczenie>` +
		`</PotwierdzenieProfiluZaufanego>` + "\n"
	return []byte(doc), nil
}

// qualifiedEvidence checks a signed confirmation document and returns the signer certificate's facts.
func (s *Service) qualifiedEvidence(signed []byte, p Profile, now time.Time) (store.Confirmation, error) {
	fail := func(why string) (store.Confirmation, error) {
		return store.Confirmation{}, fmt.Errorf("%w: %s", ErrAssertion, why)
	}
	if len(signed) > maxConfirmationBytes {
		return fail("document too large")
	}
	if len(s.o.QualifiedRoots) == 0 {
		return fail("no qualified trust roots configured")
	}
	pol := &verify.Policy{Roots: s.o.QualifiedRoots, Intermediates: s.o.QualifiedIntermediates, Now: func() time.Time { return now }}
	rep := verify.XML("confirmation.xml", signed, pol, verify.XMLOptions{MaxBytes: maxConfirmationBytes})
	if rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 {
		return fail("the signature is not valid under the qualified trust roots")
	}
	sig := &rep.Signatures[0]
	cert := sig.Certificate()
	if cert == nil {
		return fail("exactly one valid signature expected")
	}
	// Everything below reads what the signature verified, never the document again: the one data reference must
	// cover the whole document (enveloped), and the fields are read from its digested octets (the canonical
	// document minus the signature), so text hidden in excluded parts cannot name another application.
	var whole []byte
	for _, c := range sig.VerifiedContent() {
		if c.URI != "" {
			return fail("the signature must cover the whole document (enveloped), and nothing else")
		}
		whole = c.Octets
	}
	if whole == nil {
		return fail("the signature must cover the whole document (enveloped)")
	}
	serial := cert.Subject.SerialNumber
	if serial != "PNOPL-"+p.PESEL && serial != p.PESEL {
		return fail("the certificate's serialNumber does not carry the applicant's PESEL")
	}
	doc, err := xmldoc.Parse(whole, xmldoc.Limits{MaxBytes: maxConfirmationBytes})
	if err != nil || !doc.Root.Is(ConfirmationNamespace, "PotwierdzenieProfiluZaufanego") {
		return fail("not a confirmation document")
	}
	field := func(name string) (string, bool) {
		ns := doc.Root.Children(ConfirmationNamespace, name)
		if len(ns) != 1 {
			return "", false
		}
		return strings.TrimSpace(ns[0].Text()), true
	}
	if n, ok := field("NumerWniosku"); !ok || NormalizeApplicationNumber(n) != p.ApplicationNumber {
		return fail("the document names another application")
	}
	if v, ok := field("PESEL"); !ok || v != p.PESEL {
		return fail("the document names another PESEL")
	}
	fp := sha256.Sum256(cert.Raw)
	return store.Confirmation{Method: string(QualifiedCertificate), By: "certificate:" + hex.EncodeToString(fp[:16]),
		Details: map[string]string{"certificateSHA256": hex.EncodeToString(fp[:]), "issuer": cert.Issuer.String(),
			"subjectCN": cert.Subject.CommonName}}, nil
}

// ConfirmWithQualifiedSignature confirms an application with the document from ConfirmationDocument signed
// (enveloped XAdES, whole document) with a qualified certificate that chains to Options.QualifiedRoots and whose
// subject serialNumber is the applicant's PESEL ("PNOPL-<pesel>" or bare). The document's application number and
// PESEL must be this application's. The profile is valid for 3 years.
func (s *Service) ConfirmWithQualifiedSignature(ctx context.Context, applicationNumber string, signed []byte) (Profile, error) {
	// The signature is checked before the write transaction, so the store is not held during XML verification;
	// the application number and PESEL it is checked against cannot change.
	app, err := s.GetByApplicationNumber(ctx, applicationNumber)
	if errors.Is(err, ErrNotFound) {
		// an unknown number answers like a signature that does not fit it (no probing for numbers)
		return Profile{}, fmt.Errorf("%w: no such application", ErrAssertion)
	}
	if err != nil {
		return Profile{}, err
	}
	c, err := s.qualifiedEvidence(signed, app, s.now())
	if err != nil {
		if !errors.Is(err, ErrAssertion) {
			err = fmt.Errorf("%w: %v", ErrAssertion, err)
		}
		return Profile{}, err
	}
	return s.confirm(ctx, applicationNumber, false, func(tx *store.Tx, p store.Profile, now time.Time) (store.Confirmation, error) {
		if p.ID != app.ID {
			return store.Confirmation{}, ErrNotFound
		}
		return c, nil
	})
}
