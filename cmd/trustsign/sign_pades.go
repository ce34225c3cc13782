package main

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trustsign/trustsign/pades"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/xades"
)

type padesFlags struct {
	visible                         bool
	page                            int
	rect                            string
	name, reason, location, contact string
	certify                         int
	sealPhrase                      string
	legacyReason                    bool
}

var padesOnly = []string{"visible", "page", "rect", "name", "reason", "location", "contact", "certify", "seal-phrase", "legacy-reason"}

func addPadesFlags(fl *pflag.FlagSet, f *padesFlags) {
	fl.BoolVar(&f.visible, "visible", false, "PAdES: draw the trusted-signature stamp (when not given: drawn with --profile, not without; --visible=false for none)")
	fl.IntVar(&f.page, "page", 0, "PAdES: page for the stamp (default the last page)")
	fl.StringVar(&f.rect, "rect", "", "PAdES: stamp rectangle `x,y,w,h` in points")
	fl.StringVar(&f.name, "name", "", "PAdES: /Name (default the profile's name)")
	fl.StringVar(&f.reason, "reason", "", "PAdES: /Reason (default the profile binding)")
	fl.StringVar(&f.location, "location", "", "PAdES: /Location")
	fl.StringVar(&f.contact, "contact", "", "PAdES: /ContactInfo")
	fl.IntVar(&f.certify, "certify", 0, "PAdES: certification signature with DocMDP permissions 1, 2 or 3")
	fl.StringVar(&f.sealPhrase, "seal-phrase", pades.DefaultSealPhrase, "PAdES: seal owner's `PHRASE` that begins the profile's /Reason")
	fl.BoolVar(&f.legacyReason, "legacy-reason", false, "PAdES: write the profile in trustsign's earlier /Reason form (\"Podpis zaufany; imię: …\")")
}

func checkNoPadesFlags(cmd *cobra.Command) error {
	for _, n := range padesOnly {
		if cmd.Flags().Changed(n) {
			return usageErr("--%s applies to --format pades only", n)
		}
	}
	return nil
}

func runSignPades(cmd *cobra.Command, f *signFlags, seal *signer.Seal, prof *xades.Profile, h crypto.Hash, when time.Time, in string, data []byte, lt *longTerm) error {
	if cmd.Flags().Changed("signing-certificate-v2") || cmd.Flags().Changed("mime-type") {
		return usageErr("--signing-certificate-v2 and --mime-type apply to XAdES only (PAdES always uses signingCertificateV2)")
	}
	p := &f.pades
	opts := pades.SignOptions{Signer: seal.Key, Certificate: seal.Certificate, Chain: seal.Chain[1:], Hash: h, Time: when,
		Name: p.name, Reason: p.reason, Location: p.location, ContactInfo: p.contact, Page: p.page, DocMDP: p.certify, TimeStamp: lt.stamp}
	if prof != nil {
		opts.Profile = &pades.Profile{FirstName: prof.FirstName, SecondName: prof.SecondName, Surname: prof.Surname,
			PESEL: prof.PESEL, ProfileID: prof.ProfileID, Login: prof.Login}
		opts.SealPhrase, opts.LegacyReason = p.sealPhrase, p.legacyReason
	}
	if cmd.Flags().Changed("visible") {
		v := p.visible
		opts.Visible = &v
	}
	if p.certify < 0 || p.certify > 3 {
		return usageErr("--certify takes 1, 2 or 3")
	}
	if p.page < 0 {
		return usageErr("--page must be positive")
	}
	if p.rect != "" {
		var r [4]float64
		parts := strings.Split(p.rect, ",")
		if len(parts) != 4 {
			return usageErr("--rect needs x,y,w,h")
		}
		for i, s := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || v < 0 || (i >= 2 && v == 0) {
				return usageErr("--rect needs four numbers x,y,w,h with positive width and height")
			}
			r[i] = v
		}
		opts.Rect = &r
	}
	if in == "-" {
		// standard input was read whole; the signed file is written atomically
		var out bytes.Buffer
		if _, err := pades.Sign(cmd.Context(), bytes.NewReader(data), int64(len(data)), &out, opts); err != nil {
			return failErr(exitFailed, fmt.Errorf("standard input: %w", err))
		}
		if lt.extends() {
			signed := out.Bytes()
			var ext bytes.Buffer
			if err := pades.Extend(cmd.Context(), bytes.NewReader(signed), int64(len(signed)), &ext, lt.padesOptions(h)); err != nil {
				return failErr(exitFailed, fmt.Errorf("standard input: %w", err))
			}
			out = ext
		}
		return writeOutput(cmd, f.output, out.Bytes())
	}
	if lt.extends() {
		return signPadesLongTerm(cmd, f, in, opts, lt, h)
	}
	// a file is streamed, never held in memory
	src, err := os.Open(in)
	if err != nil {
		return failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", in, causeOf(err)))
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return failErr(exitNoInput, fmt.Errorf("cannot read %s: %w", in, causeOf(err)))
	}
	if f.output == "-" {
		if _, err := pades.Sign(cmd.Context(), src, st.Size(), cmd.OutOrStdout(), opts); err != nil {
			return failErr(exitFailed, fmt.Errorf("%s: %w", in, err))
		}
		return nil
	}
	if _, err := os.Stat(filepath.Dir(f.output)); err != nil {
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", f.output, causeOf(err)))
	}
	if _, err := pades.SignFile(cmd.Context(), in, f.output, opts); err != nil {
		return failErr(exitFailed, fmt.Errorf("%s: %w", in, err))
	}
	return nil
}

// signPadesLongTerm signs the PDF file in at B-T into a temporary file, then extends that to --level (B-LT or
// B-LTA) into the output: the file is streamed, never held in memory.
func signPadesLongTerm(cmd *cobra.Command, f *signFlags, in string, opts pades.SignOptions, lt *longTerm, h crypto.Hash) error {
	dir := filepath.Dir(f.output)
	if f.output == "-" {
		dir = ""
	}
	tmp, err := os.CreateTemp(dir, ".trustsign-bt-*.pdf")
	if err != nil {
		return failErr(exitCantCreate, fmt.Errorf("cannot write %s: %w", f.output, causeOf(err)))
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if _, err := pades.SignFile(cmd.Context(), in, tmp.Name(), opts); err != nil {
		return failErr(exitFailed, fmt.Errorf("%s: %w", in, err))
	}
	if err := extendPadesFile(cmd.Context(), in, tmp.Name(), f.output, cmd.OutOrStdout(), lt.padesOptions(h)); err != nil {
		var ee *exitError
		if errors.As(err, &ee) && ee.code != exitCantCreate {
			ee.code = exitFailed // the file just signed is ours: a failure is the extension's, not the input's
		}
		return err
	}
	return nil
}
