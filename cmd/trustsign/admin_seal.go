package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trustsign/trustsign/signer"
)

// newAdminSealCmd is `admin seal keygen|csr|install`: the seal key's life in a PKCS#11 token. These commands work
// on the token, not on the store, so they are never forwarded to a running server.
func newAdminSealCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seal",
		Short: "Seal keys in a PKCS#11 token: make a key, its certificate request, install its certificate",
		Long: `Seal keys in a PKCS#11 token (an HSM, or SoftHSM2 for trials), named by an RFC 7512 URI whose PIN is in a file
readable only by you:

  K='pkcs11:token=trustsign;object=seal-2027?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/trustsign/pin'
  trustsign admin seal keygen --key "$K"                      # EC P-256 (or --curve p384, --rsa 3072)
  trustsign admin seal csr --key "$K" --cn "Urząd X seal" --o "Urząd X" --c PL -o seal-2027.csr
  # ... the CA issues seal-2027.pem ...
  trustsign admin seal install --key "$K" --cert seal-2027.pem --chain ca.pem -o /etc/trustsign/seal-2027-chain.pem [--to-token]

Then serve with --seal-key "$K" --seal-cert /etc/trustsign/seal-2027-chain.pem, or list it in --seal-config and
send SIGHUP (docs/operations.md, "Seal keys in an HSM").`,
		Args: noArgs,
		// the token, not the store: nothing to hand to a running server
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
	}
	cmd.AddCommand(newAdminSealKeygenCmd(), newAdminSealCSRCmd(), newAdminSealInstallCmd())
	for _, c := range cmd.Commands() {
		c.Args = noArgs
		c.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	}
	return cmd
}

func parseKeyURI(s string) (*signer.PKCS11URI, error) {
	if s == "" {
		return nil, usageErr("--key pkcs11:… is required")
	}
	u, err := signer.ParsePKCS11URI(s)
	if err != nil {
		return nil, usageErr("--key: %v", err)
	}
	return u, nil
}

// spkiFingerprint is the SHA-256 of a public key's SubjectPublicKeyInfo, in hex.
func spkiFingerprint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "?"
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func describePublic(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	}
	return fmt.Sprintf("%T", pub)
}

