package pipelines

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/config"
)

// Reporter tells the forge about verifications that never reach a worker
// (queued, superseded, no configuration).
type Reporter interface {
	Queued(ctx context.Context, v *patchgate.Verification)
	Verdict(ctx context.Context, v *patchgate.Verification)
}

// verifyHead plans a verification of ch's current head: it supersedes the
// verifications of older heads (gate invariant 2), reads .patchgate.yml at the
// head (at the base for a change from a fork, whose own config is not trusted),
// records the verification, enqueues it and reports it queued.
func (s *Service) verifyHead(ctx context.Context, ch *patchgate.Change, trigger string) error {
	if s.Verifications == nil || ch.HeadSHA == "" || ch.State != patchgate.ChangeOpen {
		return nil
	}
	if err := s.supersede(ctx, ch); err != nil {
		return err
	}
	if repo, err := s.Repos.Find(ch.Forge, ch.Repo); err == nil && !s.trustedChange(repo, ch) {
		// Running a stranger's code needs a maintainer's word, for this head only.
		s.Reporter.Verdict(ctx, &patchgate.Verification{
			Forge: ch.Forge, Repo: ch.Repo, SHA: ch.HeadSHA, State: patchgate.RunQueued,
			Reason: "waiting for a maintainer to comment " + OkToTest + " (changes from forks and untrusted authors)",
		})
		return nil
	}
	_, err := s.Verify(ctx, ch, trigger)
	return err
}

// OkToTest is the comment by which a maintainer approves verifying a change's
// current head when it comes from a fork or an untrusted author.
const OkToTest = "/patchgate ok-to-test"

// trustedChange reports whether ch may be verified without a maintainer's
// approval: not from a fork, and, when the repository lists trusted users, by
// one of them or a release manager.
func (s *Service) trustedChange(repo *patchgate.Repository, ch *patchgate.Change) bool {
	if ch.Kind == patchgate.ChangePush {
		return true // pushes need write access to the repository
	}
	if ch.FromFork {
		return false
	}
	return len(repo.TrustedUsers) == 0 || s.maintainer(repo, ch.Author)
}

// maintainer reports whether user may vouch for others' changes: a trusted user
// of the repository or a release manager of its forge.
func (s *Service) maintainer(repo *patchgate.Repository, user string) bool {
	if user == "" {
		return false
	}
	for _, u := range append(slices.Clone(repo.TrustedUsers), s.ReleaseManagers[repo.Forge]...) {
		if strings.EqualFold(u, user) {
			return true
		}
	}
	return false
}

// Verify records a verification of ch's head, whatever triggered it, enqueues
// it and reports it queued; an identical live verification is returned instead
// of a new one. It makes no forge call: a worker reads .patchgate.yml when it
// takes the job (Plan), retrying while the forge is down, so a delivery that
// gives a change a new head is applied in milliseconds whatever the forge does.
func (s *Service) Verify(ctx context.Context, ch *patchgate.Change, trigger string) (*patchgate.Verification, error) {
	ref := ch.HeadSHA
	if ch.FromFork {
		ref = ch.BaseSHA
		if ref == "" {
			ref = ch.TargetBranch
		}
	}
	stored, created, err := s.Verifications.CreateVerification(ctx, &patchgate.Verification{
		Forge:     ch.Forge,
		Repo:      ch.Repo,
		SHA:       ch.HeadSHA,
		ChangeID:  ch.ID,
		ConfigRef: ref,
		Trigger:   trigger,
	})
	if err != nil {
		return nil, fmt.Errorf("record verification of %s at %s: %w", ch.Ref(), ch.HeadSHA, err)
	}
	if !created {
		return stored, nil
	}
	if err := s.Queue.Enqueue(ctx, stored); err != nil {
		return nil, err
	}
	s.Reporter.Queued(ctx, stored)
	return stored, nil
}

