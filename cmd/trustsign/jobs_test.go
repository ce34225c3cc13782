package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/postgres"
	"github.com/trustsign/trustsign/store/postgres/pgtest"
)

type jobClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *jobClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *jobClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// jobLoop is one node's periodic loop, driven by the test's ticks.
type jobLoop struct {
	name    string
	ticks   chan time.Time
	stepped chan bool
	cancel  context.CancelFunc
	done    chan struct{}
}

func startJobLoop(t *testing.T, p *periodic) *jobLoop {
	t.Helper()
	l := &jobLoop{name: p.holder, ticks: make(chan time.Time), stepped: make(chan bool), done: make(chan struct{})}
	p.stepped = l.stepped
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go func() { p.run(ctx, l.ticks); close(l.done) }()
	<-l.stepped // the look at start
	t.Cleanup(l.stop)
	return l
}

func (l *jobLoop) stop() {
	l.cancel()
	<-l.done
}

// tick advances the clock a quarter interval and lets every loop take its look at once; it returns who ran.
func tick(clock *jobClock, every time.Duration, loops ...*jobLoop) []string {
	clock.Advance(every / 4)
	for _, l := range loops {
		l.ticks <- clock.Now()
	}
	var ran []string
	for _, l := range loops {
		if <-l.stepped {
			ran = append(ran, l.name)
		}
	}
	return ran
}

