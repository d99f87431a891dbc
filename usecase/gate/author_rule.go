package gate

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/patchgate/patchgate"
)

// AuthorRule finds out who wrote a candidate, from the forges (openers,
// commits, co-authors) and the push events patchgate received, so that the
// gate can refuse an author's approval. Its zero value knows only what the
// webhooks named, and refuses when that is not enough.
type AuthorRule struct {
	// Authors look up the authors of changes whose webhooks did not name them.
	Authors map[patchgate.Forge]patchgate.AuthorFinder
	// Comparers list, per forge, the commits a candidate and its changes
	// contain, whose authors, committers and co-authors the rule counts. A
	// forge without one is judged by the changes' openers only.
	Comparers map[patchgate.Forge]patchgate.Comparer
	// Branches, when set, name who pushed a change's branch (its push
	// change's author: the last pusher patchgate heard of).
	Branches Changes
	Logger   *slog.Logger
}

var _ AuthorChecker = (*AuthorRule)(nil)

func (r *AuthorRule) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// CheckNotAuthor applies the author rule: approver wrote none of c (see
// Authorship). A change whose author the webhooks did not name has it looked
// up through the forge's API; while it, or the commits c contains, stay
// unknown the approval is refused, never let through.
//
// People are compared by forge user id (patchgate.SameUser): an author who
// renamed their login is still the author, and whoever registers a login an
// author released is not. Where the forge maps no id (a commit email, a
// GitLab commit, a change stored before ids were recorded) the login decides.
func (r *AuthorRule) CheckNotAuthor(ctx context.Context, c *patchgate.Candidate, approver patchgate.ForgeUser) error {
	who := approver.Labelled()
	for _, item := range c.Items {
		ch := item.Change
		if ch == nil {
			continue
		}
		author := patchgate.ForgeUser{Forge: ch.Forge, Login: ch.Author, UserID: ch.AuthorID}
		if author.Login == "" && ch.Kind != patchgate.ChangePush {
			var err error
			if author.Login, err = r.lookUpAuthor(ctx, ch); err != nil {
				return patchgate.Errorf(patchgate.ECONFLICT, "the author of %s, which %s includes, is not known (%s): approval refused until it is, since an author may not approve",
					changeName(ch), c.Name, patchgate.ErrorMessage(err))
			}
		}
		if author.Login != "" && patchgate.SameUser(author, approver) {
			return patchgate.Errorf(patchgate.EFORBIDDEN, "%s wrote %s (as %s), which %s includes: an author may not approve it",
				who, changeName(ch), author.Labelled(), c.Name)
		}
		commits, err := r.changeCommits(ctx, c, ch)
		if err != nil {
			return patchgate.Errorf(patchgate.ECONFLICT, "the commits of %s, which %s includes, are not known (%s): approval refused until they are, since an author may not approve",
				changeName(ch), c.Name, patchgate.ErrorMessage(err))
		}
		if (patchgate.Authorship{Commits: commits}).Wrote(approver) {
			return patchgate.Errorf(patchgate.EFORBIDDEN, "%s wrote commits of %s, which %s includes: an author may not approve it", who, changeName(ch), c.Name)
		}
		pusher, err := r.pusher(ctx, ch)
		if err != nil {
			return patchgate.Errorf(patchgate.ECONFLICT, "who pushed %s, which %s includes, is not known (%s): approval refused until it is, since an author may not approve",
				changeName(ch), c.Name, patchgate.ErrorMessage(err))
		}
		if (patchgate.Authorship{Pushers: []patchgate.ForgeUser{pusher}}).Wrote(approver) {
			return patchgate.Errorf(patchgate.EFORBIDDEN, "%s pushed to the branch of %s, which %s includes: an author may not approve it", who, changeName(ch), c.Name)
		}
	}
	commits, err := r.candidateCommits(ctx, c)
	if err != nil {
		return patchgate.Errorf(patchgate.ECONFLICT, "the commits %s contains are not known (%s): approval refused until they are, since an author may not approve",
			c.Name, patchgate.ErrorMessage(err))
	}
	if (patchgate.Authorship{Commits: commits}).Wrote(approver) {
		return patchgate.Errorf(patchgate.EFORBIDDEN, "%s wrote commits %s newly contains: an author may not approve it", who, c.Name)
	}
	return nil
}

