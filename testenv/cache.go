package testenv

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Labels of cache volumes besides LabelOwner, LabelRole (RoleCache) and
// LabelCreated, so that an operator can find and remove a repository's caches
// (docker volume rm $(docker volume ls -q --filter label=dev.patchgate.repo=…)).
const (
	LabelRepo  = "dev.patchgate.repo"  // CacheSpec.Repo
	LabelSuite = "dev.patchgate.suite" // CacheSpec.Suite
	LabelScope = "dev.patchgate.scope" // CacheSpec.Scope ("" or release:<branch>)
	LabelPath  = "dev.patchgate.path"  // the directory in the runner
	RoleCache  = "cache"
)

// CacheVolume names the volume that keeps path for a repository's suite in
// scope on behalf of owner: one per owner, so that instances sharing a Docker
// daemon never share (or poison) each other's caches, and one per scope, so
// that the release branch's runs never mount what other runs wrote. Scope ""
// keeps the names volumes had before scopes.
func CacheVolume(owner, repo, suite, scope, path string) string {
	key := owner + "\x00" + repo + "\x00" + suite + "\x00" + path
	if scope != "" {
		key += "\x00" + scope
	}
	sum := sha256.Sum256([]byte(key))
	return "patchgate-cache-" + hex.EncodeToString(sum[:10])
}

// withCache mounts the spec's cache volumes into the runner, creating them
// (labelled) on first use. Runs and sweeps never remove them: a cache
// outlives its runs by design.
func (e *environment) withCache(ctx context.Context, req *testcontainers.GenericContainerRequest) error {
	c := e.spec.Cache
	if c == nil || len(c.Paths) == 0 {
		return nil
	}
	mounts := make([]mount.Mount, 0, len(c.Paths))
	for _, p := range c.Paths {
		name := CacheVolume(e.spec.Owner, c.Repo, c.Suite, c.Scope, p)
		_, err := e.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Labels: map[string]string{
			LabelOwner: e.spec.Owner, LabelRole: RoleCache, LabelRepo: c.Repo, LabelSuite: c.Suite, LabelScope: c.Scope, LabelPath: p,
			LabelCreated: strconv.FormatInt(time.Now().Unix(), 10),
		}})
		if err != nil {
			return fmt.Errorf("cache volume for %s: %w", p, err)
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: name, Target: p})
	}
	lockDown := req.HostConfigModifier
	req.HostConfigModifier = func(h *container.HostConfig) {
		lockDown(h)
		h.Mounts = append(h.Mounts, mounts...) // volumes only: still no host path
	}
	return nil
}

// ownCaches gives the runner's user its cache directories: a volume's
// mountpoint belongs to root, and a runner without capabilities could not
// write to it otherwise. Like the source, this goes through the archive API
// into the created container.
func (e *environment) ownCaches(ctx context.Context, id string, o owner) error {
	c := e.spec.Cache
	if c == nil || len(c.Paths) == 0 {
		return nil
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		for _, p := range c.Paths {
			h := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(p, "/") + "/", Mode: 0o755, Uid: o.uid, Gid: o.gid, ModTime: time.Now()}
			if err := tw.WriteHeader(h); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(tw.Close())
	}()
	defer pr.Close()
	if _, err := e.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/", Content: pr}); err != nil {
		return fmt.Errorf("own cache directories: %w", err)
	}
	return nil
}
