package api_test

// End-to-end tests over real HTTP: the real service (bbolt store, profile service, signing flow, REST API) runs
// behind a loopback httptest server (package client/clienttest wires it as `trustsign serve` does) and is driven
// with the Go client, or with raw requests where the client would refuse to send something malformed.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/internal/interoptest"
	"github.com/trustsign/trustsign/pdf/pdftest"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/verify"
)

var bg = context.Background()

// settableClock starts at the wall clock (the test PKI is valid from an hour ago) and moves only when told.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settableClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// e2e is one running service with an integrator (scopes sign, lookup, verify) and the service's log.
type e2e struct {
	*clienttest.Service
	clock  *settableClock
	logs   *clienttest.Buffer
	rx     *client.Client // integrator "e-recepta"
	rxKey  string
	anon   *client.Client
	mu     sync.Mutex
	pesels []string // every PESEL used: none may reach the log
}

// newE2E starts a service. When the test ends it checks the log: no PESEL, no panic, no 500.
func newE2E(t *testing.T, mutate ...func(*clienttest.Options)) *e2e {
	t.Helper()
	e := &e2e{clock: &settableClock{t: time.Now().Truncate(time.Second)}, logs: &clienttest.Buffer{}}
	o := clienttest.Options{Dir: t.TempDir(), Clock: e.clock, Log: e.logs}
	for _, m := range mutate {
		m(&o)
	}
	svc, err := clienttest.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	e.Service = svc
	t.Cleanup(svc.Close)
	key, err := svc.NewIntegrator(bg, "e-recepta", profile.ScopeSign, profile.ScopeLookup, profile.ScopeVerify)
	if err != nil {
		t.Fatal(err)
	}
	e.rx, e.rxKey = svc.Client(client.APIKey(key)), key
	e.anon = svc.Client()
	t.Cleanup(func() { e.checkLog(t) })
	return e
}

// checkLog reads every JSON log line: each is valid JSON, no PESEL appears anywhere, no request was answered 500
// and nothing panicked.
func (e *e2e) checkLog(t *testing.T) {
	t.Helper()
	logs := e.logs.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.pesels {
		if strings.Contains(logs, p) {
			t.Errorf("the PESEL %s is in the service log", p)
		}
	}
	requests := 0
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if rec["msg"] == "panic" {
			t.Errorf("a handler panicked: %v", rec["panic"])
		}
		if rec["msg"] == "request" {
			requests++
			if st, _ := rec["status"].(float64); st >= 500 && st != 503 {
				t.Errorf("%v %v answered %v: %v", rec["method"], rec["route"], st, rec["error"])
			}
			if id, _ := rec["requestId"].(string); id == "" {
				t.Errorf("access log line without requestId: %s", line)
			}
		}
	}
	if requests == 0 && !t.Failed() {
		t.Error("no access log lines captured")
	}
}

var holderSeq atomic.Int64

// holder makes an active profile (through the domain service, not timed here) and logs it in over HTTP.
func (e *e2e) holder(t *testing.T, login string) (id, pesel string, c *client.Client) {
	t.Helper()
	pesel = clienttest.PESEL(int(holderSeq.Add(1)) * 7)
	e.mu.Lock()
	e.pesels = append(e.pesels, pesel)
	e.mu.Unlock()
	id, err := e.NewHolder(bg, clienttest.Holder{Login: login, PESEL: pesel})
	if err != nil {
		t.Fatal(err)
	}
	return id, pesel, e.login(t, login, clienttest.Password)
}

func (e *e2e) login(t *testing.T, login, password string) *client.Client {
	t.Helper()
	s, err := e.anon.Login(bg, login, password)
	if err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	if s.Token == "" {
		t.Fatal("login: no token")
	}
	return e.Client(client.SessionToken(s.Token))
}

// code is the newest code sent to login@example.test.
func (e *e2e) code(t *testing.T, login string) string {
	t.Helper()
	c, ok := e.LastCode(login + "@example.test")
	if !ok {
		t.Fatalf("no code for %s", login)
	}
	return c
}

