package pades_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/trustsign/trustsign/cms"
	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/verify"
)

var (
	tsaOnce sync.Once
	tsaID   testpki.Identity
)

// testTSA is an RSA-2048 TSA certificate issued by the test PKI with the critical id-kp-timeStamping EKU
// (crypto/x509 writes ExtKeyUsage non-critical, so it goes in as an extra extension).
func testTSA(t testing.TB) testpki.Identity {
	t.Helper()
	tsaOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
		tmpl := testpki.LeafTemplate(pkix.Name{Country: []string{"PL"}, Organization: []string{"Trustsign Test"}, CommonName: "Test TSA"})
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}
		if tsaID, err = testpki.New().IssueIdentity(tmpl, key); err != nil {
			t.Fatal(err)
		}
	})
	return tsaID
}

// makeToken returns an RFC 3161 token over imprint (its length names the hash) signed by tsa, made with
// github.com/digitorus/timestamp.
func makeToken(t testing.TB, tsa testpki.Identity, imprint []byte) []byte {
	t.Helper()
	h := map[int]crypto.Hash{32: crypto.SHA256, 48: crypto.SHA384, 64: crypto.SHA512}[len(imprint)]
	req := timestamp.Timestamp{HashAlgorithm: h, HashedMessage: imprint, Time: signTime.Add(time.Second), Accuracy: time.Second,
		Policy: asn1.ObjectIdentifier{1, 2, 3, 4, 1}, AddTSACertificate: true}
	resp, err := req.CreateResponseWithOpts(tsa.Cert, tsa.Key, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.ParseResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	return ts.RawToken
}

// stamper is a pades.SignOptions.TimeStamp callback using the test TSA.
func stamper(t testing.TB) func(context.Context, []byte) ([]byte, error) {
	tsa := testTSA(t)
	return func(_ context.Context, imprint []byte) ([]byte, error) { return makeToken(t, tsa, imprint), nil }
}

func signBT(t testing.TB, b []byte, id testpki.Identity) []byte {
	t.Helper()
	o := opts(id)
	o.TimeStamp = stamper(t)
	return sign(t, b, o)
}

func report(t testing.TB, b []byte) verify.FileReport {
	t.Helper()
	return verify.PDF(context.Background(), bytes.NewReader(b), int64(len(b)), testPolicy())
}

func TestSignBT(t *testing.T) {
	p := testpki.New()
	tsa := testTSA(t)
	for _, id := range []testpki.Identity{p.RSA, p.EC384} {
		t.Run(id.Cert.Subject.CommonName, func(t *testing.T) {
			b := signBT(t, simplePDF(1, ""), id)
			res := wantValid(t, b, 1)
			st := res.Signatures[0].CMSResult.TimeStamps
			if len(st) != 1 || st[0].Err != nil || !st[0].Signer.Equal(tsa.Cert) {
				t.Fatalf("signature time-stamps = %+v", st)
			}
			rep := report(t, b)
			s := rep.Signatures[0]
			if rep.Indication != verify.TotalPassed || s.Level != "PAdES-B-T" {
				t.Fatalf("%s, level %q, reasons %q", rep.Indication, s.Level, s.Reasons)
			}
			if len(s.TimeStamps) != 1 || s.TimeStamps[0].Indication != verify.TotalPassed || s.TimeStamps[0].Kind != "signature" ||
				!strings.Contains(s.TimeStamps[0].TSA, "Test TSA") || s.TimeStamps[0].Time == nil {
				t.Fatalf("timestamps = %+v", s.TimeStamps)
			}
		})
	}
	t.Run("B-B stays B-B", func(t *testing.T) {
		rep := report(t, sign(t, simplePDF(1, ""), opts(p.RSA)))
		if s := rep.Signatures[0]; s.Level != "PAdES-B-B" || s.TimeStamps != nil {
			t.Fatalf("level %q, timestamps %+v", s.Level, s.TimeStamps)
		}
	})
}

func TestSignBTErrors(t *testing.T) {
	p := testpki.New()
	outage := errors.New("TSA unavailable")
	o := opts(p.RSA)
	o.TimeStamp = func(context.Context, []byte) ([]byte, error) { return nil, outage }
	var out bytes.Buffer
	b := simplePDF(1, "")
	if _, err := pades.Sign(context.Background(), bytes.NewReader(b), int64(len(b)), &out, o); !errors.Is(err, outage) {
		t.Fatalf("Sign = %v, want the TSA's error", err)
	}
	tsa := testTSA(t)
	o.TimeStamp = func(context.Context, []byte) ([]byte, error) {
		return makeToken(t, tsa, make([]byte, 32)), nil // a token over other data
	}
	if _, err := pades.Sign(context.Background(), bytes.NewReader(b), int64(len(b)), &out, o); !errors.Is(err, cms.ErrTimeStampImprint) {
		t.Fatalf("Sign = %v, want ErrTimeStampImprint", err)
	}
}

// TestAttackBTDamagedToken flips bytes inside the CMS tail, where the signature time-stamp token sits (as
// ../shared/acceptance/long-term does): the signature must not stay valid, and never B-T.
func TestAttackBTDamagedToken(t *testing.T) {
	b := signBT(t, simplePDF(1, ""), testpki.New().RSA)
	s := verifyBytes(t, b).Signatures[0]
	n := len(s.CMS.Raw)
	for _, back := range []int{20, 40, 100, 300} {
		bad := bytes.Clone(b)
		i := int(s.ByteRange[1]) + 1 + 2*(n-back) // hex digit of CMS byte n-back
		if bad[i] == '0' {
			bad[i] = '1'
		} else {
			bad[i] = '0'
		}
		rep := report(t, bad)
		if rep.Indication == verify.TotalPassed || rep.Signatures[0].Level == "PAdES-B-T" {
			t.Errorf("byte %d from the end: %s, level %q", back, rep.Indication, rep.Signatures[0].Level)
		}
	}
}

// docTimeStamped builds a one-page PDF whose only signature is a document time-stamp (/Type /DocTimeStamp,
// /SubFilter /ETSI.RFC3161) over its ByteRange; token, when set, replaces the token made over the right bytes.
func docTimeStamped(t testing.TB, token func(imprint []byte) []byte) []byte {
	t.Helper()
	dict := strings.Replace(strings.Replace(standardSigDict, "/ETSI.CAdES.detached", "/ETSI.RFC3161", 1), "/Type /Sig", "/Type /DocTimeStamp", 1)
	b := craftedDoc(dict, nil)
	br := standardRange(t, b)
	out := seal(t, b, br, -1, testpki.New().RSA) // fills the ByteRange only
	h := crypto.SHA256.New()
	h.Write(out[br[0]:br[1]])
	h.Write(out[br[2] : br[2]+br[3]])
	der := token(h.Sum(nil))
	hex.Encode(out[br[1]+1:], der)
	return out
}

func TestDocumentTimeStamp(t *testing.T) {
	tsa := testTSA(t)
	other := makeToken(t, tsa, bytes.Repeat([]byte{7}, 32)) // a token from another file
	for _, tc := range []struct {
		name  string
		token func([]byte) []byte
		want  verify.Indication
		sub   verify.SubIndication
	}{
		{"Valid", func(imp []byte) []byte { return makeToken(t, tsa, imp) }, verify.TotalPassed, ""},
		{"AttackCopiedFromAnotherFile", func([]byte) []byte { return other }, verify.TotalFailed, verify.HashFailure},
		{"AttackSignedByNonTSA", func(imp []byte) []byte { return makeToken(t, testpki.New().RSA, imp) }, verify.Indeterminate, verify.ChainConstraintsFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := docTimeStamped(t, tc.token)
			rep := report(t, b)
			s := rep.Signatures[0]
			if rep.Indication != tc.want || len(s.TimeStamps) != 1 || s.TimeStamps[0].Kind != "document" ||
				s.TimeStamps[0].Indication != tc.want || s.TimeStamps[0].SubIndication != tc.sub {
				t.Fatalf("%s/%s, reasons %q, timestamps %+v", rep.Indication, s.SubIndication, s.Reasons, s.TimeStamps)
			}
			if tc.want == verify.TotalPassed && s.Level != "PAdES document time-stamp" {
				t.Fatalf("level %q", s.Level)
			}
		})
	}
	t.Run("AttackCoveredBytesChanged", func(t *testing.T) {
		b := docTimeStamped(t, func(imp []byte) []byte { return makeToken(t, tsa, imp) })
		b = bytes.Replace(b, []byte("Umowa: 100 PLN"), []byte("Umowa: 900 PLN"), 1)
		rep := report(t, b)
		if rep.Indication != verify.TotalFailed || rep.Signatures[0].TimeStamps[0].SubIndication != verify.HashFailure {
			t.Fatalf("%s, timestamps %+v", rep.Indication, rep.Signatures[0].TimeStamps)
		}
	})
}

