package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/tsa"
)

// TestTimeStampShownOnPages: a document sealed at B-T shows its level and its signature time-stamp (kind, the
// TSA's time in Europe/Warsaw, the TSA, the verdict) on the holder's signed-document page and on the verify page,
// in Polish and in English.
func TestTimeStampShownOnPages(t *testing.T) {
	pki := testpki.New()
	tsaURL := pki.TSA(t, testpki.TSAGood)
	e := newEnvWith(t, func(o *signing.Options) {
		o.Level = signing.LevelBT
		o.TimeStamp = (&tsa.Client{URLs: []string{tsaURL}, Timeout: 5 * time.Second}).Stamp
	})
	e.policy.Intermediates = pki.EC256.Chain
	e.holder("anna", "44051401359")
	req := e.submit(prescription, "recepta.xml")
	c := e.newClient()
	c.login("anna", holderPassword)
	c.post(req.SignURL+"/code", nil)
	if r := c.post(req.SignURL+"/confirm", url.Values{"code": {e.code("anna@example.test")}}); r.StatusCode >= 400 {
		t.Fatalf("confirm: %d %s", r.StatusCode, text(r.body))
	}
	st, err := e.signing.Get(bg, e.client.ID, req.ID)
	if err != nil || len(st.TimeStamps) != 1 {
		t.Fatalf("request %+v %v", st, err)
	}
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	at := st.TimeStamps[0].Time.In(warsaw)

	// the holder's page of the signed document
	page := text(c.get(req.SignURL).body)
	mustContain(t, "signed-document page (pl)", page, "Poziom podpisu", "B-T: podpis ze znacznikiem czasu",
		"znacznik czasu podpisu: "+at.Format("02.01.2006, 15:04:05 MST"), "Trustsign Test TSA", "sprawdzony przy podpisywaniu")
	page = text(c.get(req.SignURL + "?lang=en").body)
	mustContain(t, "signed-document page (en)", page, "Signature level", "B-T: a time-stamped signature",
		"signature time-stamp: "+at.Format("2 Jan 2006, 15:04:05 MST"), "Trustsign Test TSA", "checked when signed")

	// the verify page
	signed, _, err := e.signing.SignedDocument(bg, e.client.ID, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	anon := e.newClient()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", anon.csrf())
	fw, _ := mw.CreateFormFile("file", "recepta.podpisana.xml")
	fw.Write(signed)
	mw.Close()
	r, _ := http.NewRequest("POST", anon.base+"/verify", &b)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	res := anon.do(r)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d", res.StatusCode)
	}
	page = text(res.body)
	mustContain(t, "verify page", page, "XAdES-B-T", "Poziom podpisu", "B-T: podpis ze znacznikiem czasu", "Znaczniki czasu",
		"znacznik czasu podpisu", at.Format("02.01.2006, 15:04:05 MST"), "Trustsign Test TSA", "Podpis prawidłowy (TOTAL_PASSED)")
	if strings.Count(res.body, `class="timestamp"`) != 1 {
		t.Errorf("%d time-stamp rows, want 1", strings.Count(res.body, `class="timestamp"`))
	}
}
