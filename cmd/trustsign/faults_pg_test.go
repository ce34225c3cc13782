package main

// Faults on PostgreSQL (issue 13): built `trustsign serve` processes on one real database, sharing one --data as
// nodes on one machine may, run the full signing flow over real HTTP through a round-robin balancer while a node is
// killed, the database restarts, or the primary dies and its synchronous standby takes over. What must hold
// afterwards: every signature whose confirmation was answered 200 is there (signed, its document fetchable), no
// request was sealed twice (one signature.create audit record), the audit chain verifies, and the nodes serve again
// without being restarted. The tests skip without TRUSTSIGN_TEST_POSTGRES (store/postgres/testdb.sh).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/store/postgres/pgtest"
)

// testdbScript is store/postgres/testdb.sh from this package's directory.
const testdbScript = "../../store/postgres/testdb.sh"

// smsGateway stands for the SMS gateway the nodes post codes to (--sms-gateway-url): the test reads a holder's codes
// from it, whichever node sent them.
type smsGateway struct {
	*httptest.Server
	mu    sync.Mutex
	codes map[string][]string // phone number: the codes sent to it, oldest first
}

func newSMSGateway(t *testing.T) *smsGateway {
	g := &smsGateway{codes: map[string][]string{}}
	re := regexp.MustCompile(`([0-9]{6,}) \(wazny`) // "… kod … 123456 (wazny 5 min)" (profile/messages.go)
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct{ To, Text string }
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if c := re.FindStringSubmatch(m.Text); c != nil {
			g.mu.Lock()
			g.codes[m.To] = append(g.codes[m.To], c[1])
			g.mu.Unlock()
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(g.Close)
	return g
}

// sent is how many codes went to phone so far.
func (g *smsGateway) sent(phone string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.codes[phone])
}

// next waits up to d for a code to phone after the first n, and returns the newest.
func (g *smsGateway) next(phone string, n int, d time.Duration) (string, bool) {
	for deadline := time.Now().Add(d); ; time.Sleep(10 * time.Millisecond) {
		g.mu.Lock()
		cs := g.codes[phone]
		g.mu.Unlock()
		if len(cs) > n {
			return cs[len(cs)-1], true
		}
		if time.Now().After(deadline) {
			return "", false
		}
	}
}

// balancer spreads requests over the nodes in turn, as a load balancer does: a node that refuses the connection is
// skipped (nothing was sent, so the next node gets the request); any later failure goes back to the caller, who
// cannot know whether the node acted on the request.
type balancer struct {
	next  atomic.Uint64
	hosts []string
	rt    http.RoundTripper
	// confirming counts, per host, the confirmations sent and not yet answered (a fault can wait for one)
	confirming []atomic.Int32
}

func (b *balancer) RoundTrip(r *http.Request) (*http.Response, error) {
	first := b.next.Add(1)
	var err error
	for i := range uint64(len(b.hosts)) {
		n := (first + i) % uint64(len(b.hosts))
		out := r.Clone(r.Context())
		out.URL.Host = b.hosts[n]
		out.Host = out.URL.Host
		if r.GetBody != nil {
			if out.Body, err = r.GetBody(); err != nil {
				return nil, err
			}
		}
		confirm := strings.HasSuffix(r.URL.Path, "/confirm")
		if confirm {
			b.confirming[n].Add(1)
		}
		res, rerr := b.rt.RoundTrip(out)
		if confirm {
			b.confirming[n].Add(-1)
		}
		if rerr == nil {
			return res, nil
		}
		err = rerr
		if op := (*net.OpError)(nil); !errors.As(rerr, &op) || op.Op != "dial" {
			return nil, rerr
		}
	}
	return nil, err
}

// faultRig is `trustsign serve` nodes on one database sharing one --data, an integrator key, an officer, and holders
// with active profiles and open sessions, everything made over HTTP and with the admin commands.
type faultRig struct {
	t       *testing.T
	bin     string
	data    string
	store   string // the store URL the nodes and the admin commands use
	sms     *smsGateway
	nodes   []*server
	lb      *balancer
	hc      *http.Client // through the balancer
	integ   *client.Client
	key     string
	holders []*faultHolder
}