// TestAuditSealOncePerIntervalAcrossNodes: two nodes on one PostgreSQL run serve's audit-seal loop at once; the
// chain gets one interval seal per interval, not one per node. When the node sealing dies (its loop stops without
// releasing the lease), the other takes the seals over within 1.5 intervals and keeps one per interval; the chain
// verifies as fresh. A loop that stops cleanly releases its lease.
func TestAuditSealOncePerIntervalAcrossNodes(t *testing.T) {
	url := pgtest.Database(t, "jobs")
	keyFile := filepath.Join(t.TempDir(), audit.ChainKeyFileName)
	ctx := context.Background()
	open := func() *postgres.DB {
		db, err := postgres.Open(ctx, url, postgres.Options{ChainKeyFile: keyFile})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	clock := &jobClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sealer := &audit.Sealer{Signer: key, Clock: clock}
	if err := dbA.AppendAudit(ctx, audit.Event{Time: clock.Now(), Kind: "test.start", Actor: "system", Subject: "jobs"}); err != nil {
		t.Fatal(err)
	}
	const every = time.Minute
	logger := slog.New(slog.DiscardHandler)
	a := startJobLoop(t, auditSeals(dbA.DB, sealer, "nodeA", every, clock.Now, logger))
	b := startJobLoop(t, auditSeals(dbB.DB, sealer, "nodeB", every, clock.Now, logger))
	intervalSeals := func() int {
		t.Helper()
		var out strings.Builder
		if _, err := audit.Export(ctx, dbB, &out); err != nil {
			t.Fatal(err)
		}
		return strings.Count(out.String(), `"reason":"interval"`)
	}

	const intervals = 10
	var holder string
	for range 4 * intervals {
		ran := tick(clock, every, a, b)
		if len(ran) > 1 {
			t.Fatalf("both nodes sealed at one look: %v", ran)
		}
		if len(ran) == 1 {
			holder = ran[0]
		}
	}
	if n := intervalSeals(); n != intervals {
		t.Fatalf("%d interval seals from two nodes over %d intervals, want one per interval", n, intervals)
	}

	// the holder dies: its loop takes no more looks and keeps its lease until it runs out
	survivor := b
	if holder == "nodeB" {
		survivor = a
	}
	lastRun := 0
	first := 0
	for i := 1; i <= 4*intervals; i++ {
		if ran := tick(clock, every, survivor); len(ran) == 1 {
			if first == 0 {
				first = i
			}
			if lastRun != 0 && i-lastRun < 4 {
				t.Fatalf("the survivor sealed %d quarter intervals after its last seal", i-lastRun)
			}
			lastRun = i
		}
	}
	if first == 0 || first > 6 {
		t.Fatalf("the survivor took the seals over %d quarter intervals after the holder's last seal, want within 1.5 intervals", first)
	}
	if n := intervalSeals(); n < 2*intervals-2 || n > 2*intervals {
		t.Errorf("%d interval seals over %d intervals with one node lost", n, 2*intervals)
	}
	if _, err := audit.VerifyStore(ctx, dbA, audit.VerifyOptions{SealInterval: every, Now: clock.Now()}); err != nil {
		t.Errorf("the chain sealed by the lease holders does not verify as fresh: %v", err)
	}

	// a clean stop gives the lease up
	survivor.stop()
	if err := dbA.View(ctx, func(tx *store.Tx) error {
		_, err := tx.Lease("audit-seal")
		return err
	}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the lease after a clean stop: %v", err)
	}
}

// TestServeWebhookSurvivesRestart: `serve` records a webhook with the request's end and posts it from its
// deliverer, with the delivery and request ids in headers; a delivery the integrator refused (503) when the
// server stopped is still owed after the restart, and the new process delivers it with the same delivery id.
func TestServeWebhookSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	type post struct{ path, delivery, request, status string }
	got := make(chan post, 10)
	var refuse atomic.Bool
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct{ ID, Status string }
		json.NewDecoder(r.Body).Decode(&p) //nolint:errcheck
		if p.ID != r.Header.Get("X-Trustsign-Request") {
			t.Errorf("the body's id %s, the header's %s", p.ID, r.Header.Get("X-Trustsign-Request"))
		}
		if refuse.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		got <- post{r.URL.Path, r.Header.Get("X-Trustsign-Delivery"), p.ID, p.Status}
	}))
	defer rx.Close()
	wait := func() post {
		t.Helper()
		select {
		case p := <-got:
			return p
		case <-time.After(60 * time.Second):
			t.Fatal("no webhook arrived")
		}
		return post{}
	}

	bin := builtBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	outbox := filepath.Join(data, "outbox")
	srv := startServer(t, bin, "--data", data, "--webhook-allow-private")
	const holderPW, officerPW = "Dobre-Haslo-2026", "Urzednik-Test-2026!"
	var reg struct{ ID, ApplicationNumber string }
	if st := callAPI(t, srv.base, "POST", "/v1/profiles", "", map[string]string{"login": "ewa_hook", "password": holderPW,
		"firstName": "Ewa", "surname": "Próbna", "pesel": testPESEL(11), "email": "ewa@example.test", "phone": "+48500100202",
		"codeChannel": "email"}, &reg); st != http.StatusCreated {
		t.Fatalf("registration: %d", st)
	}
	if st := callAPI(t, srv.base, "POST", "/v1/profiles/"+reg.ID+"/contact-confirmation", "",
		map[string]string{"code": outboxCode(t, outbox, "ewa@example.test")}, nil); st/100 != 2 {
		t.Fatalf("contact confirmation: %d", st)
	}
	if code, _, errs := tsBin(t, bin, officerPW+"\n"+officerPW+"\n", "admin", "officer", "create", "--data", data, "--login", "urzednik_hook"); code != 0 {
		t.Fatalf("officer create: %d %s", code, errs)
	}
	code, out, errs := tsBin(t, bin, "", "admin", "client", "create", "--data", data, "--name", "Hooked", "--scopes", "sign")
	var cl struct{ ID, Key string }
	if json.Unmarshal([]byte(out), &cl) != nil || code != 0 {
		t.Fatalf("client create: %d %s %s", code, out, errs)
	}
	var sess struct{ Token string }
	callAPI(t, srv.base, "POST", "/v1/sessions", "", map[string]string{"login": "urzednik_hook", "password": officerPW}, &sess)
	if st := callAPI(t, srv.base, "POST", "/v1/officer/applications/"+url.PathEscape(reg.ApplicationNumber)+"/confirm", sess.Token,
		map[string]string{"documentType": "id-card", "documentNumber": "ABC123456"}, nil); st != http.StatusOK {
		t.Fatalf("officer confirm: %d", st)
	}
	var holder struct{ Token string }
	callAPI(t, srv.base, "POST", "/v1/sessions", "", map[string]string{"login": "ewa_hook", "password": holderPW}, &holder)
	cancel := func(base string) string {
		t.Helper()
		var sr struct{ ID string }
		if st := callAPI(t, base, "POST", "/v1/signing-requests", cl.Key, map[string]any{"document": base64.StdEncoding.EncodeToString([]byte("<a>hook</a>")),
			"fileName": "a.xml", "successUrl": rx.URL + "/ok?token=s3cret", "failureUrl": rx.URL + "/fail?token=s3cret", "webhook": true}, &sr); st != http.StatusCreated {
			t.Fatalf("submit: %d", st)
		}
		if st := callAPI(t, base, "POST", "/v1/signing-requests/"+sr.ID+"/cancel", holder.Token, nil, nil); st != http.StatusOK {
			t.Fatalf("cancel: %d", st)
		}
		return sr.ID
	}
	id := cancel(srv.base)
	if p := wait(); p.request != id || p.path != "/fail" || p.status != "cancelled" || p.delivery == "" {
		t.Fatalf("webhook %+v for %s", p, id)
	}

	// the integrator is down when the server stops: the delivery stays owed
	refuse.Store(true)
	id = cancel(srv.base)
	first := wait()
	srv.stop(t)
	logs := srv.logs.String()
	if !strings.Contains(logs, "webhook delivery failed") {
		t.Errorf("the refused delivery was not logged: %s", logs)
	}
	refuse.Store(false)
	srv = startServer(t, bin, "--data", data, "--webhook-allow-private")
	if p := wait(); p.request != id || p.delivery != first.delivery {
		t.Fatalf("after the restart: %+v, want the retry of %+v", p, first)
	}
	srv.stop(t)
	if strings.Contains(logs+srv.logs.String(), "s3cret") {
		t.Error("the webhook URL's query is in the server's log")
	}
}
