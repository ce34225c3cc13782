package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trustsign/trustsign/api"
	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/signing"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/web"
)

// serveConfig is every setting of `trustsign serve`; each flag also reads TRUSTSIGN_<NAME> from the environment.
type serveConfig struct {
	addr, data, outbox          string
	sealKey, sealCert           string
	sealConfig                  string              // --seal-config: several seals, switched on SIGHUP (sealkeys.go)
	sealCheckEvery              time.Duration       // how often the seal key makes a test signature (/readyz)
	sealCerts                   []*x509.Certificate // every configured seal's chain, set by runServe (revocation data)
	sealPhrase                  string
	sealChain, trust            []string
	profileSeals                []string
	maxDocument                 int64
	publicVerifyPerMinute       int
	lookupsPerClient            int // PESEL lookups per minute per integrator key
	lookupsPerAddress           int // and per client address
	shutdownTimeout             time.Duration
	smtpAddr, smtpUser, smtpPwd string
	smtpFrom                    string
	smsURL, smsToken            string
	publicURL                   string
	auditSealEvery              time.Duration
	auditHeads                  string
	webhookAllowPrivate         bool
	trustedProxies              []string
	demo                        bool
	// metrics: a listen address of their own, and/or a token for /metrics on the main address
	metricsAddr, metricsTokenFile string
	metricsToken                  string // read from metricsTokenFile by runServe
	metricsLoopback               bool
	memoryLimit                   string
	gcPercent                     int
	gomaxprocs                    int
	verifySlots                   int
	hashSlots                     int
	// long-term seals: the level, the TSAs and the time-outs (serve_level.go)
	level                    string
	tsaURLs                  []string
	tsaTimeout, fetchTimeout time.Duration
	// the store: "" the bbolt file in data, or a PostgreSQL URL (storeopen.go)
	store string
}

