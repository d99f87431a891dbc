package linking

import (
	"context"
	"fmt"
	"strings"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/tickets"
)

// LinkManually links a ticket to a change by hand. The ticket is written as a
// developer would (PAY-123, #45, owner/repo#45, an issue URL); the change is a
// PR/MR number or a commit that is some known change's head.
func (l *Linker) LinkManually(ctx context.Context, req patchgate.ManualLinkRequest) (*patchgate.Link, error) {
	ref, ch, err := l.resolveManual(ctx, &req)
	if err != nil {
		return nil, err
	}
	found, err := l.ensureTickets(ctx, []patchgate.Reference{ref})
	if err != nil {
		return nil, err
	}
	provenance := "linked by " + req.By
	if req.Reason != "" {
		provenance += ": " + req.Reason
	}
	link := &patchgate.Link{
		TicketID:   found[0].ID,
		ChangeID:   ch.ID,
		CommitSHA:  req.Commit,
		Kind:       req.Kind,
		Source:     patchgate.SourceManual,
		Provenance: provenance,
		CreatedBy:  req.By,
	}
	if err := l.Links.CreateManualLink(ctx, link); err != nil {
		return nil, fmt.Errorf("link %s to %s: %w", found[0].Key, ch.Ref(), err)
	}
	link.Ticket, link.Change = found[0], ch
	if err := l.reconciler().ReconcileChange(ctx, ch); err != nil {
		return nil, err
	}
	l.comment(ctx, ch)
	return link, nil
}

// resolveManual validates req and resolves its ticket reference (as written
// in req.Repo) and its change, as LinkManually and UnlinkReference read them.
func (l *Linker) resolveManual(ctx context.Context, req *patchgate.ManualLinkRequest) (patchgate.Reference, *patchgate.Change, error) {
	if err := req.Validate(); err != nil {
		return patchgate.Reference{}, nil, err
	}
	repo, err := l.Repos.Resolve(req.Forge, req.Repo)
	if err != nil {
		return patchgate.Reference{}, nil, err
	}
	rc := l.referenceContext(repo)
	refs := tickets.Extract(rc, req.Ticket)
	if len(refs) != 1 || !strings.EqualFold(strings.TrimSpace(req.Ticket), refs[0].Text) {
		return patchgate.Reference{}, nil, patchgate.Errorf(patchgate.EINVALID,
			"%q is not one ticket reference for %s (want one of %s, #N, owner/repo#N or an issue URL)",
			req.Ticket, repo.Name, keyExamples(repo.TicketKeys))
	}
	ch, err := l.findChange(ctx, repo, *req)
	if err != nil {
		return patchgate.Reference{}, nil, err
	}
	return refs[0], ch, nil
}

// UnlinkReference removes every link between the ticket and the change that
// req names in the forms LinkManually takes (its Kind and Reason are not
// used), and returns both. ENOTFOUND when patchgate does not know the ticket
// or the two are not linked.
func (l *Linker) UnlinkReference(ctx context.Context, req patchgate.ManualLinkRequest) (*patchgate.Ticket, *patchgate.Change, error) {
	ref, ch, err := l.resolveManual(ctx, &req)
	if err != nil {
		return nil, nil, err
	}
	t, err := l.Tickets.FindTicket(ctx, ref.Tracker, ref.Key)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		return nil, nil, patchgate.Errorf(patchgate.ENOTFOUND, "ticket %s is not known to patchgate: nothing to unlink", ref.Key)
	} else if err != nil {
		return nil, nil, err
	}
	if err := l.UnlinkManually(ctx, t.ID, ch.ID); patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		return nil, nil, patchgate.Errorf(patchgate.ENOTFOUND, "%s is not linked to %s: nothing to unlink", t.Key, ch.Ref())
	} else if err != nil {
		return nil, nil, err
	}
	return t, ch, nil
}

// UnlinkManually removes every link between a ticket and a change; extraction
// will not bring them back.
func (l *Linker) UnlinkManually(ctx context.Context, ticketID, changeID int64) error {
	p, _ := patchgate.PrincipalFromContext(ctx)
	ch, err := l.Changes.FindChangeByID(ctx, changeID)
	if err != nil {
		return err
	}
	if err := l.Links.DeleteLinks(ctx, ticketID, changeID, p.Name); err != nil {
		return fmt.Errorf("unlink ticket %d from %s: %w", ticketID, ch.Ref(), err)
	}
	l.comment(ctx, ch)
	return l.reconciler().Reconcile(ctx, ticketID)
}

// findChange finds the change req names in repo: by number, or as the
// change whose head is req.Commit (a PR/MR before a branch).
func (l *Linker) findChange(ctx context.Context, repo *patchgate.Repository, req patchgate.ManualLinkRequest) (*patchgate.Change, error) {
	if req.Number > 0 {
		kind := patchgate.ReviewKind(repo.Forge)
		ch, err := l.Changes.FindChange(ctx, repo.Forge, repo.Name, patchgate.ChangeKey(kind, req.Number, ""))
		if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
			return nil, patchgate.Errorf(patchgate.ENOTFOUND, "%s %s#%d is not known to patchgate yet: no webhook for it has arrived", kind, repo.Name, req.Number)
		}
		return ch, err
	}
	changes, _, err := l.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &repo.Forge, Repo: &repo.Name, HeadSHA: &req.Commit, Limit: 10})
	if err != nil {
		return nil, fmt.Errorf("find changes at %s: %w", req.Commit, err)
	}
	if len(changes) == 0 {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no change in %s has head commit %s", repo.Name, req.Commit)
	}
	// Prefer the PR/MR over the branch when both have this head.
	for _, c := range changes {
		if c.Kind != patchgate.ChangePush {
			return c, nil
		}
	}
	return changes[0], nil
}

// keyExamples shows the ticket keys of a repository as people write them.
func keyExamples(keys []string) string {
	if len(keys) == 0 {
		return "no configured ticket keys"
	}
	ex := make([]string, len(keys))
	for i, k := range keys {
		ex[i] = k + "-123"
	}
	return strings.Join(ex, ", ")
}
