package verify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/internal/xmldoc"
	"github.com/trustsign/trustsign/xades"
)

// manyWholeDocumentSignatures is a 9.6 MB document carrying 64 signatures of 31 references each, every reference
// over the whole document (enveloped, exclusive C14N) with a wrong digest: checked in full, 1,984 digests of 9.6 MB
// (about 8 s of CPU as reported).
func manyWholeDocumentSignatures(t *testing.T) []byte {
	t.Helper()
	pki := testpki.New()
	cert := base64.StdEncoding.EncodeToString(pki.RSA.Cert.Raw)
	zero := base64.StdEncoding.EncodeToString(make([]byte, 32))
	ref := `<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="` + xades.TransformEnveloped +
		`"/><ds:Transform Algorithm="` + xmldoc.ExcC14N + `"/></ds:Transforms><ds:DigestMethod Algorithm="` +
		"http://www.w3.org/2001/04/xmlenc#sha256" + `"/><ds:DigestValue>` + zero + `</ds:DigestValue></ds:Reference>`
	var b strings.Builder
	line := "<p>Zażółć gęślą jaźń 0123456789 abcdefghij</p>\n"
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<wniosek>")
	for b.Len() < 9_300_000 {
		b.WriteString(line)
	}
	for i := range 64 {
		fmt.Fprintf(&b, `<ds:Signature xmlns:ds="%s" Id="s%d"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="%s"/>`+
			`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>%s</ds:SignedInfo>`+
			`<ds:SignatureValue>AA==</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s`+
			`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`, xades.NSDSig, i, xmldoc.ExcC14N,
			strings.Repeat(ref, 31), cert)
	}
	b.WriteString("</wniosek>")
	if b.Len() < 9_500_000 {
		t.Fatalf("crafted %d bytes", b.Len())
	}
	return []byte(b.String())
}

// countReasons counts the reasons of every signature that contain words.
func countReasons(rep FileReport, words string) (n int) {
	for _, s := range rep.Signatures {
		for _, r := range s.Reasons {
			if strings.Contains(r, words) {
				n++
			}
		}
	}
	return n
}

// A 9.6 MB document of 64 signatures × 31 references to its whole content: the document's work budget
// (DefaultWork, 64 MiB plus 8 times its size) pays for about 15 of the 1,984 digests; the others are refused for
// the processing limit without being computed, and the file fails.
func TestAttack64SignaturesOf31ReferencesWithinTheWorkBudget(t *testing.T) {
	doc := manyWholeDocumentSignatures(t)
	pki := testpki.New()
	p := &Policy{Roots: []*x509.Certificate{pki.Root}, Intermediates: []*x509.Certificate{pki.Intermediate}}
	rep := Bytes(context.Background(), "many.xml", doc, p, Options{})
	if rep.Indication != TotalFailed {
		t.Fatalf("indication %s (error %q)", rep.Indication, rep.Error)
	}
	if len(rep.Signatures) != 64 {
		t.Fatalf("%d signatures", len(rep.Signatures))
	}
	evaluable := int(DefaultWork(int64(len(doc))) / int64(len(doc)))
	limited := countReasons(rep, "processing limit")
	t.Logf("%d bytes: %d of %d references refused for the processing limit (the budget pays for about %d)",
		len(doc), limited, 64*31, evaluable)
	if limited < 64*31-evaluable-2 {
		t.Errorf("%d references refused for the processing limit, want at least %d", limited, 64*31-evaluable-2)
	}
}

// countdown is a context that reports itself cancelled after its Err has been asked n times: a deadline that
// passes at a known point of the verification, without a clock.
type countdown struct {
	context.Context
	n atomic.Int64
}

func (c *countdown) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// The request's context ends the verification: once it is done, the references not yet checked are refused
// ("verification stopped") instead of being computed, and the file fails.
func TestVerificationStopsWithItsContext(t *testing.T) {
	doc := manyWholeDocumentSignatures(t)
	p := &Policy{}
	t.Run("already done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rep := Bytes(ctx, "many.xml", doc, p, Options{MaxWork: 1 << 40})
		if rep.Indication != TotalFailed {
			t.Errorf("indication %s", rep.Indication)
		}
		if n := countReasons(rep, "verification stopped"); n != 64*31 {
			t.Errorf("%d references stopped, want all %d", n, 64*31)
		}
	})
	t.Run("done after the first signature", func(t *testing.T) {
		ctx := &countdown{Context: context.Background()}
		ctx.n.Store(31)
		rep := Bytes(ctx, "many.xml", doc, p, Options{MaxWork: 1 << 40})
		if rep.Indication != TotalFailed {
			t.Errorf("indication %s", rep.Indication)
		}
		if n := countReasons(FileReport{Signatures: rep.Signatures[1:]}, "verification stopped"); n != 63*31 {
			t.Errorf("%d references stopped, want the %d after the first signature", n, 63*31)
		}
		if n := countReasons(FileReport{Signatures: rep.Signatures[:1]}, "verification stopped"); n != 0 {
			t.Errorf("%d references of the first signature stopped, want none", n)
		}
	})
}
