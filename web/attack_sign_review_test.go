package web_test

import (
	"net/url"
	"strings"
	"testing"
)

func TestAttackDisabledClientRequestStillSignable(t *testing.T) {
	e := newEnv(t)
	e.holder("anna", "44051401359")
	req := e.submit(prescription, "recepta.xml")
	if err := e.profiles.DisableClient(bg, "test", e.client.ID); err != nil {
		t.Fatal(err)
	}
	c := e.newClient()
	c.login("anna", holderPassword)
	page := c.get(req.SignURL)
	c.post(req.SignURL+"/code", nil)
	// no code is sent for a disabled client's request (the review's e.code would stop the test there): a made-up
	// one stands in for it
	e.profiles.WaitForDeliveries()
	code := "000000"
	if m, ok := e.sent.Last("anna@example.test"); ok && m.Code != "" {
		code = m.Code
	}
	r := c.post(req.SignURL+"/confirm", url.Values{"code": {code}})
	got, err := e.signing.Get(bg, e.client.ID, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status == "signed" {
		t.Fatalf("a request of a disabled client was shown (%d) and signed (%d %s)", page.StatusCode, r.StatusCode,
			r.Header.Get("Location"))
	}
	if strings.Contains(page.body, `id="send-code"`) || !strings.Contains(page.body, `id="h-closed"`) {
		t.Errorf("the page of a disabled client's request offers a code instead of saying it is closed")
	}
}