// Writers lists who wrote c, each once, with the forge user id where the
// forge maps one (patchgate.Authorship.Authors): each included change's
// opener (looked up when no webhook named them), its commits' authors,
// committers and co-authors, who pushed its branch, and the writers of the
// commits c newly contains. An error says what could not be found out, as
// CheckNotAuthor would refuse for it.
func (r *AuthorRule) Writers(ctx context.Context, c *patchgate.Candidate) ([]patchgate.ForgeUser, error) {
	parts, err := r.authorships(ctx, c)
	if err != nil {
		return nil, err
	}
	var who patchgate.Authorship
	for _, p := range parts {
		who.Openers = append(who.Openers, p.who.Openers...)
		who.Commits = append(who.Commits, p.who.Commits...)
		who.Pushers = append(who.Pushers, p.who.Pushers...)
	}
	authors := who.Authors()
	for i := range authors {
		authors[i].Forge = c.Forge
	}
	return authors, nil
}

// WritersByChange lists everyone the rule counts as having written c, each
// with what they wrote (a change, or the commits c newly contains) and their
// forge user id where the forge maps one, for the release's evidence pack.
// It fails, like CheckNotAuthor refuses, while any of it cannot be known.
func (r *AuthorRule) WritersByChange(ctx context.Context, c *patchgate.Candidate) ([]patchgate.EvidenceAuthor, error) {
	parts, err := r.authorships(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []patchgate.EvidenceAuthor
	for _, p := range parts {
		for _, u := range p.who.Authors() {
			out = append(out, patchgate.EvidenceAuthor{EvidencePerson: patchgate.EvidencePerson{Login: u.Login, UserID: u.UserID}, Change: p.what})
		}
	}
	return out, nil
}

// authored is what one part of a candidate is (a change, or the commits it
// newly contains) and who wrote it.
type authored struct {
	what string
	who  patchgate.Authorship
}

// authorships finds who wrote each part of c: each included change's opener
// (looked up when no webhook named them), its commits, who pushed its branch;
// then the commits c newly contains.
func (r *AuthorRule) authorships(ctx context.Context, c *patchgate.Candidate) ([]authored, error) {
	var out []authored
	for _, item := range c.Items {
		ch := item.Change
		if ch == nil {
			continue
		}
		author := patchgate.ForgeUser{Forge: ch.Forge, Login: ch.Author, UserID: ch.AuthorID}
		if author.Login == "" && ch.Kind != patchgate.ChangePush {
			var err error
			if author.Login, err = r.lookUpAuthor(ctx, ch); err != nil {
				return nil, fmt.Errorf("the author of %s is not known: %w", changeName(ch), err)
			}
		}
		var who patchgate.Authorship
		if ch.Kind == patchgate.ChangePush {
			who.Pushers = append(who.Pushers, author)
		} else {
			who.Openers = append(who.Openers, author)
		}
		commits, err := r.changeCommits(ctx, c, ch)
		if err != nil {
			return nil, fmt.Errorf("the commits of %s are not known: %w", changeName(ch), err)
		}
		who.Commits = commits
		pusher, err := r.pusher(ctx, ch)
		if err != nil {
			return nil, fmt.Errorf("who pushed %s is not known: %w", changeName(ch), err)
		}
		if pusher.Login != "" {
			who.Pushers = append(who.Pushers, pusher)
		}
		out = append(out, authored{what: changeName(ch), who: who})
	}
	commits, err := r.candidateCommits(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("the commits %s contains are not known: %w", c.Name, err)
	}
	return append(out, authored{what: "commits since " + patchgate.ShortSHA(c.BaseSHA), who: patchgate.Authorship{Commits: commits}}), nil
}

// changeCommits lists the commits of a PR/MR ch that c contains: from the
// last release (or, for a first release, the change's base) to its head, so
// that a squashed or rebased change still counts its own commits. A first
// release whose change's base the forge does not know (the webhook named a
// base the forge never had) counts the change's opener only.
func (r *AuthorRule) changeCommits(ctx context.Context, c *patchgate.Candidate, ch *patchgate.Change) ([]patchgate.Commit, error) {
	cmp := r.Comparers[c.Forge]
	base := c.BaseSHA
	if base == "" {
		base = ch.BaseSHA
	}
	if cmp == nil || ch.Kind == patchgate.ChangePush || base == "" || ch.HeadSHA == "" {
		return nil, nil
	}
	diff, err := cmp.Compare(ctx, patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}, base, ch.HeadSHA)
	if err != nil {
		if c.BaseSHA == "" && patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
			r.logger().Warn("the base of a change is unknown to the forge; its commits are not counted", "change", ch.Ref(), "base", base)
			return nil, nil
		}
		return nil, err
	}
	return r.markResolutions(ctx, c, diff.Commits)
}

