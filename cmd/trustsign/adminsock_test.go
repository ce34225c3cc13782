package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store/bbolt"
)

// servedDir opens a data directory's domain in this process (as serve does) with its admin socket.
func servedDir(t *testing.T) (string, *adminSocket) {
	t.Helper()
	dir := t.TempDir()
	d, err := openDomain(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.db.Close() })
	as, err := listenAdmin(dir, d, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	go as.serve(t.Context())
	t.Cleanup(func() { as.Close() })
	return dir, as
}

func TestAdminSocketForwards(t *testing.T) {
	dir, _ := servedDir(t)
	fi, err := os.Stat(filepath.Join(dir, adminSocketName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v %v", fi, err)
	}
	const pw = "Urzednik-Test-2026!"
	tests := []struct {
		name, stdin string
		args        []string
		code        int
		out, errOut string
	}{
		{"officer create (password on stdin)", pw + "\n" + pw + "\n", []string{"officer", "create", "--login", "officer1"}, 0, `"login":"officer1"`, ""},
		{"passwords differ: refused before the server is asked", pw + "\nx\n", []string{"officer", "create", "--login", "officer2"}, exitUsage, "", "passwords differ"},
		{"the server's usage error", "", []string{"client", "create", "--scopes", "sign"}, exitUsage, "", "--name is required"},
		{"officer list", "", []string{"officer", "list"}, 0, `"login":"officer1"`, ""},
		{"reset", "Nowe-Haslo-Urzednika-2026\n", []string{"officer", "reset-password", "officer1"}, 0, "", ""},
		{"disable unknown", "", []string{"officer", "disable", "nobody"}, exitFailed, "", "no officer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runIn(t, tc.stdin, append(append([]string{"admin"}, tc.args...), "--data", dir)...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(stderr, tc.errOut) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q", code, tc.code, out, stderr)
			}
			// the usage hint is printed once, by the server
			if strings.Count(stderr, "trustsign help") > 1 {
				t.Errorf("stderr repeats itself: %q", stderr)
			}
		})
	}
}

// TestAttackAdminSocketRunsOnlyAdmin: whatever is sent over the socket, only `admin …` commands run in the server.
func TestAttackAdminSocketRunsOnlyAdmin(t *testing.T) {
	dir, _ := servedDir(t)
	for _, args := range [][]string{{"serve", "--addr", "127.0.0.1:0"}, {"sign", "x"}, {}, {"audit", "export"}} {
		conn, err := net.Dial("unix", filepath.Join(dir, adminSocketName))
		if err != nil {
			t.Fatal(err)
		}
		json.NewEncoder(conn).Encode(adminRequest{Args: args}) //nolint:errcheck
		var resp adminResponse
		if err := json.NewDecoder(conn).Decode(&resp); err != nil || resp.Code != exitUsage || !strings.Contains(resp.Stderr, "only admin commands") {
			t.Errorf("%v: %+v %v", args, resp, err)
		}
		conn.Close()
	}
}

// TestAdminSocketIdleClientDoesNotHoldShutdown: a client that connects and sends nothing is dropped on Close.
func TestAdminSocketIdleClientDoesNotHoldShutdown(t *testing.T) {
	dir, as := servedDir(t)
	conn, err := net.Dial("unix", filepath.Join(dir, adminSocketName))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	done := make(chan struct{})
	go func() { as.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close waits for an idle client")
	}
	if _, err := os.Stat(filepath.Join(dir, adminSocketName)); err == nil {
		t.Error("the socket file is left behind")
	}
}

// TestAdminBackupWhileServing: `admin backup` reaches the running server over the socket and copies its open
// store; the copy opens as a store with the officer the server holds.
func TestAdminBackupWhileServing(t *testing.T) {
	dir, _ := servedDir(t)
	const pw = "Urzednik-Test-2026!"
	if code, _, stderr := runIn(t, pw+"\n"+pw+"\n", "admin", "officer", "create", "--login", "officer9", "--data", dir); code != 0 {
		t.Fatalf("officer create: %d %s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "copy.db")
	code, _, stderr := runIn(t, "", "admin", "backup", "--data", dir, out)
	if code != 0 || !strings.Contains(stderr, "running server") {
		t.Fatalf("backup: exit %d, %q", code, stderr)
	}
	restored := t.TempDir()
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, bbolt.FileName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(dir, audit.ChainKeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, audit.ChainKeyFileName), key, 0o600); err != nil {
		t.Fatal(err)
	}
	// and the profile secret, as a restore into a new directory needs (another is refused)
	secret, err := os.ReadFile(filepath.Join(dir, profile.SecretFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, profile.SecretFileName), secret, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runIn(t, "", "admin", "officer", "list", "--data", restored); code != 0 || !strings.Contains(stdout, "officer9") {
		t.Errorf("restored copy: exit %d, %q %q", code, stdout, stderr)
	}
}

// TestAttackBackupOverLiveFiles: `admin backup` never writes into the data directory, where its rename would
// replace the live store (later writes lost) or the audit chain key (the store no longer opens), whether the server
// runs (forwarded) or not.
func TestAttackBackupOverLiveFiles(t *testing.T) {
	dir, _ := servedDir(t)
	for _, out := range []string{bbolt.FileName, audit.ChainKeyFileName, "backups/copy.db", "x.db"} {
		target := filepath.Join(dir, out)
		before, _ := os.ReadFile(target)
		beforeInfo, _ := os.Stat(target)
		code, _, stderr := runIn(t, "", "admin", "backup", "--data", dir, target)
		if code != exitUsage || !strings.Contains(stderr, "inside the data directory") {
			t.Errorf("backup to %s: exit %d, %q", out, code, stderr)
		}
		after, _ := os.ReadFile(target)
		afterInfo, _ := os.Stat(target)
		switch {
		case out == bbolt.FileName:
			// the live store file changes by itself (checkpoints of the write-ahead log run in the background):
			// what must not happen is a copy put in its place
			if beforeInfo == nil || afterInfo == nil || !os.SameFile(beforeInfo, afterInfo) {
				t.Errorf("backup to %s replaced it", out)
			}
		case !bytes.Equal(before, after):
			t.Errorf("backup to %s changed it", out)
		}
	}
	// the stopped-server path refuses too (a symlinked way into the directory included)
	stopped := t.TempDir()
	link := filepath.Join(t.TempDir(), "into-data")
	if err := os.Symlink(stopped, link); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{filepath.Join(stopped, bbolt.FileName), filepath.Join(link, audit.ChainKeyFileName)} {
		if err := checkBackupTarget(stopped, out); err == nil {
			t.Errorf("%s accepted", out)
		}
	}
	if err := checkBackupTarget(stopped, filepath.Join(t.TempDir(), "copy.db")); err != nil {
		t.Errorf("a target elsewhere: %v", err)
	}
}