// faultHolder is one holder; one goroutine at a time runs its flows.
type faultHolder struct {
	login, phone string
	token        string         // the holder's session
	api          *client.Client // with the session, through the balancer
	lastCode     time.Time
	codes, flows int
}

// faultCodesInLoad bounds the signing codes a holder asks for under load: a phone number gets at most 10 messages an
// hour (the contact code was one), and flowsEach asks for one more.
const faultCodesInLoad = 6

// faultDoc is the document each flow submits; %s makes it unique (and findable in the signed document).
const faultDoc = `<?xml version="1.0" encoding="UTF-8"?>
<rx:Recepta xmlns:rx="urn:example:erecepta:1"><rx:Pacjent>%s</rx:Pacjent><rx:Lek>Amoxicillinum 500 mg</rx:Lek></rx:Recepta>
`

// newFaultRig starts nodes on the store (a PostgreSQL URL), with holders profiles ready to sign.
func newFaultRig(t *testing.T, storeURL string, nodes, holders int) *faultRig {
	t.Helper()
	start := time.Now()
	defer func() {
		t.Logf("%d nodes and %d holders ready in %v", nodes, holders, time.Since(start).Round(time.Millisecond))
	}()
	r := &faultRig{t: t, bin: builtBinary(t), data: filepath.Join(t.TempDir(), "data"), store: storeURL, sms: newSMSGateway(t)}
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range r.nodes {
				t.Logf("node %d log (end):\n%s", i, tail(n.logs.String(), 400))
			}
		}
	})
	r.nodes = append(r.nodes, r.startNode())
	const officerPW = "Urzednik-Awaria-2026!"
	if code, _, errs := tsBin(t, r.bin, officerPW+"\n"+officerPW+"\n", "admin", "officer", "create", "--data", r.data,
		"--store", storeURL, "--login", "urzednik_f"); code != 0 {
		t.Fatalf("officer create: %d %s", code, errs)
	}
	code, out, errs := tsBin(t, r.bin, "", "admin", "client", "create", "--data", r.data, "--store", storeURL, "--name", "Faults", "--scopes", "sign")
	var cl struct{ Key string }
	if json.Unmarshal([]byte(out), &cl) != nil || code != 0 || cl.Key == "" {
		t.Fatalf("client create: %d %s %s", code, out, errs)
	}
	r.key = cl.Key
	for len(r.nodes) < nodes {
		r.nodes = append(r.nodes, r.startNode())
	}
	r.balance(r.nodes)

	ctx := context.Background()
	sess, err := r.api().Login(ctx, "urzednik_f", officerPW)
	if err != nil {
		t.Fatalf("officer login: %v", err)
	}
	officer := r.api(client.SessionToken(sess.Token))
	const holderPW = "Dobre-Haslo-Awaria-2026"
	errc := make(chan error, holders)
	sem := make(chan struct{}, 4)
	for i := range holders {
		h := &faultHolder{login: fmt.Sprintf("awaria_%02d", i), phone: fmt.Sprintf("+48600100%03d", i)}
		r.holders = append(r.holders, h)
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errc <- func() error {
				reg, err := r.api().Register(ctx, client.Application{Login: h.login, Password: holderPW, FirstName: "Anna",
					Surname: "Awaryjna", PESEL: testPESEL(500 + i), Email: h.login + "@example.test", Phone: h.phone, CodeChannel: client.SMS})
				if err != nil {
					return fmt.Errorf("register %s: %w", h.login, err)
				}
				code, ok := r.sms.next(h.phone, 0, 20*time.Second)
				if !ok {
					return fmt.Errorf("no contact code for %s", h.login)
				}
				if err := r.api().ConfirmContact(ctx, reg.ID, code); err != nil {
					return fmt.Errorf("contact confirmation %s: %w", h.login, err)
				}
				if _, err := officer.OfficerConfirm(ctx, reg.ApplicationNumber, client.IdentityDocument{DocumentType: client.IDCard, DocumentNumber: "ABC123456"}); err != nil {
					return fmt.Errorf("officer confirmation %s: %w", h.login, err)
				}
				s, err := r.api().Login(ctx, h.login, holderPW)
				if err != nil {
					return fmt.Errorf("login %s: %w", h.login, err)
				}
				h.token, h.api = s.Token, r.api(client.SessionToken(s.Token))
				return nil
			}()
		}()
	}
	for range holders {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// balance points the balancer (and the integrator's and holders' clients) at nodes.
func (r *faultRig) balance(nodes []*server) {
	r.nodes = nodes
	r.lb = &balancer{rt: &http.Transport{MaxIdleConnsPerHost: 64}, confirming: make([]atomic.Int32, len(nodes))}
	for _, n := range nodes {
		r.lb.hosts = append(r.lb.hosts, strings.TrimPrefix(n.base, "http://"))
	}
	r.hc = &http.Client{Transport: r.lb, Timeout: 20 * time.Second}
	r.integ = r.api(client.APIKey(r.key))
	for _, h := range r.holders {
		if h.token != "" {
			h.api = r.api(client.SessionToken(h.token))
		}
	}
}

// startNode starts one more `trustsign serve` on the rig's store and data directory.
func (r *faultRig) startNode() *server {
	return startServer(r.t, r.bin, "--data", r.data, "--store", r.store, "--sms-gateway-url", r.sms.URL,
		"--audit-seal-interval", "2s")
}

// api is a client through the balancer.
func (r *faultRig) api(opts ...client.Option) *client.Client {
	return r.direct("http://balanced.invalid", opts...)
}

// direct is a client of one base URL (a node's, or the balancer's placeholder) with the rig's HTTP client.
func (r *faultRig) direct(base string, opts ...client.Option) *client.Client {
	hc := r.hc
	if !strings.HasSuffix(base, ".invalid") {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	c, err := client.New(base, append([]client.Option{client.HTTPClient(hc)}, opts...)...)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// flowOutcome is what the client saw of one flow.
type flowOutcome struct {
	id, marker string
	acked      bool  // the confirmation was answered 200
	err        error // the step that failed, when not acked
	retried    bool  // the confirmation got no answer and was sent again
}

// flow is one signing flow of holder h through the balancer: the integrator submits, the holder asks for the code
// (one a second at most, by the service's rules) and confirms with it. A confirmation that gets no answer at all
// (the node died under it) is sent again, as a client would: through the balancer it reaches another node, which
// must not seal a second time if the first node stored its seal.
func (r *faultRig) flow(ctx context.Context, h *faultHolder) flowOutcome {
	h.flows++
	o := flowOutcome{marker: fmt.Sprintf("%s-%d", h.login, h.flows)}
	sr, err := r.integ.Submit(ctx, client.Submission{Document: fmt.Appendf(nil, faultDoc, o.marker), FileName: "recepta.xml", Format: client.XAdES})
	if err != nil {
		o.err = fmt.Errorf("submit: %w", err)
		return o
	}
	o.id = sr.ID
	// the service's clock for the last code is at latest when its answer came
	if wait := time.Until(h.lastCode.Add(1100 * time.Millisecond)); wait > 0 {
		time.Sleep(wait)
	}
	seen := r.sms.sent(h.phone)
	h.codes++
	_, err = h.api.RequestCode(ctx, sr.ID)
	h.lastCode = time.Now()
	if err != nil {
		o.err = fmt.Errorf("code: %w", err)
		return o
	}
	code, ok := r.sms.next(h.phone, seen, 5*time.Second)
	if !ok {
		o.err = errors.New("code: not delivered")
		return o
	}
	_, err = h.api.Confirm(ctx, sr.ID, code)
	if p := (*client.Problem)(nil); err != nil && !errors.As(err, &p) {
		o.retried = true
		_, err = h.api.Confirm(ctx, sr.ID, code)
	}
	o.acked, o.err = err == nil, err
	if err != nil {
		o.err = fmt.Errorf("confirm: %w", err)
	}
	return o
}

// load runs flows for every holder at once for about d (a flow begun goes to its end), with fault run beside them;
// it returns every flow's outcome.
func (r *faultRig) load(d time.Duration, fault func()) []flowOutcome {
	start := time.Now()
	defer func() { r.t.Logf("load ran %v", time.Since(start).Round(time.Millisecond)) }()
	stop := time.Now().Add(d)
	var (
		mu  sync.Mutex
		out []flowOutcome
		wg  sync.WaitGroup
	)
	for _, h := range r.holders {
		wg.Go(func() {
			for time.Now().Before(stop) && h.codes < faultCodesInLoad {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				o := r.flow(ctx, h)
				cancel()
				mu.Lock()
				out = append(out, o)
				mu.Unlock()
				if !o.acked {
					time.Sleep(100 * time.Millisecond) // as a client backs off
				}
			}
		})
	}
	wg.Go(fault)
	wg.Wait()
	return out
}

// flowsEach runs one flow per holder at once; each must be acknowledged (the service works again, without a node
// restart).
func (r *faultRig) flowsEach(t *testing.T) []flowOutcome {
	t.Helper()
	outs := make([]flowOutcome, len(r.holders))
	var wg sync.WaitGroup
	for i, h := range r.holders {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			outs[i] = r.flow(ctx, h)
		})
	}
	wg.Wait()
	for _, o := range outs {
		if !o.acked {
			t.Errorf("a flow after the fault: %v", o.err)
		}
	}
	return outs
}

// checkNothingLost checks the flows against the store through a node (base URL) and the admin commands: every
// acknowledged signature is signed and its document fetchable; no request has more than one signature.create
// audit record, and every signed one exactly one; the audit chain verifies. It logs what the flows saw.
func (r *faultRig) checkNothingLost(t *testing.T, outs []flowOutcome, base string) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("checked in %v", time.Since(start).Round(time.Millisecond)) }()
	code, out, errs := tsBin(t, r.bin, "", "audit", "export", "--data", r.data, "--store", r.store)
	if code != 0 {
		t.Fatalf("audit export: %d %s", code, errs)
	}
	creates := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec struct{ Kind, Subject string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("audit export line: %v", err)
		}
		if rec.Kind == "signature.create" {
			creates[rec.Subject]++
		}
	}
	integ := r.direct(base, client.APIKey(r.key))
	ctx := context.Background()
	var acked, signedUnacked, retried int
	failures := map[string]int{}
	for _, o := range outs {
		if o.retried {
			retried++
		}
		if !o.acked {
			failures[failureClass(o.err)]++
		}
		if o.id == "" {
			continue
		}
		st, err := integ.Status(ctx, o.id)
		if err != nil {
			t.Errorf("request %s (%s): status: %v", o.id, o.marker, err)
			continue
		}
		switch {
		case creates[o.id] > 1:
			t.Errorf("request %s (%s) sealed %d times (signature.create records)", o.id, o.marker, creates[o.id])
		case st.Status == "signed" && creates[o.id] != 1:
			t.Errorf("request %s (%s) is signed with %d signature.create records", o.id, o.marker, creates[o.id])
		case st.Status != "signed" && creates[o.id] != 0:
			t.Errorf("request %s (%s) is %s with a signature.create record", o.id, o.marker, st.Status)
		}
		if o.acked {
			acked++
			if st.Status != "signed" {
				t.Errorf("acknowledged signature %s (%s) lost: the request is %s", o.id, o.marker, st.Status)
				continue
			}
		} else if st.Status == "signed" {
			signedUnacked++
		}
		if st.Status == "signed" {
			doc, _, err := integ.SignedDocument(ctx, o.id)
			if err != nil || !bytes.Contains(doc, []byte(o.marker)) || !bytes.Contains(doc, []byte("SignatureValue>")) {
				t.Errorf("signed document of %s (%s): %v %.120q", o.id, o.marker, err, doc)
			}
		}
	}
	if code, out, errs := tsBin(t, r.bin, "", "audit", "verify", "--data", r.data, "--store", r.store); code != 0 || !strings.Contains(out, "audit log intact") {
		t.Errorf("audit verify: %d %s %s", code, out, errs)
	}
	t.Logf("%d flows: %d acknowledged, %d signed without an answer, %d confirmations sent again; failed: %v",
		len(outs), acked, signedUnacked, retried, failures)
}

