package pipelines

import (
	"context"
	"strings"

	"github.com/patchgate/patchgate"
)

// CanApprove reports whether p may approve candidate c, evaluated as ev, now:
// nil when Approve would take p's approval, else the refusal it would give. The
// dashboard asks it to decide whether to show the button; Approve applies the
// same author rule through checkAuthor.
func (s *Service) CanApprove(ctx context.Context, c *patchgate.Candidate, ev *patchgate.Evaluation, p patchgate.Principal) error {
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		return patchgate.Errorf(patchgate.EFORBIDDEN, "approving needs the %s role; %s has %s", patchgate.RoleReleaseManager, p.Name, p.Role)
	}
	if c.State != patchgate.CandidateOpen {
		return patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is %s", c.Name, c.State)
	}
	if !ev.Releasable {
		return patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is not releasable: %s", c.Name, strings.Join(ev.Blockers, "; "))
	}
	if hasLiveApproval(c, p.Name) {
		return patchgate.Errorf(patchgate.ECONFLICT, "%s already approved %s", p.Name, c.Name)
	}
	cfg, err := s.readConfig(ctx, patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}, c.SHA)
	if err != nil {
		return err
	}
	return checkAuthor(cfg, c, p.Name)
}

// CanWithdraw reports whether p may withdraw an approval of c: nil when p has
// a live one and c is not promoted yet.
func (s *Service) CanWithdraw(c *patchgate.Candidate, p patchgate.Principal) error {
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		return patchgate.Errorf(patchgate.EFORBIDDEN, "withdrawing needs the %s role", patchgate.RoleReleaseManager)
	}
	if c.State != patchgate.CandidateOpen {
		return patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is %s", c.Name, c.State)
	}
	if !hasLiveApproval(c, p.Name) {
		return patchgate.Errorf(patchgate.ENOTFOUND, "%s has no approval of %s to withdraw", p.Name, c.Name)
	}
	return nil
}

// CanPromote reports whether p may promote c, evaluated as ev, now: nil when
// Promote would go ahead (or finish an interrupted promotion).
func (s *Service) CanPromote(c *patchgate.Candidate, ev *patchgate.Evaluation, p patchgate.Principal) error {
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		return patchgate.Errorf(patchgate.EFORBIDDEN, "promoting needs the %s role", patchgate.RoleReleaseManager)
	}
	switch c.State {
	case patchgate.CandidatePromoting:
		return nil
	case patchgate.CandidateOpen:
	default:
		return patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is %s", c.Name, c.State)
	}
	if !ev.Releasable {
		return patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is not releasable: %s", c.Name, strings.Join(ev.Blockers, "; "))
	}
	if ev.Approvals < ev.Needed {
		return patchgate.Errorf(patchgate.ECONFLICT, "candidate %s has %d of the %d approvals it needs", c.Name, ev.Approvals, ev.Needed)
	}
	return nil
}

// checkAuthor applies the author rule unless the policy allows authors to
// approve: approver wrote none of the changes c includes.
func checkAuthor(cfg *Config, c *patchgate.Candidate, approver string) error {
	if cfg.Release.AllowAuthorApproval {
		return nil
	}
	for _, item := range c.Items {
		if item.Change != nil && strings.EqualFold(item.Change.Author, approver) {
			return patchgate.Errorf(patchgate.EFORBIDDEN, "%s wrote %s, which %s includes: an author may not approve it", approver, changeName(item.Change), c.Name)
		}
	}
	return nil
}

// hasLiveApproval reports whether approver's approval of c at its SHA stands.
func hasLiveApproval(c *patchgate.Candidate, approver string) bool {
	for _, a := range c.Approvals {
		if a.WithdrawnAt == nil && a.SHA == c.SHA && strings.EqualFold(a.Approver, approver) {
			return true
		}
	}
	return false
}
