package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/pdf"
	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/tsa"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

// Baseline levels (ETSI EN 319 132-1 and EN 319 142-1), as --level takes them.
const (
	levelBB   = "b-b"
	levelBT   = "b-t"
	levelBLT  = "b-lt"
	levelBLTA = "b-lta"
)

// stampFlags are the flags of sign and extend that say which level to reach and where time-stamps and validation
// data come from.
type stampFlags struct {
	level        string
	tsaURLs      []string
	tsaTrust     []string
	tsaTimeout   time.Duration
	fetchTimeout time.Duration
	// fetchAllowPrivate lets extend fetch from private addresses (see untrustedFetchClient).
	fetchAllowPrivate bool
}

func addStampFlags(fl *pflag.FlagSet, f *stampFlags, levels, defaultLevel string) {
	fl.StringVar(&f.level, "level", defaultLevel, "baseline level: "+levels+" (b-t: a signature time-stamp from --tsa; b-lt: and the certificates and revocation data; b-lta: and an archive time-stamp)")
	fl.StringSliceVar(&f.tsaURLs, "tsa", nil, "RFC 3161 time-stamping authority `URL`, repeatable (tried in order until one answers)")
	fl.StringSliceVar(&f.tsaTrust, "tsa-trust", nil, "trust anchors `FILE` (PEM) the TSA certificate must chain to (with the --chain certificates as intermediates), repeatable; without it the TSA's EKU and validity are still checked")
	fl.DurationVar(&f.tsaTimeout, "tsa-timeout", 10*time.Second, "time-out of each TSA's answer")
	fl.DurationVar(&f.fetchTimeout, "fetch-timeout", 10*time.Second, "time-out of each OCSP, CRL or certificate download for b-lt and b-lta")
}

// longTerm is what --level asks of sign and extend.
type longTerm struct {
	level string
	// stamp asks the TSAs for a token (nil without --tsa).
	stamp func(ctx context.Context, imprint []byte) ([]byte, error)
	// validation gathers certificates and revocation data for b-lt and b-lta.
	validation revocation.Source
}

// extends tells whether the level is reached by extending a B-T signature.
func (lt *longTerm) extends() bool { return lt.level == levelBLT || lt.level == levelBLTA }

// newLongTerm checks the level and TSA flags and builds the time-stamp client (failover over the --tsa URLs, with
// keep-alive connections) and the validation-data fetcher. needTSA says whether every level above b-b requires
// --tsa (sign) or only the levels that always add a time-stamp (extend: b-lt adds one only to a B-B signature).
// certs help build the chains whose revocation data is fetched (the seal's chain, --chain, --tsa-trust).
func newLongTerm(f *stampFlags, h crypto.Hash, chainFiles []string, certs []*x509.Certificate, forSign bool) (*longTerm, error) {
	lt := &longTerm{level: strings.ToLower(f.level)}
	switch lt.level {
	case levelBB:
		if !forSign {
			return nil, usageErr("extend takes --level b-t, b-lt or b-lta")
		}
		if len(f.tsaURLs) > 0 {
			return nil, usageErr("--tsa applies to --level b-t, b-lt and b-lta")
		}
		return lt, nil
	case levelBT, levelBLT, levelBLTA:
	default:
		if forSign {
			return nil, usageErr("unknown --level %q (b-b, b-t, b-lt or b-lta)", f.level)
		}
		return nil, usageErr("unknown --level %q (b-t, b-lt or b-lta)", f.level)
	}
	if len(f.tsaURLs) == 0 && (forSign || lt.level != levelBLT) {
		return nil, usageErr("--level %s needs --tsa URL", lt.level)
	}
	if f.fetchTimeout <= 0 {
		return nil, usageErr("--fetch-timeout must be positive")
	}
	if lt.extends() {
		fetcher := &revocation.Fetcher{Timeout: f.fetchTimeout, Certificates: certs}
		if !forSign {
			// extend: the certificates come from a file someone else may have made
			fetcher.Client = untrustedFetchClient(f.fetchAllowPrivate)
		}
		lt.validation = fetcher.Collect
	}
	if len(f.tsaURLs) == 0 {
		lt.stamp = func(context.Context, []byte) ([]byte, error) {
			return nil, errors.New("the signature has no time-stamp yet: give --tsa URL")
		}
		return lt, nil
	}
	c, err := newTSAClient(f, h, chainFiles)
	if err != nil {
		return nil, err
	}
	lt.stamp = tokenDER(c)
	return lt, nil
}

