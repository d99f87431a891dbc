package patchgate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ReleasePolicy is what releasing a repository's candidate takes. The
// operator's server configuration holds one per repository as the floor; a
// repository's .patchgate.yml may only tighten it (MergeReleasePolicy).
type ReleasePolicy struct {
	// Approvals is how many distinct release managers must approve.
	Approvals int `json:"approvals"`
	// AllowAuthorApproval lets an author of an included change approve.
	AllowAuthorApproval bool `json:"allow_author_approval"`
	// AutoPromote promotes a candidate as soon as it is releasable and has
	// its approvals.
	AutoPromote bool `json:"auto_promote"`
	// RequireProof makes a fix count only when its fail-to-pass proof holds.
	RequireProof bool `json:"require_proof"`
	// Required are the suites that must pass.
	Required []string `json:"required"`
}

// DefaultReleaseFloor is the floor when the operator sets none: one
// approval, authors may not approve, no automatic promotion (a repository
// file cannot turn it on unless the operator allows it), no proof required.
func DefaultReleaseFloor() ReleasePolicy { return ReleasePolicy{Approvals: 1} }

// Policy keys, as .patchgate.yml and the server configuration name them
// below release.
const (
	PolicyApprovals           = "approvals"
	PolicyAllowAuthorApproval = "allow_author_approval"
	PolicyAutoPromote         = "auto_promote"
	PolicyRequireProof        = "require_proof"
	PolicyRequired            = "required"
)

// ReleaseRequest is what a repository's .patchgate.yml asks of the release
// policy: its values, and which keys it wrote (a key it left out asks
// nothing, whatever its value's default).
type ReleaseRequest struct {
	Policy ReleasePolicy
	// Set holds the keys (PolicyApprovals, …) the file wrote.
	Set map[string]bool
}

// PolicySource says where a value of the effective release policy comes from.
type PolicySource string

// The sources of an effective policy's values.
const (
	SourceServer PolicySource = "server"
	SourceFile   PolicySource = "repository file"
)

// EffectivePolicy is the release policy a candidate is held to, with where
// each value came from.
type EffectivePolicy struct {
	ReleasePolicy
	// Sources maps each key (PolicyApprovals, …; a required suite as
	// "required.NAME") to where its value came from.
	Sources map[string]PolicySource `json:"sources"`
}

// MergeReleasePolicy returns the effective release policy: the stricter of
// the server's floor and the repository file's request for each key, so the
// code being gated never loosens its own gate. A file that asks for less than
// the floor does not silently lose either: each such key is a blocker
// (policy_loosened) naming what the file asks and what the server requires,
// for the file to be fixed (or the floor lowered by the operator).
func MergeReleasePolicy(floor ReleasePolicy, file ReleaseRequest) (EffectivePolicy, []Blocker) {
	eff := EffectivePolicy{ReleasePolicy: floor, Sources: map[string]PolicySource{
		PolicyApprovals: SourceServer, PolicyAllowAuthorApproval: SourceServer,
		PolicyAutoPromote: SourceServer, PolicyRequireProof: SourceServer,
	}}
	eff.Required = slices.Clone(floor.Required)
	var blockers []Blocker
	loosened := func(message string) { blockers = append(blockers, NewBlocker(ReasonPolicyLoosened, message)) }
	asks := file.Policy
	if file.Set[PolicyApprovals] {
		switch {
		case asks.Approvals > floor.Approvals:
			eff.Approvals, eff.Sources[PolicyApprovals] = asks.Approvals, SourceFile
		case asks.Approvals < floor.Approvals:
			loosened(fmt.Sprintf("`.patchgate.yml` asks approvals: %d; the server requires at least %d", asks.Approvals, floor.Approvals))
		}
	}
	if file.Set[PolicyAllowAuthorApproval] {
		switch {
		case !asks.AllowAuthorApproval && floor.AllowAuthorApproval:
			eff.AllowAuthorApproval, eff.Sources[PolicyAllowAuthorApproval] = false, SourceFile
		case asks.AllowAuthorApproval && !floor.AllowAuthorApproval:
			loosened("`.patchgate.yml` asks allow_author_approval: true; the server does not let authors approve")
		}
	}
	if file.Set[PolicyAutoPromote] {
		switch {
		case !asks.AutoPromote && floor.AutoPromote:
			eff.AutoPromote, eff.Sources[PolicyAutoPromote] = false, SourceFile
		case asks.AutoPromote && !floor.AutoPromote:
			loosened("`.patchgate.yml` asks auto_promote: true; the server does not allow automatic promotion")
		}
	}
	if file.Set[PolicyRequireProof] {
		switch {
		case asks.RequireProof && !floor.RequireProof:
			eff.RequireProof, eff.Sources[PolicyRequireProof] = true, SourceFile
		case !asks.RequireProof && floor.RequireProof:
			loosened("`.patchgate.yml` asks require_proof: false; the server requires proof")
		}
	}
	for _, name := range floor.Required {
		eff.Sources[PolicyRequired+"."+name] = SourceServer
	}
	for _, name := range asks.Required {
		if !slices.Contains(eff.Required, name) {
			eff.Required = append(eff.Required, name)
			eff.Sources[PolicyRequired+"."+name] = SourceFile
		}
	}
	var missing []string
	for _, name := range floor.Required {
		if !slices.Contains(asks.Required, name) {
			missing = append(missing, "`"+name+"`")
		}
	}
	if len(missing) > 0 {
		those := "that suite"
		if len(missing) > 1 {
			those = "those suites"
		}
		loosened(fmt.Sprintf("`.patchgate.yml` does not require %s; the server requires %s to pass", strings.Join(missing, ", "), those))
	}
	return eff, blockers
}

// PolicySetting is one value of an effective release policy, as shown to
// people: its key, its value in words and where it came from.
type PolicySetting struct {
	Key    string       `json:"key"`
	Value  string       `json:"value"`
	Source PolicySource `json:"source"`
}

// Settings lists p's values in the order release show and the dashboard show
// them: the scalar keys, then each required suite.
func (p EffectivePolicy) Settings() []PolicySetting {
	out := []PolicySetting{
		{PolicyApprovals, strconv.Itoa(p.Approvals), p.Sources[PolicyApprovals]},
		{PolicyAllowAuthorApproval, strconv.FormatBool(p.AllowAuthorApproval), p.Sources[PolicyAllowAuthorApproval]},
		{PolicyAutoPromote, strconv.FormatBool(p.AutoPromote), p.Sources[PolicyAutoPromote]},
		{PolicyRequireProof, strconv.FormatBool(p.RequireProof), p.Sources[PolicyRequireProof]},
	}
	for _, name := range p.Required {
		out = append(out, PolicySetting{PolicyRequired, name, p.Sources[PolicyRequired+"."+name]})
	}
	return out
}
