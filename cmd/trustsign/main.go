// Command trustsign is the trusted-signature service and its tools: it signs documents in XAdES or PAdES with a
// seal key, verifies signatures offline, and (with serve) runs the service.
//
// Exit codes of verify: 0 every signature TOTAL_PASSED, 1 any TOTAL_FAILED (or a malformed file), 2 the worst is
// INDETERMINATE, 3 no signature found, 64 usage error, 66 a file cannot be read. Other commands exit 0 on success,
// 1 on failure and 64 on a usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes (sysexits.h where one fits).
const (
	exitOK            = 0
	exitFailed        = 1
	exitIndeterminate = 2
	exitNoSignature   = 3
	exitUsage         = 64
	exitNoInput       = 66
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

// runWith is run with a context and standard input (nil: the process's): the admin socket runs forwarded
// commands with it (adminsock.go).
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
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	root.AddCommand(newSignCmd(), newVerifyCmd(), newServeCmd(), newVersionCmd())
	root.AddCommand(newAuditCmd(), newAdminCmd())
	for _, c := range root.Commands() {
		c.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	}
	return root
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "trustsign "+version)
			return nil
		},
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("%s takes no arguments", cmd.Name())
	}
	return nil
}
