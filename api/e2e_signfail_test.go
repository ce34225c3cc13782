package api_test

// Signer failures and unsealable documents (issue 11, item 10): a seal that cannot be made now is a 503 that
// changes nothing (the requests stay pending, the code stays usable); a PDF that could never be sealed is refused
// when it is submitted, before the holder spends a code on it.

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/verify"
)

// flakyKey is a hardware key that can be unplugged: while down, every signature fails.
type flakyKey struct {
	crypto.Signer
	down  atomic.Bool
	signs atomic.Int64
}

func (k *flakyKey) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if k.down.Load() {
		return nil, errors.New("pkcs11: CKR_DEVICE_REMOVED")
	}
	k.signs.Add(1)
	return k.Signer.Sign(rand, digest, opts)
}

// auditCount counts the audit records of a kind.
func auditCount(t *testing.T, e *e2e, kind string) int {
	t.Helper()
	var exported bytes.Buffer
	if _, err := audit.Export(bg, e.DB, &exported); err != nil {
		t.Fatal(err)
	}
	return strings.Count(exported.String(), `"kind":"`+kind+`"`)
}

// TestAttackSealFailureKeepsRequestPending: the service's key goes away while a holder confirms a batch. The
// confirmation is a 503 with Retry-After that spends nothing: the requests stay pending, nothing is signed, and once
// the key is back the same code signs the batch, exactly once, even when confirmed many times at once.
func TestAttackSealFailureKeepsRequestPending(t *testing.T) {
	t.Parallel()
	pki := testpki.New()
	key := &flakyKey{Signer: pki.EC256.Key}
	seal, err := signer.NewSeal(key, pki.EC256.Chain)
	if err != nil {
		t.Fatal(err)
	}
	e := newE2E(t, func(o *clienttest.Options) { o.Seal = seal })
	_, pesel, anna := e.holder(t, "anna")
	b, err := e.rx.SubmitBatch(bg, client.BatchSubmission{Documents: []client.BatchDocument{
		{Document: pdftest.Build(pdftest.Simple(1, "Wniosek"), 1, pdftest.Options{}), FileName: "wniosek.pdf"},
		{Document: prescription(t), FileName: "recepta.xml"}}, SuccessURL: rxSuccess, FailureURL: rxFailure})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anna.RequestCode(bg, b.ID); err != nil {
		t.Fatal(err)
	}
	code := e.code(t, "anna")
	redeemed := auditCount(t, e, "code.redeem") // the contact confirmation's

	key.down.Store(true)
	for try := 0; try < 2; try++ {
		_, err = anna.Confirm(bg, b.ID, code)
		p := wantProblem(t, "confirm while the key is down", err, 503)
		if p.RetryAfter <= 0 {
			t.Fatalf("503 without Retry-After: %+v", p)
		}
	}
	for i, r := range b.Requests {
		st, err := e.rx.Status(bg, r.ID)
		if err != nil || st.Status != client.StatusPending || st.FailureReason != "" {
			t.Fatalf("member %d after the failed seal: %+v %v (want pending)", i, st, err)
		}
		_, _, err = e.rx.SignedDocument(bg, r.ID)
		wantProblem(t, "document after the failed seal", err, 409)
	}
	if n := auditCount(t, e, "code.redeem"); n != redeemed {
		t.Fatalf("%d code redemptions audited while nothing was signed", n-redeemed)
	}
	if n := auditCount(t, e, "signature.unavailable"); n != 2*len(b.Requests) {
		t.Errorf("%d failed seals audited, want %d", n, 2*len(b.Requests))
	}

	key.down.Store(false)
	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := anna.Confirm(bg, b.ID, code); err != nil {
				statuses[i] = client.StatusOf(err)
			} else {
				statuses[i] = 200
			}
		}()
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 409, 422:
		default:
			t.Errorf("a confirmation after recovery answered %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d confirmations succeeded after recovery (%v), want exactly 1", ok, statuses)
	}
	for i, r := range b.Requests {
		signed, _, err := e.rx.SignedDocument(bg, r.ID)
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
		rep := verify.Bytes(bg, r.FileName, signed, e.Policy, verify.Options{})
		if rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 || rep.Signatures[0].TrustedProfile == nil ||
			rep.Signatures[0].TrustedProfile.PESEL != pesel {
			t.Fatalf("member %d is not signed exactly once for the holder: %s, %d signatures", i, rep.Indication, len(rep.Signatures))
		}
	}
	if got := auditCount(t, e, "signature.create"); got != len(b.Requests) {
		t.Fatalf("%d seals recorded, want %d (one per document)", got, len(b.Requests))
	}
	if got := auditCount(t, e, "code.redeem") - redeemed; got != 1 {
		t.Fatalf("the code was redeemed %d times, want 1", got)
	}
	_, err = anna.Confirm(bg, b.ID, code)
	if s := client.StatusOf(err); s != 409 && s != 422 {
		t.Fatalf("the spent code answered %d (%v)", s, err)
	}
}

