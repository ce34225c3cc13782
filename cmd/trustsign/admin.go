package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

// Admin commands work on a data directory. With the server stopped they open its store; while `trustsign serve`
// runs (bbolt admits one process) they hand their arguments and the password they read to the server over the
// admin socket in the data directory (adminsock.go), and the server runs the same command against its open store.
// On PostgreSQL (--store, TRUSTSIGN_STORE) they always open the database themselves, servers running or not.
func newAdminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer a data directory (integrator clients, officers, maintenance windows, profiles)",
		Long: `Administer a data directory. With the server stopped, the command opens the store; while 'trustsign serve'
runs on the directory, the command is forwarded over the server's admin socket (DATA/` + adminSocketName + `, mode 0600,
answering only the server's own user) and runs inside the server.

A directory that does not exist is refused (a mistyped --data does not start a new store). 'client create',
'officer create' and 'maintenance add' start a new store in an existing directory that has none (and say so on
standard error); every other command needs an existing store.

With --store postgres://… (or ` + storeEnv + `) the command works on that PostgreSQL database, opening it itself
while servers run (no admin socket); --data must then be a directory holding the servers' ` + audit.ChainKeyFileName + ` and
` + profile.SecretFileName + ` (a command that creates something may make them for a new database).`,
		PersistentPreRunE: forwardToServer,
	}
	cmd.PersistentFlags().String("store", "", storeFlagHelp)
	client := &cobra.Command{Use: "client", Short: "Integrator API clients"}
	client.AddCommand(newAdminClientCreateCmd(), newAdminClientListCmd(), newAdminClientDisableCmd())
	officer := &cobra.Command{Use: "officer", Short: "Confirmation-point officers"}
	officer.AddCommand(newAdminOfficerCreateCmd(), newAdminOfficerListCmd(), newAdminOfficerDisableCmd(), newAdminOfficerResetCmd())
	maint := &cobra.Command{Use: "maintenance", Short: "Maintenance windows (login and signing unavailable)"}
	maint.AddCommand(newAdminMaintenanceAddCmd(), newAdminMaintenanceListCmd(), newAdminMaintenanceDeleteCmd())
	prof := &cobra.Command{Use: "profile", Short: "Trusted profiles"}
	prof.AddCommand(newAdminProfileInvalidateCmd())
	cmd.AddCommand(client, officer, maint, prof)
	cmd.AddCommand(newAdminBackupCmd())
	cmd.AddCommand(newAdminMigrateCmd())
	cmd.AddCommand(newAdminSealCmd())
	for _, c := range []*cobra.Command{cmd, client, officer, maint, prof} {
		c.Args = noArgs
		c.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	}
	return cmd
}

// withStore is the RunE of an admin command that works on the store: it opens the data directory's store (or
// takes the running server's, for a command forwarded over the admin socket) and closes it after run. create
// lets the command start a new store in an empty directory.
func withStore(data *string, create bool, run func(cmd *cobra.Command, d *domain, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		d, done, err := openAdmin(cmd, *data, create)
		if err != nil {
			return err
		}
		defer done()
		return run(cmd, d, args)
	}
}

func dataFlag(cmd *cobra.Command, data *string) {
	cmd.Flags().StringVar(data, "data", "data", "data `DIR` (the server's; while it runs, the command goes through its admin socket)")
}

