package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

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
)

// service is what the driver needs from the service under load: clienttest.Service (one node on bbolt) or
// pgNodes (several nodes on one PostgreSQL database).
type service interface {
	Client(opts ...client.Option) *client.Client
	NewIntegrator(ctx context.Context, name string, scopes ...profile.Scope) (string, error)
	NewHolder(ctx context.Context, h clienttest.Holder) (string, error)
	LastCode(to string) (string, bool)
	Close()
}

// pgNodes is -nodes services on the PostgreSQL database -store, each wired as `trustsign serve` wires it (its own
// connection pool, profile service, signing flow and REST API behind its own loopback HTTP server), as separate
// processes on one database would be, but in this process: they share the -procs cores with the driver. They
// share what nodes share through --data (the profile secret, the audit chain key, the seal) and one message
// recorder (the outbox). Requests go to the nodes in turn.
type pgNodes struct {
	nodes   []*pgNode
	sent    *notify.Recorder
	next    atomic.Uint64
	dir     string
	officer string // confirms the holders
}

type pgNode struct {
	db       *postgres.DB
	profiles *profile.Service
	http     *httptest.Server
}

// startPGNodes starts n nodes on the (empty) database at url; maxConns is each node's pool size (0: pgx's default).
func startPGNodes(ctx context.Context, url string, n int, maxConns int32) (*pgNodes, error) {
	dir, err := os.MkdirTemp("", "trustsign-apiload-")
	if err != nil {
		return nil, err
	}
	c := &pgNodes{sent: &notify.Recorder{}, dir: dir}
	pki := testpki.New()
	seal, err := signer.NewSeal(pki.EC256.Key, pki.EC256.Chain)
	if err != nil {
		return nil, err
	}
	policy := &verify.Policy{Roots: []*x509.Certificate{pki.Root}, Intermediates: seal.Chain}
	for i := range n {
		nd, err := c.start(ctx, url, maxConns, seal, policy)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		c.nodes = append(c.nodes, nd)
	}
	o, err := c.nodes[0].profiles.CreateOfficer(ctx, clienttest.OfficerLogin, clienttest.OfficerPassword, "Anna Urzędniczka")
	if err != nil {
		c.Close()
		return nil, err
	}
	c.officer = o.ID
	return c, nil
}

func (c *pgNodes) start(ctx context.Context, url string, maxConns int32, seal *signer.Seal, policy *verify.Policy) (*pgNode, error) {
	db, err := postgres.Open(ctx, url, postgres.Options{ChainKeyFile: filepath.Join(c.dir, audit.ChainKeyFileName), MaxConns: maxConns})
	if err != nil {
		return nil, err
	}
	nd := &pgNode{db: db}
	nd.profiles, err = profile.New(db, c.sent, profile.Options{Secret: []byte("apiload-nodes-secret-0123456789abcdef"),
		Argon2: profile.Argon2Params{Memory: 64, Time: 1, Threads: 1}, UnsafeFastHashing: true})
	if err != nil {
		db.Close()
		return nil, err
	}
	var base string
	sg := signing.New(db, nd.profiles, seal, signing.Options{SignURL: func(id string) string { return base + "/sign/" + id }})
	h, err := api.New(api.Config{Logger: slog.New(slog.DiscardHandler), VerifyPolicy: policy, Profiles: nd.profiles,
		Signing: sg, Maintenance: db, Ready: db.Ping})
	if err != nil {
		db.Close()
		return nil, err
	}
	nd.http = httptest.NewServer(h)
	base = nd.http.URL
	return nd, nil
}

// Close stops the nodes and closes their pools.
func (c *pgNodes) Close() {
	for _, nd := range c.nodes {
		nd.http.Close()
		nd.profiles.WaitForDeliveries()
		nd.db.Close()
	}
	os.RemoveAll(c.dir) //nolint:errcheck
}

// Client returns an API client whose requests go to the nodes in turn (opts may set the HTTP client, whose
// transport then carries them).
func (c *pgNodes) Client(opts ...client.Option) *client.Client {
	cl, err := client.New("http://nodes.invalid", opts...)
	if err != nil {
		panic(err)
	}
	return cl
}

// RoundRobin wraps a transport so that requests to nodes.invalid go to the nodes in turn.
func (c *pgNodes) RoundRobin(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Host != "nodes.invalid" {
			return rt.RoundTrip(r)
		}
		nd := c.nodes[c.next.Add(1)%uint64(len(c.nodes))]
		out := r.Clone(r.Context())
		out.URL.Host = strings.TrimPrefix(nd.http.URL, "http://")
		out.Host = out.URL.Host
		return rt.RoundTrip(out)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// NewIntegrator creates an integrator client through the first node.
func (c *pgNodes) NewIntegrator(ctx context.Context, name string, scopes ...profile.Scope) (string, error) {
	_, key, err := c.nodes[0].profiles.CreateClient(ctx, name, scopes)
	return key, err
}

// NewHolder makes an active profile through the first node's domain service (register, contact code, in-person
// confirmation), as clienttest.Service.NewHolder does.
func (c *pgNodes) NewHolder(ctx context.Context, h clienttest.Holder) (string, error) {
	ps := c.nodes[0].profiles
	r, err := ps.Register(ctx, profile.Application{Login: h.Login, Password: clienttest.Password, FirstName: "Anna",
		Surname: "Testowa", PESEL: h.PESEL, Email: h.Login + "@example.test", Phone: "+48500100200", CodeChannel: profile.ChannelEmail})
	if err != nil {
		return "", fmt.Errorf("register %s: %w", h.Login, err)
	}
	code, ok := c.LastCode(h.Login + "@example.test")
	if !ok {
		return "", fmt.Errorf("register %s: no contact code", h.Login)
	}
	if err := ps.ConfirmContact(ctx, r.ID, code); err != nil {
		return "", err
	}
	if _, err := ps.ConfirmInPerson(ctx, c.officer, r.ApplicationNumber, profile.IdentityDocument{Type: profile.IDCard, Number: "ABC123456"}); err != nil {
		return "", err
	}
	return r.ID, nil
}

// LastCode waits for every node's deliveries and returns the newest code sent to a recipient.
func (c *pgNodes) LastCode(to string) (string, bool) {
	for _, nd := range c.nodes {
		nd.profiles.WaitForDeliveries()
	}
	m, ok := c.sent.Last(to)
	if !ok || m.Code == "" {
		return "", false
	}
	return m.Code, true
}