func newServeCmd() *cobra.Command {
	c := &serveConfig{}
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Run the trusted-signature service (REST API and web pages)",
		Long: `Run the service. Defaults work on a fresh machine: listen on 127.0.0.1:8080, keep data in ./data (an
embedded bbolt file), write every outgoing message (e-mail and SMS) to ./data/outbox, and generate a development
seal key and certificate on first start (NOT for production: give --seal-key/--seal-cert).

While it runs, 'trustsign admin …' commands reach its store over DATA/admin.sock. The demo application form at
/demo is off unless --demo is given.

Every flag can also be set in the environment as TRUSTSIGN_<FLAG> (e.g. TRUSTSIGN_ADDR, TRUSTSIGN_DATA).`,
		Args: noArgs,
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return flagsFromEnv(cmd.Flags())
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runServe(cmd, c) },
	}
	fl := cmd.Flags()
	fl.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address `HOST:PORT`")
	fl.StringVar(&c.data, "data", "data", "data `DIR` (bbolt store, development seal)")
	fl.StringVar(&c.outbox, "outbox", "", "outbox `DIR` for messages when no SMTP/SMS gateway is set (default DATA/outbox)")
	fl.StringVar(&c.sealKey, "seal-key", "", "seal private key `FILE` (PEM) or PKCS#11 URI (pkcs11:token=…;object=…?module-path=…&pin-source=file:…); default: a generated development key")
	fl.StringVar(&c.sealConfig, "seal-config", "", "seal configuration `FILE` (JSON: the current seal and the previous ones, see docs/operations.md); SIGHUP reads it again and switches seals without a restart")
	fl.DurationVar(&c.sealCheckEvery, "seal-check-interval", 10*time.Second, "how often the seal key makes a test signature; /readyz answers 503 while it fails")
	fl.StringVar(&c.sealCert, "seal-cert", "", "seal certificate `FILE` (PEM)")
	fl.StringSliceVar(&c.sealChain, "seal-chain", nil, "seal intermediate certificates `FILE` (PEM)")
	fl.StringVar(&c.sealPhrase, "seal-phrase", pades.DefaultSealPhrase, "seal owner's `PHRASE` that begins a PDF signature's /Reason (\"PHRASE w imieniu: NAMES, PESEL: …, PZ ID: LOGIN\")")
	fl.StringSliceVar(&c.profileSeals, "profile-seal", nil, "trusted-profile seal certificates `FILE` (PEM): when set, a profile identity signed by another certificate is reported as claimedProfile (the service's own seal always counts)")
	fl.StringSliceVar(&c.trust, "trust", nil, "trusted roots `FILE` for verification (PEM); the seal chain is always trusted")
	fl.Int64Var(&c.maxDocument, "max-document-size", 10<<20, "largest document accepted, in bytes")
	fl.IntVar(&c.publicVerifyPerMinute, "public-verify-per-minute", 60, "unauthenticated verifications per client address per minute")
	fl.IntVar(&c.lookupsPerClient, "lookups-per-client", 60, "PESEL lookups per integrator key per minute")
	fl.IntVar(&c.lookupsPerAddress, "lookups-per-address", 120, "PESEL lookups per client address per minute")
	fl.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to wait for requests on SIGTERM")
	fl.StringVar(&c.smtpAddr, "smtp-addr", "", "SMTP server `HOST:PORT` for e-mail (default: outbox)")
	fl.StringVar(&c.smtpUser, "smtp-user", "", "SMTP user")
	fl.StringVar(&c.smtpPwd, "smtp-password", "", "SMTP password")
	fl.StringVar(&c.smtpFrom, "smtp-from", "trustsign@localhost", "sender address")
	fl.StringVar(&c.smsURL, "sms-gateway-url", "", "SMS HTTP gateway `URL` (default: outbox)")
	fl.StringVar(&c.smsToken, "sms-gateway-token", "", "SMS gateway bearer token")
	fl.StringVar(&c.publicURL, "public-url", "", "external base `URL` of the service, for sign links (default http://ADDR)")
	fl.StringSliceVar(&c.trustedProxies, "trusted-proxies", nil, "reverse proxies (addresses or CIDRs) whose X-Forwarded-For is believed")
	fl.BoolVar(&c.webhookAllowPrivate, "webhook-allow-private", false, "let webhooks reach loopback and private addresses")
	fl.DurationVar(&c.auditSealEvery, "audit-seal-interval", time.Minute, "how often the audit log's head is signed with the seal key")
	fl.BoolVar(&c.demo, "demo", false, "turn on the demo integrator at /demo (an application form anyone can fill in; for local trials, never in production)")
	fl.StringVar(&c.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://`HOST:PORT`/metrics, without authentication (keep it private, e.g. 127.0.0.1:9090)")
	fl.BoolVar(&c.metricsLoopback, "metrics-loopback", true, "serve /metrics on --addr to direct connections from this host (loopback peer, no forwarding header); off when --metrics-addr is set. Turn it off behind a reverse proxy on this host that adds no X-Forwarded-For")
	fl.StringVar(&c.metricsTokenFile, "metrics-token-file", "", "also serve /metrics on --addr, to requests bearing the token in `FILE` (Authorization: Bearer); default: not on --addr")
	fl.StringVar(&c.auditHeads, "audit-heads", "", "append every signed audit head to `FILE` (JSON Lines; default DATA/audit-heads.jsonl); copy it off the machine, see docs/operations.md")
	fl.StringVar(&c.memoryLimit, "memory-limit", "1GiB", "Go runtime's soft memory `SIZE` (like 1GiB; off: none); the GOMEMLIMIT environment variable wins")
	fl.IntVar(&c.gcPercent, "gc-percent", defaultGCPercent, "Go garbage collector's target: the heap may grow this many percent over the live data before a collection (the Go default is 100; the memory limit still applies); the GOGC environment variable wins")
	fl.IntVar(&c.gomaxprocs, "gomaxprocs", 0, "goroutines running at once (Go's GOMAXPROCS); default: half as many again as the cores the runtime finds (3 on 2 cores), so that a goroutine back from an fsync finds a free slot; the GOMAXPROCS environment variable wins")
	fl.IntVar(&c.verifySlots, "verify-slots", 0, "verifications running at once (API and pages together; more queue briefly, then get 429); default: the CPUs, as many as the memory limit holds")
	fl.StringVar(&c.level, "level", "b-b", "baseline level of the seals, and the highest an integrator may ask for: b-b, b-t (time-stamped by --tsa), b-lt (and the certificates and revocation data) or b-lta (and an archive time-stamp)")
	fl.StringSliceVar(&c.tsaURLs, "tsa", nil, "RFC 3161 time-stamping authority `URL` for --level b-t and above, repeatable (tried in order until one answers)")
	fl.DurationVar(&c.tsaTimeout, "tsa-timeout", 10*time.Second, "time-out of each TSA's answer (a confirmation whose TSAs all fail gets 503 and stays pending)")
	fl.DurationVar(&c.fetchTimeout, "fetch-timeout", 10*time.Second, "time-out of each OCSP, CRL or certificate download for --level b-lt and b-lta")
	fl.StringVar(&c.store, "store", "", storeFlagHelp)
	fl.IntVar(&c.hashSlots, "hash-slots", 0, "password hashes (argon2id, 19 MiB each) run at once; beyond them a login or registration waits up to 2 s, then gets 429 (default: the number of CPUs)")
	return cmd
}

