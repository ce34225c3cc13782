//go:build unix

package signer

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// pinFileOwned checks that a PIN file belongs to the service's user (or to root): a file another account owns is
// one that account can read or rewrite, whatever its mode says now.
func pinFileOwned(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := int(st.Uid); uid != os.Geteuid() && uid != 0 {
		return fmt.Errorf("%w: %s belongs to user %d, not to the service's user (%d) or root; chown it", ErrPINFile, path, uid, os.Geteuid())
	}
	return nil
}
