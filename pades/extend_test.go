package pades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/verify"
)

// testSource is a revocation.Source over the test PKI: for each certificate below the root, an OCSP response
// ("good") signed by the intermediate for its leaves and a CRL signed by the root for the intermediate; the chain
// certificates the caller did not pass. calls counts the chains asked for.
type testSource struct {
	p     *testpki.PKI
	calls int
}

func (s *testSource) collect(_ context.Context, certs []*x509.Certificate) (revocation.Data, error) {
	s.calls++
	var d revocation.Data
	have := func(c *x509.Certificate) bool {
		for _, x := range append(append([]*x509.Certificate{}, certs...), d.Certificates...) {
			if x.Equal(c) {
				return true
			}
		}
		return false
	}
	for _, c := range []*x509.Certificate{s.p.Intermediate, s.p.Root} {
		if !have(c) {
			d.Certificates = append(d.Certificates, c)
		}
	}
	now := signTime.Add(2 * time.Minute)
	leaf := certs[0]
	if bytes.Equal(leaf.RawIssuer, s.p.Intermediate.RawSubject) {
		der, err := ocsp.CreateResponse(s.p.Intermediate, s.p.Intermediate, ocsp.Response{
			Status: ocsp.Good, SerialNumber: leaf.SerialNumber, ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour), ProducedAt: now,
		}, s.p.IntermediateKey)
		if err != nil {
			return d, err
		}
		d.OCSP = append(d.OCSP, der)
	}
	crl, err := x509.CreateRevocationList(nil, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: now, NextUpdate: now.Add(24 * time.Hour)},
		s.p.Root, s.p.RootKey)
	if err != nil {
		return d, err
	}
	d.CRLs = append(d.CRLs, crl)
	return d, nil
}

func extendOpts(t testing.TB, level string, src *testSource) pades.ExtendOptions {
	return pades.ExtendOptions{Level: level, TimeStamp: stamper(t), Validation: src.collect}
}

func extend(t testing.TB, b []byte, o pades.ExtendOptions) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := pades.Extend(context.Background(), bytes.NewReader(b), int64(len(b)), &out, o); err != nil {
		t.Fatalf("Extend(%s): %v", o.Level, err)
	}
	if !bytes.HasPrefix(out.Bytes(), b) {
		t.Fatalf("Extend(%s) changed the bytes of the input", o.Level)
	}
	return out.Bytes()
}

// docTimeStamps returns the document time-stamps of res.
func docTimeStamps(res *pades.Result) []*pades.Signature {
	var out []*pades.Signature
	for _, s := range res.Signatures {
		if s.SubFilter == "ETSI.RFC3161" {
			out = append(out, s)
		}
	}
	return out
}

func wantDocTimeStampsValid(t testing.TB, res *pades.Result, n int) {
	t.Helper()
	ds := docTimeStamps(res)
	if len(ds) != n {
		t.Fatalf("%d document time-stamps, want %d", len(ds), n)
	}
	for _, s := range ds {
		if len(s.Problems) > 0 || s.DocumentTimeStamp == nil || s.DocumentTimeStamp.Err != nil || s.Modified || s.Type != "DocTimeStamp" {
			t.Fatalf("document time-stamp %s: problems %q, check %+v, changes %+v", s.FieldName, s.Problems, s.DocumentTimeStamp, s.Changes)
		}
	}
}

// wantAllValid checks every signature and document time-stamp of b and returns the result.
func wantAllValid(t testing.TB, b []byte, sigs, docTS int) *pades.Result {
	t.Helper()
	res := verifyBytes(t, b)
	if len(res.Signatures) != sigs+docTS {
		t.Fatalf("%d signatures, want %d", len(res.Signatures), sigs+docTS)
	}
	for _, s := range res.Signatures {
		if s.SubFilter == "ETSI.RFC3161" {
			continue
		}
		if why := intact(s); why != "" || s.Modified {
			t.Fatalf("signature %s: %s, changes %+v", s.FieldName, why, s.Changes)
		}
	}
	wantDocTimeStampsValid(t, res, docTS)
	return res
}

