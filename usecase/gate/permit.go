package gate

import (
	"context"

	"github.com/patchgate/patchgate"
)

// CanApprove reports whether p may approve candidate c, evaluated as ev, now:
// nil when Approve would take p's approval, else the refusal it would give. The
// dashboard asks it to decide whether to show the button; Approve applies the
// same person and author rules.
func (g *Gate) CanApprove(ctx context.Context, c *patchgate.Candidate, ev *patchgate.Evaluation, p patchgate.Principal) error {
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		return patchgate.Errorf(patchgate.EFORBIDDEN, "approving needs the %s role; %s has %s", patchgate.RoleReleaseManager, p.Name, p.Role)
	}
	approver, err := p.Approver(c.Forge)
	if err != nil {
		return err
	}
	if c.State != patchgate.CandidateOpen {
		return patchgate.NotOpen(c)
	}
	if !ev.Releasable {
		return patchgate.Unreleasable(c.Name, ev.Blockers)
	}
	// The same person is the same forge user id, under whichever login or
	// token (patchgate.SameUser; by login only while an id is unknown).
	if prior := c.LiveApprovalBy(approver); prior != nil {
		return patchgate.Errorf(patchgate.ECONFLICT, "%s already approved %s (as %s)", approver.Labelled(), c.Name, prior.Person().Labelled())
	}
	if ev.Policy == nil {
		return patchgate.Errorf(patchgate.ECONFLICT, "candidate %s has no release policy evaluated", c.Name)
	}
	return g.checkAuthorRule(ctx, *ev.Policy, c, approver)
}

// CanWithdraw reports whether p may withdraw an approval of c: nil when p's
// person has a live one and c is not promoted yet.
func (g *Gate) CanWithdraw(c *patchgate.Candidate, p patchgate.Principal) error {
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		return patchgate.Errorf(patchgate.EFORBIDDEN, "withdrawing needs the %s role", patchgate.RoleReleaseManager)
	}
	person, err := p.Person(c.Forge)
	if err != nil {
		return err
	}
	if c.State != patchgate.CandidateOpen {
		return patchgate.NotOpen(c)
	}
	if c.LiveApprovalBy(person) == nil {
		return patchgate.Errorf(patchgate.ENOTFOUND, "%s has no approval of %s to withdraw", person.Labelled(), c.Name)
	}
	return nil
}

// CanPromote reports whether p may promote c, evaluated as ev, now: nil when
// Promote would go ahead (or finish an interrupted promotion).
func (g *Gate) CanPromote(c *patchgate.Candidate, ev *patchgate.Evaluation, p patchgate.Principal) error {
	if !p.Role.Allows(patchgate.RoleReleaseManager) {
		return patchgate.Errorf(patchgate.EFORBIDDEN, "promoting needs the %s role", patchgate.RoleReleaseManager)
	}
	if _, err := p.Person(c.Forge); err != nil {
		return err
	}
	switch c.State {
	case patchgate.CandidatePromoting:
		return nil
	case patchgate.CandidateOpen:
	default:
		return patchgate.NotOpen(c)
	}
	if !ev.Releasable {
		return patchgate.Unreleasable(c.Name, ev.Blockers)
	}
	if ev.Approvals < ev.Needed {
		return patchgate.Blocked(patchgate.ECONFLICT, patchgate.ApprovalsBlocker(c.Name, ev.Approvals, ev.Needed, c.UnpinnedApprovers()...))
	}
	return nil
}

// checkAuthorRule applies the author rule unless the effective policy (the
// server's floor, which .patchgate.yml cannot loosen) allows authors to
// approve: approver wrote none of the changes c includes (authors a webhook
// did not name are looked up; unknown, the approval is refused).
func (g *Gate) checkAuthorRule(ctx context.Context, policy patchgate.EffectivePolicy, c *patchgate.Candidate, approver patchgate.ForgeUser) error {
	if policy.AllowAuthorApproval {
		return nil
	}
	rule := g.Authorship
	if rule == nil {
		rule = &AuthorRule{Logger: g.Logger}
	}
	return rule.CheckNotAuthor(ctx, c, approver)
}

// Authors lists who wrote c (AuthorRule.Writers), for release show, the API
// and the dashboard: the people the author rule keeps from approving it
// unless the policy allows authors to.
func (g *Gate) Authors(ctx context.Context, c *patchgate.Candidate) ([]patchgate.ForgeUser, error) {
	rule := g.Authorship
	if rule == nil {
		rule = &AuthorRule{Logger: g.Logger}
	}
	return rule.Writers(ctx, c)
}
