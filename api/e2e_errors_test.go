package api_test

// End-to-end tests of the error cases of the API: bad input, authentication and ownership, throttling, code
// rules, concurrency, odd requests, and the OpenAPI description against the live routes.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/api"
	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/verify"
)

// TestE2EBadInput: malformed or unacceptable bodies get the documented problem, never a 500.
func TestE2EBadInput(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, _, anna := e.holder(t, "anna")
	req, err := e.rx.Submit(bg, client.Submission{Document: prescription(t), FileName: "r.xml"})
	if err != nil {
		t.Fatal(err)
	}
	key := "Bearer " + e.rxKey
	xml64 := base64.StdEncoding.EncodeToString(prescription(t))
	big := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("<a/>"), (10<<20)/4+1)) // 10 MiB + 4 bytes
	cases := []struct {
		name, method, path, ct, body, auth string
		want                               int
	}{
		{"malformed JSON", "POST", "/v1/signing-requests", "application/json", `{"document":`, key, 400},
		{"not JSON at all", "POST", "/v1/signing-requests", "application/json", `<xml/>`, key, 400},
		{"unknown field", "POST", "/v1/signing-requests", "application/json", `{"document":"` + xml64 + `","fileName":"r.xml","colour":"red"}`, key, 400},
		{"wrong type", "POST", "/v1/signing-requests", "application/json", `{"document":12}`, key, 400},
		{"two values", "POST", "/v1/signing-requests", "application/json", `{"document":"` + xml64 + `"} {}`, key, 400},
		{"empty body", "POST", "/v1/signing-requests", "application/json", ``, key, 400},
		{"form instead of JSON", "POST", "/v1/signing-requests", "application/x-www-form-urlencoded", `document=abc`, key, 415},
		{"document over 10 MB", "POST", "/v1/signing-requests", "application/json", `{"document":"` + big + `","fileName":"big.xml","format":"xades"}`, key, 413},
		{"pades for XML", "POST", "/v1/signing-requests", "application/json", `{"document":"` + xml64 + `","fileName":"r.xml","format":"pades"}`, key, 415},
		{"not base64", "POST", "/v1/signing-requests", "application/json", `{"document":"%%%","fileName":"r.xml"}`, key, 422},
		{"empty document", "POST", "/v1/signing-requests", "application/json", `{"document":"","fileName":"r.xml"}`, key, 422},
		{"unknown format", "POST", "/v1/signing-requests", "application/json", `{"document":"` + xml64 + `","format":"docx"}`, key, 422},
		{"script URL", "POST", "/v1/signing-requests", "application/json", `{"document":"` + xml64 + `","successUrl":"javascript:alert(1)"}`, key, 422},
		{"document and documents", "POST", "/v1/signing-requests", "application/json", `{"document":"` + xml64 + `","documents":[{"document":"` + xml64 + `"}]}`, key, 422},
		{"malformed login", "POST", "/v1/sessions", "application/json", `{"login":`, "", 400},
		{"unknown field in login", "POST", "/v1/sessions", "application/json", `{"login":"anna","password":"x","otp":"1"}`, "", 400},
		{"malformed registration", "POST", "/v1/profiles", "application/json", `{"login":"x",}`, "", 400},
		{"invalid registration", "POST", "/v1/profiles", "application/json", `{"login":"x"}`, "", 422},
		{"registration body over 64 KiB", "POST", "/v1/profiles", "application/json", `{"login":"` + strings.Repeat("a", 70<<10) + `"}`, "", 413},
		{"malformed lookup", "POST", "/v1/profiles/lookup", "application/json", `{"pesel":44051401359`, key, 400},
		{"malformed code", "POST", "/v1/signing-requests/" + req.ID + "/confirm", "application/json", `{"code":123456}`, "", 401},
		{"verify: unsupported type", "POST", "/v1/verify", "image/png", "\x89PNG", key, 415},
		{"verify: empty", "POST", "/v1/verify", "application/xml", "", key, 400},
		{"verify: over 10 MB", "POST", "/v1/verify", "application/xml", strings.Repeat("<a/>", (10<<20)/4+1), key, 413},
		{"verify: multipart without file", "POST", "/v1/verify", "multipart/form-data; boundary=x", "--x--\r\n", key, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, h, body := e.raw(t, c.method, c.path, c.ct, strings.NewReader(c.body), c.auth)
			wantRawProblem(t, c.name, st, h, body, c.want)
		})
	}
	// the holder's own routes with bad bodies
	tok := bearerOf(t, e, "anna")
	st, h, body := e.raw(t, "POST", "/v1/signing-requests/"+req.ID+"/confirm", "application/json", strings.NewReader(`{"code":123456}`), tok)
	wantRawProblem(t, "numeric code", st, h, body, 400)
	st, h, body = e.raw(t, "POST", "/v1/signing-requests/"+req.ID+"/confirm", "application/json", strings.NewReader(`{"code":"1","extra":true}`), tok)
	wantRawProblem(t, "unknown field in confirm", st, h, body, 400)
	_ = anna
}