// failureClass names a failed flow's step and cause in a word or two, for the summary.
func failureClass(err error) string {
	if err == nil {
		return "none"
	}
	step, _, _ := strings.Cut(err.Error(), ":")
	var p *client.Problem
	if errors.As(err, &p) {
		if p.RetryAfter > 0 {
			return fmt.Sprintf("%s %d %s (retry after %d s)", step, p.Status, p.Type[strings.LastIndex(p.Type, "/")+1:], p.RetryAfter)
		}
		return fmt.Sprintf("%s %d %s", step, p.Status, p.Type[strings.LastIndex(p.Type, "/")+1:])
	}
	return step + " no answer"
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// ackedIn counts the flows acknowledged among outs.
func ackedIn(outs []flowOutcome) int {
	n := 0
	for _, o := range outs {
		if o.acked {
			n++
		}
	}
	return n
}

// TestFaultNodeKilledMidLoad: two nodes take the flows in turn; one is killed with SIGKILL mid-load. Every
// acknowledged signature is there afterwards, fetched from the survivor; none is sealed twice (a confirmation left
// without an answer by the dying node is sent again to the other); the audit chain verifies; the survivor serves
// every holder.
func TestFaultNodeKilledMidLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	r := newFaultRig(t, pgtest.Database(t, "faults"), 2, 8)
	outs := r.load(4*time.Second, func() {
		// the kill lands while node 1 has a confirmation in hand (sealing, storing, or answering), as soon as there
		// is one after the first second and a half
		time.Sleep(1500 * time.Millisecond)
		for deadline := time.Now().Add(2 * time.Second); r.lb.confirming[1].Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(200 * time.Microsecond)
		}
		if err := r.nodes[1].cmd.Process.Kill(); err != nil {
			t.Error(err)
		}
		t.Logf("node 1 killed with %d confirmations in flight", r.lb.confirming[1].Load())
		r.nodes[1].cmd.Wait() //nolint:errcheck // killed
	})
	if ackedIn(outs) == 0 {
		t.Fatal("no flow succeeded under load")
	}
	outs = append(outs, r.flowsEach(t)...)
	r.checkNothingLost(t, outs, r.nodes[0].base)
}

