package keyfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/patchgate/patchgate/keyfile"
)

var spec = keyfile.Spec{
	Name:    "audit key file",
	Key:     "audit.key_file",
	Fix:     "point audit.key_file at the key file",
	Exposed: "consider the key exposed if others did",
}

// write makes a key file in a fresh directory with perm.
func write(t *testing.T, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "k")
	if err := os.WriteFile(path, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRead: a key file is read only when it is a regular file that its owner
// alone may read; every refusal names the file, the cause and the next step.
func TestRead(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permissions are POSIX modes")
	}
	private := write(t, 0o600)
	if got, err := keyfile.Read(private, spec); err != nil || string(got) != "secret\n" {
		t.Fatalf("Read of a 0600 file = %q, %v; want its content", got, err)
	}
	if got, err := keyfile.Read(write(t, 0o400), spec); err != nil || string(got) != "secret\n" {
		t.Fatalf("Read of a 0400 file = %q, %v; want its content", got, err)
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	// A mounted secret is often a symlink to the file: the file decides.
	if got, err := keyfile.Read(link, spec); err != nil || string(got) != "secret\n" {
		t.Fatalf("Read through a symlink to a 0600 file = %q, %v; want its content", got, err)
	}
	loose := write(t, 0o644)
	looseLink := filepath.Join(dir, "loose-link")
	if err := os.Symlink(loose, looseLink); err != nil {
		t.Fatal(err)
	}
	dirLink := filepath.Join(dir, "dir-link")
	if err := os.Symlink(t.TempDir(), dirLink); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		name, path string
		want       []string
	}{
		{"group-readable", write(t, 0o640), []string{"audit key file", "has permissions 0640, so others may read it", "run chmod 600", "consider the key exposed"}},
		{"world-readable", loose, []string{"has permissions 0644", "chmod 600 " + loose}},
		{"symlink to a world-readable file", looseLink, []string{"has permissions 0644", "chmod 600 " + looseLink}},
		{"a directory", dir, []string{"audit key file " + dir + " is not a regular file", "point audit.key_file at the key file"}},
		{"symlink to a directory", dirLink, []string{"is not a regular file", "point audit.key_file"}},
		{"missing", missing, []string{"audit key file " + missing, "point audit.key_file at the key file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := keyfile.Read(tt.path, spec)
			if err == nil {
				t.Fatalf("Read = %q, want a refusal", got)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not say %q", err.Error(), s)
				}
			}
		})
	}
	if _, err := keyfile.Read(missing, spec); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing file: got %v, want fs.ErrNotExist, which callers that create the file test for", err)
	}
}

// TestCreate: a new key file is written readable by its owner only; when
// another process created it first, its key is read instead of replaced;
// a place patchgate cannot write says which key to set.
func TestCreate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("permissions are POSIX modes")
	}
	path := filepath.Join(t.TempDir(), "k")
	got, err := keyfile.Create(path, []byte("first\n"), spec)
	if err != nil || string(got) != "first\n" {
		t.Fatalf("Create = %q, %v; want the new key", got, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the new file: %v, %v; want mode 0600", fi, err)
	}
	if got, err := keyfile.Create(path, []byte("second\n"), spec); err != nil || string(got) != "first\n" {
		t.Fatalf("Create over an existing file = %q, %v; want the first key, kept", got, err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keyfile.Create(path, []byte("second\n"), spec); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Create over an existing loose file: got %v, want it refused as Read refuses it", err)
	}
	nowhere := filepath.Join(t.TempDir(), "no", "such", "dir", "k")
	if _, err := keyfile.Create(nowhere, []byte("k"), spec); err == nil ||
		!strings.Contains(err.Error(), "create audit key file "+nowhere) || !strings.Contains(err.Error(), "set audit.key_file to a writable place, or create its directory") {
		t.Fatalf("Create in a missing directory: got %v, want it to name the file and audit.key_file", err)
	}
}

// TestWriteNew: the first writer creates the file, owner-only; a second
// finds it and writes nothing.
func TestWriteNew(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mark")
	if created, err := keyfile.WriteNew(path, []byte("one")); err != nil || !created {
		t.Fatalf("WriteNew = %v, %v; want created", created, err)
	}
	if created, err := keyfile.WriteNew(path, []byte("two")); err != nil || created {
		t.Fatalf("WriteNew over an existing file = %v, %v; want not created, no error", created, err)
	}
	data, err := os.ReadFile(path)
	fi, serr := os.Stat(path)
	if err != nil || serr != nil || string(data) != "one" || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("the file: %q (%v, %v), want the first content at 0600", data, err, serr)
	}
	if _, err := keyfile.WriteNew(filepath.Join(path, "below-a-file"), nil); err == nil {
		t.Fatal("WriteNew below a file: got nil, want the file system's error")
	}
}
