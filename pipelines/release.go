package pipelines

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

// CreateCandidate proposes a commit of the release branch for production: it
// works out, by commit ancestry through the forge's compare API, which changes
// it newly contains since the last promoted release, and the tickets they fix.
func (s *Service) CreateCandidate(ctx context.Context, req patchgate.CandidateRequest, by string) (*patchgate.Candidate, error) {
	if s.Releases == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "releases are not enabled on this server")
	}
	repo, err := s.findRepo(req.Forge, req.Repo)
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
		head, err := s.Changes.FindChange(ctx, repo.Forge, repo.Name, patchgate.ChangeKey(patchgate.ChangePush, 0, branch))
		if err != nil {
			return nil, fmt.Errorf("find the head of %s@%s: %w", repo.Name, branch, err)
		}
		sha = head.HeadSHA
	}
	if !patchgate.ValidSHA(sha) {
		return nil, patchgate.Errorf(patchgate.EINVALID, "sha %q: want a full commit SHA", sha)
	}
	if cfg, err := s.readConfig(ctx, ref, sha); err == nil && cfg.Release.Branch != "" && req.Branch == "" {
		branch = cfg.Release.Branch
	}
	if err := s.checkOnBranch(ctx, ref, branch, sha); err != nil {
		return nil, err
	}
	c := &patchgate.Candidate{Forge: repo.Forge, Repo: repo.Name, Branch: branch, SHA: sha, Name: req.Name, CreatedBy: by}
	if c.Name == "" {
		c.Name = "release-" + shortSHA(sha)
	}
	if last, err := s.Releases.LastPromoted(ctx, repo.Forge, repo.Name); err == nil {
		c.BaseSHA = last.SHA
	} else if patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
		return nil, err
	}
	if c.Items, err = s.newlyContained(ctx, ref, c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := s.Releases.CreateCandidate(ctx, c); err != nil {
		return nil, fmt.Errorf("create candidate %s of %s: %w", c.Name, repo.Name, err)
	}
	return s.Releases.FindCandidateByID(ctx, c.ID)
}

// checkOnBranch makes sure sha is a commit of the release branch, asking the
// forge's compare API (branch...sha has nothing the branch lacks): a commit
// off the branch, say a PR's unmerged head, must not be released as if it
// were the branch. EUNPROCESSABLE, naming the branch, when it is not.
func (s *Service) checkOnBranch(ctx context.Context, ref patchgate.RepoRef, branch, sha string) error {
	cmp := s.Comparers[ref.Forge]
	if cmp == nil {
		return patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", ref.Forge)
	}
	diff, err := cmp.Compare(ctx, ref, branch, sha)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		return patchgate.Errorf(patchgate.EUNPROCESSABLE, "%s cannot be compared with the release branch %s of %s (%s): a candidate must be a commit of %s",
			shortSHA(sha), branch, ref.Name, patchgate.ErrorMessage(err), branch)
	} else if err != nil {
		return fmt.Errorf("check that %s is on %s: %w", shortSHA(sha), branch, err)
	}
	if diff.Ahead > 0 {
		return patchgate.Errorf(patchgate.EUNPROCESSABLE, "%s is not on the release branch %s of %s (it has %d commits %s does not): a candidate must be a commit of %s",
			shortSHA(sha), branch, ref.Name, diff.Ahead, branch, branch)
	}
	return nil
}