// flagsFromEnv fills every flag not given on the command line from TRUSTSIGN_<NAME>.
func flagsFromEnv(fl *pflag.FlagSet) error {
	var err error
	fl.VisitAll(func(f *pflag.Flag) {
		if f.Changed || err != nil {
			return
		}
		name := "TRUSTSIGN_" + envName(f.Name)
		if v, ok := os.LookupEnv(name); ok {
			if e := fl.Set(f.Name, v); e != nil {
				err = usageErr("%s: %v", name, e)
			}
		}
	})
	return err
}

func envName(flag string) string {
	b := []byte(flag)
	for i, c := range b {
		switch {
		case c == '-':
			b[i] = '_'
		case c >= 'a' && c <= 'z':
			b[i] = c - 32
		}
	}
	return string(b)
}

func runServe(cmd *cobra.Command, c *serveConfig) error {
	logger := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
	var err error
	if c.store, err = storeURLSetting("--store", c.store); err != nil { // TRUSTSIGN_STORE is read into c.store too
		return err
	}
	if _, err := os.Stat(filepath.Join(c.data, bbolt.FileName)); c.store == "" && errors.Is(err, os.ErrNotExist) {
		logger.Warn("no store in the data directory: starting a new one", "store", filepath.Join(c.data, bbolt.FileName))
	}
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return failErr(exitFailed, fmt.Errorf("data directory: %w", err))
	}
	if c.outbox == "" {
		c.outbox = filepath.Join(c.data, "outbox")
	}
	seals, err := readSeals(c, logger)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return failErr(exitFailed, err)
	}
	seal := seals.current
	c.sealCerts = seals.certificates()
	if err := sealLevel(c, c.sealCerts, &signing.Options{}); err != nil {
		return err // refused before the store opens: --level above b-b without --tsa
	}
	policy := &verify.Policy{}
	for _, set := range []struct {
		what  string
		files []string
		into  *[]*x509.Certificate
	}{{"trust", c.trust, &policy.Roots}, {"profile seal", c.profileSeals, &policy.ProfileSeals}} {
		for _, p := range set.files {
			raw, err := os.ReadFile(p)
			if err != nil {
				return failErr(exitNoInput, fmt.Errorf("%s file: %w", set.what, err))
			}
			certs, err := signer.LoadCertificates(raw)
			if err != nil {
				return usageErr("%s file %s: %v", set.what, p, err)
			}
			*set.into = append(*set.into, certs...)
		}
	}
	for _, chain := range seals.chains {
		if len(policy.ProfileSeals) > 0 {
			// the service's own seals (current and previous) vouch for the identities they signed
			policy.ProfileSeals = append(policy.ProfileSeals, chain[0])
		}
		// the service's own seal chains are trusted for verification: each last certificate is an anchor
		policy.Roots = append(policy.Roots, chain[len(chain)-1])
		policy.Intermediates = append(policy.Intermediates, chain...)
	}

	if err := applyMemoryLimit(c, logger); err != nil {
		return err
	}
	if err := applyGCPercent(c, logger); err != nil {
		return err
	}
	if err := applyGOMAXPROCS(c, logger); err != nil {
		return err
	}
	if c.metricsToken, err = readMetricsToken(c.metricsTokenFile); err != nil {
		return err
	}
	srv, err := newService(c, seal, policy, logger)
	if err != nil {
		return failErr(exitFailed, err)
	}
	defer srv.Close()
	srv.seals.id = seals.id

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return failErr(exitFailed, fmt.Errorf("listen on %s: %w", c.addr, err))
	}
	if c.metricsAddr != "" {
		mln, err := net.Listen("tcp", c.metricsAddr)
		if err != nil {
			return failErr(exitFailed, fmt.Errorf("listen on %s (metrics): %w", c.metricsAddr, err))
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", srv.metrics)
		ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: time.Minute}
		go ms.Serve(mln) //nolint:errcheck // closed below
		defer ms.Close()
		logger.Info("metrics serving", "addr", mln.Addr().String())
	}
	hs := &http.Server{Handler: srv.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// SIGHUP reads the seal configuration again and switches to its current seal (docs/operations.md)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				srv.seals.reload(ctx) //nolint:errcheck // logged; the service keeps its seal
			}
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("trustsign serving", "addr", ln.Addr().String(), "data", c.data, "outbox", c.outbox, "store", srv.store,
		"seal", seals.id, "sealSubject", seal.Certificate.Subject.String())
	select {
	case err := <-errc:
		return failErr(exitFailed, err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), c.shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return failErr(exitFailed, fmt.Errorf("shutdown: %w", err))
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return failErr(exitFailed, err)
	}
	return nil
}

