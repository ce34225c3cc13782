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
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
)

// Admin commands work on a data directory while the server is stopped (bbolt allows one writer process).
func newAdminCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer a data directory (integrator clients, officers, maintenance windows, profiles)",
		Long: `Administer the data directory of a stopped server: the embedded store admits one writer process at a time,
so stop 'trustsign serve' first.`,
	}
	client := &cobra.Command{Use: "client", Short: "Integrator API clients"}
	client.AddCommand(newAdminClientCreateCmd())
	officer := &cobra.Command{Use: "officer", Short: "Confirmation-point officers"}
	officer.AddCommand(newAdminOfficerCreateCmd())
	maint := &cobra.Command{Use: "maintenance", Short: "Maintenance windows (login and signing unavailable)"}
	maint.AddCommand(newAdminMaintenanceAddCmd(), newAdminMaintenanceListCmd(), newAdminMaintenanceDeleteCmd())
	prof := &cobra.Command{Use: "profile", Short: "Trusted profiles"}
	prof.AddCommand(newAdminProfileInvalidateCmd())
	cmd.AddCommand(client, officer, maint, prof)
	cmd.AddCommand(newAdminBackupCmd())
	for _, c := range []*cobra.Command{cmd, client, officer, maint, prof} {
		c.Args = noArgs
		c.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	}
	return cmd
}

func dataFlag(cmd *cobra.Command, data *string) {
	cmd.Flags().StringVar(data, "data", "data", "data `DIR` of the (stopped) server")
}

// openAdmin opens the data directory's store. Commands that create something (clients, officers, windows) may
// start a new data directory, as serve does; the others need an existing one.
func openAdmin(data string, create bool) (*domain, error) {
	if _, err := os.Stat(data); err != nil && !(create && errors.Is(err, os.ErrNotExist)) {
		return nil, failErr(exitNoInput, fmt.Errorf("data directory %s: %w", data, errors.Unwrap(err)))
	}
	d, err := openDomain(data, nil)
	if err != nil {
		return nil, failErr(exitFailed, err)
	}
	return d, nil
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
			d, err := openAdmin(data, true)
			if err != nil {
				return err
			}
			defer d.db.Close()
			cl, key, err := d.profiles.CreateClient(cmd.Context(), name, sc)
			if err != nil {
				return failErr(exitFailed, err)
			}
			out, _ := json.Marshal(map[string]any{"id": cl.ID, "name": cl.Name, "scopes": cl.Scopes, "key": key})
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&name, "name", "", "client name")
	cmd.Flags().StringVar(&scopes, "scopes", "sign,verify", "comma-separated scopes: sign, lookup, verify")
	return cmd
}

// readPassword reads a password: prompted twice on a terminal, else the first line of standard input.
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
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newAdminOfficerCreateCmd() *cobra.Command {
	var data, login, name string
	cmd := &cobra.Command{
		Use:   "create --data DIR --login LOGIN [--name NAME]",
		Short: "Create a confirmation-point officer (password prompted, or read from standard input)",
		Args:  noArgs,
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
			d, err := openAdmin(data, true)
			if err != nil {
				return err
			}
			defer d.db.Close()
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
			out, _ := json.Marshal(map[string]any{"id": o.ID, "login": o.Login, "name": o.Name})
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	dataFlag(cmd, &data)
	cmd.Flags().StringVar(&login, "login", "", "officer login")
	cmd.Flags().StringVar(&name, "name", "", "officer's full name")
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
			d, err := openAdmin(data, true)
			if err != nil {
				return err
			}
			defer d.db.Close()
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
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := openAdmin(data, false)
			if err != nil {
				return err
			}
			defer d.db.Close()
			ws, err := d.db.MaintenanceWindows(cmd.Context(), time.Now())
			if err != nil {
				return failErr(exitFailed, err)
			}
			for _, w := range ws {
				out, _ := json.Marshal(w)
				fmt.Fprintln(cmd.OutOrStdout(), string(out))
			}
			return nil
		},
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
			d, err := openAdmin(data, false)
			if err != nil {
				return err
			}
			defer d.db.Close()
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
			d, err := openAdmin(data, false)
			if err != nil {
				return err
			}
			defer d.db.Close()
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