// supersede marks the verifications of ch's older heads stale, stops their jobs
// and tells the forge. The tickets they had verified follow when the caller
// reconciles ch's tickets.
func (s *Service) supersede(ctx context.Context, ch *patchgate.Change) error {
	cancelled, err := s.Verifications.SupersedeVerifications(ctx, ch.ID, ch.HeadSHA, "superseded by "+shortSHA(ch.HeadSHA))
	if err != nil {
		return fmt.Errorf("supersede verifications of %s: %w", ch.Ref(), err)
	}
	if err := s.Queue.Cancel(ctx, cancelled...); err != nil {
		s.Logger.Warn("cancel superseded jobs", "change", ch.Ref(), "err", err)
	}
	for _, id := range cancelled {
		if v, err := s.Verifications.FindVerificationByID(ctx, id); err == nil {
			s.Reporter.Verdict(ctx, v)
		}
	}
	return nil
}

// readConfig reads and parses .patchgate.yml at ref. A missing file is ENOTFOUND
// with a message that tells the user what to do.
func (s *Service) readConfig(ctx context.Context, repo patchgate.RepoRef, ref string) (*config.RepoFile, error) {
	src := s.Sources[repo.Forge]
	if src == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "no API access to %s is configured", repo.Forge)
	}
	data, err := src.FileAt(ctx, repo, config.RepoFileName, ref)
	switch code := patchgate.ErrorCode(err); {
	case err == nil:
	case code == patchgate.ENOTFOUND:
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no %s at %s: add one to have fixes verified", config.RepoFileName, shortSHA(ref))
	case code == patchgate.EUNAVAILABLE && ctx.Err() == nil:
		// No answer, or 5xx after the client's retries: the forge is down, not
		// the configuration wrong, so the worker tries again later; in words,
		// for the verdict if it stays down.
		return nil, &patchgate.ForgeUnreachableError{Forge: repo.Forge, Err: fmt.Errorf("read %s at %s: %w", config.RepoFileName, shortSHA(ref), err)}
	default:
		return nil, fmt.Errorf("read %s at %s: %w", config.RepoFileName, ref, err)
	}
	return config.ParseRepoFileWithin(config.RepoFileName, data, s.Ceilings)
}

// Plan is the runner's view of a verification's configuration: it reads
// .patchgate.yml at the verification's ref and turns each suite into an
// environment. An unplanned verification (Verify records none of this) gets
// its digest and suites recorded now, and set on v; a planned one (an attempt
// after its worker died) checks that the file is the content it was planned
// with. A forge that does not answer is a *patchgate.ForgeUnreachableError,
// worth trying again; any other error is final.
func (s *Service) Plan(ctx context.Context, v *patchgate.Verification) ([]patchgate.SuitePlan, error) {
	cfg, err := s.readConfig(ctx, patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}, v.ConfigRef)
	if err != nil {
		return nil, err
	}
	if v.ConfigDigest == "" {
		suites := make([]*patchgate.SuiteRun, 0, len(cfg.Suites))
		for _, suite := range cfg.Suites {
			suites = append(suites, &patchgate.SuiteRun{Name: suite.Name, Required: suite.Required, Image: suite.Image})
		}
		planned, err := s.Verifications.PlanVerification(ctx, v.ID, cfg.Digest, cfg.Release.RequireProof, suites)
		if err != nil {
			return nil, fmt.Errorf("record the plan of verification %d: %w", v.ID, err)
		}
		v.ConfigDigest, v.RequireProof, v.Suites = planned.ConfigDigest, planned.RequireProof, planned.Suites
	}
	if cfg.Digest != v.ConfigDigest {
		return nil, patchgate.Errorf(patchgate.ECONFLICT, "%s at %s changed since the verification was planned", config.RepoFileName, v.ConfigRef)
	}
	quarantines, err := s.quarantines(ctx, patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}, cfg, time.Now())
	if err != nil {
		return nil, err
	}
	policy := s.runPolicy(ctx, v)
	plans := make([]patchgate.SuitePlan, 0, len(cfg.Suites))
	for _, suite := range cfg.Suites {
		plan := policy.apply(v, suite)
		for _, q := range quarantines {
			if q.Suite == "" || q.Suite == suite.Name {
				plan.Quarantines = append(plan.Quarantines, q)
			}
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// OnVerdict re-derives the states of the tickets a final verdict is evidence
// for: those of the changes whose head it is, and of the changes that were
// merged as it. A branch head that passed may also propose a release.
func (s *Service) OnVerdict(ctx context.Context, v *patchgate.Verification) {
	if err := s.onVerdict(ctx, v); err != nil {
		s.Logger.Error("update tickets after verdict", "verification_id", v.ID, "repo", v.Repo, "err", err)
	}
}

func (s *Service) onVerdict(ctx context.Context, v *patchgate.Verification) error {
	changes, _, err := s.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &v.Forge, Repo: &v.Repo, HeadSHA: &v.SHA, Limit: 100})
	if err != nil {
		return fmt.Errorf("find changes at %s: %w", v.SHA, err)
	}
	for _, ch := range changes {
		if err := s.reconcileChange(ctx, ch); err != nil {
			return err
		}
		if ch.Kind == patchgate.ChangePush && v.State == patchgate.RunSuccess {
			s.autoCandidate(ctx, ch, v)
		}
	}
	return s.reconcileMergedAs(ctx, v.Forge, v.Repo, v.SHA)
}