// loadOrCreateSeal loads the configured seal, or creates a development one under DATA/dev-seal.
func loadOrCreateSeal(c *serveConfig, logger *slog.Logger) (*signer.Seal, error) {
	if c.sealKey != "" || c.sealCert != "" {
		if c.sealKey == "" || c.sealCert == "" {
			return nil, usageErr("--seal-key and --seal-cert go together")
		}
		return loadSeal(c.sealKey, c.sealCert, c.sealChain...)
	}
	dir := filepath.Join(c.data, "dev-seal")
	keyPath, certPath, caPath := filepath.Join(dir, "seal.key"), filepath.Join(dir, "seal.pem"), filepath.Join(dir, "ca.pem")
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		if err := createDevSeal(dir, keyPath, certPath, caPath); err != nil {
			return nil, fmt.Errorf("creating the development seal: %w", err)
		}
	}
	logger.Warn("using a DEVELOPMENT seal key generated in " + dir + ": signatures made with it prove nothing; configure --seal-key and --seal-cert for production")
	return signer.LoadSealFiles(keyPath, certPath, caPath)
}

func createDevSeal(dir, keyPath, certPath, caPath string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	serial := func() *big.Int { n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)); return n }
	caTmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{Country: []string{"PL"}, Organization: []string{"trustsign development"},
		CommonName: "trustsign DEVELOPMENT CA (not for production)"}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{Country: []string{"PL"}, Organization: []string{"trustsign development"},
		CommonName: "trustsign DEVELOPMENT seal (not for production)"}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(3, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
		return err
	}
	if err := writeFileAtomic(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		return err
	}
	return writeFileAtomic(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// service is the running service's parts.
type service struct {
	store   string // the store's file or database (no password), for the log
	handler http.Handler
	metrics http.Handler // for --metrics-addr
	seals   *sealSwitch  // switches the seal on SIGHUP
	close   []func() error
}

func (s *service) Close() {
	for i := len(s.close) - 1; i >= 0; i-- {
		s.close[i]() //nolint:errcheck
	}
}

// domain holds the opened store and the domain services over it (shared by serve and the admin commands).
type domain struct {
	db       *openedStore
	profiles *profile.Service
	outbox   string
	demoKey  []byte // web.Config.DemoKey, derived from the profile secret
}

// openDomain opens the data directory's bbolt store and the profile service (openDomainStore with the default
// store).
func openDomain(dataDir string, send profile.Sender, options ...func(*profile.Options)) (*domain, error) {
	return openDomainStore(context.Background(), dataDir, "", send, options...)
}

// openDomainStore opens the store (the bbolt file in dataDir, or the PostgreSQL database at storeURL: see
// openStore) and the profile service, whose secret is in dataDir. send may be nil (admin commands); options adjust
// the profile service's options.
func openDomainStore(ctx context.Context, dataDir, storeURL string, send profile.Sender, options ...func(*profile.Options)) (*domain, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// the store first: a node with the wrong chain key file is refused before it makes a profile secret
	db, err := openStore(ctx, dataDir, storeURL, false)
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			return nil, fmt.Errorf("the data directory %s is in use by another trustsign process that does not answer on %s (stop it first)",
				dataDir, filepath.Join(dataDir, adminSocketName))
		}
		return nil, err
	}
	secret, err := profile.LoadOrCreateSecret(filepath.Join(dataDir, profile.SecretFileName), nil)
	if err != nil {
		db.Close()
		return nil, err
	}
	if send == nil {
		send = discardSender{}
	}
	po := profile.Options{Secret: secret}
	for _, o := range options {
		o(&po)
	}
	ps, err := profile.New(db, send, po)
	if err != nil {
		db.Close()
		if errors.Is(err, profile.ErrSecretMismatch) {
			return nil, fmt.Errorf("%s does not belong to the store %s: %w", filepath.Join(dataDir, profile.SecretFileName), db.where, err)
		}
		return nil, err
	}
	// the demo's case cookies verify on every node that shares the secret
	demoKey := hmac.New(sha256.New, secret)
	demoKey.Write([]byte("trustsign web demo cookie key v1"))
	return &domain{db: db, profiles: ps, demoKey: demoKey.Sum(nil)}, nil
}

