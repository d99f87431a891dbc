//go:build unix

package keyfile

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// openFlags opens without blocking: a FIFO put in the key's place between
// Stat and Open is refused by the check that follows, not waited on.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK

// ownedByUs refuses a key file that another user owns: patchgate running as
// root could read it, and whoever created it (first, in a directory others
// may write to) would know the key patchgate signs with.
func ownedByUs(s Spec, path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return fmt.Errorf("%s %s belongs to user id %d, not to the user patchgate runs as (%d), who may have written a key it knows: run chown %d %s, or point %s at a key file of this user's",
			s.Name, path, st.Uid, euid, euid, path, orKey(s))
	}
	return nil
}
