package main

import (
	"bufio"
	"cmp"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/signer"
	"github.com/trustsign/trustsign/store"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Export and verify the tamper-evident audit log",
		Long: `The audit log is a hash chain: every record carries the hash of the one before, and seal records sign
the head with the service's seal key. export writes it as JSON Lines; verify checks an export offline or the
store of a data directory (which must not be in use by a running server), or a PostgreSQL store (--store
postgres://… or ` + storeEnv + `, with --data the directory holding its ` + audit.ChainKeyFileName + `; servers may run).`,
	}
	cmd.AddCommand(newAuditExportCmd(), newAuditVerifyCmd())
	for _, c := range cmd.Commands() {
		c.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	}
	return cmd
}

// openAuditStore opens the store of the command's settings for reading: the bbolt file in dir, or the PostgreSQL
// database of --store / TRUSTSIGN_STORE with its chain key in dir.
func openAuditStore(cmd *cobra.Command, dir string) (*openedStore, error) {
	if dir == "" {
		return nil, usageErr("--data DIR is required")
	}
	storeURL, err := storeSetting(cmd)
	if err != nil {
		return nil, err
	}
	db, err := openStore(cmd.Context(), dir, storeURL, true)
	switch {
	case errors.Is(err, errNoChainKey):
		return nil, failErr(exitNoInput, fmt.Errorf("%w: restore it from the backup of the data directory", err))
	case errors.Is(err, os.ErrNotExist):
		if perr := postgresDataError(dir); perr != nil {
			return nil, perr
		}
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
			db, err := openAuditStore(cmd, data)
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
			if pending, oldest, err := db.AuditPending(cmd.Context()); err == nil && pending > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d audit events committed but not chained yet (queued since %s) are not in this export\n",
					pending, oldest.Format(time.RFC3339))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "data `DIR` of the service")
	cmd.Flags().StringVar(&out, "out", "", "write to `FILE` instead of standard output")
	cmd.Flags().String("store", "", storeFlagHelp)
	return cmd
}