// bearerOf logs login in and returns "Bearer <token>".
func bearerOf(t *testing.T, e *e2e, login string) string {
	t.Helper()
	s, err := e.anon.Login(bg, login, clienttest.Password)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + s.Token
}

// TestE2EAuthAndOwnership: each credential works only where it belongs, and nobody sees another's requests.
func TestE2EAuthAndOwnership(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, _, anna := e.holder(t, "anna")
	_, _, piotr := e.holder(t, "piotr")
	if _, err := e.Officer(bg); err != nil {
		t.Fatal(err)
	}
	officer := e.login(t, clienttest.OfficerLogin, clienttest.OfficerPassword)
	otherKey, _ := e.NewIntegrator(bg, "other", profile.ScopeSign)
	lookupKey, _ := e.NewIntegrator(bg, "lookup-only", profile.ScopeLookup)
	other, lookupOnly := e.Client(client.APIKey(otherKey)), e.Client(client.APIKey(lookupKey))

	req, err := e.rx.Submit(bg, client.Submission{Document: prescription(t), FileName: "r.xml"})
	if err != nil {
		t.Fatal(err)
	}
	sub := client.Submission{Document: prescription(t), FileName: "r.xml"}

	t.Run("integrator routes", func(t *testing.T) {
		_, err := e.anon.Submit(bg, sub)
		wantProblem(t, "no key", err, 401)
		_, err = anna.Submit(bg, sub)
		wantProblem(t, "a session token is not an API key", err, 401)
		_, err = e.Client(client.APIKey("tsk_"+strings.Repeat("A", 43))).Submit(bg, sub)
		wantProblem(t, "unknown key", err, 401)
		_, err = lookupOnly.Submit(bg, sub)
		wantProblem(t, "key without the sign scope", err, 403)
		_, err = other.Status(bg, req.ID)
		wantProblem(t, "another integrator's request", err, 404)
		_, _, err = other.SignedDocument(bg, req.ID)
		wantProblem(t, "another integrator's document", err, 404)
		_, err = e.rx.Status(bg, "nonexistent")
		wantProblem(t, "unknown request", err, 404)
	})
	t.Run("holder routes", func(t *testing.T) {
		_, err := e.anon.Preview(bg, req.ID)
		wantProblem(t, "no session", err, 401)
		_, err = e.rx.Preview(bg, req.ID)
		wantProblem(t, "an API key is not a session", err, 401)
		_, err = officer.Preview(bg, req.ID)
		wantProblem(t, "an officer is not a holder", err, 403)
		_, err = officer.Me(bg)
		wantProblem(t, "officer on /me", err, 403)
		_, err = anna.OfficerApplication(bg, "whatever")
		wantProblem(t, "a holder is not an officer", err, 403)
		if _, err := anna.RequestCode(bg, req.ID); err != nil {
			t.Fatal(err)
		}
		// once anna took it up, piotr sees nothing, even with her code
		code := e.code(t, "anna")
		_, err = piotr.Preview(bg, req.ID)
		wantProblem(t, "preview of another holder's request", err, 404)
		_, err = piotr.RequestCode(bg, req.ID)
		wantProblem(t, "code for another holder's request", err, 404)
		_, err = piotr.Confirm(bg, req.ID, code)
		wantProblem(t, "confirm another holder's request with the right code", err, 404)
		_, err = piotr.Cancel(bg, req.ID)
		wantProblem(t, "cancel another holder's request", err, 404)
		_, err = anna.Preview(bg, "nonexistent")
		wantProblem(t, "unknown request", err, 404)
		if _, err := anna.Confirm(bg, req.ID, code); err != nil {
			t.Fatalf("anna's code still works: %v", err)
		}
	})
	t.Run("logout ends the session", func(t *testing.T) {
		c := e.login(t, "piotr", clienttest.Password)
		if err := c.Logout(bg); err != nil {
			t.Fatal(err)
		}
		_, err := c.Me(bg)
		wantProblem(t, "after logout", err, 401)
		if err := c.Logout(bg); err != nil && client.StatusOf(err) != 401 {
			t.Errorf("second logout: %v", err) // idempotent, or 401: either way no session comes back
		}
		_, err = e.Client(client.SessionToken("tss_forged")).Me(bg)
		wantProblem(t, "forged token", err, 401)
	})
	t.Run("wrong password", func(t *testing.T) {
		_, err := e.anon.Login(bg, "anna", "Wrong-Password-1")
		p := wantProblem(t, "wrong password", err, 401)
		_, err = e.anon.Login(bg, "nobody-here", "Wrong-Password-1")
		q := wantProblem(t, "unknown login", err, 401)
		if p.Type != q.Type || p.Title != q.Title || p.Detail != q.Detail {
			t.Errorf("a wrong password and an unknown login can be told apart: %+v vs %+v", p, q)
		}
	})
}

