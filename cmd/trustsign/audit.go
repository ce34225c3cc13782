package main

import (
	"bufio"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Export and verify the tamper-evident audit log",
		Long: `The audit log is a hash chain: every record carries the hash of the one before, and seal records sign
the head with the service's seal key. export writes it as JSON Lines; verify checks an export offline or the
store of a data directory (which must not be in use by a running server).`,
	}
	cmd.AddCommand(newAuditExportCmd(), newAuditVerifyCmd())
	for _, c := range cmd.Commands() {
		c.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	}
	return cmd
}

func openAuditStore(dir string) (*bbolt.DB, error) {
	if dir == "" {
		return nil, usageErr("--data DIR is required")
	}
	db, err := bbolt.OpenDir(dir, bbolt.Options{ReadOnly: true})
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, failErr(exitNoInput, fmt.Errorf("no trustsign store in %s", dir))
	case errors.Is(err, store.ErrLocked):
		return nil, failErr(exitNoInput, fmt.Errorf("the store in %s is in use (stop the server first)", dir))
	case err != nil:
		return nil, failErr(exitNoInput, err)
	}
	return db, nil
}

func newAuditExportCmd() *cobra.Command {
	var data, out string
	cmd := &cobra.Command{
		Use:   "export --data DIR [--out FILE]",
		Short: "Write the audit log as JSON Lines (one record per line, seals included)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openAuditStore(data)
			if err != nil {
				return err
			}
			defer db.Close()
			w := cmd.OutOrStdout()
			var f *os.File
			if out != "" && out != "-" {
				if f, err = os.Create(out); err != nil {
					return failErr(exitFailed, err)
				}
				w = f
			}
			n, err := audit.Export(cmd.Context(), db, w)
			if f != nil {
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return failErr(exitFailed, fmt.Errorf("export: %w", err))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "exported %d audit records\n", n)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "data `DIR` of the service")
	cmd.Flags().StringVar(&out, "out", "", "write to `FILE` instead of standard output")
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var (
		data, heads string
		sealCerts   []string
		jsonOut     bool
	)
	cmd := &cobra.Command{
		Use:   "verify FILE | --data DIR",
		Short: "Verify an exported audit log offline, or the log in a data directory",
		Long: `Check every record's hash and link, every seal's signature, and that no known signed head lies past the
end (truncation). Exit codes: 0 intact; 1 broken (the first broken record is named); 64 usage error;
66 the file or store cannot be read.

--seal-cert pins the seal certificate(s): seals made with any other key are broken. Without it a seal only proves
that its maker held some key. --heads takes an earlier export (or any file of seal records) whose signed heads
the log must still contain.`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usageErr("verify takes one FILE")
			case len(args) == 1 && data != "":
				return usageErr("give either FILE or --data DIR, not both")
			case len(args) == 0 && data == "":
				return usageErr("verify needs FILE or --data DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts audit.VerifyOptions
			for _, p := range sealCerts {
				raw, err := os.ReadFile(p)
				if err != nil {
					return failErr(exitNoInput, fmt.Errorf("seal certificate: %w", err))
				}
				certs, err := signer.LoadCertificates(raw)
				if err != nil {
					return usageErr("seal certificate %s: %v", p, err)
				}
				for _, c := range certs {
					opts.TrustedKeys = append(opts.TrustedKeys, crypto.PublicKey(c.PublicKey))
				}
			}
			if heads != "" {
				f, err := os.Open(heads)
				if err != nil {
					return failErr(exitNoInput, err)
				}
				err = audit.ReadJSONLines(f, func(r audit.Record, _ int) error {
					if r.Kind == audit.KindSeal {
						opts.Heads = append(opts.Heads, r)
					}
					return nil
				})
				f.Close()
				if err != nil {
					return failErr(exitNoInput, fmt.Errorf("heads file %s: %w", heads, err))
				}
			}
			var (
				rep audit.Report
				err error
			)
			if data != "" {
				db, oerr := openAuditStore(data)
				if oerr != nil {
					return oerr
				}
				defer db.Close()
				rep, err = audit.VerifyStore(cmd.Context(), db, opts)
			} else {
				f, oerr := os.Open(args[0])
				if oerr != nil {
					return failErr(exitNoInput, oerr)
				}
				defer f.Close()
				rep, err = audit.VerifyJSONLines(bufio.NewReaderSize(f, 1<<16), opts)
			}
			if err != nil {
				var be *audit.BrokenError
				if errors.As(err, &be) {
					if jsonOut {
						printJSON(cmd.OutOrStdout(), map[string]any{"intact": false, "brokenSeq": be.Seq, "line": be.Line, "reason": be.Reason})
					}
					return failErr(exitFailed, err)
				}
				return failErr(exitNoInput, err)
			}
			if jsonOut {
				printJSON(cmd.OutOrStdout(), map[string]any{"intact": true, "report": rep})
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d records (last %d), %d seals, %d records after the last seal\n",
					rep.Records, rep.LastSeq, rep.Seals, rep.Unsealed)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&data, "data", "", "verify the store of data `DIR`")
	fl.StringSliceVar(&sealCerts, "seal-cert", nil, "trusted seal certificate `FILE` (PEM), repeatable")
	fl.StringVar(&heads, "heads", "", "earlier export `FILE` whose signed heads must still be in the log")
	fl.BoolVar(&jsonOut, "json", false, "print the result as JSON")
	return cmd
}

func printJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintln(w, string(b))
}