// TestFaultDatabaseRestartMidLoad: PostgreSQL restarts (every connection cut) mid-load; the nodes are not
// restarted: /readyz answers 200 again by itself, every holder signs again, and no acknowledged signature is
// missing or doubled. The server restarted is one of its own (testdb.sh start), not the one TRUSTSIGN_TEST_POSTGRES
// names, which other packages' tests use at the same time.
func TestFaultDatabaseRestartMidLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pgtest.ServerURL(t)
	db, dir := pgtest.OwnServer(t, testdbScript, "start")
	r := newFaultRig(t, db, 2, 8)
	outs := r.load(4*time.Second, func() {
		time.Sleep(1500 * time.Millisecond)
		if out, err := exec.Command(testdbScript, "restart", dir).CombinedOutput(); err != nil {
			t.Errorf("testdb.sh restart: %v %s", err, out)
		}
	})
	hc := &http.Client{Timeout: 10 * time.Second}
	for i, n := range r.nodes {
		if st := waitStatus(t, hc, n.base+"/readyz", http.StatusOK); st != http.StatusOK {
			t.Errorf("node %d: /readyz %d after the database came back", i, st)
		}
	}
	outs = append(outs, r.flowsEach(t)...)
	r.checkNothingLost(t, outs, r.nodes[1].base)
}

