// Package docs holds the project's documents; its test runs their shell examples as written.
package docs

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// shBlocks returns the ```sh blocks of a Markdown document, in order.
func shBlocks(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?ms)^```sh\n(.*?)^```$").FindAllStringSubmatch(string(raw), -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestIntegratorsGuideRuns runs every ```sh block of integrators.md, in order and as written, with bash in a fresh
// directory, the built trustsign first on PATH and PORT set to a free port; twice in the same directory, as a reader
// trying it again would. A failing command fails the run (bash -e -o pipefail), and the walkthrough must end with a
// signed, TOTAL_PASSED document.
func TestIntegratorsGuideRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	for _, tool := range []string{"bash", "curl", "jq", "base64"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("TRUSTSIGN_REQUIRE_INTEROP") != "" {
				t.Fatalf("%s is needed to run the guide's examples", tool)
			}
			t.Skipf("%s not installed: the guide's examples cannot run", tool)
		}
	}
	blocks := shBlocks(t, "integrators.md")
	if len(blocks) < 4 {
		t.Fatalf("only %d sh blocks found in integrators.md", len(blocks))
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "trustsign"), "../cmd/trustsign")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script := "set -euo pipefail\n" + strings.Join(blocks, "\n")
	dir := t.TempDir()
	for run := 1; run <= 2; run++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"PORT="+strconv.Itoa(freePort(t)), "TMPDIR="+dir)
		// the guide starts the server in the background: its own process group, ended with the run whatever happens
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		err := cmd.Run()
		if cmd.Process != nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // nothing left to kill when the guide stopped its server
		}
		cancel()
		t.Logf("run %d: %s\n%s", run, time.Since(start).Round(time.Millisecond), out.String())
		if err != nil {
			t.Fatalf("run %d of the guide failed: %v", run, err)
		}
		for _, want := range []string{`"signed"`, `"TOTAL_PASSED"`, "409"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("run %d: the output lacks %s", run, want)
			}
		}
	}
}
