package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if builtPath != "" {
		os.RemoveAll(filepath.Dir(builtPath)) //nolint:errcheck
	}
	os.Exit(code)
}

var (
	builtOnce sync.Once
	builtPath string
	builtErr  error
)

// builtBinary builds trustsign once for the package's tests that run it as a separate process.
func builtBinary(t *testing.T) string {
	t.Helper()
	builtOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trustsign-bin-")
		if err != nil {
			builtErr = err
			return
		}
		builtPath = filepath.Join(dir, "trustsign")
		goCmd := "go"
		if root := runtime.GOROOT(); root != "" {
			goCmd = filepath.Join(root, "bin", "go") // the toolchain that built this test
		}
		out, err := exec.Command(goCmd, "build", "-o", builtPath, ".").CombinedOutput()
		if err != nil {
			builtErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if builtErr != nil {
		t.Fatal(builtErr)
	}
	return builtPath
}

// server is `trustsign serve` running as a process.
type server struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
}

func startServer(t *testing.T, bin string, args ...string) *server {
	t.Helper()
	s := &server{logs: &syncBuffer{}}
	s.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() }) //nolint:errcheck
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.logs.Write(append(sc.Bytes(), '\n')) //nolint:errcheck
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "trustsign serving" {
				addr <- rec.Addr
			}
		}
	}()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start: %s", s.logs.String())
	}
	return s
}

// stop sends SIGTERM and wants exit 0.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("server exit: %v: %s", err, s.logs.String())
	}
}