type discardSender struct{}

func (discardSender) Send(context.Context, notify.Message) error { return nil }

// sender builds the message delivery from the configuration: SMTP and the SMS gateway when configured, the
// outbox directory otherwise (the development default, SMS included).
func sender(c *serveConfig) (profile.Sender, error) {
	outbox, err := notify.NewOutbox(c.outbox, notify.OutboxOptions{})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	r := notify.Router{Email: outbox, SMS: outbox}
	if c.smtpAddr != "" {
		host, port, err := net.SplitHostPort(c.smtpAddr)
		if err != nil {
			return nil, usageErr("--smtp-addr must be HOST:PORT")
		}
		pn, err := strconv.Atoi(port)
		if err != nil || pn <= 0 || pn > 65535 {
			return nil, usageErr("--smtp-addr must be HOST:PORT")
		}
		smtp, err := notify.NewSMTP(notify.SMTPOptions{Host: host, Port: pn, Username: c.smtpUser, Password: c.smtpPwd, From: c.smtpFrom})
		if err != nil {
			return nil, err
		}
		r.Email = smtp
	}
	if c.smsURL != "" {
		sms, err := notify.NewSMSGateway(notify.SMSGatewayOptions{URL: c.smsURL, Token: c.smsToken, Sender: "PZ"})
		if err != nil {
			return nil, err
		}
		r.SMS = sms
	}
	return r, nil
}