// TestFaultStandbyPromoted: a primary and a synchronous standby (testdb.sh standby: pg_basebackup -R over
// loopback), nodes given one URL naming both hosts with target_session_attrs=read-write. Mid-load the primary's
// processes are killed (SIGKILL, a lost machine) and the standby promoted; the nodes find the new primary by
// themselves, every holder signs again, and no acknowledged signature is missing or doubled. It starts servers of its
// own (TRUSTSIGN_TEST_POSTGRES only says that PostgreSQL tests may run here).
func TestFaultStandbyPromoted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pgtest.ServerURL(t)
	primary, pdir := pgtest.OwnServer(t, testdbScript, "start")
	standby, sdir := pgtest.OwnServer(t, testdbScript, "standby", pdir)
	pu, err := url.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	su, err := url.Parse(standby)
	if err != nil {
		t.Fatal(err)
	}
	both := *pu
	both.Host = pu.Host + "," + su.Host
	q := both.Query()
	q.Set("target_session_attrs", "read-write")
	q.Set("connect_timeout", "2")
	both.RawQuery = q.Encode()

	r := newFaultRig(t, both.String(), 2, 8)
	outs := r.load(5*time.Second, func() {
		time.Sleep(1500 * time.Millisecond)
		start := time.Now()
		for _, args := range [][]string{{"kill", pdir}, {"promote", sdir}} {
			if out, err := exec.Command(testdbScript, args...).CombinedOutput(); err != nil {
				t.Errorf("testdb.sh %s: %v %s", args[0], err, out)
			}
		}
		t.Logf("primary killed, standby promoted in %v", time.Since(start).Round(time.Millisecond))
	})
	hc := &http.Client{Timeout: 10 * time.Second}
	for i, n := range r.nodes {
		if st := waitStatus(t, hc, n.base+"/readyz", http.StatusOK); st != http.StatusOK {
			t.Errorf("node %d: /readyz %d after the standby was promoted", i, st)
		}
	}
	if c, err := net.DialTimeout("tcp", pu.Host, time.Second); err == nil {
		c.Close()
		t.Fatal("the old primary still answers")
	}
	outs = append(outs, r.flowsEach(t)...)
	r.checkNothingLost(t, outs, r.nodes[0].base)
}