// newlyContained lists the merged changes whose commits the candidate has and
// its base has not, each with the tickets it fixes.
func (s *Service) newlyContained(ctx context.Context, ref patchgate.RepoRef, c *patchgate.Candidate) ([]*patchgate.CandidateItem, error) {
	merged, kind := patchgate.ChangeMerged, changeKind(ref.Forge)
	changes, _, err := s.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &ref.Forge, Repo: &ref.Name, Kind: &kind, State: &merged, Limit: 500})
	if err != nil {
		return nil, fmt.Errorf("find merged changes: %w", err)
	}
	var contained func(ch *patchgate.Change) bool
	if c.BaseSHA == "" {
		// The first release contains everything merged into its branch.
		contained = func(ch *patchgate.Change) bool { return strings.EqualFold(ch.TargetBranch, c.Branch) }
	} else {
		cmp := s.Comparers[ref.Forge]
		if cmp == nil {
			return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", ref.Forge)
		}
		diff, err := cmp.Compare(ctx, ref, c.BaseSHA, c.SHA)
		if err != nil {
			return nil, fmt.Errorf("compare %s...%s: %w", shortSHA(c.BaseSHA), shortSHA(c.SHA), err)
		}
		if diff.Behind > 0 {
			return nil, patchgate.Errorf(patchgate.EINVALID, "%s does not contain the last release %s: releases must move forward", shortSHA(c.SHA), shortSHA(c.BaseSHA))
		}
		shas := map[string]bool{}
		for _, commit := range diff.Commits {
			shas[commit.SHA] = true
		}
		contained = func(ch *patchgate.Change) bool { return shas[ch.MergeCommitSHA] || shas[ch.HeadSHA] }
	}
	var items []*patchgate.CandidateItem
	for _, ch := range changes {
		if !contained(ch) {
			continue
		}
		links, err := s.Links.FindLinks(ctx, patchgate.LinkFilter{ChangeID: &ch.ID, Limit: 500})
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

// Evaluate applies gate invariant 3 (and counts approvals for 4): the
// candidate's own SHA passed every required suite, and every ticket fix it
// includes was verified on its change's final head and has not been reopened.
func (s *Service) Evaluate(ctx context.Context, c *patchgate.Candidate) (*patchgate.Evaluation, error) {
	ev := &patchgate.Evaluation{Evidence: map[string]*patchgate.Verification{}}
	ref := patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}
	cfg, err := s.readConfig(ctx, ref, c.SHA)
	if err != nil {
		ev.Blockers = append(ev.Blockers, "no usable "+config.RepoFileName+" at "+shortSHA(c.SHA)+": "+patchgate.ErrorMessage(err))
		return ev, nil
	}
	ev.Needed = cfg.Release.Approvals
	own, err := s.latestVerification(ctx, c.Forge, c.Repo, c.SHA)
	if err != nil {
		return nil, err
	}
	ev.Verification = own
	ev.Blockers = append(ev.Blockers, suiteBlockers(own, cfg.Release.Required, "", c.SHA)...)
	// An ended quarantine is a debt come due: the release waits until the
	// test is fixed (and the quarantine removed) or the quarantine renewed.
	expired, err := s.expiredQuarantines(ctx, ref, cfg, time.Now())
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		ev.Blockers = append(ev.Blockers, "no usable "+config.RepoFileName+" at "+shortSHA(c.SHA)+": "+err.Error())
	case err != nil:
		return nil, err
	}
	ev.Blockers = append(ev.Blockers, expired...)

	for _, item := range c.Items {
		if item.Ticket == nil || item.Change == nil {
			continue
		}
		key, ch := item.Ticket.Key, item.Change
		if reopenedSince(item.Ticket, ch) {
			ev.Blockers = append(ev.Blockers, key+": reopened after merge")
			continue
		}
		v, err := s.latestVerification(ctx, ch.Forge, ch.Repo, ch.HeadSHA)
		if err != nil {
			return nil, err
		}
		if b := suiteBlockers(v, cfg.Release.Required, key+": fix in "+changeName(ch), ch.HeadSHA); len(b) > 0 {
			ev.Blockers = append(ev.Blockers, b...)
			continue
		}
		if cfg.Release.RequireProof {
			var proof *patchgate.Proof
			if s.Proofs != nil {
				if proof, err = s.Proofs.FindProof(ctx, v.ID); err != nil && patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
					return nil, fmt.Errorf("find the proof of verification %d: %w", v.ID, err)
				}
			}
			if b := ProofBlocker(key+": fix in "+changeName(ch), proof); b != "" {
				ev.Blockers = append(ev.Blockers, b)
				continue
			}
		}
		ev.Evidence[key] = v
	}
	ev.Approvals = liveApprovals(c)
	ev.Releasable = len(ev.Blockers) == 0
	return ev, nil
}

