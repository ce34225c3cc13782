package api_test

// Two nodes on one PostgreSQL (issue 13, "Several nodes"): two full services (profile service, signing flow, REST
// API, wired as `trustsign serve` wires them), each with its own postgres.Open on one database, as two processes
// would have, behind a round-robin reverse proxy. Both nodes share the profile secret, the audit chain key file and
// one message recorder (as nodes sharing --data share the outbox). Tests skip when TRUSTSIGN_TEST_POSTGRES is unset.

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustsign/trustsign/store/postgres/pgtest"

	"github.com/trustsign/trustsign/api"
	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/client"
	"github.com/trustsign/trustsign/client/clienttest"
	"github.com/trustsign/trustsign/internal/testpki"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store/postgres"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/web"
)

// node is one service process: its own store connection pool, domain services, API and pages (mounted as serve
// mounts them, with the rate limits and the verification reports shared through the database).
type node struct {
	name     string
	DB       *postgres.DB
	Profiles *profile.Service
	Signing  *signing.Service
	API      *api.Server
	HTTP     *httptest.Server
	// Deliverer posts the webhooks owed (clusterOptions.webhooks); tests run it (runDeliverer) or call DeliverDue.
	Deliverer *signing.Deliverer
}

// cluster is two nodes on one database behind a round-robin proxy.
type cluster struct {
	nodes  []*node
	proxy  *httptest.Server
	next   atomic.Uint64
	clock  *settableClock
	sent   *notify.Recorder
	seal   *signer.Seal
	policy *verify.Policy
	logs   *clienttest.Buffer
	url    string // the database
	dir    string // the shared data directory (chain key)

	officerOnce sync.Once
	officerID   string
	officerErr  error
	mu          sync.Mutex
	pesels      []string
}

// clusterOptions adjust every node alike.
type clusterOptions struct {
	nodes   int
	codes   profile.CodeOptions
	msgs    profile.MessageOptions
	apiCfg  func(*api.Config)
	notify  func(node string) func(context.Context, signing.Request)
	profile func(*profile.Options)
	// webhooks, when set, gives every node a durable webhook Deliverer (signing.Options.Webhooks) with these
	// options, on the cluster's clock, logging to the cluster's log.
	webhooks *signing.WebhookOptions
}

var nodesPKI = sync.OnceValue(testpki.New)

// newCluster starts the nodes (two by default) on a new database.
func newCluster(t *testing.T, o clusterOptions) *cluster {
	t.Helper()
	if o.nodes == 0 {
		o.nodes = 2
	}
	c := &cluster{clock: &settableClock{t: time.Now().Truncate(time.Second)}, sent: &notify.Recorder{},
		logs: &clienttest.Buffer{}, url: pgtest.Database(t, "nodes"), dir: t.TempDir()}
	p := nodesPKI()
	var err error
	if c.seal, err = signer.NewSeal(p.EC256.Key, p.EC256.Chain); err != nil {
		t.Fatal(err)
	}
	c.policy = &verify.Policy{Roots: []*x509.Certificate{p.Root}, Intermediates: c.seal.Chain}
	for i := 0; i < o.nodes; i++ {
		c.nodes = append(c.nodes, c.startNode(t, fmt.Sprintf("node%c", 'A'+i), o))
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		n := c.nodes[c.next.Add(1)%uint64(len(c.nodes))]
		target, _ := url.Parse(n.HTTP.URL)
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}}
	c.proxy = httptest.NewServer(rp)
	t.Cleanup(c.proxy.Close)
	t.Cleanup(func() { c.checkLog(t) })
	return c
}

