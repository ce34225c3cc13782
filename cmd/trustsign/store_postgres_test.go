package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store/postgres/pgtest"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/bbolt"
)

// tcpProxy forwards TCP connections to a target, and fails like a database that went away: cut closes every
// connection and refuses new ones; hang keeps them open but passes nothing (a network that drops packets); resume
// forwards again on the same address.
type tcpProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	cond   *sync.Cond
	hung   bool
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.listen()
	t.Cleanup(p.cut)
	return p
}

// proxied is url with its host replaced by the proxy's address.
func (p *tcpProxy) proxied(t *testing.T, dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr
	return u.String()
}

func (p *tcpProxy) listen() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go p.pipe(up, c)
			go p.pipe(c, up)
		}
	}()
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.hung {
				p.cond.Wait()
			}
			p.mu.Unlock()
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.hung = false
	p.cond.Broadcast()
}

func (p *tcpProxy) hang() {
	p.mu.Lock()
	p.hung = true
	p.mu.Unlock()
}

func (p *tcpProxy) resume() {
	p.mu.Lock()
	p.hung = false
	p.cond.Broadcast()
	closed := p.ln == nil
	p.mu.Unlock()
	if closed {
		p.listen()
	}
}

// waitStatus asks GET url until it answers want, at most 50 times a tenth of a second apart, and returns the
// last status (0: no answer).
func waitStatus(t *testing.T, hc *http.Client, u string, want int) int {
	t.Helper()
	got := 0
	for range 50 {
		res, err := hc.Get(u)
		if err == nil {
			io.Copy(io.Discard, res.Body) //nolint:errcheck
			res.Body.Close()
			got = res.StatusCode
			if got == want {
				return got
			}
		} else {
			got = 0
			t.Logf("GET %s: %v", u, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return got
}

// TestReadyzFollowsTheDatabase: on PostgreSQL, /readyz answers 503 while the database cannot be reached (connections
// cut and refused, or a network that swallows packets: the check has its own time-out, the probe does not hang)
// and 200 again, without a restart, once it can; the service then works on the same pool.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	db := pgtest.Database(t, "wire")
	u, _ := url.Parse(db)
	proxy := startProxy(t, u.Host)
	srv, _, logs := observedService(t, false, func(c *serveConfig) { c.store = proxy.proxied(t, db) })
	hc := &http.Client{Timeout: 10 * time.Second} // longer than the readiness check may take

	if st := waitStatus(t, hc, srv.URL+"/readyz", 200); st != 200 {
		t.Fatalf("readyz with the database up: %d", st)
	}
	for _, fail := range []struct {
		name  string
		fault func()
	}{
		{"connections cut and refused", proxy.cut},
		{"packets swallowed", proxy.hang},
	} {
		fail.fault()
		if st := waitStatus(t, hc, srv.URL+"/readyz", http.StatusServiceUnavailable); st != http.StatusServiceUnavailable {
			t.Errorf("%s: readyz %d, want 503", fail.name, st)
		}
		proxy.resume()
		if st := waitStatus(t, hc, srv.URL+"/readyz", 200); st != 200 {
			t.Errorf("%s, then the database back: readyz %d, want 200", fail.name, st)
		}
		if st := waitStatus(t, hc, srv.URL+"/v1/maintenance", 200); st != 200 {
			t.Errorf("%s, then the database back: a store read answers %d", fail.name, st)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"not ready"`) {
		t.Error("the cause of a 503 readiness was not logged")
	}
}

// tsBinEnv is tsBin with extra environment variables.
func tsBinEnv(t *testing.T, bin string, env []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

// TestServeOnPostgres runs the first command's walk with --store: `serve --demo` keeps its records in PostgreSQL
// (no bbolt file, no admin socket in --data); admin commands given the same store (flag or TRUSTSIGN_STORE) open
// the database themselves while the server runs, and the server sees what they wrote at once; a citizen
// registers, an officer confirms the profile, the holder signs the demo application and downloads it; admin
// backup refuses PostgreSQL pointing to pg_dump; audit verify checks the database's chain.
func TestServeOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	// a password in the URL (the test server trusts loopback and ignores it) must show in no message or log
	u, _ := url.Parse(pgtest.Database(t, "wire"))
	u.User = url.UserPassword(u.User.Username(), "Sekret-Pass")
	db := u.String()
	bin := builtBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	outbox := filepath.Join(data, "outbox")
	srv := startServer(t, bin, "--demo", "--data", data, "--store", db)
	for _, name := range []string{bbolt.FileName, adminSocketName} {
		if _, err := os.Stat(filepath.Join(data, name)); err == nil {
			t.Errorf("serve on PostgreSQL made %s in --data", name)
		}
	}
	for _, name := range []string{audit.ChainKeyFileName, profile.SecretFileName} {
		if _, err := os.Stat(filepath.Join(data, name)); err != nil {
			t.Errorf("serve on PostgreSQL: %v", err)
		}
	}
	if strings.Contains(srv.logs.String(), "starting a new one") {
		t.Error("serve on PostgreSQL warned about a new bbolt store")
	}

	const holderPW, officerPW = "Dobre-Haslo-2026", "Urzednik-Test-2026!"
	pesel := testPESEL(7)
	var reg struct{ ID, ApplicationNumber string }
	if st := callAPI(t, srv.base, "POST", "/v1/profiles", "", map[string]string{"login": "jan_pg", "password": holderPW,
		"firstName": "Jan", "surname": "Próbny", "pesel": pesel, "email": "jan@example.test", "phone": "+48500100201",
		"codeChannel": "email"}, &reg); st != http.StatusCreated || reg.ApplicationNumber == "" {
		t.Fatalf("registration: %d %+v", st, reg)
	}
	if st := callAPI(t, srv.base, "POST", "/v1/profiles/"+reg.ID+"/contact-confirmation", "",
		map[string]string{"code": outboxCode(t, outbox, "jan@example.test")}, nil); st/100 != 2 {
		t.Fatalf("contact confirmation: %d", st)
	}

	// admin commands while the server runs: --store, or TRUSTSIGN_STORE
	if code, out, errs := tsBin(t, bin, officerPW+"\n"+officerPW+"\n", "admin", "officer", "create", "--data", data, "--store", db, "--login", "urzednik_pg"); code != 0 || !strings.Contains(out, `"login":"urzednik_pg"`) {
		t.Fatalf("officer create on PostgreSQL while serving: %d %s %s", code, out, errs)
	}
	env := []string{storeEnv + "=" + db}
	code, out, errs := tsBinEnv(t, bin, env, "", "admin", "client", "create", "--data", data, "--name", "Integrator", "--scopes", "sign")
	var cl struct{ ID, Key string }
	if json.Unmarshal([]byte(out), &cl) != nil || code != 0 || cl.Key == "" {
		t.Fatalf("client create with %s while serving: %d %s %s", storeEnv, code, out, errs)
	}
	if st := callAPI(t, srv.base, "GET", "/v1/signing-requests/nosuchrequest", cl.Key, nil, nil); st != http.StatusNotFound {
		t.Errorf("the new key on the server: %d, want 404", st)
	}
	if code, out, errs := tsBinEnv(t, bin, env, "", "admin", "officer", "list", "--data", data); code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "urzednik_pg") {
		t.Errorf("officer list: %d %q %s", code, out, errs)
	}
	if code, _, errs := tsBin(t, bin, "", "admin", "client", "disable", cl.ID, "--data", data, "--store", db); code != 0 {
		t.Errorf("client disable: %d %s", code, errs)
	}
	if st := callAPI(t, srv.base, "GET", "/v1/signing-requests/nosuchrequest", cl.Key, nil, nil); st != http.StatusUnauthorized {
		t.Errorf("a key disabled by an admin command: %d, want 401", st)
	}
	// without the store setting, the bbolt store of --data is meant: refused in a PostgreSQL server's --data, even
	// by a command that would start a new store, which no server would read
	for _, args := range [][]string{{"officer", "list"}, {"client", "create", "--name", "Lost", "--scopes", "sign"}} {
		code, _, errs := tsBin(t, bin, "", append(append([]string{"admin"}, args...), "--data", data)...)
		if code != exitUsage || !strings.Contains(errs, "servers on PostgreSQL") || strings.Contains(errs, "Sekret") {
			t.Errorf("admin %s without --store in a PostgreSQL server's --data: %d %s", args[0], code, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(data, bbolt.FileName)); err == nil {
		t.Error("an admin command without --store started a bbolt store beside PostgreSQL servers")
	}
	// a directory without the servers' chain key: refused, nothing made there
	other := t.TempDir()
	if code, _, errs := tsBin(t, bin, "", "admin", "officer", "list", "--data", other, "--store", db); code != exitNoInput || !strings.Contains(errs, audit.ChainKeyFileName) {
		t.Errorf("admin with --store and a --data without the chain key: %d %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(other, profile.SecretFileName)); err == nil {
		t.Error("a refused admin command made a profile secret")
	}
	// backup is bbolt's: PostgreSQL is pointed to pg_dump
	if code, _, errs := tsBin(t, bin, "", "admin", "backup", "--data", data, "--store", db, filepath.Join(t.TempDir(), "b.db")); code != exitUsage || !strings.Contains(errs, "pg_dump") {
		t.Errorf("admin backup on PostgreSQL: %d %s", code, errs)
	}

	// the officer confirms; the holder signs the demo application and downloads it
	var sess struct{ Token string }
	if st := callAPI(t, srv.base, "POST", "/v1/sessions", "", map[string]string{"login": "urzednik_pg", "password": officerPW}, &sess); st != http.StatusCreated && st != http.StatusOK {
		t.Fatalf("officer login: %d", st)
	}
	if st := callAPI(t, srv.base, "POST", "/v1/officer/applications/"+url.PathEscape(reg.ApplicationNumber)+"/confirm", sess.Token,
		map[string]string{"documentType": "id-card", "documentNumber": "ABC123456"}, nil); st != http.StatusOK {
		t.Fatalf("officer confirm: %d", st)
	}
	b := newBrowser(t, srv.base)
	if res, body := b.post("/login", url.Values{"login": {"jan_pg"}, "password": {holderPW}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("holder login: %d %s", res.StatusCode, body)
	}
	res, _ := b.post("/demo", url.Values{"office": {"testowo"}, "matter": {"residence"}, "firstName": {"Jan"},
		"surname": {"Próbny"}, "address": {"ul. Polna 2, Testowo"}})
	signURL := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(signURL, "/sign/") {
		t.Fatalf("demo submit: %d %s", res.StatusCode, signURL)
	}
	b.post(signURL+"/code", url.Values{})
	res, _ = b.post(signURL+"/confirm", url.Values{"code": {outboxCode(t, outbox, "jan@example.test")}})
	back, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || back == nil || back.Path != "/demo/result" {
		t.Fatalf("sign confirm: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, result := b.get(back.RequestURI())
	link := regexp.MustCompile(`href="(/demo/result/[a-z2-7]+/download)"`).FindStringSubmatch(result)
	if link == nil {
		t.Fatalf("no download on the result page: %s", result)
	}
	if res, doc := b.get(link[1]); res.StatusCode != http.StatusOK || !strings.Contains(doc, pesel) {
		t.Fatalf("download: %d", res.StatusCode)
	}
	if st := callAPI(t, srv.base, "GET", "/readyz", "", nil, nil); st != http.StatusOK {
		t.Errorf("readyz: %d", st)
	}

	// the audit chain in the database verifies, while the server runs and after it stopped
	if code, out, errs := tsBin(t, bin, "", "audit", "verify", "--data", data, "--store", db); code != 0 || !strings.Contains(out, "audit log intact") {
		t.Errorf("audit verify on PostgreSQL while serving: %d %s %s", code, out, errs)
	}
	srv.stop(t)
	code, out, errs = tsBinEnv(t, bin, env, "", "audit", "verify", "--data", data, "--json")
	var rep struct {
		Intact bool
		Report struct{ Records, Seals, Pending int }
	}
	// the shutdown seal chained every event the server queued: none is left waiting
	if json.Unmarshal([]byte(out), &rep) != nil || code != 0 || !rep.Intact || rep.Report.Records < 5 || rep.Report.Seals < 1 || rep.Report.Pending != 0 {
		t.Errorf("audit verify on PostgreSQL after stop: %d %s %s", code, out, errs)
	}
	if code, out, errs := tsBin(t, bin, "", "audit", "export", "--data", data, "--store", db); code != 0 || !strings.Contains(out, `"kind":"profile.`) {
		t.Errorf("audit export on PostgreSQL: %d %.200s %s", code, out, errs)
	}
	if code, _, errs := tsBin(t, bin, "", "audit", "verify", "--data", data); code != exitUsage || !strings.Contains(errs, "servers on PostgreSQL") {
		t.Errorf("audit verify without --store in a PostgreSQL server's --data: %d %s", code, errs)
	}
	mark, _ := os.ReadFile(filepath.Join(data, storeMarkName))
	if strings.Contains(srv.logs.String(), "Sekret") || strings.Contains(string(mark), "Sekret") || !strings.Contains(string(mark), u.Host) {
		t.Errorf("the database password shows in the log or in %s (%q)", storeMarkName, mark)
	}
}

// TestStoreSetting: the one setting that chooses the store; a bad value is a usage error that shows no password.
func TestStoreSetting(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{"", "", false},
		{"bbolt", "", false},
		{"postgres://ts@db.example/trustsign?sslmode=verify-full", "postgres://ts@db.example/trustsign?sslmode=verify-full", false},
		{"postgresql://ts:pw@db.example/trustsign", "postgresql://ts:pw@db.example/trustsign", false},
		{"mysql://ts:Sekret-Pass@db.example/trustsign", "", true},
		{"host=db.example password=Sekret-Pass", "", true},
		{"./data/other.db", "", true},
	} {
		got, err := storeURLSetting("--store", tc.in)
		var ee *exitError
		switch {
		case tc.bad && (!errors.As(err, &ee) || ee.code != exitUsage):
			t.Errorf("%q: %v, want a usage error", tc.in, err)
		case tc.bad && strings.Contains(err.Error(), "Sekret"):
			t.Errorf("%q: the message shows the password: %v", tc.in, err)
		case !tc.bad && (err != nil || got != tc.want):
			t.Errorf("%q: %q %v", tc.in, got, err)
		}
	}
	if got := redactURL("postgres://ts:Sekret-Pass@db.example/x?password=Sekret-Pass"); strings.Contains(got, "Sekret") {
		t.Errorf("redactURL: %s", got)
	}
}
