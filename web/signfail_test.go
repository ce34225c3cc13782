package web_test

import (
	"crypto"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/verify"
)

// unpluggable is a hardware key that can be taken away.
type unpluggable struct {
	crypto.Signer
	down *atomic.Bool
}

func (k unpluggable) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if k.down.Load() {
		return nil, errors.New("pkcs11: CKR_DEVICE_REMOVED")
	}
	return k.Signer.Sign(rand, digest, opts)
}

// TestAttackSealFailureOnSigningPage: the key is away when the holder confirms on the signing page. The page comes
// back as a translated 503 (Retry-After) that keeps the code form, the request stays pending, and the same code
// signs once the key is back.
func TestAttackSealFailureOnSigningPage(t *testing.T) {
	down := &atomic.Bool{}
	e := newEnv(t, func(k crypto.Signer) crypto.Signer { return unpluggable{k, down} })
	e.holder("anna", "44051401359")
	req := e.submit(`<recepta>1</recepta>`, "recepta.xml")
	c := e.newClient()
	c.login("anna", holderPassword)
	if r := c.post(req.SignURL+"/code", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("code: %d", r.StatusCode)
	}
	code := e.code("anna@example.test")
	down.Store(true)
	for _, tc := range []struct{ lang, want string }{
		{"pl", "Nic nie zostało podpisane, a Twój kod nadal działa"},
		{"en", "Nothing was signed and your code still works"},
	} {
		r := c.post(req.SignURL+"/confirm?lang="+tc.lang, url.Values{"code": {code}})
		if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: %d, Retry-After %q", tc.lang, r.StatusCode, r.Header.Get("Retry-After"))
		}
		checkPage(t, r, tc.lang)
		mustContain(t, "503 page ("+tc.lang+")", text(r.body), tc.want)
		if !strings.Contains(r.body, `action="/sign/`+req.ID+`/confirm"`) {
			t.Fatalf("%s: the 503 page has no code form to try again", tc.lang)
		}
	}
	if st, err := e.signing.Get(bg, e.client.ID, req.ID); err != nil || st.Status != "pending" {
		t.Fatalf("after the failed seal: %+v %v", st, err)
	}
	down.Store(false)
	e.clock.Add(time.Second)
	if r := c.post(req.SignURL+"/confirm", url.Values{"code": {code}}); r.StatusCode != http.StatusSeeOther ||
		r.Header.Get("Location") != e.integrator.URL+"/ok" {
		t.Fatalf("retry with the same code: %d %s", r.StatusCode, text(r.body))
	}
	signed, _, err := e.signing.SignedDocument(bg, e.client.ID, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep := verify.XML("r.xml", signed, e.policy, verify.XMLOptions{}); rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 {
		t.Fatalf("signed: %s, %d signatures", rep.Indication, len(rep.Signatures))
	}
}