func newAuditVerifyCmd() *cobra.Command {
	var (
		data, chainKey   string
		heads, sealCerts []string
		jsonOut, offline bool
		sealEvery        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "verify FILE | --data DIR",
		Short: "Verify an exported audit log offline, or the log in a data directory",
		Long: `Check every record's hash, link and MAC, every seal's signature, that no known signed head lies past the
end, and that the newest seal is not older than the seal interval allows (a cut-off end shows that way). Exit
codes: 0 intact; 1 broken or stale (the first broken record is named); 64 usage error; 66 the file, store or key
cannot be read.

The MACs are HMAC-SHA-256 under the chain key (DATA/audit-chain.key, kept outside the store): --data reads it from
the data directory; for an export give --chain-key KEYFILE, without which the MACs are not checked (a warning says
so) and a chain recomputed by someone who could write the store would pass. --seal-cert pins the seal certificate(s): seals
made with any other key are broken. --heads takes files of signed heads (the serve --audit-heads file, an earlier
export) that the log must still contain; with --data, DATA/audit-heads.jsonl is read when present.

Staleness: unless the newest seal is a shutdown seal (the server stopped cleanly), it must be younger than
--seal-interval plus a grace (half the interval, at least 10 s) now; a log never sealed is judged by its first record.
--offline judges it at the log's newest record instead (an old copy: only a seal missing between records shows);
--seal-interval 0 turns the check off.

On PostgreSQL a writing transaction queues its audit events and the nodes chain them moments later: verify
reports events not chained yet, and fails (stale) when the oldest has waited longer than the seal interval and
grace allow (no node is chaining). export writes the chain only and says how many events wait.`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) > 1:
				return usageErr("verify takes one FILE")
			case len(args) == 1 && data != "":
				return usageErr("give either FILE or --data DIR, not both")
			case len(args) == 0 && data == "":
				return usageErr("verify needs FILE or --data DIR")
			case sealEvery < 0:
				return usageErr("--seal-interval must not be negative")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := audit.VerifyOptions{SealInterval: sealEvery}
			if !offline {
				opts.Now = time.Now()
			}
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
			if chainKey != "" {
				k, err := audit.LoadChainKey(chainKey)
				if err != nil {
					return failErr(exitNoInput, fmt.Errorf("chain key: %w", err))
				}
				opts.ChainKey = k
			}
			if len(heads) == 0 && data != "" {
				if p := filepath.Join(data, defaultHeadsFile); fileExists(p) {
					heads = []string{p}
				}
			}
			for _, h := range heads {
				f, err := os.Open(h)
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
					return failErr(exitNoInput, fmt.Errorf("heads file %s: %w", h, err))
				}
			}
			var (
				rep audit.Report
				err error
			)
			if data != "" {
				db, oerr := openAuditStore(cmd, data)
				if oerr != nil {
					return oerr
				}
				defer db.Close()
				if opts.ChainKey == nil && db.AuditChainKey() == nil && (db.bolt == nil || db.bolt.Schema() >= 2) {
					return failErr(exitNoInput, fmt.Errorf("the audit chain key %s is missing: restore it from the backup of the data directory (or give --chain-key)",
						filepath.Join(data, audit.ChainKeyFileName)))
				}
				// one read transaction: servers on PostgreSQL append while this reads
				err = db.ViewAudit(cmd.Context(), func(snap store.AuditSnapshot) error {
					var verr error
					rep, verr = audit.VerifyStore(cmd.Context(), snap, opts)
					return verr
				})
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
						printJSON(cmd.OutOrStdout(), map[string]any{"intact": false, "stale": be.Stale, "brokenSeq": be.Seq, "line": be.Line, "reason": be.Reason, "report": rep})
					}
					return failErr(exitFailed, err)
				}
				return failErr(exitNoInput, err)
			}
			if jsonOut {
				printJSON(cmd.OutOrStdout(), map[string]any{"intact": true, "report": rep})
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "audit log intact: %d records (last %d, %d keyed), %d seals, %d records after the last seal\n",
					rep.Records, rep.LastSeq, rep.Keyed, rep.Seals, rep.Unsealed)
				if rep.Seals > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "newest seal: %s (%s)\n", rep.LastSealTime, cmp.Or(rep.LastSealReason, "interval"))
				}
				if rep.Pending > 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "not chained yet: %d committed events, queued since %s (the nodes chain them within moments)\n",
						rep.Pending, rep.OldestPending)
				}
			}
			if rep.MACsNotChecked > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: the MACs of %d records were not checked (give --chain-key %s): a chain recomputed by someone who could write the store would pass\n",
					rep.MACsNotChecked, audit.ChainKeyFileName)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&data, "data", "", "verify the store of data `DIR`")
	fl.StringVar(&chainKey, "chain-key", "", "the audit chain key `FILE` (DATA/"+audit.ChainKeyFileName+") to check the records' MACs")
	fl.StringSliceVar(&sealCerts, "seal-cert", nil, "trusted seal certificate `FILE` (PEM), repeatable")
	fl.StringSliceVar(&heads, "heads", nil, "`FILE` of signed heads (heads file or earlier export) that must still be in the log, repeatable")
	fl.DurationVar(&sealEvery, "seal-interval", time.Minute, "the server's --audit-seal-interval: a newest seal older than it allows fails (0: no check)")
	fl.BoolVar(&offline, "offline", false, "judge the newest seal's age at the log's newest record, not now (an old copy)")
	fl.BoolVar(&jsonOut, "json", false, "print the result as JSON")
	fl.String("store", "", storeFlagHelp)
	return cmd
}

// defaultHeadsFile is where serve appends signed heads unless --audit-heads says otherwise.
const defaultHeadsFile = "audit-heads.jsonl"

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func printJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintln(w, string(b))
}