// hostilePDFs are documents a holder could never have sealed: each is refused when submitted.
func hostilePDFs() []struct {
	name string
	doc  []byte
} {
	page := func(extra string) map[int]pdftest.Object {
		return map[int]pdftest.Object{
			1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
			2: pdftest.Dict("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
			3: pdftest.Dict("<< /Type /Page /Parent 2 0 R " + extra + " >>"),
		}
	}
	build := func(objs map[int]pdftest.Object) []byte { return pdftest.Build(objs, 1, pdftest.Options{}) }
	huge := "1" + strings.Repeat("0", 60) + ".0" // PDF numbers have no exponent; the reader takes 64 characters
	encrypted := pdftest.Build(map[int]pdftest.Object{
		1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
		2: pdftest.Dict("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
		3: pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"),
		9: pdftest.Dict("<< /Filter /Standard /V 2 /R 3 /Length 128 /P -4 /O <00> /U <00> >>"),
	}, 1, pdftest.Options{Trailer: "/Encrypt 9 0 R /ID [<0011223344556677> <0011223344556677>]"})
	return []struct {
		name string
		doc  []byte
	}{
		{"no pages", build(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
			2: pdftest.Dict("<< /Type /Pages /Kids [] /Count 0 >>")})},
		{"no page tree", build(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog >>")})},
		{"page tree is its own kid", build(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
			2: pdftest.Dict("<< /Type /Pages /Kids [2 0 R] /Count 1 >>")})},
		{"page tree loop through a child", build(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
			2: pdftest.Dict("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
			3: pdftest.Dict("<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>")})},
		{"a page twice", build(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
			2: pdftest.Dict("<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 2 >>"),
			3: pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")})},
		{"kid is not a dictionary", build(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
			2: pdftest.Dict("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"), 3: pdftest.Dict("42")})},
		{"MediaBox of 60-digit numbers", build(page("/MediaBox [-" + huge + " -" + huge + " " + huge + " " + huge + "]"))},
		{"MediaBox of a galaxy", build(page("/MediaBox [0 0 1000000000000000000000000000000.0 1000000000000000000000000000000.0]"))},
		{"empty MediaBox", build(page("/MediaBox [0 0 0 0]"))},
		{"CropBox outside of reason", build(page("/MediaBox [0 0 595 842] /CropBox [0 0 99999999 5]"))},
		{"integer MediaBox beyond int64", build(page("/MediaBox [0 0 99999999999999999999999 842]"))},
		{"certified with no changes allowed", build(map[int]pdftest.Object{
			1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R /Perms << /DocMDP 4 0 R >> >>"),
			2: pdftest.Dict("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
			3: pdftest.Dict("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"),
			4: pdftest.Dict("<< /Type /Sig /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P 1 /V /1.2 >> >>] >>")})},
		{"encrypted", encrypted},
	}
}

// TestUnsealablePDFRefusedAtSubmission: every hostile PDF is a 422 problem+json naming the document when submitted
// (alone, or inside a batch), so no holder is ever asked to spend a code on it; an ordinary PDF still goes through.
func TestUnsealablePDFRefusedAtSubmission(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	for _, tc := range hostilePDFs() {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []client.Format{client.Auto, client.PAdES} {
				_, err := e.rx.Submit(bg, client.Submission{Document: tc.doc, FileName: "x.pdf", Format: f})
				p := wantProblem(t, tc.name+" as "+string(f), err, 422)
				if !strings.HasPrefix(p.Detail, "document") {
					t.Errorf("%s: the problem does not say what is wrong with the document: %q", tc.name, p.Detail)
				}
			}
			_, err := e.rx.SubmitBatch(bg, client.BatchSubmission{Documents: []client.BatchDocument{
				{Document: prescription(t), FileName: "a.xml"}, {Document: tc.doc, FileName: "b.pdf"}}})
			p := wantProblem(t, tc.name+" in a batch", err, 422)
			if !strings.HasPrefix(p.Detail, "documents[1].document") {
				t.Errorf("%s in a batch: the problem does not name the document: %q", tc.name, p.Detail)
			}
		})
	}
	// a page tree too big to prepare within the seal's reading limits (50,000 objects) is refused, in seconds
	objs := map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>")}
	var kids strings.Builder
	const pages = 60000
	for i := range pages {
		fmt.Fprintf(&kids, "%d 0 R ", 3+i)
		objs[3+i] = pdftest.Dict("<< /Type /Page /Parent 2 0 R >>")
	}
	objs[2] = pdftest.Dict(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids.String(), pages))
	_, err := e.rx.Submit(bg, client.Submission{Document: pdftest.Build(objs, 1, pdftest.Options{}), FileName: "big.pdf"})
	if p := wantProblem(t, "60,000 pages", err, 422); !strings.Contains(p.Detail, "limits") {
		t.Errorf("60,000 pages: %q", p.Detail)
	}

	_, _, anna := e.holder(t, "anna")
	ok := pdftest.Build(pdftest.Simple(1, "Zwykly wniosek"), 1, pdftest.Options{})
	req, err := e.rx.Submit(bg, client.Submission{Document: ok, FileName: "ok.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Second)
	if _, err := anna.RequestCode(bg, req.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := anna.Confirm(bg, req.ID, e.code(t, "anna")); err != nil {
		t.Fatalf("an ordinary PDF: %v", err)
	}
	if n := auditCount(t, e, "signature.request"); n != 1 {
		t.Fatalf("%d requests stored, want only the ordinary PDF's", n)
	}
}
