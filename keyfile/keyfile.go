// Package keyfile reads secret key files (the audit key, the evidence
// signing key, a GitHub App's private key) the one way patchgate accepts
// them: a regular file that only its owner may read.
package keyfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
)

// Spec says which key file is read, for its errors.
type Spec struct {
	// Name is what the file is called in errors, before its path:
	// "audit key file", "github.private_key_file".
	Name string
	// Key is the configuration key that names the file, for Create's
	// errors: "audit.key_file".
	Key string
	// Fix is the next step when the path names no file patchgate can use
	// (missing, a directory): "point audit.key_file at the key file".
	Fix string
	// Exposed is what to do if others did read the key, after "run chmod
	// 600 PATH (and": "consider the key exposed if others did".
	Exposed string
}

// Read returns the content of the key file at path, refusing a file that is
// not a regular file or that its group or others may read (POSIX modes; on
// Windows the mode is not checked). A symlink is followed: the file it
// points at decides. A missing file is an error that wraps fs.ErrNotExist,
// for callers that create the file on first use. Every error names s.Name,
// path, the cause and the next step.
func Read(path string, s Spec) ([]byte, error) {
	// Stat first: opening a FIFO or a device could block or read forever.
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s, readable by the user patchgate runs as", s.Name, path, cause(err), s.Fix)
	}
	if err := s.check(path, fi); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w: make it readable by the user patchgate runs as", s.Name, path, cause(err))
	}
	defer f.Close()
	// What is read is what is checked, even if the path was replaced since.
	if fi, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("read %s %s: %w", s.Name, path, cause(err))
	}
	if err := s.check(path, fi); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w: make it readable by the user patchgate runs as", s.Name, path, cause(err))
	}
	return data, nil
}

// check refuses fi unless it is a regular file only its owner, the user
// patchgate runs as, may read.
func (s Spec) check(path string, fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s %s is not a regular file: %s", s.Name, path, s.Fix)
	}
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return fmt.Errorf("%s %s has permissions %04o, so others may read it: run chmod 600 %s (and %s)", s.Name, path, perm, path, s.Exposed)
	}
	return ownedByUs(s, path, fi)
}

// orKey is the configuration key that names the file, or a description.
func orKey(s Spec) string {
	if s.Key != "" {
		return s.Key
	}
	return "the configuration"
}

// cause is err without the operation and path an *fs.PathError repeats;
// errors.Is still sees through it.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Create writes data to a new key file at path, readable by its owner only,
// and returns data. When the file exists already (another process created
// it first) its content is returned instead (Read), so that every process
// uses the one key.
func Create(path string, data []byte, s Spec) ([]byte, error) {
	created, err := WriteNew(path, data)
	switch {
	case err != nil:
		return nil, fmt.Errorf("create %s %s: %w: set %s to a writable place, or create its directory", s.Name, path, cause(err), s.Key)
	case !created:
		return Read(path, s)
	}
	return data, nil
}

// WriteNew writes data to a new file at path, readable by its owner only,
// and syncs it; created is false, and nothing is written, when path exists
// already. A file it could not write whole is removed. Errors are the file
// system's: the caller names the file's purpose and the next step.
func WriteNew(path string, data []byte) (created bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return false, err
	}
	return true, nil
}