func newAdminSealKeygenCmd() *cobra.Command {
	var key, curve string
	var rsaBits int
	cmd := &cobra.Command{
		Use:   "keygen --key PKCS11-URI [--curve p256|p384 | --rsa BITS]",
		Short: "Make a seal key pair in the token (EC P-256 by default); never replaces a key",
		RunE: func(cmd *cobra.Command, _ []string) error {
			uri, err := parseKeyURI(key)
			if err != nil {
				return err
			}
			var c elliptic.Curve
			switch strings.ToLower(curve) {
			case "p256", "p-256":
				c = elliptic.P256()
			case "p384", "p-384":
				c = elliptic.P384()
			default:
				return usageErr("--curve: p256 or p384")
			}
			if rsaBits != 0 && (rsaBits < 2048 || rsaBits > 8192) {
				return usageErr("--rsa: 2048 to 8192 bits")
			}
			if rsaBits != 0 && cmd.Flags().Changed("curve") {
				return usageErr("--rsa and --curve exclude each other")
			}
			tok, err := openToken(uri)
			if err != nil {
				return sealCmdErr(err)
			}
			defer tok.Close()
			k, id, err := tok.generate(rsaBits, c)
			if err != nil {
				return sealCmdErr(err)
			}
			made := *uri
			made.ID = id
			fmt.Fprintf(cmd.OutOrStdout(), "key:         %s\nalgorithm:   %s\nfingerprint: SHA-256 %s (SubjectPublicKeyInfo)\n",
				made.String(), describePublic(k.Public()), spkiFingerprint(k.Public()))
			return nil
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "the new key's PKCS#11 `URI` (token=…;object=LABEL[;id=…]?module-path=…&pin-source=file:…)")
	cmd.Flags().StringVar(&curve, "curve", "p256", "EC curve: p256 or p384")
	cmd.Flags().IntVar(&rsaBits, "rsa", 0, "make an RSA key of `BITS` (2048-8192) instead of EC")
	return cmd
}

// oidOrganizationIdentifier is X.520 organizationIdentifier (2.5.4.97), which eIDAS seal certificates carry
// (e.g. VATPL-1234567890).
var oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

func newAdminSealCSRCmd() *cobra.Command {
	var key, out, cn, o, ou, c, l, orgID string
	cmd := &cobra.Command{
		Use:   "csr --key PKCS11-URI --cn NAME [--o ORG] [--c PL] [--org-id VATPL-…] -o CSR.pem",
		Short: "Make a PKCS#10 certificate request signed by the token's seal key",
		RunE: func(cmd *cobra.Command, _ []string) error {
			uri, err := parseKeyURI(key)
			if err != nil {
				return err
			}
			if strings.TrimSpace(cn) == "" {
				return usageErr("csr needs --cn")
			}
			if out == "" {
				return usageErr("csr needs -o FILE (- for standard output)")
			}
			subj := pkix.Name{CommonName: cn}
			for _, f := range []struct {
				v  string
				to *[]string
			}{{o, &subj.Organization}, {ou, &subj.OrganizationalUnit}, {c, &subj.Country}, {l, &subj.Locality}} {
				if f.v != "" {
					*f.to = []string{f.v}
				}
			}
			if orgID != "" {
				subj.ExtraNames = append(subj.ExtraNames, pkix.AttributeTypeAndValue{Type: oidOrganizationIdentifier, Value: orgID})
			}
			tok, err := openToken(uri)
			if err != nil {
				return sealCmdErr(err)
			}
			defer tok.Close()
			k, err := tok.keyPair()
			if err != nil {
				return sealCmdErr(err)
			}
			tmpl := &x509.CertificateRequest{Subject: subj}
			if ec, ok := k.Public().(*ecdsa.PublicKey); ok && ec.Curve == elliptic.P384() {
				tmpl.SignatureAlgorithm = x509.ECDSAWithSHA384
			}
			der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, k)
			if err != nil {
				return failErr(exitFailed, fmt.Errorf("signing the request in the token: %w", err))
			}
			if csr, err := x509.ParseCertificateRequest(der); err != nil || csr.CheckSignature() != nil {
				return failErr(exitFailed, fmt.Errorf("the token made a request whose signature does not verify"))
			}
			return writeOutput(cmd, out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&key, "key", "", "the seal key's PKCS#11 `URI`")
	fl.StringVarP(&out, "output", "o", "", "request `FILE` (PEM; - for standard output)")
	fl.StringVar(&cn, "cn", "", "subject common name")
	fl.StringVar(&o, "o", "", "subject organization")
	fl.StringVar(&ou, "ou", "", "subject organizational unit")
	fl.StringVar(&c, "c", "", "subject country (two letters)")
	fl.StringVar(&l, "l", "", "subject locality")
	fl.StringVar(&orgID, "org-id", "", "subject organizationIdentifier (2.5.4.97), e.g. VATPL-1234567890")
	return cmd
}

func newAdminSealInstallCmd() *cobra.Command {
	var key, cert, out string
	var chain []string
	var toToken bool
	cmd := &cobra.Command{
		Use:   "install --key PKCS11-URI --cert CERT.pem [--chain CA.pem] (-o CHAIN.pem | --to-token)",
		Short: "Check an issued certificate against the token's key and install it (a chain file for serve, and/or the token)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			uri, err := parseKeyURI(key)
			if err != nil {
				return err
			}
			if cert == "" || (out == "" && !toToken) {
				return usageErr("install needs --cert and -o FILE and/or --to-token")
			}
			certs, err := signer.LoadCertificateFiles(append([]string{cert}, chain...)...)
			if err != nil {
				return failErr(exitDataErr, err)
			}
			tok, err := openToken(uri)
			if err != nil {
				return sealCmdErr(err)
			}
			defer tok.Close()
			k, err := tok.keyPair()
			if err != nil {
				return sealCmdErr(err)
			}
			// the certificate's key must be the token's (NewSeal), and the token's key must sign what it verifies
			seal, err := signer.NewSeal(k, certs)
			if err != nil {
				return failErr(exitDataErr, err)
			}
			if err := (&signer.KeyMonitor{Key: k}).CheckNow(cmd.Context()); err != nil {
				return failErr(exitDataErr, fmt.Errorf("%w: %v", signer.ErrKeyMismatch, err))
			}
			if toToken {
				if err := tok.importCertificate(k, seal.Certificate); err != nil {
					return failErr(exitFailed, fmt.Errorf("storing the certificate in the token: %w", err))
				}
			}
			if out != "" {
				var pemOut []byte
				for _, c := range seal.Chain {
					pemOut = append(pemOut, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
				}
				if err := writeOutput(cmd, out, pemOut); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "installed %q (%s, fingerprint SHA-256 %s) for %s\n", seal.Certificate.Subject.String(),
				describePublic(k.Public()), spkiFingerprint(k.Public()), uri.String())
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&key, "key", "", "the seal key's PKCS#11 `URI`")
	fl.StringVar(&cert, "cert", "", "the issued certificate `FILE` (PEM)")
	fl.StringSliceVar(&chain, "chain", nil, "its issuers `FILE` (PEM), repeatable")
	fl.StringVarP(&out, "output", "o", "", "write the certificate and chain to `FILE` (for serve --seal-cert)")
	fl.BoolVar(&toToken, "to-token", false, "also store the certificate in the token, next to the key (same id and label)")
	return cmd
}

// sealCmdErr gives a token failure its exit status.
func sealCmdErr(err error) error {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.Is(err, signer.ErrPKCS11URI):
		return usageErr("%v", err)
	}
	return failErr(exitFailed, err)
}