// TestE2ELoginThrottle: after five wrong passwords from one address each further attempt waits (429 with
// Retry-After, also for the right password) a growing delay, not a lockout; unknown logins are throttled the same
// way.
func TestE2ELoginThrottle(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	e.holder(t, "anna")
	for _, login := range []string{"anna", "ghost"} {
		var last error
		n := 0
		for n = 1; n <= 10; n++ {
			_, last = e.anon.Login(bg, login, fmt.Sprintf("Wrong-Password-%d", n))
			if clienttest.IsProblem(last, 429) {
				break
			}
			wantProblem(t, fmt.Sprintf("%s attempt %d", login, n), last, 401)
		}
		if n != 6 {
			t.Fatalf("%s: throttled after %d wrong passwords, want after 5", login, n-1)
		}
		// growing delays, not a lock: the sixth attempt waits a second
		p := wantProblem(t, login+" throttled", last, 429)
		if p.RetryAfter != 1 {
			t.Errorf("%s: Retry-After %d s, want 1", login, p.RetryAfter)
		}
		st, h, body := e.raw(t, "POST", "/v1/sessions", "application/json", strings.NewReader(`{"login":"`+login+`","password":"`+clienttest.Password+`"}`), "")
		wantRawProblem(t, login+" right password while delayed", st, h, body, 429)
		if h.Get("Retry-After") == "" {
			t.Errorf("%s: 429 without a Retry-After header", login)
		}
	}
	e.clock.Advance(time.Second)
	if _, err := e.anon.Login(bg, "anna", clienttest.Password); err != nil {
		t.Fatalf("after the delay: %v", err)
	}
}