func newService(c *serveConfig, seal *signer.Seal, policy *verify.Policy, logger *slog.Logger) (*service, error) {
	send, err := sender(c)
	if err != nil {
		return nil, err
	}
	if c.hashSlots < 0 {
		return nil, usageErr("--hash-slots must not be negative")
	}
	d, err := openDomainStore(context.Background(), c.data, c.store, send, func(o *profile.Options) { o.HashSlots = c.hashSlots })
	if err != nil {
		return nil, err
	}
	svc := &service{store: d.db.where, close: []func() error{d.db.Close}}
	// on PostgreSQL audit events are chained in the background; an error there leaves them queued (retried, and
	// reported by audit verify): say so in the log
	d.db.SetAuditChainErrorFunc(func(err error) { logger.Error("audit chain: events stay queued", "error", err.Error()) })
	svc.close = append(svc.close, func() error { d.profiles.WaitForDeliveries(); return nil }) // password-reset codes in flight
	publicURL := strings.TrimSuffix(c.publicURL, "/")
	if publicURL == "" {
		publicURL = "http://" + c.addr
	}
	demoID := demoClientID(c, logger) // the demo integrator: web serves /demo, signing marks its PDFs
	// webhooks are recorded with the request's end and posted by whichever node's deliverer claims them
	deliverer := signing.NewDeliverer(d.db, signing.WebhookOptions{Logger: logger, AllowPrivate: c.webhookAllowPrivate})
	so := signing.Options{
		SignURL:    func(id string) string { return publicURL + "/sign/" + id },
		Webhooks:   deliverer,
		SealPhrase: c.sealPhrase,

		DemoClientID: demoID,
	}
	sealCerts := c.sealCerts
	if sealCerts == nil {
		sealCerts = seal.Chain
	}
	if err := sealLevel(c, sealCerts, &so); err != nil {
		svc.Close()
		return nil, err
	}
	flow := signing.New(d.db, d.profiles, seal, so)
	// a test signature every --seal-check-interval: /readyz says 503 while the seal key (a token) cannot sign
	monitor := &signer.KeyMonitor{Key: seal.Key, Every: c.sealCheckEvery, OnChange: func(err error) {
		if err != nil {
			logger.Error("seal key check failed: not ready", "error", err.Error())
		} else {
			logger.Info("seal key check passed")
		}
	}}
	monitor.CheckNow(context.Background()) //nolint:errcheck // recorded for /readyz
	svc.seals = &sealSwitch{c: c, logger: logger, flow: flow, monitor: monitor, id: sealID(seal), started: seal, current: seal}
	ready := func(ctx context.Context) error {
		if err := d.db.Ping(ctx); err != nil {
			return err
		}
		if err := monitor.Err(); err != nil {
			return fmt.Errorf("seal key: %w", err)
		}
		return nil
	}
	slots := newVerifySlots(c, logger)
	// several nodes serve one PostgreSQL database: they share the API's rate limits and the verification page's
	// report links through it; on bbolt (one node) both stay in memory
	var sharedLimits api.LimitStore
	var sharedReports web.ReportStore
	if d.db.pg != nil {
		sharedLimits, sharedReports = d.db, d.db
	}
	a, err := api.New(api.Config{Logger: logger, MaxDocumentBytes: c.maxDocument, VerifyPolicy: policy, VerifySlots: slots,
		LookupsPerClient: c.lookupsPerClient, LookupsPerAddress: c.lookupsPerAddress,
		PublicVerifyPerMinute: c.publicVerifyPerMinute, TrustedProxies: c.trustedProxies, Profiles: d.profiles, Signing: flow, Maintenance: d.db, SharedLimits: sharedLimits,
		MetricsToken: c.metricsToken, MetricsLoopback: metricsLoopback(c, logger), SecureCookies: strings.HasPrefix(publicURL, "https://"), Ready: ready})
	if err != nil {
		svc.Close()
		return nil, err
	}
	pages, err := web.New(web.Config{Profiles: d.profiles, Signing: flow, VerifyPolicy: policy, Logger: logger,
		Secure: strings.HasPrefix(publicURL, "https://"), DemoClientID: demoID, PublicURL: publicURL, Maintenance: d.db,
		MaxUploadBytes: c.maxDocument, Metrics: a.PageMetrics(), VerifySlots: slots, SharedReports: sharedReports, DemoKey: d.demoKey,
		TrustedProxies: c.trustedProxies}) // per-address registration limits read the client address as the API does
	if err != nil {
		svc.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	for _, p := range []string{"/v1/", "/healthz", "/readyz", "/metrics", "/openapi.json"} {
		mux.Handle(p, a)
	}
	mux.Handle("/", pages)
	svc.metrics = a.MetricsHandler()
	// browsers never reach the API cross-site with credentials: refuse cross-origin unsafe requests everywhere
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// refused before the API or the pages see it: logged here, in their format
		id := r.Header.Get("X-Request-Id")
		if len(id) > 64 {
			id = ""
		}
		logger.LogAttrs(r.Context(), slog.LevelWarn, "request", slog.String("requestId", id),
			slog.String("method", r.Method), slog.String("route", "cross-origin-refused"), slog.Int("status", http.StatusForbidden),
			slog.Float64("durationMs", 0))
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	svc.handler = cop.Handler(mux)
	// background work: expire applications and signing requests, seal the audit log's head (each once per interval
	// over all the nodes on the store, under a lease: jobs.go), post the webhooks owed (every node)
	ctx, cancel := context.WithCancel(context.Background())
	var background sync.WaitGroup
	node := nodeName()
	background.Go(func() {
		(&periodic{db: d.db.DB, name: "sweeps", holder: node, every: time.Minute, now: time.Now, logger: logger,
			job: sweeps(logger, d.profiles, flow)}).runEvery(ctx)
	})
	background.Go(func() { deliverer.Run(ctx) })
	background.Go(func() { monitor.Run(ctx) })
	heads := c.auditHeads
	if heads == "" {
		heads = filepath.Join(c.data, defaultHeadsFile)
	}
	sealer := &rotatingAuditSealer{seal: svc.seals.seal, publish: func(r audit.Record) error {
		logger.Info("audit sealed", "seq", r.Seq, "hash", r.Hash, "headSeq", r.Details["headSeq"], "headHash", r.Details["headHash"], "reason", r.Details["reason"])
		return audit.AppendHeadFile(heads, r)
	}}
	background.Go(func() {
		// this node's start seal covers what a crash of it left unsealed; the interval seals are one per interval
		if _, err := sealer.SealNow(ctx, d.db, audit.SealStart); err != nil && ctx.Err() == nil {
			logger.Error("audit seal", "error", err.Error())
		}
		if c.auditSealEvery <= 0 {
			return
		}
		auditSeals(d.db.DB, sealer, node, c.auditSealEvery, time.Now, logger).runEvery(ctx)
	})
	// runs before the store closes (close funcs run last first), after the HTTP server drained: stop the
	// background writers, then seal, so that no record lands after the shutdown seal
	svc.close = append(svc.close, func() error {
		cancel()
		background.Wait()
		// on PostgreSQL other nodes may go on writing: this node's stop does not end the log's sealing
		reason := audit.SealShutdown
		if d.db.pg != nil {
			reason = audit.SealNodeStop
		}
		if _, err := sealer.SealNow(context.Background(), d.db, reason); err != nil {
			logger.Error("audit seal on shutdown", "error", err.Error())
			return err
		}
		return nil
	})
	// admin commands while the server runs (closed first on shutdown, before the shutdown seal: close funcs run last first): they reach the open store over DATA/admin.sock (adminsock.go)
	if d.db.bolt == nil {
		// PostgreSQL admits many processes: admin commands open the database themselves (and several nodes may share this --data)
		markPostgresData(c.data, c.store)
		logger.Info("no admin socket on PostgreSQL: admin commands given the same --store open the database themselves")
	} else if as, err := listenAdmin(c.data, d, logger); err != nil {
		// e.g. a data path longer than a socket address allows: the service runs, admin commands need it stopped
		logger.Warn("no admin socket: admin commands need the server stopped", "error", err.Error())
	} else {
		go as.serve(ctx)
		svc.close = append(svc.close, as.Close)
	}
	return svc, nil
}

// metricsLoopback decides the --metrics-loopback rule: off with a metrics listener of its own, and off in a
// deployment behind a proxy (--trusted-proxies, or a --public-url whose host is not a loopback name), where a
// same-host proxy that adds no forwarding header would make every visitor look like this host.
func metricsLoopback(c *serveConfig, logger *slog.Logger) bool {
	if !c.metricsLoopback || c.metricsAddr != "" {
		return false
	}
	if len(c.trustedProxies) > 0 {
		logger.Info("/metrics: the loopback rule is off behind --trusted-proxies (use --metrics-addr or --metrics-token-file)")
		return false
	}
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		host := ""
		if err == nil {
			host = u.Hostname()
		}
		ip, _ := netip.ParseAddr(host)
		if host != "localhost" && !ip.IsLoopback() {
			logger.Info("/metrics: the loopback rule is off for a public --public-url (use --metrics-addr or --metrics-token-file)")
			return false
		}
	}
	return true
}