func TestExtendLevels(t *testing.T) {
	p := testpki.New()
	bb := sign(t, simplePDF(2, ""), opts(p.RSA))
	bt := signBT(t, simplePDF(1, ""), p.EC384)
	for _, tc := range []struct {
		name          string
		in            []byte
		level         string
		docTS, dssRev int // document time-stamps expected, and whether a DSS is expected
		want          string
	}{
		{"B-B to b-t", bb, "b-t", 1, 0, "PAdES-B-T"},
		{"B-T to b-t adds nothing", bt, "b-t", 0, 0, "PAdES-B-T"},
		{"B-B to b-lt", bb, "b-lt", 1, 1, "PAdES-B-LT"},
		{"B-T to b-lt", bt, "b-lt", 0, 1, "PAdES-B-LT"},
		{"B-B to b-lta", bb, "b-lta", 2, 1, "PAdES-B-LTA"},
		{"B-T to b-lta", bt, "b-lta", 1, 1, "PAdES-B-LTA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &testSource{p: p}
			out := extend(t, tc.in, extendOpts(t, tc.level, src))
			res := wantAllValid(t, out, 1, tc.docTS)
			if last := res.Signatures[len(res.Signatures)-1]; tc.level != "b-lt" && !last.CoversWholeFile {
				t.Fatalf("the last signature does not cover the whole file")
			}
			if tc.level == "b-t" && tc.docTS == 0 && !bytes.Equal(out, tc.in) {
				t.Fatalf("b-t on a B-T file changed it")
			}
			if got := res.DSS != nil && !res.DSS.Data.Empty(); got != (tc.dssRev > 0) {
				t.Fatalf("DSS present %v, want %v", got, tc.dssRev > 0)
			}
			rep := report(t, out)
			if rep.Indication != verify.TotalPassed || rep.Signatures[0].Level != tc.want {
				t.Fatalf("%s, level %q, want %q; reasons %q", rep.Indication, rep.Signatures[0].Level, tc.want, rep.Signatures[0].Reasons)
			}
			for _, sr := range rep.Signatures[1:] {
				if sr.Level != "PAdES document time-stamp" || sr.Indication != verify.TotalPassed {
					t.Fatalf("document time-stamp %s: %s, level %q, reasons %q", sr.ID, sr.Indication, sr.Level, sr.Reasons)
				}
			}
			if n := len(rep.Signatures[0].TimeStamps); n < tc.docTS {
				t.Fatalf("%d time-stamps in the signature's report, want at least the %d document time-stamps", n, tc.docTS)
			}
			if tc.dssRev > 0 {
				d := res.DSS
				if len(d.Data.OCSP) == 0 || len(d.Data.CRLs) != 1 || len(d.Data.Certificates) < 3 || len(d.VRI) == 0 {
					t.Fatalf("DSS: %d certificates, %d OCSP, %d CRLs, %d VRI", len(d.Data.Certificates), len(d.Data.OCSP), len(d.Data.CRLs), len(d.VRI))
				}
				sig := res.Signatures[0]
				if sig.Validation.Empty() || sig.ValidationRevision <= sig.CoveredRevision {
					t.Fatalf("signature's validation data: %+v from revision %d", sig.Validation, sig.ValidationRevision)
				}
			}
		})
	}
}

// TestExtendRenewal extends b-lta twice: the second run adds the validation data of the first archive
// time-stamp's TSA and a new document time-stamp over it; the signature's own data is not collected again.
func TestExtendRenewal(t *testing.T) {
	p := testpki.New()
	src := &testSource{p: p}
	once := extend(t, signBT(t, simplePDF(1, ""), p.RSA), extendOpts(t, "b-lta", src))
	wantAllValid(t, once, 1, 1)
	first := src.calls
	twice := extend(t, once, extendOpts(t, "b-lta", src))
	res := wantAllValid(t, twice, 1, 2)
	if src.calls-first != 1 {
		t.Fatalf("renewal asked for %d chains, want 1 (the last document time-stamp's TSA)", src.calls-first)
	}
	if n := len(res.DSS.VRI); n != 2 {
		t.Fatalf("%d VRI entries, want 2", n)
	}
	if len(res.Revisions) != 6 {
		t.Fatalf("%d revisions, want 6 (document, signature, DSS, time-stamp, DSS, time-stamp)", len(res.Revisions))
	}
}

