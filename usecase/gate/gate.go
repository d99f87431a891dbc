// Package gate orchestrates the release gate: it proposes candidates (a
// commit of the release branch with the changes and tickets it newly
// contains), evaluates them against the evidence (gate invariant 3), records
// people's approvals under the author rule (4), promotes a releasable,
// approved candidate to a tag and a release on its forge (5) and announces the
// promotion. Storage, forges and the announcement are small interfaces
// declared here.
package gate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

// ConfigReader reads a repository's .patchgate.yml and the quarantines in
// force with it (verification.Configs).
type ConfigReader interface {
	Read(ctx context.Context, repo patchgate.RepoRef, ref string) (*config.RepoFile, error)
	Quarantines(ctx context.Context, repo patchgate.RepoRef, cfg *config.RepoFile, now time.Time) ([]patchgate.Quarantine, error)
}

// Releases stores candidates, their approvals and promotions.
type Releases interface {
	FindCandidateByID(ctx context.Context, id int64) (*patchgate.Candidate, error)
	AddApproval(ctx context.Context, a *patchgate.Approval) (approvals int, err error)
	WithdrawApproval(ctx context.Context, candidateID int64, approver patchgate.ForgeUser) error
	BeginPromotion(ctx context.Context, id int64, by string, needed int) (*patchgate.Candidate, error)
	FinishPromotion(ctx context.Context, id int64, releaseURL string) error
}

// Evidence reads the verifications and proofs a candidate's gate weighs.
type Evidence interface {
	FindVerifications(ctx context.Context, filter patchgate.VerificationFilter) ([]*patchgate.Verification, int, error)
	FindProof(ctx context.Context, verificationID int64) (*patchgate.Proof, error)
	// FindTests returns a suite run's test results: the candidate's own, in
	// which each fix's proving tests must pass again.
	FindTests(ctx context.Context, suiteRunID int64) ([]patchgate.TestResult, error)
}

// Announcer is told every promotion (the tracker sync, the release webhook);
// a failure is its own to log, the promotion stands.
type Announcer interface {
	Announce(ctx context.Context, c *patchgate.Candidate, r *patchgate.ForgeRelease)
}

// Gate evaluates, approves and promotes release candidates. Set the fields,
// then use it from any number of goroutines.
type Gate struct {
	Configs  ConfigReader
	Releases Releases
	Evidence Evidence
	// Authorship applies the author rule (AuthorRule); nil knows only what
	// the webhooks named.
	Authorship AuthorChecker
	// Publisher makes a promotion public (Publisher); nil refuses to promote.
	Publisher ReleasePublisher
	// Repos hold the operator's release floor per repository; nil, or a
	// repository it does not know, holds candidates to
	// patchgate.DefaultReleaseFloor.
	Repos  Repos
	Logger *slog.Logger
	// Packs write each promotion's signed evidence pack; nil writes none.
	Packs EvidenceWriter
}

// BisectionFinder reads candidates' culprit bisections. An Evidence that is
// also one tells the gate which merge a failing candidate fails from
// (Bisector); one that is not shows none.
type BisectionFinder interface {
	FindBisection(ctx context.Context, candidateID int64) (*patchgate.Bisection, error)
}

// AuthorChecker applies the author rule: whether approver (compared by forge
// user id, patchgate.SameUser) wrote any of c.
type AuthorChecker interface {
	// CheckNotAuthor returns EFORBIDDEN naming what approver wrote, or
	// ECONFLICT while who wrote c cannot be known; nil when approver wrote
	// none of it.
	CheckNotAuthor(ctx context.Context, c *patchgate.Candidate, approver patchgate.ForgeUser) error
	// Writers lists who wrote c, with forge user ids where known.
	Writers(ctx context.Context, c *patchgate.Candidate) ([]patchgate.ForgeUser, error)
}

// ReleasePublisher makes a promotion public.
type ReleasePublisher interface {
	// Publish tags and publishes c's release; idempotent per tag.
	Publish(ctx context.Context, c *patchgate.Candidate) (*patchgate.ForgeRelease, error)
	// Released tells c's changes and announces it; failures are logged.
	Released(ctx context.Context, c *patchgate.Candidate, rel *patchgate.ForgeRelease)
}

