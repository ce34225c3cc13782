// Package procs says how many goroutines a trustsign process runs at once (GOMAXPROCS) for the cores it has, and
// confines a process to a number of cores (the load driver's -procs).
//
// Half as many again as the cores: every write of the service ends in an fdatasync (the write-ahead log, the
// checkpoints), and a goroutine back from a blocking system call needs a free P to go on. With one P per core both
// are busy under load, so the committer back from its fsync waits in the global run queue, and every caller of
// its group waits with it; with a spare P it runs at once and the kernel shares the cores among the threads.
// bench/apiload at 1,000 flows/s on two cores, six interleaved rounds (issue 15): flow p99 31-50 ms with
// GOMAXPROCS 2, 24-32 ms with 3 and 19-33 ms with 4, for 0-10 % more CPU per flow (3 is the cheaper of the two).
package procs

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// For returns GOMAXPROCS for a process on cores cores: cores + ceil(cores/2) (1 → 2, 2 → 3, 4 → 6).
func For(cores int) int {
	cores = max(cores, 1)
	return cores + (cores+1)/2
}

// Set sets GOMAXPROCS to n, or For(the cores the runtime found) when n is 0, unless the GOMAXPROCS environment
// variable is set (the runtime has applied it). It returns the GOMAXPROCS in force and where it came from. The
// cores the runtime found are its default GOMAXPROCS: the CPUs the process may run on, within a container's CPU
// limit. Setting it stops the runtime's own updates when a container's limit changes.
func Set(n int) (int, string) {
	if envSet() {
		return runtime.GOMAXPROCS(0), "GOMAXPROCS"
	}
	if n > 0 {
		runtime.GOMAXPROCS(n)
		return n, "flag"
	}
	n = For(runtime.GOMAXPROCS(0))
	runtime.GOMAXPROCS(n)
	return n, "default"
}

// envSet reports whether the GOMAXPROCS environment variable holds what the runtime applies: a positive number (it
// ignores anything else, "" and "0" included, and keeps its default).
func envSet() bool {
	n, err := strconv.Atoi(os.Getenv("GOMAXPROCS"))
	return err == nil && n > 0
}

// confinedEnv marks a process that Confine has started on its cores.
const confinedEnv = "TRUSTSIGN_CONFINED_CORES"

// Confine makes sure that this process runs on at most cores CPUs: when it may run on more, it starts itself again
// (exec, same arguments and environment) bound to the first cores of them, so that every thread of the new process
// inherits the binding. It returns nil when the process runs on cores CPUs or fewer (the machine has no more, or
// the process was started again); it does not return otherwise, unless the exec fails.
func Confine(cores int) error {
	if cores < 1 {
		return fmt.Errorf("procs: %d cores", cores)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return fmt.Errorf("procs: reading the CPUs this process may run on: %w", err)
	}
	if set.Count() <= cores {
		return nil
	}
	// the mark names the process (exec keeps its id): one inherited from another process is not ours
	mark := strconv.Itoa(os.Getpid()) + ":" + strconv.Itoa(cores)
	if os.Getenv(confinedEnv) == mark {
		return fmt.Errorf("procs: started again on %d cores, but may still run on %d CPUs", cores, set.Count())
	}
	var keep unix.CPUSet
	for cpu, n := 0, 0; n < cores && cpu < 1024; cpu++ {
		if set.IsSet(cpu) {
			keep.Set(cpu)
			n++
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("procs: %w", err)
	}
	// the binding is the calling thread's; exec keeps it for the new process's first thread, which every other
	// thread is started from
	runtime.LockOSThread()
	if err := unix.SchedSetaffinity(0, &keep); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("procs: binding to %d CPUs: %w", cores, err)
	}
	env := []string{confinedEnv + "=" + mark}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, confinedEnv+"=") {
			env = append(env, kv)
		}
	}
	err = unix.Exec(exe, os.Args, env)
	runtime.UnlockOSThread()
	return fmt.Errorf("procs: starting again on %d cores: %w", cores, err)
}