// reopenedSince reports whether t was reopened after ch, which the candidate
// includes as its fix, was merged: the fix did not hold.
func reopenedSince(t *patchgate.Ticket, ch *patchgate.Change) bool {
	if t.State == patchgate.TicketReopened {
		return true
	}
	return !t.ReopenedAt.IsZero() && ch.State == patchgate.ChangeMerged && t.ReopenedAt.After(ch.MergedAt)
}

// suiteBlockers says why v does not show that every required suite passed on sha.
func suiteBlockers(v *patchgate.Verification, required []string, who, sha string) []string {
	prefix := ""
	if who != "" {
		prefix = who + " "
	}
	if v == nil {
		return []string{prefix + "not verified on " + shortSHA(sha) + " yet"}
	}
	var out []string
	byName := map[string]*patchgate.SuiteRun{}
	for _, s := range v.Suites {
		byName[s.Name] = s
	}
	for _, name := range required {
		s := byName[name]
		switch {
		case s == nil:
			out = append(out, fmt.Sprintf("%s`%s` was not run on %s", prefix, name, shortSHA(sha)))
		case s.State == patchgate.RunSuccess:
		case !s.State.Final():
			out = append(out, fmt.Sprintf("%s`%s` still running on %s", prefix, name, shortSHA(sha)))
		default:
			out = append(out, fmt.Sprintf("%sfailed `%s` on %s", prefix, name, shortSHA(sha)))
		}
	}
	if len(out) == 0 && v.State != patchgate.RunSuccess {
		out = append(out, fmt.Sprintf("%sverification %d on %s ended %s: %s", prefix, v.ID, shortSHA(sha), v.State, v.Reason))
	}
	return out
}

// latestVerification returns the newest verification of sha that is not
// stale, or nil.
func (s *Service) latestVerification(ctx context.Context, forge patchgate.Forge, repo, sha string) (*patchgate.Verification, error) {
	vs, _, err := s.Verifications.FindVerifications(ctx, patchgate.VerificationFilter{Forge: &forge, Repo: &repo, SHA: &sha, Limit: 20})
	if err != nil {
		return nil, fmt.Errorf("find verifications of %s: %w", sha, err)
	}
	for _, v := range vs {
		if !v.Stale && v.State != patchgate.RunCanceled {
			return v, nil
		}
	}
	return nil, nil
}

func liveApprovals(c *patchgate.Candidate) int {
	seen := map[string]bool{}
	for _, a := range c.Approvals {
		if a.WithdrawnAt == nil && a.SHA == c.SHA {
			seen[strings.ToLower(a.Approver)] = true
		}
	}
	return len(seen)
}

func changeName(ch *patchgate.Change) string {
	if ch.Kind == patchgate.ChangeMergeRequest {
		return fmt.Sprintf("!%d", ch.Number)
	}
	return fmt.Sprintf("#%d", ch.Number)
}

