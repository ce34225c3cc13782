package procs

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestFor(t *testing.T) {
	for _, c := range []struct{ cores, want int }{{0, 2}, {1, 2}, {2, 3}, {3, 5}, {4, 6}, {16, 24}} {
		if got := For(c.cores); got != c.want {
			t.Errorf("For(%d) = %d, want %d", c.cores, got, c.want)
		}
	}
}

// TestConfine runs this test binary again as a child that confines itself to one CPU and reports the CPUs it may
// run on, from a thread other than the one that exec'd.
func TestConfine(t *testing.T) {
	if os.Getenv("PROCS_CONFINE_CHILD") == "1" {
		if err := Confine(1); err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(1)
		}
		done := make(chan int)
		go func() {
			runtime.LockOSThread()
			var set unix.CPUSet
			if err := unix.SchedGetaffinity(0, &set); err != nil {
				done <- -1
				return
			}
			done <- set.Count()
		}()
		os.Stdout.WriteString("cpus " + strconv.Itoa(<-done) + "\n")
		os.Exit(0)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConfine$")
	cmd.Env = append(os.Environ(), "PROCS_CONFINE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "cpus 1\n") {
		t.Fatalf("child on %d CPUs confined to 1 reports:\n%s", set.Count(), out)
	}
}

func TestSetKeepsTheEnvironmentsGOMAXPROCS(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set")
	}
	was := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(was)
	if n, from := Set(5); n != 5 || from != "flag" || runtime.GOMAXPROCS(0) != 5 {
		t.Errorf("Set(5) = %d %s, GOMAXPROCS %d", n, from, runtime.GOMAXPROCS(0))
	}
	t.Setenv("GOMAXPROCS", "7")
	if n, from := Set(5); from != "GOMAXPROCS" || n != 5 {
		t.Errorf("with GOMAXPROCS set, Set(5) = %d %s (the runtime's value, 5 from before, stays)", n, from)
	}
}
