package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testPESEL makes a valid PESEL of someone born 1 January 1980 with the serial n (generated, no real person).
func testPESEL(n int) string {
	s := fmt.Sprintf("800101%04d", n%10000)
	w := []int{1, 3, 7, 9, 1, 3, 7, 9, 1, 3}
	sum := 0
	for i, c := range s {
		sum += int(c-'0') * w[i]
	}
	return s + fmt.Sprint((10-sum%10)%10)
}

// trustsignBinary builds the command (or takes $TRUSTSIGN_TEST_BIN, to measure another build).
func trustsignBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRUSTSIGN_TEST_BIN"); p != "" {
		return p
	}
	bin := filepath.Join(t.TempDir(), "trustsign")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSIGTERMLeavesNoUnsealedRecords runs the real binary with a seal interval far longer than the test, writes
// audit records over HTTP (integrator lookups, each audited), stops it with SIGTERM and checks with `audit verify`
// that every record is covered by a seal: the last record is the shutdown seal, also published to the heads file.
func TestSIGTERMLeavesNoUnsealedRecords(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := trustsignBinary(t)
	dir := t.TempDir()
	out, err := exec.Command(bin, "admin", "client", "create", "--data", dir, "--name", "lookup-test", "--scopes", "lookup").Output()
	if err != nil {
		t.Fatalf("client create: %v", err)
	}
	var cl struct{ Key string }
	if err := json.Unmarshal(out, &cl); err != nil || cl.Key == "" {
		t.Fatalf("client create printed %q", out)
	}
	srv := exec.Command(bin, "serve", "--data", dir, "--addr", "127.0.0.1:0", "--audit-seal-interval", "1h")
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	addrc := make(chan string, 1)
	var logs bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "trustsign serving" {
				addrc <- rec.Addr
			}
			logs.Write(append(sc.Bytes(), '\n'))
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start")
	}
	const lookups = 40
	audited := 0
	for i := 0; i < lookups; i++ {
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/profiles/lookup", strings.NewReader(`{"pesel":"`+testPESEL(i)+`"}`))
		req.Header.Set("Authorization", "Bearer "+cl.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			audited++
		}
	}
	if audited == 0 {
		t.Fatal("no lookup reached the service")
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	vout, err := exec.Command(bin, "audit", "verify", "--data", dir, "--json").Output()
	var res struct {
		Intact bool
		Report struct {
			Records, Unsealed uint64
			LastSealReason    string
		}
	}
	if jerr := json.Unmarshal(vout, &res); jerr != nil {
		t.Fatalf("audit verify: %v %s", err, vout)
	}
	t.Logf("%d lookups answered 404; %d audit records, %d unsealed after SIGTERM", audited, res.Report.Records, res.Report.Unsealed)
	if !res.Intact || res.Report.Unsealed != 0 || res.Report.LastSealReason != "shutdown" {
		t.Fatalf("after a clean stop: %s", vout)
	}
	heads, err := os.ReadFile(filepath.Join(dir, "audit-heads.jsonl"))
	if err != nil || !strings.Contains(string(heads), `"reason":"shutdown"`) {
		t.Fatalf("heads file: %v %s", err, heads)
	}
}