func (c *cluster) startNode(t *testing.T, name string, o clusterOptions) *node {
	t.Helper()
	n, err := c.tryStartNode(t, name, o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tryStartNode is startNode returning the error that refuses a node at start (its profile service's).
func (c *cluster) tryStartNode(t *testing.T, name string, o clusterOptions) (*node, error) {
	t.Helper()
	db, err := postgres.Open(bg, c.url, postgres.Options{ChainKeyFile: filepath.Join(c.dir, audit.ChainKeyFileName)})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{name: name, DB: db}
	t.Cleanup(func() { db.Close() })
	po := profile.Options{Clock: c.clock, Secret: nodesSecret, Argon2: profile.Argon2Params{Memory: 64, Time: 1, Threads: 1},
		UnsafeFastHashing: true, Codes: o.codes, Messages: o.msgs}
	if o.profile != nil {
		o.profile(&po)
	}
	if n.Profiles, err = profile.New(db, c.sent, po); err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewJSONHandler(c.logs, nil)).With("node", name)
	so := signing.Options{Clock: c.clock, SignURL: func(id string) string { return c.proxy.URL + "/sign/" + id }}
	if o.notify != nil {
		so.Notify = o.notify(name)
	}
	if o.webhooks != nil {
		wo := *o.webhooks
		wo.Clock, wo.Logger = c.clock, logger
		n.Deliverer = signing.NewDeliverer(db, wo)
		so.Webhooks = n.Deliverer
	}
	n.Signing = signing.New(db, n.Profiles, c.seal, so)
	cfg := api.Config{Logger: logger, Clock: c.clock, VerifyPolicy: c.policy, Profiles: n.Profiles, Signing: n.Signing,
		Maintenance: db, Ready: db.Ping, SharedLimits: db}
	if o.apiCfg != nil {
		o.apiCfg(&cfg)
	}
	if n.API, err = api.New(cfg); err != nil {
		t.Fatal(err)
	}
	pages, err := web.New(web.Config{Profiles: n.Profiles, Signing: n.Signing, VerifyPolicy: c.policy, Logger: logger,
		Clock: c.clock, Maintenance: db, Metrics: n.API.PageMetrics(), SharedReports: db})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux() // as serve mounts them
	for _, p := range []string{"/v1/", "/healthz", "/readyz", "/metrics", "/openapi.json"} {
		mux.Handle(p, n.API)
	}
	mux.Handle("/", pages)
	n.HTTP = httptest.NewServer(mux)
	t.Cleanup(n.HTTP.Close)
	t.Cleanup(n.Profiles.WaitForDeliveries)
	return n, nil
}

// runDeliverer runs the node's webhook Deliverer (as serve does) until the test ends.
func (n *node) runDeliverer(t *testing.T) {
	ctx, cancel := context.WithCancel(bg)
	done := make(chan struct{})
	go func() { n.Deliverer.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// nodesSecret is the profile secret every node shares (with --data on each machine it is DATA/profile.secret: nodes
// need the same file, as they need the same chain key).
var nodesSecret = []byte("multinode-secret-0123456789abcdef")

// client talks to the proxy (node is -1) or to one node directly.
func (c *cluster) client(node int, opts ...client.Option) *client.Client {
	base := c.proxy.URL
	if node >= 0 {
		base = c.nodes[node].HTTP.URL
	}
	cl, err := client.New(base, append([]client.Option{client.HTTPClient(http.DefaultClient)}, opts...)...)
	if err != nil {
		panic(err)
	}
	return cl
}

// lastCode waits for every node's deliveries and returns the newest code sent to a recipient.
func (c *cluster) lastCode(t *testing.T, to string) string {
	t.Helper()
	for _, n := range c.nodes {
		n.Profiles.WaitForDeliveries()
	}
	m, ok := c.sent.Last(to)
	if !ok || m.Code == "" {
		t.Fatalf("no code sent to %s", to)
	}
	return m.Code
}

// holder makes an active profile through node A's domain service (register, contact code, in-person confirmation
// by an officer), logs it in through the proxy and returns its session token.
func (c *cluster) holder(t *testing.T, login string) (id, token string) {
	t.Helper()
	ps := c.nodes[0].Profiles
	pesel := clienttest.PESEL(int(holderSeq.Add(1)) * 7)
	c.mu.Lock()
	c.pesels = append(c.pesels, pesel)
	c.mu.Unlock()
	r, err := ps.Register(bg, profile.Application{Login: login, Password: clienttest.Password, FirstName: "Anna",
		Surname: "Testowa", PESEL: pesel, Email: login + "@example.test", Phone: "+48500100200", CodeChannel: profile.ChannelEmail})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[1%len(c.nodes)].Profiles.ConfirmContact(bg, r.ID, c.lastCode(t, login+"@example.test")); err != nil {
		t.Fatalf("contact code issued on node A, confirmed on node B: %v", err)
	}
	c.officerOnce.Do(func() {
		o, err := ps.CreateOfficer(bg, clienttest.OfficerLogin, clienttest.OfficerPassword, "Anna Urzędniczka")
		c.officerID, c.officerErr = o.ID, err
	})
	if c.officerErr != nil {
		t.Fatal(c.officerErr)
	}
	if _, err := ps.ConfirmInPerson(bg, c.officerID, r.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}); err != nil {
		t.Fatal(err)
	}
	s, err := c.client(-1).Login(bg, login, clienttest.Password)
	if err != nil {
		t.Fatalf("login %s: %v", login, err)
	}
	return r.ID, s.Token
}

// integrator creates an integrator client (sign, lookup, verify) and returns its client on the proxy.
func (c *cluster) integrator(t *testing.T, name string) *client.Client {
	t.Helper()
	_, key, err := c.nodes[0].Profiles.CreateClient(bg, name, []profile.Scope{profile.ScopeSign, profile.ScopeLookup, profile.ScopeVerify})
	if err != nil {
		t.Fatal(err)
	}
	return c.client(-1, client.APIKey(key))
}

// auditCount counts the audit records of a kind in the shared log, after chaining the events the nodes queued.
func (c *cluster) auditCount(t *testing.T, kind string) int {
	t.Helper()
	if _, err := c.nodes[0].DB.ChainAudit(bg); err != nil {
		t.Fatal(err)
	}
	var exported strings.Builder
	if _, err := audit.Export(bg, c.nodes[0].DB, &exported); err != nil {
		t.Fatal(err)
	}
	return strings.Count(exported.String(), `"kind":"`+kind+`"`)
}

// verifyAudit checks that the one audit chain written by every node verifies, every queued event chained.
func (c *cluster) verifyAudit(t *testing.T) {
	t.Helper()
	if _, err := c.nodes[0].DB.ChainAudit(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyStore(bg, c.nodes[1%len(c.nodes)].DB, audit.VerifyOptions{}); err != nil {
		t.Fatalf("the audit chain written by %d nodes does not verify: %v", len(c.nodes), err)
	}
}

// checkLog: no PESEL in any node's log, no 5xx but 503, no panic.
func (c *cluster) checkLog(t *testing.T) {
	t.Helper()
	// a node logs a request after its answer went out: give the last access lines a moment to land
	logs := c.logs.String()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end) && !t.Skipped(); time.Sleep(10 * time.Millisecond) {
		all := true
		for _, n := range c.nodes {
			all = all && strings.Contains(logs, `"node":"`+n.name+`"`)
		}
		if all {
			break
		}
		logs = c.logs.String()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.pesels {
		if strings.Contains(logs, p) {
			t.Errorf("the PESEL %s is in a node's log", p)
		}
	}
	if !t.Skipped() && strings.Count(logs, `"msg":"request"`) == 0 {
		t.Error("no access log lines captured from the nodes")
	}
	for _, n := range c.nodes {
		if !t.Skipped() && !strings.Contains(logs, `"node":"`+n.name+`"`) {
			t.Errorf("%s answered nothing: the proxy does not spread the requests", n.name)
		}
	}
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"msg":"panic"`) {
			t.Errorf("a handler panicked: %s", line)
		}
		if strings.Contains(line, `"status":50`) && !strings.Contains(line, `"status":503`) {
			t.Errorf("a node answered 5xx: %s", line)
		}
	}
}

// submit files an XML request through the proxy.
func submitXML(t *testing.T, rx *client.Client, text string) client.SigningRequest {
	t.Helper()
	r, err := rx.Submit(bg, client.Submission{Document: []byte("<recepta>" + text + "</recepta>"), FileName: "r.xml"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
