package main

import (
	"crypto"
	"errors"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/xades"
)

type padesFlags struct {
	visible                         bool
	page                            int
	rect                            string
	name, reason, location, contact string
	certify                         int
}

var padesOnly = []string{"visible", "page", "rect", "name", "reason", "location", "contact", "certify"}

func addPadesFlags(fl *pflag.FlagSet, f *padesFlags) {
	fl.BoolVar(&f.visible, "visible", true, "PAdES: draw the trusted-signature stamp (default on with --profile)")
	fl.IntVar(&f.page, "page", 0, "PAdES: page for the stamp (default the last page)")
	fl.StringVar(&f.rect, "rect", "", "PAdES: stamp rectangle `x,y,w,h` in points")
	fl.StringVar(&f.name, "name", "", "PAdES: /Name (default the profile's name)")
	fl.StringVar(&f.reason, "reason", "", "PAdES: /Reason (default the profile binding)")
	fl.StringVar(&f.location, "location", "", "PAdES: /Location")
	fl.StringVar(&f.contact, "contact", "", "PAdES: /ContactInfo")
	fl.IntVar(&f.certify, "certify", 0, "PAdES: certification signature with DocMDP permissions 1, 2 or 3")
}

func checkNoPadesFlags(cmd *cobra.Command) error {
	for _, n := range padesOnly {
		if cmd.Flags().Changed(n) {
			return usageErr("--%s applies to --format pades only", n)
		}
	}
	return nil
}

func runSignPades(cmd *cobra.Command, f *signFlags, seal *signer.Seal, prof *xades.Profile, h crypto.Hash, when time.Time, in string) error {
	return failErr(exitFailed, errors.New("PAdES signing is not available in this build yet"))
}
