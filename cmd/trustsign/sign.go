package main

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/xades"
)

type signFlags struct {
	key, cert, format, profile, output, hash, mimeType, signingTime string
	chain                                                           []string
	certV2, rsaPSS                                                  bool
	pades                                                           padesFlags
	stamp                                                           stampFlags
}

func newSignCmd() *cobra.Command {
	f := &signFlags{}
	cmd := &cobra.Command{
		Use:   "sign --key KEY.pem|PKCS11-URI --cert CERT.pem [--format FORMAT] [flags] IN|- -o OUT|-",
		Short: "Sign a document in XAdES or PAdES",
		Long: `Sign IN with the seal key and write the signed document to OUT.

Formats (default: pades when IN is a PDF, by its content, xades otherwise):
  xades             enveloped XAdES (the trusted-profile service's shape); non-XML files are wrapped first
  xades-enveloping  the document inside the signature
  xades-detached    a separate signature over IN's bytes, referencing IN by its file name
  pades             PDF signature (incremental update)

IN - reads standard input. An enveloped or enveloping signature that would be larger than verify accepts
(base64 makes a wrapped file a third larger) is refused: sign such a file with --format xades-detached.

Keys are PEM (PKCS#8, PKCS#1 or SEC1), or a key in a PKCS#11 token named by an RFC 7512 URI, the PIN in a
file readable only by you (docs/operations.md, "Seal keys in an HSM"):
  --key 'pkcs11:token=trustsign;object=seal?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/trustsign/pin'
--profile binds a trusted-profile identity given as JSON:
  {"firstName":"ANNA","surname":"KOWALSKA","pesel":"44051401359","profileId":"123","login":"akowalska"}`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("sign needs exactly one input file (got %d)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runSign(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "private key `FILE` (PEM), or a PKCS#11 URI (pkcs11:token=…;object=…?module-path=…&pin-source=file:…)")
	fl.StringVar(&f.cert, "cert", "", "signer certificate `FILE` (PEM)")
	fl.StringSliceVar(&f.chain, "chain", nil, "intermediate certificates `FILE` (PEM), repeatable")
	fl.StringVar(&f.format, "format", "", "xades, xades-enveloping, xades-detached or pades (default: pades for a PDF, xades otherwise)")
	fl.StringVar(&f.profile, "profile", "", "trusted-profile binding `FILE` (JSON)")
	fl.StringVarP(&f.output, "output", "o", "", "output `FILE` (- for standard output)")
	fl.StringVar(&f.hash, "hash", "sha256", "digest: sha256, sha384 or sha512")
	fl.BoolVar(&f.certV2, "signing-certificate-v2", false, "write xades:SigningCertificateV2 instead of SigningCertificate")
	fl.BoolVar(&f.rsaPSS, "rsa-pss", false, "XAdES with an RSA key: sign with RSASSA-PSS (xmldsig-more#sha256-rsa-MGF1 and its SHA-384/512 forms)")
	fl.StringVar(&f.mimeType, "mime-type", "", "MIME type of the input (default: guessed from the name and content)")
	fl.StringVar(&f.signingTime, "time", "", "signing time (RFC 3339; default now)")
	addStampFlags(fl, &f.stamp, "b-b, b-t, b-lt or b-lta", levelBB)
	addPadesFlags(fl, &f.pades)
	return cmd
}

// addPEMFile adds the certificates of a PEM file to pool.
func addPEMFile(pool *x509.CertPool, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", path, causeOf(err)))
	}
	certs, err := signer.LoadCertificates(data)
	if err != nil {
		return failErr(exitDataErr, fmt.Errorf("%s: %w", path, err))
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return nil
}

// profileJSON is the --profile file.
type profileJSON struct {
	FirstName  string `json:"firstName"`
	SecondName string `json:"secondName"`
	Surname    string `json:"surname"`
	PESEL      string `json:"pesel"`
	ProfileID  string `json:"profileId"`
	Login      string `json:"login"`
}

func loadProfile(path string) (*xades.Profile, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, failErr(exitNoInput, fmt.Errorf("cannot read profile %s: %w", path, causeOf(err)))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p profileJSON
	if err := dec.Decode(&p); err != nil {
		return nil, failErr(exitDataErr, fmt.Errorf("profile %s is not valid JSON of the expected shape: %w", path, err))
	}
	var missing []string
	for name, v := range map[string]string{"firstName": p.FirstName, "surname": p.Surname, "pesel": p.PESEL,
		"profileId": p.ProfileID, "login": p.Login} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, failErr(exitDataErr, fmt.Errorf("profile %s lacks %s", path, strings.Join(missing, ", ")))
	}
	if _, err := profile.ParsePESEL(p.PESEL); err != nil {
		return nil, failErr(exitDataErr, fmt.Errorf("profile %s: %w", path, err))
	}
	return &xades.Profile{FirstName: p.FirstName, SecondName: p.SecondName, Surname: p.Surname, PESEL: p.PESEL,
		ProfileID: p.ProfileID, Login: p.Login}, nil
}

func parseHash(s string) (crypto.Hash, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "-", "")) {
	case "sha256":
		return crypto.SHA256, nil
	case "sha384":
		return crypto.SHA384, nil
	case "sha512":
		return crypto.SHA512, nil
	}
	return 0, usageErr("unsupported --hash %q (sha256, sha384 or sha512)", s)
}

