package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/xades"
)

// ltSource is a revocation.Source over the test PKI: the chain, an OCSP response of the intermediate for each
// certificate it issued and, when crl, a CRL of the root.
func ltSource(t *testing.T, withRevocation bool) revocation.Source {
	p := testpki.New()
	return func(_ context.Context, certs []*x509.Certificate) (revocation.Data, error) {
		d := revocation.Data{Certificates: []*x509.Certificate{p.Intermediate, p.Root}}
		if !withRevocation {
			return d, nil
		}
		now := time.Now().Add(-time.Minute).Truncate(time.Second)
		crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now,
			NextUpdate: now.Add(time.Hour)}, p.Root, p.RootKey)
		if err != nil {
			return d, err
		}
		d.CRLs = [][]byte{crl}
		for _, c := range certs {
			if bytes.Equal(c.RawIssuer, p.Intermediate.RawSubject) {
				r, err := ocsp.CreateResponse(p.Intermediate, p.Intermediate, ocsp.Response{Status: ocsp.Good,
					SerialNumber: c.SerialNumber, ThisUpdate: now, NextUpdate: now.Add(time.Hour)}, p.IntermediateKey)
				if err != nil {
					return d, err
				}
				d.OCSP = append(d.OCSP, r)
			}
		}
		return d, nil
	}
}