// raw sends a request the client would not make, and returns the status, headers and body.
func (e *e2e) raw(t *testing.T, method, path, contentType string, body io.Reader, auth string) (int, http.Header, []byte) {
	t.Helper()
	return e.rawWith(t, method, path, contentType, body, auth, nil)
}

// rawWith is raw with extra request headers.
func (e *e2e) rawWith(t *testing.T, method, path, contentType string, body io.Reader, auth string, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(bg, method, e.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// wantProblem checks that err is a problem+json *client.Problem with the status.
func wantProblem(t *testing.T, what string, err error, status int) *client.Problem {
	t.Helper()
	var p *client.Problem
	if !errors.As(err, &p) {
		t.Fatalf("%s: error %v, want a problem with status %d", what, err, status)
	}
	if p.Status != status {
		t.Fatalf("%s: status %d (%s: %s), want %d", what, p.Status, p.Title, p.Detail, status)
	}
	if !p.IsProblemJSON() || !strings.HasPrefix(p.Type, "https://") || p.Title == "" || p.RequestID == "" {
		t.Fatalf("%s: not a complete problem+json: %+v", what, p)
	}
	return p
}

// wantRawProblem checks a raw answer is problem+json with the status.
func wantRawProblem(t *testing.T, what string, status int, h http.Header, body []byte, want int) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, status, want, body)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("%s: content type %q, want problem+json", what, ct)
	}
	var p client.Problem
	if err := json.Unmarshal(body, &p); err != nil || p.Status != want || p.Title == "" {
		t.Fatalf("%s: problem body %s", what, body)
	}
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const rxSuccess, rxFailure = "https://rx.example.test/ok", "https://rx.example.test/fail"

