package bbolt_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trustsign/trustsign/audit"
	"github.com/trustsign/trustsign/store"
	"github.com/trustsign/trustsign/store/bbolt"
)

const crashEnv = "TRUSTSIGN_CRASH_CHILD_DB"

// crashChild is the writer process: 4 goroutines create signing requests with an audit record each (Batch and
// Update mixed), seal the audit head now and then, and print "ack <id>" only after the commit returned.
func crashChild(path, round string) {
	db, err := bbolt.Open(path, bbolt.Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sealer := &audit.Sealer{Signer: key}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	ack := func(s string) {
		mu.Lock()
		out.WriteString(s + "\n")
		out.Flush()
		mu.Unlock()
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("r%s-%d-%d", round, g, i)
				now := time.Now()
				run := db.Batch
				if i%3 == 0 {
					run = db.Update
				}
				err := run(ctx, func(tx *store.Tx) error {
					if err := tx.CreateSigningRequest(store.SigningRequest{ID: id, ClientID: "c1", Status: store.RequestPending,
						Document: []byte(strings.Repeat("x", 512)), Created: now, Expires: now.Add(time.Hour)}); err != nil {
						return err
					}
					return tx.Audit(audit.Event{Time: now, Kind: "signing.request.create", Actor: "client:c1", Subject: id})
				})
				if err != nil {
					fmt.Println("error", err)
					os.Exit(2)
				}
				ack("ack " + id)
				if g == 0 && i%50 == 0 {
					if _, err := sealer.Seal(ctx, db); err != nil {
						fmt.Println("error", err)
						os.Exit(2)
					}
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestCrashLosesNoAcknowledgedWrite(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path, os.Getenv(crashEnv+"_ROUND"))
		return
	}
	if testing.Short() {
		t.Skip("starts writer processes")
	}
	path := filepath.Join(t.TempDir(), "trustsign.db")
	var acked []string
	for round := 0; round < 3; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashLosesNoAcknowledgedWrite$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path, fmt.Sprintf("%s_ROUND=%d", crashEnv, round))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		n, deadline := 0, time.Now().Add(10*time.Second)
		target := 200 + 150*round
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "error") {
				t.Fatalf("child: %s", line)
			}
			if id, ok := strings.CutPrefix(line, "ack "); ok {
				acked = append(acked, id)
				n++
			}
			if n >= target || time.Now().After(deadline) {
				break
			}
		}
		// kill -9 while the writers are mid-transaction
		cmd.Process.Signal(syscall.SIGKILL)
		// acknowledgements already in the pipe count too
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "ack "); ok {
				acked = append(acked, id)
			}
		}
		cmd.Wait()
		if n == 0 {
			t.Fatal("the child acknowledged nothing")
		}

		db, err := bbolt.Open(path, bbolt.Options{})
		if err != nil {
			t.Fatalf("reopen after kill -9: %v", err)
		}
		ctx := context.Background()
		for _, id := range acked {
			if _, err := db.GetSigningRequest(ctx, "c1", id); err != nil {
				t.Fatalf("round %d: acknowledged write %s lost: %v", round, id, err)
			}
		}
		rep, err := audit.VerifyStore(ctx, db, audit.VerifyOptions{})
		if err != nil {
			t.Fatalf("round %d: audit chain after kill -9: %v", round, err)
		}
		if rep.Records < uint64(len(acked)) {
			t.Fatalf("%d audit records for %d acknowledged writes", rep.Records, len(acked))
		}
		if err := db.Bolt().Sync(); err != nil {
			t.Fatal(err)
		}
		db.Close()
		t.Logf("round %d: %d writes acknowledged in total, all present; audit chain of %d records intact (%d seals)",
			round, len(acked), rep.Records, rep.Seals)
	}
}
