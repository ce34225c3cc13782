// Command trustsign is the trusted-signature service and its tools: it signs documents in XAdES or PAdES with a
// seal key, verifies signatures offline, and (with serve) runs the service.
//
// Exit codes of verify: 0 every signature TOTAL_PASSED, 1 any TOTAL_FAILED (or a malformed file), 2 the worst is
// INDETERMINATE, 3 no signature found (also a file that is not XML or PDF), 64 usage error, 65 a certificate file
// holds no usable certificate, 66 a file cannot be read, 73 the report cannot be written. Other commands exit 0 on
// success, 1 on failure, 64 on a usage error (a mistyped command line, nothing else), 65 and 66 as verify.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes (sysexits.h where one fits).
const (
	exitOK            = 0
	exitFailed        = 1
	exitIndeterminate = 2
	exitNoSignature   = 3
	exitUsage         = 64
	exitDataErr       = 65 // EX_DATAERR: an input file's content is unusable
	exitNoInput       = 66 // EX_NOINPUT
	exitCantCreate    = 73 // EX_CANTCREAT: an output file cannot be written
)

// exitError carries an exit code with an error message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, a...)}
}

func failErr(code int, err error) error { return &exitError{code, err} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return runWith(context.Background(), args, nil, stdout, stderr)
}

// runIO is run with the standard input given (read for the file name -).
func runIO(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(context.Background(), args, stdin, stdout, stderr)
}

// runWith is run with a context and standard input (nil: the process's, read for the file name - and for
// passwords): the admin socket runs forwarded commands with it (adminsock.go).
func runWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if stdin != nil {
		root.SetIn(stdin)
	}
	err := root.ExecuteContext(context.WithValue(ctx, argsKey{}, args))
	if err == nil {
		return exitOK
	}
	var fe forwardedExit
	if errors.As(err, &fe) {
		return int(fe) // the server printed its messages
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(stderr, "trustsign: "+ee.err.Error())
		}
		if ee.code == exitUsage {
			fmt.Fprintln(stderr, "Run 'trustsign help' for usage.")
		}
		return ee.code
	}
	// cobra's own errors (unknown command or flag) are usage errors
	fmt.Fprintln(stderr, "trustsign: "+err.Error())
	fmt.Fprintln(stderr, "Run 'trustsign help' for usage.")
	return exitUsage
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "trustsign",
		Short: "Trusted-signature service: sign in XAdES/PAdES, verify offline, serve the API",
		Long: `trustsign signs documents with a seal key in XAdES (XML) or PAdES (PDF), binding the identity of a
trusted profile into the signature, and verifies XAdES and PAdES signatures offline.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	// --version prints what `trustsign version` prints
	bi, _ := debug.ReadBuildInfo()
	root.Version = versionText(bi)
	root.SetVersionTemplate("{{.Version}}")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	root.AddCommand(newSignCmd(), newExtendCmd(), newVerifyCmd(), newServeCmd(), newVersionCmd())
	root.AddCommand(newAuditCmd(), newAdminCmd())
	root.AddCommand(newTSACmd())
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	}
	return root
}

// version is set at build time with -ldflags "-X main.version=..."; when it is not, the module version from the
// build info is used.
var version = ""

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and build information",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			bi, _ := debug.ReadBuildInfo()
			fmt.Fprint(cmd.OutOrStdout(), versionText(bi))
			return nil
		},
	}
}

// versionText describes the build: module version, VCS revision and time (with "+dirty" for a modified tree) and
// the Go version. bi may be nil (a binary built without module support).
func versionText(bi *debug.BuildInfo) string {
	v, rev, at, dirty, goVersion := version, "", "", false, runtime.Version()
	if bi != nil {
		if v == "" {
			v = bi.Main.Version
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trustsign %s\n", v)
	if rev != "" {
		if dirty {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "revision: %s\n", rev)
	}
	if at != "" {
		fmt.Fprintf(&b, "commit time: %s\n", at)
	}
	fmt.Fprintf(&b, "go: %s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("%s takes no arguments", cmd.Name())
	}
	return nil
}
