package web_test

import (
	"bytes"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/web"
)

// The pages mounted beside an API: every path that is not the API's goes to the pages.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "web-example")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "trustsign.db"), bbolt.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	profiles, err := profile.New(db, &notify.Recorder{}, profile.Options{Secret: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		log.Fatal(err)
	}
	seal, err := signer.NewSeal(testpki.New().EC256.Key, testpki.New().EC256.Chain)
	if err != nil {
		log.Fatal(err)
	}
	pages, err := web.New(web.Config{Profiles: profiles, Signing: signing.New(db, profiles, seal, signing.Options{}),
		VerifyPolicy: &verify.Policy{}, Secure: false, DemoClientID: "demo"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", http.NotFoundHandler()) // the REST API would go here
	mux.Handle("/", pages)

	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, req)
	fmt.Println(w.Code, w.Header().Get("Content-Language"), strings.Contains(w.Body.String(), `<a class="button" href="/register">`))
	// Output: 200 en true
}

// A verification report as one self-contained HTML file.
func ExampleRenderReport() {
	rep := verify.XML("note.xml", []byte(`<note>not signed</note>`), &verify.Policy{}, verify.XMLOptions{})
	var b bytes.Buffer
	if err := web.RenderReport(&b, rep, "pl"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(rep.Indication, strings.Contains(b.String(), "Nie znaleziono podpisu"), strings.Contains(b.String(), "<link"))
	// Output: NO_SIGNATURE_FOUND true false
}

// The reports of several files in one document, as `trustsign verify --report` writes it.
func ExampleRenderReports() {
	a := verify.XML("a.xml", []byte(`<a/>`), &verify.Policy{}, verify.XMLOptions{})
	b := verify.XML("b.txt", []byte(`plain text`), &verify.Policy{}, verify.XMLOptions{})
	var out bytes.Buffer
	if err := web.RenderReports(&out, []verify.FileReport{a, b}, "en"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Count(out.String(), `<section class="file"`), strings.Contains(out.String(), "Signature invalid"))
	// Output: 2 true
}
