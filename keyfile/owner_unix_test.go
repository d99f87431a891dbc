//go:build unix

package keyfile_test

import (
	"os"
	"strings"
	"testing"

	"github.com/patchgate/patchgate/keyfile"
)

// TestReadRefusesAnotherUsersKey: patchgate running as root could read an
// owner-only key file that someone else created first (in a directory they
// may write to); it refuses it, saying whose it is and how to fix it.
func TestReadRefusesAnotherUsersKey(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file to another user (and read it afterwards)")
	}
	path := write(t, 0o600)
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	got, err := keyfile.Read(path, spec)
	if err == nil {
		t.Fatalf("Read of another user's key = %q, want a refusal", got)
	}
	for _, s := range []string{"audit key file " + path, "belongs to user id 65534", "run chown 0 " + path, "audit.key_file"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not say %q", err.Error(), s)
		}
	}
	if _, err := keyfile.Create(path, []byte("mine"), spec); err == nil {
		t.Error("Create over another user's existing key file used it")
	}
}
