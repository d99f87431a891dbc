package forges

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/patchgate/patchgate"
)

// OpenTree fetches the tree at sha as a plain tar whose entries start at the
// repository root: SourceFetcher.Archive passed through NormalizeArchive. The
// result suits Docker's CopyToContainer. Closing it closes the download.
func OpenTree(ctx context.Context, f patchgate.SourceFetcher, repo patchgate.RepoRef, sha string) (io.ReadCloser, error) {
	rc, err := f.Archive(ctx, repo, sha)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{NormalizeArchive(rc), rc}, nil
}

// NormalizeArchive turns a forge archive (see patchgate.SourceFetcher.Archive)
// into a plain tar of the tree: gzip is undone when present, pax global headers
// (GitHub's commit comment) are dropped, and the single top-level directory is
// stripped from every name and hard-link target. A second top-level entry, a
// file at the top level, an absolute name or a ".." segment fails the stream:
// a forge never sends one, so it is not to be trusted. Errors surface from Read.
// It streams: memory use does not grow with the archive.
func NormalizeArchive(r io.Reader) io.Reader { return &normalizer{src: r} }

type normalizer struct {
	src     io.Reader
	tr      *tar.Reader
	tw      *tar.Writer
	out     bytes.Buffer // what tw wrote and Read has not returned yet
	top     string
	copying bool // the current entry has content left
	err     error
}

func (n *normalizer) Read(p []byte) (int, error) {
	for n.out.Len() == 0 {
		if n.err != nil {
			return 0, n.err
		}
		n.err = n.step()
	}
	return n.out.Read(p)
}

// step produces the next piece of output: a header, up to 64 KiB of content,
// or the end-of-archive trailer (then io.EOF).
func (n *normalizer) step() error {
	if n.tr == nil {
		br := bufio.NewReader(n.src)
		var src io.Reader = br
		if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return fmt.Errorf("archive: %w", err)
			}
			src = zr
		}
		n.tr, n.tw = tar.NewReader(src), tar.NewWriter(&n.out)
		return nil
	}
	if n.copying {
		_, err := io.CopyN(n.tw, n.tr, 64<<10)
		if err == io.EOF {
			n.copying = false
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		return nil
	}
	hdr, err := n.tr.Next()
	if err == io.EOF {
		if err := n.tw.Close(); err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		return io.EOF
	}
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	name, keep, err := n.strip(hdr.Name, hdr.Typeflag == tar.TypeDir)
	if err != nil || !keep {
		return err
	}
	hdr.Name = name
	if hdr.Typeflag == tar.TypeLink {
		if hdr.Linkname, keep, err = n.strip(hdr.Linkname, false); err != nil || !keep {
			return fmt.Errorf("archive: hard link %q has a bad target", name)
		}
	}
	// The reader already folded pax path records into Name and Linkname.
	delete(hdr.PAXRecords, "path")
	delete(hdr.PAXRecords, "linkpath")
	if err := n.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	n.copying = hdr.Size > 0
	return nil
}

// strip removes the top-level directory from name; keep is false for the
// directory itself.
func (n *normalizer) strip(name string, dir bool) (string, bool, error) {
	top, rest, nested := strings.Cut(strings.TrimPrefix(name, "./"), "/")
	if top == "" || top == "." || top == ".." {
		return "", false, fmt.Errorf("archive: bad name %q", name)
	}
	if n.top == "" {
		n.top = top
	}
	switch {
	case top != n.top:
		return "", false, fmt.Errorf("archive: more than one top-level entry (%q, %q)", n.top, top)
	case !nested && !dir:
		return "", false, fmt.Errorf("archive: file %q at the top level", name)
	case rest == "" || rest == "/":
		return "", false, nil
	case strings.HasPrefix(rest, "/"):
		return "", false, fmt.Errorf("archive: absolute name %q", name)
	}
	for _, seg := range strings.Split(rest, "/") {
		if seg == ".." {
			return "", false, fmt.Errorf("archive: name %q leaves the tree", name)
		}
	}
	return rest, true, nil
}
