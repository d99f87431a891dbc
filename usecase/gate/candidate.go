package gate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/patchgate/patchgate"
)

// CandidateStore stores release candidates.
type CandidateStore interface {
	CreateCandidate(ctx context.Context, c *patchgate.Candidate) error
	FindCandidateByID(ctx context.Context, id int64) (*patchgate.Candidate, error)
	LastPromoted(ctx context.Context, forge patchgate.Forge, repo string) (*patchgate.Candidate, error)
}

// Changes reads stored changes.
type Changes interface {
	FindChange(ctx context.Context, forge patchgate.Forge, repo, key string) (*patchgate.Change, error)
	FindChanges(ctx context.Context, filter patchgate.ChangeFilter) ([]*patchgate.Change, int, error)
}

// LinkFinder reads the links of changes.
type LinkFinder interface {
	FindLinks(ctx context.Context, filter patchgate.LinkFilter) ([]*patchgate.Link, error)
}

// Repos finds configured repositories (patchgate.RepositoryDirectory).
type Repos interface {
	Resolve(forge patchgate.Forge, name string) (*patchgate.Repository, error)
}

// Candidates proposes release candidates: by hand, and when the release
// branch's new head passed. Set the fields, then use it from any number of
// goroutines.
type Candidates struct {
	Configs  ConfigReader
	Releases CandidateStore
	Changes  Changes
	Links    LinkFinder
	Repos    Repos
	// Comparers tell, per forge, which commits a candidate has that its base
	// has not.
	Comparers map[patchgate.Forge]patchgate.Comparer
	Logger    *slog.Logger
	// Watcher, when set, is told every new candidate (the Bisector: a new
	// candidate stops the bisections of those it supersedes).
	Watcher CandidateWatcher
}

// CandidateWatcher is told every candidate created.
type CandidateWatcher interface {
	CandidateCreated(ctx context.Context, c *patchgate.Candidate)
}

// CreateCandidate proposes a commit of the release branch for production: it
// works out, by commit ancestry through the forge's compare API, which changes
// it newly contains since the last promoted release, and the tickets they fix.
func (cs *Candidates) CreateCandidate(ctx context.Context, req patchgate.CandidateRequest, by string) (*patchgate.Candidate, error) {
	repo, err := cs.Repos.Resolve(req.Forge, req.Repo)
	if err != nil {
		return nil, err
	}
	ref := patchgate.RepoRef{Forge: repo.Forge, Name: repo.Name}
	branch := req.Branch
	if branch == "" {
		branch = "main"
	}
	sha := req.SHA
	if sha == "" {
		head, err := cs.Changes.FindChange(ctx, repo.Forge, repo.Name, patchgate.ChangeKey(patchgate.ChangePush, 0, branch))
		if err != nil {
			return nil, fmt.Errorf("find the head of %s@%s: %w", repo.Name, branch, err)
		}
		sha = head.HeadSHA
	}
	if !patchgate.ValidSHA(sha) {
		return nil, patchgate.Errorf(patchgate.EINVALID, "sha %q: want a full commit SHA", sha)
	}
	if cfg, err := cs.Configs.Read(ctx, ref, sha); err == nil && cfg.Release.Branch != "" && req.Branch == "" {
		branch = cfg.Release.Branch
	}
	if err := cs.checkOnBranch(ctx, ref, branch, sha); err != nil {
		return nil, err
	}
	c := &patchgate.Candidate{Forge: repo.Forge, Repo: repo.Name, Branch: branch, SHA: sha, Name: req.Name, CreatedBy: by}
	if c.Name == "" {
		c.Name = patchgate.DefaultCandidateName(sha)
	}
	if last, err := cs.Releases.LastPromoted(ctx, repo.Forge, repo.Name); err == nil {
		c.BaseSHA = last.SHA
	} else if patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		return nil, err
	}
	if c.Items, err = cs.newlyContained(ctx, ref, c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := cs.Releases.CreateCandidate(ctx, c); err != nil {
		return nil, fmt.Errorf("create candidate %s of %s: %w", c.Name, repo.Name, err)
	}
	created, err := cs.Releases.FindCandidateByID(ctx, c.ID)
	if err == nil && cs.Watcher != nil {
		cs.Watcher.CandidateCreated(ctx, created)
	}
	return created, err
}

// checkOnBranch makes sure sha is a commit of the release branch, asking the
// forge's compare API (branch...sha has nothing the branch lacks): a commit
// off the branch, say a PR's unmerged head, must not be released as if it
// were the branch. EUNPROCESSABLE, naming the branch, when it is not.
func (cs *Candidates) checkOnBranch(ctx context.Context, ref patchgate.RepoRef, branch, sha string) error {
	cmp := cs.Comparers[ref.Forge]
	if cmp == nil {
		return patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", ref.Forge)
	}
	diff, err := cmp.Compare(ctx, ref, branch, sha)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		return patchgate.Errorf(patchgate.EUNPROCESSABLE, "%s cannot be compared with the release branch %s of %s (%s): a candidate must be a commit of %s",
			patchgate.ShortSHA(sha), branch, ref.Name, patchgate.ErrorMessage(err), branch)
	} else if err != nil {
		return fmt.Errorf("check that %s is on %s: %w", patchgate.ShortSHA(sha), branch, err)
	}
	if diff.Ahead > 0 {
		return patchgate.Errorf(patchgate.EUNPROCESSABLE, "%s is not on the release branch %s of %s (it has %d commits %s does not): a candidate must be a commit of %s",
			patchgate.ShortSHA(sha), branch, ref.Name, diff.Ahead, branch, branch)
	}
	return nil
}