// demoClientID is the demo integrator's client id, or "" (the demo off) without --demo.
func demoClientID(c *serveConfig, logger *slog.Logger) string {
	if !c.demo {
		return ""
	}
	logger.Warn("the demo integrator is on (/demo): anyone can file demonstration requests that real holders may sign; for local trials only")
	return "demo"
}

// sweeps is the job of the "sweeps" lease: expire profiles, applications and signing requests.
func sweeps(logger *slog.Logger, ps *profile.Service, flow *signing.Service) func(context.Context) error {
	return func(ctx context.Context) error {
		_, perr := ps.Sweep(ctx)
		if perr != nil && ctx.Err() == nil {
			logger.Error("profile sweep", "error", perr.Error())
		}
		_, _, serr := flow.Sweep(ctx, 7*24*time.Hour)
		if serr != nil && ctx.Err() == nil {
			logger.Error("signing sweep", "error", serr.Error())
		}
		return errors.Join(perr, serr)
	}
}

// headSealer seals the audit log's head: an audit.Sealer, or rotatingAuditSealer.
type headSealer interface {
	SealNow(ctx context.Context, u audit.Updater, reason string) (bool, error)
}

// rotatingAuditSealer seals the audit log's head with the service's seal in use at that moment: after a SIGHUP
// switch, the new current seal signs the heads too, so that a retired seal key is not needed by the audit log.
type rotatingAuditSealer struct {
	seal    func() *signer.Seal
	publish func(audit.Record) error
}