// Approve records a release manager's approval of candidate id at sha (gate
// invariant 4). The approval is a person's: by's login on the candidate's
// forge, whichever token or comment it came through, so one person counts once.
// It refuses a principal that names no person there, a candidate that is not
// releasable (with its blockers), a SHA that is not the candidate's, and,
// unless the policy allows it, an author of an included change — or a change
// whose author cannot be found out.
func (s *Service) Approve(ctx context.Context, id int64, sha string, by patchgate.Principal, via string) (*patchgate.Candidate, *patchgate.Evaluation, error) {
	c, err := s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	person, err := by.Person(c.Forge)
	if err != nil {
		return nil, nil, err
	}
	approver := strings.ToLower(person.Login)
	if sha == "" {
		sha = c.SHA
	}
	if sha != c.SHA {
		return nil, nil, patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is at %s, not %s: approve what will ship", c.Name, shortSHA(c.SHA), shortSHA(sha))
	}
	ev, err := s.Evaluate(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	if !ev.Releasable {
		return nil, ev, patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is not releasable: %s", c.Name, strings.Join(ev.Blockers, "; "))
	}
	cfg, err := s.readConfig(ctx, patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}, c.SHA)
	if err != nil {
		return nil, nil, err
	}
	if err := s.checkAuthorRule(ctx, cfg, c, approver); err != nil {
		return nil, nil, err
	}
	if _, err := s.Releases.AddApproval(ctx, &patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: approver, Token: by.Token, Via: via}); err != nil {
		return nil, nil, err
	}
	c, err = s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ev.Approvals = liveApprovals(c)
	if cfg.Release.AutoPromote && ev.Approvals >= ev.Needed {
		promoted, err := s.Promote(ctx, id, by)
		if err != nil {
			// The approval stands; the promotion can be retried by hand.
			return c, ev, fmt.Errorf("approved, but automatic promotion failed: %w", err)
		}
		c = promoted
	}
	return c, ev, nil
}

// checkNotAuthor applies the author rule: approver wrote none of the changes c
// includes. A change whose author the webhooks did not name has it looked up
// through the forge's API; while it stays unknown the approval is refused,
// never let through.
func (s *Service) checkNotAuthor(ctx context.Context, c *patchgate.Candidate, approver string) error {
	for _, item := range c.Items {
		ch := item.Change
		if ch == nil {
			continue
		}
		author := ch.Author
		if author == "" && ch.Kind != patchgate.ChangePush {
			var err error
			if author, err = s.lookUpAuthor(ctx, ch); err != nil {
				return patchgate.Errorf(patchgate.ECONFLICT, "the author of %s, which %s includes, is not known (%s): approval refused until it is, since an author may not approve",
					changeName(ch), c.Name, patchgate.ErrorMessage(err))
			}
		}
		if patchgate.SameLogin(author, approver) {
			return patchgate.Errorf(patchgate.EFORBIDDEN, "%s wrote %s, which %s includes: an author may not approve it", approver, changeName(ch), c.Name)
		}
	}
	return nil
}

// lookUpAuthor asks the forge who opened ch.
func (s *Service) lookUpAuthor(ctx context.Context, ch *patchgate.Change) (string, error) {
	finder := s.Authors[ch.Forge]
	if finder == nil {
		return "", patchgate.Errorf(patchgate.EINVALID, "the webhook did not name them and no API access to %s is configured", ch.Forge)
	}
	author, err := finder.ChangeAuthor(ctx, patchgate.RepoRef{Forge: ch.Forge, Name: ch.Repo}, ch.Number)
	if err != nil {
		return "", fmt.Errorf("look up the author of %s: %w", ch.Ref(), err)
	}
	return author, nil
}

// Withdraw withdraws by's approval before promotion.
func (s *Service) Withdraw(ctx context.Context, id int64, by patchgate.Principal) error {
	c, err := s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return err
	}
	person, err := by.Person(c.Forge)
	if err != nil {
		return err
	}
	return s.Releases.WithdrawApproval(ctx, id, strings.ToLower(person.Login))
}

