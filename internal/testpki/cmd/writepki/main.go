// Command writepki writes a fresh test PKI (testpki.WriteDir) into a folder, for benchmark and demo scripts.
// Never use these keys for anything but tests.
package main

import (
	"fmt"
	"os"

	"github.com/trustsign/trustsign/internal/testpki"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: writepki DIR")
		os.Exit(64)
	}
	p, err := testpki.Fresh()
	if err == nil {
		err = os.MkdirAll(os.Args[1], 0o755)
	}
	if err == nil {
		err = p.WriteDir(os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "writepki:", err)
		os.Exit(1)
	}
	fmt.Println(os.Args[1])
}