// tsBin runs the built binary with stdin and returns its exit code and output.
func tsBin(t *testing.T, bin, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// outboxCode is the code in the newest outbox message to a recipient.
func outboxCode(t *testing.T, dir, to string) string {
	t.Helper()
	re := regexp.MustCompile(`Code: *([0-9]{6,})`)
	for range 100 {
		names, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
		sort.Sort(sort.Reverse(sort.StringSlice(names)))
		for _, n := range names {
			b, _ := os.ReadFile(n)
			if m := re.FindSubmatch(b); m != nil && bytes.Contains(b, []byte(to)) {
				return string(m[1])
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no code for %s in %s", to, dir)
	return ""
}

// browser is an HTTP client with cookies that does not follow redirects and posts forms with the CSRF token.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, hc: &http.Client{Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if b.cookie("ts_csrf") == "" {
		b.get("/")
	}
	form.Set("csrf", b.cookie("ts_csrf"))
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// callAPI calls the REST API with a JSON body and an optional bearer token, and decodes the JSON answer into out.
func callAPI(t *testing.T, base, method, path, token string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil {
		json.Unmarshal(raw, out) //nolint:errcheck
	}
	return res.StatusCode
}

// TestFirstCommandDemoWalk is the README's first command end to end, against the built binary over real HTTP:
// `serve --demo` on a new data directory; a citizen registers and confirms the contact with the code from the
// outbox; an officer is created with an admin command while the server runs (over the admin socket) and confirms
// the profile; the holder files the demo application, signs it with the code from the outbox and downloads the
// signed document. Along the way: admin client list/disable on the running server (the key then gets 401), a
// forged demo cookie gets no document, and after SIGTERM the admin commands open the store themselves again.
func TestFirstCommandDemoWalk(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := builtBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	outbox := filepath.Join(data, "outbox")
	srv := startServer(t, bin, "--demo", "--data", data)
	if !strings.Contains(srv.logs.String(), "starting a new one") {
		t.Errorf("serve did not say it started a new store: %s", srv.logs.String())
	}
	if fi, err := os.Stat(filepath.Join(data, adminSocketName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin socket: %v %v", fi, err)
	}

	// the citizen registers (API) and confirms the contact with the code from the outbox
	const holderPW, officerPW = "Dobre-Haslo-2026", "Urzednik-Test-2026!"
	pesel := "44051401359" // the specification's invented sample
	var reg struct{ ID, ApplicationNumber string }
	if st := callAPI(t, srv.base, "POST", "/v1/profiles", "", map[string]string{"login": "anna_demo", "password": holderPW,
		"firstName": "Anna", "surname": "Testowa", "pesel": pesel, "email": "anna@example.test", "phone": "+48500100200",
		"codeChannel": "email"}, &reg); st != http.StatusCreated || reg.ApplicationNumber == "" {
		t.Fatalf("registration: %d %+v", st, reg)
	}
	if st := callAPI(t, srv.base, "POST", "/v1/profiles/"+reg.ID+"/contact-confirmation", "",
		map[string]string{"code": outboxCode(t, outbox, "anna@example.test")}, nil); st/100 != 2 {
		t.Fatalf("contact confirmation: %d", st)
	}

	// admin commands on the running server
	if code, out, errs := tsBin(t, bin, officerPW+"\n"+officerPW+"\n", "admin", "officer", "create", "--data", data, "--login", "urzednik1"); code != 0 || !strings.Contains(out, `"login":"urzednik1"`) {
		t.Fatalf("officer create while serving: %d %s %s", code, out, errs)
	}
	if code, out, _ := tsBin(t, bin, "", "admin", "officer", "list", "--data", data); code != 0 || strings.Count(out, "\n") != 1 {
		t.Errorf("officer list while serving: %d %q", code, out)
	}
	code, out, errs := tsBin(t, bin, "", "admin", "client", "create", "--data", data, "--name", "Leaky", "--scopes", "sign")
	var cl struct{ ID, Key string }
	if json.Unmarshal([]byte(out), &cl) != nil || code != 0 || cl.Key == "" {
		t.Fatalf("client create while serving: %d %s %s", code, out, errs)
	}
	if st := callAPI(t, srv.base, "GET", "/v1/signing-requests/nosuchrequest", cl.Key, nil, nil); st != http.StatusNotFound {
		t.Errorf("the new key: %d", st)
	}
	if code, out, _ := tsBin(t, bin, "", "admin", "client", "list", "--data", data); code != 0 || !strings.Contains(out, `"id":"`+cl.ID+`"`) || !strings.Contains(out, `"disabled":false`) {
		t.Errorf("client list: %d %s", code, out)
	}
	if code, _, errs := tsBin(t, bin, "", "admin", "client", "disable", cl.ID, "--data", data); code != 0 {
		t.Fatalf("client disable: %d %s", code, errs)
	}
	if st := callAPI(t, srv.base, "GET", "/v1/signing-requests/nosuchrequest", cl.Key, nil, nil); st != http.StatusUnauthorized {
		t.Errorf("a disabled key: %d, want 401", st)
	}
	if code, _, errs := tsBin(t, bin, "", "admin", "client", "disable", "nosuchclient", "--data", data); code != exitFailed || !strings.Contains(errs, "no client") {
		t.Errorf("disable an unknown client: %d %s", code, errs)
	}

	// the officer confirms the profile
	var sess struct{ Token string }
	if st := callAPI(t, srv.base, "POST", "/v1/sessions", "", map[string]string{"login": "urzednik1", "password": officerPW}, &sess); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("officer login: %d", st)
	}
	if st := callAPI(t, srv.base, "POST", "/v1/officer/applications/"+url.PathEscape(reg.ApplicationNumber)+"/confirm", sess.Token,
		map[string]string{"documentType": "id-card", "documentNumber": "ABC123456"}, nil); st != http.StatusOK {
		t.Fatalf("officer confirm: %d", st)
	}

	// the holder files the demo application, signs it and downloads the signed document
	b := newBrowser(t, srv.base)
	if res, body := b.post("/login", url.Values{"login": {"anna_demo"}, "password": {holderPW}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("holder login: %d %s", res.StatusCode, body)
	}
	res, _ := b.post("/demo", url.Values{"office": {"testowo"}, "matter": {"residence"}, "firstName": {"Anna"},
		"surname": {"Testowa"}, "address": {"ul. Polna 1, Testowo"}})
	signURL := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(signURL, "/sign/") {
		t.Fatalf("demo submit: %d %s", res.StatusCode, signURL)
	}
	if _, page := b.get(signURL); !strings.Contains(page, `id="sign-demo"`) {
		t.Error("the signing page does not mark the demo request")
	}
	b.post(signURL+"/code", url.Values{})
	res, _ = b.post(signURL+"/confirm", url.Values{"code": {outboxCode(t, outbox, "anna@example.test")}})
	back, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || back == nil || back.Path != "/demo/result" {
		t.Fatalf("sign confirm: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, result := b.get(back.RequestURI())
	link := regexp.MustCompile(`href="(/demo/result/[a-z2-7]+/download)"`).FindStringSubmatch(result)
	if link == nil {
		t.Fatalf("no download on the result page: %s", result)
	}
	res, doc := b.get(link[1])
	if res.StatusCode != http.StatusOK || !strings.Contains(doc, pesel) || !strings.Contains(doc, `demonstracja="true"`) {
		t.Fatalf("download: %d", res.StatusCode)
	}
	// the attack on the old cookie: another client with "anything.<request id>"
	req, _ := http.NewRequest("GET", srv.base+link[1], nil)
	req.AddCookie(&http.Cookie{Name: "ts_demo", Value: "anything." + strings.Split(link[1], "/")[3]})
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("download with a forged cookie: %v %v", res.StatusCode, err)
	} else {
		res.Body.Close()
	}

	// stopped: the socket is gone and admin commands open the store themselves
	srv.stop(t)
	if _, err := os.Stat(filepath.Join(data, adminSocketName)); err == nil {
		t.Error("the admin socket outlived the server")
	}
	if code, out, errs := tsBin(t, bin, "", "admin", "officer", "list", "--data", data); code != 0 || !strings.Contains(out, "urzednik1") {
		t.Errorf("officer list after stop: %d %s %s", code, out, errs)
	}
}

// TestServeWithoutDemo: the demo is off unless --demo is given.
func TestServeWithoutDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := startServer(t, builtBinary(t), "--data", filepath.Join(t.TempDir(), "data"))
	for _, p := range []string{"/demo", "/demo/result?case=x", "/demo/result/x/download"} {
		res, err := http.Get(srv.base + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s without --demo: %d", p, res.StatusCode)
		}
	}
	res, err := http.Post(srv.base+"/demo", "application/x-www-form-urlencoded", strings.NewReader("office=testowo"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound && res.StatusCode != http.StatusForbidden {
		t.Errorf("POST /demo without --demo: %d", res.StatusCode)
	}
	srv.stop(t)
}

// TestServeWithoutAdminSocket: a data path too long for a Unix socket address does not stop the service; admin
// commands then say the store is busy.
func TestServeWithoutAdminSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := builtBinary(t)
	data := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
	srv := startServer(t, bin, "--data", data)
	if !strings.Contains(srv.logs.String(), "no admin socket") {
		t.Errorf("no warning about the missing admin socket: %s", srv.logs.String())
	}
	if res, err := http.Get(srv.base + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if code, _, errs := tsBin(t, bin, "", "admin", "officer", "list", "--data", data); code != exitFailed || !strings.Contains(errs, "in use by another trustsign process") {
		t.Errorf("admin without a socket: %d %s", code, errs)
	}
	srv.stop(t)
}