// prescription is the acceptance test's e-prescription when the shared folder is there, a small one otherwise.
func prescription(t *testing.T) []byte {
	t.Helper()
	if shared, err := sharedSample(); err == nil {
		return shared
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><rx:Recepta xmlns:rx="urn:example:erecepta:1"><rx:Lek>Amoxicillinum 500 mg</rx:Lek></rx:Recepta>`)
}

func sharedSample() ([]byte, error) {
	dir := os.Getenv(interoptest.SharedEnv)
	if dir == "" {
		dir = filepath.Join("..", "..", "shared")
	}
	return os.ReadFile(filepath.Join(dir, "acceptance", "lib", "samples", "prescription.xml"))
}

// TestE2EPrescriptionFlow: an integrator submits an e-prescription, the doctor (a profile holder who registered
// over the API and was confirmed by an officer) previews it, asks for a code and confirms, the integrator fetches
// the signed XML, and trustsign's verifier and xmlsec1 accept it with the profile identity inside.
func TestE2EPrescriptionFlow(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	const pesel = "44051401359"
	e.pesels = append(e.pesels, pesel)

	// the doctor applies, confirms the phone with the SMS code, and an officer confirms the application
	reg, err := e.anon.Register(bg, client.Application{Login: "dr_nowak", Password: "Zaufany-Haslo-2026", FirstName: "Jan",
		SecondName: "Maria", Surname: "Nowak", PESEL: pesel, Email: "nowak@example.test", Phone: "+48500100200", CodeChannel: client.SMS})
	if err != nil {
		t.Fatal(err)
	}
	if reg.ID == "" || reg.ApplicationNumber == "" || reg.Status != "pending" {
		t.Fatalf("registration %+v", reg)
	}
	sms, ok := e.LastCode("+48500100200")
	if !ok {
		t.Fatal("no SMS code")
	}
	if err := e.anon.ConfirmContact(bg, reg.ID, sms); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Officer(bg); err != nil {
		t.Fatal(err)
	}
	officer := e.login(t, clienttest.OfficerLogin, clienttest.OfficerPassword)
	app, err := officer.OfficerApplication(bg, reg.ApplicationNumber)
	if err != nil || app.Surname != "Nowak" || app.Status != "pending" || !app.ContactConfirmed {
		t.Fatalf("officer sees %+v, %v", app, err)
	}
	if p, err := officer.OfficerConfirm(bg, reg.ApplicationNumber, client.IdentityDocument{DocumentType: client.IDCard, DocumentNumber: "ABC123456"}); err != nil || p.Status != "active" {
		t.Fatalf("officer confirm: %+v %v", p, err)
	}
	doctor := e.login(t, "dr_nowak", "Zaufany-Haslo-2026")
	me, err := doctor.Me(bg)
	if err != nil || me.ID != reg.ID || me.Status != "active" || me.Confirmation == nil || me.Confirmation.Method != "in-person" {
		t.Fatalf("me: %+v %v", me, err)
	}

	// the integrator submits
	doc := prescription(t)
	req, err := e.rx.Submit(bg, client.Submission{Document: doc, FileName: "recepta.xml", Format: client.XAdES,
		SuccessURL: rxSuccess, FailureURL: rxFailure, AdditionalInfo: "e-recepta"})
	if err != nil {
		t.Fatal(err)
	}
	if req.ID == "" || req.Status != client.StatusPending || req.Format != client.XAdES || !strings.HasSuffix(req.SignURL, "/sign/"+req.ID) ||
		req.Size != int64(len(doc)) || req.Phrase == "" || !req.ExpiresAt.After(e.clock.Now()) {
		t.Fatalf("submitted %+v", req)
	}
	_, _, err = e.rx.SignedDocument(bg, req.ID)
	wantProblem(t, "document before confirmation", err, 409)

	// the doctor previews, asks for the code, enters a wrong one, then the right one
	pv, err := doctor.Preview(bg, req.ID)
	if err != nil || len(pv.Documents) != 1 || !bytes.Equal(pv.Documents[0].Document, doc) || pv.Phrase != req.Phrase {
		t.Fatalf("preview: %v %+v", err, pv)
	}
	info, err := doctor.RequestCode(bg, req.ID)
	if err != nil || info.Channel != client.SMS || info.Phrase != pv.Phrase {
		t.Fatalf("code: %+v %v", info, err)
	}
	code, _ := e.LastCode("+48500100200")
	m, _ := e.Sent.Last("+48500100200")
	if !strings.Contains(strings.ToLower(m.Body), pv.Phrase) {
		t.Errorf("the SMS does not show the verification phrase %q: %q", pv.Phrase, m.Body)
	}
	_, err = doctor.Confirm(bg, req.ID, wrong(code))
	wantProblem(t, "wrong code", err, 422)
	res, err := doctor.Confirm(bg, req.ID, code)
	if err != nil || res.Status != "signed" || res.RedirectURL != rxSuccess || len(res.Requests) != 1 || res.Requests[0].SignedAt == nil {
		t.Fatalf("confirm: %+v %v", res, err)
	}
	_, err = doctor.Confirm(bg, req.ID, code)
	wantProblem(t, "code replay", err, 409)

	// the integrator fetches the signed e-prescription
	st, err := e.rx.Status(bg, req.ID)
	if err != nil || st.Status != client.StatusSigned {
		t.Fatalf("status: %+v %v", st, err)
	}
	signed, ct, err := e.rx.SignedDocument(bg, req.ID)
	if err != nil || ct != "application/xml" {
		t.Fatalf("fetch: %v %q", err, ct)
	}
	rep := verify.XML("recepta.xml", signed, e.Policy, verify.XMLOptions{})
	// the status names the seal that signed: the signer certificate the verifier found in the signature
	if sg := rep.Signatures[0].Signer; st.Seal == nil || sg == nil || st.Seal.Subject != sg.Subject || !strings.HasPrefix(st.Seal.Fingerprint, "sha256:") {
		t.Errorf("status names the seal %+v, the signature's signer is %+v", st.Seal, sg)
	}
	if rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 {
		t.Fatalf("verify.XML: %s %+v", rep.Indication, rep)
	}
	tp := rep.Signatures[0].TrustedProfile
	if tp == nil || tp.PESEL != pesel || tp.ProfileID != reg.ID || tp.Login != "dr_nowak" || tp.FirstName != "Jan" ||
		tp.SecondName != "Maria" || tp.Surname != "Nowak" {
		t.Fatalf("trusted profile in the signature: %+v", tp)
	}
	if !bytes.Contains(signed, []byte("Amoxicillinum")) {
		t.Error("the signed document lost its content")
	}
	// the service's own verification endpoint gives the same verdict
	vr, err := e.rx.Verify(bg, signed)
	if err != nil || vr.Indication != client.TotalPassed || vr.Signatures[0].TrustedProfile.PESEL != pesel ||
		vr.Signatures[0].Checks["signatureValue"] != "passed" {
		t.Fatalf("POST /v1/verify: %v %+v", err, vr)
	}
	// tampering is caught (200 with a failing report)
	vr, err = e.anon.Verify(bg, bytes.Replace(signed, []byte("500 mg"), []byte("900 mg"), 1))
	if err != nil || vr.Indication != client.TotalFailed {
		t.Fatalf("tampered: %v %s", err, vr.Indication)
	}
	// an independent verifier, trusting the test root through the seal chain
	file := writeTemp(t, "recepta-signed.xml", signed)
	root := interoptest.WritePEM(t, "", "root.pem", e.PKI.Root)
	chain := interoptest.WritePEM(t, "", "chain.pem", e.Seal.Chain...)
	if ok, out := interoptest.Verify(t, "xmlsec", file, root, chain); !ok {
		t.Fatalf("xmlsec1 refuses the signed e-prescription:\n%s", out)
	}

	// another integrator never sees the request
	key2, err := e.NewIntegrator(bg, "other", profile.ScopeSign)
	if err != nil {
		t.Fatal(err)
	}
	other := e.Client(client.APIKey(key2))
	_, err = other.Status(bg, req.ID)
	wantProblem(t, "foreign status", err, 404)
	_, _, err = other.SignedDocument(bg, req.ID)
	wantProblem(t, "foreign document", err, 404)
}

// wrong returns a code that differs from c in its last digit.
func wrong(c string) string {
	b := []byte(c)
	b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1)%10
	return string(b)
}

// TestE2ECitizenPDF: a citizen's application (a PDF form) is submitted as auto, signed in PAdES with the profile
// identity, and verified; a cancel sends the holder to the failure URL.
func TestE2ECitizenPDF(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, pesel, anna := e.holder(t, "anna")
	pdfDoc := pdftest.Build(pdftest.Simple(2, "Wniosek o wydanie dowodu osobistego"), 1, pdftest.Options{})

	req, err := e.rx.Submit(bg, client.Submission{Document: pdfDoc, FileName: "wniosek.pdf", SuccessURL: rxSuccess, FailureURL: rxFailure})
	if err != nil {
		t.Fatal(err)
	}
	if req.Format != client.PAdES || req.ContentType != "application/pdf" {
		t.Fatalf("auto format: %+v", req)
	}
	if _, err := anna.RequestCode(bg, req.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := anna.Confirm(bg, req.ID, e.code(t, "anna")); err != nil {
		t.Fatal(err)
	}
	signed, ct, err := e.rx.SignedDocument(bg, req.ID)
	if err != nil || ct != "application/pdf" || !bytes.HasPrefix(signed, pdfDoc) {
		t.Fatalf("fetch: %v %q (an incremental update must keep the original bytes)", err, ct)
	}
	rep := verify.PDF(bg, bytes.NewReader(signed), int64(len(signed)), e.Policy)
	if rep.Indication != verify.TotalPassed || rep.Signatures[0].TrustedProfile == nil ||
		rep.Signatures[0].TrustedProfile.PESEL != pesel || rep.Signatures[0].TrustedProfile.Login != "anna" {
		// the real service's /Reason form carries names, PESEL and login (its "PZ ID"), not the profile number
		t.Fatalf("verify.PDF: %+v", rep)
	}
	if vr, err := e.rx.Verify(bg, signed); err != nil || vr.Indication != client.TotalPassed || vr.Format == "" {
		t.Fatalf("POST /v1/verify (PDF): %v %+v", err, vr)
	}

	// a second application is refused by the holder: the integrator learns it from the status
	req2, err := e.rx.Submit(bg, client.Submission{Document: pdfDoc, FileName: "wniosek-2.pdf", Format: client.PAdES, FailureURL: rxFailure})
	if err != nil {
		t.Fatal(err)
	}
	res, err := anna.Cancel(bg, req2.ID)
	if err != nil || res.Status != client.StatusCancelled || res.RedirectURL != rxFailure {
		t.Fatalf("cancel: %+v %v", res, err)
	}
	if st, _ := e.rx.Status(bg, req2.ID); st.Status != client.StatusCancelled || st.FailureReason == "" {
		t.Fatalf("status after cancel: %+v", st)
	}
	_, err = anna.RequestCode(bg, req2.ID)
	wantProblem(t, "code for a cancelled request", err, 409)
}

// TestE2EBatch: one code confirms several documents of one integrator request, and only all of them together.
func TestE2EBatch(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, pesel, anna := e.holder(t, "anna")
	docs := []client.BatchDocument{
		{Document: pdftest.Build(pdftest.Simple(1, "Zgoda"), 1, pdftest.Options{}), FileName: "zgoda.pdf"},
		{Document: prescription(t), FileName: "recepta.xml"},
		{Document: []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3}, FileName: "skan.png"},
	}
	b, err := e.rx.SubmitBatch(bg, client.BatchSubmission{Documents: docs, SuccessURL: rxSuccess})
	if err != nil {
		t.Fatal(err)
	}
	if b.BatchID == "" || len(b.Requests) != 3 || b.ID != b.Requests[0].ID {
		t.Fatalf("batch %+v", b)
	}
	for _, r := range b.Requests {
		if r.BatchID != b.BatchID {
			t.Fatalf("request %s outside the batch", r.ID)
		}
	}
	// the holder sees every document of the batch from any of its requests
	pv, err := anna.Preview(bg, b.Requests[2].ID)
	if err != nil || len(pv.Documents) != 3 || pv.Phrase != b.Phrase {
		t.Fatalf("preview: %v %d documents, phrase %q vs %q", err, len(pv.Documents), pv.Phrase, b.Phrase)
	}
	if _, err := anna.RequestCode(bg, b.Requests[1].ID); err != nil {
		t.Fatal(err)
	}
	res, err := anna.Confirm(bg, b.Requests[0].ID, e.code(t, "anna"))
	if err != nil || len(res.Requests) != 3 {
		t.Fatalf("one code for three documents: %v %+v", err, res)
	}
	wantFormat := []string{"pades", "xades", "xades"}
	for i, r := range b.Requests {
		signed, _, err := e.rx.SignedDocument(bg, r.ID)
		if err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		vr, err := e.rx.Verify(bg, signed)
		if err != nil || vr.Indication != client.TotalPassed || vr.Signatures[0].TrustedProfile == nil ||
			vr.Signatures[0].TrustedProfile.PESEL != pesel {
			t.Fatalf("document %d (%s): %v %+v", i, wantFormat[i], err, vr)
		}
		if string(res.Requests[i].Format) != wantFormat[i] {
			t.Errorf("document %d signed as %s, want %s", i, res.Requests[i].Format, wantFormat[i])
		}
	}

	// a batch is all or nothing for the holder: empty, oversize and mixed shapes are refused
	_, err = e.rx.SubmitBatch(bg, client.BatchSubmission{})
	wantProblem(t, "empty batch", err, 422)
	many := make([]client.BatchDocument, 21)
	for i := range many {
		many[i] = client.BatchDocument{Document: []byte(fmt.Sprintf("<d>%d</d>", i)), FileName: "d.xml"}
	}
	_, err = e.rx.SubmitBatch(bg, client.BatchSubmission{Documents: many})
	wantProblem(t, "21 documents", err, 422)
	_, err = e.rx.SubmitBatch(bg, client.BatchSubmission{Documents: []client.BatchDocument{docs[1], {Document: []byte("<a/>"), Format: client.PAdES}}})
	wantProblem(t, "pades for XML inside a batch", err, 415)
}

// TestE2ELookup: lookup by PESEL in the body; 404 for none, 403 without the scope, 401 without a key; the PESEL
// never reaches a log line (checked for every test by newE2E, and here also when a client puts it in the URL).
func TestE2ELookup(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	id, pesel, _ := e.holder(t, "anna")

	r, err := e.rx.Lookup(bg, pesel)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "active" || r.ProfileID != id || r.Login != "anna" || r.PESEL != pesel || r.Email != "anna@example.test" ||
		r.ConfirmationMethod != "in-person" || r.Expires == nil || r.Created.IsZero() {
		t.Fatalf("lookup %+v", r)
	}
	unknown := clienttest.PESEL(999_999)
	e.pesels = append(e.pesels, unknown)
	_, err = e.rx.Lookup(bg, unknown)
	wantProblem(t, "unknown PESEL", err, 404)
	_, err = e.rx.Lookup(bg, "12345678901")
	wantProblem(t, "invalid PESEL", err, 422)

	signOnly, err := e.NewIntegrator(bg, "sign-only", profile.ScopeSign)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Client(client.APIKey(signOnly)).Lookup(bg, pesel)
	wantProblem(t, "without the lookup scope", err, 403)
	_, err = e.anon.Lookup(bg, pesel)
	wantProblem(t, "without a key", err, 401)
	_, err = e.Client(client.APIKey("tsk_not-a-real-key")).Lookup(bg, pesel)
	wantProblem(t, "with an unknown key", err, 401)
	holderToken := e.login(t, "anna", clienttest.Password)
	_, err = holderToken.Lookup(bg, pesel)
	wantProblem(t, "with a session token instead of a key", err, 401)

	// a careless client puts the PESEL in the query string and in odd places: still not logged
	e.raw(t, "POST", "/v1/profiles/lookup?pesel="+pesel, "application/json", strings.NewReader(`{"pesel":"`+pesel+`"}`), "")
	e.raw(t, "GET", "/v1/profiles/lookup/"+pesel, "", nil, "")
	e.raw(t, "POST", "/v1/profiles/lookup", "application/json", strings.NewReader(`{"pesel":`+pesel+`}`), "Bearer "+e.rxKey)
	e.raw(t, "POST", "/v1/profiles/lookup", "application/json", strings.NewReader(`{"pesel":"`+pesel+`","x":1}`), "Bearer "+e.rxKey)

	// a revoked profile is reported as revoked
	if err := holderToken.Revoke(bg); err != nil {
		t.Fatal(err)
	}
	if r, err := e.rx.Lookup(bg, pesel); err != nil || r.Status != "revoked" {
		t.Fatalf("after revocation: %+v %v", r, err)
	}
	if !strings.Contains(e.logs.String(), `"route":"/v1/profiles/lookup"`) {
		t.Error("lookups are not in the access log")
	}
	// every lookup is audited with the client, found or not, the PESEL only as a keyed hash
	var exported bytes.Buffer
	if _, err := audit.Export(bg, e.DB, &exported); err != nil {
		t.Fatal(err)
	}
	lookups := 0
	for _, line := range strings.Split(exported.String(), "\n") {
		if strings.Contains(line, `"lookup.pesel"`) {
			lookups++
			if !strings.Contains(line, `"client:`) || !strings.Contains(line, "peselHash") {
				t.Errorf("lookup audit record without the client or the hash: %s", line)
			}
		}
	}
	if lookups < 3 {
		t.Errorf("%d lookups audited, want 3 (found, not found, revoked)", lookups)
	}
	if strings.Contains(exported.String(), pesel) || strings.Contains(exported.String(), unknown) {
		t.Error("a PESEL is in the audit log in clear")
	}
}

