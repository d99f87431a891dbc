package testenv

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"path"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// maxJUnitBytes bounds a JUnit report read into memory.
const maxJUnitBytes = 64 << 20

// collect copies the JUnit report out of the stopped runner. The image ids were
// recorded while provisioning.
func (e *environment) collect(ctx context.Context) error {
	if e.spec.JUnitPath == "" {
		return nil
	}
	p := e.spec.JUnitPath
	if !path.IsAbs(p) {
		p = path.Join(e.spec.Workdir, p)
	}
	report, err := e.copyFile(ctx, e.runner.GetContainerID(), p)
	if err != nil {
		return fmt.Errorf("copy junit report %s: %w", p, err)
	}
	e.result.JUnit = report
	return nil
}

// copyFile reads one regular file out of a container, running or not; a missing
// path, or one that is not a regular file, is nil.
func (e *environment) copyFile(ctx context.Context, id, p string) ([]byte, error) {
	res, err := e.cli.CopyFromContainer(ctx, id, client.CopyFromContainerOptions{SourcePath: p})
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	hdr, err := tr.Next()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read archive: %w", err)
	}
	if hdr.Typeflag != tar.TypeReg {
		e.log.Warn("not a regular file", "path", p, "type", string(hdr.Typeflag))
		return nil, nil
	}
	if hdr.Size > maxJUnitBytes {
		return nil, fmt.Errorf("report is %d bytes, over the %d limit", hdr.Size, maxJUnitBytes)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("read archive: %w", err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}
