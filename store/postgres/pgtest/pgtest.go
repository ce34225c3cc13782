// Package pgtest gives tests a PostgreSQL database of their own on the server named by TRUSTSIGN_TEST_POSTGRES
// (store/postgres/testdb.sh starts one and prints its URL; .ci/run exports it). Without the variable the test is
// skipped with a message.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// EnvURL is the variable naming the test server.
const EnvURL = "TRUSTSIGN_TEST_POSTGRES"

// ServerURL returns the test server's URL, or skips the test when none is configured.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skip(EnvURL + " not set: start a server with store/postgres/testdb.sh and export the URL it prints")
	}
	return u
}

// Database creates a new, empty database on the test server, named prefix_ and random hex, and returns its URL;
// the database is dropped (connections forced off) when the test ends. Without a server the test is skipped.
func Database(t testing.TB, prefix string) string {
	t.Helper()
	server := ServerURL(t)
	b := make([]byte, 8)
	rand.Read(b) //nolint:errcheck // crypto/rand never fails
	name := prefix + "_" + hex.EncodeToString(b)
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for {
			err := execOnce(ctx, server, sql)
			if err == nil || !restarting(err) || ctx.Err() != nil {
				return err
			}
			// a fault test of another package restarts the server (testdb.sh restart): wait for it
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("creating the test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func execOnce(ctx context.Context, server, sql string) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// restarting reports an error of a server that is shutting down, starting or not listening for a moment.
func restarting(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce)
}

// OwnServer runs store/postgres/testdb.sh (script: its path from the test's package directory) with args, "start"
// or "standby DIR", for a throw-away server of the test's own, which it stops when the test ends, and returns the
// URL the script prints and the data directory it names. A test that restarts or kills a server uses one of these,
// never the server of EnvURL, which other packages' tests use at the same time.
func OwnServer(t testing.TB, script string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(script, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	m := regexp.MustCompile(`data in (\S+);`).FindStringSubmatch(errb.String())
	if m != nil {
		t.Cleanup(func() {
			if out, err := exec.Command(script, "stop", m[1]).CombinedOutput(); err != nil {
				t.Logf("testdb.sh stop %s: %v %s", m[1], err, out)
			}
		})
	}
	if err != nil || m == nil {
		t.Fatalf("testdb.sh %s: %v %s", strings.Join(args, " "), err, errb.String())
	}
	return strings.TrimSpace(string(out)), m[1]
}
