package pades_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/tsa"
)

// A trusted-profile signature with a visible stamp on the last page, signed in memory.
func ExampleSign() {
	id := testpki.New().RSA
	in := pdftest.Build(pdftest.Simple(2, "Wniosek"), 1, pdftest.Options{})
	var out bytes.Buffer
	res, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &out, pades.SignOptions{
		Signer: id.Key, Certificate: id.Cert, Chain: id.Chain,
		Profile: &pades.Profile{FirstName: "ANNA", Surname: "TESTOWA-ŻÓŁĆ", PESEL: "44051401359", ProfileID: "987654321", Login: "atestowa"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.FieldName, "visible:", res.Visible, "page:", res.Page, "revision:", res.Revision)
	fmt.Println("original untouched:", bytes.Equal(out.Bytes()[:len(in)], in))
	// Output:
	// Signature1 visible: true page: 2 revision: 2
	// original untouched: true
}

// Prepare tells, before anyone is asked to approve a signature, whether Sign would sign a PDF: here a document
// whose page tree is its own kid, and one whose page box is beyond any page.
func ExamplePrepare() {
	id := testpki.New().EC256
	o := pades.SignOptions{Signer: id.Key, Certificate: id.Cert, Chain: id.Chain,
		Profile: &pades.Profile{FirstName: "ANNA", Surname: "TESTOWA", PESEL: "44051401359", ProfileID: "1", Login: "atestowa"}}
	for _, doc := range [][]byte{
		pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}),
		pdftest.Build(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
			2: pdftest.Dict("<< /Type /Pages /Kids [2 0 R] /Count 1 >>")}, 1, pdftest.Options{}),
		pdftest.Build(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
			2: pdftest.Dict("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
			3: pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 5000000.0 5000000.0] >>")}, 1, pdftest.Options{}),
	} {
		err := pades.Prepare(context.Background(), bytes.NewReader(doc), int64(len(doc)), o)
		fmt.Println(err == nil, errors.Is(err, pdf.ErrMalformed), errors.Is(err, pades.ErrPageBox))
	}
	// Output:
	// true false false
	// false true false
	// false false true
}

// Signing files: the input is streamed, the output written to a temporary file and renamed into place.
func ExampleSignFile() {
	id := testpki.New().EC256
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.pdf")
	os.WriteFile(in, pdftest.Build(pdftest.Simple(1, "Umowa"), 1, pdftest.Options{}), 0o644)
	visible := false
	res, err := pades.SignFile(context.Background(), in, filepath.Join(dir, "signed.pdf"), pades.SignOptions{
		Signer: id.Key, Certificate: id.Cert, Chain: id.Chain, Visible: &visible, Reason: "Zatwierdzam", DocMDP: 2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.FieldName, res.ByteRange[0], res.Size == res.ByteRange[2]+res.ByteRange[3])
	// Output: Signature1 0 true
}

// Verify returns facts; verify.PDF turns them into a report under a trust policy.
func ExampleVerify() {
	id := testpki.New().RSA
	in := pdftest.Build(pdftest.Simple(1, "Umowa"), 1, pdftest.Options{})
	var signed bytes.Buffer
	if _, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &signed, pades.SignOptions{
		Signer: id.Key, Certificate: id.Cert, Chain: id.Chain, Profile: testProfile,
	}); err != nil {
		fmt.Println(err)
		return
	}
	b := signed.Bytes()
	res, err := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s := res.Signatures[0]
	fmt.Println(s.FieldName, s.SubFilter, "revision", s.CoveredRevision, "of", len(res.Revisions), "whole file:", s.CoversWholeFile)
	fmt.Println("digest ok:", s.CMSResult.DigestOK, "signature ok:", s.CMSResult.SignatureOK, "PESEL:", s.Profile.PESEL)
	// Output:
	// Signature1 ETSI.CAdES.detached revision 2 of 2 whole file: true
	// digest ok: true signature ok: true PESEL: 44051401359
}

// Extend brings a B-B signature to B-LTA: a document time-stamp (the signature had none), the DSS with the
// validation data of the signer's and the TSA's chains, and an archive time-stamp over it. The time-stamps come
// from the test TSA on loopback through the tsa package's client; the validation data here is only the chain.
func ExampleExtend() {
	p := testpki.New()
	id := p.RSA
	in := pdftest.Build(pdftest.Simple(1, "Umowa"), 1, pdftest.Options{})
	var signed bytes.Buffer
	if _, err := pades.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), &signed, pades.SignOptions{
		Signer: id.Key, Certificate: id.Cert, Chain: id.Chain,
	}); err != nil {
		fmt.Println(err)
		return
	}
	h, _ := p.TSAHandler(testpki.TSAGood)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := &tsa.Client{URLs: []string{srv.URL}, Roots: p.Roots(), Intermediates: p.Intermediates()}
	var out bytes.Buffer
	err := pades.Extend(context.Background(), bytes.NewReader(signed.Bytes()), int64(signed.Len()), &out, pades.ExtendOptions{
		Level: "b-lta",
		TimeStamp: func(ctx context.Context, imprint []byte) ([]byte, error) {
			tok, err := client.Stamp(ctx, imprint)
			if err != nil {
				return nil, err
			}
			return tok.DER, nil
		},
		Validation: func(context.Context, []*x509.Certificate) (revocation.Data, error) {
			return revocation.Data{Certificates: []*x509.Certificate{p.Intermediate, p.Root}}, nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b := out.Bytes()
	res, _ := pades.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), pades.VerifyOptions{})
	for _, s := range res.Signatures {
		fmt.Println(s.FieldName, s.SubFilter, "covers revision", s.CoveredRevision, "modified:", s.Modified)
	}
	fmt.Println("revisions:", len(res.Revisions), "VRI entries:", len(res.DSS.VRI))
	// Output:
	// Signature1 ETSI.CAdES.detached covers revision 2 modified: false
	// DocTimeStamp1 ETSI.RFC3161 covers revision 3 modified: false
	// DocTimeStamp2 ETSI.RFC3161 covers revision 5 modified: false
	// revisions: 5 VRI entries: 2
}