func TestExtendErrors(t *testing.T) {
	p := testpki.New()
	src := &testSource{p: p}
	bb := sign(t, simplePDF(1, ""), opts(p.RSA))
	outage := errors.New("TSA unavailable")
	for _, tc := range []struct {
		name string
		in   []byte
		o    pades.ExtendOptions
		want error
	}{
		{"unknown level", bb, pades.ExtendOptions{Level: "b-b"}, pades.ErrInvalidOptions},
		{"b-lta without TSA", bb, pades.ExtendOptions{Level: "b-lta", Validation: src.collect}, pades.ErrInvalidOptions},
		{"b-lt without source", bb, pades.ExtendOptions{Level: "b-lt", TimeStamp: stamper(t)}, pades.ErrInvalidOptions},
		{"unsigned", simplePDF(1, ""), extendOpts(t, "b-lt", src), pades.ErrNoSignature},
		{"broken signature", flip(t, bb, "/Contents <3"), extendOpts(t, "b-lt", src), pades.ErrNotIntact},
		{"TSA outage", bb, pades.ExtendOptions{Level: "b-t", TimeStamp: func(context.Context, []byte) ([]byte, error) { return nil, outage }}, outage},
		{"token over other data", bb, pades.ExtendOptions{Level: "b-t", TimeStamp: func(context.Context, []byte) ([]byte, error) {
			return makeToken(t, testTSA(t), make([]byte, 32)), nil
		}}, nil},
		{"token too large", bb, pades.ExtendOptions{Level: "b-t", TimeStamp: stamper(t), TimeStampReserve: 64}, pades.ErrSignatureTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := pades.Extend(context.Background(), bytes.NewReader(tc.in), int64(len(tc.in)), &out, tc.o)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("Extend = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestExtendHashes makes document time-stamps over SHA-384 and SHA-512 imprints.
func TestExtendHashes(t *testing.T) {
	p := testpki.New()
	for _, h := range []crypto.Hash{crypto.SHA384, crypto.SHA512} {
		o := extendOpts(t, "b-t", &testSource{p: p})
		o.Hash = h
		out := extend(t, sign(t, simplePDF(1, ""), opts(p.RSA)), o)
		res := wantAllValid(t, out, 1, 1)
		if got := docTimeStamps(res)[0].DocumentTimeStamp.Token.Info.HashAlgorithm; got != h {
			t.Fatalf("imprint hash %v, want %v", got, h)
		}
	}
}

// TestExtendCertifiedNoChanges: a certification signature with DocMDP P=1 (no changes) still takes validation
// data and document time-stamps, which PAdES allows after it; it stays valid and unmodified.
func TestExtendCertifiedNoChanges(t *testing.T) {
	p := testpki.New()
	o := opts(p.RSA)
	o.DocMDP = 1
	out := extend(t, sign(t, simplePDF(1, ""), o), extendOpts(t, "b-lta", &testSource{p: p}))
	res := wantAllValid(t, out, 1, 2)
	for _, c := range res.Signatures[0].Changes {
		if !c.Allowed || (c.Kind != pades.ChangeDSS && c.Kind != pades.ChangeDocumentTimeStamp) {
			t.Fatalf("change %+v", c)
		}
	}
	if rep := report(t, out); rep.Indication != verify.TotalPassed || rep.Signatures[0].Level != "PAdES-B-LTA" {
		t.Fatalf("%s, level %q, reasons %q", rep.Indication, rep.Signatures[0].Level, rep.Signatures[0].Reasons)
	}
}

// TestExtendTestTSA extends through the test TSA on loopback (tsa.Client) in each of its modes: a good TSA gives
// B-LTA; every failure mode makes Extend fail with the client's error.
func TestExtendTestTSA(t *testing.T) {
	p := testpki.New()
	bb := sign(t, simplePDF(1, ""), opts(p.RSA))
	for _, mode := range testpki.TSAModes() {
		if mode == testpki.TSASlow && testing.Short() {
			continue
		}
		t.Run(mode.String(), func(t *testing.T) {
			client := &tsa.Client{URLs: []string{p.TSA(t, mode)}, Roots: p.Roots(), Intermediates: p.Intermediates(), Timeout: 2 * time.Second}
			o := pades.ExtendOptions{Level: "b-lta", Validation: (&testSource{p: p}).collect,
				TimeStamp: func(ctx context.Context, imprint []byte) ([]byte, error) {
					tok, err := client.Stamp(ctx, imprint)
					if err != nil {
						return nil, err
					}
					return tok.DER, nil
				}}
			var out bytes.Buffer
			err := pades.Extend(context.Background(), bytes.NewReader(bb), int64(len(bb)), &out, o)
			if mode != testpki.TSAGood {
				if err == nil {
					t.Fatal("Extend succeeds with a failing TSA")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep := report(t, out.Bytes()); rep.Indication != verify.TotalPassed || rep.Signatures[0].Level != "PAdES-B-LTA" {
				t.Fatalf("%s, level %q, reasons %q", rep.Indication, rep.Signatures[0].Level, rep.Signatures[0].Reasons)
			}
		})
	}
}

// TestExtendCoversOnlyEarlierRevisions: a document time-stamp is a proof of existence for the revisions it covers
// only: a signature made after it stays B-B, and b-t then stamps it.
func TestExtendCoversOnlyEarlierRevisions(t *testing.T) {
	p := testpki.New()
	first := extend(t, sign(t, simplePDF(1, ""), opts(p.RSA)), extendOpts(t, "b-t", &testSource{p: p}))
	both := sign(t, first, opts(p.EC256))
	rep := report(t, both)
	if len(rep.Signatures) != 3 || rep.Signatures[0].Level != "PAdES-B-T" || rep.Signatures[2].Level != "PAdES-B-B" {
		for _, s := range rep.Signatures {
			t.Logf("%s: level %q", s.ID, s.Level)
		}
		t.Fatal("levels")
	}
	again := extend(t, both, extendOpts(t, "b-t", &testSource{p: p}))
	rep = report(t, again)
	if rep.Indication != verify.TotalPassed || rep.Signatures[2].Level != "PAdES-B-T" {
		t.Fatalf("%s, second signature level %q", rep.Indication, rep.Signatures[2].Level)
	}
}
