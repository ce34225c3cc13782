package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trustsign/trustsign/revocation"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/verify"
	"github.com/trustsign/trustsign/web"
)

type verifyFlags struct {
	trust, intermediates, detached []string
	profileSeals                   []string
	json                           bool
	report, reportLang             string
	maxSize                        int
	at                             string
	online                         bool
	fetchAllowPrivate              bool
	fetchTimeout                   time.Duration
}

func newVerifyCmd() *cobra.Command {
	f := &verifyFlags{}
	cmd := &cobra.Command{
		Use:   "verify --trust ROOTS.pem [--intermediates CERTS.pem] [--detached-content FILE] [--online] [--json] [--report FILE] FILE|-...",
		Short: "Verify XAdES and PAdES signatures offline",
		Long: `Verify every signature in each FILE (XML or PDF) offline and print who signed, when, what the signature
covers and the verdict (ETSI EN 319 102-1 indications).

FILE - reads standard input. Nothing is fetched from the network unless --online is given: then the OCSP
responses and CRLs a signature does not carry are fetched from the URLs its certificates name, only from public
addresses unless --fetch-allow-private.

Exit codes: 0 every signature TOTAL_PASSED; 1 any TOTAL_FAILED (a malformed file counts as TOTAL_FAILED);
2 the worst is INDETERMINATE; 3 no signature found (also for a file that is neither XML nor PDF); 64 usage
error; 65 a --trust, --intermediates or --profile-seal file holds no certificate; 66 a file cannot be read;
73 the --report file cannot be written. With several files the worst wins (1, then 66, then 2, then 3).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("verify needs at least one file")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runVerify(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&f.trust, "trust", nil, "trusted root certificates `FILE` (PEM), repeatable")
	fl.StringSliceVar(&f.intermediates, "intermediates", nil, "extra intermediate certificates `FILE` (PEM), repeatable")
	fl.StringSliceVar(&f.detached, "detached-content", nil, "content `FILE` of a detached signature, repeatable")
	fl.StringSliceVar(&f.profileSeals, "profile-seal", nil, "trusted-profile seal certificate `FILE` (PEM), repeatable: a profile identity signed by any other certificate is reported as claimedProfile")
	fl.BoolVar(&f.json, "json", false, "print a JSON report (one object per line per file)")
	fl.StringVar(&f.report, "report", "", "also write a self-contained HTML report of all files to `FILE`")
	fl.StringVar(&f.reportLang, "report-lang", "en", "language of the HTML report: en or pl")
	fl.IntVar(&f.maxSize, "max-xml-size", verify.DefaultMaxXMLBytes, "largest XML document accepted, in bytes")
	fl.StringVar(&f.at, "at", "", "validation time (RFC 3339; default now)")
	fl.BoolVar(&f.online, "online", false, "fetch revocation data (OCSP, CRL) a signature lacks from the URLs its certificates name; default offline: only the data embedded in the file counts")
	fl.BoolVar(&f.fetchAllowPrivate, "fetch-allow-private", false, "with --online: let it fetch from loopback, private and other non-public addresses the file's certificates name (refused by default)")
	fl.DurationVar(&f.fetchTimeout, "fetch-timeout", 10*time.Second, "with --online: time-out of each OCSP, CRL or certificate download")
	return cmd
}

// verifyCert is a certificate loaded from a --trust, --intermediates or --profile-seal file.
type verifyCert struct{ *x509.Certificate }

func loadCertFiles(paths []string, what string) ([]*verifyCert, error) {
	var out []*verifyCert
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, failErr(exitNoInput, fmt.Errorf("cannot read %s file %s: %w", what, p, causeOf(err)))
		}
		certs, err := signer.LoadCertificates(raw)
		if err != nil {
			return nil, failErr(exitDataErr, fmt.Errorf("%s file %s: %w", what, p, err))
		}
		for _, c := range certs {
			out = append(out, &verifyCert{c})
		}
	}
	return out, nil
}

func runVerify(cmd *cobra.Command, f *verifyFlags, files []string) error {
	policy := &verify.Policy{}
	roots, err := loadCertFiles(f.trust, "trust")
	if err != nil {
		return err
	}
	inter, err := loadCertFiles(f.intermediates, "intermediates")
	if err != nil {
		return err
	}
	for _, c := range roots {
		policy.Roots = append(policy.Roots, c.Certificate)
	}
	for _, c := range inter {
		policy.Intermediates = append(policy.Intermediates, c.Certificate)
	}
	seals, err := loadCertFiles(f.profileSeals, "profile seal")
	if err != nil {
		return err
	}
	for _, c := range seals {
		policy.ProfileSeals = append(policy.ProfileSeals, c.Certificate)
	}
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return usageErr("--at must be RFC 3339")
		}
		policy.Now = func() time.Time { return t }
	}
	if f.maxSize <= 0 {
		return usageErr("--max-xml-size must be positive")
	}
	if f.online {
		if f.fetchTimeout <= 0 {
			return usageErr("--fetch-timeout must be positive")
		}
		setOnline(policy, &revocation.Fetcher{Timeout: f.fetchTimeout, Certificates: append(policy.Intermediates, policy.Roots...),
			Client: untrustedFetchClient(f.fetchAllowPrivate)})
	} else if cmd.Flags().Changed("fetch-timeout") {
		return usageErr("--fetch-timeout applies to --online")
	} else if f.fetchAllowPrivate {
		return usageErr("--fetch-allow-private applies to --online")
	}
	detached := map[string][]byte{}
	for _, p := range f.detached {
		b, err := os.ReadFile(p)
		if err != nil {
			return failErr(exitNoInput, fmt.Errorf("cannot read detached content %s: %w", p, causeOf(err)))
		}
		detached[filepath.Base(p)] = b
	}
	if f.reportLang != "en" && f.reportLang != "pl" {
		return usageErr("--report-lang must be en or pl")
	}
	stdinUsed := false
	for _, file := range files {
		if file == "-" {
			if stdinUsed {
				return usageErr("- (standard input) may be given once")
			}
			stdinUsed = true
		}
	}
	worst := exitOK
	out := cmd.OutOrStdout()
	var reports []verify.FileReport
	for _, file := range files {
		rep, err := verifyFile(cmd.Context(), cmd.InOrStdin(), file, policy, verify.Options{Detached: detached, MaxXMLBytes: f.maxSize})
		if err != nil {
			// the file's line says why, in JSON too, so a script reading the JSON Lines sees every file
			worst = worseExit(worst, exitNoInput)
			if f.json {
				b, _ := json.Marshal(unreadableFile{File: file, Error: err.Error()})
				out.Write(append(b, '\n'))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "trustsign: %s\n", verify.Printable(err.Error()))
			continue
		}
		worst = worseExit(worst, exitFor(rep.Indication))
		reports = append(reports, *rep)
		if f.json {
			b, _ := json.Marshal(rep)
			out.Write(append(b, '\n'))
		} else {
			printReport(out, rep)
		}
	}
	if f.report != "" {
		if err := writeHTMLReport(f.report, reports, f.reportLang); err != nil {
			return failErr(exitCantCreate, fmt.Errorf("cannot write the report: %w", err))
		}
	}
	if worst != exitOK {
		return &exitError{code: worst, err: errors.New("")}
	}
	return nil
}

// setOnline lets the verifier fetch the revocation data a signature lacks (verify --online) through f, whose
// time-out bounds each download; without it the verifier stays offline.
func setOnline(p *verify.Policy, f *revocation.Fetcher) {
	p.Fetch = f.Collect
}

// unreadableFile is the JSON line of a file that could not be read.
type unreadableFile struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// writeHTMLReport writes the reports as one self-contained HTML file (the auditor's page's report), atomically.
func writeHTMLReport(path string, reports []verify.FileReport, lang string) error {
	var b bytes.Buffer
	if err := web.RenderReports(&b, reports, lang); err != nil {
		return err
	}
	return writeFileAtomic(path, b.Bytes(), 0o644)
}

// stdinName is how standard input ("-") is named in reports.
const stdinName = "(standard input)"

// verifyFile verifies one file ("-" is standard input). The error, when the file cannot be read, names the file and
// keeps the cause ("no such file or directory").
func verifyFile(ctx context.Context, stdin io.Reader, file string, policy *verify.Policy, o verify.Options) (*verify.FileReport, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if file == "-" {
		data, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("cannot read standard input: %w", err)
		}
		rep := verify.Bytes(ctx, stdinName, data, policy, o)
		return &rep, nil
	}
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", file, causeOf(err))
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", file, causeOf(err))
	}
	if st.IsDir() {
		return nil, fmt.Errorf("cannot read %s: is a directory", file)
	}
	rep := verify.File(ctx, file, fh, st.Size(), policy, o)
	return &rep, nil
}

// causeOf strips the operation and path from an *os.PathError (the message names the file already).
func causeOf(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func exitFor(ind verify.Indication) int {
	switch ind {
	case verify.TotalPassed:
		return exitOK
	case verify.Indeterminate:
		return exitIndeterminate
	case verify.NoSignature:
		return exitNoSignature
	}
	return exitFailed
}

// worseExit orders the exit codes of verified files: 1 (failed), 66 (unreadable), 2 (indeterminate), 3 (no
// signature), 0.
func worseExit(a, b int) int {
	rank := func(c int) int {
		switch c {
		case exitFailed:
			return 4
		case exitNoInput:
			return 3
		case exitIndeterminate:
			return 2
		case exitNoSignature:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// printReport writes the report as text. Every signed string goes through verify.Printable first, so that a
// certificate subject holding ESC or CR cannot rewrite the terminal.
func printReport(w io.Writer, rep *verify.FileReport) {
	d := rep.ForDisplay()
	r := &d
	fmt.Fprintf(w, "%s (%s): %s\n", r.File, r.Format, r.Indication)
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
	}
	switch {
	case r.Note != "":
		fmt.Fprintf(w, "  %s\n", r.Note)
	case len(r.Signatures) == 0 && r.Error == "":
		fmt.Fprintln(w, "  no signature found")
	}
	for i, s := range r.Signatures {
		printSignature(w, &s, i+1, "  ")
	}
}

func printSignature(w io.Writer, s *verify.SignatureReport, n int, indent string) {
	verdict := string(s.Indication)
	if s.SubIndication != "" {
		verdict += " / " + string(s.SubIndication)
	}
	fmt.Fprintf(w, "%sSignature %d %s: %s\n", indent, n, s.ID, verdict)
	in := indent + "  "
	if s.Signer != nil {
		fmt.Fprintf(w, "%sSigner:    %s\n", in, s.Signer.Subject)
		fmt.Fprintf(w, "%sIssuer:    %s (serial %s)\n", in, s.Signer.Issuer, s.Signer.Serial)
	} else {
		fmt.Fprintf(w, "%sSigner:    unknown (no signing certificate)\n", in)
	}
	for _, pr := range []struct {
		label string
		p     *verify.TrustedProfile
	}{{"Profile:  ", s.TrustedProfile}, {"Claimed:  ", s.ClaimedProfile}} {
		if p := pr.p; p != nil {
			name := strings.Join(strings.Fields(p.FirstName+" "+p.SecondName+" "+p.Surname), " ")
			fmt.Fprintf(w, "%s%s %s, PESEL %s, trusted profile %s, login %s\n", in, pr.label, name, p.PESEL, p.ProfileID, p.Login)
		}
	}
	if s.SigningTime != nil {
		fmt.Fprintf(w, "%sSigned at: %s (claimed)\n", in, s.SigningTime.UTC().Format(time.RFC3339))
	}
	if s.Level != "" || s.Algorithm != "" {
		fmt.Fprintf(w, "%sForm:      %s %s\n", in, s.Level, s.Algorithm)
	}
	for _, ts := range s.TimeStamps {
		at := "unknown time"
		if ts.Time != nil {
			at = ts.Time.UTC().Format(time.RFC3339)
		}
		verdict := string(ts.Indication)
		if ts.SubIndication != "" {
			verdict += " / " + string(ts.SubIndication)
		}
		if ts.Reason != "" {
			verdict += ": " + ts.Reason
		}
		fmt.Fprintf(w, "%sTime-stamp: %s %s by %s: %s\n", in, ts.Kind, at, ts.TSA, verdict)
	}
	for i, c := range s.Covered {
		label := "Covers:   "
		if i > 0 {
			label = "          "
		}
		fmt.Fprintf(w, "%s%s %s\n", in, label, c)
	}
	if s.WrappedFile != nil {
		fmt.Fprintf(w, "%sWrapped:   %s (%s, %d bytes, SHA-256 %s)\n", in, s.WrappedFile.Name, s.WrappedFile.MIMEType, s.WrappedFile.Size, s.WrappedFile.SHA256)
	}
	for _, c := range s.Changes {
		allowed := "allowed"
		if !c.Allowed {
			allowed = "NOT allowed"
		}
		fmt.Fprintf(w, "%sChange:    revision %d: %s (%s) %s\n", in, c.Revision, c.Kind, allowed, c.Detail)
	}
	ch := s.Checks
	fmt.Fprintf(w, "%sChecks:    structure %s, digests %s, signature value %s, signing certificate %s, chain %s\n", in,
		ch.Structure, ch.Digests, ch.SignatureValue, ch.SigningCertificate, ch.Chain)
	for _, r := range s.Reasons {
		fmt.Fprintf(w, "%sWhy:       %s\n", in, r)
	}
	for _, r := range s.Warnings {
		fmt.Fprintf(w, "%sWarning:   %s\n", in, r)
	}
	for i, c := range s.CounterSignatures {
		fmt.Fprintf(w, "%sCounter-signature:\n", in)
		printSignature(w, &c, i+1, in+"  ")
	}
}