// markResolutions sets ResolvesMerge on each two-parent merge commit among
// commits whose tree is not what merging its parents gives
// (patchgate.MergeOnlyMerges): two compares each, the merge against its
// first parent and the second parent since their merge base. A forge that
// reports no blob ids (GitLab) leaves merging as not writing; a merge of more
// than two parents, or one whose files the forge lists only in part, counts
// as written.
func (r *AuthorRule) markResolutions(ctx context.Context, c *patchgate.Candidate, commits []patchgate.Commit) ([]patchgate.Commit, error) {
	cmp := r.Comparers[c.Forge]
	repo := patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}
	for i := range commits {
		m := &commits[i]
		if len(m.Parents) > 2 {
			// git's octopus merge refuses conflicts, but a commit with three
			// parents can hold any tree (git commit-tree): patchgate cannot
			// check it against three sides cheaply, so it counts as written.
			m.ResolvesMerge = true
			continue
		}
		if len(m.Parents) != 2 {
			continue
		}
		ours, err := cmp.Compare(ctx, repo, m.Parents[0], m.SHA)
		if err != nil {
			return nil, fmt.Errorf("compare merge %s with its first parent: %w", patchgate.ShortSHA(m.SHA), err)
		}
		theirs, err := cmp.Compare(ctx, repo, m.Parents[0], m.Parents[1])
		if err != nil {
			return nil, fmt.Errorf("compare the parents of merge %s: %w", patchgate.ShortSHA(m.SHA), err)
		}
		if ours.FilesCapped || theirs.FilesCapped {
			m.ResolvesMerge = true // a file past the forge's list could hold anything
			continue
		}
		only, known := patchgate.MergeOnlyMerges(ours.Files, theirs.Files)
		m.ResolvesMerge = known && !only
	}
	return commits, nil
}

// pusher names who last pushed the branch of a PR/MR ch from the same
// repository, with their user id, from the push events patchgate received;
// nobody (login "") when none came.
func (r *AuthorRule) pusher(ctx context.Context, ch *patchgate.Change) (patchgate.ForgeUser, error) {
	if r.Branches == nil || ch.Kind == patchgate.ChangePush || ch.FromFork || ch.SourceBranch == "" {
		return patchgate.ForgeUser{}, nil
	}
	branch, err := r.Branches.FindChange(ctx, ch.Forge, ch.Repo, patchgate.ChangeKey(patchgate.ChangePush, 0, ch.SourceBranch))
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		return patchgate.ForgeUser{}, nil
	}
	if err != nil {
		return patchgate.ForgeUser{}, err
	}
	return patchgate.ForgeUser{Forge: branch.Forge, Login: branch.Author, UserID: branch.AuthorID}, nil
}

// candidateCommits lists the commits c newly contains since the last
// release: merged changes' and direct ones. A first release has no range.
func (r *AuthorRule) candidateCommits(ctx context.Context, c *patchgate.Candidate) ([]patchgate.Commit, error) {
	cmp := r.Comparers[c.Forge]
	if cmp == nil || c.BaseSHA == "" {
		return nil, nil
	}
	diff, err := cmp.Compare(ctx, patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}, c.BaseSHA, c.SHA)
	if err != nil {
		return nil, err
	}
	return r.markResolutions(ctx, c, diff.Commits)
}

// lookUpAuthor asks the forge who opened ch.
func (r *AuthorRule) lookUpAuthor(ctx context.Context, ch *patchgate.Change) (string, error) {
	finder := r.Authors[ch.Forge]
	if finder == nil {
		return "", patchgate.Errorf(patchgate.EINVALID, "the webhook did not name them and no API access to %s is configured", ch.Forge)
	}
	author, err := finder.ChangeAuthor(ctx, patchgate.RepoRef{Forge: ch.Forge, Name: ch.Repo}, ch.Number)
	if err != nil {
		return "", fmt.Errorf("look up the author of %s: %w", ch.Ref(), err)
	}
	return author, nil
}

var _ AuthorLister = (*AuthorRule)(nil)