func runSign(cmd *cobra.Command, f *signFlags, in string) error {
	if f.key == "" || f.cert == "" {
		return usageErr("sign needs --key and --cert")
	}
	if f.output == "" {
		return usageErr("sign needs -o OUT")
	}
	h, err := parseHash(f.hash)
	if err != nil {
		return err
	}
	var when time.Time
	if f.signingTime != "" {
		if when, err = time.Parse(time.RFC3339, f.signingTime); err != nil {
			return usageErr("--time must be RFC 3339, e.g. 2026-01-02T15:04:05Z")
		}
	}
	files := append([]string{f.cert}, f.chain...)
	if !signer.IsPKCS11URI(f.key) {
		files = append(files, f.key)
	}
	for _, p := range files {
		if _, err := os.Stat(p); err != nil {
			return failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", p, causeOf(err)))
		}
	}
	seal, err := loadSeal(f.key, f.cert, f.chain...)
	if err != nil {
		return err
	}
	var prof *xades.Profile
	if f.profile != "" {
		if prof, err = loadProfile(f.profile); err != nil {
			return err
		}
	}
	var data []byte // the whole input: read at once for standard input and XAdES, streamed for a PDF file
	if in == "-" {
		if data, err = readInput(cmd, in); err != nil {
			return err
		}
	}
	if f.format == "" {
		// the content decides, as verify decides: a PDF gets a PDF signature whatever its name
		head := data
		if in != "-" {
			if head, err = readHead(in); err != nil {
				return err
			}
		}
		f.format = "xades"
		if verify.Sniff(head) == verify.FormatPDF {
			f.format = "pades"
		}
	}
	if f.rsaPSS {
		if _, ok := seal.Key.Public().(*rsa.PublicKey); !ok || f.format == "pades" {
			return usageErr("--rsa-pss applies to XAdES with an RSA key")
		}
	}
	tsaCerts, err := loadCertsFiles(f.stamp.tsaTrust...)
	if err != nil {
		return err
	}
	lt, err := newLongTerm(&f.stamp, h, f.chain, append(append([]*x509.Certificate(nil), seal.Chain...), tsaCerts...), true)
	if err != nil {
		return err
	}
	if f.format == "pades" {
		return runSignPades(cmd, f, seal, prof, h, when, in, data, lt)
	}
	if err := checkNoPadesFlags(cmd); err != nil {
		return err
	}
	if data == nil {
		if data, err = readInput(cmd, in); err != nil {
			return err
		}
	}
	name := in
	if in == "-" {
		name = "document"
	}
	opts := xades.SignOptions{Signer: seal.Key, Certificate: seal.Certificate, Chain: seal.Chain[1:], Hash: h,
		SigningTime: when, Profile: prof, SigningCertificateV2: f.certV2, MIMEType: f.mimeType, RSAPSS: f.rsaPSS,
		TimeStamp: lt.stamp}
	switch f.format {
	case "xades", "xades-enveloped":
		opts.Format = xades.Enveloped
	case "xades-enveloping":
		opts.Format = xades.Enveloping
	case "xades-detached":
		opts.Format = xades.Detached
		if in == "-" {
			return usageErr("--format xades-detached names the signed file: give it as a file, not -")
		}
		opts.DetachedURI = filepath.Base(in)
		if opts.MIMEType == "" {
			opts.MIMEType = guessMIME(in, data)
		}
	default:
		return usageErr("unknown --format %q (xades, xades-enveloping, xades-detached or pades)", f.format)
	}
	if opts.Format != xades.Detached && !looksLikeXML(data) {
		// non-XML files travel in trustsign's container (docs/wrapper.md)
		mt := f.mimeType
		if mt == "" {
			mt = guessMIME(name, data)
		}
		data = xades.Wrap(filepath.Base(name), mt, data)
		opts.MIMEType = "text/xml"
	}
	if opts.Format != xades.Detached && len(data) > verify.DefaultMaxXMLBytes {
		// refused before parsing: a too-large document is not a malformed one
		return failErr(exitFailed, tooLargeErr(name, len(data)))
	}
	out, err := xades.SignContext(cmd.Context(), data, opts)
	if err != nil {
		if errors.Is(err, xades.ErrNotXML) {
			return failErr(exitDataErr, fmt.Errorf("%s: %w (files that are not XML are wrapped; this one starts like XML but is malformed)", name, err))
		}
		return failErr(exitFailed, err)
	}
	if lt.extends() {
		// B-LT and B-LTA: the B-T signature just made gets its validation data (and archive time-stamp)
		if out, err = xades.Extend(cmd.Context(), out, lt.xadesOptions(h)); err != nil {
			return failErr(exitFailed, fmt.Errorf("%s: %w", name, err))
		}
	}
	if opts.Format != xades.Detached && len(out) > verify.DefaultMaxXMLBytes {
		// what sign writes, verify must accept: refuse rather than write a file no verifier here reads
		return failErr(exitFailed, tooLargeErr(name, len(out)))
	}
	return writeOutput(cmd, f.output, out)
}

