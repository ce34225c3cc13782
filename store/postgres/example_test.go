package postgres_test

import (
	"context"
	"fmt"
	"log"
	"path/filepath"

	"github.com/trustsign/trustsign/store/postgres"
)

// Open a PostgreSQL store. Every node of one database uses a copy of the same audit chain key file (the first node
// to open a new database makes it). Not run: it needs a server.
func ExampleOpen() {
	dataDir := "/var/lib/trustsign"
	db, err := postgres.Open(context.Background(), "postgres://trustsign@db.example/trustsign",
		postgres.Options{ChainKeyFile: filepath.Join(dataDir, "audit-chain.key")})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	fmt.Println("schema", db.Schema())
}
