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

// needCPUs skips the test unless this process may run on n CPUs or more.
func needCPUs(t *testing.T, n int) {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || set.Count() < n {
		t.Skipf("needs %d CPUs", n)
	}
}

// runChild runs this test binary's test name as a child with env added, and returns its output.
func runChild(t *testing.T, name string, env ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v")
	cmd.Env = append(append(os.Environ(), "PROCS_TEST_CHILD=1"), env...)
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// GOMAXPROCS set in the environment to a value the runtime ignores ("", "0", "abc"): --gomaxprocs (and the
// default) still apply.
func TestSetIgnoresAGOMAXPROCSTheRuntimeIgnores(t *testing.T) {
	if os.Getenv("PROCS_TEST_CHILD") == "1" {
		n, from := Set(5)
		os.Stdout.WriteString("result " + strconv.Itoa(n) + " " + from + " " + strconv.Itoa(runtime.GOMAXPROCS(0)) + "\n")
		return
	}
	for _, v := range []string{"", "0", "abc", "-3"} {
		out := runChild(t, "TestSetIgnoresAGOMAXPROCSTheRuntimeIgnores", "GOMAXPROCS="+v)
		if !strings.Contains(out, "result 5 flag 5\n") {
			i := strings.Index(out, "result")
			t.Errorf("GOMAXPROCS=%q (ignored by the runtime): Set(5) gave %q, want 5 from the flag", v, strings.SplitN(out[max(i, 0):], "\n", 2)[0])
		}
	}
}

// A process that inherited the mark (from a confined ancestor, or a shell that exported it) but was never started
// again by Confine is still confined.
func TestConfineIgnoresAnInheritedMark(t *testing.T) {
	if os.Getenv("PROCS_TEST_CHILD") == "1" {
		err := Confine(1)
		var set unix.CPUSet
		unix.SchedGetaffinity(0, &set)
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			return
		}
		os.Stdout.WriteString("cpus " + strconv.Itoa(set.Count()) + "\n")
		return
	}
	needCPUs(t, 2)
	out := runChild(t, "TestConfineIgnoresAnInheritedMark", confinedEnv+"=1")
	if !strings.Contains(out, "cpus 1\n") {
		t.Errorf("Confine(1) with an inherited %s=1:\n%s", confinedEnv, out)
	}
}

// The guard against starting again and again: a process Confine started again sees the mark Confine gave it (its
// own id and core count), not one inherited from an ancestor confined to another count.
func TestConfineMarksItsOwnProcess(t *testing.T) {
	if os.Getenv("PROCS_TEST_CHILD") == "1" {
		if err := Confine(1); err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			return
		}
		os.Stdout.WriteString("marker " + os.Getenv(confinedEnv) + "\n")
		return
	}
	needCPUs(t, 2)
	out := runChild(t, "TestConfineMarksItsOwnProcess", confinedEnv+"=5")
	if !strings.Contains(out, ":1\n") || strings.Contains(out, "marker 5") {
		t.Errorf("started again by Confine(1), the process reads the marker as:\n%s", out)
	}
}