// TestE2ECodeRules: three wrong entries kill a code, a used code cannot be replayed, a code approves only what it
// was issued for, and guessing across codes is throttled.
func TestE2ECodeRules(t *testing.T) {
	t.Parallel()
	// the per-profile code rules under test, not the per-destination message limit (TestAttackSMSFlood)
	e := newE2E(t, func(o *clienttest.Options) { o.Messages.PerDestination, o.Messages.HolderPerDestination = 1000, 1000 })
	_, _, anna := e.holder(t, "anna")
	submit := func(t *testing.T, text string) string {
		t.Helper()
		r, err := e.rx.Submit(bg, client.Submission{Document: []byte("<recepta>" + text + "</recepta>"), FileName: "r.xml"})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	newCode := func(t *testing.T, id string) string {
		t.Helper()
		e.clock.Advance(2 * time.Second) // one code per second per purpose
		if _, err := anna.RequestCode(bg, id); err != nil {
			t.Fatal(err)
		}
		return e.code(t, "anna")
	}

	t.Run("three wrong entries kill the code", func(t *testing.T) {
		id := submit(t, "a")
		code := newCode(t, id)
		for i := 0; i < 3; i++ {
			_, err := anna.Confirm(bg, id, wrong(code))
			wantProblem(t, fmt.Sprintf("wrong entry %d", i+1), err, 422)
		}
		_, err := anna.Confirm(bg, id, code)
		wantProblem(t, "the right code after three wrong ones", err, 422)
		// a new code works
		if _, err := anna.Confirm(bg, id, newCode(t, id)); err != nil {
			t.Fatalf("a fresh code: %v", err)
		}
	})
	t.Run("replay refused", func(t *testing.T) {
		id := submit(t, "b")
		code := newCode(t, id)
		if _, err := anna.Confirm(bg, id, code); err != nil {
			t.Fatal(err)
		}
		_, err := anna.Confirm(bg, id, code)
		wantProblem(t, "replay", err, 409)
		_, err = anna.RequestCode(bg, id)
		wantProblem(t, "code for a signed request", err, 409)
	})
	t.Run("a code approves only its request", func(t *testing.T) {
		a, b := submit(t, "c"), submit(t, "d")
		codeA := newCode(t, a)
		e.clock.Advance(2 * time.Second)
		if _, err := anna.Preview(bg, b); err != nil {
			t.Fatal(err)
		}
		_, err := anna.Confirm(bg, b, codeA)
		wantProblem(t, "A's code on B (B was not taken up)", err, 422)
		codeB := newCode(t, b) // replaces A's code
		_, err = anna.Confirm(bg, a, codeB)
		wantProblem(t, "B's code on A", err, 422)
	})
	t.Run("codes asked too fast", func(t *testing.T) {
		id := submit(t, "e")
		newCode(t, id)
		_, err := anna.RequestCode(bg, id)
		p := wantProblem(t, "second code within a second", err, 429)
		if p.RetryAfter < 1 {
			t.Errorf("Retry-After %d", p.RetryAfter)
		}
	})
	t.Run("guessing is throttled", func(t *testing.T) {
		e.clock.Advance(16 * time.Minute) // a fresh window of code issues (10 per 15 minutes); failures count for 24 hours
		anna = e.login(t, "anna", clienttest.Password)
		id := submit(t, "f")
		var last error
		for guesses := 0; guesses < 40 && !clienttest.IsProblem(last, 429); {
			code := newCode(t, id)
			for i := 0; i < 3 && !clienttest.IsProblem(last, 429); i++ {
				_, last = anna.Confirm(bg, id, wrong(code))
				guesses++
			}
		}
		p := wantProblem(t, "after many wrong entries", last, 429)
		if p.RetryAfter < 3600 {
			t.Errorf("Retry-After %d s, want the failure window", p.RetryAfter)
		}
		e.clock.Advance(2 * time.Second)
		_, err := anna.RequestCode(bg, id)
		wantProblem(t, "new code while throttled", err, 429)
	})
	t.Run("contact code killed after three wrong entries", func(t *testing.T) {
		reg, err := e.anon.Register(bg, client.Application{Login: "ewa_k", Password: "Inne-Haslo-2026!", FirstName: "Ewa",
			Surname: "Kowalska", PESEL: "02270803624", Email: "ewa@example.test", Phone: "+48500100400", CodeChannel: client.Email})
		if err != nil {
			t.Fatal(err)
		}
		e.pesels = append(e.pesels, "02270803624")
		code, _ := e.LastCode("ewa@example.test")
		for i := 0; i < 3; i++ {
			wantProblem(t, "wrong contact code", e.anon.ConfirmContact(bg, reg.ID, wrong(code)), 422)
		}
		wantProblem(t, "right contact code after three wrong ones", e.anon.ConfirmContact(bg, reg.ID, code), 422)
		e.clock.Advance(2 * time.Second)
		if err := e.anon.ResendContactCode(bg, reg.ID); err != nil {
			t.Fatal(err)
		}
		code, _ = e.LastCode("ewa@example.test")
		if err := e.anon.ConfirmContact(bg, reg.ID, code); err != nil {
			t.Fatalf("resent contact code: %v", err)
		}
	})
}

// TestE2EConcurrentConfirm: many confirmations with the right code at once: exactly one 200, one signature.
func TestE2EConcurrentConfirm(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, _, anna := e.holder(t, "anna")
	for round := 0; round < 3; round++ {
		req, err := e.rx.Submit(bg, client.Submission{Document: []byte(fmt.Sprintf("<recepta>%d</recepta>", round)), FileName: "r.xml"})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Second)
		if _, err := anna.RequestCode(bg, req.ID); err != nil {
			t.Fatal(err)
		}
		code := e.code(t, "anna")
		const n = 12
		var wg sync.WaitGroup
		statuses := make([]int, n)
		start := make(chan struct{})
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := anna.Confirm(bg, req.ID, code)
				if err == nil {
					statuses[i] = 200
				} else {
					statuses[i] = client.StatusOf(err)
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
				t.Errorf("round %d: a concurrent confirmation answered %d", round, s)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d confirmations succeeded (%v), want exactly 1", round, ok, statuses)
		}
		signed, _, err := e.rx.SignedDocument(bg, req.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep := verify.XML("r.xml", signed, e.Policy, verify.XMLOptions{}); rep.Indication != verify.TotalPassed || len(rep.Signatures) != 1 {
			t.Fatalf("round %d: the document is not signed exactly once: %s, %d signatures", round, rep.Indication, len(rep.Signatures))
		}
	}
}

// TestE2ENoPanics: a table of odd methods, paths, bodies and credentials over every route: never a 5xx, and every
// error is problem+json.
func TestE2ENoPanics(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, _, _ = e.holder(t, "anna")
	req, err := e.rx.Submit(bg, client.Submission{Document: prescription(t), FileName: "r.xml"})
	if err != nil {
		t.Fatal(err)
	}
	holder := bearerOf(t, e, "anna")
	paths := []string{"/", "/v1", "/v1/", "/healthz/", "/v1/profiles/me/", "/v1/signing-requests/", "/v1//signing-requests",
		"/v1/signing-requests/" + req.ID + "/document/extra", "/v1/signing-requests/%00", "/v1/signing-requests/..%2F..%2Fetc%2Fpasswd",
		"/v1/signing-requests/" + strings.Repeat("a", 8000), "/v1/signing-requests/%ZZ", "/v1/signing-requests/żółć/preview",
		"/v1/profiles/lookup?pesel=1", "/v1/verify?name=../../etc/passwd", "/openapi.json?x=%00", "/sign/" + req.ID}
	for _, r := range openAPIRoutes(t, e) {
		p := r.path
		for _, seg := range []string{"{id}", "{applicationNumber}"} {
			p = strings.ReplaceAll(p, seg, req.ID)
		}
		paths = append(paths, p, strings.ReplaceAll(r.path, "{", "%7B"), strings.NewReplacer("{id}", "'%20OR%201=1--", "{applicationNumber}", "%2e%2e").Replace(r.path))
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "../../x.xml")
	fw.Write(prescription(t))
	mw.Close()
	bodies := []struct{ ct, body string }{
		{"", ""}, {"application/json", "null"}, {"application/json", "[]"}, {"application/json", `"x"`}, {"application/json", "1e999"},
		{"application/json", `{"document":null,"documents":[{}]}`}, {"application/json", `{"documents":[{"documents":[{"document":"QQ=="}]}]}`},
		{"application/json", `{"documents":[]}`}, {"application/json", `{"code":"` + strings.Repeat("9", 5000) + `"}`},
		{"application/json", strings.Repeat("[", 100000)}, {"application/json", "\xff\xfe{\"login\":\"\xc3\x28\"}"},
		{"application/json", `{"login":"anna","password":null}`}, {"application/json", `{"pesel":"4405140135\u0039"}`},
		{"application/json", `{"documentType":"passport","documentNumber":"` + strings.Repeat("Z", 3000) + `"}`},
		{"application/json; charset=utf-16", "{}"}, {"application/xml", "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"},
		{"application/pdf", "%PDF-1.7\n" + strings.Repeat("0 0 obj\n", 1000)}, {mw.FormDataContentType(), mp.String()},
		{"multipart/form-data; boundary=", "--\r\n"}, {"text/plain;;;", "x"},
	}
	auths := []string{"", "Bearer " + e.rxKey, holder, "Bearer", "Basic YW5uYTp4", "Bearer tsk_" + strings.Repeat("x", 200)}
	methods := []string{"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"}
	hc := e.HTTP.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	n := 0
	check := func(method, path, ct, body, auth string) {
		t.Helper()
		n++
		rq, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
		if err != nil {
			return // a URL the client cannot even send
		}
		if ct != "" {
			rq.Header.Set("Content-Type", ct)
		}
		if auth != "" {
			rq.Header.Set("Authorization", auth)
		}
		resp, err := hc.Do(rq)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s %.80s (%s, auth %.12q): %d %s", method, path, ct, auth, resp.StatusCode, data)
		}
		if resp.StatusCode >= 400 && method != "HEAD" && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s %.80s: %d with content type %q", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	for _, p := range paths {
		for _, m := range methods {
			check(m, p, "", "", "")
		}
		for _, b := range bodies {
			for _, a := range auths {
				check("POST", p, b.ct, b.body, a)
			}
		}
	}
	t.Logf("%d odd requests", n)
}

