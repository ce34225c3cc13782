package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf/pdftest"
)

// A PDF in the real service's shape (its seal's name, /Name "FIRSTNAME SURNAME" and the real /Reason form, written
// by another tool as plain Name/Reason entries) reports the trusted profile it carries.
func TestPDFTrustedProfileFromServiceReason(t *testing.T) {
	pki := testpki.New()
	seal, err := pki.IssueIdentity(testpki.LeafTemplate(pkix.Name{Country: []string{"PL"},
		CommonName: "Minister do spraw informatyzacji - pieczęć podpisu zaufanego (test)"}), pki.EC256.Key)
	if err != nil {
		t.Fatal(err)
	}
	in := pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{})
	var out bytes.Buffer
	if _, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, pades.SignOptions{
		Signer: seal.Key, Certificate: seal.Cert, Chain: seal.Chain[1:], Name: "JAN KOWALSKI-TEST",
		Reason: "Opatrzono pieczęcią ministra właściwego do spraw informatyzacji w imieniu: JAN KOWALSKI-TEST, PESEL: 02270803624, PZ ID: JKOWALSKI_1",
	}); err != nil {
		t.Fatal(err)
	}
	rep := PDF(context.Background(), bytes.NewReader(out.Bytes()), int64(out.Len()), &Policy{Roots: []*x509.Certificate{pki.Root}})
	if rep.Indication != TotalPassed {
		t.Fatalf("%s %v", rep.Indication, rep.Signatures)
	}
	want := TrustedProfile{FirstName: "JAN", Surname: "KOWALSKI-TEST", PESEL: "02270803624", Login: "JKOWALSKI_1"}
	if p := rep.Signatures[0].TrustedProfile; p == nil || *p != want {
		t.Errorf("trustedProfile %+v, want %+v", p, want)
	}
}