// TestDatabaseOutageIsUnavailable: while PostgreSQL cannot be reached, a request with a credential the node cannot
// check answers 503 (try again), not 401 (an integrator would drop a key that is fine, a holder's session would look
// ended) nor 500; once the database is back the same unknown credentials get 401.
func TestDatabaseOutageIsUnavailable(t *testing.T) {
	db := pgtest.Database(t, "wire")
	u, _ := url.Parse(db)
	proxy := startProxy(t, u.Host)
	srv, _, logs := observedService(t, false, func(c *serveConfig) { c.store = proxy.proxied(t, db) })
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	get := func(path, token string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var p struct{ Type string }
		json.NewDecoder(res.Body).Decode(&p) //nolint:errcheck
		return res.StatusCode, p.Type
	}
	for _, tc := range []struct{ name, path, token string }{
		{"integrator key", "/v1/signing-requests/nosuchrequest", "tsk_" + strings.Repeat("a", 40)},
		{"session token", "/v1/profiles/me", "tss_" + strings.Repeat("a", 40)},
	} {
		if st, _ := get(tc.path, tc.token); st != http.StatusUnauthorized {
			t.Fatalf("%s, database up: %d, want 401", tc.name, st)
		}
		proxy.cut()
		if st, typ := get(tc.path, tc.token); st != http.StatusServiceUnavailable || !strings.HasSuffix(typ, "/unavailable") {
			t.Errorf("%s, database unreachable: %d %s, want 503 unavailable", tc.name, st, typ)
		}
		proxy.resume()
		if st := waitStatus(t, http.DefaultClient, srv.URL+"/readyz", 200); st != 200 {
			t.Fatalf("readyz after the database came back: %d", st)
		}
		if st, _ := get(tc.path, tc.token); st != http.StatusUnauthorized {
			t.Errorf("%s, database back: %d, want 401", tc.name, st)
		}
	}
	// the pages: a citizen's session cookie looked up while the database is away is a 503 page with Retry-After,
	// not a 500 ("something went wrong on our side")
	page := func() (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+"/profile", nil)
		req.AddCookie(&http.Cookie{Name: "ts_session", Value: "tss_" + strings.Repeat("a", 40)})
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Retry-After")
	}
	if st, _ := page(); st != http.StatusSeeOther && st != http.StatusFound {
		t.Fatalf("profile page with an unknown session, database up: %d, want a redirect to log in", st)
	}
	proxy.cut()
	if st, retry := page(); st != http.StatusServiceUnavailable || retry == "" {
		t.Errorf("profile page, database unreachable: %d (Retry-After %q), want 503 with Retry-After", st, retry)
	}
	proxy.resume()
}