// extended is a document signed by the test RSA seal and extended to level.
func extended(t *testing.T, level string, withRevocation bool) []byte {
	t.Helper()
	p := testpki.New()
	client := &tsa.Client{URLs: []string{p.TSA(t, testpki.TSAGood)}, Roots: p.Roots(), Intermediates: p.Intermediates()}
	signed, err := xades.Sign([]byte(`<recepta xmlns="urn:example"><lek>Amoxicillinum</lek></recepta>`),
		xades.SignOptions{Signer: p.RSA.Key, Certificate: p.RSA.Cert})
	if err != nil {
		t.Fatal(err)
	}
	out, err := xades.Extend(t.Context(), signed, xades.ExtendOptions{Level: level, Validation: ltSource(t, withRevocation),
		TimeStamp: func(ctx context.Context, imprint []byte) ([]byte, error) {
			tok, err := client.Stamp(ctx, imprint)
			if err != nil {
				return nil, err
			}
			return tok.DER, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testPolicy() *Policy {
	p := testpki.New()
	return &Policy{Roots: []*x509.Certificate{p.Root}, Intermediates: []*x509.Certificate{p.Intermediate}}
}

// TestXMLLongTermInput: what an XML signature brings to its chain's long-term judgement: the validation data it
// carries, all its certificates, the time of its signature time-stamp as the signature's proof of existence and
// that of its archive time-stamp as the data's.
func TestXMLLongTermInput(t *testing.T) {
	p := testpki.New()
	tsaID, err := p.TSAIdentity(testpki.TSAGood)
	if err != nil {
		t.Fatal(err)
	}
	for _, level := range []string{"b-lt", "b-lta"} {
		t.Run(level, func(t *testing.T) {
			res, err := xades.Verify(extended(t, level, true), xades.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			s := res.Signatures[0]
			var stamps SignatureReport
			in, _ := testPolicy().xmlLongTerm(t.Context(), &stamps, s)
			if len(in.Data.OCSP) != 2 || len(in.Data.CRLs) != 1 {
				t.Fatalf("data: %d OCSP, %d CRLs", len(in.Data.OCSP), len(in.Data.CRLs))
			}
			has := func(c *x509.Certificate) bool {
				for _, e := range in.Embedded {
					if e.Equal(c) {
						return true
					}
				}
				return false
			}
			if !has(p.RSA.Cert) || !has(p.Intermediate) || !has(p.Root) || !has(tsaID.Cert) {
				t.Fatalf("embedded certificates incomplete: %d", len(in.Embedded))
			}
			if in.SignaturePOE == nil || !in.SignaturePOE.Equal(*stamps.TimeStamps[0].Time) {
				t.Fatalf("signature POE %v, time-stamps %+v", in.SignaturePOE, stamps.TimeStamps)
			}
			switch level {
			case "b-lt":
				if in.DataPOE != nil || len(stamps.TimeStamps) != 1 {
					t.Fatalf("B-LT: data POE %v, time-stamps %+v", in.DataPOE, stamps.TimeStamps)
				}
			case "b-lta":
				if len(stamps.TimeStamps) != 2 || stamps.TimeStamps[1].Kind != "archive" || stamps.TimeStamps[1].Indication != TotalPassed ||
					in.DataPOE == nil || !in.DataPOE.Equal(*stamps.TimeStamps[1].Time) {
					t.Fatalf("B-LTA: data POE %v, time-stamps %+v", in.DataPOE, stamps.TimeStamps)
				}
			}
		})
	}
}

// TestXMLLevels: the level reported for each extension, and B-T only when the revocation data is missing.
func TestXMLLevels(t *testing.T) {
	tests := []struct {
		level          string
		withRevocation bool
		want           string
		kinds          []string
	}{
		{"b-t", true, "XAdES-B-T", []string{"signature"}},
		{"b-lt", true, "XAdES-B-LT", []string{"signature"}},
		// the test PKI's certificates name no revocation source: the certificates alone complete the data
		{"b-lt", false, "XAdES-B-LT", []string{"signature"}},
		{"b-lta", true, "XAdES-B-LTA", []string{"signature", "archive"}},
		{"b-lta", false, "XAdES-B-LTA", []string{"signature", "archive"}},
	}
	for _, tc := range tests {
		t.Run(tc.level+map[bool]string{true: "", false: "-no-revocation"}[tc.withRevocation], func(t *testing.T) {
			rep := XML("lt.xml", extended(t, tc.level, tc.withRevocation), testPolicy(), XMLOptions{})
			s := rep.Signatures[0]
			if s.Indication != TotalPassed || s.Level != tc.want || len(s.TimeStamps) != len(tc.kinds) {
				t.Fatalf("%s level %s, time-stamps %+v; reasons %q", s.Indication, s.Level, s.TimeStamps, s.Reasons)
			}
			for i, k := range tc.kinds {
				if s.TimeStamps[i].Kind != k || s.TimeStamps[i].Indication != TotalPassed {
					t.Errorf("time-stamp %d: %+v, want kind %s", i, s.TimeStamps[i], k)
				}
			}
		})
	}
}

// TestXMLDSSArchiveTimeStamp132: EU DSS's 1.3.2 archive time-stamp file keeps verifying; its archive time-stamp
// matches its data but its TSA chains to another root than the file's (DSS regenerated its test PKI between the
// two stamps), so it proves nothing here: reported INDETERMINATE and noted; being intact, it still makes the level
// B-LTA (the form the file has, as DSS reports it).
func TestXMLDSSArchiveTimeStamp132(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "realworld", "dss", "dss-xades-enveloping-arcTst132.xml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := xades.Verify(data, xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var roots []*x509.Certificate
	for _, c := range res.Signatures[0].Certificates {
		if bytes.Equal(c.RawIssuer, c.RawSubject) {
			roots = append(roots, c)
		}
	}
	at := time.Date(2025, 11, 28, 0, 0, 0, 0, time.UTC)
	rep := XML("arcTst132.xml", data, &Policy{Roots: roots, Now: func() time.Time { return at }}, XMLOptions{})
	s := rep.Signatures[0]
	if s.Indication != TotalPassed || s.Level != "XAdES-B-LTA" || len(s.TimeStamps) != 2 || s.TimeStamps[1].Kind != "archive" ||
		s.TimeStamps[1].Indication != Indeterminate {
		t.Fatalf("%s level %s, time-stamps %+v; reasons %q", s.Indication, s.Level, s.TimeStamps, s.Reasons)
	}
	// its imprint matches: with the root its TSA chains to, it is valid
	a := res.Signatures[0].ArchiveTimeStamps[0]
	tok, err := tsa.VerifyData(a.Token, a.Covered, tsa.VerifyOptions{Roots: tokenRoots(t, a.Token)})
	if err != nil {
		t.Fatalf("archive time-stamp under its own root: %v", err)
	}
	if tok.Time.Before(*s.TimeStamps[0].Time) {
		t.Errorf("archive time-stamp at %v before the signature time-stamp", tok.Time)
	}
}

// tokenRoots is the pool of the self-signed certificates a time-stamp token carries.
func tokenRoots(t *testing.T, token []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	sd, err := cms.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range sd.Certificates {
		if bytes.Equal(c.RawIssuer, c.RawSubject) {
			pool.AddCert(c)
		}
	}
	return pool
}

// TestXMLDSSArchiveTimeStamps141: EU DSS's file with two XAdES 1.4.1 archive time-stamp tokens (h-corp's
// testdata/realworld/dss-lt; skipped until it is there): each token's imprint is the digest of the data we compute
// for it (all ds:Object elements but the QualifyingProperties' one, the referenced one included).
func TestXMLDSSArchiveTimeStamps141(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "realworld", "dss-lt", "xades-with-multiple-archivetimestamps.xml"))
	if os.IsNotExist(err) {
		t.Skip("testdata/realworld/dss-lt/xades-with-multiple-archivetimestamps.xml not here yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	res, err := xades.Verify(data, xades.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Signatures[0].ArchiveTimeStamps
	if len(a) != 2 {
		t.Fatalf("%d archive time-stamp tokens", len(a))
	}
	for i, at := range a {
		if at.Namespace != xades.NSXAdES141 || !at.CoversValidationData {
			t.Fatalf("token %d: %+v", i, at.Namespace)
		}
		if _, err := tsa.VerifyData(at.Token, at.Covered, tsa.VerifyOptions{Roots: tokenRoots(t, at.Token)}); err != nil {
			t.Errorf("token %d under its own root: %v", i, err)
		}
	}
}
