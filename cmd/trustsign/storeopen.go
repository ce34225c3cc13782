package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/profile"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
	"github.com/trustsign/trustsign/store/postgres"
)

// The store is chosen with one setting, --store or TRUSTSIGN_STORE, read by serve, every admin command and the
// audit commands: empty (the default), the bbolt file DATA/trustsign.db; postgres://…, a PostgreSQL database that
// several serve nodes share. The data directory stays in use either way: it holds the outbox, the development seal,
// the profile secret and the audit chain key.

// storeEnv is the environment variable that sets --store when the flag is not given.
const storeEnv = "TRUSTSIGN_STORE"

// storeFlagHelp is the --store flag's help, the same for every command.
const storeFlagHelp = "the store: a PostgreSQL database `URL` (postgres://USER@HOST:PORT/DB?sslmode=verify-full) that several " +
	"serve nodes share; default: the bbolt file DATA/" + bbolt.FileName + ". With PostgreSQL, --data still holds the outbox, " +
	"the development seal, " + profile.SecretFileName + " and " + audit.ChainKeyFileName + ": nodes on one machine may share " +
	"one --data; nodes on different machines need copies of the same " + audit.ChainKeyFileName + " and " + profile.SecretFileName

// openedStore is the store a command works on: the typed API of package store, and what depends on the backend.
type openedStore struct {
	*store.DB
	// bolt is the bbolt store, nil on PostgreSQL: the admin socket and admin backup are bbolt things.
	bolt *bbolt.DB
	// pg is the PostgreSQL store, nil on bbolt.
	pg *postgres.DB
	// where names the store in messages: the file, or the database URL without its password.
	where string
}

// Ping checks that the store answers (/readyz): PostgreSQL's connection pool reaches the server; bbolt's file is
// open and its write-ahead log healthy (bbolt.DB.Health).
func (s *openedStore) Ping(ctx context.Context) error {
	if s.pg != nil {
		return s.pg.Ping(ctx)
	}
	if s.bolt != nil {
		if err := s.bolt.Health(); err != nil {
			return err
		}
	}
	return s.View(ctx, func(*store.Tx) error { return nil })
}

// storeURLSetting checks a --store value: "" (or "bbolt") is the bbolt file in the data directory, and returns "";
// a postgres:// or postgresql:// URL is returned as given. A bad value is a usage error naming the setting (name)
// and never showing a password.
func storeURLSetting(name, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" || v == "bbolt":
		return "", nil
	case strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://"):
		if _, err := url.Parse(v); err != nil {
			return "", usageErr("%s: not a URL (%s)", name, redactURL(v))
		}
		return v, nil
	}
	return "", usageErr("%s: give a postgres://… URL, or nothing for the bbolt file in --data", name)
}

// storeSetting is a command's --store flag or, when it is not given, TRUSTSIGN_STORE; "" means bbolt.
func storeSetting(cmd *cobra.Command) (string, error) {
	if f := cmd.Flags().Lookup("store"); f != nil && f.Changed {
		return storeURLSetting("--store", f.Value.String())
	}
	return storeURLSetting(storeEnv, os.Getenv(storeEnv))
}

// redactURL hides a password in a database URL (for messages and logs).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return "an unreadable value" // it may hold a password anywhere
	}
	u.RawQuery = "" // password=… may be a parameter too
	return u.Redacted()
}

// storeMarkName is a file serve leaves in a data directory it uses with PostgreSQL, naming the database (without its
// password): an admin command given that directory without the store setting is refused rather than start a bbolt
// store there that no server reads.
const storeMarkName = "store-is-postgresql"

// markPostgresData writes the mark (best effort: it only improves a message).
func markPostgresData(data, storeURL string) {
	p := filepath.Join(data, storeMarkName)
	if b, err := os.ReadFile(p); err == nil && string(b) == redactURL(storeURL)+"\n" {
		return
	}
	_ = writeFileAtomic(p, []byte(redactURL(storeURL)+"\n"), 0o600)
}

// postgresDataError is the refusal of a bbolt open in a directory marked by markPostgresData, or nil.
func postgresDataError(data string) error {
	b, err := os.ReadFile(filepath.Join(data, storeMarkName))
	if err != nil {
		return nil
	}
	return usageErr("%s is the data directory of servers on PostgreSQL (%s): give the same --store or %s (or remove %s to start a bbolt store here)",
		data, strings.TrimSpace(string(b)), storeEnv, filepath.Join(data, storeMarkName))
}

// errNoChainKey is returned by openStore for a read-only PostgreSQL store without the chain key file in the data
// directory (opening would make a new key).
var errNoChainKey = errors.New("the audit chain key is missing")

// openStore opens the store the settings choose: the bbolt file in data, or the PostgreSQL database at storeURL
// (its audit chain key file in data). readOnly opens bbolt for reading (a missing file is os.ErrNotExist) and, on
// PostgreSQL, wants the chain key file to be there already (errNoChainKey) rather than make one; PostgreSQL
// transactions are not restricted by it.
func openStore(ctx context.Context, data, storeURL string, readOnly bool) (*openedStore, error) {
	if storeURL == "" {
		db, err := bbolt.OpenDir(data, bbolt.Options{ReadOnly: readOnly})
		if err != nil {
			return nil, err
		}
		return &openedStore{DB: db.DB, bolt: db, where: db.Path()}, nil
	}
	keyFile := filepath.Join(data, audit.ChainKeyFileName)
	if readOnly && !fileExists(keyFile) {
		return nil, fmt.Errorf("%w: %s (copy it from a node's data directory)", errNoChainKey, keyFile)
	}
	db, err := postgres.Open(ctx, storeURL, postgres.Options{ChainKeyFile: keyFile})
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL store %s: %w", redactURL(storeURL), err)
	}
	return &openedStore{DB: db.DB, pg: db, where: redactURL(storeURL)}, nil
}