type documentedRoute struct {
	method, path string
	op           map[string]any
}

// openAPIRoutes reads the live OpenAPI description.
func openAPIRoutes(t *testing.T, e *e2e) []documentedRoute {
	t.Helper()
	raw, err := e.anon.OpenAPI(bg)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json: %v %q", err, doc.OpenAPI)
	}
	var out []documentedRoute
	for p, ops := range doc.Paths {
		for m, op := range ops {
			out = append(out, documentedRoute{strings.ToUpper(m), p, op})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	if len(out) < 25 {
		t.Fatalf("only %d routes described", len(out))
	}
	return out
}

// TestE2EOpenAPIRoutesAnswer: every route of the OpenAPI description, called with the credentials and a body of
// the shape it documents and plausible path values, answers something other than 404/405, and no 5xx.
func TestE2EOpenAPIRoutesAnswer(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	_, pesel, _ := e.holder(t, "anna")
	e.holder(t, "rita") // revokes her profile below
	if _, err := e.Officer(bg); err != nil {
		t.Fatal(err)
	}
	officer := "Bearer " + loginToken(t, e, clienttest.OfficerLogin, clienttest.OfficerPassword)
	req, err := e.rx.Submit(bg, client.Submission{Document: prescription(t), FileName: "r.xml"})
	if err != nil {
		t.Fatal(err)
	}
	pending, err := e.anon.Register(bg, client.Application{Login: "jan_w", Password: "Inne-Haslo-2026!", FirstName: "Jan",
		Surname: "Wnioskujacy", PESEL: "02270803624", Email: "jan@example.test", Phone: "+48500100500", CodeChannel: client.Email})
	if err != nil {
		t.Fatal(err)
	}
	e.pesels = append(e.pesels, "02270803624")
	contactCode, _ := e.LastCode("jan@example.test")

	bodies := map[string]string{
		"Registration": `{"login":"nowy_1","password":"Nowe-Haslo-2026!","firstName":"Ola","surname":"Nowa","pesel":"` + clienttest.PESEL(4242) +
			`","email":"ola@example.test","phone":"+48500100600","codeChannel":"email"}`,
		"Code":                 `{"code":"` + contactCode + `"}`,
		"Login":                `{"login":"anna","password":"` + clienttest.Password + `"}`,
		"PasswordResetRequest": `{"login":"anna"}`,
		"PasswordReset":        `{"login":"anna","code":"000000","password":"Nowe-Haslo-2027"}`,
		"IdentityDocument":     `{"documentType":"id-card","documentNumber":"ABC123456"}`,
		"IdPAssertion":         `{"assertion":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}`,
		"Lookup":               `{"pesel":"` + pesel + `"}`,
		"SigningSubmission":    `{"document":"` + base64.StdEncoding.EncodeToString(prescription(t)) + `","fileName":"r.xml","format":"auto"}`,
	}
	e.pesels = append(e.pesels, clienttest.PESEL(4242))
	params := func(path string) string {
		r := strings.NewReplacer("{applicationNumber}", pending.ApplicationNumber)
		if strings.HasPrefix(path, "/v1/profiles/{id}") {
			return strings.ReplaceAll(r.Replace(path), "{id}", pending.ID)
		}
		return strings.ReplaceAll(r.Replace(path), "{id}", req.ID)
	}
	for _, r := range openAPIRoutes(t, e) {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			e.clock.Advance(2 * time.Second) // past the one-code-per-second rule
			auth := ""
			if sec, _ := r.op["security"].([]any); len(sec) > 0 {
				s, _ := sec[0].(map[string]any)
				switch {
				case s["apiKey"] != nil:
					auth = "Bearer " + e.rxKey
				case r.op["x-role"] == "officer":
					auth = officer
				case strings.HasSuffix(r.path, "/revocation"):
					auth = "Bearer " + loginToken(t, e, "rita", clienttest.Password)
				default:
					auth = "Bearer " + loginToken(t, e, "anna", clienttest.Password)
				}
			}
			ct, body := "", ""
			if rb, ok := r.op["requestBody"].(map[string]any); ok {
				content, _ := rb["content"].(map[string]any)
				switch {
				case content["application/json"] != nil:
					ref := fmt.Sprint(content["application/json"].(map[string]any)["schema"].(map[string]any)["$ref"])
					name := ref[strings.LastIndexByte(ref, '/')+1:]
					b, ok := bodies[name]
					if !ok {
						t.Fatalf("no plausible body for schema %s: add one", name)
					}
					ct, body = "application/json", b
				case content["application/xml"] != nil:
					ct, body = "application/xml", string(prescription(t))
				}
			} else if r.method == "POST" {
				ct, body = "application/json", "{}"
			}
			var hdr map[string]string
			if r.method == "GET" && strings.Contains(r.path, "/confirmations/qualified/") {
				hdr = map[string]string{api.ApplicationSecretHeader: pending.ApplicationSecret}
			}
			st, _, data := e.rawWith(t, r.method, params(r.path), ct, strings.NewReader(body), auth, hdr)
			t.Logf("%s %s: %d", r.method, r.path, st)
			if st == 404 || st == 405 || st >= 500 {
				t.Errorf("%s %s answered %d: %s", r.method, r.path, st, data)
			}
			// the answer is one the description lists (or its default problem)
			if resps, _ := r.op["responses"].(map[string]any); resps[fmt.Sprint(st)] == nil && st < 400 {
				t.Errorf("%s %s answered %d, which its description does not list", r.method, r.path, st)
			}
		})
	}
}