// newTSAClient is the time-stamp client of --tsa, --tsa-timeout and --tsa-trust.
func newTSAClient(f *stampFlags, h crypto.Hash, chainFiles []string) (*tsa.Client, error) {
	for _, u := range f.tsaURLs {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return nil, usageErr("--tsa %q is not an http(s) URL", u)
		}
	}
	if f.tsaTimeout <= 0 {
		return nil, usageErr("--tsa-timeout must be positive")
	}
	c := &tsa.Client{URLs: f.tsaURLs, Hash: h, Timeout: f.tsaTimeout}
	if len(f.tsaTrust) > 0 {
		c.Roots, c.Intermediates = x509.NewCertPool(), x509.NewCertPool()
		for _, p := range f.tsaTrust {
			if err := addPEMFile(c.Roots, p); err != nil {
				return nil, err
			}
		}
		for _, p := range chainFiles {
			if err := addPEMFile(c.Intermediates, p); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// tokenDER adapts a tsa.Client to the TimeStamp option of the xades and pades packages.
func tokenDER(c *tsa.Client) func(context.Context, []byte) ([]byte, error) {
	return func(ctx context.Context, imprint []byte) ([]byte, error) {
		tok, err := c.Stamp(ctx, imprint)
		if err != nil {
			return nil, err
		}
		return tok.DER, nil
	}
}

// loadCertsFiles reads the certificates of PEM files (for chain building).
func loadCertsFiles(paths ...string) ([]*x509.Certificate, error) {
	certs, err := loadCertFiles(paths, "certificate")
	if err != nil {
		return nil, err
	}
	out := make([]*x509.Certificate, len(certs))
	for i, c := range certs {
		out[i] = c.Certificate
	}
	return out, nil
}

func (lt *longTerm) xadesOptions(h crypto.Hash) xades.ExtendOptions {
	return xades.ExtendOptions{Level: lt.level, TimeStamp: lt.stamp, Hash: h, Validation: lt.validation}
}

func (lt *longTerm) padesOptions(h crypto.Hash) pades.ExtendOptions {
	return pades.ExtendOptions{Level: lt.level, TimeStamp: lt.stamp, Hash: h, Validation: lt.validation}
}

// extendPadesFile extends the PDF at src (named name in messages) into dst (a file, written atomically: a temporary file in dst's directory
// renamed over it, so dst may be src itself), or to w when dst is "-".
func extendPadesFile(ctx context.Context, name, src, dst string, w io.Writer, o pades.ExtendOptions) error {
	in, err := os.Open(src)
	if err != nil {
		return failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", src, causeOf(err)))
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", src, causeOf(err)))
	}
	if dst == "-" {
		if err := pades.Extend(ctx, in, st.Size(), w, o); err != nil {
			return extendErr(name, err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".trustsign-*")
	if err != nil {
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", dst, causeOf(err)))
	}
	defer os.Remove(tmp.Name())
	if err := pades.Extend(ctx, in, st.Size(), tmp, o); err != nil {
		tmp.Close()
		return extendErr(name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", dst, err))
	}
	if err := tmp.Close(); err != nil {
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", dst, err))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", dst, err))
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", dst, causeOf(err)))
	}
	return nil
}

// extendErr is the exit status of a failed extension: 65 for a file the format cannot read, 1 otherwise (a TSA
// or a revocation server that did not answer, a signature that cannot be extended).
func extendErr(name string, err error) error {
	for _, e := range []error{pdf.ErrMalformed, pdf.ErrNotPDF, pdf.ErrLimit, pades.ErrEncrypted, xades.ErrNotXML} {
		if errors.Is(err, e) {
			return failErr(exitDataErr, fmt.Errorf("%s: %w", name, err))
		}
	}
	return failErr(exitFailed, fmt.Errorf("%s: %w", name, err))
}

type extendFlags struct {
	stamp  stampFlags
	chain  []string
	output string
	maxXML int
}

func newExtendCmd() *cobra.Command {
	f := &extendFlags{}
	cmd := &cobra.Command{
		Use:   "extend --level b-t|b-lt|b-lta [--tsa URL...] -o OUT|- FILE|-",
		Short: "Extend XAdES or PAdES signatures to a long-term level (B-T, B-LT, B-LTA)",
		Long: `Extend the signatures in FILE (XML or PDF, told apart by content as verify does) to --level and write the
result to OUT, without breaking them; anyone's signatures, not only trustsign's.

  b-t    a signature time-stamp (XAdES SignatureTimeStamp; for a PDF, a document time-stamp)
  b-lt   and the certificates and revocation data (OCSP, CRL) of the signer's and the TSAs' chains (XAdES
         CertificateValues and RevocationValues; the PDF DSS dictionary in an incremental update)
  b-lta  and an archive time-stamp (XAdES ArchiveTimeStamp; a PDF document time-stamp). Run extend --level
         b-lta again to renew it before its TSA certificate expires.

Revocation data is fetched from the URLs the certificates name (AIA, CRL distribution points), only from public
addresses unless --fetch-allow-private (the certificates come from the file); --chain adds
certificates that help build the chains. --tsa is required for b-t and b-lta; for b-lt only when a signature has
no time-stamp yet.

-o is required. It may name FILE itself to extend in place: the new file is written next to it and renamed over
it only when complete, so a failure leaves FILE as it was. FILE - reads standard input; -o - writes to standard
output.

Exit codes: 0 extended; 1 the extension failed (a TSA or revocation server did not answer, a signature cannot be
extended); 3 FILE holds no signature (or is neither XML nor PDF); 64 usage error; 65 FILE or a certificate file
is unreadable as its format; 66 a file cannot be read; 73 OUT cannot be written.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("extend needs exactly one input file (got %d)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runExtend(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	addStampFlags(fl, &f.stamp, "b-t, b-lt or b-lta", "")
	fl.BoolVar(&f.stamp.fetchAllowPrivate, "fetch-allow-private", false, "let b-lt and b-lta fetch from loopback, private and other non-public addresses the file's certificates name (refused by default)")
	fl.StringSliceVar(&f.chain, "chain", nil, "certificates `FILE` (PEM) that help build the signer's and the TSA's chains, repeatable")
	fl.StringVarP(&f.output, "output", "o", "", "output `FILE` (- for standard output; may name the input to extend it in place)")
	fl.IntVar(&f.maxXML, "max-xml-size", verify.DefaultMaxXMLBytes, "largest XML document accepted, in bytes")
	return cmd
}

func runExtend(cmd *cobra.Command, f *extendFlags, in string) error {
	if f.stamp.level == "" {
		return usageErr("extend needs --level b-t, b-lt or b-lta")
	}
	if f.output == "" {
		return usageErr("extend needs -o OUT (it may name the input to extend it in place)")
	}
	certs, err := loadCertsFiles(append(append([]string(nil), f.chain...), f.stamp.tsaTrust...)...)
	if err != nil {
		return err
	}
	lt, err := newLongTerm(&f.stamp, crypto.SHA256, f.chain, certs, false)
	if err != nil {
		return err
	}
	var data []byte
	head := []byte(nil)
	if in == "-" {
		if data, err = readInput(cmd, in); err != nil {
			return err
		}
		head = data
	} else if head, err = readHead(in); err != nil {
		return err
	}
	name := in
	if in == "-" {
		name = stdinName
	}
	format := verify.Sniff(head)
	if format != verify.FormatPDF && format != verify.FormatXML {
		return failErr(exitNoSignature, fmt.Errorf("%s is neither XML nor PDF: no signature to extend", name))
	}
	// a file without signatures is told apart before any TSA is asked (exit 3, as verify)
	if rep, err := verifyFile(cmd.Context(), bytes.NewReader(data), in, &verify.Policy{}, verify.Options{MaxXMLBytes: f.maxXML}); err != nil {
		return failErr(exitNoInput, err)
	} else if rep.Indication == verify.NoSignature || (len(rep.Signatures) == 0 && rep.Error == "") {
		return failErr(exitNoSignature, fmt.Errorf("%s holds no signature to extend", name))
	} else if rep.Error != "" && (len(rep.Signatures) == 0 || rep.Signatures[0].Checks.Structure == verify.Failed && rep.Signatures[0].Signer == nil) {
		// a file its format cannot read (malformed XML, a broken PDF)
		return failErr(exitDataErr, fmt.Errorf("%s: %s", name, verify.Printable(rep.Error)))
	}
	if format == verify.FormatPDF {
		if in != "-" {
			return extendPadesFile(cmd.Context(), in, in, f.output, cmd.OutOrStdout(), lt.padesOptions(crypto.SHA256))
		}
		var out bytes.Buffer
		if err := pades.Extend(cmd.Context(), bytes.NewReader(data), int64(len(data)), &out, lt.padesOptions(crypto.SHA256)); err != nil {
			return extendErr(name, err)
		}
		return writeOutput(cmd, f.output, out.Bytes())
	}
	if data == nil {
		if data, err = readInput(cmd, in); err != nil {
			return err
		}
	}
	if len(data) > f.maxXML {
		return failErr(exitDataErr, fmt.Errorf("%s: %d bytes, over --max-xml-size %d", name, len(data), f.maxXML))
	}
	out, err := xades.Extend(cmd.Context(), data, lt.xadesOptions(crypto.SHA256))
	if err != nil {
		return extendErr(name, err)
	}
	return writeOutput(cmd, f.output, out)
}