// tooLargeErr explains an enveloped or enveloping signature that would exceed what verify accepts.
func tooLargeErr(name string, size int) error {
	return fmt.Errorf("%s: the signed XML would be %d bytes, over the %d bytes verify accepts (--max-xml-size; base64 makes a "+
		"wrapped file a third larger): sign it detached with --format xades-detached", name, size, verify.DefaultMaxXMLBytes)
}

// readHead reads the first bytes of a file, enough for verify.Sniff.
func readHead(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", path, causeOf(err)))
	}
	defer fh.Close()
	head := make([]byte, 1024)
	n, err := io.ReadFull(fh, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", path, causeOf(err)))
	}
	return head[:n], nil
}

// readInput reads the document to sign: a file, or standard input for "-".
func readInput(cmd *cobra.Command, in string) ([]byte, error) {
	if in == "-" {
		data, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, failErr(exitNoInput, fmt.Errorf("cannot read standard input: %w", err))
		}
		return data, nil
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return nil, failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", in, causeOf(err)))
	}
	return data, nil
}

// looksLikeXML reports whether data starts (after a BOM and white space) with markup.
func looksLikeXML(data []byte) bool {
	d := bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	d = bytes.TrimLeft(d, " \t\r\n")
	return len(d) > 0 && d[0] == '<'
}

func guessMIME(name string, data []byte) string {
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(name))); t != "" {
		return strings.SplitN(t, ";", 2)[0]
	}
	return strings.SplitN(http.DetectContentType(data), ";", 2)[0]
}

// writeOutput writes data to path atomically (a temporary file renamed over the target), or to stdout for "-".
func writeOutput(cmd *cobra.Command, path string, data []byte) error {
	if path == "-" {
		_, err := cmd.OutOrStdout().Write(data)
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".trustsign-*")
	if err != nil {
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", path, causeOf(err)))
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", path, err))
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return failErr(exitFailed, err)
	}
	if err := tmp.Close(); err != nil {
		return failErr(exitFailed, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return failErr(exitFailed, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", path, causeOf(err)))
	}
	return nil
}