// reconcileMergedAs re-derives the tickets of the changes merged as commit sha:
// its verdict is their post-merge evidence.
func (s *Service) reconcileMergedAs(ctx context.Context, forge patchgate.Forge, repo, sha string) error {
	merged := patchgate.ChangeMerged
	changes, _, err := s.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &forge, Repo: &repo, State: &merged, MergeCommitSHA: &sha, Limit: 100})
	if err != nil {
		return fmt.Errorf("find changes merged as %s: %w", shortSHA(sha), err)
	}
	for _, ch := range changes {
		if err := s.reconcileChange(ctx, ch); err != nil {
			return err
		}
	}
	return nil
}

// Rerun verifies the commit now, for the change whose head it is (a live
// verification of the same commit and configuration is returned as is).
func (s *Service) Rerun(ctx context.Context, req patchgate.VerifyRequest) (*patchgate.Verification, error) {
	if s.Verifications == nil {
		return nil, patchgate.Errorf(patchgate.EINVALID, "verification is not enabled on this server")
	}
	if !patchgate.ValidSHA(req.SHA) {
		return nil, patchgate.Errorf(patchgate.EINVALID, "sha %q: want a full commit SHA", req.SHA)
	}
	repo, err := s.findRepo(req.Forge, req.Repo)
	if err != nil {
		return nil, err
	}
	changes, _, err := s.Changes.FindChanges(ctx, patchgate.ChangeFilter{Forge: &repo.Forge, Repo: &repo.Name, HeadSHA: &req.SHA, Limit: 10})
	if err != nil {
		return nil, fmt.Errorf("find changes at %s: %w", req.SHA, err)
	}
	if len(changes) == 0 {
		return nil, patchgate.Errorf(patchgate.ENOTFOUND, "no change in %s has head %s: only a change's current head can be verified", repo.Name, req.SHA)
	}
	ch := changes[0]
	for _, c := range changes {
		if c.Kind != patchgate.ChangePush {
			ch = c
			break
		}
	}
	p, _ := patchgate.PrincipalFromContext(ctx)
	if !s.trustedChange(repo, ch) {
		if err := s.checkVouched(ctx, repo, ch, p); err != nil {
			return nil, err
		}
	}
	return s.Verify(ctx, ch, "manual by "+p.Name)
}

// checkVouched lets a re-run of an untrusted change's head through only when
// a maintainer vouched for exactly that head (an ok-to-test acted on it) or
// the caller is one: running a stranger's code is a maintainer's decision,
// whether asked by comment or through the API. EFORBIDDEN otherwise.
func (s *Service) checkVouched(ctx context.Context, repo *patchgate.Repository, ch *patchgate.Change, p patchgate.Principal) error {
	if person, err := p.Person(repo.Forge); err == nil && s.maintainer(repo, person.Login) {
		return nil
	}
	if s.Commands != nil {
		vouched, err := s.Commands.VouchedFor(ctx, repo.Forge, repo.Name, ch.HeadSHA)
		if err != nil {
			return err
		}
		if vouched {
			return nil
		}
	}
	return patchgate.Errorf(patchgate.EFORBIDDEN, "%s at %s comes from a fork or an untrusted author and waits for a maintainer's %s: running it is a maintainer's decision, not a re-run's",
		ch.Ref(), shortSHA(ch.HeadSHA), OkToTest)
}