// Promote releases the candidate (gate invariant 5): only when releasable and
// approved; it creates the tag and the release at exactly its SHA, records the
// promotion, marks the tickets released and comments on the changes. Like an
// approval, it is a person's act: by must name a user on the candidate's forge.
// It is
// idempotent: a retry after a crash or a forge error finishes the same
// promotion, never a second tag or release.
func (s *Service) Promote(ctx context.Context, id int64, by patchgate.Principal) (*patchgate.Candidate, error) {
	c, err := s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	person, err := by.Person(c.Forge)
	if err != nil {
		return nil, err
	}
	if c.State == patchgate.CandidateOpen {
		ev, err := s.Evaluate(ctx, c)
		if err != nil {
			return nil, err
		}
		if !ev.Releasable {
			return nil, patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is not releasable: %s", c.Name, strings.Join(ev.Blockers, "; "))
		}
		if ev.Approvals < ev.Needed {
			return nil, patchgate.Errorf(patchgate.ECONFLICT, "candidate %s has %d of the %d approvals it needs", c.Name, ev.Approvals, ev.Needed)
		}
	}
	if c.State == patchgate.CandidatePromoted {
		return c, nil
	}
	if c, err = s.Releases.BeginPromotion(ctx, id, strings.ToLower(person.Login)); err != nil {
		return nil, err
	}
	releaser := s.Releasers[c.Forge]
	if releaser == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", c.Forge)
	}
	full, err := s.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	rel, err := releaser.PublishRelease(ctx, patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}, patchgate.ForgeRelease{
		Tag: c.Name, SHA: c.SHA, Name: c.Name, Notes: ReleaseNotes(full),
	})
	if err != nil {
		return nil, fmt.Errorf("publish %s at %s (promotion stays in progress; retry to finish it): %w", c.Name, shortSHA(c.SHA), err)
	}
	if err := s.Releases.FinishPromotion(ctx, id, rel.URL); err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, item := range full.Items {
		if item.Change != nil && !seen[item.ChangeID] {
			seen[item.ChangeID] = true
			if cm := s.Commenters[item.Change.Forge]; cm != nil {
				body := fmt.Sprintf("Released in **%s** (%s) at `%s`.", c.Name, rel.URL, shortSHA(c.SHA))
				if err := cm.UpsertComment(ctx, item.Change, "<!-- patchgate:release -->", body); err != nil {
					s.Logger.Warn("release comment not posted", "change", item.Change.Ref(), "err", err)
				}
			}
		}
	}
	if s.Announce != nil {
		s.Announce(ctx, full, rel)
	}
	return s.Releases.FindCandidateByID(ctx, id)
}

// ReleaseNotes lists the fixed tickets and the evidence for each.
func ReleaseNotes(c *patchgate.Candidate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Release %s at %s, approved by %s.\n\n", c.Name, c.SHA, strings.Join(approvers(c), ", "))
	b.WriteString("| ticket | fixed in | verified on |\n|---|---|---|\n")
	for _, item := range c.Items {
		if item.Ticket == nil || item.Change == nil {
			continue
		}
		fmt.Fprintf(&b, "| %s %s | %s %s | `%s` |\n", item.Ticket.Key, item.Ticket.Title, changeName(item.Change), item.Change.Title, shortSHA(item.Change.HeadSHA))
	}
	return b.String()
}

func approvers(c *patchgate.Candidate) []string {
	var out []string
	for _, a := range c.Approvals {
		if a.WithdrawnAt == nil && !slices.Contains(out, a.Approver) {
			out = append(out, a.Approver)
		}
	}
	return out
}

// autoCandidate proposes a candidate when the release branch's new head passed.
func (s *Service) autoCandidate(ctx context.Context, branch *patchgate.Change, v *patchgate.Verification) {
	if s.Releases == nil {
		return
	}
	cfg, err := s.readConfig(ctx, patchgate.RepoRef{Forge: branch.Forge, Name: branch.Repo}, v.SHA)
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
	if _, err := s.CreateCandidate(ctx, patchgate.CandidateRequest{Forge: branch.Forge, Repo: branch.Repo, Branch: release, SHA: v.SHA}, "patchgate"); err != nil {
		s.Logger.Warn("release candidate not created", "repo", branch.Repo, "sha", v.SHA, "err", err)
	}
}
