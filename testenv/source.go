package testenv

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"
)

// owner is a numeric user and group.
type owner struct{ uid, gid int }

// sourceArchive returns src rewritten for extraction into workdir's parent:
// every entry under workdir's base name and owned by o, preceded by an entry for
// workdir itself. Docker applies no header to the directory it extracts into
// (and CopyUIDGID resolves users in the host's passwd database on 20.10), so
// this is how a non-root suite gets a workdir it can write reports to. Entries
// that would land outside workdir are an error.
func sourceArchive(src io.Reader, workdir string, o owner) (dest string, archive io.ReadCloser) {
	workdir = path.Clean("/" + workdir)
	dest, base := path.Dir(workdir), path.Base(workdir)
	if workdir == "/" {
		base = ""
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(rewriteSource(pw, src, base, o))
	}()
	return dest, pr
}

func rewriteSource(dst io.Writer, src io.Reader, base string, o owner) error {
	tw := tar.NewWriter(dst)
	if base != "" {
		root := &tar.Header{Typeflag: tar.TypeDir, Name: base + "/", Mode: 0o755, Uid: o.uid, Gid: o.gid, ModTime: time.Now()}
		if err := tw.WriteHeader(root); err != nil {
			return err
		}
	}
	within := func(name string) (string, error) {
		clean := path.Clean(strings.TrimLeft(name, "/"))
		if clean == ".." || strings.HasPrefix(clean, "../") {
			return "", fmt.Errorf("source entry %q is outside the source tree", name)
		}
		if clean == "." {
			return base, nil
		}
		return path.Join(base, clean), nil
	}
	tr := tar.NewReader(src)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return tw.Close()
		}
		if err != nil {
			return fmt.Errorf("read source tar: %w", err)
		}
		name, err := within(h.Name)
		if err != nil {
			return err
		}
		if name == base {
			continue // the workdir itself: its entry was written above
		}
		if h.Typeflag == tar.TypeDir {
			name += "/"
		}
		if h.Typeflag == tar.TypeLink {
			if h.Linkname, err = within(h.Linkname); err != nil {
				return err
			}
		}
		h.Name = name
		h.Uid, h.Gid, h.Uname, h.Gname = o.uid, o.gid, "", ""
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("rewrite %s: %w", h.Name, err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("rewrite %s: %w", h.Name, err)
		}
	}
}

// resolveUser turns a container user ("", "name", "uid", "name:group",
// "uid:gid") into numbers, reading the container's own /etc/passwd and
// /etc/group for names.
func (e *environment) resolveUser(ctx context.Context, id, user string) (owner, error) {
	name, group, _ := strings.Cut(user, ":")
	if name == "" {
		name = "0"
	}
	uid, uidErr := strconv.Atoi(name)
	gid, gidErr := strconv.Atoi(group)
	if uidErr != nil || group == "" {
		passwd, err := e.copyFile(ctx, id, "/etc/passwd")
		if err != nil {
			return owner{}, fmt.Errorf("read /etc/passwd: %w", err)
		}
		u, g, found := lookup(passwd, name)
		switch {
		case found:
			uid = u
			if group == "" {
				gid = g
			}
		case uidErr != nil:
			return owner{}, fmt.Errorf("user %q not in the image's /etc/passwd", name)
		case group == "":
			gid = 0 // a uid without a passwd entry runs in group 0
		}
	}
	if group != "" && gidErr != nil {
		groups, err := e.copyFile(ctx, id, "/etc/group")
		if err != nil {
			return owner{}, fmt.Errorf("read /etc/group: %w", err)
		}
		g, _, found := lookup(groups, group)
		if !found {
			return owner{}, fmt.Errorf("group %q not in the image's /etc/group", group)
		}
		gid = g
	}
	return owner{uid, gid}, nil
}

// lookup finds name (or a numeric id) in a passwd or group file and returns its
// third and fourth fields as numbers (uid and gid for passwd; gid for group).
func lookup(file []byte, name string) (int, int, bool) {
	s := bufio.NewScanner(bytes.NewReader(file))
	for s.Scan() {
		f := strings.Split(s.Text(), ":")
		if len(f) < 3 || (f[0] != name && f[2] != name) {
			continue
		}
		a, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		b := a
		if len(f) > 3 {
			if n, err := strconv.Atoi(f[3]); err == nil {
				b = n
			}
		}
		return a, b, true
	}
	return 0, 0, false
}
