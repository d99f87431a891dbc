package patchgate

import (
	"strings"
)

// Repository is a forge repository patchgate is configured to serve.
type Repository struct {
	Forge Forge  `json:"forge"`
	Name  string `json:"name"`
	// TicketKeys are the external ticket key prefixes (PAY, OPS) this repository's
	// changes may reference.
	TicketKeys []string `json:"ticket_keys"`
	// TrustedUsers may have their changes verified without a maintainer's approval.
	TrustedUsers []string `json:"trusted_users,omitempty"`
	// SLA maps severities to response targets; nil means no SLA clock.
	SLA SLAPolicy `json:"sla,omitempty"`
	// Egress lets this repository's suites reach beyond the host; by default
	// their network is internal.
	Egress bool `json:"egress,omitempty"`
	// TitlePrefixFixes: a title that starts with a ticket key ("PAY-7: fix
	// rounding") makes a fixes link, as a closing keyword would.
	TitlePrefixFixes bool `json:"title_prefix_fixes,omitempty"`
	// Release is the operator's release policy for this repository: the
	// floor its .patchgate.yml may only tighten.
	Release ReleasePolicy `json:"release"`
	// SuiteSecrets are environment variables given to the suites of trusted
	// heads only, and masked in every log; never serialised.
	SuiteSecrets map[string]string `json:"-"`
	// Environments are the deployment environments whose deployments
	// patchgate approves or rejects (GitHub protection rules, GitLab
	// deployment approvals); DeployRequires is what their commits must be.
	Environments   []string          `json:"environments,omitempty"`
	DeployRequires DeployRequirement `json:"deploy_requires,omitempty"`
	// SupportLevel is the level (L1–L4) a new ticket of this repository
	// starts at; "" is L1. Supplier and Contract name the outside supplier
	// that maintains it under contract, which an L4 escalation names.
	SupportLevel SupportLevel `json:"support_level,omitempty"`
	Supplier     string       `json:"supplier,omitempty"`
	Contract     string       `json:"contract,omitempty"`
}

// Ref returns the repository's forge and name.
func (r *Repository) Ref() RepoRef { return RepoRef{Forge: r.Forge, Name: r.Name} }

// Validate checks a configured repository.
func (r *Repository) Validate() error {
	if err := r.Ref().Validate(); err != nil {
		return err
	}
	for _, k := range r.TicketKeys {
		if !ValidExternalKey(k + "-1") {
			return Errorf(EINVALID, "repository %s: ticket key %q: want upper-case letters and digits, starting with a letter", r.Name, k)
		}
	}
	return nil
}

// RepositoryDirectory finds configured repositories. Names compare
// case-insensitively, as both forges treat them.
type RepositoryDirectory struct {
	repos []*Repository
}

// NewRepositoryDirectory indexes the configured repositories.
func NewRepositoryDirectory(repos []*Repository) *RepositoryDirectory {
	return &RepositoryDirectory{repos: repos}
}

// Find returns the configured repository, or ENOTFOUND.
func (d *RepositoryDirectory) Find(forge Forge, name string) (*Repository, error) {
	for _, r := range d.repos {
		if r.Forge == forge && strings.EqualFold(r.Name, name) {
			return r, nil
		}
	}
	return nil, Errorf(ENOTFOUND, "repository %s:%s is not configured", forge, name)
}

// All returns every configured repository.
func (d *RepositoryDirectory) All() []*Repository { return d.repos }

// Resolve returns the configured repository a request names: by forge and
// name, or, without a forge, by a name only one forge's repositories have.
// ENOTFOUND when none is configured, EINVALID when both forges have it.
func (d *RepositoryDirectory) Resolve(forge Forge, name string) (*Repository, error) {
	if forge != "" {
		return d.Find(forge, name)
	}
	var match *Repository
	for _, r := range d.repos {
		if strings.EqualFold(r.Name, name) {
			if match != nil {
				return nil, Errorf(EINVALID, "%s is configured on both forges: say which with forge", name)
			}
			match = r
		}
	}
	if match == nil {
		return nil, Errorf(ENOTFOUND, "repository %s is not configured", name)
	}
	return match, nil
}