// newlyContained lists the merged changes whose commits the candidate has and
// its base has not, each with the tickets it fixes.
func (cs *Candidates) newlyContained(ctx context.Context, ref patchgate.RepoRef, c *patchgate.Candidate) ([]*patchgate.CandidateItem, error) {
	merged, kind := patchgate.ChangeMerged, patchgate.ReviewKind(ref.Forge)
	changes, _, err := cs.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &ref.Forge, Repo: &ref.Name, Kind: &kind, State: &merged, Limit: 500})
	if err != nil {
		return nil, fmt.Errorf("find merged changes: %w", err)
	}
	cmp := cs.Comparers[ref.Forge]
	if cmp == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", ref.Forge)
	}
	var contained func(ch *patchgate.Change) (bool, error)
	if c.BaseSHA == "" {
		// The first release contains the merged changes whose commit is an
		// ancestor of its own, not everything merged into its branch since:
		// a change merged after the candidate's commit is not in it.
		contained = func(ch *patchgate.Change) (bool, error) {
			for _, sha := range patchgate.ChangeCommits(ch) {
				diff, err := cmp.Compare(ctx, ref, sha, c.SHA)
				if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
					continue // not a commit the forge knows (any more)
				} else if err != nil {
					return false, fmt.Errorf("compare %s...%s: %w", patchgate.ShortSHA(sha), patchgate.ShortSHA(c.SHA), err)
				}
				if diff.Behind == 0 {
					return true, nil
				}
			}
			return false, nil
		}
	} else {
		diff, err := cmp.Compare(ctx, ref, c.BaseSHA, c.SHA)
		if err != nil {
			return nil, fmt.Errorf("compare %s...%s: %w", patchgate.ShortSHA(c.BaseSHA), patchgate.ShortSHA(c.SHA), err)
		}
		if diff.Behind > 0 {
			return nil, patchgate.Errorf(patchgate.EINVALID, "%s does not contain the last release %s: releases must move forward", patchgate.ShortSHA(c.SHA), patchgate.ShortSHA(c.BaseSHA))
		}
		shas := map[string]bool{}
		for _, commit := range diff.Commits {
			shas[commit.SHA] = true
		}
		contained = func(ch *patchgate.Change) (bool, error) {
			return slices.ContainsFunc(patchgate.ChangeCommits(ch), func(sha string) bool { return shas[sha] }), nil
		}
	}
	var items []*patchgate.CandidateItem
	for _, ch := range changes {
		if in, err := contained(ch); err != nil {
			return nil, err
		} else if !in {
			continue
		}
		links, err := cs.Links.FindLinks(ctx, patchgate.LinkFilter{ChangeID: &ch.ID, Limit: 500})
		if err != nil {
			return nil, fmt.Errorf("find links of %s: %w", ch.Ref(), err)
		}
		// A ticket the change claims to fix in several places (title, body,
		// commits) is one item.
		fixes := map[int64]bool{}
		for _, l := range links {
			if l.Kind == patchgate.LinkFixes && !fixes[l.TicketID] {
				items = append(items, &patchgate.CandidateItem{ChangeID: ch.ID, TicketID: l.TicketID})
				fixes[l.TicketID] = true
			}
		}
		if len(fixes) == 0 {
			items = append(items, &patchgate.CandidateItem{ChangeID: ch.ID})
		}
	}
	return items, nil
}

// AutoCandidate proposes a candidate when the release branch's new head
// passed. While a candidate a person proposed is open, the proposal is held
// (patchgate.HeldBy): the store records it in the audit and patchgate logs it,
// and the person's candidate stays.
func (cs *Candidates) AutoCandidate(ctx context.Context, branch *patchgate.Change, v *patchgate.Verification) {
	cfg, err := cs.Configs.Read(ctx, patchgate.RepoRef{Forge: branch.Forge, Name: branch.Repo}, v.SHA)
	if err != nil {
		return
	}
	release := cfg.Release.Branch
	if release == "" {
		release = "main"
	}
	if !strings.EqualFold(release, branch.SourceBranch) {
		return
	}
	_, err = cs.CreateCandidate(ctx, patchgate.CandidateRequest{Forge: branch.Forge, Repo: branch.Repo, Branch: release, SHA: v.SHA}, patchgate.AutoProposer)
	switch {
	case patchgate.ErrorCode(err) == patchgate.ECONFLICT:
		// Held by a person's candidate, or a name taken: expected, not a fault.
		cs.Logger.Info("automatic release candidate not created", "repo", branch.Repo, "sha", v.SHA, "verification_id", v.ID, "reason", patchgate.ErrorMessage(err))
	case err != nil:
		cs.Logger.Warn("release candidate not created", "repo", branch.Repo, "sha", v.SHA, "verification_id", v.ID, "err", err)
	}
}