func loginToken(t *testing.T, e *e2e, login, password string) string {
	t.Helper()
	s, err := e.anon.Login(bg, login, password)
	if err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	return s.Token
}

// TestE2EPublicVerifyRateLimit: unauthenticated verification is limited per client address, and a client cannot
// choose its address with X-Forwarded-For or X-Real-IP; integrators with the verify scope are not limited.
func TestE2EPublicVerifyRateLimit(t *testing.T) {
	t.Parallel()
	e := newE2E(t, func(o *clienttest.Options) { o.PublicVerifyPerMinute = 3 })
	statuses := []int{}
	for i := 0; i < 6; i++ {
		req, _ := http.NewRequest("POST", e.URL+"/v1/verify", strings.NewReader("<a/>"))
		req.Header.Set("Content-Type", "application/xml")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		req.Header.Set("X-Real-IP", fmt.Sprintf("198.51.100.%d", i))
		resp, err := e.HTTP.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if fmt.Sprint(statuses) != "[200 200 200 429 429 429]" {
		t.Errorf("statuses %v: the limit was dodged with forwarding headers", statuses)
	}
	for i := 0; i < 5; i++ {
		if _, err := e.rx.Verify(bg, []byte("<a/>")); err != nil {
			t.Fatalf("an integrator with the verify scope is limited: %v", err)
		}
	}
	e.clock.Advance(time.Minute)
	if _, err := e.anon.Verify(bg, []byte("<a/>")); err != nil {
		t.Errorf("after a minute: %v", err)
	}
}

// Password spraying: many logins, one wrong password each, from one address. The per-login throttle never trips;
// the per-address limit does.
func TestE2ELoginSprayThrottledPerAddress(t *testing.T) {
	t.Parallel()
	e := newE2E(t, func(o *clienttest.Options) { o.Sessions.LoginFailuresPerAddress = 8 })
	e.holder(t, "anna")
	var last error
	for n := 1; n <= 9; n++ {
		_, last = e.anon.Login(bg, fmt.Sprintf("spray%d", n), "Wrong-Password-2026")
		if n <= 8 {
			wantProblem(t, fmt.Sprintf("attempt %d", n), last, 401)
		}
	}
	if p := wantProblem(t, "ninth failed login from one address", last, 429); p.RetryAfter < 1 {
		t.Errorf("Retry-After %d", p.RetryAfter)
	}
	e.clock.Advance(16 * time.Minute)
	if _, err := e.anon.Login(bg, "anna", clienttest.Password); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}