// TestInteropBTToPeers: poppler's pdfsig and PDFBox accept our B-T PAdES.
func TestInteropBTToPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("interop: -short")
	}
	dir := pkiDir(t)
	root, inter := filepath.Join(dir, "root.pem"), filepath.Join(dir, "inter.pem")
	f := writeTemp(t, t.TempDir(), "bt.pdf", signBT(t, simplePDF(1, ""), testpki.New().RSA))
	for _, tool := range []string{"pdfsig", "pdfbox"} {
		if ok, out := interoptest.Verify(t, tool, f, root, inter); !ok {
			t.Errorf("%s rejects our B-T signature:\n%s", tool, out)
		}
	}
}

// addDocTimeStamp appends a document time-stamp revision to b: a signature made by Sign whose /SubFilter is then
// turned into /ETSI.RFC3161 (padded to the same length) and whose /Contents becomes a token over its ByteRange.
func addDocTimeStamp(t testing.TB, b []byte) []byte {
	t.Helper()
	out := sign(t, b, opts(testpki.New().EC256))
	tail := len(b)
	i := bytes.LastIndex(out[tail:], []byte("/ETSI.CAdES.detached"))
	if i < 0 {
		t.Fatal("no SubFilter in the new revision")
	}
	copy(out[tail+i:], "/ETSI.RFC3161       ")
	sigs := verifyBytes(t, out).Signatures
	br := sigs[len(sigs)-1].ByteRange
	h := crypto.SHA256.New()
	h.Write(out[br[0] : br[0]+br[1]])
	h.Write(out[br[2] : br[2]+br[3]])
	der := makeToken(t, testTSA(t), h.Sum(nil))
	return replaceCMS(t, out, der)
}

