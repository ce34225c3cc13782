package web_test

import (
	"net/url"
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
	r := c.post(req.SignURL+"/confirm", url.Values{"code": {e.code("anna@example.test")}})
	got, err := e.signing.Get(bg, e.client.ID, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status == "signed" {
		t.Fatalf("a request of a disabled client was shown (%d) and signed (%d %s)", page.StatusCode, r.StatusCode,
			r.Header.Get("Location"))
	}
}
