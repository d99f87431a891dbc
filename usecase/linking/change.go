package linking

import (
	"context"
	"fmt"

	"github.com/patchgate/patchgate"
)

// textSources are the link sources derived from a change's own text; their links
// follow edits (a key removed from the title unlinks it).
var textSources = []patchgate.LinkSource{patchgate.SourceTitle, patchgate.SourceBody, patchgate.SourceBranch}

// ApplyChange records a PR/MR event, then re-derives the change's links from its
// stored text (not the event's, so a late, older event cannot bring back an old
// title) and comments on the change when its links changed.
func (l *Linker) ApplyChange(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) error {
	e := ev.Change
	ch, res, err := l.Changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
		Forge:           ev.Forge,
		Repo:            repo.Name,
		Kind:            patchgate.ReviewKind(ev.Forge),
		Number:          e.Number,
		Title:           e.Title,
		Body:            e.Body,
		SourceBranch:    e.SourceBranch,
		TargetBranch:    e.TargetBranch,
		HeadSHA:         e.HeadSHA,
		PreviousHeadSHA: e.BeforeSHA,
		BaseSHA:         e.BaseSHA,
		Author:          e.Author,
		AuthorID:        e.AuthorID,
		State:           e.State,
		FromFork:        e.FromFork,
		MergeCommitSHA:  e.MergeCommitSHA,
		URL:             e.URL,
		UpdatedAt:       e.UpdatedAt,
	})
	if err != nil {
		return fmt.Errorf("apply %s event to %s#%d: %w", ev.Action, repo.Name, e.Number, err)
	}
	rc := l.referenceContext(repo)
	want, err := l.wantLinks(ctx, ch, rc, map[patchgate.LinkSource]string{
		patchgate.SourceTitle:  ch.Title,
		patchgate.SourceBody:   ch.Body,
		patchgate.SourceBranch: ch.SourceBranch,
	}, "")
	if err != nil {
		return err
	}
	added, removed, err := l.Links.SyncExtractedLinks(ctx, ch.ID, textSources, want)
	if err != nil {
		return fmt.Errorf("sync links of %s: %w", ch.Ref(), err)
	}
	if c := e.LastCommit; c != nil && patchgate.ValidSHA(c.SHA) {
		commitLinks, err := l.commitLinks(ctx, ch, rc, []patchgate.Commit{*c})
		if err != nil {
			return err
		}
		added = append(added, commitLinks...)
	}
	if res.Created || len(added) > 0 || len(removed) > 0 {
		l.comment(ctx, ch)
	}
	unlinked := make([]int64, 0, len(removed))
	for _, r := range removed {
		unlinked = append(unlinked, r.TicketID)
	}
	if err := l.reconciler().ReconcileChange(ctx, ch, unlinked...); err != nil {
		return err
	}
	if res.Created || res.HeadChanged {
		return l.verifyHead(ctx, ch, ev.Action)
	}
	return nil
}