// oneArg takes exactly one positional argument, named what in the usage error.
func oneArg(what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != 1 || args[0] == "" {
			return usageErr("%s takes one argument: %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// servedDomainKey carries, in a forwarded command's context, the running server's open domain.
type servedDomainKey struct{}

// openAdmin gives an admin command the domain: the server's own when the command was forwarded to it, else the
// data directory's store opened for this process (the returned function closes it). A missing directory is
// refused; so is a directory without a store unless the command creates something (create).
func openAdmin(cmd *cobra.Command, data string, create bool) (*domain, func(), error) {
	if d, ok := cmd.Context().Value(servedDomainKey{}).(*domain); ok {
		return d, func() {}, nil
	}
	storeURL, err := storeSetting(cmd)
	if err != nil {
		return nil, nil, err
	}
	fi, err := os.Stat(data)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil, failErr(exitNoInput, fmt.Errorf("data directory %s does not exist (a mistyped --data? create it with mkdir, or let 'trustsign serve' make it)", data))
	case err != nil:
		return nil, nil, failErr(exitNoInput, fmt.Errorf("data directory %s: %w", data, err))
	case !fi.IsDir():
		return nil, nil, failErr(exitNoInput, fmt.Errorf("data directory %s is not a directory", data))
	}
	if storeURL != "" {
		// the database may be new or in use by servers; a command that creates nothing wants the servers' chain
		// key here rather than make one (and a new profile secret beside it)
		if key := filepath.Join(data, audit.ChainKeyFileName); !create && !fileExists(key) {
			return nil, nil, failErr(exitNoInput, fmt.Errorf("no %s in %s: give the --data directory of the servers of %s (or copies of their %s and %s)",
				audit.ChainKeyFileName, data, redactURL(storeURL), audit.ChainKeyFileName, profile.SecretFileName))
		}
		d, err := openDomainStore(cmd.Context(), data, storeURL, nil)
		if err != nil {
			return nil, nil, failErr(exitFailed, err)
		}
		return d, func() { d.db.Close() }, nil
	}
	_, err = os.Stat(filepath.Join(data, bbolt.FileName))
	isNew := errors.Is(err, os.ErrNotExist)
	if err := postgresDataError(data); isNew && err != nil {
		return nil, nil, err
	}
	if isNew && !create {
		return nil, nil, failErr(exitNoInput, fmt.Errorf("no trustsign store in %s (no %s; a mistyped --data?)", data, bbolt.FileName))
	}
	d, err := openDomain(data, nil)
	if err != nil {
		return nil, nil, failErr(exitFailed, err)
	}
	return d, func() {
		d.db.Close()
		if isNew {
			// after the result, so that scripts reading the first line of the combined output still find it
			fmt.Fprintf(cmd.ErrOrStderr(), "trustsign: started a new store in %s\n", filepath.Join(data, bbolt.FileName))
		}
	}, nil
}

func newAdminClientCreateCmd() *cobra.Command {
	var data, name, scopes string
	cmd := &cobra.Command{
		Use:   "create --data DIR --name NAME --scopes sign,lookup,verify",
		Short: "Create an integrator client and print its API key (shown once, stored hashed)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(name) == "" {
				return usageErr("--name is required")
			}
			sc, err := profile.ParseScopes(scopes)
			if err != nil {
				return usageErr("--scopes: each scope is sign, lookup or verify")
			}
			d, done, err := openAdmin(cmd, data, true)
			if err != nil {
				return err
			}
			defer done()
			cl, key, err := d.profiles.CreateClient(cmd.Context(), name, sc)
			if err != nil {
				return failErr(exitFailed, err)
			}
			printJSON(cmd.OutOrStdout(), map[string]any{"id": cl.ID, "name": cl.Name, "scopes": cl.Scopes, "key": key})
			return nil
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&name, "name", "", "client name")
	cmd.Flags().StringVar(&scopes, "scopes", "sign,verify", "comma-separated scopes: sign, lookup, verify")
	return cmd
}

// readPassword reads a password: prompted twice on a terminal, else the first line of standard input (a second
// line, when there is one, must repeat it). Passwords never come from the command line.
func readPassword(cmd *cobra.Command) (string, error) {
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(cmd.ErrOrStderr(), "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", err
		}
		fmt.Fprint(cmd.ErrOrStderr(), "Repeat password: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", usageErr("the passwords differ")
		}
		return string(p1), nil
	}
	br := bufio.NewReader(io.LimitReader(in, 4096))
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if again, _ := br.ReadString('\n'); again != "" && strings.TrimRight(again, "\r\n") != pw {
		return "", usageErr("the passwords differ")
	}
	return pw, nil
}

// annPassword marks the commands that read a password from standard input: a forwarded one reads it here and
// sends it to the server (see forwardToServer).
const annPassword = "reads-password"