func (a *rotatingAuditSealer) SealNow(ctx context.Context, u audit.Updater, reason string) (bool, error) {
	s := a.seal()
	return (&audit.Sealer{Signer: s.Key, Certificate: s.Certificate, Publish: a.publish}).SealNow(ctx, u, reason)
}

// auditSeals is the periodic interval seal of the audit log (the "audit-seal" lease): one seal per interval over
// all the nodes, as audit.VerifyOptions.SealInterval expects. It first looks an interval after now (the start
// seal was just made).
func auditSeals(db *store.DB, sealer headSealer, node string, every time.Duration, now func() time.Time, logger *slog.Logger) *periodic {
	return &periodic{db: db, name: "audit-seal", holder: node, every: every, now: now, logger: logger, last: now(),
		job: func(ctx context.Context) error {
			_, err := sealer.SealNow(ctx, db, audit.SealInterval)
			if err != nil && ctx.Err() == nil {
				logger.Error("audit seal", "error", err.Error())
			}
			return err
		}}
}

// readMetricsToken reads the token of --metrics-token-file ("" without the flag). A short token is refused: it
// guards the metrics on the public address.
func readMetricsToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", failErr(exitNoInput, fmt.Errorf("metrics token file: %w", err))
	}
	tok := strings.TrimSpace(string(raw))
	if len(tok) < 16 || strings.ContainsAny(tok, " \t\r\n") {
		return "", usageErr("metrics token file %s: one token of at least 16 characters expected", path)
	}
	return tok, nil
}
