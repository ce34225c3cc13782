package tsa_test

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/tsa"
)

// FuzzVerify: no token, however malformed, panics the verifier or passes without a valid signature.
func FuzzVerify(f *testing.F) {
	p := testpki.New()
	srv := httptest.NewServer(mustHandler(f, p, testpki.TSAGood))
	defer srv.Close()
	im := imprint("fuzz")
	tok, err := (&tsa.Client{URLs: []string{srv.URL}}).Stamp(context.Background(), im)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok.DER)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	roots, inter := p.Roots(), p.Intermediates()
	f.Fuzz(func(t *testing.T, der []byte) {
		got, err := tsa.Verify(der, im, crypto.SHA256, tsa.VerifyOptions{Roots: roots, Intermediates: inter})
		if err == nil && (got == nil || got.Certificate == nil) {
			t.Fatal("accepted without a certificate")
		}
		_, _ = tsa.VerifyData(der, []byte("data"), tsa.VerifyOptions{Roots: roots, Intermediates: inter})
	})
}

func mustHandler(tb testing.TB, p *testpki.PKI, m testpki.TSAMode) http.Handler {
	h, err := p.TSAHandler(m)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// TestAttackOversizedAnswer: a TSA streaming an endless body is cut at MaxResponseSize.
func TestAttackOversizedAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/timestamp-reply")
		chunk := make([]byte, 64<<10)
		for i := 0; i < 64; i++ { // 4 MiB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := &tsa.Client{URLs: []string{srv.URL}, Timeout: 5 * time.Second}
	if _, err := c.Stamp(context.Background(), imprint("big")); err == nil || !errors.Is(err, tsa.ErrUnavailable) {
		t.Fatalf("oversized answer: %v", err)
	}
}