func newAdminOfficerCreateCmd() *cobra.Command {
	var data, login, name string
	cmd := &cobra.Command{
		Use:         "create --data DIR --login LOGIN [--name NAME]",
		Short:       "Create a confirmation-point officer (password prompted, or read from standard input)",
		Args:        noArgs,
		Annotations: map[string]string{annPassword: "yes"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if login == "" {
				return usageErr("--login is required")
			}
			pw, err := readPassword(cmd)
			if err != nil {
				return err
			}
			if pw == "" {
				return usageErr("empty password")
			}
			d, done, err := openAdmin(cmd, data, true)
			if err != nil {
				return err
			}
			defer done()
			if name == "" {
				name = "Urzędnik punktu potwierdzającego" // the profile rules allow letters only in names
			}
			o, err := d.profiles.CreateOfficer(cmd.Context(), login, pw, name)
			if err != nil {
				var ve *profile.ValidationError
				if errors.As(err, &ve) {
					return usageErr("%s: %s", ve.Field, ve.Reason)
				}
				return failErr(exitFailed, err)
			}
			printJSON(cmd.OutOrStdout(), map[string]any{"id": o.ID, "login": o.Login, "name": o.Name})
			return nil
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&login, "login", "", "officer login")
	cmd.Flags().StringVar(&name, "name", "", "officer's full name")
	return cmd
}

func newAdminClientListCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "list --data DIR",
		Short: "List integrator clients, disabled ones too (JSON Lines; keys are never shown, only their hashes are kept)",
		Args:  noArgs,
		RunE: withStore(&data, false, func(cmd *cobra.Command, d *domain, args []string) error {
			all, err := d.profiles.Clients(cmd.Context())
			if err != nil {
				return failErr(exitFailed, err)
			}
			for _, c := range all {
				printJSON(cmd.OutOrStdout(), map[string]any{"id": c.ID, "name": c.Name, "scopes": c.Scopes,
					"created": c.Created.UTC().Format(time.RFC3339), "disabled": c.Disabled})
			}
			return nil
		}),
	}
	dataFlag(cmd, &data)
	return cmd
}

func newAdminClientDisableCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "disable ID --data DIR",
		Short: "Disable an integrator client: its API key stops working at once (401), e.g. after a leak",
		Args:  oneArg("the client id (see 'admin client list')"),
		RunE: withStore(&data, false, func(cmd *cobra.Command, d *domain, args []string) error {
			if err := d.profiles.DisableClient(cmd.Context(), "cli", args[0]); err != nil {
				if errors.Is(err, profile.ErrNotFound) {
					return failErr(exitFailed, fmt.Errorf("no client %s", args[0]))
				}
				return failErr(exitFailed, err)
			}
			return nil
		}),
	}
	dataFlag(cmd, &data)
	return cmd
}

func newAdminOfficerListCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "list --data DIR",
		Short: "List officers, disabled ones too (JSON Lines)",
		Args:  noArgs,
		RunE: withStore(&data, false, func(cmd *cobra.Command, d *domain, args []string) error {
			all, err := d.profiles.Officers(cmd.Context())
			if err != nil {
				return failErr(exitFailed, err)
			}
			for _, o := range all {
				printJSON(cmd.OutOrStdout(), map[string]any{"id": o.ID, "login": o.Login, "name": o.Name,
					"created": o.Created.UTC().Format(time.RFC3339), "disabled": o.Disabled})
			}
			return nil
		}),
	}
	dataFlag(cmd, &data)
	return cmd
}

func newAdminOfficerDisableCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "disable LOGIN --data DIR",
		Short: "Disable an officer: logging in is refused and open sessions end",
		Args:  oneArg("the officer's login"),
		RunE: withStore(&data, false, func(cmd *cobra.Command, d *domain, args []string) error {
			if err := d.profiles.DisableOfficer(cmd.Context(), "cli", args[0]); err != nil {
				if errors.Is(err, profile.ErrNotFound) {
					return failErr(exitFailed, fmt.Errorf("no officer with the login %s", args[0]))
				}
				return failErr(exitFailed, err)
			}
			return nil
		}),
	}
	dataFlag(cmd, &data)
	return cmd
}

func newAdminOfficerResetCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:         "reset-password LOGIN --data DIR",
		Short:       "Set an officer's new password (prompted twice, or read from standard input); open sessions end",
		Args:        oneArg("the officer's login"),
		Annotations: map[string]string{annPassword: "yes"},
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd)
			if err != nil {
				return err
			}
			if pw == "" {
				return usageErr("empty password")
			}
			d, done, err := openAdmin(cmd, data, false)
			if err != nil {
				return err
			}
			defer done()
			if err := d.profiles.ResetOfficerPassword(cmd.Context(), "cli", args[0], pw); err != nil {
				var ve *profile.ValidationError
				switch {
				case errors.As(err, &ve):
					return usageErr("%s: %s", ve.Field, ve.Reason)
				case errors.Is(err, profile.ErrNotFound):
					return failErr(exitFailed, fmt.Errorf("no officer with the login %s", args[0]))
				}
				return failErr(exitFailed, err)
			}
			return nil
		},
	}
	dataFlag(cmd, &data)
	return cmd
}

func newAdminMaintenanceAddCmd() *cobra.Command {
	var data, start, end, message string
	cmd := &cobra.Command{
		Use:   "add --data DIR --start RFC3339 --end RFC3339 [--message TEXT]",
		Short: "Schedule a maintenance window",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err1 := time.Parse(time.RFC3339, start)
			e, err2 := time.Parse(time.RFC3339, end)
			if err1 != nil || err2 != nil || !e.After(s) {
				return usageErr("--start and --end must be RFC 3339 times, end after start")
			}
			d, done, err := openAdmin(cmd, data, true)
			if err != nil {
				return err
			}
			defer done()
			b := make([]byte, 8)
			rand.Read(b) //nolint:errcheck
			now := time.Now().UTC()
			w := store.MaintenanceWindow{ID: "mw-" + hex.EncodeToString(b), Start: s.UTC(), End: e.UTC(), Message: message, Created: now, CreatedBy: "admin"}
			if err := d.db.AddMaintenanceWindow(cmd.Context(), w, audit.Event{Time: now, Kind: "maintenance.add", Actor: "admin", Subject: w.ID,
				Details: map[string]string{"start": w.Start.Format(time.RFC3339), "end": w.End.Format(time.RFC3339)}}); err != nil {
				return failErr(exitFailed, err)
			}
			out, _ := json.Marshal(w)
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&start, "start", "", "start time (RFC 3339)")
	cmd.Flags().StringVar(&end, "end", "", "end time (RFC 3339)")
	cmd.Flags().StringVar(&message, "message", "", "message shown to users")
	return cmd
}

func newAdminMaintenanceListCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "list --data DIR",
		Short: "List current and upcoming maintenance windows (JSON Lines)",
		Args:  noArgs,
		RunE: withStore(&data, false, func(cmd *cobra.Command, d *domain, args []string) error {
			ws, err := d.db.MaintenanceWindows(cmd.Context(), time.Now())
			if err != nil {
				return failErr(exitFailed, err)
			}
			for _, w := range ws {
				out, _ := json.Marshal(w)
				fmt.Fprintln(cmd.OutOrStdout(), string(out))
			}
			return nil
		}),
	}
	dataFlag(cmd, &data)
	return cmd
}

func newAdminMaintenanceDeleteCmd() *cobra.Command {
	var data, id string
	cmd := &cobra.Command{
		Use:   "delete --data DIR --id ID",
		Short: "Cancel a maintenance window",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if id == "" {
				return usageErr("--id is required")
			}
			d, done, err := openAdmin(cmd, data, false)
			if err != nil {
				return err
			}
			defer done()
			if err := d.db.DeleteMaintenanceWindow(cmd.Context(), id, audit.Event{Time: time.Now().UTC(), Kind: "maintenance.delete", Actor: "admin", Subject: id}); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return failErr(exitFailed, fmt.Errorf("no maintenance window %s", id))
				}
				return failErr(exitFailed, err)
			}
			return nil
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&id, "id", "", "window id")
	return cmd
}

func newAdminProfileInvalidateCmd() *cobra.Command {
	var data, id, reason string
	cmd := &cobra.Command{
		Use:   "invalidate --data DIR --id PROFILE_ID --reason TEXT",
		Short: "Invalidate a trusted profile (e.g. the holder's death reported by the national register)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if id == "" || reason == "" {
				return usageErr("--id and --reason are required")
			}
			d, done, err := openAdmin(cmd, data, false)
			if err != nil {
				return err
			}
			defer done()
			if err := d.profiles.Invalidate(cmd.Context(), "admin", id, reason); err != nil {
				return failErr(exitFailed, err)
			}
			return nil
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&id, "id", "", "profile id")
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit log)")
	return cmd
}
