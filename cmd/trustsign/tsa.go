package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/tsa/devtsa"
)

type tsaFlags struct {
	key, cert, addr, policy string
	chain                   []string
}

func newTSACmd() *cobra.Command {
	f := &tsaFlags{}
	cmd := &cobra.Command{
		Use:   "tsa --key KEY.pem --cert CERT.pem [--chain CA.pem] [--addr 127.0.0.1:3161]",
		Short: "Serve a development RFC 3161 time-stamping authority (never for production)",
		Long: `Serve an RFC 3161 TSA over HTTP for demos and tests: every POSTed application/timestamp-query gets a token
signed with KEY, stamped with this machine's clock. There is no audit log, no clock discipline and no key
protection: never use it as a production TSA, and never point a production service at it.

The certificate should carry a critical extended key usage id-kp-timeStamping and nothing else (RFC 3161 2.3);
trustsign's client refuses tokens from any other. --chain certificates are checked at start-up only (tokens carry the
TSA certificate; verifiers need the intermediates from their own configuration).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTSA(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "TSA private key `FILE` (PEM)")
	fl.StringVar(&f.cert, "cert", "", "TSA certificate `FILE` (PEM)")
	fl.StringSliceVar(&f.chain, "chain", nil, "intermediate certificates `FILE` (PEM), repeatable")
	fl.StringVar(&f.addr, "addr", "127.0.0.1:3161", "listen `ADDRESS`")
	fl.StringVar(&f.policy, "policy", "1.2.3.4.1", "TSA policy `OID` put in tokens")
	return cmd
}

func runTSA(cmd *cobra.Command, f *tsaFlags) error {
	if f.key == "" || f.cert == "" {
		return usageErr("tsa needs --key and --cert")
	}
	policy, err := parseOID(f.policy)
	if err != nil {
		return usageErr("--policy %q is not an OID (e.g. 1.2.3.4.1)", f.policy)
	}
	keyPEM, err := os.ReadFile(f.key)
	if err != nil {
		return failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", f.key, causeOf(err)))
	}
	key, err := signer.LoadPrivateKey(keyPEM)
	if err != nil {
		return failErr(exitDataErr, fmt.Errorf("%s: %w", f.key, err))
	}
	var certs []*x509.Certificate
	for _, p := range append([]string{f.cert}, f.chain...) {
		data, err := os.ReadFile(p)
		if err != nil {
			return failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", p, causeOf(err)))
		}
		c, err := signer.LoadCertificates(data)
		if err != nil {
			return failErr(exitDataErr, fmt.Errorf("%s: %w", p, err))
		}
		certs = append(certs, c...)
	}
	cert := certs[0]
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return failErr(exitDataErr, fmt.Errorf("%s does not match the key in %s", f.cert, f.key))
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	logger.Warn("development TSA: not for production (no audit log, no clock discipline, no key protection)")
	if !hasCriticalTimeStampingEKU(cert) {
		logger.Warn("the TSA certificate lacks a critical id-kp-timeStamping EKU: trustsign and most verifiers refuse its tokens")
	}
	if len(certs) > 1 {
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		roots := x509.NewCertPool()
		roots.AddCert(certs[len(certs)-1])
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
			logger.Warn("the TSA certificate does not chain to --chain", "err", err)
		}
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return failErr(exitFailed, fmt.Errorf("listen %s: %w", f.addr, err))
	}
	hs := &http.Server{Handler: &devtsa.Responder{Certificate: cert, Key: key, Policy: policy, Accuracy: time.Second},
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	logger.Info("TSA serving", "url", "http://"+ln.Addr().String()+"/", "subject", cert.Subject.String())
	select {
	case err := <-errc:
		return failErr(exitFailed, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return failErr(exitFailed, err)
	}
	return nil
}

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, errors.New("too short")
	}
	oid := make(asn1.ObjectIdentifier, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, errors.New("not a number")
		}
		oid[i] = n
	}
	return oid, nil
}

func hasCriticalTimeStampingEKU(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) {
			return e.Critical && len(c.ExtKeyUsage) == 1 && c.ExtKeyUsage[0] == x509.ExtKeyUsageTimeStamping &&
				len(c.UnknownExtKeyUsage) == 0
		}
	}
	return false
}

// publicKeysEqual compares two public keys of the standard library's types.
func publicKeysEqual(a, b any) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