// policy returns the release policy c is held to: the operator's floor for
// its repository tightened, never loosened, by cfg (its .patchgate.yml), and
// the blockers of what cfg asks below the floor.
func (g *Gate) policy(c *patchgate.Candidate, cfg *config.RepoFile) (patchgate.EffectivePolicy, []patchgate.Blocker) {
	floor := patchgate.DefaultReleaseFloor()
	if g.Repos != nil {
		if repo, err := g.Repos.Resolve(c.Forge, c.Repo); err == nil {
			floor = repo.Release
		}
	}
	return patchgate.MergeReleasePolicy(floor, cfg.Release.Request())
}

// quarantineBlockers are the release blockers of repo's ended quarantines
// (cfg's and the API's): each must be fixed and removed, or renewed.
func (g *Gate) quarantineBlockers(ctx context.Context, repo patchgate.RepoRef, cfg *config.RepoFile, now time.Time) ([]patchgate.Blocker, error) {
	qs, err := g.Configs.Quarantines(ctx, repo, cfg, now)
	if err != nil {
		return nil, err
	}
	return patchgate.QuarantineBlockers(qs, now), nil
}

// Evaluate applies gate invariant 3 (and counts approvals for 4): the
// candidate's own SHA passed every required suite, and every ticket fix it
// includes was verified on its change's final head and has not been reopened.
func (g *Gate) Evaluate(ctx context.Context, c *patchgate.Candidate) (*patchgate.Evaluation, error) {
	ev := &patchgate.Evaluation{Evidence: map[string]*patchgate.Verification{}}
	ref := patchgate.RepoRef{Forge: c.Forge, Name: c.Repo}
	cfg, err := g.Configs.Read(ctx, ref, c.SHA)
	if err != nil {
		ev.Blockers = append(ev.Blockers, patchgate.ConfigUnusableBlocker(c.SHA, patchgate.ErrorMessage(err)))
		return ev, nil
	}
	policy, loosened := g.policy(c, cfg)
	ev.Policy, ev.Needed = &policy, policy.Approvals
	ev.Blockers = append(ev.Blockers, loosened...)
	ev.ConfigDigest = cfg.Digest
	own, unstarted, err := g.latestVerification(ctx, c.Forge, c.Repo, c.SHA, cfg.Digest)
	if err != nil {
		return nil, err
	}
	ev.Verification = own
	ev.Blockers = append(ev.Blockers, suiteBlockers(patchgate.Fix{}, own, unstarted, policy.Required, c.SHA)...)
	if bisections, ok := g.Evidence.(BisectionFinder); ok && own != nil && own.State == patchgate.RunFailure {
		// Which merge the release fails from, once every fix passed alone.
		bis, err := bisections.FindBisection(ctx, c.ID)
		switch {
		case err == nil:
			ev.Bisection = bis
			ev.Blockers = append(ev.Blockers, patchgate.BisectionBlocker(bis))
		case patchgate.ErrorCode(err) != patchgate.ENOTFOUND:
			return nil, fmt.Errorf("find the bisection of candidate %s: %w", c.Name, err)
		}
	}
	// An ended quarantine is a debt come due: the release waits until the
	// test is fixed (and the quarantine removed) or the quarantine renewed.
	expired, err := g.quarantineBlockers(ctx, ref, cfg, time.Now())
	var ce *config.Error
	switch {
	case errors.As(err, &ce):
		ev.Blockers = append(ev.Blockers, patchgate.ConfigUnusableBlocker(c.SHA, err.Error()))
	case err != nil:
		return nil, err
	}
	ev.Blockers = append(ev.Blockers, expired...)
	release := &releaseRun{v: own, sha: c.SHA}

	for _, item := range c.Items {
		if item.Ticket == nil || item.Change == nil {
			continue
		}
		key, ch := item.Ticket.Key, item.Change
		fix := patchgate.Fix{Ticket: key, Change: changeName(ch)}
		if reopenedSince(item.Ticket, ch) {
			ev.Blockers = append(ev.Blockers, patchgate.ReopenedBlocker(fix))
			continue
		}
		v, unstarted, err := g.latestVerification(ctx, ch.Forge, ch.Repo, ch.HeadSHA, cfg.Digest)
		if err != nil {
			return nil, err
		}
		if b := suiteBlockers(fix, v, unstarted, policy.Required, ch.HeadSHA); len(b) > 0 {
			ev.Blockers = append(ev.Blockers, b...)
			continue
		}
		if policy.RequireProof {
			var proof *patchgate.Proof
			if proof, err = g.Evidence.FindProof(ctx, v.ID); err != nil && patchgate.ErrorCode(err) != patchgate.ENOTFOUND {
				return nil, fmt.Errorf("find the proof of verification %d: %w", v.ID, err)
			}
			if b, blocked := patchgate.ProofBlocker(fix, proof); blocked {
				ev.Blockers = append(ev.Blockers, b)
				continue
			}
			// Proved alone, the fix must still hold with every other fix.
			b, err := release.blockers(ctx, g.Evidence, fix, proof)
			if err != nil {
				return nil, err
			}
			if len(b) > 0 {
				ev.Blockers = append(ev.Blockers, b...)
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

// suiteBlockers says why v, the verification of sha that counts (nil:
// none), does not show that every required suite passed for f; when none
// counts because the latest run was never started (unstarted), it says that.
func suiteBlockers(f patchgate.Fix, v, unstarted *patchgate.Verification, required []string, sha string) []patchgate.Blocker {
	if v == nil && unstarted != nil {
		return []patchgate.Blocker{patchgate.RunnerUnavailableBlocker(f, unstarted)}
	}
	return patchgate.SuiteBlockers(f, v, required, sha)
}

// latestVerification returns the verification of sha that counts for a
// candidate whose .patchgate.yml has digest (patchgate.ReleaseVerdict), or
// nil, and, when none counts, the latest run if no runner ever started it
// (patchgate.NeverStarted).
func (g *Gate) latestVerification(ctx context.Context, forge patchgate.Forge, repo, sha, digest string) (counts, unstarted *patchgate.Verification, err error) {
	vs, _, err := g.Evidence.FindVerifications(ctx, patchgate.VerificationFilter{Forge: &forge, Repo: &repo, SHA: &sha, Limit: 20})
	if err != nil {
		return nil, nil, fmt.Errorf("find verifications of %s: %w", sha, err)
	}
	evidence := make([]patchgate.VerdictEvidence, len(vs))
	for i, v := range vs {
		evidence[i] = patchgate.VerdictEvidence{State: v.State, Stale: v.Stale, ConfigDigest: v.ConfigDigest}
	}
	if i := patchgate.ReleaseVerdict(evidence, digest); i >= 0 {
		return vs[i], nil, nil
	}
	return nil, patchgate.NeverStarted(vs), nil
}

// liveApprovals counts the people whose approval of c at its SHA stands.
func liveApprovals(c *patchgate.Candidate) int { return len(c.Approvers()) }

// changeName is a change as its forge writes it: #42 or !42.
func changeName(ch *patchgate.Change) string {
	if ch.Kind == patchgate.ChangeMergeRequest {
		return fmt.Sprintf("!%d", ch.Number)
	}
	return fmt.Sprintf("#%d", ch.Number)
}

// Approve records a release manager's approval of candidate id at sha (gate
// invariant 4). The approval is a person's: by's login on the candidate's
// forge, whichever token or comment it came through, so one person counts once.
// It refuses a principal that names no person there or names one without a
// forge user id (Principal.Approver), a candidate that is not
// releasable (with its blockers), a SHA that is not the candidate's, and,
// unless the policy allows it, an author of an included change — or a change
// whose author cannot be found out.
func (g *Gate) Approve(ctx context.Context, id int64, sha string, by patchgate.Principal, via string) (*patchgate.Candidate, *patchgate.Evaluation, error) {
	c, err := g.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	// A person by forge user id only: a token without one is refused.
	approver, err := by.Approver(c.Forge)
	if err != nil {
		return nil, nil, err
	}
	if c.State != patchgate.CandidateOpen {
		return nil, nil, patchgate.NotOpen(c)
	}
	if sha == "" {
		sha = c.SHA
	}
	if sha != c.SHA {
		return nil, nil, patchgate.Errorf(patchgate.ECONFLICT, "candidate %s is at %s, not %s: approve what will ship", c.Name, patchgate.ShortSHA(c.SHA), patchgate.ShortSHA(sha))
	}
	ev, err := g.Evaluate(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	if !ev.Releasable {
		return nil, ev, patchgate.Unreleasable(c.Name, ev.Blockers)
	}
	if err := g.checkAuthorRule(ctx, *ev.Policy, c, approver); err != nil {
		return nil, nil, err
	}
	if _, err := g.Releases.AddApproval(ctx, &patchgate.Approval{CandidateID: c.ID, SHA: c.SHA, Approver: approver.Login, ApproverID: approver.UserID, Token: by.Token, Via: via}); err != nil {
		return nil, nil, err
	}
	c, err = g.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	ev.Approvals = liveApprovals(c)
	if ev.Policy.AutoPromote && patchgate.EnoughApprovals(c, ev.Needed) {
		promoted, err := g.Promote(ctx, id, by)
		if err != nil {
			// The approval stands; the promotion can be retried by hand.
			return c, ev, fmt.Errorf("approved, but automatic promotion failed: %w", err)
		}
		c = promoted
	}
	return c, ev, nil
}

// Withdraw withdraws by's approval before promotion.
func (g *Gate) Withdraw(ctx context.Context, id int64, by patchgate.Principal) error {
	c, err := g.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return err
	}
	person, err := by.Person(c.Forge)
	if err != nil {
		return err
	}
	return g.Releases.WithdrawApproval(ctx, id, person)
}

// Promote releases the candidate (gate invariant 5): only when releasable and
// approved; it creates the tag and the release at exactly its SHA, records the
// promotion, marks the tickets released and comments on the changes. Like an
// approval, it is a person's act: by must name a user on the candidate's forge.
// It is
// idempotent: a retry after a crash or a forge error finishes the same
// promotion, never a second tag or release.
func (g *Gate) Promote(ctx context.Context, id int64, by patchgate.Principal) (*patchgate.Candidate, error) {
	c, err := g.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	person, err := by.Person(c.Forge)
	if err != nil {
		return nil, err
	}
	needed := 0
	var ev *patchgate.Evaluation // what let the promotion through, for its evidence pack
	if c.State == patchgate.CandidateOpen {
		if ev, err = g.Evaluate(ctx, c); err != nil {
			return nil, err
		}
		if !ev.Releasable {
			return nil, patchgate.Unreleasable(c.Name, ev.Blockers)
		}
		if !patchgate.EnoughApprovals(c, ev.Needed) {
			return nil, patchgate.Blocked(patchgate.ECONFLICT, patchgate.ApprovalsBlocker(c.Name, ev.Approvals, ev.Needed, c.UnpinnedApprovers()...))
		}
		needed = ev.Needed
	}
	if c.State == patchgate.CandidatePromoted {
		return c, nil
	}
	// The approvals are counted again where the promotion begins: one
	// withdrawn since the evaluation above refuses it there.
	if c, err = g.Releases.BeginPromotion(ctx, id, strings.ToLower(person.Login), needed); err != nil {
		return nil, err
	}
	full, err := g.Releases.FindCandidateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if g.Publisher == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", c.Forge)
	}
	rel, err := g.Publisher.Publish(ctx, full)
	if err != nil {
		return nil, err
	}
	if err := g.writeEvidence(ctx, full, ev, rel); err != nil {
		return nil, err
	}
	if err := g.Releases.FinishPromotion(ctx, id, rel.URL); err != nil {
		return nil, err
	}
	g.Publisher.Released(ctx, full, rel)
	return g.Releases.FindCandidateByID(ctx, id)
}

// ReleaseNotes lists the fixed tickets and the evidence for each.
func ReleaseNotes(c *patchgate.Candidate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Release %s at %s, approved by %s.\n\n", c.Name, c.SHA, strings.Join(c.Approvers(), ", "))
	b.WriteString("| ticket | fixed in | verified on |\n|---|---|---|\n")
	for _, item := range c.Items {
		if item.Ticket == nil || item.Change == nil {
			continue
		}
		fmt.Fprintf(&b, "| %s %s | %s %s | `%s` |\n", item.Ticket.Key, item.Ticket.Title, changeName(item.Change), item.Change.Title, patchgate.ShortSHA(item.Change.HeadSHA))
	}
	return b.String()
}