// TestDocumentTimeStampAfterBT: a document time-stamp added after a B-T signature is an allowed change; both
// validate, each with its own time-stamp.
func TestDocumentTimeStampAfterBT(t *testing.T) {
	b := addDocTimeStamp(t, signBT(t, simplePDF(1, ""), testpki.New().RSA))
	rep := report(t, b)
	if rep.Indication != verify.TotalPassed || len(rep.Signatures) != 2 {
		t.Fatalf("%s, %d signatures: %+v", rep.Indication, len(rep.Signatures), rep.Signatures)
	}
	bt, doc := rep.Signatures[0], rep.Signatures[1]
	if bt.Level != "PAdES-B-T" || bt.Modified || doc.Level != "PAdES document time-stamp" || doc.TimeStamps[0].Kind != "document" {
		t.Fatalf("B-T: level %q modified %v changes %+v; document time-stamp: level %q %+v", bt.Level, bt.Modified, bt.Changes, doc.Level, doc.TimeStamps)
	}
}

// TestInteropPeerSignatureTimeStamps: the signature time-stamps Adobe Reader embedded (GlobalSign TSA, in
// pyHanko's test data) parse and verify in ours: token signature, TSA EKU and imprint over the signature value.
func TestInteropPeerSignatureTimeStamps(t *testing.T) {
	dir := interoptest.CorpusDir(t)
	if dir == "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(dir, "pdf", "pyhanko-minimal-two-fields-signed-twice.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	res := verifyBytes(t, b)
	for _, s := range res.Signatures {
		st := s.CMSResult.TimeStamps
		if len(st) != 1 || st[0].Err != nil || st[0].Signer == nil || !strings.Contains(st[0].Signer.Subject.CommonName, "Globalsign TSA") {
			t.Fatalf("%s: signature time-stamps %+v", s.FieldName, st)
		}
	}
}
