// Package patchgate holds patchgate's domain: the types every other package speaks
// (tickets, changes, links, deliveries, verifications), their validation, the error
// type with its codes, and the small service interfaces that adapters implement and
// use cases consume. It imports only the standard library.
//
// The gate invariants in DESIGN.md are enforced by the code in this package and in
// the use-case packages (usecase/...); adapters (store, webhooks, forges, testenv,
// server) only move data in and out.
package patchgate

import (
	"strings"
)

// Forge names a code-hosting service patchgate talks to.
type Forge string

// The forges patchgate supports.
const (
	GitHub Forge = "github"
	GitLab Forge = "gitlab"
)

// Validate reports whether f is a supported forge.
func (f Forge) Validate() error {
	switch f {
	case GitHub, GitLab:
		return nil
	}
	return Errorf(EINVALID, "unknown forge %q (want github or gitlab)", string(f))
}

// RepoRef identifies a repository on a forge by its full path
// ("acme/payments", "acme/platform/api").
type RepoRef struct {
	Forge Forge  `json:"forge"`
	Name  string `json:"name"`
}

// String renders the reference as "github:acme/payments".
func (r RepoRef) String() string { return string(r.Forge) + ":" + r.Name }

// Validate checks that the reference names a supported forge and a plausible path.
func (r RepoRef) Validate() error {
	if err := r.Forge.Validate(); err != nil {
		return err
	}
	return ValidateRepoName(r.Name)
}

// ValidateRepoName checks a repository's full path: at least owner/name, no empty
// segments, no whitespace. GitLab allows nested groups, so any depth ≥ 2 is fine.
func ValidateRepoName(name string) error {
	parts := strings.Split(name, "/")
	if len(parts) < 2 {
		return Errorf(EINVALID, "repository %q: want owner/name", name)
	}
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t\r\n#?") || p == "." || p == ".." {
			return Errorf(EINVALID, "repository %q: bad path segment %q", name, p)
		}
	}
	return nil
}