// ApplyPush records a push to a branch and links the tickets its commit messages
// name, to the branch and to the open PRs/MRs whose source is that branch.
func (l *Linker) ApplyPush(ctx context.Context, repo *patchgate.Repository, ev *patchgate.Event) error {
	p := ev.Push
	branch, res, err := l.Changes.ApplyChangeUpdate(ctx, patchgate.ChangeUpdate{
		Forge:           ev.Forge,
		Repo:            repo.Name,
		Kind:            patchgate.ChangePush,
		SourceBranch:    p.Branch,
		TargetBranch:    p.Branch,
		HeadSHA:         p.After,
		PreviousHeadSHA: p.Before,
		Author:          p.Pusher,
		AuthorID:        p.PusherID,
		State:           patchgate.ChangeOpen,
		UpdatedAt:       p.PushedAt,
		// A head found by reconciliation names no pusher: whoever pushed
		// last before it did not push it, and must not lend it their trust.
		PusherUnknown: ev.Source == patchgate.SourceReconcile,
	})
	if err != nil {
		return fmt.Errorf("apply push to %s@%s: %w", repo.Name, p.Branch, err)
	}
	rc := l.referenceContext(repo)
	if _, err := l.commitLinks(ctx, branch, rc, p.Commits); err != nil {
		return err
	}
	open, kind := patchgate.ChangeOpen, patchgate.ReviewKind(ev.Forge)
	prs, _, err := l.Changes.FindChanges(ctx, patchgate.ChangeFilter{
		Forge: &ev.Forge, Repo: &repo.Name, Kind: &kind, State: &open, SourceBranch: &p.Branch, Limit: 100,
	})
	if err != nil {
		return fmt.Errorf("find changes from %s@%s: %w", repo.Name, p.Branch, err)
	}
	for _, pr := range prs {
		if pr.FromFork {
			continue // a fork's branch of the same name is a different branch
		}
		added, err := l.commitLinks(ctx, pr, rc, p.Commits)
		if err != nil {
			return err
		}
		if err := l.reconciler().ReconcileChange(ctx, pr); err != nil {
			return err
		}
		if len(added) > 0 {
			l.comment(ctx, pr)
		}
	}
	if err := l.reconciler().ReconcileChange(ctx, branch); err != nil {
		return err
	}
	if res.Created || res.HeadChanged || res.PusherNamed {
		trigger := "push"
		if ev.Source == patchgate.SourceReconcile {
			trigger = "reconcile" // a push patchgate missed, found on the forge
		}
		return l.verifyHead(ctx, branch, trigger)
	}
	return nil
}

// commitLinks adds the links named in commit messages to ch; they are never
// removed by later events, since a commit's message cannot change.
func (l *Linker) commitLinks(ctx context.Context, ch *patchgate.Change, rc patchgate.ReferenceContext, commits []patchgate.Commit) ([]*patchgate.Link, error) {
	var all []*patchgate.Link
	for _, c := range commits {
		if !patchgate.ValidSHA(c.SHA) {
			continue
		}
		want, err := l.wantLinks(ctx, ch, rc, map[patchgate.LinkSource]string{patchgate.SourceCommitMessage: c.Message}, c.SHA)
		if err != nil {
			return nil, err
		}
		all = append(all, want...)
	}
	if len(all) == 0 {
		return nil, nil
	}
	added, _, err := l.Links.SyncExtractedLinks(ctx, ch.ID, []patchgate.LinkSource{patchgate.SourceCommitMessage}, all)
	if err != nil {
		return nil, fmt.Errorf("link commits of %s: %w", ch.Ref(), err)
	}
	return added, nil
}

// wantLinks extracts the references in each source text and turns them into the
// links ch should have from those sources.
func (l *Linker) wantLinks(ctx context.Context, ch *patchgate.Change, rc patchgate.ReferenceContext, texts map[patchgate.LinkSource]string, commit string) ([]*patchgate.Link, error) {
	var links []*patchgate.Link
	for _, source := range []patchgate.LinkSource{patchgate.SourceTitle, patchgate.SourceBody, patchgate.SourceBranch, patchgate.SourceCommitMessage} {
		text, ok := texts[source]
		if !ok {
			continue
		}
		refs := extractLinks(rc, source, text)
		found, err := l.ensureTickets(ctx, refs)
		if err != nil {
			return nil, err
		}
		for i, t := range found {
			links = append(links, &patchgate.Link{
				TicketID:   t.ID,
				ChangeID:   ch.ID,
				CommitSHA:  commit,
				Kind:       refs[i].Kind,
				Source:     source,
				Provenance: refs[i].Text,
				CreatedBy:  "patchgate",
			})
		}
	}
	return links, nil
}

// verifyHead hands ch's new head to verification, when patchgate verifies.
func (l *Linker) verifyHead(ctx context.Context, ch *patchgate.Change, trigger string) error {
	if l.Heads == nil {
		return nil
	}
	return l.Heads.VerifyHead(ctx, ch, trigger)
}