// TestE2EMaintenance: during a window, login and signing answer 503 problem+json with Retry-After; verification,
// lookup, health and the window list keep working.
func TestE2EMaintenance(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, pesel, anna := e.holder(t, "anna")
	req, err := e.rx.Submit(bg, client.Submission{Document: prescription(t), FileName: "recepta.xml"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anna.RequestCode(bg, req.ID); err != nil {
		t.Fatal(err)
	}
	code := e.code(t, "anna")
	pdfReq, err := e.rx.Submit(bg, client.Submission{Document: pdftest.Build(pdftest.Simple(1, "x"), 1, pdftest.Options{}), FileName: "a.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if err := e.AddMaintenanceWindow(bg, "upgrade-1", now.Add(-time.Minute), now.Add(10*time.Minute), "Aktualizacja systemu"); err != nil {
		t.Fatal(err)
	}
	if err := e.AddMaintenanceWindow(bg, "upgrade-2", now.Add(48*time.Hour), now.Add(50*time.Hour), "Kolejna aktualizacja"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second) // past the API's two-second window cache

	blocked := map[string]func() error{
		"login": func() error { _, err := e.anon.Login(bg, "anna", clienttest.Password); return err },
		"submit": func() error {
			_, err := e.rx.Submit(bg, client.Submission{Document: prescription(t), FileName: "r.xml"})
			return err
		},
		"preview":      func() error { _, err := anna.Preview(bg, pdfReq.ID); return err },
		"request code": func() error { _, err := anna.RequestCode(bg, pdfReq.ID); return err },
		"confirm":      func() error { _, err := anna.Confirm(bg, req.ID, code); return err },
		"extension":    func() error { _, err := anna.ExtensionCode(bg); return err },
	}
	for name, call := range blocked {
		p := wantProblem(t, name+" during maintenance", call(), 503)
		if p.RetryAfter < 500 || p.RetryAfter > 601 || p.Slug() != "maintenance" {
			t.Errorf("%s: Retry-After %d s (want about 600), type %s", name, p.RetryAfter, p.Type)
		}
	}
	// the Retry-After header itself
	st, h, body := e.raw(t, "POST", "/v1/sessions", "application/json", strings.NewReader(`{"login":"anna","password":"x"}`), "")
	wantRawProblem(t, "login during maintenance", st, h, body, 503)
	if h.Get("Retry-After") == "" {
		t.Error("503 without a Retry-After header")
	}

	// what keeps working
	if err := e.anon.Healthz(bg); err != nil {
		t.Errorf("healthz: %v", err)
	}
	if err := e.anon.Readyz(bg); err != nil {
		t.Errorf("readyz: %v", err)
	}
	if r, err := e.rx.Lookup(bg, pesel); err != nil || r.Status != "active" {
		t.Errorf("lookup during maintenance: %v", err)
	}
	if _, err := e.rx.Status(bg, req.ID); err != nil {
		t.Errorf("status during maintenance: %v", err)
	}
	if vr, err := e.rx.Verify(bg, prescription(t)); err != nil || vr.Indication == "" {
		t.Errorf("verify during maintenance: %v", err)
	}
	if _, err := anna.Me(bg); err != nil {
		t.Errorf("a holder already logged in still reads the profile: %v", err)
	}
	ms, err := e.anon.Maintenance(bg)
	if err != nil || len(ms.Windows) != 2 {
		t.Fatalf("GET /v1/maintenance: %v %+v", err, ms)
	}
	if w := ms.Windows[0]; w.ID != "upgrade-1" || !w.Active || w.Message != "Aktualizacja systemu" || ms.Windows[1].Active {
		t.Errorf("windows %+v", ms.Windows)
	}

	// after the window, the code is still good and signing goes on
	e.clock.Advance(11 * time.Minute)
	if _, err := e.anon.Login(bg, "anna", clienttest.Password); err != nil {
		t.Errorf("login after the window: %v", err)
	}
	anna = e.login(t, "anna", clienttest.Password)
	if _, err := anna.RequestCode(bg, req.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := anna.Confirm(bg, req.ID, e.code(t, "anna")); err != nil {
		t.Errorf("confirm after the window: %v", err)
	}
	if ms, _ := e.anon.Maintenance(bg); len(ms.Windows) != 1 || ms.Windows[0].ID != "upgrade-2" {
		t.Errorf("windows after the first ended: %+v", ms.Windows)
	}
}

// TestE2EWebhook: a request submitted with webhook set is announced to the integrator's success URL when signed
// and to its failure URL when refused; the notification says only what happened.
func TestE2EWebhook(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, _, anna := e.holder(t, "anna")
	got := make(chan struct {
		path string
		n    client.WebhookNotification
	}, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n client.WebhookNotification
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil || r.Method != "POST" || r.Header.Get("X-Trustsign-Request") != n.ID {
			t.Errorf("webhook %s %s: %v", r.Method, r.URL.Path, err)
		}
		got <- struct {
			path string
			n    client.WebhookNotification
		}{r.URL.Path, n}
	}))
	defer hook.Close()
	wait := func(t *testing.T) (string, client.WebhookNotification) {
		t.Helper()
		select {
		case g := <-got:
			return g.path, g.n
		case <-time.After(10 * time.Second):
			t.Fatal("no webhook within 10 s")
		}
		return "", client.WebhookNotification{}
	}
	sub := client.Submission{Document: prescription(t), FileName: "recepta.xml", SuccessURL: hook.URL + "/ok", FailureURL: hook.URL + "/fail", Webhook: true}
	req, err := e.rx.Submit(bg, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anna.RequestCode(bg, req.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := anna.Confirm(bg, req.ID, e.code(t, "anna")); err != nil {
		t.Fatal(err)
	}
	if path, n := wait(t); path != "/ok" || n.ID != req.ID || n.Status != client.StatusSigned || n.SignedAt == nil {
		t.Fatalf("webhook to %s: %+v", path, n)
	}
	req2, err := e.rx.Submit(bg, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anna.Cancel(bg, req2.ID); err != nil {
		t.Fatal(err)
	}
	if path, n := wait(t); path != "/fail" || n.ID != req2.ID || n.Status != client.StatusCancelled {
		t.Fatalf("webhook to %s: %+v", path, n)
	}
	// without webhook set, nothing is sent; webhook without both URLs is refused
	sub.Webhook = false
	if _, err := e.rx.Submit(bg, sub); err != nil {
		t.Fatal(err)
	}
	_, err = e.rx.Submit(bg, client.Submission{Document: prescription(t), FileName: "r.xml", SuccessURL: hook.URL + "/ok", Webhook: true})
	wantProblem(t, "webhook without a failure URL", err, 422)
	select {
	case g := <-got:
		t.Errorf("unexpected webhook %+v", g)
	case <-time.After(200 * time.Millisecond):
	}
}

// TestE2EUnsignableDocuments: what cannot be signed is refused when it is submitted, not after the holder spent a
// code on it; text that only looks like XML is signed as a file; and a batch is signed all together or not at all.
func TestE2EUnsignableDocuments(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, _, anna := e.holder(t, "anna")
	for _, f := range []client.Format{client.Auto, client.PAdES} {
		_, err := e.rx.Submit(bg, client.Submission{Document: []byte("%PDF-1.7 not really"), FileName: "x.pdf", Format: f})
		wantProblem(t, "unreadable PDF as "+string(f), err, 422)
	}
	// malformed XML, and XML with a DTD, are signed as files in the container
	for _, doc := range []string{"<recepta>unclosed", "<!DOCTYPE r [<!ENTITY a 'b'>]><r>&a;</r>"} {
		req, err := e.rx.Submit(bg, client.Submission{Document: []byte(doc), FileName: "recepta.xml", Format: client.XAdES})
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		e.clock.Advance(2 * time.Second)
		if _, err := anna.RequestCode(bg, req.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := anna.Confirm(bg, req.ID, e.code(t, "anna")); err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		signed, _, _ := e.rx.SignedDocument(bg, req.ID)
		rep := verify.XML("r.xml", signed, e.Policy, verify.XMLOptions{})
		if rep.Indication != verify.TotalPassed || rep.Signatures[0].WrappedFile == nil || rep.Signatures[0].WrappedFile.Name != "recepta.xml" {
			t.Fatalf("%q: %s %+v", doc, rep.Indication, rep.Signatures)
		}
	}
	// a PDF that reads but cannot take a signature (no page) is refused with its batch when submitted, before any
	// holder is asked for a code (the hostile PDFs are TestUnsealablePDFRefusedAtSubmission's)
	noPages := pdftest.Build(map[int]pdftest.Object{1: pdftest.Dict("<< /Type /Catalog /Pages 2 0 R >>"),
		2: pdftest.Dict("<< /Type /Pages /Kids [] /Count 0 >>")}, 1, pdftest.Options{})
	_, err := e.rx.SubmitBatch(bg, client.BatchSubmission{Documents: []client.BatchDocument{
		{Document: prescription(t), FileName: "a.xml"}, {Document: noPages, FileName: "b.pdf"}, {Document: []byte("<c/>"), FileName: "c.xml"}}})
	wantProblem(t, "batch with an unsignable document", err, 422)
}
