package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// The admin socket: while `trustsign serve` holds the store (bbolt admits one process), an admin command cannot
// open it. The server listens on a Unix socket in its data directory; an admin command that finds the socket
// answering sends its arguments (and the password it read, never on a command line) and prints what the server's
// run of the same command wrote, exiting with its code.
//
// Who may connect: the socket file is mode 0600 and the server checks each connection's peer user (SO_PEERCRED
// on Linux): only the server's own user (or root) is served. The data directory should be 0700 (serve creates it
// so and warns when it is not). Only `admin …` commands run over the socket, one at a time, each logged.

// adminSocketName is the socket's file name in the data directory.
const adminSocketName = "admin.sock"

// adminRequest is what the command sends; adminResponse what the server answers.
type adminRequest struct {
	Args  []string `json:"args"`
	Stdin string   `json:"stdin,omitempty"`
}

type adminResponse struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

// maxAdminRequest bounds a request (arguments and a password).
const maxAdminRequest = 64 << 10

// forwardedExit is the exit code of a command the server ran; its messages are already printed.
type forwardedExit int

func (e forwardedExit) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// argsKey carries the command line in the context, so a forwarded command sends exactly what was typed.
type argsKey struct{}

// forwardToServer runs before every admin command: when the data directory's server answers on its admin
// socket, the command runs there and this returns its exit code as forwardedExit; otherwise the command runs here.
func forwardToServer(cmd *cobra.Command, pos []string) error {
	if _, served := cmd.Context().Value(servedDomainKey{}).(*domain); served {
		return nil
	}
	f := cmd.Flags().Lookup("data")
	if f == nil {
		return nil
	}
	if storeURL, err := storeSetting(cmd); err != nil || storeURL != "" {
		return err // PostgreSQL: the command opens the database itself
	}
	sock := filepath.Join(f.Value.String(), adminSocketName)
	if _, err := os.Stat(sock); err != nil {
		return nil // no server: open the store here
	}
	args, _ := cmd.Context().Value(argsKey{}).([]string)
	if cmd.Annotations[annPathArgs] != "" {
		args = absolutePathArgs(args, pos)
	}
	req := adminRequest{Args: args}
	if cmd.Annotations[annPassword] != "" {
		// read before connecting (a typo fails here); should the command run here after all, it reads it again
		pw, err := readPassword(cmd)
		if err != nil {
			return err
		}
		req.Stdin = pw + "\n"
		cmd.SetIn(strings.NewReader(req.Stdin))
	}
	conn, err := net.DialTimeout("unix", sock, 2*time.Second)
	if err != nil {
		return nil // a stale socket left by a crash: open the store here
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Minute)) //nolint:errcheck
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return failErr(exitFailed, fmt.Errorf("admin socket: %w", err))
	}
	var resp adminResponse
	if err := json.NewDecoder(io.LimitReader(conn, 256<<20)).Decode(&resp); err != nil {
		return failErr(exitFailed, fmt.Errorf("admin socket: the server gave no answer: %w", err))
	}
	io.WriteString(cmd.OutOrStdout(), resp.Stdout) //nolint:errcheck
	io.WriteString(cmd.ErrOrStderr(), resp.Stderr) //nolint:errcheck
	if resp.Code == exitOK {
		return forwardedExit(exitOK)
	}
	return forwardedExit(resp.Code)
}

// annPathArgs marks the commands whose positional arguments are file paths: a forwarded one sends them absolute,
// since the server's working directory is not the caller's.
const annPathArgs = "path-args"

// absolutePathArgs returns the command line with each positional argument (its last occurrence) made absolute.
func absolutePathArgs(args, pos []string) []string {
	out := append([]string(nil), args...)
	for _, p := range pos {
		abs, err := filepath.Abs(p)
		if err != nil || abs == p {
			continue
		}
		for i := len(out) - 1; i >= 0; i-- {
			if out[i] == p {
				out[i] = abs
				break
			}
		}
	}
	return out
}

// adminSocket serves admin commands against the running server's domain.
type adminSocket struct {
	ln     net.Listener
	path   string
	d      *domain
	logger *slog.Logger
	mu     sync.Mutex // one command at a time
	wg     sync.WaitGroup
	connMu sync.Mutex
	conns  map[net.Conn]struct{} // open connections, closed by Close so that an idle client cannot hold shutdown
}

// listenAdmin opens DATA/admin.sock (a stale one, left by a crash, is replaced: this process holds the store, so
// no other server can be using it). The caller closes it on shutdown.
func listenAdmin(dir string, d *domain, logger *slog.Logger) (*adminSocket, error) {
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		logger.Warn("the data directory is open to other users; make it mode 0700", "data", dir, "mode", fi.Mode().Perm().String())
	}
	path := filepath.Join(dir, adminSocketName)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	// no connection is accepted before the mode is set; one made in between still meets the peer check
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	return &adminSocket{ln: ln, path: path, d: d, logger: logger, conns: map[net.Conn]struct{}{}}, nil
}

// serve accepts commands until Close.
func (a *adminSocket) serve(ctx context.Context) {
	for {
		conn, err := a.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				a.logger.Error("admin socket", "error", err.Error())
			}
			return
		}
		a.connMu.Lock()
		a.conns[conn] = struct{}{}
		a.connMu.Unlock()
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			defer func() {
				a.connMu.Lock()
				delete(a.conns, conn)
				a.connMu.Unlock()
				conn.Close()
			}()
			a.handle(ctx, conn)
		}()
	}
}

func (a *adminSocket) handle(ctx context.Context, conn net.Conn) {
	if err := checkPeer(conn); err != nil {
		a.logger.Warn("admin socket: connection refused", "error", err.Error())
		return
	}
	// the client has read its password before connecting: the request comes at once
	conn.SetReadDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	conn.SetWriteDeadline(time.Now().Add(5 * time.Minute)) //nolint:errcheck
	var req adminRequest
	if err := json.NewDecoder(io.LimitReader(conn, maxAdminRequest)).Decode(&req); err != nil {
		a.logger.Warn("admin socket: unreadable request", "error", err.Error())
		return
	}
	resp := adminResponse{Code: exitUsage, Stderr: "trustsign: only admin commands run over the admin socket\n"}
	if len(req.Args) > 0 && req.Args[0] == "admin" {
		a.mu.Lock()
		var out, errb bytes.Buffer
		start := time.Now()
		resp.Code = runWith(context.WithValue(ctx, servedDomainKey{}, a.d), req.Args, strings.NewReader(req.Stdin), &out, &errb)
		a.mu.Unlock()
		resp.Stdout, resp.Stderr = out.String(), errb.String()
		// the command's words only: arguments may name people (logins), flags' values are not needed here
		a.logger.Info("admin command", "command", commandWords(req.Args), "exit", resp.Code,
			"duration_ms", time.Since(start).Milliseconds())
	}
	json.NewEncoder(conn).Encode(resp) //nolint:errcheck
}

// commandWords is "admin officer create" of a command line: the leading words before the first flag, at most three.
func commandWords(args []string) string {
	var w []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") || len(w) == 3 {
			break
		}
		w = append(w, a)
	}
	return strings.Join(w, " ")
}

// Close stops accepting, drops connections still sending their request, waits for the commands running, and
// removes the socket file.
func (a *adminSocket) Close() error {
	err := a.ln.Close()
	a.connMu.Lock()
	for c := range a.conns {
		c.SetReadDeadline(time.Now()) //nolint:errcheck // a command already running finishes and answers
	}
	a.connMu.Unlock()
	a.wg.Wait()
	os.Remove(a.path) //nolint:errcheck
	return err
}
